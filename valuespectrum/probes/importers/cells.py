"""Cell parsing for item files: every error names the file, the row and the column.

Value names pass through the mapping's ``value_map``; names neither it nor the Schwartz ten
(or the 19 refined values) know are collected over the whole file and reported together, with
the fix, instead of stopping at the first.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from valuespectrum.errors import ConfigError
from valuespectrum.probes.importers.mapping import ColumnMapping
from valuespectrum.probes.instruments import InstrumentKey
from valuespectrum.probes.schema import AnswerFormat, Option
from valuespectrum.types import MediaRef
from valuespectrum.value_systems import BUILTIN, SCHWARTZ10, Dim
from valuespectrum.values import REFINED_TO_BASIC, Value, parse_value

_REVERSE = {"-1", "-1.0", "-", "r", "rev", "reverse", "reversed", "reverse-keyed", "negative"}
_FORWARD = {"1", "+1", "1.0", "+1.0", "+", "f", "fwd", "forward", "normal", "positive"}
_SCALE_RE = re.compile(r"^\s*(-?\d+)\s*(?:\.\.|-|–|to)\s*(-?\d+)\s*$")
VALID_VALUES = ", ".join(v.value for v in Value)
_REFINED = {r.lower(): r for r in REFINED_TO_BASIC}
_PAIRS = 'a list of (value, weight) pairs such as [["Power", 0.4], ["Security", -0.2]]'


def missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


class Cells:
    """Cell parsing with errors that point at file, row and column."""

    def __init__(
        self, path: Path, value_map: Mapping[str, Dim | None] | None = None, system: str = SCHWARTZ10
    ) -> None:
        self.path = path
        self.system = system
        """The value system names are read in: Schwartz's ten, another built-in, or free (any name)."""
        self.value_map = {k.strip().lower(): v for k, v in (value_map or {}).items()}
        """value_map with lower-cased names (names match case-insensitively)."""
        self._free: dict[str, str] = {}
        self.unknown: dict[str, dict[str, list[int]]] = defaultdict(dict)
        """Unknown value name -> column -> rows, in the order met."""

    def error(self, row: int, column: str, problem: str, expected: str | None = None) -> ConfigError:
        msg = f"{self.path} row {row}, column {column!r}: {problem}"
        return ConfigError(f"{msg}; expected {expected}" if expected else msg)

    def text(self, row: int, cells: dict[str, Any], column: str, *, required: bool = True) -> str | None:
        v = cells.get(column)
        if missing(v):
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

    @property
    def valid_values(self) -> str:
        if self.system in BUILTIN and self.system != SCHWARTZ10:
            return ", ".join(BUILTIN[self.system].dimensions)
        return VALID_VALUES

    def value(self, row: int, column: str, v: Any) -> tuple[Dim, str | None] | None:
        """A value name -> (basic value, refined name if one of the 19 refined values); None
        when value_map drops the name or nobody knows it (kept for :meth:`check_unknown`).
        In another built-in system: its dimension (aliases allowed); in a free one: the name."""
        name = str(v).strip()
        if name.lower() in self.value_map:
            mapped = self.value_map[name.lower()]
            return None if mapped is None else (mapped, None)
        if self.system != SCHWARTZ10:
            if self.system in BUILTIN:
                hit = BUILTIN[self.system].find(name)
            else:  # free: one dimension per name, its first spelling kept ("Thrift" = "thrift")
                hit = self._free.setdefault(" ".join(name.casefold().split()), name) if name else None
            if hit:
                return hit, None
            self.unknown[name].setdefault(column, []).append(row)
            return None
        try:
            return parse_value(name), None
        except ValueError:
            pass
        refined = _REFINED.get(name.lower())
        basic = REFINED_TO_BASIC.get(refined) if refined else None
        if basic is not None:
            return basic, refined
        self.unknown[name].setdefault(column, []).append(row)
        return None

    def check_unknown(self) -> None:
        """Raise one error naming every unknown value name, where it is, and the fix."""
        if not self.unknown:
            return
        names = ", ".join(f"{name}: VALUE" for name in self.unknown)
        fix = (
            f"valid values are: {self.valid_values}; fix: add value_map: {{{names}}} to the column "
            "mapping, VALUE one of these or null to drop the name"
        )
        if len(self.unknown) == 1:
            ((name, where),) = self.unknown.items()
            column, rows = next(iter(where.items()))
            raise self.error(rows[0], column, f"unknown value {name!r}; {fix}")

        def place(column: str, rows: list[int]) -> str:
            shown = list(dict.fromkeys(rows))
            more = "..." if len(shown) > 5 else ""
            return f"column {column!r}, row{'s' if len(shown) > 1 else ''} {', '.join(map(str, shown[:5]))}{more}"

        listed = ", ".join(
            f"{name!r} ({'; '.join(place(c, r) for c, r in where.items())})"
            for name, where in self.unknown.items()
        )
        raise ConfigError(f"{self.path}: unknown value names {listed}; {fix}")

    def pairs(self, row: int, column: str, v: Any) -> list[tuple[str, float]]:
        """(value name, weight) pairs from a list of pairs, a list of objects or an object."""
        if isinstance(v, str):
            try:
                v = json.loads(v)
            except json.JSONDecodeError as exc:
                raise self.error(row, column, f"not valid JSON ({exc.msg})", _PAIRS) from exc
        if isinstance(v, dict):
            v = list(v.items())
        if not isinstance(v, list):
            raise self.error(row, column, f"a {type(v).__name__}", _PAIRS)
        out: list[tuple[str, float]] = []
        for i, pair in enumerate(v, start=1):
            if isinstance(pair, dict):
                name = pair.get("value", pair.get("name"))
                weight = pair.get("weight", pair.get("w", pair.get("r")))
            elif isinstance(pair, list | tuple) and len(pair) == 2:
                name, weight = pair
            else:
                raise self.error(row, column, f"entry {i} {pair!r} is not a (value, weight) pair", _PAIRS)
            if missing(name) or weight is None:
                raise self.error(row, column, f"entry {i} {pair!r} lacks a value or a weight", _PAIRS)
            out.append((str(name), self.number(row, column, weight)))
        return out

    def sign(self, row: int, column: str, v: Any) -> float:
        if missing(v):
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


