"""Load users' own item files (CSV, TSV, JSONL, Parquet) into a probe bank.

A :class:`ColumnMapping` says which column holds what. Each item's value keying comes from
exactly one of: a value-name column, per-value weight columns, or an instrument plus an
item-number column (the shipped scoring key); multiple-choice items carry values per option.

Rows are numbered as the user sees them: in CSV/TSV the header is row 1, so the first item is
row 2; in JSONL the row is the line number; in Parquet the first record is row 1.
Every error names the file, the row and the column, and says what was expected.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from valuespectrum.errors import ConfigError
from valuespectrum.probes.instruments import InstrumentKey, instrument_key, keyed_probe, missing_items
from valuespectrum.probes.schema import AnswerFormat, AnswerKind, Option, Probe, ProbeBank
from valuespectrum.types import MediaRef
from valuespectrum.values import REFINED_TO_BASIC, Value, parse_value

SUFFIXES: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}

_REVERSE = {"-1", "-1.0", "-", "r", "rev", "reverse", "reversed", "reverse-keyed", "negative"}
_FORWARD = {"1", "+1", "1.0", "+1.0", "+", "f", "fwd", "forward", "normal", "positive"}
_SCALE_RE = re.compile(r"^\s*(-?\d+)\s*(?:\.\.|-|–|to)\s*(-?\d+)\s*$")
_VALID_VALUES = ", ".join(v.value for v in Value)


def _weight_column_value(column: str) -> Value:
    """The value a weight column names: "Power", "w_Power", "r_self_direction"."""
    try:
        return parse_value(column)
    except ValueError:
        pass
    for sep in ("_", ":", " ", "."):
        if sep in column:
            try:
                return parse_value(column.split(sep, 1)[1])
            except ValueError:
                continue
    raise ValueError(
        f"weight column {column!r}: cannot tell which value it weights; name it like 'w_Power' "
        "or give weights as a mapping {column: value}"
    )


class ColumnMapping(BaseModel):
    """Which column of an item file holds what (build it in Python, from a dict or from YAML)."""

    model_config = ConfigDict(extra="forbid")

    text: str = "text"
    """Column with the item text (for (query, response) items: the response)."""
    id: str | None = None
    """Column with item ids; by default the row number as seen in the file."""
    value: str | None = None
    """Column naming the single value an item is keyed to ("Power", "SD", "Power-Dominance")."""
    weights: dict[str, Value] | list[str] | None = None
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

    @field_validator("weights", mode="before")
    @classmethod
    def _parse_weights(cls, raw: object) -> object:
        if isinstance(raw, dict):
            return {str(col): v if isinstance(v, Value) else parse_value(str(v)) for col, v in raw.items()}
        if isinstance(raw, list | tuple):
            return {str(col): _weight_column_value(str(col)) for col in raw}
        return raw

    @model_validator(mode="after")
    def _check(self) -> ColumnMapping:
        media = [n for n in ("image", "frames", "video") if getattr(self, n)]
        if len(media) > 1:
            raise ValueError(f"give only one media column, not {' and '.join(media)}")
        sources = [n for n in ("value", "weights", "weight_prefix", "instrument") if getattr(self, n)]
        if len(sources) > 1:
            raise ValueError(f"give only one keying source, not {' and '.join(sources)}")
        if not sources and self.format != "choice":
            raise ValueError(
                "no value keying: set 'value' (a value-name column), 'weights' (weight columns), "
                "'weight_prefix', or 'instrument' with 'item_number'"
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
        cols += [c for c in (self.image, self.frames, self.video) if c]
        if isinstance(self.weights, dict):
            cols += list(self.weights)
        return list(dict.fromkeys(cols))

    def weight_columns(self, found: list[str]) -> dict[str, Value]:
        if isinstance(self.weights, dict):
            return dict(self.weights)
        if self.weight_prefix:
            return {c: _weight_column_value(c) for c in found if c.startswith(self.weight_prefix)}
        return {}


@dataclass
class _Table:
    """Rows of an item file as (row number as the user sees it, cells)."""

    columns: list[str]
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def _read_csv(path: Path, delimiter: str) -> _Table:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                raise ConfigError(f"{path}: the file is empty; expected a header row naming the columns")
            columns = [h.strip() for h in header]
            dups = sorted({c for c in columns if columns.count(c) > 1})
            if dups:
                raise ConfigError(f"{path} row 1: duplicate column names {dups}; expected unique names")
            table = _Table(columns)
            for rownum, cells in enumerate(reader, start=2):
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) > len(columns):
                    raise ConfigError(
                        f"{path} row {rownum}: {len(cells)} cells but the header names {len(columns)} "
                        f"columns; expected at most {len(columns)} (quote cells that contain '{delimiter}')"
                    )
                table.rows.append((rownum, dict(zip(columns, cells, strict=False))))
        except csv.Error as exc:
            raise ConfigError(f"{path} row {reader.line_num}: not valid CSV ({exc})") from exc
    return table


def _read_jsonl(path: Path) -> _Table:
    table = _Table([])
    seen: dict[str, None] = {}
    with path.open(encoding="utf-8-sig") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(
                    f"{path} row {lineno}: not valid JSON ({exc.msg}); expected one JSON object per line"
                ) from exc
            if not isinstance(obj, dict):
                raise ConfigError(
                    f"{path} row {lineno}: a JSON {type(obj).__name__}; expected a JSON object per line"
                )
            seen.update(dict.fromkeys(obj))
            table.rows.append((lineno, obj))
    table.columns = list(seen)
    return table


def _plain(v: Any) -> Any:
    """Numpy/pandas cell -> plain Python (arrays to lists; NaN, NA and NaT to None)."""
    import pandas as pd

    if hasattr(v, "tolist") and not isinstance(v, str):
        v = v.tolist()
    if not isinstance(v, list | dict) and pd.isna(v):
        return None
    return v


def _read_parquet(path: Path) -> _Table:
    import pandas as pd

    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for bad files
        raise ConfigError(f"{path}: cannot read as Parquet ({exc}); expected a Parquet table") from exc
    columns = [str(c) for c in df.columns]
    rows = [
        (i, {c: _plain(v) for c, v in zip(columns, rec, strict=True)})
        for i, rec in enumerate(df.itertuples(index=False, name=None), start=1)
    ]
    return _Table(columns, rows)


def _read_table(path: Path, mapping: ColumnMapping) -> _Table:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ConfigError(
            f"{path}: unsupported file type {path.suffix or '(no suffix)'!r}; "
            f"expected one of: {', '.join(SUFFIXES)}"
        )
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    if kind == "csv":
        default = "\t" if path.suffix.lower() == ".tsv" else ","
        table = _read_csv(path, mapping.delimiter or default)
    elif kind == "jsonl":
        table = _read_jsonl(path)
    else:
        table = _read_parquet(path)
    if not table.rows:
        raise ConfigError(f"{path}: the file has no items; expected at least one row")
    return table


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


class _Rows:
    """Cell parsing with errors that point at file, row and column."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, row: int, column: str, problem: str, expected: str | None = None) -> ConfigError:
        msg = f"{self.path} row {row}, column {column!r}: {problem}"
        return ConfigError(f"{msg}; expected {expected}" if expected else msg)

    def text(self, row: int, cells: dict[str, Any], column: str, *, required: bool = True) -> str | None:
        v = cells.get(column)
        if _missing(v):
            if required:
                raise self.error(row, column, "empty", "the item's text")
            return None
        if isinstance(v, list | dict):
            raise self.error(row, column, f"a {type(v).__name__}", "text")
        if isinstance(v, float) and v.is_integer():  # ids read back as 7.0 from numeric columns
            v = int(v)
        return str(v).strip()

    def number(self, row: int, column: str, v: Any) -> float:
        if isinstance(v, bool):
            raise self.error(row, column, f"{v!r} is not a number", "a number such as 0.42")
        try:
            out = float(v)
        except (TypeError, ValueError):
            raise self.error(row, column, f"{v!r} is not a number", "a number such as 0.42") from None
        if not math.isfinite(out):
            raise self.error(row, column, f"{v!r} is not a finite number", "a number such as 0.42")
        return out

    def value(self, row: int, column: str, v: Any) -> tuple[Value, str | None]:
        """A value name -> (basic value, refined name if one of the 19 refined values)."""
        name = str(v).strip()
        try:
            return parse_value(name), None
        except ValueError:
            pass
        refined = {r.lower(): r for r in REFINED_TO_BASIC}.get(name.lower())
        basic = REFINED_TO_BASIC.get(refined) if refined else None
        if basic is not None:
            return basic, refined
        raise self.error(row, column, f"unknown value {name!r}; valid values are: {_VALID_VALUES}")

    def sign(self, row: int, column: str, v: Any) -> float:
        if _missing(v):
            return 1.0
        s = str(v).strip().lower()
        if s in _REVERSE:
            return -1.0
        if s in _FORWARD:
            return 1.0
        raise self.error(row, column, f"unknown keying {v!r}", "+1 or -1, 'forward' or 'reverse' (or 'r')")

    def scale(self, row: int, column: str, v: Any) -> tuple[int, int]:
        m = _SCALE_RE.match(str(v))
        if not m:
            raise self.error(row, column, f"cannot read the scale {v!r}", "a range such as '1-6' or '-1..7'")
        lo, hi = int(m.group(1)), int(m.group(2))
        if hi <= lo:
            raise self.error(row, column, f"scale {lo}..{hi} is out of range", "a maximum above the minimum")
        return lo, hi

    def item_number(self, row: int, column: str, v: Any, key: InstrumentKey) -> int:
        expected = f"an item number 1..{key.n_items} of {key.name}"
        try:
            f = float(str(v).strip())
        except ValueError:
            raise self.error(row, column, f"{v!r} is not an item number", expected) from None
        if not f.is_integer() or not 1 <= f <= key.n_items:
            raise self.error(row, column, f"item number {v!r} is out of range", expected)
        return int(f)

    def listing(self, row: int, column: str, v: Any) -> list[Any]:
        """A JSON list, a native list, or "a|b|c"."""
        if isinstance(v, list):
            return v
        s = str(v).strip()
        if s.startswith("["):
            try:
                out = json.loads(s)
            except json.JSONDecodeError as exc:
                raise self.error(
                    row, column, f"not a valid JSON list ({exc.msg})", "a JSON list or 'A|B|C'"
                ) from exc
            if isinstance(out, list):
                return out
        return [part.strip() for part in s.split("|")]


