"""Statistics for value profiles: Cronbach's alpha, Spearman's rho, bootstrap intervals.

All functions take plain numbers and use numpy (and scipy for Spearman's p-value).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from valuespectrum.value_systems import Dim, dims_in

if TYPE_CHECKING:
    from valuespectrum.scoring.items import ItemScore


def cronbach_alpha(matrix: ArrayLike) -> float:
    """Cronbach's alpha of a (respondents x items) matrix.

    Rows are respondents (for a model: replications such as prompt variants, personas or
    seeds), columns are items. ``alpha = k/(k-1) * (1 - sum(item variances) / var(row totals))``
    with sample variances (ddof=1). Returns NaN when the row totals do not vary.
    """
    x = np.asarray(matrix, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"cronbach_alpha needs a 2-D matrix (rows x items), got shape {x.shape}")
    n, k = x.shape
    if n < 2 or k < 2:
        raise ValueError(f"cronbach_alpha needs at least 2 rows and 2 items, got {n} x {k}")
    if not np.isfinite(x).all():
        raise ValueError(
            "cronbach_alpha: the matrix has missing or non-finite entries; drop those rows or items"
        )
    total_var = float(x.sum(axis=1).var(ddof=1))
    if total_var == 0.0:
        return float("nan")
    item_var = float(x.var(axis=0, ddof=1).sum())
    return k / (k - 1) * (1.0 - item_var / total_var)


def spearman(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """Spearman's rank correlation and its two-sided p-value (ties get average ranks).

    NaN for both when either side is constant.
    """
    from scipy.stats import spearmanr

    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"spearman needs two sequences of equal length, got {x.shape} and {y.shape}")
    if len(x) < 3:
        raise ValueError(f"spearman needs at least 3 pairs, got {len(x)}")
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan")
    res = spearmanr(x, y)
    return float(res.statistic), float(res.pvalue)


def bootstrap_indices(n: int, n_boot: int, seed: int) -> np.ndarray:
    """An ``(n_boot, n)`` array of resampling indices (with replacement), seeded."""
    if n < 1 or n_boot < 1:
        raise ValueError(f"bootstrap needs n >= 1 and n_boot >= 1, got n={n}, n_boot={n_boot}")
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def resample_counts(n: int, n_boot: int, seed: int) -> np.ndarray:
    """How often each of ``n`` units is drawn in each of ``n_boot`` resamples: ``(n_boot, n)``.

    Lets statistics that are ratios of sums (means over items) be bootstrapped with one
    matrix product instead of a Python loop.
    """
    idx = bootstrap_indices(n, n_boot, seed)
    flat = idx + (np.arange(n_boot)[:, None] * n)
    return np.bincount(flat.ravel(), minlength=n_boot * n).reshape(n_boot, n)


def percentile_interval(boot_stats: ArrayLike, ci: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap statistics, ignoring NaN resamples."""
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci must be between 0 and 1, got {ci}")
    s = np.asarray(boot_stats, dtype=float)
    s = s[np.isfinite(s)]
    if s.size == 0:
        return float("nan"), float("nan")
    alpha = (1.0 - ci) / 2.0
    lo, hi = np.quantile(s, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def bootstrap_ci(
    data: ArrayLike,
    *,
    statistic: Callable[[np.ndarray], np.ndarray] | None = None,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of a statistic of a 1-D sample.

    ``statistic`` receives an ``(n_boot, n)`` array of resamples and returns one value per
    row; the default is the mean. Same seed, same interval.
    """
    x = np.asarray(data, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"bootstrap_ci needs a non-empty 1-D sample, got shape {x.shape}")
    resamples = x[bootstrap_indices(x.size, n_boot, seed)]
    stats = statistic(resamples) if statistic is not None else resamples.mean(axis=1)
    return percentile_interval(stats, ci)


def value_alpha(per_replication_scores: Sequence[Sequence[ItemScore]]) -> dict[Dim, float | None]:
    """Cronbach's alpha of each value's items, across replications.

    ``per_replication_scores[r]`` holds the item scores of replication ``r`` (a prompt
    variant, persona or seed). For each value, rows are replications and columns the probes
    scored for that value in *every* replication (probes missing from any replication are
    left out). None when fewer than 2 replications or 2 such probes, or no variance.
    """
    if len(per_replication_scores) < 2:
        return {v: None for v in dims_in(s.value for rep in per_replication_scores for s in rep)}
    tables: list[dict[tuple[Dim, str], float]] = []
    for rep in per_replication_scores:
        acc: dict[tuple[Dim, str], list[float]] = defaultdict(list)
        for s in rep:
            acc[(s.value, s.probe_id)].append(s.score)
        tables.append({k: float(np.mean(v)) for k, v in acc.items()})
    out: dict[Dim, float | None] = {}
    for v in dims_in(s.value for rep in per_replication_scores for s in rep):
        common = set.intersection(*({pid for (val, pid) in t if val == v} for t in tables))
        probes = sorted(common)
        if len(probes) < 2:
            out[v] = None
            continue
        mat = np.array([[t[(v, p)] for p in probes] for t in tables])
        a = cronbach_alpha(mat)
        out[v] = None if np.isnan(a) else a
    return out
