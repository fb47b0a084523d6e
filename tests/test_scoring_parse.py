"""Answer parsing: Likert, yes/no, choice and JSON answers; log-likelihoods; never guessing."""

from __future__ import annotations

import math

import pytest

from valuespectrum.probes.schema import AnswerFormat, Probe
from valuespectrum.scoring.parse import ParsedAnswer, parse_answer, parse_text, tally
from valuespectrum.types import ModelResponse
from valuespectrum.values import Value

LIKERT = Probe(id="p1", text="portrait", format=AnswerFormat.likert6(), keys={Value.POWER: 1})
YES_NO = Probe(
    id="y1", text="Do you like the content of this image?", format=AnswerFormat.yes_no(), keys={"HE": 1}
)
CHOICE = Probe(
    id="c1",
    text="Which would you do?",
    format=AnswerFormat.choice(
        [
            ("Tell the truth to the manager", {Value.BENEVOLENCE: 1}),
            ("Keep quiet to protect the team", {Value.CONFORMITY: 1}),
            ("Ask a friend", {}),
        ]
    ),
)


def _resp(text: str = "", **kw: object) -> ModelResponse:
    return ModelResponse(request_id="r", text=text, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", 5.0),
        ("5/6", 5.0),
        ("Rating: 5", 5.0),
        ("I would say 4 - somewhat like me", 4.0),
        ("I'd say 2.", 2.0),
        ("**3**", 3.0),
        ("very much like me", 6.0),
        ("Very much like me.", 6.0),
        ("not like me at all", 1.0),
        ("Not like me", 2.0),
        ("like me", 5.0),
        ("This person is a little like me.", 3.0),
        ("5 out of 6", 5.0),
        ("On a scale from 1 to 6, I give it a 4.", 4.0),
        ("My answer is 6 (very much like me)", 6.0),
        ('{"rating": 3}', 3.0),
        ('Sure.\n```json\n{"rating": "2", "reason": "not my style"}\n```', 2.0),
        ('{"answer": "5 - like me"}', 5.0),
        ("Answer: 4\nThis person values success, which is 1 of my goals.", 4.0),
    ],
)
def test_likert_parsed(text: str, expected: float) -> None:
    a = parse_text(LIKERT, text)
    assert a.status == "parsed", a.detail
    assert a.value == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("9", "outside the scale"),
        ("0", "outside the scale"),
        ("3 or 4", "several different numbers"),
        ("4.5", "not a scale point"),
        ("It depends on the situation.", "no rating"),
        ("like me, or maybe not like me", "several scale labels"),
        ("5 - not like me", "disagrees"),
        ('{"rating": 8}', "outside the scale"),
        ('{"rating": true}', "boolean"),
        ('{"rating": 2} and later {"rating": 5}', "conflicting"),
        ("   ", "empty"),
    ],
)
def test_likert_unparsed_with_reason(text: str, reason: str) -> None:
    a = parse_text(LIKERT, text)
    assert a.status == "unparsed"
    assert a.value is None
    assert reason in (a.detail or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes", "yes"),
        ("Yes.", "yes"),
        ("yes, because it shows a family dinner.", "yes"),
        ("**No**", "no"),
        ("No. There is nothing interesting here.", "no"),
        ("NO", "no"),
        ("Answer: Yes", "yes"),
        ("Decision: no, it looks staged.", "no"),
        ("I'm not sure.", "unsure"),
        ("Unsure", "unsure"),
        ("I really like this content.", "yes"),
        ("I don't like this content.", "no"),
        ('{"like": true, "reason": "cute cat"}', "yes"),
        ('{"like": false}', "no"),
        ('```json\n{"decision": "Yes", "trait": "adventurous"}\n```', "yes"),
        ('{"visual_appeal": 7, "curiosity": 4, "decision": "no"}', "no"),
        ("The video has great energy, so yes.", "yes"),
    ],
)
def test_yes_no_parsed(text: str, expected: str) -> None:
    a = parse_text(YES_NO, text)
    assert a.status == "parsed", a.detail
    assert a.value == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("There is no violence, so yes.", "conflicting"),
        ("Yes and no.", "conflicting answers ['no', 'yes']"),
        ("No doubt about it, yes.", "conflicting answers ['no', 'yes']"),
        ("Yes, but honestly no.", "conflicting answers ['no', 'yes']"),
        ("Yes, but only for the music.", "hedged answer: 'yes' qualified by 'but'"),
        ("No, though it is well filmed.", "hedged answer: 'no' qualified by 'though'"),
        ("Yes, I think so. Maybe.", "conflicting answers ['unsure', 'yes']"),
        ("I'd say yes, but honestly no.", "conflicting answers ['no', 'yes']"),
        ("Answer: yes, but only for the music.", "hedged answer: 'yes' qualified by 'but'"),
        ("I like it but I don't like the music", "conflicting"),
        ("The image shows a beach.", "no yes/no"),
        ('{"like": 1}', "number"),
    ],
)
def test_yes_no_ambiguous(text: str, reason: str) -> None:
    a = parse_text(YES_NO, text)
    assert a.status == "unparsed" and a.value is None
    assert reason in (a.detail or "")


