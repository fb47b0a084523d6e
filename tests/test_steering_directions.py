"""ConVA's prompt-constant shift, directional ablation, PCA/ActAdd vectors, GGUF control vectors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.tiny_models import build_tiny_text_lm, load_tiny_text_lm
from valuespectrum.errors import ConfigError
from valuespectrum.steering.conva_shift import prompt_constant_shift
from valuespectrum.steering.directions import ablate_direction, actadd_vector, pca_directions
from valuespectrum.steering.gguf_export import export_control_vector, import_control_vector
from valuespectrum.steering.vectors import SteeringVector
from valuespectrum.values import Value

torch = pytest.importorskip("torch")


class _Identity2(torch.nn.Module):
    """Two identity 'decoder layers' in a row: what a layer outputs is what the next one reads."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = torch.nn.ModuleList([torch.nn.Identity(), torch.nn.Identity()])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def _probe(layers=(0, 1)) -> SteeringVector:
    w = torch.tensor([1.0, 0.0])
    return SteeringVector(
        Value.BENEVOLENCE,
        "probe",
        {i: w for i in layers},
        "toy",
        "layers.{i}",
        "sha256:t",
        {i: 0.0 for i in layers},
    )


def test_prompt_constant_shift_is_sequential_on_the_identity_model():
    model = _Identity2()
    x = torch.tensor([[[0.0, 1.0], [2.0, -1.0], [0.5, 3.0]]])  # last prompt token e = (0.5, 3)
    with prompt_constant_shift(model, _probe(), p0=0.9) as eps:
        out = model(x)
    assert math.log(0.9 / 0.1) == pytest.approx(2.1972, abs=1e-4)
    assert float(eps[0][0]) == pytest.approx(1.6972, abs=1e-4)
    # layer 1 reads the shifted last token: w.e = 2.1972 already, so its step is 0
    assert float(eps[1][0]) == pytest.approx(0.0, abs=1e-9)
    # every position moved by the same (1.6972, 0)
    assert torch.allclose(out - x, torch.tensor([1.6972, 0.0]).expand_as(x), atol=1e-4)
    # a decoding step (one position) gets the same constant vector, not a new epsilon
    with prompt_constant_shift(model, _probe(), p0=0.9) as eps:
        model(x)
        step = model(torch.tensor([[[5.0, 0.0]]]))
    assert torch.allclose(step, torch.tensor([[[5.0 + 1.6972, 0.0]]]), atol=1e-4)
    # lower with p0 = 0.1: eps = -2.1972 - 0.5 = -2.6972 (one layer)
    with prompt_constant_shift(model, _probe((0,)), p0=0.1, direction="lower") as eps:
        out = model(x)
    assert float(eps[0][0]) == pytest.approx(-2.6972, abs=1e-4)
    assert torch.allclose(out[0, 0], torch.tensor([-2.6972, 1.0]), atol=1e-4)
    # raise never lowers, lower never raises
    with prompt_constant_shift(model, _probe((0,)), p0=0.1, direction="raise") as eps:
        assert torch.equal(model(x), x)
    assert torch.equal(model(x), x)  # hooks removed
    with (
        pytest.raises(ConfigError, match="probe"),
        prompt_constant_shift(
            model, SteeringVector(Value.POWER, "caa", {0: torch.ones(2)}, "t", "layers.{i}", "")
        ),
    ):
        pass


def test_directional_ablation_leaves_no_component_along_the_direction():
    model = _Identity2()
    d = torch.tensor([3.0, 4.0])
    vec = SteeringVector(Value.POWER, "caa", {0: d}, "toy", "layers.{i}", "")
    x = torch.tensor([[[1.0, 2.0], [-3.0, 0.5]]])
    with ablate_direction(model, vec, layers=[0]):
        out = model(x)
    u = d / d.norm()
    assert torch.allclose(out @ u, torch.zeros(1, 2), atol=1e-6)
    # the orthogonal part is kept: (1, 2) - 2.2 * (0.6, 0.8) = (-0.32, 0.24)
    assert torch.allclose(out[0, 0], torch.tensor([-0.32, 0.24]), atol=1e-6)
    assert torch.equal(model(x), x)


def test_ablation_on_a_tiny_llama_zeroes_the_component_and_restores():
    _, model, tok = load_tiny_text_lm("llama")
    d = torch.randn(32, generator=torch.Generator().manual_seed(1))
    vec = SteeringVector(Value.POWER, "caa", {0: d}, "tiny", "model.layers.{i}", "")
    seen = []
    h = model.model.layers[1].register_forward_pre_hook(lambda _m, a: seen.append(a[0].detach()))
    ids = tok("He likes surprises", return_tensors="pt")
    try:
        with torch.no_grad():
            base = model(**ids).logits
            with ablate_direction(model, vec):
                model(**ids)
            again = model(**ids).logits
    finally:
        h.remove()
    assert torch.allclose(seen[1] @ (d / d.norm()), torch.zeros(1, seen[1].shape[1]), atol=1e-5)
    assert torch.equal(base, again)
    # ActAdd from prompt pairs: one pair gives exactly the difference of the two last-token states
    act = actadd_vector(model, tok, [("Yes yes", "No no")], Value.POWER, [0, 1], model_id="tiny")
    from valuespectrum.steering.collect import collect_activations

    plus = collect_activations(model, tok, ["Yes yes"], [1])[1][0]
    minus = collect_activations(model, tok, ["No no"], [1])[1][0]
    assert act.method == "actadd" and set(act.layers) == {0, 1}
    assert torch.allclose(act.layers[1], plus - minus, atol=1e-6)


