"""Condition x value score tables: a user's CSV or one of our run folders.

CSV rule: one row per condition; every column whose cells are all numbers is a value
dimension, except the reserved columns below; other columns are ignored (reported as such).
Reserved columns (optional, used by the side-effect metrics):

- ``condition``: the row's name (default: its row number);
- ``role``: who the model was asked to be (rows of one role are compared with its baseline);
- ``method``: ``none`` for the baseline of a role, else the steering method (prompt, vector, sae...);
- ``target``: the value the row steers (empty for baselines);
- ``split``: ``train`` or ``test`` (default: a seeded 70/30 split of roles).

A run folder is read from its ``summary.csv``: one row per (model, persona), a column per value.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from valuespectrum.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

META = ("condition", "role", "method", "target", "split")


@dataclass
class ScoreTable:
    conditions: list[str]
    values: list[str]
    data: np.ndarray
    """[n conditions, n values]"""
    meta: dict[str, list[str]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    source: str = ""

    def column(self, name: str) -> list[str]:
        return self.meta.get(name) or [""] * len(self.conditions)


def _number(s: str) -> float | None:
    try:
        return float(s)
    except ValueError:
        return None


def read_table(path: str | Path, values: list[str] | None = None) -> ScoreTable:
    """A CSV table or a run folder (see the module notes)."""
    p = Path(path)
    if p.is_dir():
        return read_run_dir(p, values)
    if not p.is_file():
        raise ConfigError(f"{p}: no such table or run folder")
    import numpy as np

    with open(p, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ConfigError(f"{p}: no rows; the table needs a header and one row per condition")
    header = list(rows[0].keys())
    numeric = [c for c in header if c not in META and all(_number(r[c] or "") is not None for r in rows)]
    chosen = numeric if values is None else values
    missing = [v for v in chosen if v not in header]
    if missing:
        raise ConfigError(f"{p}: value column(s) {missing} not found (columns: {header})")
    for v in chosen:
        for i, r in enumerate(rows, start=2):
            if _number(r[v] or "") is None:
                raise ConfigError(f"{p}: line {i}, column {v!r}: {r[v]!r} is not a number")
    if len(chosen) < 2:
        raise ConfigError(f"{p}: a graph needs at least two numeric value columns, found {chosen}")
    data = np.array([[float(r[v]) for v in chosen] for r in rows])
    meta = {m: [(r.get(m) or "").strip() for r in rows] for m in META if m in header}
    names = meta.pop("condition", [str(i) for i in range(len(rows))])
    ignored = [c for c in header if c not in chosen and c not in META]
    return ScoreTable(names, list(chosen), data, meta, ignored, str(p))


def read_run_dir(folder: Path, wanted: list[str] | None = None) -> ScoreTable:
    """Scores of a run folder: rows (model, persona), columns the values (from ``summary.csv``);
    ``wanted`` keeps only those value columns."""
    import numpy as np

    src = folder / "summary.csv"
    if not src.is_file():
        raise ConfigError(f"{folder}: no summary.csv; run `vspec score {folder}` first or give a CSV table")
    with open(src, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    table: dict[tuple[str, str], dict[str, float]] = {}
    values: list[str] = []
    for r in rows:
        if r.get("modality", "text") not in ("text", ""):
            continue
        if wanted is not None and r["value"] not in wanted:
            continue
        if r["value"] not in values:
            values.append(r["value"])
        if r["score"] not in ("", None):
            table.setdefault((r["model"], r["persona"]), {})[r["value"]] = float(r["score"])
    absent = sorted(set(wanted or []) - set(values))
    if absent:
        raise ConfigError(f"{src}: --values names {absent}, which this run did not score; scored: {values}")
    keys = [k for k in table if all(v in table[k] for v in values)]
    if len(keys) < 3:
        raise ConfigError(f"{src}: fewer than 3 (model, persona) rows score every value; nothing to graph")
    data = np.array([[table[k][v] for v in values] for k in keys])
    meta = {"role": [k[1] for k in keys]}
    return ScoreTable([f"{m}|{p}" for m, p in keys], values, data, meta, [], str(folder))
