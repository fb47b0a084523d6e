"""Divergences between value distributions (natural log, so JS of disjoint one-hots is ln 2).

Inputs are non-negative weight vectors; they are normalised to sum to one and smoothed by
``eps`` so that a value no model expresses does not produce log(0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

EPS = 1e-9


def normalise(p: Sequence[float], *, eps: float = EPS) -> np.ndarray:
    a = np.asarray(p, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"a distribution must be a non-empty vector, got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"a distribution needs finite, non-negative weights, got {a.tolist()}")
    total = a.sum()
    a = np.full_like(a, 1.0 / a.size) if total == 0 else a / total
    a = a + eps
    return a / a.sum()


def entropy(p: Sequence[float], *, eps: float = EPS) -> float:
    a = normalise(p, eps=eps)
    return float(-(a * np.log(a)).sum())


def js(p: Sequence[float], q: Sequence[float], *, eps: float = EPS) -> float:
    """Jensen-Shannon divergence: H((p+q)/2) - (H(p)+H(q))/2."""
    if len(p) != len(q):
        raise ValueError(f"distributions differ in length: {len(p)} vs {len(q)}")
    return gjs([p, q], eps=eps)


def gjs(ps: Sequence[Sequence[float]], weights: Sequence[float] | None = None, *, eps: float = EPS) -> float:
    """Generalised JS: H(sum_i w_i p_i) - sum_i w_i H(p_i); uniform weights by default."""
    if len(ps) < 2:
        raise ValueError("the generalised JS divergence needs at least two distributions")
    sizes = {len(p) for p in ps}
    if len(sizes) != 1:
        raise ValueError(f"distributions differ in length: {sorted(sizes)}")
    rows = np.stack([normalise(p, eps=eps) for p in ps])
    w = np.full(len(ps), 1.0 / len(ps)) if weights is None else normalise(weights, eps=0.0)
    if len(w) != len(ps):
        raise ValueError(f"{len(w)} weights for {len(ps)} distributions")
    mix = w @ rows
    h_mix = float(-(mix * np.log(mix)).sum())
    h_each = -(rows * np.log(rows)).sum(axis=1)
    return max(0.0, h_mix - float(w @ h_each))


def informativeness(
    model_dists: Sequence[Sequence[float]], question_dist: Sequence[float], *, beta: float = 1.0
) -> float:
    """How well a question tells models apart: GJS among the models' value distributions plus
    beta/K times the sum of JS distances from the values the question itself expresses."""
    k = len(model_dists)
    spread = gjs(model_dists)
    away = sum(js(question_dist, d) for d in model_dists)
    return spread + beta / k * away
