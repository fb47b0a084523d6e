"""Judges: option scoring on scripted log-likelihoods, the strict text parser, caching,
kappa on hand-computed tables and calibration against a labelled file."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from valuespectrum.backends.cache import CachedBackend
from valuespectrum.backends.mock import MockBackend
from valuespectrum.errors import ConfigError
from valuespectrum.judges import (
    UNCALIBRATED,
    Judge,
    JudgeItem,
    calibrate,
    cohen_kappa,
    parse_label,
    summarize,
)
from valuespectrum.types import ModelRequest, ModelResponse

RUBRIC = "Does the answer below put {value} first?\n\nQuestion: {question}\nAnswer: {answer}"


class ScriptedLogprobs:
    """A backend whose option log-likelihoods come from a script keyed by request id."""

    def __init__(self, script: dict[str, list[float] | None]) -> None:
        self.script = script
        self.calls = 0

    model_id = "scripted-logprobs"
    revision = None
    supports_option_logprobs = True
    supports_images = False

    def generate(self, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        self.calls += len(requests)
        return [
            ModelResponse(
                request_id=r.request_id, option_logprobs=self.script[r.request_id], model_id=self.model_id
            )
            for r in requests
        ]

    def close(self) -> None:
        return None


def item(i: str, answer: str = "I would help my neighbour.") -> JudgeItem:
    return JudgeItem(answer=answer, question="What would you do?", id=i, fields={"value": "Benevolence"})


def test_option_scoring_on_scripted_log_likelihoods() -> None:
    backend = ScriptedLogprobs(
        {
            "a": [-0.2, -1.8],  # Yes: p = 1 / (1 + e^-1.6) = 0.83202
            "b": [-3.0, -0.5],  # No: p(No) = 1 / (1 + e^-2.5) = 0.92414
            "c": [-1.0, -1.0],  # tie: unparsed
            "d": [-math.inf, -math.inf],
            "e": None,
        }
    )
    judge = Judge(backend, RUBRIC, ["Yes", "No"])
    assert judge.method == "options"
    out = judge.grade([item(k) for k in "abcde"])
    assert [j.label for j in out] == ["Yes", "No", None, None, None]
    assert [j.status for j in out] == ["parsed", "parsed", "unparsed", "unparsed", "unparsed"]
    assert out[0].probs == pytest.approx([0.83202, 0.16798], abs=1e-5)
    assert out[1].probs == pytest.approx([0.07586, 0.92414], abs=1e-5)
    assert out[2].detail == "tie between Yes, No"
    assert out[3].detail == "every option log-likelihood is -inf"
    assert out[4].detail == "no option log-likelihoods in the response"
    # every judgment keeps the prompt it was given, rubric filled in
    prompt = out[0].messages[-1].plain_text()
    assert "put Benevolence first" in prompt and "Answer: I would help my neighbour." in prompt
    assert prompt.endswith("Answer with exactly one of: Yes, No.")
    s = summarize(judge, out)
    assert (s["n_parsed"], s["n_unparsed"], s["counts"]) == (2, 3, {"Yes": 1, "No": 1})
    assert s["calibrated"] is False and s["calibration"] == UNCALIBRATED


def test_mock_logprobs_and_cache_path(tmp_path: Path) -> None:
    mock = MockBackend(lambda r: "No" if "steal" in r.messages[-1].plain_text() else "Yes", logprobs=True)
    judge = Judge(mock, RUBRIC, ["Yes", "No"], cache=tmp_path / "cache.sqlite")
    items = [item("1"), item("2", "I would steal it."), item("3")]
    first = judge.grade(items, store=tmp_path / "judgments.jsonl")
    assert [j.label for j in first] == ["Yes", "No", "Yes"] and mock.calls == 3
    assert first[1].probs == [0.0, 1.0]  # the mock puts all mass on the scripted option
    again = judge.grade(items)
    assert mock.calls == 3 and all(j.cached for j in again)  # served from the response cache
    assert [j.label for j in again] == ["Yes", "No", "Yes"]
    assert isinstance(judge.backend, CachedBackend)
    stored = [json.loads(x) for x in (tmp_path / "judgments.jsonl").read_text().splitlines()]
    assert len(stored) == 3 and stored[1]["label"] == "No" and stored[1]["messages"][-1]["role"] == "user"
    assert stored[0]["request_key"] == first[0].request_key


@pytest.mark.parametrize(
    ("text", "label", "detail"),
    [
        ("Yes", "Yes", "exact label"),
        ("  **no**.\nBecause it is unkind.", "No", "exact label"),
        ("Label: Yes", "Yes", "exact label"),
        ('"YES"', "Yes", "exact label"),
        ("Yes, it does.", "Yes", "label then punctuation"),
        ("", None, "empty answer"),
        ("   \n  ", None, "empty answer"),
        ("Yes or No", None, "several labels on the first line"),
        ("Yes, no, maybe", None, "several labels on the first line"),
        ("I think yes", None, "a label inside other words (not alone on the first line)"),
        ("No one would do that", None, "a label inside other words (not alone on the first line)"),
        ("Maybe", None, "no label"),
        ("Yesterday", None, "no label"),
    ],
)
def test_strict_text_parser(text: str, label: str | None, detail: str) -> None:
    got = parse_label(text, ["Yes", "No"])
    assert (got.label, got.detail) == (label, detail)


def test_text_mode_counts_unparsed_and_failures() -> None:
    answers = {"a": "Yes.", "b": "Well, maybe", "c": "No"}
    mock = MockBackend(answers, fail_ids=["d"])
    judge = Judge(mock, RUBRIC, ["Yes", "No"])
    assert judge.method == "text"
    out = judge.grade([item(k) for k in "abcd"])
    assert [j.status for j in out] == ["parsed", "unparsed", "parsed", "error"]
    s = summarize(judge, out)
    assert (s["n_parsed"], s["n_unparsed"], s["n_failed"]) == (2, 1, 1)
    assert mock.requests_seen[0].config.temperature == 0.0 and mock.requests_seen[0].options is None


def test_bad_judge_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="at least two"):
        Judge(MockBackend(), RUBRIC, ["Yes"])
    with pytest.raises(ConfigError, match="must differ"):
        Judge(MockBackend(), RUBRIC, ["Yes", "yes"])
    with pytest.raises(ConfigError, match=r"\{answer\}"):
        Judge(MockBackend(), "Grade this.", ["Yes", "No"])
    with pytest.raises(ConfigError, match="no option log-likelihoods"):
        Judge(MockBackend(), RUBRIC, ["Yes", "No"], mode="options")
    judge = Judge(MockBackend(), RUBRIC, ["Yes", "No"])
    with pytest.raises(ConfigError, match=r"placeholder\(s\) \['value'\]"):
        judge.grade([JudgeItem(answer="x", id="q")])


def test_kappa_on_a_textbook_two_by_two() -> None:
    # 50 items; agreement (20 + 15) / 50 = 0.7; chance (25*30 + 25*20) / 50^2 = 0.5 -> kappa 0.4
    assert cohen_kappa([[20, 5], [10, 15]]) == pytest.approx(0.4)


def test_weighted_kappa_by_hand() -> None:
    table = [[5, 1, 0], [1, 4, 1], [0, 1, 7]]
    # N = 20, margins (6, 6, 8) both ways; p_o = 16/20 = 0.8, p_e = (36 + 36 + 64) / 400 = 0.34
    assert cohen_kappa(table) == pytest.approx((0.8 - 0.34) / (1 - 0.34))  # 0.69697
    # linear: sum w*O = 0.5 * 4 = 2; sum w*E = 0.5 * (1.8 + 1.8 + 2.4 + 2.4) + (2.4 + 2.4) = 9
    assert cohen_kappa(table, "linear") == pytest.approx(1 - 2 / 9)  # 0.77778
    # quadratic: sum w*O = 0.25 * 4 = 1; sum w*E = 0.25 * 8.4 + 4.8 = 6.9
    assert cohen_kappa(table, "quadratic") == pytest.approx(1 - 1 / 6.9)  # 0.85507
    sklearn = pytest.importorskip("sklearn.metrics")
    a = [i for i, row in enumerate(table) for j, c in enumerate(row) for _ in range(c)]
    b = [j for i, row in enumerate(table) for j, c in enumerate(row) for _ in range(c)]
    assert cohen_kappa(table, "quadratic") == pytest.approx(
        sklearn.cohen_kappa_score(a, b, weights="quadratic")
    )
    assert cohen_kappa([[3, 0], [0, 0]]) is None  # one category only: chance agreement is total


def test_calibrate_against_a_labelled_file(tmp_path: Path) -> None:
    # ordinal labels 1..3; the judge answers from a script, one answer unreadable
    rows = [
        ("a", "1", "1"),
        ("b", "1", "2"),
        ("c", "2", "2"),
        ("d", "2", "2"),
        ("e", "3", "3"),
        ("f", "3", "1"),
        ("g", "2", "two-ish"),
    ]
    f = tmp_path / "labelled.jsonl"
    f.write_text(
        "".join(
            json.dumps({"id": i, "answer": f"answer {i}", "label": h, "value": "Power"}) + "\n"
            for i, h, _ in rows
        )
    )
    judge = Judge(MockBackend({i: j for i, _, j in rows}), RUBRIC, ["1", "2", "3"], ordinal=True, name="j")
    cal = calibrate(judge, f)
    assert (cal.n, cal.n_parsed, cal.n_unparsed) == (7, 6, 1)
    # rows human, columns judge + unparsed
    assert cal.confusion == [[1, 1, 0, 0], [0, 2, 0, 1], [1, 0, 1, 0]]
    assert cal.exact == pytest.approx(4 / 6)
    assert cal.within_one == pytest.approx(5 / 6)  # only (3 -> 1) is two steps apart
    # parsed table [[1,1,0],[0,2,0],[1,0,1]]: N=6, rows (2,2,2), cols (2,3,1);
    # p_o = 4/6, p_e = (2*2 + 2*3 + 2*1)/36 = 1/3 -> kappa = (2/3 - 1/3) / (2/3) = 0.5
    assert cal.kappa == pytest.approx(0.5)
    assert cal.kappa_quadratic == pytest.approx(cohen_kappa([[1, 1, 0], [0, 2, 0], [1, 0, 1]], "quadratic"))
    assert judge.calibrated and judge.describe()["calibration"].startswith("calibrated on 7 labelled answers")
    bad = tmp_path / "bad.csv"
    bad.write_text("answer,label\nfine,4\n")
    with pytest.raises(ConfigError, match=r"bad.csv: line 2: field 'label' is '4'"):
        calibrate(judge, bad)
