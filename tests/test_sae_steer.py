"""SAE hooks and feature steering on tiny random Llamas: exact deltas at the span, nothing elsewhere."""

from __future__ import annotations

import pytest

from valuespectrum.errors import ConfigError

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="module", autouse=True)
def _stack():
    from valuespectrum.compat import ensure_torch_stack

    ensure_torch_stack()


@pytest.fixture(scope="module")
def tiny():
    from tests.tiny_models import load_tiny_text_lm

    _, model, tok = load_tiny_text_lm("llama")
    return model, tok


@pytest.fixture(scope="module")
def deep():
    """Five decoder layers, so layer 3 is neither first nor last (the last output is normed in hidden_states)."""
    from transformers import AutoConfig, AutoModelForCausalLM

    cfg = AutoConfig.for_model(
        "llama",
        vocab_size=50,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=5,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=64,
    )
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(cfg).eval()


def _sae(d, layer=1, feature_row=None):
    from valuespectrum.sae import SparseAutoencoder

    w_dec = torch.zeros(4, d)
    w_dec[0, 0] = 1.0  # feature 0 decodes to e1
    w_dec[1, 1] = 1.0
    w_dec[2, 2] = 1.0
    w_dec[3] = torch.ones(d) / d**0.5
    return SparseAutoencoder(
        "relu",
        w_dec.T.clone(),
        torch.zeros(4),
        w_dec,
        torch.zeros(d),
        hook_name=f"blocks.{layer}.hook_resid_post",
    )


def test_hook_names_map_onto_our_layers(deep):
    from valuespectrum.sae.activations import forward_capture
    from valuespectrum.sae.hooks import HookPoint, parse_hook

    ids = torch.tensor([[3, 7, 11, 2, 9]])
    with torch.no_grad():
        hs = deep(input_ids=ids, output_hidden_states=True).hidden_states  # [emb, out0, out1, ...]
    post3 = forward_capture(deep, parse_hook("blocks.3.hook_resid_post"), ids)
    pre3 = forward_capture(deep, parse_hook("blocks.3.hook_resid_pre"), ids)
    pre0 = forward_capture(deep, parse_hook("blocks.0.hook_resid_pre"), ids)
    assert torch.equal(post3, hs[4]) and torch.equal(pre3, hs[3]) and torch.equal(pre0, hs[0])
    assert parse_hook("layers.3") == parse_hook("model.layers.3") == HookPoint(3, "resid_post")
    mlp = forward_capture(deep, parse_hook("blocks.2.hook_mlp_out"), ids)
    assert mlp.shape == hs[3].shape and not torch.equal(mlp, hs[3])


def test_span_steering_changes_exactly_the_span_positions(tiny):
    from valuespectrum.sae import FeatureEdit, steer_features
    from valuespectrum.sae.activations import forward_capture
    from valuespectrum.sae.hooks import HookPoint

    model, tok = tiny
    d = model.config.hidden_size
    sae = _sae(d, layer=0)
    prompt = "Answer according to your values. Why? Because it looks fun."
    ids = tok(prompt, return_tensors="pt")["input_ids"]
    span_ids = tok(" your values", add_special_tokens=False)["input_ids"]
    at = [
        i
        for i in range(ids.shape[1] - len(span_ids) + 1)
        if ids[0, i : i + len(span_ids)].tolist() == span_ids
    ]
    assert len(at) == 1
    span = set(range(at[0], at[0] + len(span_ids)))
    point = HookPoint(0, "resid_post")
    before = forward_capture(model, point, ids, stop_early=False)
    with steer_features(
        model, sae, [FeatureEdit(0, "add", 2.0)], span=" your values", tokenizer=tok
    ) as stats:
        after = forward_capture(model, point, ids, stop_early=False)
    diff = after - before
    e1 = torch.zeros(d)
    e1[0] = 1.0
    for pos in range(ids.shape[1]):
        if pos in span:  # (h + 2 e1) - h, exact up to float rounding of h
            assert torch.allclose(diff[0, pos], 2.0 * e1, atol=1e-5, rtol=0), pos
        else:
            assert torch.equal(after[0, pos], before[0, pos]), pos
    assert stats["steered_positions"] == len(span)
    assert not model.model.layers[0]._forward_hooks and not model._forward_pre_hooks
    again = forward_capture(model, point, ids, stop_early=False)
    assert torch.equal(again, before)


