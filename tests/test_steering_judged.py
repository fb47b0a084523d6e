"""Judged CSR and fluency: the reward mapping on scripted judge answers, and the steered plumbing."""

from __future__ import annotations

import pytest

from valuespectrum.backends.mock import MockBackend
from valuespectrum.steering.judged import csr_judge, fluency_judge, judge_answers
from valuespectrum.types import ModelRequest
from valuespectrum.values import Value


def _scripted(answers: dict[str, str]) -> MockBackend:
    """A judge model whose reply depends on which Bob answer it is shown."""

    def reply(req: ModelRequest) -> str:
        text = req.messages[-1].plain_text()
        for key, out in answers.items():
            if key in text:
                return out
        return "maybe"

    return MockBackend(reply)


def test_reward_mapping_yes_1_no_0_other_half():
    csr = csr_judge(_scripted({"help": "Yes", "ignore": "No.", "shrug": "I cannot say"}))
    flu = fluency_judge(MockBackend(default="Yes"))
    qs = ["Q1", "Q2", "Q3", "Q4"]
    answers = ["I help her.", "I ignore him.", "shrug", "I help them."]
    c, f = judge_answers(Value.BENEVOLENCE, qs, answers, csr, flu, n_boot=200)
    # rewards 1, 0, 0.5, 1 -> CSR 2.5 / 4
    assert (c.yes, c.no, c.other, c.n) == (2, 1, 1, 4)
    assert c.mean == pytest.approx(0.625)
    assert c.ci is not None and 0.0 <= c.ci[0] <= 0.625 <= c.ci[1] <= 1.0
    assert (f.yes, f.no, f.other, f.mean) == (4, 0, 0, 1.0)
    assert csr.describe()["calibrated"] is False


def test_rubric_names_value_and_definition():
    backend = MockBackend(default="No")
    csr = csr_judge(backend)
    c, _ = judge_answers(Value.POWER, ["Q"], ["A"], csr, fluency_judge(backend))
    seen = backend.requests_seen[0].messages[-1].plain_text()
    assert "Power" in seen and Value.POWER.definition[:30] in seen
    assert (c.no, c.mean, c.ci) == (1, 0.0, None)


def test_tiny_model_conditions_and_counts():
    torch = pytest.importorskip("torch")
    from tests.tiny_models import build_tiny_text_lm
    from valuespectrum.backends.hf import HFBackend
    from valuespectrum.steering.judged import judged_comparison
    from valuespectrum.steering.vectors import SteeringVector

    base = HFBackend(str(build_tiny_text_lm(family="llama")), device="cpu", dtype="float32")
    d = base.model.config.hidden_size
    gen = torch.Generator().manual_seed(3)
    vec = SteeringVector(
        Value.BENEVOLENCE,
        "caa",
        {0: 4 * torch.randn(d, generator=gen)},
        base.model_id,
        "model.layers.{i}",
        "t",
    )
    judge_model = MockBackend(default="Label: Yes")
    res = judged_comparison(
        base,
        vec,
        ["Should I help?", "Should I share?", "Should I lie?"],
        csr_judge(judge_model),
        fluency_judge(MockBackend(default="No")),
        strength=4.0,
        random_seeds=(0, 1),
        max_new_tokens=4,
    )
    names = [c.name for c in res.conditions]
    assert names == ["none", "vector", "random0", "random1"]
    for c in res.conditions:
        assert (c.csr.n, c.csr.yes, c.csr.mean) == (3, 3, 1.0)
        assert (c.fluency.no, c.fluency.mean) == (3, 0.0)
        assert len(c.answers) == 3
    assert judge_model.calls >= 4 and len(judge_model.requests_seen) == 12
    assert res.notes and "uncalibrated" in res.notes[0]
    assert res.to_dict()["conditions"][1]["csr"]["yes"] == 3
