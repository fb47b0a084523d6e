"""Vectors: save/load round trip, CAA and probes on synthetic and tiny-model activations, pairs."""

from __future__ import annotations

import json

import pytest

from valuespectrum.errors import ConfigError
from valuespectrum.steering.collect import collect_activations, extract_vectors, mean_difference, train_probes
from valuespectrum.steering.pairs import builtin_pairs, by_value, load_pairs
from valuespectrum.steering.vectors import SteeringVector
from valuespectrum.values import Value

torch = pytest.importorskip("torch")


def test_save_load_round_trip(tmp_path):
    vec = SteeringVector(
        value=Value.POWER,
        method="probe",
        layers={0: torch.arange(4.0), 3: torch.tensor([0.5, -1.0, 2.0, 0.25])},
        model_id="tiny/llama",
        layer_template="model.layers.{i}",
        data_digest="sha256:abc",
        probe_bias={0: -0.5, 3: 1.25},
        metadata={"n_pairs": 30, "test_accuracy": {"0": 0.9}},
    )
    st = vec.save(tmp_path / "power")
    assert st.suffix == ".safetensors" and (tmp_path / "power.json").is_file()
    back = SteeringVector.load(tmp_path / "power.json")
    assert back.value is Value.POWER and back.method == "probe"
    assert set(back.layers) == {0, 3}
    assert all(torch.equal(back.layers[i], vec.layers[i]) for i in vec.layers)
    assert back.probe_bias == {0: -0.5, 3: 1.25}
    assert (back.model_id, back.layer_template, back.data_digest) == (
        "tiny/llama",
        "model.layers.{i}",
        "sha256:abc",
    )
    assert back.metadata == vec.metadata


def test_load_names_the_missing_field(tmp_path):
    vec = SteeringVector(Value.POWER, "caa", {0: torch.ones(2)}, "m", "model.layers.{i}", "d")
    vec.save(tmp_path / "v")
    meta = json.loads((tmp_path / "v.json").read_text())
    del meta["layer_template"]
    (tmp_path / "v.json").write_text(json.dumps(meta))
    with pytest.raises(ConfigError, match=r"v\.json.*'layer_template'"):
        SteeringVector.load(tmp_path / "v")


def test_random_like_keeps_per_layer_norm_and_is_seeded():
    vec = SteeringVector(
        Value.HEDONISM, "caa", {1: torch.tensor([3.0, 4.0, 0.0]), 2: torch.ones(3)}, "m", "t{i}", "d"
    )
    a, b, c = vec.random_like(1), vec.random_like(1), vec.random_like(2)
    assert a.method == "random"
    assert abs(float(a.layers[1].norm()) - 5.0) < 1e-5 and abs(float(a.layers[2].norm()) - 3**0.5) < 1e-5
    assert torch.equal(a.layers[1], b.layers[1]) and not torch.equal(a.layers[1], c.layers[1])


def test_caa_equals_hand_computed_mean_difference():
    pos = {2: torch.tensor([[1.0, 2.0], [3.0, 6.0]])}
    neg = {2: torch.tensor([[0.0, 1.0], [2.0, -1.0]])}
    # means: pos (2, 4), neg (1, 0) -> (1, 4)
    assert torch.equal(mean_difference(pos, neg)[2], torch.tensor([1.0, 4.0]))


def test_probe_on_separable_data_reaches_full_held_out_accuracy():
    gen = torch.Generator().manual_seed(0)
    n, d = 40, 6
    direction = torch.zeros(d)
    direction[2] = 1.0
    noise_p, noise_n = torch.randn(n, d, generator=gen) * 0.3, torch.randn(n, d, generator=gen) * 0.3
    fits = train_probes({0: noise_p + 3 * direction}, {0: noise_n - 3 * direction}, seed=1)
    fit = fits[0]
    assert fit.test_accuracy == 1.0 and fit.train_accuracy == 1.0
    assert (fit.n_train, fit.n_test) == (60, 20)
    assert int(fit.w.abs().argmax()) == 2 and fit.w[2] > 0


def test_builtin_pairs_have_thirty_per_value_and_unique_ids():
    pairs = builtin_pairs()
    counts = {v: len(ps) for v, ps in by_value(pairs).items()}
    assert all(c >= 30 for c in counts.values()), counts
    assert len({p.id for p in pairs}) == len(pairs)
    assert all(p.positive != p.negative and p.scenario for p in pairs)


def test_user_pairs_csv_and_errors_name_row_and_column(tmp_path):
    good = tmp_path / "mine.csv"
    good.write_text("scenario,positive,negative,value\nA scene.,I care.,I do not.,benevolence\n")
    (p,) = load_pairs(good)
    assert p.value is Value.BENEVOLENCE and p.render(p.positive) == "A scene.\nI care."
    bad = tmp_path / "bad.csv"
    bad.write_text("scenario,positive,negative,value\nA scene.,I care.,I do not.,kindness\n")
    with pytest.raises(ConfigError, match=r"bad\.csv: row 2: column 'value'"):
        load_pairs(bad)
    jl = tmp_path / "x.jsonl"
    jl.write_text('{"scenario": "s", "positive": "p", "value": "power"}\n')
    with pytest.raises(ConfigError, match=r"x\.jsonl: line 1: column\(s\) \['negative'\]"):
        load_pairs(jl)


def test_collect_and_extract_on_tiny_model():
    from tests.tiny_models import load_tiny_text_lm

    _, model, tok = load_tiny_text_lm("qwen2")
    texts = ["one two", "a longer text here with more words", "x"]
    batched = collect_activations(model, tok, texts, [0, -1], batch_size=3)
    single = collect_activations(model, tok, texts, [0, 1], batch_size=1)
    assert set(batched) == {0, 1} and batched[1].shape == (3, model.config.hidden_size)
    assert all(torch.allclose(batched[i], single[i], atol=1e-5) for i in (0, 1))
    mean = collect_activations(model, tok, texts, [1], position="mean", batch_size=2)
    assert mean[1].shape == (3, model.config.hidden_size) and not torch.allclose(mean[1], batched[1])

    pairs = [p for p in builtin_pairs() if p.value is Value.SECURITY][:12]
    ex = extract_vectors(model, tok, pairs, Value.SECURITY, [0, 1], model_id="tiny-qwen2", test_fraction=0.25)
    pos = collect_activations(model, tok, [p.render(p.positive) for p in pairs], [1])
    neg = collect_activations(model, tok, [p.render(p.negative) for p in pairs], [1])
    assert torch.allclose(ex.caa.layers[1], pos[1].mean(0) - neg[1].mean(0), atol=1e-5)
    assert ex.probe.probe_bias is not None and set(ex.accuracy_table()) == {0, 1}
    assert all(0.0 <= a <= 1.0 for a in ex.accuracy_table().values())
    assert ex.caa.data_digest == ex.probe.data_digest and ex.caa.data_digest.startswith("sha256:")