def test_prompt_steering_leaves_decoding_steps_untouched(tiny):
    from valuespectrum.sae import FeatureEdit, steer_features

    model, tok = tiny
    sae = _sae(model.config.hidden_size, layer=1)
    ids = tok("Describe this image.", return_tensors="pt")["input_ids"]
    seen: list[int] = []
    with steer_features(model, sae, [FeatureEdit(0, "add", 5.0)], positions="prompt") as stats:
        handle = model.model.layers[1].register_forward_hook(
            lambda _m, _i, o: seen.append(o.shape[1]) or None
        )
        try:
            model.generate(ids, max_new_tokens=3, do_sample=False)
        finally:
            handle.remove()
    assert seen[0] == ids.shape[1] and seen[1:] == [1, 1]
    assert stats["steered_positions"] == ids.shape[1] and stats["passes"] == 3


def test_clamp_sets_the_feature_activation(tiny):
    from valuespectrum.sae import FeatureEdit, steer_features
    from valuespectrum.sae.activations import forward_capture
    from valuespectrum.sae.hooks import HookPoint

    model, tok = tiny
    sae = _sae(model.config.hidden_size, layer=0)
    ids = tok("Yes No yes no", return_tensors="pt")["input_ids"]
    point = HookPoint(0, "resid_post")
    with steer_features(model, sae, [FeatureEdit(1, "clamp", 3.0)], token_positions=[-1]):
        after = forward_capture(model, point, ids, stop_early=False)
    before = forward_capture(model, point, ids, stop_early=False)
    assert float(sae.encode(after[0, -1])[1]) == pytest.approx(3.0, abs=1e-5)
    assert torch.equal(after[0, :-1], before[0, :-1])


def test_bad_edits_are_refused(tiny):
    from valuespectrum.sae import FeatureEdit, steer_features

    model, _tok = tiny
    sae = _sae(model.config.hidden_size)
    with pytest.raises(ConfigError, match="out of range"), steer_features(model, sae, [FeatureEdit(9)]):
        pass
    with (
        pytest.raises(ConfigError, match="tokenizer"),
        steer_features(model, sae, [FeatureEdit(0)], span="x"),
    ):
        pass


def test_check_refuses_a_mismatched_sae_and_names_the_hook(deep, tiny):
    from valuespectrum.sae.activations import activations_in_memory, corpus_texts
    from valuespectrum.sae.check import SAEMismatch, check_sae
    from valuespectrum.sae.hooks import HookPoint
    from valuespectrum.sae.train import TrainConfig, train_sae

    model, tok = tiny
    texts = corpus_texts(("pydoc",))[:40]
    x = activations_in_memory(model, tok, HookPoint(1, "resid_post"), texts, max_tokens=400)
    torch.set_num_threads(1)
    res = train_sae(
        x,
        TrainConfig(d_sae=64, k=16, lr=3e-3, batch_size=100, epochs=30, hook_name="blocks.1.hook_resid_post"),
    )
    ok = check_sae(res.sae, model, tok, texts=texts, max_tokens=200)
    assert ok.fve > 0.5 and ok.l0 <= 16
    res.sae.hook_name = "blocks.0.hook_resid_pre"
    with pytest.raises(SAEMismatch, match="likely mismatch: hook"):
        check_sae(res.sae, model, tok, texts=texts, max_tokens=200, min_fve=max(0.5, ok.fve - 0.05))
    assert check_sae(res.sae, model, tok, texts=texts, max_tokens=200, min_fve=None).fve < ok.fve


def test_feature_steered_backend_identity(tiny):
    from tests.tiny_models import build_tiny_text_lm
    from valuespectrum.backends.hf import HFBackend
    from valuespectrum.sae import FeatureEdit
    from valuespectrum.sae.backend import FeatureSteeredBackend
    from valuespectrum.types import GenerateConfig, Message, ModelRequest

    base = HFBackend(str(build_tiny_text_lm(family="llama")), device="cpu", dtype="float32")
    sae = _sae(base.model.config.hidden_size)
    a = FeatureSteeredBackend(base, sae, [FeatureEdit(0, "add", 50.0)])
    b = FeatureSteeredBackend(base, sae, [FeatureEdit(0, "add", 50.0)], span=" your values")
    assert a.model_id.startswith(base.model_id + "+sae:") and a.model_id != b.model_id
    req = ModelRequest(
        request_id="q",
        messages=[Message.text("user", "Do you like it? Answer Yes or No.")],
        config=GenerateConfig(max_new_tokens=2, generate_text=False),
        options=["Yes", "No"],
    )
    plain = base.generate([req])[0]
    steered = a.generate([req])[0]
    assert steered.model_id == a.model_id and a.stats["steered_positions"] > 0
    assert steered.option_logprobs != plain.option_logprobs
    assert base.generate([req])[0].option_logprobs == plain.option_logprobs
