"""Value neurons: planted neuron, streamed statistics against numpy, edits on a tiny Llama."""

from __future__ import annotations

import numpy as np
import pytest

from tests.tiny_models import build_tiny_text_lm, load_tiny_text_lm
from valuespectrum.errors import ConfigError
from valuespectrum.neurons.aspects import AspectText, aspect_texts, parse_contrast
from valuespectrum.neurons.edit import edit_neurons
from valuespectrum.neurons.locate import NeuronSet, locate
from valuespectrum.neurons.stats import NeuronStats, Welford, collect_neuron_stats
from valuespectrum.steering.pairs import builtin_pairs
from valuespectrum.values import Value

torch = pytest.importorskip("torch")

TEXTS = [
    "Yes no yes",
    "It is important to her to be free to plan and choose her activities.",
    "He likes surprises.",
    "Tradition, security, power",
    "Describe this image. Why? Because it looks fun and relaxing.",
]


def _load():
    _, model, tok = load_tiny_text_lm("llama")
    return model, tok


def _stats(means: dict[int, list[float]], var: float, n: int = 20) -> NeuronStats:
    layers = {i: Welford.from_moments(n, np.array(m), np.full(len(m), var)) for i, m in means.items()}
    return NeuronStats(layers, "mean", "model.layers.{i}.mlp.down_proj", n, "sha256:x")


def test_planted_neuron_is_found_with_d_10():
    a = _stats({0: [0.0] * 5, 1: [0.0, 0.0, 0.0, 1.0, 0.0]}, 0.01)
    b = _stats({0: [0.0] * 5, 1: [0.0] * 5}, 0.01)
    found = locate(a, b, k=1)
    assert [(int(found.layer[0]), int(found.index[0]))] == [(1, 3)]
    assert found.d[0] == pytest.approx(10.0)
    assert found.delta[0] == pytest.approx(1.0)
    # per layer: one neuron from each layer; layer 0 has no signal, so the first index wins the tie
    per = locate(a, b, k=1, per_layer=True)
    assert per.members() == {(0, 0), (1, 3)}
    # select "b" (neurons firing more for B) ranks the planted neuron last
    assert (1, 3) not in locate(a, b, k=9, select="b").members()