def _choice_format(rows: _Rows, row: int, cells: dict[str, Any], mapping: ColumnMapping) -> AnswerFormat:
    assert mapping.options is not None
    col = mapping.options
    raw = cells.get(col)
    if _missing(raw):
        raise rows.error(row, col, "empty", "the answer options, a JSON list or 'A|B|C'")
    opts = rows.listing(row, col, raw)
    values: list[Any] = [None] * len(opts)
    if mapping.option_values:
        vcol = mapping.option_values
        vraw = cells.get(vcol)
        if _missing(vraw):
            raise rows.error(row, vcol, "empty", f"one value name per option ({len(opts)})")
        values = rows.listing(row, vcol, vraw)
        if len(values) != len(opts):
            raise rows.error(
                row,
                vcol,
                f"{len(values)} values for {len(opts)} options",
                f"one value per option ({len(opts)})",
            )
    options: list[Option] = []
    for i, (opt, val) in enumerate(zip(opts, values, strict=True)):
        label = chr(ord("A") + i)
        weights: dict[Value, float] = {}
        if isinstance(opt, dict):
            label = str(opt.get("label", label))
            text = opt.get("text")
            for name, w in (opt.get("values") or {}).items():
                weights[rows.value(row, col, name)[0]] = rows.number(row, col, w)
            if opt.get("value"):
                weights[rows.value(row, col, opt["value"])[0]] = 1.0
        else:
            text = opt
        if _missing(text):
            raise rows.error(row, col, f"option {i + 1} has no text", "a text for every option")
        if isinstance(val, dict):
            for name, w in val.items():
                weights[rows.value(row, mapping.option_values or col, name)[0]] = rows.number(
                    row, mapping.option_values or col, w
                )
        elif not _missing(val):
            weights[rows.value(row, mapping.option_values or col, val)[0]] = 1.0
        options.append(Option(label=label, text=str(text).strip(), values=weights))
    try:
        return AnswerFormat(kind="choice", options=options)
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise rows.error(row, col, problem, "at least two options with distinct labels") from exc


