"""Statistics: Cronbach's alpha, Spearman with ties, bootstrap intervals, alpha per value."""

from __future__ import annotations

import math

import numpy as np
import pytest

from valuespectrum.scoring.items import ItemScore
from valuespectrum.scoring.stats import (
    bootstrap_ci,
    cronbach_alpha,
    percentile_interval,
    resample_counts,
    spearman,
    value_alpha,
)
from valuespectrum.values import Value


def test_cronbach_alpha_3x3_by_hand() -> None:
    m = [[1, 2, 3], [2, 3, 3], [3, 4, 6]]
    # Item variances (ddof=1): col1 [1,2,3] -> 1; col2 [2,3,4] -> 1; col3 [3,3,6] -> 3; sum 5.
    # Row totals 6, 8, 13: mean 9, squared deviations 9+1+16=26, variance 13.
    # alpha = 3/2 * (1 - 5/13) = 3/2 * 8/13 = 12/13.
    assert cronbach_alpha(m) == pytest.approx(12 / 13)


def test_cronbach_alpha_edge_cases() -> None:
    assert math.isnan(cronbach_alpha([[1, 1], [1, 1]]))
    with pytest.raises(ValueError, match="at least 2 rows and 2 items"):
        cronbach_alpha([[1, 2, 3]])
    with pytest.raises(ValueError, match="non-finite"):
        cronbach_alpha([[1.0, float("nan")], [2.0, 3.0]])


def test_spearman_with_ties_by_hand() -> None:
    a = [1, 2, 2, 3]  # ranks 1, 2.5, 2.5, 4
    b = [1, 2, 3, 4]  # ranks 1, 2, 3, 4
    # Pearson of the ranks: deviations a' = [-1.5, 0, 0, 1.5], b' = [-1.5, -0.5, 0.5, 1.5]
    # cov = 2.25 + 2.25 = 4.5; |a'| = sqrt(4.5), |b'| = sqrt(5) -> rho = 4.5/sqrt(22.5) = 0.9487
    rho, p = spearman(a, b)
    assert rho == pytest.approx(4.5 / math.sqrt(22.5))
    assert 0.0 < p < 1.0
    assert spearman([1, 2, 3], [3, 2, 1])[0] == pytest.approx(-1.0)
    assert all(math.isnan(x) for x in spearman([1, 1, 1], [1, 2, 3]))
    with pytest.raises(ValueError, match="equal length"):
        spearman([1, 2, 3], [1, 2])


def test_bootstrap_ci_deterministic_and_contains_mean() -> None:
    data = [2.0, 4.0, 4.0, 5.0, 6.0, 3.0, 5.0, 4.0]
    lo, hi = bootstrap_ci(data, n_boot=2000, seed=7)
    assert (lo, hi) == bootstrap_ci(data, n_boot=2000, seed=7)
    assert (lo, hi) != bootstrap_ci(data, n_boot=2000, seed=8)
    assert lo < np.mean(data) == 4.125 < hi
    assert min(data) <= lo and hi <= max(data)
    # A constant sample has a degenerate interval at its value.
    assert bootstrap_ci([3.0, 3.0, 3.0], seed=1) == (3.0, 3.0)
    # Custom statistic: the median of each resample.
    mlo, mhi = bootstrap_ci(data, statistic=lambda r: np.median(r, axis=1), seed=7)
    assert mlo <= 4.0 <= mhi


def test_percentile_interval_by_hand() -> None:
    # 0..100: the 2.5% and 97.5% quantiles (linear interpolation) are 2.5 and 97.5.
    assert percentile_interval(np.arange(101.0), 0.95) == pytest.approx((2.5, 97.5))
    assert percentile_interval([np.nan, 1.0, 1.0]) == (1.0, 1.0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentile_interval([1.0], 1.5)


def test_resample_counts_rows_sum_to_n() -> None:
    c = resample_counts(5, 100, seed=0)
    assert c.shape == (100, 5)
    assert (c.sum(axis=1) == 5).all()


def _s(pid: str, v: Value, score: float) -> ItemScore:
    return ItemScore(probe_id=pid, value=v, score=score, kind="rating", weight=1.0, raw=score)


def test_value_alpha_across_replications() -> None:
    # Three replications (rows) x three Power items (columns): the 3x3 matrix above -> 12/13.
    m = [[1, 2, 3], [2, 3, 3], [3, 4, 6]]
    reps = [[_s(f"po{j}", Value.POWER, float(m[r][j])) for j in range(3)] for r in range(3)]
    # One Benevolence item only in replication 0, so Benevolence has < 2 common items.
    reps[0].append(_s("be0", Value.BENEVOLENCE, 4.0))
    # An extra Power item answered in only two replications is left out.
    reps[0].append(_s("po9", Value.POWER, 6.0))
    reps[1].append(_s("po9", Value.POWER, 1.0))
    out = value_alpha(reps)
    assert out[Value.POWER] == pytest.approx(12 / 13)
    assert out[Value.BENEVOLENCE] is None
    assert out[Value.HEDONISM] is None
    assert value_alpha(reps[:1])[Value.POWER] is None