def test_welford_equals_numpy_on_padded_batches():
    model, tok = _load()
    tok.padding_side = "left"
    # reference: the same 3 left-padded batches (2, 2, 1 texts), padding dropped, stacked for numpy
    captured: list[np.ndarray] = []
    mod = model.model.layers[1].mlp.down_proj
    h = mod.register_forward_pre_hook(lambda _m, a: captured.append(a[0].double().numpy()))
    rows = []
    try:
        with torch.no_grad():
            for s in range(0, len(TEXTS), 2):
                enc = tok(TEXTS[s : s + 2], return_tensors="pt", padding=True)
                model(**enc)
                rows.append(captured[-1][enc["attention_mask"].bool().numpy()])
    finally:
        h.remove()
    assert any((tok(TEXTS[s : s + 2], padding=True)["attention_mask"][0][0] == 0) for s in (0, 2))
    ref = np.concatenate(rows)
    stats = collect_neuron_stats(model, tok, TEXTS, [1], pool="tokens", batch_size=2)
    w = stats.layers[1]
    assert w.n == ref.shape[0] == sum(len(tok(t)["input_ids"]) for t in TEXTS)
    np.testing.assert_allclose(w.mean, ref.mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(w.var, ref.var(axis=0, ddof=1), atol=1e-6)
    # the per-text mean pooling agrees between batched and single-text runs (float32 padding noise)
    single = [collect_neuron_stats(model, tok, [t], [1], pool="mean").layers[1].mean for t in TEXTS]
    batched = collect_neuron_stats(model, tok, TEXTS, [1], pool="mean", batch_size=3).layers[1]
    np.testing.assert_allclose(batched.mean, np.mean(single, axis=0), atol=1e-5)


def test_response_span_pools_only_the_response():
    model, tok = _load()
    text = "Yes no yes\nHe likes surprises."
    start = text.index("He")
    span = collect_neuron_stats(model, tok, [AspectText(text, start, "p")], [0], pool="tokens")
    whole = collect_neuron_stats(model, tok, [text], [0], pool="tokens")
    n_resp = len(tok(text[start:])["input_ids"])
    assert span.layers[0].n < whole.layers[0].n
    assert abs(span.layers[0].n - n_resp) <= 1  # the boundary token may merge with the newline


def _full_layer_set(model, layer: int) -> NeuronSet:
    width = model.config.intermediate_size
    z = np.zeros(width)
    return NeuronSet(
        layer=np.full(width, layer), index=np.arange(width), delta=z + 1.0, d=z + 1.0, mean_a=z, mean_b=z,
        aspect_a="A", aspect_b="B", model_id="tiny", neuron_template="model.layers.{i}.mlp.down_proj",
        data_digest="sha256:x", widths={0: width, 1: width},
    )  # fmt: skip


def test_gamma_one_is_bit_identical_and_gamma_zero_zeroes_the_mlp():
    model, tok = _load()
    ids = tok(["Yes no yes", "He likes surprises and new things"], return_tensors="pt", padding=True)
    with torch.no_grad():
        base = model(**ids).logits
        full = _full_layer_set(model, 1)
        with edit_neurons(model, full, "scale", 1.0):
            same = model(**ids).logits
        assert torch.equal(same, base)
        with edit_neurons(model, full, "scale", 0.0):
            ablated = model(**ids).logits
        # reference: the layer-1 MLP output replaced by zeros
        h = model.model.layers[1].mlp.register_forward_hook(lambda _m, _i, out: torch.zeros_like(out))
        try:
            zeroed = model(**ids).logits
        finally:
            h.remove()
    assert torch.allclose(ablated, zeroed, atol=1e-6)
    assert not torch.allclose(ablated, base, atol=1e-3)
    with torch.no_grad():
        assert torch.equal(model(**ids).logits, base)


def test_shift_and_patch_edit_only_the_chosen_neurons_and_restore_after_errors():
    model, tok = _load()
    ids = tok("He likes surprises", return_tensors="pt")
    seen: list[torch.Tensor] = []
    mod = model.model.layers[0].mlp.down_proj
    nset = NeuronSet(
        layer=np.array([0, 0]), index=np.array([2, 5]), delta=np.array([1.5, -2.0]), d=np.array([3.0, -1.5]),
        mean_a=np.array([0.25, -0.5]), mean_b=np.array([0.0, 0.0]), aspect_a="A", aspect_b="B",
        model_id="tiny", neuron_template="model.layers.{i}.mlp.down_proj", data_digest="sha256:x",
        widths={0: 64, 1: 64},
    )  # fmt: skip
    probe = mod.register_forward_hook(lambda _m, a, _o: seen.append(a[0].detach().clone()))
    try:
        with torch.no_grad():
            model(**ids)
            with edit_neurons(model, nset, "shift", 2.0):
                model(**ids)
            with edit_neurons(model, nset, "patch"):
                model(**ids)
            with edit_neurons(model, nset, "shift", 2.0, schedule="by_d"):
                model(**ids)
            with pytest.raises(RuntimeError), edit_neurons(model, nset, "scale", 0.0):
                raise RuntimeError("boom")
            model(**ids)
    finally:
        probe.remove()
    # a forward hook's inputs are those left by the pre-hooks: the edited activations
    plain, shifted, patched, by_d, after = seen
    diff = shifted - plain
    assert torch.allclose(diff[..., 2], torch.full_like(diff[..., 2], 3.0))
    assert torch.allclose(diff[..., 5], torch.full_like(diff[..., 5], -4.0))
    others = [j for j in range(64) if j not in (2, 5)]
    assert torch.equal(shifted[..., others], plain[..., others])
    assert torch.allclose(patched[..., 2], torch.full_like(patched[..., 2], 0.25))
    # by_d: gamma_n = 2 * |d_n| / 3 -> (2, 1): shifts 3.0 and -2.0
    assert torch.allclose((by_d - plain)[..., 5], torch.full_like(plain[..., 5], -2.0))
    assert torch.equal(after, plain)


def test_neuron_set_round_trip_random_and_opposite(tmp_path):
    a = _stats({0: [0.0, 2.0, 0.0, 0.0], 1: [1.0, 0.0, 0.0, -1.0]}, 0.25)
    b = _stats({0: [0.0] * 4, 1: [0.0] * 4}, 0.25)
    found = locate(a, b, k=3, aspect_a="X", aspect_b="Y", model_id="m")
    assert found.members() == {(0, 1), (1, 0), (1, 3)}
    found.save(tmp_path / "set")
    back = NeuronSet.load(tmp_path / "set.json")
    assert back.digest() == found.digest()
    assert back.widths == {0: 4, 1: 4} and back.settings["k"] == 3
    rnd = found.random_like(0, a, b)
    assert rnd.per_layer() == found.per_layer()
    assert not rnd.members() & found.members()
    assert sorted(rnd.delta) == sorted(found.delta)
    opp = found.opposite()
    assert opp.aspect_a == "Y" and np.array_equal(opp.delta, -found.delta)
    assert np.array_equal(opp.mean_a, found.mean_b)
    (tmp_path / "bad.json").write_text('{"kind": "neuron_set"}')
    (tmp_path / "bad.safetensors").write_bytes(b"")
    with pytest.raises(ConfigError, match="aspect_a"):
        NeuronSet.load(tmp_path / "bad")


def test_aspect_texts_are_context_controlled():
    pairs = builtin_pairs()
    c = parse_contrast("Self-Transcendence:Self-Enhancement")
    side_a, side_b = aspect_texts(pairs, c)
    assert len(side_a) == len(side_b) == sum(p.value in c.group_a + c.group_b for p in pairs)
    by_id = {p.id: p for p in pairs}
    first = by_id[side_a[0].pair_id]
    assert side_a[0].text.startswith(first.scenario) and side_b[0].text.startswith(first.scenario)
    benev = next(t for t in side_a if by_id[t.pair_id].value is Value.BENEVOLENCE)
    assert benev.text[benev.start :] == by_id[benev.pair_id].positive
    power = next(t for t in side_a if by_id[t.pair_id].value is Value.POWER)
    assert power.text[power.start :] == by_id[power.pair_id].negative
    assert parse_contrast("Power").group_b == (Value.UNIVERSALISM,)
    with pytest.raises(ConfigError, match="higher-order"):
        parse_contrast("Power:Conservation")


def test_neurons_spec_is_a_backend_whose_identity_includes_the_edit(tmp_path):
    from valuespectrum.backends.registry import create_backend
    from valuespectrum.types import GenerateConfig, Message, ModelRequest

    path = build_tiny_text_lm(family="llama")
    model, _ = _load()
    _full_layer_set(model, 1).save(tmp_path / "set")
    req = ModelRequest(
        request_id="q",
        messages=[Message.text("user", "Do you like the content of this image? Answer Yes or No.")],
        config=GenerateConfig(max_new_tokens=2, generate_text=False),
        options=["Yes", "No"],
    )
    opts = {"model_options": {"dtype": "float32"}}
    plain = create_backend(f"hf:{path}", dtype="float32")
    ablated = create_backend(
        f"value-neurons:hf:{path}", set="set.json", mode="scale", gamma=0.0, base_dir=tmp_path, **opts
    )
    same = create_backend(
        f"value-neurons:hf:{path}", set="set.json", mode="scale", gamma=1.0, base_dir=tmp_path, **opts
    )
    rnd = create_backend(f"value-neurons:hf:{path}", set="set.json", random_seed=1, base_dir=tmp_path, **opts)
    try:
        ids = {b.model_id for b in (plain, ablated, same, rnd)}
        assert len(ids) == 4 and all(i.startswith(plain.model_id) for i in ids)
        (p,), (a,), (s,) = plain.generate([req]), ablated.generate([req]), same.generate([req])
        assert s.option_logprobs == p.option_logprobs
        assert a.option_logprobs != p.option_logprobs
        assert a.model_id == ablated.model_id
    finally:
        for b in (plain, ablated, same, rnd):
            b.close()
    with pytest.raises(ConfigError, match="gamma"):
        create_backend(f"value-neurons:hf:{path}", set="set.json", gamma="lots", base_dir=tmp_path)


def test_readout_score_is_the_signed_standardised_sum():
    from valuespectrum.neurons.readout import readout_scores

    nset = NeuronSet(
        layer=np.array([0, 0]), index=np.array([0, 1]), delta=np.array([1.0, -2.0]), d=np.array([2.0, -4.0]),
        mean_a=np.array([1.0, 0.0]), mean_b=np.array([0.0, 2.0]), aspect_a="A", aspect_b="B", model_id="m",
        neuron_template="t.{i}", data_digest="", widths={0: 4},
    )  # fmt: skip
    # (1 - 0.5) / 0.5 * (+1) + (0 - 1) / 0.5 * (-1) = 1 + 2 = 3; the B means read -3
    assert readout_scores(np.array([[1.0, 0.0], [0.0, 2.0]]), nset).tolist() == [3.0, -3.0]


def test_random_sets_for_readout_carry_their_own_differences():
    a = _stats({0: [0.0, 2.0, 0.5, 0.0]}, 0.25)
    b = _stats({0: [0.0, 0.0, 0.0, -1.0]}, 0.25)
    found = locate(a, b, k=1)
    assert found.members() == {(0, 1)}
    rnd = found.random_like(3, a, b, own_differences=True)
    (j,) = rnd.index
    assert rnd.delta[0] == pytest.approx([0.0, 2.0, 0.5, 1.0][j]) and rnd.d[0] == pytest.approx(
        rnd.delta[0] / 0.5
    )
    with pytest.raises(ConfigError, match="statistics"):
        found.random_like(3, own_differences=True)
