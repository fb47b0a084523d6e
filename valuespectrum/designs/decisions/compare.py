"""Ranking comparisons: set-based similarity, first-choice agreement, bootstrap intervals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def set_similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Mean over depths d = 1..min(len) of ``|top_d(a) & top_d(b)| / d``."""
    n = min(len(a), len(b))
    if n == 0:
        raise ValueError("set_similarity: both rankings need at least one item")
    return sum(len(set(a[:d]) & set(b[:d])) / d for d in range(1, n + 1)) / n


def first_choice(a: Sequence[int], b: Sequence[int]) -> float:
    return float(a[0] == b[0])


def mean_ci(x: Sequence[float], *, n_boot: int = 1000, seed: int = 0) -> dict[str, float | int | None]:
    """Mean with a percentile 95% bootstrap CI (None when fewer than two values)."""
    arr = np.asarray(x, dtype=float)
    if len(arr) == 0:
        return {"mean": None, "lo": None, "hi": None, "n": 0}
    if len(arr) < 2 or n_boot == 0:
        return {"mean": float(arr.mean()), "lo": None, "hi": None, "n": len(arr)}
    rng = np.random.default_rng(seed)
    boots = arr[rng.integers(0, len(arr), (n_boot, len(arr)))].mean(axis=1)
    return {
        "mean": float(arr.mean()),
        "lo": float(np.percentile(boots, 2.5)),
        "hi": float(np.percentile(boots, 97.5)),
        "n": len(arr),
    }


def paired_difference(
    a: Sequence[float], b: Sequence[float], *, n_boot: int = 1000, seed: int = 0
) -> dict[str, float | int | None]:
    """Mean of ``a - b`` over paired units (people) with a bootstrap CI resampling the units."""
    if len(a) != len(b):
        raise ValueError("paired_difference: both sides need the same units")
    return mean_ci([x - y for x, y in zip(a, b, strict=True)], n_boot=n_boot, seed=seed)
