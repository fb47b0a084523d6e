"""Item scoring: reverse keying, weight threshold, endorsement, choice weights."""

from __future__ import annotations

import pytest

from valuespectrum.probes.schema import AnswerFormat, Probe
from valuespectrum.scoring.items import score_item
from valuespectrum.scoring.parse import ParsedAnswer
from valuespectrum.values import Value


def _ans(value: float | str) -> ParsedAnswer:
    return ParsedAnswer(status="parsed", value=value, method="text")


def test_likert_forward_and_reverse_keyed() -> None:
    probe = Probe(id="p", text="t", format=AnswerFormat.likert6(), keys={"PO": 1.0, "UN": -1.0})
    out = {s.value: s for s in score_item(probe, _ans(2.0))}
    assert out[Value.POWER].score == 2.0
    # Reverse keyed on 1..6: 1 + 6 - 2 = 5.
    assert out[Value.UNIVERSALISM].score == 5.0
    assert out[Value.UNIVERSALISM].weight == -1.0
    assert out[Value.UNIVERSALISM].raw == 2.0  # raw keeps the answer before reversal (for MRAT)
    assert {s.kind for s in out.values()} == {"rating"}


def test_reverse_keying_on_other_scale() -> None:
    probe = Probe(
        id="p", text="t", format=AnswerFormat(kind="likert", scale_min=0, scale_max=10), keys={"SE": -0.5}
    )
    (s,) = score_item(probe, _ans(3.0))
    assert s.score == 7.0  # 0 + 10 - 3


def test_weight_threshold_excludes_weak_keys_strictly() -> None:
    # Value Portrait style: keep a value only if |r| > 0.3.
    probe = Probe(
        id="vp",
        text="t",
        format=AnswerFormat.likert6(),
        keys={"BE": 0.45, "UN": 0.3, "PO": -0.31, "AC": 0.1},
    )
    out = {s.value: s.score for s in score_item(probe, _ans(5.0), weight_threshold=0.3)}
    # BE kept (5), PO kept and reversed (7 - 5 = 2), UN at exactly 0.3 and AC dropped.
    assert out == {Value.BENEVOLENCE: 5.0, Value.POWER: 2.0}
    assert len(score_item(probe, _ans(5.0))) == 4  # threshold 0 keeps every non-zero key


@pytest.mark.parametrize(
    ("answer", "forward", "reverse"),
    [("yes", 1.0, 0.0), ("no", 0.0, 1.0), ("unsure", 0.5, 0.5)],
)
def test_yes_no_endorsement(answer: str, forward: float, reverse: float) -> None:
    probe = Probe(id="y", text="t", format=AnswerFormat.yes_no(), keys={"ST": 1, "CO": -1})
    out = {s.value: s for s in score_item(probe, _ans(answer))}
    assert out[Value.STIMULATION].score == forward
    assert out[Value.CONFORMITY].score == reverse
    assert out[Value.STIMULATION].kind == "endorse"


def test_choice_scores_chosen_option_weights() -> None:
    probe = Probe(
        id="c",
        text="t",
        format=AnswerFormat.choice(
            [
                ("help", {Value.BENEVOLENCE: 1.0, Value.UNIVERSALISM: 0.5}),
                ("obey", {Value.CONFORMITY: 1.0}),
                ("leave", {}),
            ]
        ),
        keys={"SD": 1.0},
    )
    # every value an option or the item key names is scored: the chosen option's weight, else 0
    scored = (Value.BENEVOLENCE, Value.UNIVERSALISM, Value.CONFORMITY, Value.SELF_DIRECTION)
    for letter, weights in (("A", (1.0, 0.5, 0.0, 0.0)), ("B", (0.0, 0.0, 1.0, 0.0))):
        got = {s.value: s.score for s in score_item(probe, _ans(letter))}
        assert got == dict(zip(scored, weights, strict=True)), letter
    # Threshold 0.5 drops UN (only ever weighted 0.5).
    c = {s.value for s in score_item(probe, _ans("C"), weight_threshold=0.5)}
    assert c == {Value.BENEVOLENCE, Value.CONFORMITY, Value.SELF_DIRECTION}


@pytest.mark.parametrize("status", ["unparsed", "error"])
def test_unparsed_and_failed_give_no_scores(status: str) -> None:
    probe = Probe(id="p", text="t", format=AnswerFormat.likert6(), keys={"PO": 1})
    assert score_item(probe, ParsedAnswer(status=status)) == []  # type: ignore[arg-type]


def test_mismatched_answer_raises() -> None:
    likert = Probe(id="p", text="t", format=AnswerFormat.likert6(), keys={"PO": 1})
    with pytest.raises(ValueError, match="not a rating"):
        score_item(likert, _ans("yes"))
    with pytest.raises(ValueError, match=r"outside 1\.\.6"):
        score_item(likert, _ans(7.0))
    choice = Probe(
        id="c", text="t", format=AnswerFormat.choice([("x", {Value.BENEVOLENCE: 1}), ("y", {Value.POWER: 1})])
    )
    with pytest.raises(ValueError, match="not one of the options"):
        score_item(choice, _ans("Z"))
    with pytest.raises(ValueError, match="weight_threshold"):
        score_item(likert, _ans(3.0), weight_threshold=-1)
