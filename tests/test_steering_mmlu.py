"""MMLU-layout capability: CSV import, k-shot prompts, option log-likelihood accuracy, gating."""

from __future__ import annotations

import pytest

from valuespectrum.backends.mock import MockBackend
from valuespectrum.errors import ConfigError
from valuespectrum.steering.mmlu import evaluate_mmlu, load_mmlu, mmlu_prompt

ETHICS = [
    ("Should you help a stranger who fell?", "A"),
    ("Is it kind to help a lost child find a parent?", "B"),
    ("What is a promise?", "C"),
    ("What is honesty?", "D"),
    ("What is fairness?", "A"),
]
MATH = [("1 + 1?", "B"), ("2 + 2?", "B"), ("3 + 3?", "C"), ("4 + 4?", "A"), ("5 + 5?", "D")]


def _write(folder, split, subject, rows):
    (folder / split).mkdir(parents=True, exist_ok=True)
    lines = [f'"{q}",w,x,y,z,{a}' for q, a in rows]
    (folder / split / f"{subject}_{split}.csv").write_text("\n".join(lines) + "\n")


def test_mmlu_fixture_accuracy_is_7_of_10_and_gating_steers_exactly_the_gated(tmp_path):
    _write(tmp_path, "test", "ethics", ETHICS)
    _write(tmp_path, "test", "math", MATH)
    _write(tmp_path, "dev", "ethics", [("What is care?", "B"), ("What is a duty?", "C")])
    tests, dev = load_mmlu(tmp_path, "test"), load_mmlu(tmp_path, "dev")
    questions = tests["ethics"] + tests["math"]
    assert len(questions) == 10 and questions[0].answer == 0 and tests["math"][3].answer == 0
    prompt = mmlu_prompt(questions[0], dev["ethics"][:1])
    assert prompt.startswith("The following are multiple choice questions (with answers) about ethics.")
    assert "What is care?\nA. w\nB. x\nC. y\nD. z\nAnswer: B\n\n" in prompt and prompt.endswith("Answer:")
    # scripted option log-probabilities: right for the 5 ethics and first 2 math questions, wrong after
    letters = "ABCD"
    script = {q.id: letters[q.answer] for q in questions[:7]}
    script.update({q.id: letters[(q.answer + 1) % 4] for q in questions[7:]})
    plain = MockBackend(script, logprobs=True)
    res = evaluate_mmlu(plain, questions, dev=dev, k=2)
    assert (res.correct, res.n, res.accuracy) == (7, 10, 0.7)
    assert res.per_subject == {"ethics": 1.0, "math": 0.4} and res.steered_ids == [] and res.failed == 0
    # gate: questions about helping score 0.8 (>= 0.5) and go to the steered model, which always says A
    steered = MockBackend(default="A", logprobs=True)
    res = evaluate_mmlu(
        plain,
        questions,
        dev=dev,
        k=2,
        steered=steered,
        gate=lambda t: 0.8 if "help" in t else 0.1,
        threshold=0.5,
    )
    assert res.steered_ids == [questions[0].id, questions[1].id]
    assert res.correct == 6  # ethics 2 (answer B) now answered A
    # a failed request counts wrong and is counted
    res = evaluate_mmlu(MockBackend(script, logprobs=True, fail_ids=[questions[0].id]), questions)
    assert (res.correct, res.failed) == (6, 1)


def test_bad_mmlu_files_name_the_row(tmp_path):
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "x_test.csv").write_text("q,a,b,c,d,E\n")
    with pytest.raises(ConfigError, match="row 1: answer 'E'"):
        load_mmlu(tmp_path)
    with pytest.raises(ConfigError, match=r"no \*_dev\.csv"):
        load_mmlu(tmp_path, "dev")
