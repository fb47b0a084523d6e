"""Contrastive pairs: one everyday scenario, a response that expresses a value and one that neglects it.

The built-in set (``valuespectrum/data/contrastive_pairs.jsonl``, written for this project)
has at least 30 pairs per basic value. Users add their own as CSV or JSONL with the columns
``scenario, positive, negative, value`` (optionally ``id``); an empty scenario is allowed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from valuespectrum.errors import ConfigError
from valuespectrum.tables import read_jsonl, read_table
from valuespectrum.values import Value, parse_value

REQUIRED = ("scenario", "positive", "negative", "value")


@dataclass(frozen=True)
class ContrastivePair:
    """Two first-person responses to one scenario, expressing ``value`` (positive) or not."""

    id: str
    value: Value
    scenario: str
    positive: str
    negative: str

    def render(self, response: str) -> str:
        """The text whose activations are read: the scenario, then the response (the response
        alone when the pair has no scenario, as in imported ConVA pairs)."""
        return f"{self.scenario}\n{response}" if self.scenario else response


def _from_row(row: dict[str, object], where: str, default_id: str) -> ContrastivePair:
    # the scenario may be empty (pairs whose sentences carry their own context) but must be present
    missing = [c for c in REQUIRED if c not in row or (c != "scenario" and not str(row[c] or "").strip())]
    if missing:
        raise ConfigError(f"{where}: column(s) {missing} empty or missing; each pair needs {list(REQUIRED)}")
    try:
        value = parse_value(str(row["value"]))
    except ValueError as exc:
        raise ConfigError(f"{where}: column 'value': {exc}") from exc
    pos, neg = str(row["positive"]).strip(), str(row["negative"]).strip()
    if pos == neg:
        raise ConfigError(f"{where}: columns 'positive' and 'negative' are identical; a pair must contrast")
    return ContrastivePair(
        id=str(row.get("id") or default_id),
        value=value,
        scenario=str(row["scenario"] or "").strip(),
        positive=pos,
        negative=neg,
    )


def load_pairs(path: str | Path) -> list[ContrastivePair]:
    """Read pairs from a ``.jsonl`` or ``.csv`` file; errors name the file, row and column."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: contrastive-pair file not found")
    pairs: list[ContrastivePair] = []
    if p.suffix == ".jsonl":
        for n, row in read_jsonl(p):
            pairs.append(_from_row(row, f"{p}: line {n}", f"{p.stem}-{n}"))
    elif p.suffix == ".csv":
        table = read_table(p)
        absent = [c for c in REQUIRED if c not in table.columns]
        if absent:
            raise ConfigError(f"{p}: header lacks column(s) {absent}; expected {list(REQUIRED)}")
        for n, row in table.rows:
            pairs.append(_from_row(row, f"{p}: row {n}", f"{p.stem}-{n}"))
    else:
        raise ConfigError(f"{p}: unsupported extension {p.suffix!r}; use .jsonl or .csv")
    if not pairs:
        raise ConfigError(f"{p}: no pairs found")
    dup = [k for k, c in Counter(x.id for x in pairs).items() if c > 1]
    if dup:
        raise ConfigError(f"{p}: duplicate pair ids {dup[:5]} (column 'id' must be unique)")
    return pairs


def builtin_pairs() -> list[ContrastivePair]:
    """The project's built-in pairs (>= 30 per value)."""
    ref = resources.files("valuespectrum") / "data" / "contrastive_pairs.jsonl"
    with resources.as_file(ref) as path:
        return load_pairs(path)


def by_value(pairs: list[ContrastivePair]) -> dict[Value, list[ContrastivePair]]:
    out: dict[Value, list[ContrastivePair]] = {v: [] for v in Value}
    for p in pairs:
        out[p.value].append(p)
    return out
