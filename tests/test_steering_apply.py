"""Steering hooks on tiny random models: exact restoration, batching, layer templates."""

from __future__ import annotations

import pytest

from tests.tiny_models import build_tiny_vlm, load_tiny_text_lm
from valuespectrum.errors import ConfigError
from valuespectrum.steering.apply import steer
from valuespectrum.steering.layers import count_layers, layer_template_for, resolve_layers
from valuespectrum.steering.vectors import SteeringVector
from valuespectrum.values import Value

torch = pytest.importorskip("torch")


def _load(family: str = "llama"):
    _, model, tok = load_tiny_text_lm(family)
    return model, tok


def _vector(model, layers=(0, 1), seed=0, method="caa") -> SteeringVector:
    gen = torch.Generator().manual_seed(seed)
    d = model.config.get_text_config().hidden_size
    return SteeringVector(
        value=Value.BENEVOLENCE,
        method=method,
        layers={i: torch.randn(d, generator=gen) for i in layers},
        model_id="tiny",
        layer_template=layer_template_for(model),
        data_digest="sha256:test",
        probe_bias={i: 0.0 for i in layers} if method == "probe" else None,
    )


def _logits(model, tok, texts):
    tok.padding_side = "left"
    enc = tok(texts, return_tensors="pt", padding=True)
    with torch.no_grad():
        return model(**enc).logits, enc["attention_mask"]


@pytest.mark.parametrize("family", ["llama", "qwen2", "gemma"])
def test_steer_changes_then_restores_logits_exactly(family):
    model, tok = _load(family)
    vec = _vector(model)
    before, _ = _logits(model, tok, ["I help my friend move house."])
    with steer(model, vec, 4.0):
        during, _ = _logits(model, tok, ["I help my friend move house."])
    after, _ = _logits(model, tok, ["I help my friend move house."])
    assert not torch.allclose(before, during)
    assert torch.equal(before, after)
    assert all(not m._forward_hooks for m in resolve_layers(model, None, vec.layer_template).values())


def test_restores_after_exception_inside_block():
    model, tok = _load()
    vec = _vector(model)
    before, _ = _logits(model, tok, ["a test"])
    with pytest.raises(RuntimeError, match="boom"), steer(model, vec, 2.0):
        raise RuntimeError("boom")
    after, _ = _logits(model, tok, ["a test"])
    assert torch.equal(before, after)


def test_addition_equals_hand_computed_shift_of_layer_output():
    model, tok = _load()
    vec = _vector(model, layers=(1,))  # the last decoder layer: its output feeds the final norm
    enc = tok(["hello there"], return_tensors="pt")
    seen: list = []
    h = model.model.norm.register_forward_hook(lambda m, i, o: seen.append(i[0].clone()))
    try:
        with torch.no_grad():
            model(**enc)
            with steer(model, vec, 3.0):
                model(**enc)
    finally:
        h.remove()
    plain, steered = seen
    assert torch.allclose(steered, plain + 3.0 * vec.layers[1], atol=1e-5)


def test_batched_equals_single_under_steering_with_left_padding():
    model, tok = _load()
    vec = _vector(model)
    texts = ["short", "a much longer sentence about helping a neighbour carry shopping"]
    with steer(model, vec, {0: 2.0, 1: -1.5}):
        batch, mask = _logits(model, tok, texts)
        for row, text in enumerate(texts):
            single, _ = _logits(model, tok, [text])
            n = single.shape[1]
            assert torch.allclose(batch[row, -n:], single[0], atol=1e-5)
            assert int(mask[row].sum()) == n


def test_batched_equals_single_generation_under_steering():
    model, tok = _load()
    vec = _vector(model)
    texts = ["hi", "tell me something about the weather today"]
    tok.padding_side = "left"
    with steer(model, vec, 2.0), torch.no_grad():
        enc = tok(texts, return_tensors="pt", padding=True)
        batch = model.generate(**enc, max_new_tokens=5, do_sample=False)[:, enc["input_ids"].shape[1] :]
        for row, text in enumerate(texts):
            one = tok([text], return_tensors="pt")
            single = model.generate(**one, max_new_tokens=5, do_sample=False)[:, one["input_ids"].shape[1] :]
            assert torch.equal(batch[row], single[0])


@pytest.mark.parametrize(
    ("family", "template"),
    [
        ("llava", "model.language_model.layers.{i}"),
        ("qwen2_vl", "model.language_model.layers.{i}"),
        ("smolvlm", "model.text_model.layers.{i}"),
        ("paligemma", "model.language_model.layers.{i}"),
    ],
)
def test_vlm_language_tower_templates_resolve_and_restore(family, template):
    from valuespectrum.compat import ensure_torch_stack

    ensure_torch_stack()
    from transformers import AutoModelForImageTextToText

    path = build_tiny_vlm(family=family)
    model = AutoModelForImageTextToText.from_pretrained(path, dtype=torch.float32).eval()
    assert layer_template_for(model) == template
    assert count_layers(model, template) == model.config.get_text_config().num_hidden_layers
    vec = _vector(model, layers=(0,))
    ids = torch.tensor([[3, 4, 5, 6]])
    with torch.no_grad():
        before = model(input_ids=ids).logits
        with steer(model, vec, 5.0):
            during = model(input_ids=ids).logits
        after = model(input_ids=ids).logits
    assert not torch.allclose(before, during)
    assert torch.equal(before, after)


def test_unknown_architecture_asks_for_template():
    from types import SimpleNamespace

    fake = SimpleNamespace(config=SimpleNamespace(model_type="mystery"))
    with pytest.raises(ConfigError, match="layer_template"):
        layer_template_for(fake)
    assert layer_template_for(fake, "blocks.{i}") == "blocks.{i}"
    with pytest.raises(ConfigError, match="must contain"):
        layer_template_for(fake, "blocks.0")


def test_out_of_range_layer_is_a_clear_error():
    model, _ = _load()
    vec = _vector(model, layers=(0, 5))
    with pytest.raises(ConfigError, match="out of range"), steer(model, vec, 1.0):
        pass
