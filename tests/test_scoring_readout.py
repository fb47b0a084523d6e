"""Option-distribution readout: hand-computed distributions, expected ratings, P(yes), order averaging."""

from __future__ import annotations

import math

import pytest

from valuespectrum.probes.render import render_probe
from valuespectrum.probes.schema import AnswerFormat, Probe
from valuespectrum.scoring.readout import (
    answer_distribution,
    average_orders,
    centred_yes_scores,
    choice_value,
    expected_rating,
    yes_no_probabilities,
)
from valuespectrum.values import Value

LIKERT = Probe(id="p1", text="A portrait.", format=AnswerFormat.likert6(), keys={Value.POWER: 1})
YES_NO = Probe(id="y1", text="Do you like it?", format=AnswerFormat.yes_no(), keys={Value.HEDONISM: 1})
CHOICE = Probe(
    id="c1",
    text="Which would you do?",
    format=AnswerFormat.choice(
        [("Tell the truth", {Value.BENEVOLENCE: 1}), ("Keep quiet", {Value.CONFORMITY: 1}), ("Ask", {})]
    ),
)
LOG = math.log


def test_forward_likert_distribution_and_expected_rating() -> None:
    probe = Probe(
        id="p3", text="t", format=AnswerFormat(kind="likert", scale_min=1, scale_max=3), keys={"PO": 1}
    )
    r = render_probe(probe)
    dist = answer_distribution([LOG(0.2), LOG(0.3), LOG(0.5)], r.option_values or [], r.to_true)
    assert dist == pytest.approx({1.0: 0.2, 2.0: 0.3, 3.0: 0.5})
    assert expected_rating(dist) == pytest.approx(0.2 * 1 + 0.3 * 2 + 0.5 * 3)  # 2.3


def test_reversed_labels_map_to_the_rating_they_mean() -> None:
    # A first-label picker: 0.7 on the first label, 0.06 on each other, in both orders.
    lps = [LOG(0.7)] + [LOG(0.06)] * 5
    fwd, rev = render_probe(LIKERT), render_probe(LIKERT, reverse_labels=True)
    d_fwd = answer_distribution(lps, fwd.option_values or [], fwd.to_true)
    d_rev = answer_distribution(lps, rev.option_values or [], rev.to_true)
    # forward: label 1 means 1 -> 0.7*1 + 0.06*(2+3+4+5+6) = 1.9
    assert expected_rating(d_fwd) == pytest.approx(1.9)
    # reversed: label 1 means 6 -> 0.7*6 + 0.06*(5+4+3+2+1) = 5.1
    assert d_rev[6.0] == pytest.approx(0.7) and expected_rating(d_rev) == pytest.approx(5.1)
    both = average_orders([d_fwd, d_rev])
    assert both[1.0] == pytest.approx(0.38) and both[6.0] == pytest.approx(0.38)
    assert expected_rating(both) == pytest.approx(3.5)  # pure position: the midpoint
    # ignoring the reversed mapping would read label 1 as rating 1 in both orders
    naive = answer_distribution(lps, rev.option_values or [])
    assert expected_rating(naive) == pytest.approx(1.9)


def test_content_signal_survives_order_averaging() -> None:
    # Rating 5 most likely whatever its label position: fwd label 5, rev label 2 (= 7 - 5).
    fwd, rev = render_probe(LIKERT), render_probe(LIKERT, reverse_labels=True)
    lp_fwd = [LOG(0.1), LOG(0.1), LOG(0.1), LOG(0.1), LOG(0.5), LOG(0.1)]
    lp_rev = [LOG(0.1), LOG(0.5), LOG(0.1), LOG(0.1), LOG(0.1), LOG(0.1)]
    both = average_orders(
        [
            answer_distribution(lp_fwd, fwd.option_values or [], fwd.to_true),
            answer_distribution(lp_rev, rev.option_values or [], rev.to_true),
        ]
    )
    assert both[5.0] == pytest.approx(0.5)
    assert expected_rating(both) == pytest.approx(0.1 * (1 + 2 + 3 + 4 + 6) + 0.5 * 5)  # 4.1


def test_yes_no_probability_in_both_orders_and_unsure() -> None:
    fwd, rev = render_probe(YES_NO), render_probe(YES_NO, reverse_labels=True)
    assert rev.option_values == ["no", "yes"]
    lps = [LOG(0.6), LOG(0.4)]  # 0.6 on the first-presented option in each order
    p_fwd = yes_no_probabilities(answer_distribution(lps, fwd.option_values or []))
    p_rev = yes_no_probabilities(answer_distribution(lps, rev.option_values or []))
    assert (p_fwd.p_yes, p_rev.p_yes) == pytest.approx((0.6, 0.4))
    avg = yes_no_probabilities(
        average_orders(
            [
                answer_distribution(lps, fwd.option_values or []),
                answer_distribution(lps, rev.option_values or []),
            ]
        )
    )
    assert avg.p_yes == pytest.approx(0.5) and avg.p_unsure is None
    with_unsure = yes_no_probabilities(
        answer_distribution([LOG(0.5), LOG(0.3), LOG(0.2)], ["Yes", "No", "Unsure"])
    )
    assert (with_unsure.p_yes, with_unsure.p_no, with_unsure.p_unsure) == pytest.approx((0.5, 0.3, 0.2))
    assert with_unsure.endorsement == pytest.approx(0.6)  # 0.5 + 0.2 / 2


def test_choice_value_in_reversed_order() -> None:
    rev = render_probe(
        CHOICE, reverse_labels=True
    )  # shown A = Ask (orig C), B = Keep quiet, C = Tell the truth
    dist = answer_distribution([LOG(0.5), LOG(0.3), LOG(0.2)], rev.option_values or [], rev.to_true)
    assert dist == pytest.approx({"C": 0.5, "B": 0.3, "A": 0.2})
    assert choice_value(dist, CHOICE, Value.BENEVOLENCE) == pytest.approx(0.2)
    assert choice_value(dist, CHOICE, "Conformity") == pytest.approx(0.3)
    assert choice_value(dist, CHOICE, Value.POWER) == 0.0


def test_yes_centring_removes_a_uniform_shift() -> None:
    items = [
        ({Value.POWER: 1.0}, 0.9),
        ({Value.POWER: 1.0}, 0.7),
        ({Value.UNIVERSALISM: 1.0}, 0.5),
        ({Value.UNIVERSALISM: -1.0}, 0.3),  # agreement-keyed against Universalism
    ]
    # mean P(yes) 0.6; Power (0.3 + 0.1) / 2 = 0.2; Universalism (-0.1 + 0.3) / 2 = 0.1
    scores = centred_yes_scores(items)
    assert scores == pytest.approx({Value.POWER: 0.2, Value.UNIVERSALISM: 0.1})
    shifted = centred_yes_scores([(k, p + 0.08) for k, p in items])  # acquiescence under a persona
    assert shifted == pytest.approx(scores)


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="2 option log-likelihoods but 3 option values"):
        answer_distribution([-1.0, -2.0], ["yes", "no", "unsure"])
    with pytest.raises(ValueError, match="not all finite"):
        answer_distribution([float("nan"), -1.0], ["yes", "no"])
    with pytest.raises(ValueError, match="not a rating"):
        expected_rating({"yes": 1.0})
    with pytest.raises(ValueError, match="not yes/no/unsure"):
        yes_no_probabilities({3.0: 1.0})
    with pytest.raises(ValueError, match="not its option labels"):
        choice_value({"D": 1.0}, CHOICE, Value.POWER)
