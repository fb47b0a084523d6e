"""Multi-criteria ranking of actions (rows) over value dimensions (columns, all benefits).

Standard methods take a decision matrix ``X`` and weights ``w`` (normalised to sum 1):
weighted sum, TOPSIS (vector or min-max normalisation), PROMETHEE II (usual, linear with
indifference ``q`` and preference ``p`` thresholds, gaussian with ``s``), MAUT (exponential
utility of min-max scaled criteria). ``valuepilot_variant`` reproduces the arithmetic of the
published ValuePilot code for comparison (see its docstring). Each returns scores, higher is
better; ``rank`` orders actions by score (ties keep the lower index first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from valuespectrum.errors import ConfigError

Array = np.ndarray
PrefFn = Literal["usual", "linear", "gaussian"]


def _prep(x: Sequence[Sequence[float]] | Array, w: Sequence[float] | Array) -> tuple[Array, Array]:
    xa = np.asarray(x, dtype=float)
    wa = np.asarray(w, dtype=float)
    if xa.ndim != 2 or wa.shape != (xa.shape[1],):
        raise ConfigError(
            f"mcdm: matrix {xa.shape} and weights {wa.shape} do not fit (rows=actions, columns=criteria)"
        )
    if np.any(wa < 0) or wa.sum() <= 0:
        raise ConfigError(f"mcdm: weights must be >= 0 with a positive sum, got {wa.tolist()}")
    return xa, wa / wa.sum()


def _minmax(x: Array) -> Array:
    """Each column scaled to [0, 1] over the actions (a constant column becomes 0)."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    return (x - lo) / np.where(hi > lo, hi - lo, 1.0)


def _closeness(v: Array) -> Array:
    """TOPSIS closeness ``d- / (d+ + d-)`` of each row of the weighted matrix ``v`` to the ideal
    (column max) and anti-ideal (column min); 0.5 where both distances are 0."""
    d_plus = np.linalg.norm(v - v.max(axis=0), axis=1)
    d_minus = np.linalg.norm(v - v.min(axis=0), axis=1)
    total = d_plus + d_minus
    return np.where(total > 0, d_minus / np.where(total > 0, total, 1.0), 0.5)


def rank(scores: Sequence[float] | Array) -> list[int]:
    s = np.asarray(scores, dtype=float)
    return sorted(range(len(s)), key=lambda i: (-s[i], i))


def weighted_sum(x: Sequence[Sequence[float]] | Array, w: Sequence[float] | Array) -> Array:
    xa, wa = _prep(x, w)
    return xa @ wa


def topsis(
    x: Sequence[Sequence[float]] | Array,
    w: Sequence[float] | Array,
    *,
    normalize: Literal["vector", "minmax"] = "vector",
) -> Array:
    """Closeness ``d- / (d+ + d-)`` to the ideal (column max) and anti-ideal (column min)."""
    xa, wa = _prep(x, w)
    if normalize == "vector":
        norm = np.linalg.norm(xa, axis=0)
        r = xa / np.where(norm > 0, norm, 1.0)
    elif normalize == "minmax":
        r = _minmax(xa)
    else:
        raise ConfigError(f"topsis: normalize {normalize!r} is not vector or minmax")
    return _closeness(r * wa)


def preference(d: Array, fn: PrefFn, *, q: float = 0.0, p: float = 1.0, s: float = 0.5) -> Array:
    """PROMETHEE preference degree of a difference ``d`` (0 for d <= 0)."""
    if fn == "usual":
        out = (d > 0).astype(float)
    elif fn == "linear":
        if not p > q >= 0:
            raise ConfigError(f"promethee linear: need p > q >= 0, got q={q}, p={p}")
        out = np.clip((d - q) / (p - q), 0.0, 1.0)
    elif fn == "gaussian":
        if s <= 0:
            raise ConfigError(f"promethee gaussian: need s > 0, got {s}")
        out = 1.0 - np.exp(-(d**2) / (2 * s**2))
    else:
        raise ConfigError(f"promethee: preference function {fn!r} is not usual, linear or gaussian")
    return np.where(d > 0, out, 0.0)


def promethee2(
    x: Sequence[Sequence[float]] | Array,
    w: Sequence[float] | Array,
    *,
    pref_fn: PrefFn = "usual",
    q: float = 0.0,
    p: float = 1.0,
    s: float = 0.5,
) -> Array:
    """Net outranking flow ``phi+ - phi-`` (flows averaged over the n-1 other actions)."""
    xa, wa = _prep(x, w)
    n = len(xa)
    if n < 2:
        return np.zeros(n)
    d = xa[:, None, :] - xa[None, :, :]
    pi = (preference(d, pref_fn, q=q, p=p, s=s) * wa).sum(axis=2)
    return (pi.sum(axis=1) - pi.sum(axis=0)) / (n - 1)


def maut(x: Sequence[Sequence[float]] | Array, w: Sequence[float] | Array, *, alpha: float = 1.0) -> Array:
    """Weighted sum of ``u = (1 - exp(-alpha z)) / (1 - exp(-alpha))`` of min-max scaled criteria ``z``."""
    xa, wa = _prep(x, w)
    z = _minmax(xa)
    u = z if alpha == 0 else (1 - np.exp(-alpha * z)) / (1 - np.exp(-alpha))
    return u @ wa


