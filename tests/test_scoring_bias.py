"""Bias diagnostics: first-option share, yes-rate, order agreement, position variance, verdicts."""

from __future__ import annotations

import pytest

from valuespectrum.scoring.bias import (
    OrderedAnswer,
    bias_verdict,
    first_option_share,
    order_agreement,
    position_variance_share,
    yes_rate,
    yes_rate_by_value,
)
from valuespectrum.values import Value


def _first_picker() -> list[OrderedAnswer]:
    # Always the first-presented label of a 1-6 scale: rating 1 forward, 6 reversed.
    return [
        OrderedAnswer(f"p{i}", o, 0, 1.0 if o == "fwd" else 6.0) for i in range(4) for o in ("fwd", "rev")
    ]


def _content() -> list[OrderedAnswer]:
    # The same rating in both orders (positions differ: rating r is at position r-1 forward, 6-r reversed).
    ratings = [2.0, 5.0, 3.0, 6.0]
    return [
        OrderedAnswer(f"p{i}", o, int(r - 1 if o == "fwd" else 6 - r), r)
        for i, r in enumerate(ratings)
        for o in ("fwd", "rev")
    ]


def test_first_picker_is_a_position_verdict() -> None:
    answers = _first_picker()
    assert first_option_share(answers) == {"fwd": 1.0, "rev": 1.0}
    assert position_variance_share(answers) == pytest.approx(1.0)  # order explains everything
    assert order_agreement(answers) is None  # no variance within an order
    v = bias_verdict(position_share=1.0, first_share=first_option_share(answers))
    assert v.kind == "position" and "this profile carries no value information" in v.message


def test_content_driven_answers_agree_and_carry_no_position_variance() -> None:
    answers = _content()
    # first-presented chosen: fwd only rating 1 (none), rev only rating 6 (p3) -> 0 and 1/4
    assert first_option_share(answers) == {"fwd": 0.0, "rev": 0.25}
    assert position_variance_share(answers) == pytest.approx(0.0)
    assert order_agreement(answers) == pytest.approx(1.0)
    v = bias_verdict(position_share=0.0, first_share=first_option_share(answers))
    assert v.kind == "none"


def test_position_share_hand_computed() -> None:
    # fwd ratings (2, 4), rev ratings (4, 6): grand mean 4; total SS = 4+0+0+4 = 8;
    # order means 3 and 5: between SS = 2*(1) + 2*(1) = 4 -> share 0.5 (the threshold).
    answers = [
        OrderedAnswer("a", "fwd", 1, 2.0),
        OrderedAnswer("b", "fwd", 3, 4.0),
        OrderedAnswer("a", "rev", 2, 4.0),
        OrderedAnswer("b", "rev", 0, 6.0),
        OrderedAnswer("only-fwd", "fwd", 0, 1.0),  # not answered in both orders: left out
    ]
    assert position_variance_share(answers) == pytest.approx(0.5)
    assert bias_verdict(position_share=0.5).kind == "position"
    assert bias_verdict(position_share=0.49).kind == "none"


def test_order_agreement_pearson_hand_computed() -> None:
    # fwd (1, 2, 3), rev (1, 3, 2): r = (0*0 + ... ) -> deviations (-1,0,1) vs (-1,1,0): sxy 1, sxx 2, syy 2 -> 0.5
    answers = [
        OrderedAnswer(p, o, 0, x)
        for p, f, r in (("a", 1.0, 1.0), ("b", 2.0, 3.0), ("c", 3.0, 2.0))
        for o, x in (("fwd", f), ("rev", r))
    ]
    assert order_agreement(answers) == pytest.approx(0.5)


def test_acquiescence_and_naysaying_verdicts() -> None:
    items = [({Value.POWER: 1.0}, 0.9), ({Value.POWER: 1.0}, 0.8), ({Value.TRADITION: -1.0}, 0.85)]
    by_value = yes_rate_by_value(items)
    assert by_value == pytest.approx({Value.POWER: 0.85, Value.TRADITION: 0.85})
    assert yes_rate([p for _, p in items]) == pytest.approx(0.85)
    v = bias_verdict(yes_by_value=by_value)
    assert v.kind == "acquiescent" and v.message == "acquiescent: P(yes) 0.85 or more for every value"
    assert bias_verdict(yes_by_value={Value.POWER: 0.1, Value.TRADITION: 0.2}).kind == "naysaying"
    assert bias_verdict(yes_by_value={Value.POWER: 0.9, Value.TRADITION: 0.5}).kind == "none"
    assert yes_rate([]) is None
