"""Report metrics others can reuse: persona steerability and paired bootstrap differences.

Definitions
-----------
- **Value change**, **target rank** and **mean target rank**: see
  :mod:`valuespectrum.scoring.steerability` (re-exported here).
- **Paired bootstrap difference** of two groups on one value: the difference of the value's
  mean item score ``mean_a - mean_b`` over the probes both groups answered. Probes are
  resampled with replacement (the same draw for both groups, so the pairing by probe is kept),
  the difference is recomputed per resample, the CI is the percentile interval and the
  two-sided p-value is ``min(1, 2 * min((#{d* <= 0} + 1) / (B + 1), (#{d* >= 0} + 1) / (B + 1)))``.
  Identical groups give a difference of 0 and p = 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from valuespectrum.scoring.steerability import change_ranks, mean_target_rank, value_changes
from valuespectrum.value_systems import Dim, as_dim, dims_in

__all__ = [
    "BootstrapDifference",
    "ProbeItems",
    "change_ranks",
    "mean_target_rank",
    "paired_bootstrap",
    "value_changes",
]


@dataclass(frozen=True)
class BootstrapDifference:
    """A paired bootstrap comparison of two groups on one value."""

    value: Dim
    diff: float
    """mean_a - mean_b over the common probes that inform this value."""
    ci_low: float
    ci_high: float
    p_value: float
    """Two-sided bootstrap p-value for a difference of 0."""
    n_probes: int
    """Common probes with items on this value in both groups."""


#: probe id -> value -> (sum of item scores, number of items)
ProbeItems = Mapping[str, Mapping[Dim, tuple[float, int]]]


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
    dims = dims_in(v for side in (a, b) for p in probes for v in side[p])
    k = len(dims)
    sums = np.zeros((2, len(probes), k))
    counts = np.zeros((2, len(probes), k))
    for s, side in enumerate((a, b)):
        for i, p in enumerate(probes):
            for v, (total, n) in side[p].items():
                j = dims.index(as_dim(v))
                sums[s, i, j] += total
                counts[s, i, j] += n
    draws = resample_counts(len(probes), n_boot, seed).astype(float)  # (n_boot, n_probes)
    out: list[BootstrapDifference] = []
    alpha = (1.0 - ci) / 2.0
    for j, v in enumerate(dims):
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
