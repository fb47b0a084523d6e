"""AdAEM: divergences, the bandit, ratings and item quality by hand; the loop and its trace on
scripted mocks; the CLI on the example manifests."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from valuespectrum.backends.mock import MockBackend
from valuespectrum.designs.adaem.bandit import UCB
from valuespectrum.designs.adaem.divergence import entropy, gjs, informativeness, js
from valuespectrum.designs.adaem.extract import ValueExtractor, opinions
from valuespectrum.designs.adaem.loop import AdaptiveLoop, Settings, Subject, clean_lines
from valuespectrum.designs.adaem.quality import self_bleu
from valuespectrum.designs.adaem.questions import load_questions
from valuespectrum.designs.adaem.rank import Rating, games, rank_value, rate_1vs1, win_rates
from valuespectrum.designs.adaem.trace import Trace
from valuespectrum.errors import ConfigError
from valuespectrum.types import ModelRequest

ROOT = Path(__file__).resolve().parents[1]


def test_divergences_by_hand() -> None:
    assert js([1, 0], [0, 1]) == pytest.approx(math.log(2), abs=1e-6)
    assert js([0.3, 0.7], [0.3, 0.7]) == pytest.approx(0.0, abs=1e-12)
    assert gjs([[1, 0, 0], [0, 1, 0], [0, 0, 1]]) == pytest.approx(math.log(3), abs=1e-6)
    assert entropy([1, 1, 1, 1]) == pytest.approx(math.log(4))
    # two identical models far from the question's own values: spread 0, distance ln 2 each
    assert informativeness([[1, 0], [1, 0]], [0, 1], beta=1.0) == pytest.approx(math.log(2), abs=1e-6)
    with pytest.raises(ValueError, match="non-negative"):
        js([-1, 2], [1, 0])


def test_ucb_choice_from_the_notes() -> None:
    bandit = UCB(budget=100)
    a, b = bandit.add("a"), bandit.add("b")
    a.pulls, a.total = 10, 5.0
    b.pulls, b.total = 1, 0.4
    assert bandit.score(a) == pytest.approx(0.5 + math.sqrt(2 * math.log(100) / 10), abs=1e-4)
    assert bandit.score(a) == pytest.approx(1.4597, abs=1e-4)
    assert bandit.score(b) == pytest.approx(3.4349, abs=1e-4)
    assert bandit.choose() is b
    fresh = bandit.add("c")
    assert bandit.choose() is fresh  # an arm never pulled goes first


def test_trueskill_reference_update_and_win_rates() -> None:
    w, loser = rate_1vs1(Rating(), Rating())
    assert (round(w.mu, 3), round(w.sigma, 3)) == (29.396, 7.171)
    assert (round(loser.mu, 3), round(loser.sigma, 3)) == (20.604, 7.171)
    presence = {
        "q1": {"a": {"Power": 1.0}, "b": {"Power": 0.0}, "c": {"Power": 0.0}},
        "q2": {"a": {"Power": 1.0}, "b": {"Power": 1.0}, "c": {"Power": 0.0}},
    }
    played = games(presence, "Power")
    assert played == [("a", "b"), ("a", "c"), ("a", "c"), ("b", "c")]
    assert win_rates(["a", "b", "c"], played) == {"a": 1.0, "b": 0.5, "c": 0.0}
    r = rank_value(presence, "Power", n_boot=50)
    assert r.ratings["a"].mu > r.ratings["b"].mu > r.ratings["c"].mu
    assert r.n_games == 4 and set(r.mu_ci) == {"a", "b", "c"}


def test_self_bleu() -> None:
    assert self_bleu(["the cat sat on the mat", "the cat sat on the mat"]) == pytest.approx(100.0)
    a = " ".join(f"alpha{i}" for i in range(20))
    b = " ".join(f"beta{i}" for i in range(20))
    disjoint = self_bleu([a, b])
    assert disjoint is not None and disjoint < 1.0
    assert self_bleu(["only one"]) is None


def _judge_script(req: ModelRequest) -> str:
    """Says yes when the judged text names the value's keyword."""
    body = req.messages[-1].content[0].text  # type: ignore[union-attr]
    value = body.split("Value: ", 1)[1].split(".", 1)[0]
    text = body.split("Text: ", 1)[1].split("\n\nDoes", 1)[0]
    keywords = {"Tradition": "custom", "Self-Direction": "freely", "Power": "power"}
    return "yes" if value in keywords and keywords[value] in text.casefold() else "no"


def test_extraction_or_aggregates_opinions() -> None:
    ex = ValueExtractor(MockBackend(_judge_script, logprobs=True))
    text = "We should keep the custom of our elders. People should also think freely about it."
    assert opinions(text) == [
        "We should keep the custom of our elders.",
        "People should also think freely about it.",
    ]
    ops, items = ex.items(text, "t")
    got = ex.combine(ops, ex.judge.grade(items))
    assert got.presence["Tradition"] == 1 and got.presence["Self-Direction"] == 1
    assert got.presence["Power"] == 0 and got.n_unread == 0
    # a judge whose text cannot be read leaves the value unread (None), never "no"
    unread = ValueExtractor(MockBackend(default="maybe"), mode="text")
    ops, items = unread.items(text, "u")
    res = unread.combine(ops, unread.judge.grade(items))
    assert set(res.presence.values()) == {None} and res.n_unread == 20


def _writer(req: ModelRequest) -> str:
    body = req.messages[-1].content[0].text  # type: ignore[union-attr]
    topic = body.split("Topic: ", 1)[1].split("\n", 1)[0]
    return f"1. What do you think about {topic} in daily life?\n2. Is {topic} good for young people today?"


