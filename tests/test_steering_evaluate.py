"""Steering evaluation: readout arithmetic, and a tiny-model run that carries every control."""

from __future__ import annotations

import math
import statistics

import pytest

from tests.recording import Recording
from valuespectrum.personas import builtin_personas
from valuespectrum.probes.render import render_probe
from valuespectrum.probes.schema import AnswerFormat, Probe
from valuespectrum.steering.quality import CAPABILITY_ITEMS, capability_accuracy, repetition_rate
from valuespectrum.steering.readout import keyed_scores
from valuespectrum.values import Value

torch = pytest.importorskip("torch")


def test_likert_readout_undoes_reversed_labels():
    probe = Probe(
        id="p", text="They like to decide for themselves.", format=AnswerFormat.likert6(), keys={"SD": 1}
    )
    # all mass on presented "2": forward means rating 2, reversed means rating 5
    lps = [math.log(1e-12)] * 6
    lps[1] = 0.0
    fwd = keyed_scores(render_probe(probe), lps)[Value.SELF_DIRECTION]
    rev = keyed_scores(render_probe(probe, reverse_labels=True), lps)[Value.SELF_DIRECTION]
    assert fwd == pytest.approx(100 * (2 - 1) / 5, abs=1e-6)
    assert rev == pytest.approx(100 * (5 - 1) / 5, abs=1e-6)
    # a reverse-keyed item flips the score
    neg = probe.model_copy(update={"keys": {Value.SELF_DIRECTION: -1.0}})
    assert keyed_scores(render_probe(neg), lps)[Value.SELF_DIRECTION] == pytest.approx(80.0, abs=1e-6)


def test_yes_no_readout_is_normalised_p_yes_in_either_order():
    probe = Probe(id="y", text="Do you like this?", format=AnswerFormat.yes_no(), keys={"Power": 1})
    p_yes, p_no = 0.3, 0.1  # unnormalised: P(yes) = 0.75 after renormalising
    fwd = keyed_scores(render_probe(probe), [math.log(p_yes), math.log(p_no)])
    rev = keyed_scores(render_probe(probe, reverse_labels=True), [math.log(p_no), math.log(p_yes)])
    assert fwd[Value.POWER] == pytest.approx(75.0) and rev[Value.POWER] == pytest.approx(75.0)


def test_repetition_rate_and_capability_scoring_by_hand():
    # 3-grams of "a b c a b c": abc bca cab abc -> one repeat of four
    assert repetition_rate("a b c a b c") == pytest.approx(0.25)
    assert repetition_rate("two words") == 0.0
    perfect = [[0.0 if k == ans else -5.0 for k in range(len(opts))] for _, opts, ans in CAPABILITY_ITEMS]
    assert capability_accuracy(perfect) == 1.0
    half = [p if i % 2 == 0 else None for i, p in enumerate(perfect)]
    assert capability_accuracy(half) == 0.5


def _probes() -> list[Probe]:
    out = []
    for k, v in enumerate(Value):
        out.append(
            Probe(
                id=f"l{k}",
                text=f"It matters to them: {v.definition}",
                format=AnswerFormat.likert6(),
                keys={v: 1},
            )
        )
    out.append(
        Probe(id="y0", text="Do you like helping friends?", format=AnswerFormat.yes_no(), keys={"BE": 1})
    )
    return out


def test_tiny_model_report_carries_all_controls():
    from tests.tiny_models import build_tiny_text_lm
    from valuespectrum.backends.hf import HFBackend
    from valuespectrum.steering.evaluate import evaluate_steering
    from valuespectrum.steering.vectors import SteeringVector

    backend = Recording(HFBackend(str(build_tiny_text_lm(family="llama")), device="cpu", dtype="float32"))
    d = backend.model.config.hidden_size
    vec = SteeringVector(
        Value.BENEVOLENCE,
        "caa",
        {1: torch.randn(d, generator=torch.Generator().manual_seed(5))},
        backend.model_id,
        "model.layers.{i}",
        "sha256:x",
    )
    report = evaluate_steering(backend, _probes(), [vec], [6.0], seed=1, n_random=3, fluency_tokens=8)
    kinds = [c.kind for c in report.conditions]
    assert kinds == ["baseline", "neutral_persona", "persona", "steer", "random", "random", "random"]
    # both label orders for every probe in every condition
    probe_reqs = [r for r in backend.requests if "probe_id" in r.metadata]
    assert len(probe_reqs) == 7 * 2 * len(_probes())
    assert sum(r.metadata["reverse_labels"] for r in probe_reqs) == 7 * len(_probes())
    # the persona conditions use the built-in persona texts, exactly as `vspec run` does
    systems = {r.messages[0].plain_text() for r in probe_reqs if r.messages[0].role == "system"}
    lib = builtin_personas()
    assert systems == {lib["neutral"].system_prompt(), lib["value-benevolence"].system_prompt()}

    (eff,) = report.effects
    base, steered = report.condition("baseline"), report.condition("steer:Benevolence:caa:6")
    rand = [c for c in report.conditions if c.kind == "random"]
    be = Value.BENEVOLENCE
    assert eff.target_delta == pytest.approx(steered.profile[be] - base.profile[be])
    assert eff.random_deltas == pytest.approx([c.profile[be] - base.profile[be] for c in rand])
    z = (eff.target_delta - statistics.fmean(eff.random_deltas)) / statistics.stdev(eff.random_deltas)
    assert eff.z_vs_random == pytest.approx(z)
    assert set(eff.side_effects) == set(Value) - {be}
    persona, neutral = report.condition("persona:Benevolence"), report.condition("neutral_persona")
    assert eff.persona_delta == pytest.approx(persona.profile[be] - neutral.profile[be])
    # quality proxies on the main conditions, skipped for random draws
    assert base.capability is not None and 0.0 <= base.capability <= 1.0
    assert base.fluency is not None and base.fluency.perplexity is not None and base.fluency.perplexity > 1.0
    assert eff.perplexity_ratio is not None and eff.capability_delta is not None
    assert all(c.capability is None and c.fluency is None for c in rand)
    assert base.order_r is None or -1.0 <= base.order_r <= 1.0
    text = report.summary_text()
    assert "random" in text and "z =" in text and "label orders averaged" in text
    # the model is unsteered afterwards
    assert all(not m._forward_hooks for m in backend.model.model.layers)