# -- the published variant ------------------------------------------------------------------


def _logistic(x: Array) -> Array:
    return 1.0 / (1.0 + np.exp(-x))


def valuepilot_scores(
    action_ratings: Sequence[Sequence[float]] | Array,
    scenario_rating: Sequence[float] | Array,
    preferences: Sequence[float] | Array,
) -> Array:
    """The per-action criterion matrix ``r`` of the published code (rows sum to 1).

    ``g(x) = 1/(1+exp(-10(x-0.5)))`` on preferences, scenario and action ratings;
    ``y' = 0.3(1 - ||g(y)| - g(p)|) + 0.7 y`` for y = scenario s and action a;
    ``r = logistic(|s'|) * a'``, then each action's row divided by its sum (left as is when
    that sum is 0). Rows with negative entries can sum to near 0: the published arithmetic
    then magnifies them, and so does this copy.
    """
    a = np.asarray(action_ratings, dtype=float)
    s = np.asarray(scenario_rating, dtype=float)
    p = np.asarray(preferences, dtype=float)

    def g(v: Array) -> Array:
        return 1.0 / (1.0 + np.exp(-10.0 * (v - 0.5)))

    s2 = 0.3 * (1 - np.abs(np.abs(g(s)) - g(p))) + 0.7 * s
    a2 = 0.3 * (1 - np.abs(np.abs(g(a)) - g(p))) + 0.7 * a
    r = _logistic(np.abs(s2)) * a2
    sums = r.sum(axis=1, keepdims=True)
    return r / np.where(sums != 0, sums, 1.0)


VariantMethod = Literal["promethee", "ahp", "topsis", "maut"]


def valuepilot_variant(
    action_ratings: Sequence[Sequence[float]] | Array,
    scenario_rating: Sequence[float] | Array,
    preferences: Sequence[float] | Array,
    method: VariantMethod,
) -> Array:
    """Scores by the published code's four methods on ``valuepilot_scores``.

    - ``promethee``: ``P_k(i,j) = logistic(r_ik - r_jk)`` aggregated by the weighted product
      ``prod_k P_k^{p_k}``; net flow = row mean - column mean (diagonal included; it cancels).
    - ``ahp``: ``r @ p``. Because every row of ``r`` sums to 1, equal preferences give every
      action exactly 1/6: a full tie (the published demo shows it too).
    - ``topsis``: on ``V = r * p`` without further normalisation, ideal = column max, anti-ideal
      = column min, closeness ``d- / (d+ + d-)``.
    - ``maut``: ``sum_k p_k (1 - exp(-0.5 z_k))`` with ``z`` = ``r`` min-max scaled per column
      over the actions (the column-wise scaling is our reading).
    ``p`` is normalised to sum 1 first.
    """
    r = valuepilot_scores(action_ratings, scenario_rating, preferences)
    p = np.asarray(preferences, dtype=float)
    if p.sum() <= 0:
        raise ConfigError(f"valuepilot variant: preferences must have a positive sum, got {p.tolist()}")
    p = p / p.sum()
    if method == "promethee":
        pk = _logistic(r[:, None, :] - r[None, :, :])
        agg = np.prod(pk**p, axis=2)
        return agg.mean(axis=1) - agg.mean(axis=0)
    if method == "ahp":
        return r @ p
    if method == "topsis":
        return _closeness(r * p)
    if method == "maut":
        return (1 - np.exp(-0.5 * _minmax(r))) @ p
    raise ConfigError(f"valuepilot variant: method {method!r} is not promethee, ahp, topsis or maut")


METHODS = (
    "weighted_sum",
    "topsis",
    "promethee2_usual",
    "promethee2_linear",
    "promethee2_gaussian",
    "maut",
    "valuepilot_promethee",
    "valuepilot_ahp",
    "valuepilot_topsis",
    "valuepilot_maut",
)


def score_by(
    method: str,
    ratings: Sequence[Sequence[float]] | Array,
    weights: Sequence[float] | Array,
    *,
    scenario_rating: Sequence[float] | Array | None = None,
    preferences: Sequence[float] | Array | None = None,
) -> Array:
    """Scores of one named method (``METHODS``). Standard methods use ``weights``; the variant
    uses the raw ``preferences`` and the ``scenario_rating``."""
    if method.startswith("valuepilot_"):
        if scenario_rating is None or preferences is None:
            raise ConfigError(f"{method}: needs the scenario rating and the preferences")
        m = method.removeprefix("valuepilot_")
        return valuepilot_variant(ratings, scenario_rating, preferences, m)  # type: ignore[arg-type]
    if method == "weighted_sum":
        return weighted_sum(ratings, weights)
    if method == "topsis":
        return topsis(ratings, weights)
    if method.startswith("promethee2_"):
        fn = method.removeprefix("promethee2_")
        # ratings live in -1..1: linear thresholds q=0.1, p=1; gaussian s=0.5
        return promethee2(ratings, weights, pref_fn=fn, q=0.1, p=1.0, s=0.5)  # type: ignore[arg-type]
    if method == "maut":
        return maut(ratings, weights)
    raise ConfigError(f"MCDM method {method!r}: use one of {list(METHODS)}")