def _media_path(rows: _Rows, row: int, column: str, raw: Any, root: Path) -> Path:
    """A media path from a cell, resolved against the item file's folder and confined to it."""
    if _missing(raw) or not str(raw).strip():
        raise rows.error(row, column, "empty", "a media file path relative to the item file's folder")
    path = (root / str(raw).strip()).resolve()
    if not path.is_relative_to(root):
        raise rows.error(
            row, column, f"{raw!r} points outside the item file's folder {root}", "a path inside it"
        )
    if not path.is_file():
        raise rows.error(row, column, f"no such file {path}", "an existing image or video file")
    return path


def _row_media(
    rows: _Rows, row: int, cells: dict[str, Any], cmap: ColumnMapping, root: Path
) -> tuple[list[MediaRef], Literal["none", "image", "video"]]:
    """The item's media, each pinned by the digest of its bytes."""
    if cmap.image:
        return [MediaRef.pinned(_media_path(rows, row, cmap.image, cells.get(cmap.image), root))], "image"
    if cmap.frames:
        names = rows.listing(row, cmap.frames, cells.get(cmap.frames))
        if not names:
            raise rows.error(row, cmap.frames, "no frames", 'a JSON list or "a.png|b.png" of frame paths')
        return [MediaRef.pinned(_media_path(rows, row, cmap.frames, n, root)) for n in names], "video"
    if cmap.video:
        video = _media_path(rows, row, cmap.video, cells.get(cmap.video), root)
        return [
            MediaRef.pinned(f) for f in _sampled_frames(rows, row, cmap.video, video, cmap.video_frames, root)
        ], ("video")
    return [], "none"


