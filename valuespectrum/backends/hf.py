"""Local transformers backend for text LLMs and VLMs.

    backend = HFBackend("Qwen/Qwen2-VL-2B-Instruct")          # hub id
    backend = HFBackend("./models/my-vlm", batch_size=4)       # local folder
    backend = HFBackend("/m/SmolLM2-135M-Instruct.Q4_1.gguf")  # local GGUF file

- Text causal LMs (AutoModelForCausalLM) and image-text-to-text VLMs
  (AutoModelForImageTextToText) with each model's own chat template; see
  :mod:`valuespectrum.backends.hf_inputs` for the rendering rules, the plain prompt used
  without a template, and how video frames are passed.
- Generation is batched with left padding and greedy by default. A request with
  ``temperature > 0`` samples; with a ``seed`` it is generated on its own after
  ``torch.manual_seed(seed)``, so its text does not depend on what it was batched with.
- Each request does what its readout needs. A request with ``options`` gets
  ``option_logprobs`` (see :mod:`valuespectrum.backends.hf_scoring`) unless
  ``config.score_options`` is False (a run reading answers from text: no scoring pass);
  it is answered with generated text unless ``config.generate_text`` is False (then
  ``text`` is empty and only the scoring pass runs).
- Batching: by default a call to ``generate`` runs as one batch of the requests it is
  given (up to ``MAX_DEFAULT_BATCH`` sequences, which bounds memory when a caller hands
  over a whole probe set), so a run's ``batch_size`` is the only knob to set; the
  ``batch_size`` backend option overrides it (e.g. to bound GPU memory).
- Device and dtype: CUDA with bfloat16 when available, else CPU float32; both overridable.
  ``device_map: auto`` spreads a model too large for one GPU over all GPUs and CPU memory
  (accelerate); layers keep their names, so steering hooks find them. For big models or
  many requests an inference server (vLLM, llama.cpp; the ``openai`` backend) is faster:
  it batches continuously and keeps the model loaded between runs.
- A ``.gguf`` file is converted once into a standard safetensors folder cached by the
  file's digest (``gguf_cache: false`` parses the file every time; see
  :func:`valuespectrum.backends.hf_loading.converted_gguf`).
- One failing request (an image that does not decode, a template error) becomes a response
  with ``error`` set; the rest of the batch goes on.
"""

from __future__ import annotations

import inspect
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from valuespectrum.backends.hf_inputs import (
    PLAIN_TURN_MARKERS,
    PreparedRequest,
    Renderer,
    RequestInputError,
    cut_at_turn_markers,
    processor_kwargs,
)
from valuespectrum.backends.hf_loading import (
    convert_gguf_to_folder,
    load_model,
    pick_device,
    pick_dtype,
    resolve_source,
)
from valuespectrum.backends.hf_scoring import ScoreRow, ScoringError, build_rows, score_rows
from valuespectrum.backends.options import HFOptions
from valuespectrum.backends.spec import BackendSpec
from valuespectrum.errors import BackendError, ConfigError
from valuespectrum.types import Message, ModelRequest, ModelResponse

__all__ = ["HFBackend", "convert_gguf_to_folder"]

T = TypeVar("T")

#: Largest batch formed from one ``generate`` call when no ``batch_size`` option is given.
MAX_DEFAULT_BATCH = 64

#: The options of the constructor, declared once in :class:`HFOptions`.
_OPTION_NAMES = frozenset(HFOptions.model_fields)