def _subject(kind: str):
    def answer(req: ModelRequest) -> str:
        body = req.messages[-1].content[0].text  # type: ignore[union-attr]
        if "alpha" not in body:
            return "It depends on the situation and on the people involved."
        return (
            "We must keep the custom of our parents."
            if kind == "t"
            else "Everyone should live freely as they like."
        )

    return answer


def _loop(tmp: Path, budget: int = 3):
    gen = MockBackend(_writer, model_id="writer")
    s1, s2 = MockBackend(_subject("t"), model_id="s1"), MockBackend(_subject("f"), model_id="s2")
    judge = MockBackend(_judge_script, logprobs=True, model_id="judge")
    trace = Trace(tmp / "trace.jsonl", {"test": 1})
    loop = AdaptiveLoop(
        trace,
        [gen],
        [Subject("trad", s1), Subject("free", s2)],
        ValueExtractor(judge),
        Settings(budget=budget, n_questions=2, n_refine=0, subtopics=False),
    )
    return loop, (gen, s1, s2, judge)


def test_bandit_pulls_the_topic_where_models_disagree(tmp_path: Path) -> None:
    loop, _ = _loop(tmp_path)
    res = loop.run(["beta", "alpha"])
    pulls = [json.loads(x) for x in (tmp_path / "trace.jsonl").read_text().splitlines()]
    order = [e["topic"] for e in pulls if e.get("type") == "pull"]
    assert order == ["beta", "alpha", "alpha"]  # both unexplored first, then the informative one
    alpha = [q for q in res.questions if q.topic == "alpha"]
    beta = [q for q in res.questions if q.topic == "beta"]
    assert all(q.spread > 0.5 for q in alpha) and all(q.spread == pytest.approx(0, abs=1e-6) for q in beta)
    # the third pull repeats alpha's questions: they are not asked twice
    assert len(res.questions) == 4


def test_resume_from_a_torn_trace_equals_a_clean_run(tmp_path: Path) -> None:
    clean, _ = _loop(tmp_path / "clean")
    clean.run(["beta", "alpha"])
    full = (tmp_path / "clean" / "trace.jsonl").read_bytes()
    # a run killed mid-write: keep 60% of the file, cutting a line in half
    torn = tmp_path / "torn"
    torn.mkdir()
    (torn / "trace.jsonl").write_bytes(full[: int(len(full) * 0.6)])
    again, _ = _loop(torn)
    res = again.run(["beta", "alpha"])
    assert (torn / "trace.jsonl").read_bytes() == full
    assert res.calls_replayed > 0 and res.calls_made > 0
    # a finished trace replays with no model calls at all
    third, mocks3 = _loop(torn)
    res3 = third.run(["beta", "alpha"])
    assert res3.calls_made == 0 and sum(m.calls for m in mocks3) == 0
    assert (torn / "trace.jsonl").read_bytes() == full


def test_trace_refuses_other_settings(tmp_path: Path) -> None:
    Trace(tmp_path / "t.jsonl", {"a": 1})
    with pytest.raises(ConfigError, match="other settings"):
        Trace(tmp_path / "t.jsonl", {"a": 2})
    loop, _ = _loop(tmp_path / "x", budget=2)
    loop.run(["beta", "alpha"])
    other, _ = _loop(tmp_path / "x", budget=2)
    with pytest.raises(ConfigError, match="inputs changed"):
        other.run(["alpha", "beta"])  # same header, other topics order: diverges at once


def test_clean_lines_and_question_files(tmp_path: Path) -> None:
    assert clean_lines("1. Is this a good idea today?\n- ok\n* Should we plan for the future?") == [
        "Is this a good idea today?",
        "Should we plan for the future?",
    ]
    qs = load_questions(ROOT / "manifests" / "data" / "adaem" / "questions.csv")
    assert [q.id for q in qs] == ["q1", "q2", "q3", "q4"] and qs[2].topic == "city life"
    bad = tmp_path / "bad.csv"
    bad.write_text("id,topic\nx,work\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.csv: line 2 has no question"):
        load_questions(bad)


def _adaem(stage: str, out: Path) -> subprocess.CompletedProcess[str]:
    """``vspec adaem STAGE manifests/adaem_STAGE.yaml --out OUT``, run from OUT's parent."""
    manifest = ROOT / "manifests" / f"adaem_{stage}.yaml"
    return subprocess.run(
        [sys.executable, "-m", "valuespectrum", "adaem", stage, str(manifest), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=out.parent,
    )


def test_cli_runs_the_example_manifests_and_resumes(tmp_path: Path) -> None:
    gen = _adaem("generate", tmp_path / "g")
    assert gen.returncode == 0, gen.stderr
    summary = json.loads((tmp_path / "g" / "summary.json").read_text())
    assert summary["n_questions"] == 2 and summary["calls_replayed"] == 0
    assert summary["n_unread_judgments"] == 0 and (tmp_path / "g" / "report.html").exists()
    again = _adaem("generate", tmp_path / "g")
    assert again.returncode == 0 and "0 made" in again.stdout
    ev = _adaem("evaluate", tmp_path / "e")
    assert ev.returncode == 0, ev.stderr
    s = json.loads((tmp_path / "e" / "summary.json").read_text())
    assert s["quality"]["n_questions"] == 4 and s["n_judgments"] == 4 * 2 * 10
    assert "no model's answers express it" in ev.stdout


def test_extraction_in_another_value_system() -> None:
    ex = ValueExtractor(MockBackend(default="no", logprobs=True), system="mft6")
    assert ex.values == ["Care", "Fairness", "Loyalty", "Authority", "Sanctity", "Liberty"]
    _, items = ex.items("Protect the weak from harm at any cost.", "m")
    assert len(items) == 6 and "Caring for others" in ex.judge.messages(items[0]).__repr__()