def choice_format(rows: Cells, row: int, cells: dict[str, Any], mapping: ColumnMapping) -> AnswerFormat:
    assert mapping.options is not None
    col = mapping.options
    raw = cells.get(col)
    if missing(raw):
        raise rows.error(row, col, "empty", "the answer options, a JSON list or 'A|B|C'")
    opts = rows.listing(row, col, raw)
    values: list[Any] = [None] * len(opts)
    if mapping.option_values:
        vcol = mapping.option_values
        vraw = cells.get(vcol)
        if missing(vraw):
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
        weights: dict[Dim, float] = {}

        def add(column: str, name: Any, w: Any, weights: dict[Dim, float] = weights) -> None:
            found = rows.value(row, column, name)
            if found is not None:
                weights[found[0]] = rows.number(row, column, w)

        vcol = mapping.option_values or col
        if isinstance(opt, dict):
            label = str(opt.get("label", label))
            text = opt.get("text")
            for name, w in (opt.get("values") or {}).items():
                add(col, name, w)
            if opt.get("value"):
                add(col, opt["value"], 1.0)
        else:
            text = opt
        if missing(text):
            raise rows.error(row, col, f"option {i + 1} has no text", "a text for every option")
        if isinstance(val, dict):
            for name, w in val.items():
                add(vcol, name, w)
        elif not missing(val):
            add(vcol, val, 1.0)
        options.append(Option(label=label, text=str(text).strip(), values=weights))
    try:
        return AnswerFormat(kind="choice", options=options)
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise rows.error(row, col, problem, "at least two options with distinct labels") from exc


def _media_path(rows: Cells, row: int, column: str, raw: Any, root: Path) -> Path:
    """A media path from a cell, resolved against the item file's folder and confined to it."""
    if missing(raw) or not str(raw).strip():
        raise rows.error(row, column, "empty", "a media file path relative to the item file's folder")
    path = (root / str(raw).strip()).resolve()
    if not path.is_relative_to(root):
        raise rows.error(
            row, column, f"{raw!r} points outside the item file's folder {root}", "a path inside it"
        )
    if not path.is_file():
        raise rows.error(row, column, f"no such file {path}", "an existing image or video file")
    return path


def row_media(
    rows: Cells, row: int, cells: dict[str, Any], cmap: ColumnMapping, root: Path
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


def _sampled_frames(rows: Cells, row: int, column: str, video: Path, n: int, root: Path) -> list[Path]:
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


def metadata_value(v: Any) -> str | int | float | bool | None:
    if v is None or isinstance(v, str | int | float | bool):
        return v
    if isinstance(v, list | dict):
        return json.dumps(v, default=str)
    return str(v)  # dates and other scalars