def _sampled_frames(rows: _Rows, row: int, column: str, video: Path, n: int, root: Path) -> list[Path]:
    """Frames of ``video`` sampled once into ``.vspec-frames/<digest>-<n>/`` beside the file."""
    from valuespectrum.types import file_digest

    folder = root / ".vspec-frames" / f"{file_digest(video)[:16]}-{n}"
    done = sorted(folder.glob("*.jpg"), key=lambda p: int(p.stem)) if folder.is_dir() else []
    if len(done) == n:
        return done
    try:
        from ingestion.frames import DecodeError, sample_frames, save_thumbnails
    except ImportError as exc:
        raise rows.error(
            row,
            column,
            f"video items need the ingestion extra ({exc})",
            "pip install 'valuespectrum[video]'",
        ) from exc
    try:
        decoded = sample_frames(video, n)
    except DecodeError as exc:
        raise rows.error(row, column, f"cannot decode {video}: {exc}", "an mp4/webm/avi video") from exc
    return save_thumbnails(decoded.frames, folder, max_side=768)


def _metadata_value(v: Any) -> str | int | float | bool | None:
    if v is None or isinstance(v, str | int | float | bool):
        return v
    if isinstance(v, list | dict):
        return json.dumps(v, default=str)
    return str(v)  # dates and other scalars