@pytest.mark.parametrize(
    ("text", "expected", "detail"),
    [
        ("Yes.", "yes", "leading yes/no word"),
        ("yes, because it shows a family dinner.", "yes", "leading yes/no word"),
        ("No, I don't", "no", "leading yes/no word"),
        ("No, I don't like it.", "no", "leading yes/no word"),
        ("Yes, yes!", "yes", "leading yes/no word"),
        ('Yes. {"like": false}', "no", "JSON object"),  # a JSON answer comes first
    ],
)
def test_clear_leading_answers_still_parse(text: str, expected: str, detail: str) -> None:
    a = parse_text(YES_NO, text)
    assert (a.status, a.value, a.detail) == ("parsed", expected, detail)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("B", "B"),
        ("b", "B"),
        ("(B)", "B"),
        ("Answer: B", "B"),
        ("Option B.", "B"),
        ("B) Keep quiet to protect the team", "B"),
        ("A. I would tell the truth.", "A"),
        ("A good choice here is option C.", "C"),
        ("I would tell the truth to the manager.", "A"),
        ('{"choice": "C"}', "C"),
        ("[A]", "A"),
    ],
)
def test_choice_parsed(text: str, expected: str) -> None:
    a = parse_text(CHOICE, text)
    assert a.status == "parsed", a.detail
    assert a.value == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("(A) or (B), hard to say", "several options"),
        ("A good question.", "no option label"),
        ("Option D", "no option label"),
    ],
)
def test_choice_unparsed(text: str, reason: str) -> None:
    a = parse_text(CHOICE, text)
    assert a.status == "unparsed"
    assert reason in (a.detail or "")


def test_error_response_is_error_not_unparsed() -> None:
    a = parse_answer(LIKERT, _resp(error="HTTP 500"))
    assert a.status == "error" and a.value is None and "HTTP 500" in (a.detail or "")


def test_logprobs_softmax_argmax_and_expected_rating() -> None:
    # Three options with log-likelihoods log(0.2), log(0.3), log(0.5) -> probs 0.2, 0.3, 0.5.
    probe = Probe(
        id="p3", text="t", format=AnswerFormat(kind="likert", scale_min=1, scale_max=3), keys={"PO": 1}
    )
    lps = [math.log(0.2), math.log(0.3), math.log(0.5)]
    # Reversed rendering: option 0 means 3, option 2 means 1.
    a = parse_answer(probe, _resp("2", option_logprobs=lps), [3, 2, 1])
    assert a.method == "logprob" and a.status == "parsed"
    assert a.value == 1.0
    assert a.probs == pytest.approx([0.2, 0.3, 0.5])
    # expected = 0.2*3 + 0.3*2 + 0.5*1 = 1.7
    assert a.expected == pytest.approx(1.7)


def test_logprobs_likert_option_values_as_strings() -> None:
    a = parse_answer(LIKERT, _resp(option_logprobs=[-3.0, -1.0]), ["5", "6"])
    assert a.value == 6.0
    # probs 1/(1+e^2) and e^2/(1+e^2); expected = 5 + e^2/(1+e^2) = 5.8808
    assert a.expected == pytest.approx(5 + math.exp(2) / (1 + math.exp(2)))
    with pytest.raises(ValueError, match="not a number"):
        parse_answer(LIKERT, _resp(option_logprobs=[-3.0, -1.0]), ["five", "six"])


def test_logprobs_yes_no_and_opt_out() -> None:
    lps = [-0.1, -2.5]
    a = parse_answer(YES_NO, _resp("No", option_logprobs=lps), ["No", "Yes"])
    assert (a.status, a.value, a.method, a.expected) == ("parsed", "no", "logprob", None)
    b = parse_answer(YES_NO, _resp("Yes", option_logprobs=lps), ["No", "Yes"], use_logprobs=False)
    assert (b.value, b.method) == ("yes", "text")
    c = parse_answer(YES_NO, _resp("Yes", option_logprobs=lps))  # no option values -> text
    assert c.method == "text"


def test_logprobs_tie_is_unparsed_and_nonfinite_falls_back_to_text() -> None:
    a = parse_answer(YES_NO, _resp("", option_logprobs=[-1.0, -1.0]), ["yes", "no"])
    assert a.status == "unparsed" and "tie" in (a.detail or "") and a.probs == [0.5, 0.5]
    b = parse_answer(YES_NO, _resp("Yes.", option_logprobs=[float("nan"), -1.0]), ["yes", "no"])
    assert b.status == "parsed" and b.method == "text" and b.value == "yes"
    assert "not finite" in (b.detail or "")


def test_logprobs_length_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="2 option log-likelihoods but 3 option values"):
        parse_answer(YES_NO, _resp(option_logprobs=[-1.0, -2.0]), ["yes", "no", "unsure"])


def test_tally_counts_every_outcome() -> None:
    answers = [
        ParsedAnswer(status="parsed", value=1.0),
        ParsedAnswer(status="unparsed"),
        ParsedAnswer(status="unparsed"),
        ParsedAnswer(status="error"),
    ]
    assert tally(answers) == {"parsed": 1, "unparsed": 2, "error": 1}
