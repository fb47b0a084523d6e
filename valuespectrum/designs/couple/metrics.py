"""Agreement between a target profile and the profile attributed to a response.

``mae = (1/d) * sum |s_i - s'_i|`` over the objective's defining dimensions that the evaluator
scored; ``spearman`` is ``scipy.stats.spearmanr`` (Pearson on average ranks), None when either
side is constant (undefined) and counted; ``spearman_no_ties`` is the paper's
``1 - 6 * sum d_i^2 / (d (d^2 - 1))`` on average ranks, which differs from Pearson on ranks
when there are ties (a reproduction can report both). Dimensions the evaluator left unparsed are
left out of every metric and counted; a response with none scored gets no metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from statistics import mean
from typing import Any


def _pairs(target: Mapping[str, float], observed: Mapping[str, float | None], dims: Sequence[str] | None):
    keys = list(dims) if dims is not None else list(target)
    return [(float(target[k]), float(v)) for k in keys if (v := observed.get(k)) is not None]


def mae(
    target: Mapping[str, float], observed: Mapping[str, float | None], dims: Sequence[str] | None = None
) -> float | None:
    pairs = _pairs(target, observed, dims)
    if not pairs:
        return None
    return sum(abs(a - b) for a, b in pairs) / len(pairs)


def spearman(
    target: Mapping[str, float], observed: Mapping[str, float | None], dims: Sequence[str] | None = None
) -> float | None:
    """Spearman's rho (scipy); None when fewer than 2 pairs or either side is constant."""
    pairs = _pairs(target, observed, dims)
    if len(pairs) < 2:
        return None
    a, b = zip(*pairs, strict=True)
    if len(set(a)) < 2 or len(set(b)) < 2:
        return None
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def spearman_no_ties(
    target: Mapping[str, float], observed: Mapping[str, float | None], dims: Sequence[str] | None = None
) -> float | None:
    """The paper's formula on average ranks; None when fewer than 2 pairs."""
    pairs = _pairs(target, observed, dims)
    n = len(pairs)
    if n < 2:
        return None
    from scipy.stats import rankdata

    a, b = zip(*pairs, strict=True)
    d2 = float(sum((x - y) ** 2 for x, y in zip(rankdata(a), rankdata(b), strict=True)))
    return 1.0 - 6.0 * d2 / (n * (n * n - 1))


def profile_metrics(
    target: Mapping[str, float], observed: Mapping[str, float | None], dims: Sequence[str]
) -> dict[str, Any]:
    """MAE, both Spearmans and the count of target dimensions the evaluator did not score."""
    return {
        "mae": mae(target, observed, dims),
        "spearman": spearman(target, observed, dims),
        "spearman_no_ties": spearman_no_ties(target, observed, dims),
        "n_dims": len(dims),
        "n_unscored": sum(observed.get(d) is None for d in dims),
    }


def aggregate(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Means over responses of ``profile_metrics`` rows, with what was left out counted."""
    maes = [r["mae"] for r in rows if r["mae"] is not None]
    rhos = [r["spearman"] for r in rows if r["spearman"] is not None]
    nt = [r["spearman_no_ties"] for r in rows if r["spearman_no_ties"] is not None]
    return {
        "n": len(rows),
        "mae": mean(maes) if maes else None,
        "spearman": mean(rhos) if rhos else None,
        "spearman_no_ties": mean(nt) if nt else None,
        "n_mae_none": len(rows) - len(maes),
        "n_spearman_none": len(rows) - len(rhos),
        "n_unscored_dims": sum(int(r["n_unscored"]) for r in rows),
    }
