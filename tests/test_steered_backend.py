"""SteeredBackend on a tiny random model: identity, the response cache, positions, restoring."""

from __future__ import annotations

import pytest

from valuespectrum.types import GenerateConfig, Message, ModelRequest
from valuespectrum.values import Value

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def base():
    from tests.tiny_models import build_tiny_text_lm
    from valuespectrum.backends.hf import HFBackend

    return HFBackend(str(build_tiny_text_lm(family="llama")), device="cpu", dtype="float32")


def _vector(base, seed: int = 3, scale: float = 4.0):
    from valuespectrum.steering.vectors import SteeringVector

    d = base.model.config.hidden_size
    gen = torch.Generator().manual_seed(seed)
    return SteeringVector(
        Value.POWER,
        "caa",
        {i: scale * torch.randn(d, generator=gen) for i in (0, 1)},
        base.model_id,
        "model.layers.{i}",
        "sha256:test",
    )


def _request(rid: str = "q", *, text: bool = False, tokens: int = 4) -> ModelRequest:
    return ModelRequest(
        request_id=rid,
        messages=[Message.text("user", "Do you like the content of this image? Answer Yes or No.")],
        config=GenerateConfig(max_new_tokens=tokens, generate_text=text),
        options=["Yes", "No"],
    )


def _hooks(model) -> int:
    return sum(len(layer._forward_hooks) for layer in model.model.layers) + len(model._forward_pre_hooks)


def test_condition_is_part_of_the_model_identity(base):
    from valuespectrum.backends.steered import SteeredBackend

    vec = _vector(base)
    a = SteeredBackend(base, vec, 4.0)
    assert a.model_id.startswith(base.model_id + "+steer:") and a.revision == base.revision
    assert SteeredBackend(base, vec, 4.0).model_id == a.model_id  # same condition, same id
    others = [
        SteeredBackend(base, vec, 2.0),
        SteeredBackend(base, vec, 4.0, layers=[1]),
        SteeredBackend(base, vec, 4.0, positions="generated"),
        SteeredBackend(base, vec.random_like(0), 4.0),
        SteeredBackend(base, _vector(base, seed=4), 4.0),
    ]
    assert len({a.model_id, *(o.model_id for o in others)}) == 6
    req = _request()
    assert req.key(a.model_id, a.revision) != req.key(base.model_id, base.revision)


def test_cache_never_mixes_steered_and_unsteered_answers(base, tmp_path):
    from valuespectrum.backends.cache import CachedBackend, ResponseCache
    from valuespectrum.backends.steered import Borrowed, SteeredBackend

    cache = ResponseCache(tmp_path / "c.sqlite")
    plain = CachedBackend(Borrowed(base), cache)
    steered = CachedBackend(SteeredBackend(base, _vector(base), 6.0), cache)
    (p1,) = plain.generate([_request()])
    (s1,) = steered.generate([_request()])  # a miss: the unsteered answer is not served
    assert not p1.cached and not s1.cached and steered.misses == 1 and steered.hits == 0
    assert p1.option_logprobs != pytest.approx(s1.option_logprobs, abs=1e-3)
    assert s1.model_id == steered.model_id != p1.model_id
    (p2,) = plain.generate([_request("again")])
    (s2,) = steered.generate([_request("again")])
    assert p2.cached and s2.cached and plain.hits == 1 and steered.hits == 1
    assert p2.option_logprobs == p1.option_logprobs and s2.option_logprobs == s1.option_logprobs
    assert len(cache) == 2
    plain.close()
    steered.close()
    # closing the wrappers leaves the shared model loaded and unsteered
    assert base.model is not None and _hooks(base.model) == 0
    (p3,) = base.generate([_request()])
    assert p3.option_logprobs == pytest.approx(p1.option_logprobs, abs=1e-6)
    cache.close()


class _Exploding:
    """The base model behind a backend whose generate fails after steering was entered."""

    def __init__(self, hf):
        self.hf, self.model, self.tokenizer, self.processor = hf, hf.model, hf.tokenizer, None
        self.model_id, self.revision = hf.model_id, hf.revision
        self.supports_option_logprobs, self.supports_images = True, False
        self.hooks_seen = -1

    def generate(self, requests):
        self.hooks_seen = _hooks(self.model)
        raise RuntimeError("boom")

    def close(self):
        pass


@pytest.mark.parametrize("positions", ["all", "generated"])
def test_model_is_restored_after_an_error(base, positions):
    from valuespectrum.backends.steered import SteeredBackend

    before = base.generate([_request()])[0].option_logprobs
    inner = _Exploding(base)
    steered = SteeredBackend(inner, _vector(base), 6.0, positions=positions)
    with pytest.raises(RuntimeError, match="boom"):
        steered.generate([_request()])
    # 2 layer hooks (+1 pre-hook counting passes when positions are chosen) were in place, now none
    assert inner.hooks_seen == (2 if positions == "all" else 3)
    assert _hooks(base.model) == 0 and "generate" not in vars(base.model)
    assert base.generate([_request()])[0].option_logprobs == before


