"""Which column of an item file holds what: the :class:`ColumnMapping` and its checks.

Each item's value keying comes from exactly one of: a value-name column, per-value weight
columns (or a column of (value, weight) pairs), or an instrument plus an item-number column
(the shipped scoring key); multiple-choice items carry values per option. Upstream files are
read as they are: ``where`` keeps matching rows, ``records_path`` finds the records of a JSON
file, ``responses`` turns one query with several responses into several items, and
``value_map`` renames (or drops) value names outside the Schwartz ten.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from valuespectrum.errors import ConfigError
from valuespectrum.probes.instruments import instrument_key
from valuespectrum.probes.schema import AnswerKind
from valuespectrum.value_systems import FREE, SCHWARTZ10, Dim, check_system_id, key_of

Cell = str | int | float | bool


def map_value(name: str, value_map: Mapping[str, Dim | None]) -> Dim | None:
    """A value name through ``value_map`` (case-insensitive): the mapped value, None when
    mapped to null (dropped); KeyError when the map does not name it."""
    lowered = {k.strip().lower(): v for k, v in value_map.items()}
    return lowered[name.strip().lower()]


def _weight_column_value(
    column: str, value_map: Mapping[str, Dim | None] | None = None, system: str = SCHWARTZ10
) -> Dim | None:
    """The value a weight column names: "Power", "w_Power", "r_self_direction"; None when
    ``value_map`` drops the name."""
    names = [column] + [column.split(sep, 1)[1] for sep in ("_", ":", " ", ".") if sep in column]
    for name in names:
        if value_map:
            try:
                return map_value(name, value_map)
            except KeyError:
                pass
        if system == FREE and name == column and len(names) > 1:
            continue  # a free system takes any name: use the one after the prefix ("w_Care" -> "Care")
        try:
            return key_of(system, name)
        except ValueError:
            continue
    raise ValueError(
        f"weight column {column!r}: cannot tell which value it weights; name it like 'w_Power' "
        "or give weights as a mapping {column: value}, or name it in value_map "
        "(value_map: {NAME: Power}, or NAME: null to drop the column)"
    )


class ColumnMapping(BaseModel):
    """Which column of an item file holds what (build it in Python, from a dict or from YAML)."""

    model_config = ConfigDict(extra="forbid")

    value_system: str = SCHWARTZ10
    """The value system the file's value names belong to: ``schwartz10`` (default),
    ``schwartz19``, ``mft6``, ``valuepilot6``, or ``free`` (a system made of the names the file
    uses). Decides which names are valid and which analyses apply to the run."""
    text: str = "text"
    """Column with the item text (for (query, response) items: the response)."""
    id: str | None = None
    """Column with item ids; by default the row number as seen in the file."""
    value: str | None = None
    """Column naming the single value an item is keyed to ("Power", "SD", "Power-Dominance")."""
    weights: dict[str, Dim] | list[str] | None = None
    """Per-value weight columns: a mapping {column: value}, or column names that carry the
    value ("w_Power", "r_Benevolence")."""
    weight_prefix: str | None = None
    """Take every column starting with this prefix as a weight column ("w_" -> "w_Power")."""
    instrument: str | None = None
    """Key items with a shipped instrument key ("PVQ40", "PVQ-RR"...); needs ``item_number``."""
    item_number: str | None = None
    """Column with the item's number in the instrument."""
    keying: str | None = None
    """Column with +1/-1, "forward"/"reverse" or "r"; a reverse key flips the item's weights."""
    format: AnswerKind = "likert"
    scale_min: int = 1
    scale_max: int = 6
    labels: dict[int, str] = Field(default_factory=dict)
    """Likert point -> label."""
    scale: str | None = None
    """Optional column with a per-row Likert scale such as "1-5" or "-1..7"."""
    options: str | None = None
    """Choice items: column with the options, a JSON list or "A|B|C"."""
    option_values: str | None = None
    """Choice items: column with one value per option, a JSON list or "Power|Security|"."""
    context: str | None = None
    """Column with the query that a (query, response) item answers."""
    weight_threshold: float | None = None
    """Drop weights with |w| <= threshold; items left with no weight are skipped."""
    metadata: list[str] = Field(default_factory=list)
    """Extra columns copied into each probe's metadata."""
    delimiter: str | None = None
    """CSV delimiter; default "," for .csv and tab for .tsv."""
    image: str | None = None
    """Column with one image path per item (a VQA item)."""
    frames: str | None = None
    """Column with a list of frame paths (a JSON list or "a.png|b.png"), shown as a video."""
    video: str | None = None
    """Column with a video path; ``video_frames`` frames are sampled from it (uniformly, by
    the ingestion frame sampler) and saved once under ``.vspec-frames/`` beside the file."""
    video_frames: int = Field(default=8, ge=1, le=64)
    weight_pairs: str | None = None
    """Column with a list of (value, weight) pairs: ``[["Power", 0.41], ["Security", -0.2]]``,
    ``[{"value": "Power", "weight": 0.41}]`` or ``{"Power": 0.41}`` (a JSON text in CSV)."""
    where: dict[str, Cell | list[Cell]] = Field(default_factory=dict)
    """Keep only rows whose column equals the value (or one of a list of values); compared
    as text, so ``{split: test}`` and ``{year: 2024}`` match CSV and JSON cells alike."""
    records_path: str | None = None
    """JSON files: the dotted path to the list of records, e.g. ``data.items``."""
    responses: str | None = None
    """Column with a list of responses to one query: each becomes an item. A response that
    is an object sets columns for its item (e.g. its text and weights); a string is its text.
    Ids are the query's id (or row) with ``-1``, ``-2``... appended, unless a response has
    its own ``id`` cell."""
    value_map: dict[str, Dim | None] = Field(default_factory=dict)
    """Value names outside the Schwartz ten -> one of the ten (``Achievment: Achievement``),
    or null to drop the name (``Spirituality: null``). Matched case-insensitively."""

    @field_validator("value_system", mode="before")
    @classmethod
    def _parse_system(cls, raw: object) -> object:
        return check_system_id(str(raw))

    @field_validator("weights", mode="before")
    @classmethod
    def _parse_weights(cls, raw: object, info: ValidationInfo) -> object:
        system = info.data.get("value_system", SCHWARTZ10)
        if isinstance(raw, dict):
            return {str(col): key_of(system, v) for col, v in raw.items()}
        if isinstance(raw, tuple):
            return list(raw)
        return raw

    @field_validator("value_map", mode="before")
    @classmethod
    def _parse_value_map(cls, raw: object, info: ValidationInfo) -> object:
        if not isinstance(raw, dict):
            return raw
        system = info.data.get("value_system", SCHWARTZ10)
        return {str(k): None if v is None else key_of(system, v) for k, v in raw.items()}

    @model_validator(mode="after")
    def _check(self) -> ColumnMapping:
        media = [n for n in ("image", "frames", "video") if getattr(self, n)]
        if len(media) > 1:
            raise ValueError(f"give only one media column, not {' and '.join(media)}")
        if isinstance(self.weights, list):  # names carry the value; value_map may rename or drop them
            resolved = {c: _weight_column_value(c, self.value_map, self.value_system) for c in self.weights}
            self.weights = {c: v for c, v in resolved.items() if v is not None}
        sources = [
            n for n in ("value", "weights", "weight_prefix", "weight_pairs", "instrument") if getattr(self, n)
        ]
        if len(sources) > 1:
            raise ValueError(f"give only one keying source, not {' and '.join(sources)}")
        if not sources and self.format != "choice":
            raise ValueError(
                "no value keying: set 'value' (a value-name column), 'weights' (weight columns), "
                "'weight_prefix', 'weight_pairs', or 'instrument' with 'item_number'"
            )
        if self.instrument and self.value_system != SCHWARTZ10:
            raise ValueError(
                f"instrument {self.instrument!r} is keyed to Schwartz's values; drop value_system: "
                f"{self.value_system} or key the items with a 'value' column"
            )
        if self.instrument:
            try:
                key = instrument_key(self.instrument)
            except ConfigError as exc:
                raise ValueError(str(exc)) from exc
            if not self.item_number:
                raise ValueError(
                    f"instrument {self.instrument!r} needs 'item_number' (the item-number column)"
                )
            if self.format != "likert":
                raise ValueError(f"instrument {key.name} items are Likert items; drop format={self.format!r}")
            explicit = {"scale_min", "scale_max"} & self.model_fields_set
            if explicit and (self.scale_min, self.scale_max) != (key.scale_min, key.scale_max):
                raise ValueError(
                    f"{key.name} is answered on {key.scale_min}..{key.scale_max}, not "
                    f"{self.scale_min}..{self.scale_max}; drop scale_min/scale_max"
                )
        elif self.item_number:
            raise ValueError("'item_number' is only used with 'instrument'")
        if self.format == "likert":
            if self.scale_max <= self.scale_min:
                raise ValueError(f"scale_max ({self.scale_max}) must exceed scale_min ({self.scale_min})")
            bad = [k for k in self.labels if not self.scale_min <= k <= self.scale_max]
            if bad:
                raise ValueError(f"labels {bad} fall outside the scale {self.scale_min}..{self.scale_max}")
        if self.format == "choice" and not self.options:
            raise ValueError("choice items need 'options' (the options column)")
        if self.option_values and not self.options:
            raise ValueError("'option_values' needs 'options'")
        if self.weight_threshold is not None and self.weight_threshold < 0:
            raise ValueError("weight_threshold must be >= 0")
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise ValueError("delimiter must be one character")
        return self

    @classmethod
    def coerce(
        cls, raw: ColumnMapping | Mapping[str, Any], *, source: str = "column mapping"
    ) -> ColumnMapping:
        """Build a mapping from a dict (e.g. a manifest section); errors name ``source`` and the field."""
        if isinstance(raw, ColumnMapping):
            return raw
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{source}: expected a mapping of field -> column, got {type(raw).__name__}")
        try:
            return cls.model_validate(dict(raw))
        except ValidationError as exc:
            problems = "; ".join(
                f"field '{'.'.join(map(str, e['loc'])) or 'mapping'}': {e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors()
            )
            raise ConfigError(f"{source}: {problems}") from exc

    @classmethod
    def from_yaml(cls, path: str | Path) -> ColumnMapping:
        """Read a mapping from a YAML file (a top-level ``columns:`` section is also accepted)."""
        p = Path(path)
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{p}: cannot read the column mapping ({exc.strerror})") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p}: not valid YAML ({exc})") from exc
        if isinstance(data, dict) and isinstance(data.get("columns"), dict):
            data = data["columns"]
        if not isinstance(data, dict):
            raise ConfigError(f"{p}: expected a mapping such as 'text: item' and 'value: value'")
        return cls.coerce(data, source=str(p))

    def columns_used(self) -> list[str]:
        """Every column this mapping names (weight_prefix columns are found by prefix)."""
        cols = [self.text, *self.metadata]
        cols += [c for c in (self.id, self.value, self.item_number, self.keying, self.scale) if c]
        cols += [c for c in (self.options, self.option_values, self.context) if c]
        cols += [c for c in (self.image, self.frames, self.video, self.weight_pairs) if c]
        cols += list(self.where)
        if isinstance(self.weights, dict):
            cols += list(self.weights)
        return list(dict.fromkeys(cols))

    def weight_columns(self, found: list[str]) -> dict[str, Dim]:
        """Weight column -> the value it weights (columns value_map drops are left out)."""
        if isinstance(self.weights, dict):
            return dict(self.weights)
        if self.weight_prefix:
            named = {
                c: _weight_column_value(c, self.value_map, self.value_system)
                for c in found
                if c.startswith(self.weight_prefix)
            }
            return {c: v for c, v in named.items() if v is not None}
        return {}

    def keeps(self, cells: Mapping[str, Any]) -> bool:
        """Whether a row passes the ``where`` filter (cells compared as stripped text)."""
        for column, wanted in self.where.items():
            options = wanted if isinstance(wanted, list) else [wanted]
            if _as_text(cells.get(column)) not in {_as_text(w) for w in options}:
                return False
        return True


def _as_text(v: Any) -> str:
    """A cell as text for comparison: JSON's 2024, 2024.0 and CSV's "2024" are the same; true is "true"."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return "" if v is None else str(v).strip()
