"""ICC, variance decomposition, Holm / Benjamini-Hochberg and the target-rank permutation test."""

from __future__ import annotations

import math
from itertools import product

import pytest

from valuespectrum.scoring.reliability import (
    benjamini_hochberg,
    holm,
    icc,
    target_rank_test,
    variance_decomposition,
)
from valuespectrum.values import CIRCUMPLEX, Value


def test_icc_consistency_and_agreement_hand_computed() -> None:
    # Rater 2 = rater 1 + 1: MS_rows = 2, MS_cols = 1.5, MS_err = 0 (n = 3, k = 2).
    table = [[1.0, 2.0], [2.0, 3.0], [3.0, 4.0]]
    assert icc(table) == pytest.approx(1.0)  # (2 - 0) / (2 + 0)
    assert icc(table, "agreement") == pytest.approx(2 / 3)  # 2 / (2 + 0 + 2 * 1.5 / 3)
    # Rater 2 reverses rater 1: SS_total 4, SS_rows 0, SS_cols 0 -> MS_err 2, MS_rows 0 -> -1
    assert icc([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]]) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="at least 2 rows x 2 columns"):
        icc([[1.0, 2.0]])
    with pytest.raises(ValueError, match="non-finite"):
        icc([[1.0, math.nan], [2.0, 3.0]])


def test_variance_decomposition_on_a_crossed_table() -> None:
    # score = wording effect (0 / 2) + order effect (0 / 1) + item effect (0 / 4); persona none.
    effect = {"w1": 0.0, "w2": 2.0, "fwd": 0.0, "rev": 1.0, "i1": 0.0, "i2": 4.0, "p1": 0.0, "p2": 0.0}
    rows, scores = [], []
    for w, o, p, i in product(("w1", "w2"), ("fwd", "rev"), ("p1", "p2"), ("i1", "i2")):
        rows.append({"wording": w, "order": o, "persona": p, "item": i})
        scores.append(effect[w] + effect[o] + effect[p] + effect[i])
    d = variance_decomposition(rows, scores, ["wording", "order", "persona", "item"])
    # 16 cells: SS_wording = 16 * 1^2, SS_order = 16 * 0.5^2, SS_item = 16 * 2^2; total 84
    assert d.shares == pytest.approx({"wording": 16 / 84, "order": 4 / 84, "persona": 0.0, "item": 64 / 84})
    assert d.residual == pytest.approx(0.0, abs=1e-12) and d.balanced
    assert not variance_decomposition(
        rows[:-1], scores[:-1], ["wording", "order", "persona", "item"]
    ).balanced
    with pytest.raises(ValueError, match="lack factors"):
        variance_decomposition(rows, scores, ["variant"])


def test_holm_and_benjamini_hochberg_on_a_known_list() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 -> max(0.06, 0.04) = 0.06
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # BH: p(i) * 4 / i = 0.02, 0.02, 0.04, 0.04, then running minimum from the largest
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])
    with pytest.raises(ValueError, match=r"0\.\.1"):
        holm([1.2])


def _changes(top: list[Value]) -> dict[Value, float]:
    """Changes with the listed values largest, in that order, the rest decreasing."""
    order = top + [v for v in CIRCUMPLEX if v not in top]
    return {v: float(10 - i) for i, v in enumerate(order)}


def test_target_rank_permutation_test_exact() -> None:
    one = target_rank_test([(_changes([Value.POWER]), [Value.POWER])])
    assert one is not None and one.exact
    assert (one.mean_target_rank, one.chance, one.p_value) == pytest.approx((1.0, 5.5, 1 / 10))
    two = target_rank_test([(_changes([Value.POWER, Value.ACHIEVEMENT]), [Value.POWER, Value.ACHIEVEMENT])])
    assert two is not None and two.p_value == pytest.approx(1 / 45)  # only {1, 2} has mean rank 1.5
    # Two personas, each target ranked 1: 1 of 10 x 10 joint assignments has mean rank 1.
    both = target_rank_test(
        [(_changes([Value.POWER]), [Value.POWER]), (_changes([Value.TRADITION]), [Value.TRADITION])]
    )
    assert both is not None and both.p_value == pytest.approx(1 / 100) and both.n_personas == 2
    # A target ranked last: every assignment is at least as good -> p = 1.
    last = target_rank_test([(_changes([Value.POWER]), [Value.UNIVERSALISM])])
    assert last is not None and last.mean_target_rank == 10.0 and last.p_value == pytest.approx(1.0)
    assert target_rank_test([(_changes([]), [])]) is None


def test_target_rank_permutation_test_monte_carlo_is_seeded() -> None:
    effects = [(_changes([Value.POWER]), [Value.POWER])] * 6  # 10^6 joint assignments > max_exact
    a = target_rank_test(effects, n_perm=2000, seed=3)
    b = target_rank_test(effects, n_perm=2000, seed=3)
    assert a is not None and b is not None and not a.exact and a == b
    # exact p would be 1e-6; with the observed draw counted the estimate is at least 1/2001
    assert 1 / 2001 <= a.p_value <= 5 / 2001
