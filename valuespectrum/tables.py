"""Read a tabular file (CSV/TSV, JSONL, JSON, Parquet) into numbered rows of cells.

One reader serves item files and recorded-answer files, so both accept the same files: UTF-8
with or without a byte-order mark, blank lines skipped, quoted CSV cells, JSON records nested
under a dotted path. Rows are numbered as the user sees them: in CSV/TSV the header is row 1,
so the first record is row 2; in JSONL the row is the line number; in JSON and Parquet the
first record is 1. Errors name the file and the row (or line) and say what was expected.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from valuespectrum.errors import ConfigError

SUFFIXES: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass
class Table:
    """Rows of a file as (row number as the user sees it, cells); columns in first-seen order."""

    columns: list[str]
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def kind_of(path: Path) -> str | None:
    """``csv``, ``jsonl``, ``json`` or ``parquet`` from the suffix; None when unsupported."""
    return SUFFIXES.get(path.suffix.lower())


def read_table(
    path: Path, *, delimiter: str | None = None, records_path: str | None = None, line_word: str = "row"
) -> Table:
    """Read ``path`` by its suffix. ``records_path`` ("data.items") finds the record list of a
    JSON file; ``line_word`` is how JSONL errors name a line ("row" or "line")."""
    kind = kind_of(path)
    if kind is None:
        raise ConfigError(
            f"{path}: unsupported file type {path.suffix or '(no suffix)'!r}; "
            f"expected one of: {', '.join(SUFFIXES)}"
        )
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    if records_path and kind != "json":
        raise ConfigError(
            f"{path}: records_path {records_path!r} applies to .json files; drop it for a {kind} file"
        )
    try:
        if kind == "csv":
            default = "\t" if path.suffix.lower() == ".tsv" else ","
            return _read_csv(path, delimiter or default)
        if kind == "jsonl":
            return _read_jsonl(path, line_word)
        if kind == "json":
            return _read_json(path, records_path)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason}); save the file as UTF-8") from None
    return _read_parquet(path)


def read_jsonl(path: Path, line_word: str = "line") -> list[tuple[int, dict[str, Any]]]:
    """The objects of a JSONL file with their line numbers, whatever its suffix; blank lines
    skipped; errors name the file and the line."""
    try:
        return _read_jsonl(path, line_word).rows
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason}); save the file as UTF-8") from None


def read_json_document(path: Path, what: str) -> Any:
    """Parse a whole JSON file; errors name the file, the line of a syntax error and ``what``
    the file should hold ("the graph.json that vspec graph writes")."""
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; expected {what}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what} ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason}); save the file as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} line {exc.lineno}: not valid JSON ({exc.msg}); expected {what}") from exc


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """:func:`read_json_document` for a file whose top level must be a JSON object."""
    data = read_json_document(path, what)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a JSON {type(data).__name__} at the top level; expected {what}")
    return data


def _read_csv(path: Path, delimiter: str) -> Table:
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
            table = Table(columns)
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


def _read_jsonl(path: Path, line_word: str) -> Table:
    rows: list[tuple[int, dict[str, Any]]] = []
    with path.open(encoding="utf-8-sig") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(
                    f"{path} {line_word} {lineno}: not valid JSON ({exc.msg}); expected one JSON object per line"
                ) from exc
            if not isinstance(obj, dict):
                raise ConfigError(
                    f"{path} {line_word} {lineno}: a JSON {type(obj).__name__}; expected a JSON object per line"
                )
            rows.append((lineno, obj))
    return _with_columns(rows)


def _read_json(path: Path, records_path: str | None) -> Table:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    walked: list[str] = []
    for step in (records_path or "").split(".") if records_path else []:
        if not isinstance(data, dict) or step not in data:
            keys = ", ".join(map(str, data)) if isinstance(data, dict) else f"a JSON {type(data).__name__}"
            raise ConfigError(
                f"{path}: records_path {records_path!r}: no key {step!r} under "
                f"{'.'.join(walked) or 'the top level'} (found: {keys})"
            )
        walked.append(step)
        data = data[step]
    if not isinstance(data, list):
        where = f"records_path {records_path!r}" if records_path else "the top level"
        hint = "" if records_path else "; set records_path to the list (e.g. records_path: data.items)"
        raise ConfigError(
            f"{path}: {where} holds a JSON {type(data).__name__}; expected a list of records{hint}"
        )
    rows: list[tuple[int, dict[str, Any]]] = []
    for n, obj in enumerate(data, start=1):
        if not isinstance(obj, dict):
            raise ConfigError(f"{path} record {n}: a JSON {type(obj).__name__}; expected a JSON object")
        rows.append((n, obj))
    return _with_columns(rows)


def _with_columns(rows: list[tuple[int, dict[str, Any]]]) -> Table:
    seen: dict[str, None] = {}
    for _, obj in rows:
        seen.update(dict.fromkeys(obj))
    return Table(list(seen), rows)


def _plain(v: Any) -> Any:
    """Numpy/pandas cell -> plain Python (arrays to lists; NaN, NA and NaT to None)."""
    import pandas as pd

    if hasattr(v, "tolist") and not isinstance(v, str):
        v = v.tolist()
    if not isinstance(v, list | dict) and pd.isna(v):
        return None
    return v


def _read_parquet(path: Path) -> Table:
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
    return Table(columns, rows)