def test_pca_direction_recovers_the_planted_difference():
    gen = torch.Generator().manual_seed(0)
    truth = torch.tensor([0.0, 3.0, 0.0, 0.0])
    neg = torch.randn(40, 4, generator=gen)
    scale = 1.0 + torch.rand(40, 1, generator=gen)  # differences vary along the truth only
    pos = neg + scale * truth + 0.01 * torch.randn(40, 4, generator=gen)
    d = pca_directions({5: pos}, {5: neg})[5]
    cos = float(d @ truth / (d.norm() * truth.norm()))
    assert cos > 0.999
    assert float(d.norm()) == pytest.approx(float((scale * 3.0).mean()), rel=0.02)


def test_gguf_control_vector_round_trip(tmp_path):
    gen = torch.Generator().manual_seed(3)
    vec = SteeringVector(
        Value.UNIVERSALISM, "probe", {3: torch.randn(16, generator=gen), 7: torch.randn(16, generator=gen)},
        "smollm2", "model.layers.{i}", "sha256:abc", {3: 0.25, 7: -1.5},
    )  # fmt: skip
    path = export_control_vector(vec, tmp_path / "u.gguf", strength=2.5, model_hint="llama")
    back = import_control_vector(path)
    assert back.value is Value.UNIVERSALISM and back.method == "probe"
    assert sorted(back.layers) == [3, 7] and back.probe_bias == {3: 0.25, 7: -1.5}
    for i in (3, 7):
        np.testing.assert_allclose(back.layers[i].numpy(), vec.layers[i].numpy(), atol=1e-6)
    raw = import_control_vector(path, unscale=False)
    np.testing.assert_allclose(raw.layers[3].numpy(), 2.5 * vec.layers[3].numpy(), atol=1e-5)
    import gguf

    reader = gguf.GGUFReader(str(path))
    assert bytes(reader.fields["general.architecture"].parts[-1]).decode() == "controlvector"
    assert sorted(t.name for t in reader.tensors) == ["direction.3", "direction.7"]
    with pytest.raises(ConfigError, match=r"direction\.0"):
        export_control_vector(
            SteeringVector(Value.POWER, "caa", {0: torch.ones(4)}, "m", "t{i}", ""), tmp_path / "z.gguf"
        )
    (tmp_path / "bad.gguf").write_bytes(b"not a gguf")
    with pytest.raises(ConfigError, match=r"bad\.gguf"):
        import_control_vector(tmp_path / "bad.gguf")


def test_conva_modes_of_steer_and_the_steered_backend():
    from valuespectrum.steering.apply import steer

    model = _Identity2()
    x = torch.tensor([[[0.0, 1.0], [2.0, -1.0], [0.5, 3.0]]])
    with steer(model, _probe(), mode="conva_raise", p0=0.9):
        raised = model(x)
    assert torch.allclose(raised - x, torch.tensor([1.6972, 0.0]).expand_as(x), atol=1e-4)
    with steer(model, _probe((0,)), mode="conva_lower", p0=0.1):
        lowered = model(x)
    assert torch.allclose(lowered - x, torch.tensor([-2.6972, 0.0]).expand_as(x), atol=1e-4)
    # a gate keeps the second sequence of a batch unshifted
    batch = torch.cat([x, x])
    gate = lambda h: torch.tensor([True, False])  # noqa: E731
    with steer(model, _probe(), mode="conva_raise", p0=0.9, gate=gate, gate_layer=0):
        out = model(batch)
    assert torch.allclose(out[0], raised[0], atol=1e-6) and torch.equal(out[1], x[0])
    assert torch.equal(model(x), x)

    from valuespectrum.compat import ensure_torch_stack

    ensure_torch_stack()
    from valuespectrum.backends.hf import HFBackend
    from valuespectrum.backends.steered import SteeredBackend
    from valuespectrum.types import GenerateConfig, Message, ModelRequest

    base = HFBackend(str(build_tiny_text_lm(family="llama")), dtype="float32")
    w = torch.randn(32, generator=torch.Generator().manual_seed(2))
    # a bias far below: the probe reads ~0 everywhere, so raising to p0 always moves the state
    probe = SteeringVector(Value.POWER, "probe", {1: w}, "tiny", "model.layers.{i}", "", {1: -50.0})
    req = ModelRequest(
        request_id="q",
        messages=[Message.text("user", "Yes or No?")],
        config=GenerateConfig(max_new_tokens=2, generate_text=False),
        options=["Yes", "No"],
    )
    raise_b = SteeredBackend(base, probe, 0.99, mode="conva_raise")
    gated_b = SteeredBackend(base, probe, 0.99, mode="gated")
    assert raise_b.model_id != gated_b.model_id
    (plain,), (r,) = base.generate([req]), raise_b.generate([req])
    assert r.option_logprobs != plain.option_logprobs
    with pytest.raises(ConfigError, match="p0"):
        SteeredBackend(base, probe, 4.0, mode="conva_lower")
    base.close()
