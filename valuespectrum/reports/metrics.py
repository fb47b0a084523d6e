"""Report metrics others can reuse: persona steerability and paired bootstrap differences.

Definitions
-----------
- **Value change** of a persona: ``d_v = s_persona(v) - s_none(v)``, the persona's score minus
  the score of the ``none`` persona (no system prompt) of the same model, for each value both
  scored.
- **Target rank**: sort the values with a change by ``d_v``, largest increase first, and give
  ranks 1..n (ties share their average rank). The rank of a target value says how far the
  persona moved it compared with the other values: 1 = moved up the most. The **mean target
  rank** averages this over the persona's targets that have a change. With 10 values, a
  persona that moves values at random has an expected mean target rank of
  ``(n + 1) / 2 = 5.5``; a perfectly steered single-target persona has 1.
- **Paired bootstrap difference** of two groups on one value: the difference of the value's
  mean item score ``mean_a - mean_b`` over the probes both groups answered. Probes are
  resampled with replacement (the same draw for both groups, so the pairing by probe is kept),
  the difference is recomputed per resample, the CI is the percentile interval and the
  two-sided p-value is ``min(1, 2 * min((#{d* <= 0} + 1) / (B + 1), (#{d* >= 0} + 1) / (B + 1)))``.
  Identical groups give a difference of 0 and p = 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from valuespectrum.values import CIRCUMPLEX, Value


def value_changes(
    persona_scores: Mapping[Value, float | None], baseline_scores: Mapping[Value, float | None]
) -> dict[Value, float]:
    """``d_v = persona - baseline`` for the values scored in both, in circumplex order."""
    out: dict[Value, float] = {}
    for v in CIRCUMPLEX:
        a, b = persona_scores.get(v), baseline_scores.get(v)
        if a is not None and b is not None:
            out[v] = float(a) - float(b)
    return out


def change_ranks(changes: Mapping[Value, float]) -> dict[Value, float]:
    """Rank of each value's change, 1 = largest increase; ties get their average rank."""
    if not changes:
        return {}
    from scipy.stats import rankdata

    values = list(changes)
    ranks = rankdata([-changes[v] for v in values], method="average")
    return {v: float(r) for v, r in zip(values, ranks, strict=True)}


def mean_target_rank(changes: Mapping[Value, float], targets: Sequence[Value]) -> float | None:
    """Mean rank of the targets among all value changes (see the module docstring).

    None when no target has a change.
    """
    ranks = change_ranks(changes)
    hits = [ranks[t] for t in targets if t in ranks]
    return float(np.mean(hits)) if hits else None


@dataclass(frozen=True)
class BootstrapDifference:
    """A paired bootstrap comparison of two groups on one value."""

    value: Value
    diff: float
    """mean_a - mean_b over the common probes that inform this value."""
    ci_low: float
    ci_high: float
    p_value: float
    """Two-sided bootstrap p-value for a difference of 0."""
    n_probes: int
    """Common probes with items on this value in both groups."""


#: probe id -> value -> (sum of item scores, number of items)
ProbeItems = Mapping[str, Mapping[Value, tuple[float, int]]]


def paired_bootstrap(
    a: ProbeItems, b: ProbeItems, *, n_boot: int = 2000, ci: float = 0.95, seed: int = 0
) -> list[BootstrapDifference]:
    """Per-value paired bootstrap of ``mean_a - mean_b``, resampling the probes both answered.

    Returns one entry per value that has items in both groups (circumplex order).
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci}")
    from valuespectrum.scoring.stats import resample_counts

    probes = sorted(set(a) & set(b))
    if not probes:
        return []
    k = len(CIRCUMPLEX)
    sums = np.zeros((2, len(probes), k))
    counts = np.zeros((2, len(probes), k))
    for s, side in enumerate((a, b)):
        for i, p in enumerate(probes):
            for v, (total, n) in side[p].items():
                j = CIRCUMPLEX.index(v)
                sums[s, i, j] += total
                counts[s, i, j] += n
    draws = resample_counts(len(probes), n_boot, seed).astype(float)  # (n_boot, n_probes)
    out: list[BootstrapDifference] = []
    alpha = (1.0 - ci) / 2.0
    for j, v in enumerate(CIRCUMPLEX):
        both = (counts[0, :, j] > 0) & (counts[1, :, j] > 0)
        if not both.any():
            continue
        # Only probes informing v in both groups enter, so the pairing is exact.
        sa, sb = sums[0, both, j], sums[1, both, j]
        ca, cb = counts[0, both, j], counts[1, both, j]
        diff = float(sa.sum() / ca.sum() - sb.sum() / cb.sum())
        w = draws[:, both]
        with np.errstate(invalid="ignore", divide="ignore"):
            boot = (w @ sa) / (w @ ca) - (w @ sb) / (w @ cb)
        boot = boot[np.isfinite(boot)]  # resamples that drew none of these probes
        n = len(boot)
        if n == 0:
            continue
        le = (np.count_nonzero(boot <= 0) + 1) / (n + 1)
        ge = (np.count_nonzero(boot >= 0) + 1) / (n + 1)
        out.append(
            BootstrapDifference(
                value=v,
                diff=diff,
                ci_low=float(np.quantile(boot, alpha)),
                ci_high=float(np.quantile(boot, 1 - alpha)),
                p_value=float(min(1.0, 2.0 * min(le, ge))),
                n_probes=int(both.sum()),
            )
        )
    return out
