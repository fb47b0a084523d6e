"""Whole-input detectors for gated steering, on a tiny random model.

Rejected inputs must come out bit-identical to unsteered ones; accepted ones are shifted to
p0 at the steered layer; batched and single inputs gate alike; the evaluation routes requests
by the detector and records the steered share.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.recording import Recording
from valuespectrum.errors import ConfigError
from valuespectrum.steering.detector import InputDetector, PooledGate
from valuespectrum.steering.gated import probe_probability
from valuespectrum.steering.vectors import SteeringVector
from valuespectrum.values import Value

torch = pytest.importorskip("torch")

TEXTS = [
    "protect the river and the forest for everyone",
    "hello",
    "win the contest and gain status over others today",
    "keep traditions of the family",
]


@pytest.fixture(scope="module")
def tiny():
    from tests.tiny_models import load_tiny_text_lm

    return load_tiny_text_lm("llama", padding_side="left")


def _probe_vector(d: int) -> SteeringVector:
    gen = torch.Generator().manual_seed(11)
    return SteeringVector(
        Value.UNIVERSALISM,
        "probe",
        {0: torch.randn(d, generator=gen), 1: torch.randn(d, generator=gen)},
        "tiny",
        "model.layers.{i}",
        "sha256:test",
        {0: 0.0, 1: -2.0},
    )


def _split_detector(model, tok, vec: SteeringVector, pooling: str) -> tuple[InputDetector, list[bool]]:
    """A detector on layer 0 whose threshold sits between the 2nd and 3rd highest probabilities."""
    det = InputDetector.from_vector(vec, layer=0, pooling=pooling)  # type: ignore[arg-type]
    probs = det.probabilities(model, tok, TEXTS)
    hi = sorted(probs, reverse=True)
    det.threshold = (hi[1] + hi[2]) / 2
    accept = det.decide(model, tok, TEXTS)
    assert sum(accept) == 2, probs
    return det, accept


@pytest.mark.parametrize("pooling", ["mean", "last"])
def test_rejected_inputs_bit_identical_accepted_reach_p0(tiny, pooling):
    from valuespectrum.steering.apply import steer

    _, model, tok = tiny
    vec = _probe_vector(model.config.hidden_size)
    det, accept = _split_detector(model, tok, vec, pooling)
    enc = tok(TEXTS, return_tensors="pt", padding=True)
    p0 = 0.95
    seen: list = []

    def record(_m, _i, o):
        seen.append(o.clone())

    with torch.no_grad():
        rec = model.model.layers[1].register_forward_hook(record)
        try:
            plain = model(**enc).logits
        finally:
            rec.remove()
        with steer(model, vec, mode="gated", p0=p0, layers=[1], gate=det.gate(), gate_layer=0) as stats:
            rec = model.model.layers[1].register_forward_hook(record)  # runs after the steering hook
            try:
                steered = model(**enc).logits
            finally:
                rec.remove()
        after = model(**enc).logits
    assert stats == {"steered_sequences": 2, "seen_sequences": 4}
    raw, shifted = seen
    mask = enc["attention_mask"].bool()
    for row, ok in enumerate(accept):
        if not ok:
            assert torch.equal(steered[row], plain[row]) and torch.equal(shifted[row], raw[row])
            continue
        p_raw = probe_probability(raw[row][mask[row]], vec.layers[1], -2.0).double()
        p = probe_probability(shifted[row][mask[row]], vec.layers[1], -2.0).double()
        assert (p_raw < p0).any()
        target = torch.where(p_raw < p0, torch.full_like(p_raw, p0), p_raw)
        assert torch.allclose(p, target, atol=1e-4)
    assert torch.equal(plain, after)  # restored


def test_hook_decision_matches_detector_and_batch_matches_single(tiny):
    from valuespectrum.steering.apply import steer

    _, model, tok = tiny
    vec = _probe_vector(model.config.hidden_size)
    det, accept = _split_detector(model, tok, vec, "mean")
    enc = tok(TEXTS, return_tensors="pt", padding=True)
    with torch.no_grad(), steer(model, vec, mode="gated", p0=0.9, layers=[1], gate=det.gate(), gate_layer=0):
        batched = model(**enc).logits[:, -1]
        singles = [model(**tok([t], return_tensors="pt")).logits[0, -1] for t in TEXTS]
    for row in range(len(TEXTS)):
        assert torch.allclose(batched[row], singles[row], atol=1e-4)
    # the pooled gate decides exactly as the request-level detector
    captured = []
    h = model.model.layers[0].register_forward_hook(lambda m, i, o: captured.append(o))
    try:
        with torch.no_grad():
            model(**enc)
    finally:
        h.remove()
    assert det.gate()(captured[0], enc["attention_mask"]).tolist() == accept


def test_pooled_gate_hand_example():
    # mean over real tokens only: row 0 is [pad, 1, 3] -> mean 2 > 1.5; row 1 is [0, 1, 1] -> 2/3
    gate = PooledGate(torch.tensor([1.0]), -1.5, "mean", 0.5)
    h = torch.tensor([[[100.0], [1.0], [3.0]], [[0.0], [1.0], [1.0]]])
    m = torch.tensor([[0, 1, 1], [1, 1, 1]])
    assert gate(h, m).tolist() == [True, False]
    # last real token with right padding: row 0 is [1, 3, pad] -> 3; row 1 -> 1
    last = PooledGate(torch.tensor([1.0]), -2.0, "last", 0.5)
    h2 = torch.tensor([[[1.0], [3.0], [-50.0]], [[4.0], [0.0], [1.0]]])
    assert last(h2, torch.tensor([[1, 1, 0], [1, 1, 1]])).tolist() == [True, False]


def test_detector_needs_a_probe_layer_and_valid_threshold():
    caa = SteeringVector(Value.POWER, "caa", {1: torch.ones(4)}, "m", "model.layers.{i}", "d")
    with pytest.raises(ConfigError, match="needs a probe vector"):
        InputDetector.from_vector(caa, source="power-caa.json")
    probe = SteeringVector(Value.POWER, "probe", {1: torch.ones(4)}, "m", "model.layers.{i}", "d", {1: 0.0})
    with pytest.raises(ConfigError, match=r"layer 3 is not in the probe's layers \[1\]"):
        InputDetector.from_vector(probe, layer=3)
    with pytest.raises(ConfigError, match="threshold"):
        InputDetector.from_vector(probe, threshold=1.0)


def test_evaluation_routes_requests_by_detector(tiny):
    from valuespectrum.backends.hf import HFBackend
    from valuespectrum.probes.render import render_probe
    from valuespectrum.probes.schema import AnswerFormat, Probe
    from valuespectrum.steering.detector import request_text
    from valuespectrum.steering.evaluate import evaluate_steering

    path, _, _ = tiny
    backend = Recording(HFBackend(str(path), device="cpu", dtype="float32"))
    model = backend.model
    vec = _probe_vector(model.config.hidden_size)
    probes = [
        Probe(id=f"p{k}", text=f"{t}: is this like you?", format=AnswerFormat.likert6(), keys={v: 1})
        for k, (t, v) in enumerate(
            zip(TEXTS, [Value.UNIVERSALISM, Value.POWER, Value.ACHIEVEMENT, Value.TRADITION], strict=True)
        )
    ]
    rendered = [render_probe(p, None, reverse_labels=rev) for rev in (False, True) for p in probes]
    det = InputDetector.from_vector(vec, layer=0, pooling="mean", source="own probe")
    probs = det.probabilities(model, backend.tokenizer, [request_text(r.request) for r in rendered])
    ranked = sorted(probs, reverse=True)
    det.threshold = (ranked[3] + ranked[4]) / 2  # half of the 8 requests pass
    report = evaluate_steering(
        backend,
        probes,
        [vec],
        [0.97],
        controls=False,
        mode="gated",
        fluency=False,
        capability=False,
        detectors={Value.UNIVERSALISM: det},
    )
    n = len(rendered)
    # request ids are the run's record ids, MODEL|PERSONA|PROBE|ORDER: compare by what follows MODEL
    log = [
        (r.request_id, o.option_logprobs) for r, o in zip(backend.requests, backend.responses, strict=True)
    ]
    base_log = {rid.split("|", 1)[1]: lps for rid, lps in log[:n]}
    steer_log = {rid.split("|", 1)[1]: lps for rid, lps in log[n:]}
    accepted = {
        f"none|{r.presented.id}|{'rev' if r.request.metadata['reverse_labels'] else 'fwd'}"
        for r, p in zip(rendered, probs, strict=True)
        if p > det.threshold
    }
    assert len(accepted) == 4 and len(base_log) == len(steer_log) == n
    for rid in base_log:
        if rid in accepted:
            assert steer_log[rid] != base_log[rid]
        else:
            assert steer_log[rid] == base_log[rid]  # bit-identical: the request ran unsteered
    assert report.condition("steer:Universalism:probe:0.97").steered_share == pytest.approx(4 / 8)
    assert report.condition("baseline").steered_share is None
    (gate,) = report.gates
    assert (gate.value, gate.layer, gate.pooling, gate.source) == (Value.UNIVERSALISM, 0, "mean", "own probe")
    assert "share of probe requests steered: 50%" in report.summary_text()
    with pytest.raises(ConfigError, match="only used with mode='gated'"):
        evaluate_steering(backend, probes, [vec], [1.0], detectors={Value.UNIVERSALISM: det})


def test_eval_manifest_gate_errors_name_the_field(tmp_path):
    from valuespectrum.steering.manifest import EvalManifest, load_manifest

    base = "model: m\nvectors: [v.json]\nprobes: b.json\nout: o\n"
    (tmp_path / "a.yaml").write_text(base + "multipliers: [2.0]\ngate: {threshold: 0.7}\n")
    with pytest.raises(ConfigError, match=r"a\.yaml: .*'gate' is only used with mode: gated"):
        load_manifest(tmp_path / "a.yaml", EvalManifest)
    (tmp_path / "b.yaml").write_text(base + "mode: gated\nmultipliers: [2.0]\n")
    with pytest.raises(ConfigError, match=r"b\.yaml: .*p0 targets"):
        load_manifest(tmp_path / "b.yaml", EvalManifest)
    (tmp_path / "c.yaml").write_text(base + "mode: gated\nmultipliers: [0.9]\ngate: {threshold: 1.5}\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: field 'gate\.threshold'"):
        load_manifest(tmp_path / "c.yaml", EvalManifest)
    (tmp_path / "d.yaml").write_text(
        base + "mode: gated\nmultipliers: [0.9]\ngate: {pooling: last, layer: 1}\n"
    )
    m = load_manifest(tmp_path / "d.yaml", EvalManifest)
    assert m.gate is not None and (m.gate.pooling, m.gate.layer, m.gate.threshold) == ("last", 1, 0.5)


def test_detector_pooling_follows_the_probe_training_position() -> None:
    vec = _probe_vector(8)
    trained_last = replace(vec, metadata={**vec.metadata, "position": "last"})
    assert InputDetector.from_vector(trained_last, layer=0).pooling == "last"
    trained_mean = replace(vec, metadata={**vec.metadata, "position": "mean"})
    assert InputDetector.from_vector(trained_mean, layer=0).pooling == "mean"
    with pytest.raises(ConfigError, match="trained on 'last' activations but the gate reads 'mean'"):
        InputDetector.from_vector(trained_last, layer=0, pooling="mean")