def load_items(
    path: str | Path, mapping: ColumnMapping | Mapping[str, Any], *, name: str | None = None
) -> ProbeBank:
    """Read a .csv/.tsv, .jsonl/.ndjson or .parquet item file into a probe bank.

    ``mapping`` is a :class:`ColumnMapping` or a dict of its fields. The bank is named
    ``name`` or the file's stem. Raises ConfigError naming the file, row and column on bad input.
    """
    p = Path(path)
    cmap = ColumnMapping.coerce(mapping, source=f"{p}: column mapping")
    table = _read_table(p, cmap)
    rows = _Rows(p)
    bank_name = name or p.stem
    found = table.columns

    try:
        weight_cols = cmap.weight_columns(found)
    except ValueError as exc:
        raise ConfigError(f"{p}: {exc}") from exc
    if cmap.weight_prefix and not weight_cols:
        raise ConfigError(
            f"{p}: no column starts with weight_prefix {cmap.weight_prefix!r} (columns found: {', '.join(found)})"
        )
    # For JSONL the columns are the union of every line's keys: a column that no line has is a typo.
    for col in cmap.columns_used():
        if col not in found:
            raise ConfigError(f"{p}: missing column {col!r} (columns found: {', '.join(found)})")

    key = instrument_key(cmap.instrument) if cmap.instrument else None
    media_root = p.resolve().parent
    probes: list[Probe] = []
    id_rows: dict[str, int] = {}
    item_rows: dict[int, int] = {}
    below_threshold = 0
    for row, cells in table.rows:
        text = rows.text(row, cells, cmap.text)
        assert text is not None
        sign = rows.sign(row, cmap.keying, cells.get(cmap.keying)) if cmap.keying else 1.0
        keys: dict[Value, float] = {}
        metadata: dict[str, str | int | float | bool | None] = {"source_row": row}
        for col in cmap.metadata:
            metadata[col] = _metadata_value(cells.get(col))
        if cmap.keying:
            metadata["reversed"] = sign < 0

        if cmap.value:
            raw = cells.get(cmap.value)
            if _missing(raw):
                raise rows.error(row, cmap.value, "empty", f"a value name ({_VALID_VALUES})")
            value, refined = rows.value(row, cmap.value, raw)
            keys[value] = sign
            if refined:
                metadata["refined_value"] = refined
        for col, value in weight_cols.items():
            raw = cells.get(col)
            if _missing(raw):
                continue
            w = rows.number(row, col, raw)
            if cmap.weight_threshold is not None and abs(w) <= cmap.weight_threshold:
                continue
            keys[value] = keys.get(value, 0.0) + sign * w
        if weight_cols and not keys:
            if cmap.weight_threshold is not None:
                below_threshold += 1
                continue
            raise rows.error(
                row, ", ".join(weight_cols), "no weight given", "a number in at least one weight column"
            )

        pid_raw = rows.text(row, cells, cmap.id, required=False) if cmap.id else None
        if cmap.id and pid_raw is None:
            raise rows.error(row, cmap.id, "empty", "a unique item id")
        context = rows.text(row, cells, cmap.context, required=False) if cmap.context else None

        if key is not None:
            assert cmap.item_number is not None
            raw = cells.get(cmap.item_number)
            if _missing(raw):
                raise rows.error(
                    row, cmap.item_number, "empty", f"an item number 1..{key.n_items} of {key.name}"
                )
            number = rows.item_number(row, cmap.item_number, raw, key)
            if number in item_rows:
                raise rows.error(
                    row,
                    cmap.item_number,
                    f"item {number} already given in row {item_rows[number]}",
                    "each item number once",
                )
            item_rows[number] = row
            keyed = keyed_probe(
                key, number, text, probe_id=pid_raw, sign=sign, context=context, metadata=metadata
            )
            if keyed is None:  # an item the 10-value key does not score (SVS unkeyed, PVQ-RR Face)
                continue
            probe = keyed
        else:
            if cmap.format == "choice":
                fmt = _choice_format(rows, row, cells, cmap)
            elif cmap.format == "yes_no":
                fmt = AnswerFormat.yes_no()
            else:
                lo, hi = cmap.scale_min, cmap.scale_max
                if cmap.scale and not _missing(cells.get(cmap.scale)):
                    lo, hi = rows.scale(row, cmap.scale, cells[cmap.scale])
                bad = [k for k in cmap.labels if not lo <= k <= hi]
                if bad:
                    raise rows.error(
                        row,
                        cmap.scale or "scale",
                        f"labels {bad} fall outside {lo}..{hi}",
                        "a scale that covers every label",
                    )
                fmt = AnswerFormat(kind="likert", scale_min=lo, scale_max=hi, labels=dict(cmap.labels))
            media, media_kind = _row_media(rows, row, cells, cmap, media_root)
            try:
                probe = Probe(
                    id=pid_raw or str(row),
                    text=text,
                    format=fmt,
                    keys=keys,
                    instrument=bank_name,
                    context=context,
                    media=media,
                    media_kind=media_kind,
                    metadata=metadata,
                )
            except ValidationError as exc:
                problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
                raise rows.error(row, cmap.option_values or cmap.options or cmap.text, problem) from exc
        if probe.id in id_rows:
            raise rows.error(
                row, cmap.id or "id", f"id {probe.id!r} already used in row {id_rows[probe.id]}", "unique ids"
            )
        id_rows[probe.id] = row
        probes.append(probe)

    if key is not None:
        missing = missing_items(key, item_rows)
        if missing:
            raise ConfigError(
                f"{p}: column {cmap.item_number!r}: {key.name} items missing: {', '.join(map(str, missing))}; "
                f"expected a row for every keyed item ({len(key.keyed_items())} items)"
            )
    if not probes:
        why = (
            f" (all {below_threshold} rows fell under weight_threshold {cmap.weight_threshold})"
            if below_threshold
            else ""
        )
        raise ConfigError(f"{p}: no usable items{why}; expected at least one keyed item")
    return ProbeBank(name=bank_name, probes=probes)
