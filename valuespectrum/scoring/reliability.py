"""Reliability and chance tests for value profiles asked several ways.

- :func:`icc`: intraclass correlation of a (targets x raters) table, e.g. the ten values
  (rows) scored under several prompt wordings (columns): ICC(3,1) "consistency" (the same
  order and spacing) or ICC(2,1) "agreement" (the same numbers), after Shrout & Fleiss.
- :func:`variance_decomposition`: the share of the score variance that each factor (wording,
  label order, persona, item, ...) explains in a crossed table, from main-effect sums of
  squares; the rest is residual (interactions and noise).
- :func:`holm` and :func:`benjamini_hochberg`: adjusted p-values for the per-value effects.
- :func:`target_rank_test`: is the mean rank of the personas' target values among the ten
  value changes better than chance? An exact permutation test (which values are targets is
  permuted; the changes stay as observed), Monte Carlo when the exact count is too large.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from valuespectrum.scoring.steerability import change_ranks
from valuespectrum.value_systems import Dim


def icc(table: Sequence[Sequence[float]], kind: Literal["consistency", "agreement"] = "consistency") -> float:
    """ICC(3,1) (``consistency``) or ICC(2,1) (``agreement``) of an n x k table.

    Rows are the targets (e.g. values), columns the raters (e.g. wordings); at least 2 of
    each, no missing cells. NaN when the table has no variance between targets or in error.
    """
    n = len(table)
    k = len(table[0]) if n else 0
    if n < 2 or k < 2 or any(len(r) != k for r in table):
        raise ValueError(f"icc needs a full table of at least 2 rows x 2 columns, got {n} rows of {k}")
    if not all(math.isfinite(x) for r in table for x in r):
        raise ValueError("icc: the table has missing or non-finite cells; drop those rows or columns")
    grand = sum(x for r in table for x in r) / (n * k)
    row_means = [sum(r) / k for r in table]
    col_means = [sum(r[j] for r in table) / n for j in range(k)]
    ss_rows = k * sum((m - grand) ** 2 for m in row_means)
    ss_cols = n * sum((m - grand) ** 2 for m in col_means)
    ss_total = sum((x - grand) ** 2 for r in table for x in r)
    ms_rows = ss_rows / (n - 1)
    ms_cols = ss_cols / (k - 1)
    ms_err = max(ss_total - ss_rows - ss_cols, 0.0) / ((n - 1) * (k - 1))
    denom = ms_rows + (k - 1) * ms_err
    if kind == "agreement":
        denom += k * (ms_cols - ms_err) / n
    return (ms_rows - ms_err) / denom if denom > 0 else float("nan")


@dataclass(frozen=True)
class VarianceDecomposition:
    shares: dict[str, float]
    """Factor -> between-level sum of squares over the total."""
    residual: float
    """1 - the sum of the shares (interactions and noise); exact for balanced crossed tables."""
    balanced: bool
    """Every combination of factor levels occurs equally often (the shares then add up)."""


def variance_decomposition(
    rows: Sequence[Mapping[str, Hashable]], scores: Sequence[float], factors: Sequence[str]
) -> VarianceDecomposition:
    """Main-effect variance shares of ``scores`` for each factor named in ``factors``.

    ``rows[i]`` gives the levels of observation i (``{"wording": "w1", "order": "rev", ...}``).
    """
    if len(rows) != len(scores) or not scores:
        raise ValueError(f"{len(rows)} rows for {len(scores)} scores; expected one row per score")
    missing = sorted({f for r in rows for f in factors if f not in r})
    if missing:
        raise ValueError(f"rows lack factors {missing}")
    grand = sum(scores) / len(scores)
    total = sum((y - grand) ** 2 for y in scores)
    shares: dict[str, float] = {}
    for f in factors:
        groups: dict[Hashable, list[float]] = {}
        for r, y in zip(rows, scores, strict=True):
            groups.setdefault(r[f], []).append(y)
        ss = sum(len(ys) * (sum(ys) / len(ys) - grand) ** 2 for ys in groups.values())
        shares[f] = ss / total if total > 0 else 0.0
    combos = Counter(tuple(r[f] for f in factors) for r in rows)
    n_levels = math.prod(len({r[f] for r in rows}) for f in factors)
    balanced = len(combos) == n_levels and len(set(combos.values())) == 1
    return VarianceDecomposition(shares=shares, residual=1.0 - sum(shares.values()), balanced=balanced)


def _check_p(pvalues: Sequence[float]) -> None:
    bad = [p for p in pvalues if not (isinstance(p, int | float) and 0.0 <= p <= 1.0)]
    if bad:
        raise ValueError(f"p-values must lie in 0..1, got {bad}")


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error), in the input's order."""
    _check_p(pvalues)
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), in the input's order."""
    _check_p(pvalues)
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i], reverse=True)
    out = [0.0] * m
    running = 1.0
    for pos, i in enumerate(order):
        rank = m - pos  # 1-based rank in ascending order
        running = min(running, pvalues[i] * m / rank)
        out[i] = running
    return out


@dataclass(frozen=True)
class RankTest:
    mean_target_rank: float
    """Mean over personas of the mean rank of their targets (1 = largest increase)."""
    chance: float
    """Expected mean rank under the null (the mean of all ranks, 5.5 for ten values)."""
    p_value: float
    """Share of target assignments with a mean rank at least as good (as low) as observed."""
    exact: bool
    n_personas: int


def target_rank_test(
    effects: Sequence[tuple[Mapping[Dim, float], Sequence[Dim]]],
    *,
    max_exact: int = 200_000,
    n_perm: int = 20_000,
    seed: int = 0,
) -> RankTest | None:
    """One-sided permutation test of the personas' target ranks among the value changes.

    ``effects`` holds, per persona, the value changes against no persona and its target
    values. Under the null each persona's targets are a random set of the same size among
    its changed values. Exact when the number of joint assignments is at most ``max_exact``,
    else ``n_perm`` seeded random draws (the observed assignment counted, so p > 0).
    None when no persona has a target with a change.
    """
    cells: list[tuple[list[float], int, float]] = []  # (all ranks, n targets, observed mean)
    for changes, targets in effects:
        ranks = change_ranks(changes)
        target_ranks = [ranks[t] for t in dict.fromkeys(targets) if t in ranks]
        if target_ranks:
            cells.append((list(ranks.values()), len(target_ranks), sum(target_ranks) / len(target_ranks)))
    if not cells:
        return None
    observed = sum(c[2] for c in cells) / len(cells)
    chance = sum(sum(r) / len(r) for r, _, _ in cells) / len(cells)
    eps = 1e-9
    n_joint = math.prod(math.comb(len(r), k) for r, k, _ in cells)
    if n_joint <= max_exact:
        per_cell = [[sum(c) / k for c in itertools.combinations(r, k)] for r, k, _ in cells]
        hits = total = 0
        for combo in itertools.product(*per_cell):
            total += 1
            hits += sum(combo) / len(cells) <= observed + eps
        return RankTest(observed, chance, hits / total, True, len(cells))
    rng = random.Random(seed)
    hits = 0
    for _ in range(n_perm):
        draw = sum(sum(rng.sample(r, k)) / k for r, k, _ in cells) / len(cells)
        hits += draw <= observed + eps
    return RankTest(observed, chance, (hits + 1) / (n_perm + 1), False, len(cells))