class HFBackend:
    """A transformers model behind the Backend protocol."""

    def __init__(
        self,
        model: str,
        *,
        revision: str | None = None,
        device: str | None = None,
        dtype: str | None = None,
        gguf_file: str | None = None,
        trust_remote_code: bool = False,
        batch_size: int | None = None,
        max_image_side: int | None = None,
        media_root: str | Path | None = None,
        gguf_cache: bool = True,
        device_map: str | None = None,
    ) -> None:
        if batch_size is not None and batch_size < 1:
            raise ConfigError(f"hf backend: batch_size must be >= 1, got {batch_size}")
        if max_image_side is not None and max_image_side < 8:
            raise ConfigError(f"hf backend: max_image_side must be >= 8 pixels, got {max_image_side}")
        self._source = resolve_source(model, revision=revision, gguf_file=gguf_file)
        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype, self.device)
        self.batch_size = batch_size
        """Cap on sequences per forward pass; None: each ``generate`` call is one batch."""
        self._size = batch_size or 8  # the batch of the call in progress
        if device_map not in (None, "auto", "balanced", "balanced_low_0", "sequential"):
            raise ConfigError(
                f"hf backend: device_map={device_map!r}; use 'auto' (or balanced, sequential) or leave it out"
            )
        loaded = load_model(
            self._source,
            device=self.device,
            dtype=self.dtype,
            trust_remote_code=trust_remote_code,
            gguf_cache=gguf_cache,
            device_map=device_map,
        )
        self.model: Any = loaded.model
        if device_map:  # inputs go where the embeddings are
            self.device = str(self.model.device)
        """The torch module (for steering hooks)."""
        self.tokenizer: Any = loaded.tokenizer
        self.processor: Any | None = loaded.processor
        """The multimodal processor, or None for text-only models."""
        self.model_type = loaded.model_type
        self.renderer = Renderer(
            model_type=loaded.model_type,
            tokenizer=self.tokenizer,
            processor=self.processor,
            media_root=media_root,
            max_image_side=max_image_side,
        )
        # A chat template already writes BOS; the plain prompt relies on the tokenizer for it.
        self.plain_prompts = self.renderer.template_owner is None
        self.add_special_tokens = self.plain_prompts
        if self.plain_prompts:  # once per backend, i.e. once per model and run
            print(
                f"vspec: {self._source.model_id} has no chat template; prompts use the plain "
                "'User: ... / Assistant:' format and generation stops at the next turn marker "
                "(responses.jsonl records the exact prompt)",
                file=sys.stderr,
            )
        self.processor_takes_suffix = self.processor is not None and (
            "suffix" in inspect.signature(type(self.processor).__call__).parameters
        )
        rev = self._source.revision
        if rev is None and not self._source.local:
            rev = getattr(self.model.config, "_commit_hash", None)
        self._revision = rev
        self._closed = False

    @classmethod
    def from_spec(cls, spec: BackendSpec) -> HFBackend:
        """Build from ``hf:<model>`` plus manifest options (the constructor's keyword arguments)."""
        if spec.kind != "hf":
            raise ConfigError(f"model spec {spec.label()!r}: kind {spec.kind!r} is not 'hf'")
        unknown = sorted(set(spec.options) - _OPTION_NAMES)
        if unknown:
            raise ConfigError(
                f"model spec {spec.label()!r}: unknown option(s) {unknown}; allowed: {sorted(_OPTION_NAMES)}"
            )
        return cls(spec.model, **spec.options)

    # -- Backend protocol -------------------------------------------------------------
    @property
    def model_id(self) -> str:
        return self._source.model_id

    @property
    def revision(self) -> str | None:
        return self._revision

    @property
    def cache_identity(self) -> str:
        """Settings beyond the weights that change answers (enter cache keys)."""
        return f"{str(self.dtype).removeprefix('torch.')}/side-{self.renderer.max_image_side}"

    @property
    def supports_option_logprobs(self) -> bool:
        return True

    @property
    def supports_images(self) -> bool:
        return self.processor is not None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.model = None
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()

    def generate(self, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        if self._closed:
            raise BackendError(f"{self.model_id}: backend is closed")
        t0 = time.perf_counter()
        self._size = self.batch_size or max(1, min(len(requests), MAX_DEFAULT_BATCH))
        errors: dict[int, str] = {}
        preps: dict[int, PreparedRequest] = {}
        for i, req in enumerate(requests):
            try:
                preps[i] = self.renderer.prepare(req)
            except RequestInputError as exc:
                errors[i] = str(exc)
        scores = self._score(
            [(i, preps[i], list(requests[i].options or [])) for i in preps if _wants_scores(requests[i])]
        )
        for i, res in scores.items():
            if isinstance(res, str):
                errors[i] = res
        gen_ids = [
            i
            for i in preps
            if i not in errors and (not _wants_scores(requests[i]) or requests[i].config.generate_text)
        ]
        texts = self._generate_texts({i: requests[i] for i in gen_ids}, preps)
        elapsed = (time.perf_counter() - t0) / max(1, len(requests))
        out: list[ModelResponse] = []
        for i, req in enumerate(requests):
            gen = texts.get(i)
            err = errors.get(i) or (gen if isinstance(gen, str) else None)
            score = scores.get(i)
            text, usage = gen if isinstance(gen, tuple) else ("", {})
            out.append(
                ModelResponse(
                    request_id=req.request_id,
                    text="" if err else text,
                    option_logprobs=score if isinstance(score, list) and not err else None,
                    model_id=self.model_id,
                    prompt=preps[i].prompt if i in preps else None,
                    error=err,
                    latency_s=elapsed,
                    usage=usage,
                )
            )
        return out

    # -- encoding (public for steering code) -------------------------------------------
    def encode_messages(self, messages: list[Message]) -> Any:
        """Rendered and encoded inputs for one conversation, exactly as generation feeds them."""
        return self.build_inputs([ModelRequest(request_id="encode", messages=messages)])

    def build_inputs(self, requests: Sequence[ModelRequest]) -> Any:
        """Left-padded BatchEncoding for ``requests`` (generation layout), on the model's device."""
        preps = []
        for req in requests:
            try:
                preps.append(self.renderer.prepare(req))
            except RequestInputError as exc:
                raise BackendError(f"request {req.request_id!r}: {exc}") from exc
        return self.encode_prepared(preps, padding_side="left")

    def encode_prepared(self, preps: Sequence[PreparedRequest], *, padding_side: str) -> Any:
        return self.encode_texts(
            [p.prompt for p in preps],
            padding_side=padding_side,
            **processor_kwargs(list(preps), self.renderer),
        )

    def encode_texts(self, texts: list[str], *, padding_side: str, **media: Any) -> Any:
        import torch

        tok = self.tokenizer
        old = tok.padding_side
        tok.padding_side = padding_side
        try:
            if self.processor is None:
                enc = tok(
                    texts, return_tensors="pt", padding=True, add_special_tokens=self.add_special_tokens
                )
            else:
                enc = self.processor(
                    text=texts,
                    return_tensors="pt",
                    padding=True,
                    add_special_tokens=self.add_special_tokens,
                    **media,
                )
        finally:
            tok.padding_side = old
        for k, v in list(enc.items()):
            if isinstance(v, torch.Tensor):
                v = v.to(self.device)
                enc[k] = v.to(self.dtype) if v.is_floating_point() else v
        return enc

    # -- internals ---------------------------------------------------------------------
    def _score(self, items: list[tuple[int, PreparedRequest, list[str]]]) -> dict[int, list[float] | str]:
        if not items:
            return {}
        rows, errs = build_rows(self, items)
        # Similar lengths share a batch (less padding); the stable sort keeps each item's
        # option rows together and in option order, which the merge below relies on.
        rows.sort(key=lambda r: len(r.prep.prompt))
        out: dict[int, list[float] | str] = dict(errs)
        for chunk in self._score_batches(rows):
            try:
                part = score_rows(self, chunk)
            except Exception as exc:
                if len({r.item for r in chunk}) == 1:
                    out[chunk[0].item] = _describe(exc)
                    continue
                part = {}
                for r in chunk:  # isolate the failing request(s)
                    try:
                        one = score_rows(self, [r])
                    except Exception as exc1:
                        out[r.item] = _describe(exc1)
                        continue
                    part.setdefault(r.item, []).extend(one[r.item])
            for item, lps in part.items():
                prev = out.setdefault(item, [])
                if isinstance(prev, list):
                    prev.extend(lps)
        return out

    def _score_batches(self, rows: list[ScoreRow]) -> list[list[ScoreRow]]:
        """Batches of scoring rows. On text-only models the option rows of one request form
        their own batches, so their prompt is one shared prefix encoded once for all options."""
        if self.processor is not None:
            return _chunks(rows, lambda r: _has_media(r.prep), self._size)
        single = [r for r in rows if r.option_index is None]
        batches = _chunks(single, lambda r: False, self._size)
        per_item: dict[int, list[ScoreRow]] = {}
        for r in rows:
            if r.option_index is not None:
                per_item.setdefault(r.item, []).append(r)
        for item_rows in per_item.values():
            batches.extend(_chunks(item_rows, lambda r: False, self._size))
        return batches

    def _generate_texts(
        self, reqs: dict[int, ModelRequest], preps: dict[int, PreparedRequest]
    ) -> dict[int, tuple[str, dict[str, int]] | str]:
        groups: dict[tuple[Any, ...], list[int]] = {}
        for i, req in reqs.items():
            c = req.config
            solo = c.temperature > 0 and c.seed is not None
            key = (c.max_new_tokens, c.temperature, c.top_p, c.seed, i if solo else None)
            groups.setdefault(key, []).append(i)
        out: dict[int, tuple[str, dict[str, int]] | str] = {}
        for idx in groups.values():
            idx.sort(key=lambda i: len(preps[i].prompt))  # less padding per batch
            for chunk in _chunks(idx, lambda i: _has_media(preps[i]), self._size):
                try:
                    out.update(self._generate_chunk(chunk, reqs, preps))
                except Exception as exc:
                    if len(chunk) == 1:
                        out[chunk[0]] = _describe(exc)
                        continue
                    for i in chunk:
                        try:
                            out.update(self._generate_chunk([i], reqs, preps))
                        except Exception as exc1:
                            out[i] = _describe(exc1)
        return out

    def _generate_chunk(
        self, chunk: list[int], reqs: dict[int, ModelRequest], preps: dict[int, PreparedRequest]
    ) -> dict[int, tuple[str, dict[str, int]]]:
        import torch

        cfg = reqs[chunk[0]].config
        enc = self.encode_prepared([preps[i] for i in chunk], padding_side="left")
        kwargs: dict[str, Any] = {
            "max_new_tokens": cfg.max_new_tokens,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if cfg.temperature > 0:
            kwargs.update(do_sample=True, temperature=cfg.temperature, top_p=cfg.top_p)
            if cfg.seed is not None:
                torch.manual_seed(cfg.seed)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if self.plain_prompts:
            kwargs.update(stop_strings=list(PLAIN_TURN_MARKERS), tokenizer=self.tokenizer)
        with torch.inference_mode():
            seqs = self.model.generate(**enc, **kwargs)
        width = enc["input_ids"].shape[1]
        new = seqs[:, width:]
        eos = self.model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        eos_ids.add(self.tokenizer.pad_token_id)
        out: dict[int, tuple[str, dict[str, int]]] = {}
        for row, i in enumerate(chunk):
            toks = new[row].tolist()
            n = next((k + 1 for k, t in enumerate(toks) if t in eos_ids), len(toks))
            text = self.tokenizer.decode(toks[:n], skip_special_tokens=True)
            text = (cut_at_turn_markers(text) if self.plain_prompts else text).strip()
            usage = {"prompt_tokens": int(enc["attention_mask"][row].sum()), "completion_tokens": n}
            out[i] = (text, usage)
        return out


def _wants_scores(req: ModelRequest) -> bool:
    return bool(req.options) and req.config.score_options


def _has_media(prep: PreparedRequest) -> bool:
    return bool(prep.images or prep.videos)


def _chunks(items: list[T], media: Callable[[T], bool], size: int) -> list[list[T]]:
    """Batches of at most ``size`` that never mix requests with and without media.

    Some processors treat a batch differently when only part of it has images, so mixing
    would make a request's result depend on its batch-mates.
    """
    out: list[list[T]] = []
    for flag in (False, True):
        sel = [x for x in items if media(x) == flag]
        out.extend(sel[k : k + size] for k in range(0, len(sel), size))
    return out


def _describe(exc: Exception) -> str:
    if isinstance(exc, ScoringError | RequestInputError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
