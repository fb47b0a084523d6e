"""HFBackend on tiny random models of every supported family (built locally, no downloads)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

pytest.importorskip("transformers")

from smollm2 import needs_smollm2, smollm2_folder, smollm2_gguf
from tiny_models import TEXT_FAMILIES, VLM_FAMILIES, build_tiny_text_lm, build_tiny_vlm

from valuespectrum.backends.hf import HFBackend
from valuespectrum.backends.hf_loading import resolve_source
from valuespectrum.backends.spec import BackendSpec
from valuespectrum.errors import BackendError, ConfigError
from valuespectrum.types import (
    GenerateConfig,
    ImagePart,
    MediaRef,
    Message,
    ModelRequest,
    TextPart,
    VideoPart,
)

_BACKENDS: dict[str, HFBackend] = {}


def backend(family: str) -> HFBackend:
    """One backend per family for the whole session (models are cached on disk too)."""
    if family not in _BACKENDS:
        path = build_tiny_text_lm(None, family) if family in TEXT_FAMILIES else build_tiny_vlm(None, family)
        _BACKENDS[family] = HFBackend(str(path), batch_size=4)
    return _BACKENDS[family]


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import numpy as np
    from PIL import Image

    root = tmp_path_factory.mktemp("media")
    rng = np.random.RandomState(0)
    out = {}
    for name, shape in {"a": (40, 52, 3), "b": (36, 36, 3), "c": (40, 52, 3)}.items():
        p = root / f"{name}.png"
        Image.fromarray((rng.rand(*shape) * 255).astype("uint8")).save(p)
        out[name] = p
    bad = root / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    out["broken"] = bad
    return out


def _req(
    rid: str, parts: list, options: list[str] | None = None, system: str | None = None, **cfg
) -> ModelRequest:
    msgs = [Message.text("system", system)] if system else []
    msgs.append(Message(role="user", content=parts))
    return ModelRequest(
        request_id=rid, messages=msgs, options=options, config=GenerateConfig(**{"max_new_tokens": 5, **cfg})
    )


def _text_requests() -> list[ModelRequest]:
    return [
        _req("t0", [TextPart(text="Do you like it? Yes or No.")], ["Yes", "No"], system="You are kind."),
        _req(
            "t1", [TextPart(text="How much is this person like you? He likes new things.")], ["1", "2", "3"]
        ),
        _req("t2", [TextPart(text="Describe a concert.")]),
        _req("t3", [TextPart(text="Pick one.")], ["Yes", "Yes please"]),
    ]


def _media_requests(media: dict[str, Path]) -> list[ModelRequest]:
    img = MediaRef(path=str(media["a"]))
    frames = [MediaRef(path=str(media["a"])), MediaRef(path=str(media["c"]))]
    return [
        _req(
            "m0",
            [ImagePart(image=img), TextPart(text="Do you like the content of this image?")],
            ["Yes", "No"],
        ),
        _req("m1", [VideoPart(frames=frames, fps=1.0), TextPart(text="Why?")], ["Yes", "No"]),
        _req("m2", [ImagePart(image=MediaRef(path=str(media["b"]))), TextPart(text="Describe this image.")]),
    ]


def _assert_batched_equals_single(b: HFBackend, reqs: list[ModelRequest]) -> None:
    batched = b.generate(reqs)
    again = b.generate(reqs)
    assert [r.request_id for r in batched] == [r.request_id for r in reqs]
    for got, rep, req in zip(batched, again, reqs, strict=True):
        (single,) = b.generate([req])
        assert got.error is None, got.error
        assert got.text == rep.text == single.text  # greedy: deterministic and batch-invariant
        assert got.usage["completion_tokens"] >= 1
        if req.options:
            assert got.option_logprobs is not None and single.option_logprobs is not None
            assert len(got.option_logprobs) == len(req.options)
            assert all(lp < 0 and math.isfinite(lp) for lp in got.option_logprobs)
            for a, s in zip(got.option_logprobs, single.option_logprobs, strict=True):
                assert abs(a - s) < 1e-4
        else:
            assert got.option_logprobs is None


@pytest.mark.parametrize("family", TEXT_FAMILIES)
def test_text_family_generation_batched_equals_single(family: str) -> None:
    b = backend(family)
    assert not b.supports_images and b.supports_option_logprobs
    _assert_batched_equals_single(b, _text_requests())


@pytest.mark.parametrize("family", VLM_FAMILIES)
def test_vlm_family_generation_batched_equals_single(family: str, media: dict[str, Path]) -> None:
    b = backend(family)
    assert b.supports_images
    reqs = _media_requests(media)
    if family != "paligemma":  # PaliGemma needs an image in every prompt
        reqs += _text_requests()[:2]
    _assert_batched_equals_single(b, reqs)


def _manual_option_logprob(b: HFBackend, prompt_ids: list[int], option_ids: list[int]) -> float:
    import torch

    ids = torch.tensor([prompt_ids + option_ids])
    with torch.no_grad():
        logp = torch.log_softmax(b.model(input_ids=ids).logits[0].float(), dim=-1)
    n = len(prompt_ids)
    return sum(float(logp[n - 1 + j, t]) for j, t in enumerate(option_ids))


def test_option_logprobs_match_manual_computation() -> None:
    b = backend("llama")
    req = _req("x", [TextPart(text="Pick one.")], ["Yes", "Yes please", "No"], system="Be brief.")
    prompt = b.tokenizer.apply_chat_template(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Pick one."}],
        add_generation_prompt=True,
        tokenize=False,
    )
    assert prompt.endswith("<|im_start|>assistant\n")
    prompt_ids = b.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    (resp,) = b.generate([req])
    assert resp.option_logprobs is not None
    for opt, got in zip(req.options or [], resp.option_logprobs, strict=True):
        opt_ids = b.tokenizer(opt, add_special_tokens=False)["input_ids"]
        assert abs(got - _manual_option_logprob(b, prompt_ids, opt_ids)) < 1e-4
    # The single-token fast path (one prompt pass, all options) agrees with the per-option path.
    (fast,) = b.generate([req.model_copy(update={"options": ["Yes", "No"]})])
    assert fast.option_logprobs is not None
    assert abs(fast.option_logprobs[0] - resp.option_logprobs[0]) < 1e-4
    assert abs(fast.option_logprobs[1] - resp.option_logprobs[2]) < 1e-4


@pytest.mark.parametrize("family", TEXT_FAMILIES)
def test_shared_prompt_prefix_is_encoded_once_with_unchanged_scores(
    family: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from valuespectrum.backends import hf_scoring

    b = backend(family)
    system = "You are a careful viewer of short videos who answers every question honestly."
    reqs = [
        _req(f"p{i}", [TextPart(text=t)], opts, system=system)
        for i, (t, opts) in enumerate(
            [
                ("He likes new things.", ["1", "2", "3"]),
                ("She plans her own day and likes it.", ["Yes", "No"]),
                ("Pick one.", ["Yes", "Yes please"]),
            ]
        )
    ]
    reqs = [r.model_copy(update={"config": GenerateConfig(generate_text=False)}) for r in reqs]
    singles = [b.generate([r])[0].option_logprobs for r in reqs]
    calls: list[int] = []
    original = hf_scoring._forward_after_prefix

    def spy(backend_: HFBackend, enc: object, shared: int, wanted: list[int]) -> object:
        calls.append(shared)
        return original(backend_, enc, shared, wanted)

    monkeypatch.setattr(hf_scoring, "_forward_after_prefix", spy)
    batched = b.generate(reqs)
    assert calls and all(n >= hf_scoring.MIN_SHARED_PREFIX for n in calls)
    for got, single in zip(batched, singles, strict=True):
        assert got.text == "" and got.option_logprobs is not None and single is not None
        assert got.option_logprobs == pytest.approx(single, abs=1e-4)

    # a model whose cache cannot be shared across rows is scored the plain way, not failed
    def no_shared_cache(*_: object) -> object:
        raise AttributeError("'tuple' object has no attribute 'batch_repeat_interleave'")

    monkeypatch.setattr(hf_scoring, "_forward_after_prefix", no_shared_cache)
    plain = b.generate(reqs)
    for got, single in zip(plain, singles, strict=True):
        assert got.error is None and got.option_logprobs == pytest.approx(single, abs=1e-4)


def test_vlm_option_logprob_matches_forward_on_build_inputs(media: dict[str, Path]) -> None:
    import torch

    b = backend("qwen2_vl")
    req = _media_requests(media)[0]
    enc = b.build_inputs([req])
    assert "pixel_values" in enc and "image_grid_thw" in enc
    with torch.no_grad():
        last = torch.log_softmax(b.model(**enc).logits[0, -1].float(), dim=-1)
    yes, no = (b.tokenizer(o, add_special_tokens=False)["input_ids"][0] for o in ("Yes", "No"))
    score_only = req.config.model_copy(update={"generate_text": False})
    (resp,) = b.generate([req.model_copy(update={"config": score_only})])
    assert resp.text == "" and resp.option_logprobs is not None
    assert resp.option_logprobs == pytest.approx([float(last[yes]), float(last[no])], abs=1e-4)


def test_score_only_and_text_requests_do_not_share_cache_entries(tmp_path: Path) -> None:
    from valuespectrum.backends.cache import CachedBackend

    b = backend("llama")
    want_text = _text_requests()[0]
    score_only = want_text.model_copy(
        update={"config": want_text.config.model_copy(update={"generate_text": False})}
    )
    cached = CachedBackend(b, tmp_path / "c.sqlite")
    (s1,) = cached.generate([score_only])
    (t1,) = cached.generate([want_text])
    (s2, t2) = cached.generate([score_only, want_text])
    assert s1.text == "" and not t1.cached and t1.text != ""
    assert t1.option_logprobs == s1.option_logprobs  # same scores either way
    assert (s2.cached, s2.text, t2.cached, t2.text) == (True, "", True, t1.text)
    cached.cache.close()


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen3_vl"])
def test_native_video_goes_to_videos_input(family: str, media: dict[str, Path]) -> None:
    b = backend(family)
    enc = b.build_inputs([_media_requests(media)[1]])
    video_id = b.tokenizer.convert_tokens_to_ids("<|video_pad|>")
    assert "pixel_values_videos" in enc and "pixel_values" not in enc
    assert int((enc["input_ids"] == video_id).sum()) > 0


@pytest.mark.parametrize("family", ["llava", "smolvlm"])
def test_video_frames_become_consecutive_images(family: str, media: dict[str, Path]) -> None:
    b = backend(family)
    req = _media_requests(media)[1]
    prep = b.renderer.prepare(req)
    assert len(prep.images) == 2 and prep.videos == []
    one_image = b.renderer.prepare(_media_requests(media)[0])
    assert b.processor is not None
    tok = b.processor.image_token
    assert prep.prompt.count(tok) == 2 and one_image.prompt.count(tok) == 1


def test_bad_image_fails_only_its_request(media: dict[str, Path]) -> None:
    b = backend("llava")
    good = _media_requests(media)[0]
    bad = _req(
        "bad", [ImagePart(image=MediaRef(path=str(media["broken"]))), TextPart(text="Hi")], ["Yes", "No"]
    )
    missing = _req("gone", [ImagePart(image=MediaRef(path=str(media["a"]) + ".nope")), TextPart(text="Hi")])
    out = b.generate([good, bad, missing])
    assert out[0].ok and out[0].option_logprobs is not None
    assert out[1].error is not None and str(media["broken"]) in out[1].error
    assert "cannot decode image" in out[1].error and out[1].option_logprobs is None
    assert out[2].error is not None and "not found" in out[2].error


def test_text_model_rejects_images(media: dict[str, Path]) -> None:
    (resp,) = backend("qwen2").generate(_media_requests(media)[:1])
    assert resp.error is not None and "text-only" in resp.error


def test_seeded_sampling_is_reproducible_and_batch_independent() -> None:
    b = backend("qwen2")
    sampled = _req("s", [TextPart(text="Describe a concert.")], temperature=1.0, seed=7, max_new_tokens=12)
    other = _req("o", [TextPart(text="Hello")], temperature=1.0, seed=3, max_new_tokens=12)
    alone = b.generate([sampled])[0].text
    assert b.generate([other, sampled])[1].text == alone
    texts = {
        b.generate(
            [
                sampled.model_copy(
                    update={"config": GenerateConfig(temperature=1.0, seed=s, max_new_tokens=12)}
                )
            ]
        )[0].text
        for s in range(6)
    }
    assert len(texts) > 1  # different seeds actually sample


def test_system_role_folded_when_template_rejects_it() -> None:
    b = backend("gemma")
    original = b.tokenizer.chat_template
    b.tokenizer.chat_template = (
        "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
        + original
    )
    try:
        prep = b.renderer.prepare(_req("x", [TextPart(text="Hi there")], system="You love tradition."))
    finally:
        b.tokenizer.chat_template = original
    assert (
        prep.prompt == "<|im_start|>user\nYou love tradition.\n\nHi there<|im_end|>\n<|im_start|>assistant\n"
    )


def test_plain_prompt_without_chat_template(media: dict[str, Path]) -> None:
    b = backend("paligemma")
    assert b.renderer.template_owner is None
    req = _req(
        "p", [ImagePart(image=MediaRef(path=str(media["a"]))), TextPart(text="Is it fun?")], system="Persona."
    )
    assert b.renderer.prepare(req).prompt == "<image>Persona.\n\nUser: Is it fun?\nAssistant:"


def test_model_id_and_local_revision_track_the_folder(tmp_path: Path) -> None:
    src = build_tiny_text_lm(None, "llama")
    folder = tmp_path / "copy"
    shutil.copytree(src, folder)
    rev1 = resolve_source(str(folder)).revision
    assert resolve_source(str(folder)).model_id == str(folder.resolve())
    assert rev1 == resolve_source(str(folder)).revision and rev1 is not None and rev1.startswith("local-")
    cfg = folder / "config.json"
    cfg.write_text(cfg.read_text().replace('"num_hidden_layers": 2', '"num_hidden_layers": 2 '))
    assert resolve_source(str(folder)).revision != rev1
    assert backend("llama").model_id == str(src.resolve())


def test_gguf_path_implies_gguf_file(tmp_path: Path) -> None:
    f = tmp_path / "m.Q4.gguf"
    f.write_bytes(b"GGUF")
    s = resolve_source(str(f))
    assert (s.location, s.gguf_file, s.local, s.model_id) == (
        str(tmp_path.resolve()),
        "m.Q4.gguf",
        True,
        str(f.resolve()),
    )


def test_bad_specs_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="does not exist"):
        HFBackend(str(tmp_path / "no-such-model"))
    with pytest.raises(BackendError, match=r"no config\.json"):
        HFBackend(str(tmp_path))
    with pytest.raises(BackendError, match="neither an existing folder"):
        HFBackend("not a model id!")
    with pytest.raises(BackendError, match="empty model"):
        HFBackend.from_spec(BackendSpec.parse("hf:"))
    with pytest.raises(ConfigError, match="unknown option"):
        HFBackend.from_spec(BackendSpec(kind="hf", model="x/y", options={"temprature": 1}))
    with pytest.raises(ConfigError, match="dtype"):
        HFBackend(str(build_tiny_text_lm(None, "llama")), dtype="float8")


def test_unknown_hub_id_offline_names_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # the library reads the variable once at import: set its constant too, or it waits on the network
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(BackendError, match=r"nobody-here/no-such-model-xyz.*hf download"):
        HFBackend("nobody-here/no-such-model-xyz")


def test_from_spec_passes_options() -> None:
    path = build_tiny_vlm(None, "smolvlm")
    b = HFBackend.from_spec(BackendSpec.parse(f"hf:{path}", batch_size=2, max_image_side=16, dtype="float32"))
    assert b.batch_size == 2 and b.renderer.max_image_side == 16 and b.device == "cpu"


# -- real model (opt-in) --------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.realmodel
@needs_smollm2
def test_real_smollm2_answers_portrait_probes(capsys: pytest.CaptureFixture[str]) -> None:
    from valuespectrum.probes.bank import load_bank
    from valuespectrum.probes.render import render_probe
    from valuespectrum.scoring.parse import parse_answer

    b = HFBackend(str(smollm2_folder()), batch_size=8)
    probes = list(load_bank("portrait").probes)[:24]
    rendered = [render_probe(p, config=GenerateConfig(max_new_tokens=12)) for p in probes]
    out = b.generate([r.request for r in rendered])
    assert all(r.ok for r in out)
    text_ok = sum(
        parse_answer(r.presented, o, use_logprobs=False).ok for r, o in zip(rendered, out, strict=True)
    )
    lp_ok = sum(parse_answer(r.presented, o, r.option_values).ok for r, o in zip(rendered, out, strict=True))
    with capsys.disabled():
        print(
            f"\nSmolLM2-135M-Instruct portrait probes: text parse rate {text_ok}/{len(out)}, "
            f"with option log-likelihoods {lp_ok}/{len(out)}"
        )
    assert lp_ok == len(out)
    assert text_ok >= len(out) // 2


def _count_passes(b: HFBackend) -> tuple[list[int], list[int]]:
    """Batch sizes of scoring forwards (outside generate) and of generate calls."""
    forwards: list[int] = []
    generates: list[int] = []
    model = b.model
    in_generate = [False]
    original = model.generate

    def generate(*args: object, **kwargs: object) -> object:
        generates.append(int(kwargs["input_ids"].shape[0]))  # type: ignore[attr-defined]
        in_generate[0] = True
        try:
            return original(*args, **kwargs)
        finally:
            in_generate[0] = False

    def pre_hook(_module: object, args: tuple, kwargs: dict) -> None:
        if not in_generate[0]:
            ids = kwargs.get("input_ids", args[0] if args else None)
            forwards.append(int(ids.shape[0]))  # type: ignore[union-attr]

    model.generate = generate
    model.register_forward_pre_hook(pre_hook, with_kwargs=True)
    return forwards, generates


def test_each_request_runs_only_the_passes_its_readout_needs() -> None:
    b = HFBackend(str(build_tiny_text_lm(None, "llama")))
    forwards, generates = _count_passes(b)
    likert = _text_requests()[1]
    text_mode = likert.model_copy(
        update={"config": likert.config.model_copy(update={"score_options": False})}
    )
    (resp,) = b.generate([text_mode])  # answers parsed from text: no scoring pass
    assert (forwards, generates) == ([], [1]) and resp.option_logprobs is None and resp.text
    score_only = likert.model_copy(
        update={"config": likert.config.model_copy(update={"generate_text": False})}
    )
    (resp,) = b.generate([score_only])  # answers read from scores: no generation
    assert (forwards, generates) == ([1], [1]) and resp.option_logprobs is not None and resp.text == ""
    b.close()


def test_the_callers_batch_is_the_batch_unless_capped() -> None:
    path = str(build_tiny_text_lm(None, "llama"))
    reqs = [_req(f"g{i}", [TextPart(text="Describe a concert." + " loud" * i)]) for i in range(12)]
    one_knob = HFBackend(path)  # no batch_size option: a run's batch_size decides
    _, generates = _count_passes(one_knob)
    one_knob.generate(reqs)
    assert generates == [12]
    capped = HFBackend(path, batch_size=5)
    _, generates = _count_passes(capped)
    capped.generate(reqs)
    assert generates == [5, 5, 2]


def test_option_scoring_uses_no_deprecated_cache_argument() -> None:
    import warnings

    b = backend("llama")
    system = "You are kind and answer every question about yourself honestly and briefly."
    reqs = [
        _req(f"w{i}", [TextPart(text="How much is this person like you?" + " Really?" * i)], ["1", "2 3"],
             system=system, generate_text=False)
        for i in range(3)
    ]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # "past_key_values is deprecated ... 5.40"
        out = b.generate(reqs)
    assert all(r.ok and r.option_logprobs is not None for r in out)


def test_gguf_conversion_is_cached_by_file_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from valuespectrum.backends import hf_loading

    calls: list[Path] = []

    def fake_convert(src: Path, out: Path) -> Path:  # the real one is exercised on SmolLM2 below
        calls.append(Path(src))
        Path(out).mkdir(parents=True)
        (Path(out) / "config.json").write_text("{}")
        return Path(out)

    monkeypatch.setattr(hf_loading, "convert_gguf_to_folder", fake_convert)
    monkeypatch.setenv("VSPEC_GGUF_CACHE", str(tmp_path / "cache"))
    a = tmp_path / "a.gguf"
    a.write_bytes(b"GGUF first model")
    first = hf_loading.converted_gguf(a)
    again = hf_loading.converted_gguf(a)
    copy = tmp_path / "renamed.gguf"
    copy.write_bytes(a.read_bytes())  # same bytes under another name: same conversion
    assert hf_loading.converted_gguf(copy) == first == again and len(calls) == 1
    a.write_bytes(b"GGUF another model")  # same name, new bytes: converted again
    assert hf_loading.converted_gguf(a) != first and len(calls) == 2
    assert first.parent == tmp_path / "cache" and not list((tmp_path / "cache").glob("*.tmp-*"))


def test_device_map_auto_loads_and_steering_finds_the_layers() -> None:
    pytest.importorskip("accelerate")
    from valuespectrum.steering.layers import count_layers, layer_template_for

    b = HFBackend(str(build_tiny_text_lm(None, "llama")), device_map="auto")
    template = layer_template_for(b.model)
    assert count_layers(b.model, template) == b.model.config.num_hidden_layers
    (resp,) = b.generate([_text_requests()[1]])
    assert resp.ok and resp.option_logprobs is not None and b.device == "cpu"
    with pytest.raises(ConfigError, match="device_map='everywhere'"):
        HFBackend(str(build_tiny_text_lm(None, "llama")), device_map="everywhere")


@pytest.mark.slow
@pytest.mark.realmodel
@needs_smollm2
def test_real_gguf_converts_once_to_a_standard_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    import time

    import transformers

    gguf = smollm2_gguf()
    assert gguf is not None
    monkeypatch.setenv("VSPEC_GGUF_CACHE", str(tmp_path / "gguf"))
    probe = _req("s", [TextPart(text="Do you like music? Answer Yes or No.")], ["Yes", "No"])
    t0 = time.perf_counter()
    first = HFBackend(str(gguf))
    t1 = time.perf_counter()
    second = HFBackend(str(gguf))
    t2 = time.perf_counter()
    (a,), (b,) = first.generate([probe]), second.generate([probe])
    assert (a.text, a.option_logprobs) == (b.text, b.option_logprobs) and a.text
    assert first.model_id == second.model_id == str(gguf.resolve())
    (folder,) = (tmp_path / "gguf").iterdir()
    assert "quantization_config" not in json.loads((folder / "config.json").read_text())
    plain = transformers.AutoModelForCausalLM.from_pretrained(folder)  # any tool can load it
    assert plain.config.model_type == "llama"
    with capsys.disabled():
        print(f"\nSmolLM2 GGUF: first load (with conversion) {t1 - t0:.1f} s, second load {t2 - t1:.1f} s")


def test_model_without_chat_template_says_so_once_stops_at_turns_and_records_the_prompt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from valuespectrum.backends.hf_inputs import cut_at_turn_markers

    folder = tmp_path / "no-template"
    shutil.copytree(build_tiny_text_lm(None, "llama"), folder)
    (folder / "chat_template.jinja").unlink()
    cfg = json.loads((folder / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(cfg))
    b = HFBackend(str(folder))
    req = _req("p", [TextPart(text="Is it fun?")], system="Persona.")
    first = b.generate([req])
    b.generate([req, _req("q", [TextPart(text="Why?")])])
    assert capsys.readouterr().err.count("has no chat template") == 1
    assert first[0].prompt == "Persona.\n\nUser: Is it fun?\nAssistant:"
    assert "User:" not in first[0].text
    # what the model wrote after its own answer, when it starts the next turn, is cut off
    assert cut_at_turn_markers(" Yes, lots.\nUser: And you?\nAssistant: No") == " Yes, lots."
    assert cut_at_turn_markers(" Sure.\nAssistant: more") == " Sure."
