"""Side effects of steering read against a value graph.

For a steered row (role r, method m, target V) its change is Δ = scores - scores of r's
baseline row (method ``none``). Only rows whose target changed (|Δ_V| > ``eps``) count.

- expected: mean |Δ_j| over the values the graph says V moves (its descendants);
- unexpected: mean |Δ_j| over the values neither descendant nor ancestor of V (V excluded);

pooled over every (row, value) pair of a (method, target). The same numbers for random graphs
with the graph's edge count are the baseline. Train/test consistency (the Table 1 analogue):
per (method, target, value), the shares of roles whose score rose / fell / stayed in each split,
and their similarity 1 - ½ Σ |p_train - p_test| (1 = the same distribution).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from valuespectrum.errors import ConfigError
from valuespectrum.valuegraph.graph import Edge, ancestors, descendants, random_graph
from valuespectrum.valuegraph.table import ScoreTable

EPS = 1e-9


@dataclass(frozen=True)
class DeltaRow:
    role: str
    method: str
    target: str
    condition: str
    delta: dict[str, float]
    split: str = ""


def deltas(table: ScoreTable) -> list[DeltaRow]:
    """Steered rows minus their role's baseline; an error names what the table lacks."""
    for col in ("role", "method", "target"):
        if col not in table.meta:
            raise ConfigError(
                f"{table.source}: side-effect metrics need a {col!r} column (see vspec graph --help)"
            )
    roles, methods, targets = table.column("role"), table.column("method"), table.column("target")
    splits = table.column("split")
    base: dict[str, int] = {}
    for i, (r, m) in enumerate(zip(roles, methods, strict=True)):
        if m in ("none", "") and r not in base:
            base[r] = i
    out: list[DeltaRow] = []
    for i in range(len(table.conditions)):
        if methods[i] in ("none", "") or not targets[i]:
            continue
        if targets[i] not in table.values:
            raise ConfigError(
                f"{table.source}: row {table.conditions[i]!r} targets {targets[i]!r}, not a value column"
            )
        b = base.get(roles[i])
        if b is None:
            continue
        d = {v: float(table.data[i, j] - table.data[b, j]) for j, v in enumerate(table.values)}
        out.append(DeltaRow(roles[i], methods[i], targets[i], table.conditions[i], d, splits[i]))
    return out


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def side_effects(
    rows: Sequence[DeltaRow], edges: Iterable[Edge], values: Sequence[str]
) -> dict[tuple[str, str], dict[str, Any]]:
    """(method, target) -> expected / unexpected mean |Δ| and counts under ``edges``."""
    e = set(edges)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    keys = sorted({(r.method, r.target) for r in rows})
    for method, target in keys:
        mine = [r for r in rows if r.method == method and r.target == target and abs(r.delta[target]) > EPS]
        desc = descendants(e, target)
        anc = ancestors(e, target)
        exp = [abs(r.delta[v]) for r in mine for v in values if v in desc]
        unexp = [abs(r.delta[v]) for r in mine for v in values if v not in desc | anc | {target}]
        out[(method, target)] = {
            "expected": _mean(exp),
            "unexpected": _mean(unexp),
            "n_rows": len(mine),
            "n_expected_values": len(desc & set(values)),
            "n_unexpected_values": len(set(values) - desc - anc - {target}),
        }
    return out


def with_random_baseline(
    rows: Sequence[DeltaRow], edges: set[Edge], values: Sequence[str], *, n_random: int = 100, seed: int = 0
) -> list[dict[str, Any]]:
    """Side effects under the graph and under ``n_random`` random graphs of the same edge count."""
    ours = side_effects(rows, edges, values)
    rand = [side_effects(rows, random_graph(values, len(edges), seed + k), values) for k in range(n_random)]
    table = []
    for (method, target), m in ours.items():
        gaps = [r[(method, target)] for r in rand]
        r_exp = [g["expected"] for g in gaps if g["expected"] is not None]
        r_un = [g["unexpected"] for g in gaps if g["unexpected"] is not None]
        ours_gap = (
            None if m["expected"] is None or m["unexpected"] is None else m["expected"] - m["unexpected"]
        )
        r_gaps = [
            g["expected"] - g["unexpected"]
            for g in gaps
            if g["expected"] is not None and g["unexpected"] is not None
        ]
        table.append(
            {
                "method": method,
                "target": target,
                **m,
                "random_expected": _mean(r_exp),
                "random_unexpected": _mean(r_un),
                "random_share_gap_at_least_ours": None
                if ours_gap is None or not r_gaps
                else sum(g >= ours_gap for g in r_gaps) / len(r_gaps),
            }
        )
    return table


def _direction(x: float) -> str:
    return "up" if x > EPS else "down" if x < -EPS else "same"


def consistency(
    rows: Sequence[DeltaRow], values: Sequence[str], *, test_share: float = 0.3, seed: int = 0
) -> list[dict[str, Any]]:
    """Train/test shares of up/down/same per (method, target, value) and their similarity."""
    split = {r.role: r.split for r in rows if r.split in ("train", "test")}
    roles = sorted({r.role for r in rows} - set(split))
    random.Random(seed).shuffle(roles)
    n_test = round(len(roles) * test_share)
    split.update({r: "test" if i < n_test else "train" for i, r in enumerate(roles)})
    out = []
    for method, target in sorted({(r.method, r.target) for r in rows}):
        mine = [r for r in rows if r.method == method and r.target == target]
        for v in values:
            shares: dict[str, dict[str, float]] = {}
            for part in ("train", "test"):
                dirs = [_direction(r.delta[v]) for r in mine if split[r.role] == part]
                shares[part] = {
                    d: (dirs.count(d) / len(dirs) if dirs else 0.0) for d in ("up", "down", "same")
                }
                shares[part]["n"] = float(len(dirs))
            both = shares["train"]["n"] > 0 and shares["test"]["n"] > 0
            sim = 1 - 0.5 * sum(abs(shares["train"][d] - shares["test"][d]) for d in ("up", "down", "same"))
            out.append(
                {
                    "method": method,
                    "target": target,
                    "value": v,
                    **{f"train_{k}": x for k, x in shares["train"].items()},
                    **{f"test_{k}": x for k, x in shares["test"].items()},
                    "similarity": sim if both else None,
                }
            )
    return out
