"""ConVA gated steering: the min-norm shift reaches p0, leaves confident inputs alone, obeys the gate."""

from __future__ import annotations

import math

import pytest

from valuespectrum.steering.gated import min_norm_shift, probe_gate, probe_probability

torch = pytest.importorskip("torch")


def test_min_norm_shift_reaches_p0_and_is_minimal():
    gen = torch.Generator().manual_seed(3)
    w = torch.randn(8, generator=gen)
    b = 0.3
    h = torch.randn(2, 5, 8, generator=gen) * 2
    p0 = 0.9
    before = probe_probability(h, w, b)
    after_h = min_norm_shift(h, w, b, p0)
    after = probe_probability(after_h, w, b)
    low = before < p0
    assert low.any() and (~low).any()
    assert torch.allclose(after[low].double(), torch.full_like(after[low].double(), p0), atol=1e-4)
    assert torch.equal(after_h[~low], h[~low])  # already confident: untouched
    # the move is along w with length (logit(p0) - b - w.h) / ||w||
    moved = (after_h - h)[low]
    expected_len = (math.log(p0 / (1 - p0)) - b - h[low] @ w) / w.norm()
    assert torch.allclose(moved.norm(dim=-1), expected_len, atol=1e-4)
    cos = (moved @ w) / (moved.norm(dim=-1) * w.norm())
    assert torch.allclose(cos, torch.ones_like(cos), atol=1e-5)


def test_gated_mode_on_tiny_model_reaches_p0_at_layer_and_respects_gate():
    from tests.tiny_models import load_tiny_text_lm
    from valuespectrum.steering.apply import steer
    from valuespectrum.steering.vectors import SteeringVector
    from valuespectrum.values import Value

    _, model, tok = load_tiny_text_lm("llama", padding_side="left")
    d = model.config.hidden_size
    w = torch.randn(d, generator=torch.Generator().manual_seed(0))
    vec = SteeringVector(Value.UNIVERSALISM, "probe", {1: w}, "tiny", "model.layers.{i}", "d", {1: -2.0})
    enc = tok(["protect the river", "hello"], return_tensors="pt", padding=True)
    seen: list = []
    rec = model.model.norm.register_forward_hook(lambda m, i, o: seen.append(i[0].clone()))
    try:
        with torch.no_grad():
            plain = model(**enc).logits
            with steer(model, vec, mode="gated", p0=0.8):
                model(**enc)
            # gate: only the second sequence counts as value-relevant
            with steer(model, vec, mode="gated", p0=0.8, gate=lambda h: torch.tensor([False, True])) as stats:
                model(**enc)
            after = model(**enc).logits
    finally:
        rec.remove()
    raw, all_shifted, gated = seen[0], seen[1], seen[2]
    mask = enc["attention_mask"].bool()
    p = probe_probability(all_shifted, w, -2.0)[mask]
    p_raw = probe_probability(raw, w, -2.0)[mask]
    target = torch.where(p_raw < 0.8, torch.full_like(p, 0.8), p_raw)
    assert torch.allclose(p.double(), target.double(), atol=1e-4)
    assert torch.equal(gated[0], raw[0]) and torch.allclose(gated[1], all_shifted[1])
    assert stats == {"steered_sequences": 1, "seen_sequences": 2}
    assert torch.equal(plain, after)


def test_probe_gate_reads_last_position():
    w = torch.tensor([1.0, 0.0])
    gate = probe_gate(w, 0.0, threshold=0.5)
    h = torch.tensor([[[-5.0, 0.0], [5.0, 0.0]], [[5.0, 0.0], [-5.0, 0.0]]])
    assert gate(h).tolist() == [True, False]