def test_positions_choose_the_passes_that_are_steered(base):
    """The hook adds strength * v to layer 1's output in exactly the chosen passes."""
    from valuespectrum.backends.steered import SteeredBackend

    vec = _vector(base)
    layer = base.model.model.layers[1]
    deltas: dict[str, list[float]] = {}
    for positions in ("all", "prompt", "generated"):
        raw: list[torch.Tensor] = []
        seen: list[torch.Tensor] = []
        first = layer.register_forward_hook(lambda m, i, o, _r=raw: _r.append(o.detach().clone()))
        steered = SteeredBackend(base, vec, 2.0, layers=[1], positions=positions)
        with steered.steering():
            last = layer.register_forward_hook(lambda m, i, o, _s=seen: _s.append(o.detach().clone()))
            try:
                base.generate([_request(text=True, tokens=3)])  # scoring pass, prefill, 2 decoding steps
            finally:
                last.remove()
        first.remove()
        want = 2.0 * vec.layers[1]
        deltas[positions] = [
            float((s - r - want).abs().max()) if float((s - r).abs().max()) > 0 else -1.0
            for r, s in zip(raw, seen, strict=True)
        ]
    # -1: pass left alone; ~0: pass shifted by exactly 2 v
    assert len(deltas["all"]) == 4
    assert all(0 <= d < 1e-5 for d in deltas["all"])
    assert [d < 0 for d in deltas["prompt"]] == [False, False, True, True]
    assert [d < 0 for d in deltas["generated"]] == [True, True, False, False]
    assert all(d < 1e-5 for d in deltas["prompt"] + deltas["generated"])
    assert _hooks(base.model) == 0 and "generate" not in vars(base.model)


def test_generated_positions_leave_option_scores_alone(base):
    from valuespectrum.backends.steered import SteeredBackend

    (plain,) = base.generate([_request()])
    (gen,) = SteeredBackend(base, _vector(base), 6.0, positions="generated").generate([_request()])
    (prompt,) = SteeredBackend(base, _vector(base), 6.0, positions="prompt").generate([_request()])
    assert gen.option_logprobs == pytest.approx(plain.option_logprobs, abs=1e-6)
    assert prompt.option_logprobs != pytest.approx(plain.option_logprobs, abs=1e-3)


def test_steered_spec_through_the_registry(base, tmp_path):
    from tests.tiny_models import build_tiny_text_lm
    from valuespectrum.backends.registry import create_backend
    from valuespectrum.backends.steered import SteeredBackend
    from valuespectrum.errors import ConfigError

    vec = _vector(base)
    vec.save(tmp_path / "vecs" / "power-caa")
    spec = f"hf:{build_tiny_text_lm(family='llama')}"
    b = create_backend(
        f"steered:{spec}",
        base_dir=tmp_path,  # relative vector paths are read from here (the manifest's folder)
        vector="vecs/power-caa.json",
        strength=4.0,
        model_options={"device": "cpu", "dtype": "float32"},
    )
    assert isinstance(b, SteeredBackend) and b.owns_inner
    assert b.model_id == SteeredBackend(base, vec, 4.0).model_id
    (resp,) = b.generate([_request()])
    (direct,) = SteeredBackend(base, vec, 4.0).generate([_request()])
    assert resp.option_logprobs == pytest.approx(direct.option_logprobs, abs=1e-5)
    b.close()
    assert b.inner.model is None  # it loaded its base, so it closes it
    with pytest.raises(
        ConfigError, match=r"invalid options for the steered backend: strenght \(unknown option\)"
    ):
        create_backend(f"steered:{spec}", vector="v.json", strenght=1.0)
    with pytest.raises(ConfigError, match="exposes its activations"):
        create_backend("steered:mock", base_dir=tmp_path, vector="vecs/power-caa.json")


def test_wrappers_keep_the_base_models_cache_identity() -> None:
    # a wrapper that hid its base's identity would let the cache serve answers of other settings
    from valuespectrum.backends.cache import cache_identity
    from valuespectrum.backends.mock import MockBackend
    from valuespectrum.backends.steered import Borrowed

    a, b = MockBackend(default="1"), MockBackend(default="2")
    assert cache_identity(a) is not None and cache_identity(a) != cache_identity(b)
    assert cache_identity(Borrowed(a)) == cache_identity(a)
    assert cache_identity(Borrowed(b)) == cache_identity(b)
