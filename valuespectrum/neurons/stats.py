"""Streamed per-neuron activation statistics of the MLP intermediate units.

A *neuron* is one element of the input of the MLP's down projection
(``act(gate_proj x) * up_proj x`` in Llama, Qwen, Mistral, Gemma and SmolLM2), read with a
forward pre-hook on ``<decoder layer>.mlp.down_proj``. Statistics are merged batch by batch in
float64 (Welford's update in Chan's pairwise form), so the activation matrix is never held and
the result does not depend on the batch size. Padding never enters: inputs are left padded and
only positions inside the pooled span of each text are read.

Pooling (``pool``): ``"mean"`` (one sample per text: the mean over its span), ``"last"`` (the
span's last token) or ``"tokens"`` (every span token is a sample).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from valuespectrum.errors import ConfigError
from valuespectrum.steering.layers import layer_template_for, resolve_layers

if TYPE_CHECKING:
    from valuespectrum.neurons.aspects import AspectText

Pool = Literal["mean", "last", "tokens"]
MLP_INPUT = "mlp.down_proj"


def neuron_template_for(model: Any, neuron_template: str | None = None) -> str:
    """The module whose *input* holds the neurons: ``<decoder layer template>.mlp.down_proj``."""
    if neuron_template is not None:
        if "{i}" not in neuron_template:
            raise ConfigError(f"neuron_template {neuron_template!r} must contain '{{i}}' for the layer index")
        return neuron_template
    return f"{layer_template_for(model)}.{MLP_INPUT}"


def neuron_modules(model: Any, layers: list[int] | None, template: str) -> dict[int, Any]:
    """Layer index -> the module whose input holds that layer's neurons."""
    return resolve_layers(model, layers, template)


@dataclass
class Welford:
    """Running count, mean and sum of squared deviations per neuron (float64)."""

    n: int
    mean: np.ndarray
    m2: np.ndarray

    @classmethod
    def empty(cls, width: int) -> Welford:
        return cls(0, np.zeros(width, dtype=np.float64), np.zeros(width, dtype=np.float64))

    @classmethod
    def from_moments(cls, n: int, mean: np.ndarray, var: np.ndarray) -> Welford:
        """Statistics with given sample count, mean and (ddof=1) variance (tests, imports)."""
        m = np.asarray(mean, dtype=np.float64)
        return cls(int(n), m.copy(), np.asarray(var, dtype=np.float64) * max(int(n) - 1, 0))

    def update(self, x: np.ndarray) -> None:
        """Merge a batch of samples ``x`` [m, width]."""
        m = int(x.shape[0])
        if m == 0:
            return
        xb = x.astype(np.float64, copy=False)
        mb = xb.mean(axis=0)
        m2b = ((xb - mb) ** 2).sum(axis=0)
        total = self.n + m
        delta = mb - self.mean
        self.mean = self.mean + delta * (m / total)
        self.m2 = self.m2 + m2b + delta**2 * (self.n * m / total)
        self.n = total

    @property
    def var(self) -> np.ndarray:
        """Sample variance (ddof=1); zero with fewer than two samples."""
        return self.m2 / (self.n - 1) if self.n > 1 else np.zeros_like(self.m2)


@dataclass
class NeuronStats:
    """Per-layer statistics of one aspect's texts."""

    layers: dict[int, Welford]
    pool: Pool
    neuron_template: str
    n_texts: int
    data_digest: str
    meta: dict[str, Any] = field(default_factory=dict)

    def widths(self) -> dict[int, int]:
        return {i: int(w.mean.shape[0]) for i, w in self.layers.items()}

    def save(self, path: str | Path) -> Path:
        """``<stem>.safetensors`` (mean, m2 per layer) + ``<stem>.json`` (counts, pooling, digest)."""
        from safetensors.numpy import save_file

        base = Path(path).with_suffix("")
        base.parent.mkdir(parents=True, exist_ok=True)
        tensors = {}
        for i, w in self.layers.items():
            tensors[f"mean.{i}"], tensors[f"m2.{i}"] = w.mean, w.m2
        save_file(tensors, str(base.with_suffix(".safetensors")))
        meta = {
            "kind": "neuron_stats",
            "pool": self.pool,
            "neuron_template": self.neuron_template,
            "n_texts": self.n_texts,
            "data_digest": self.data_digest,
            "counts": {str(i): w.n for i, w in sorted(self.layers.items())},
            "meta": self.meta,
        }
        base.with_suffix(".json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return base.with_suffix(".safetensors")

    @classmethod
    def load(cls, path: str | Path) -> NeuronStats:
        from safetensors.numpy import load_file

        base = Path(path).with_suffix("")
        js, st = base.with_suffix(".json"), base.with_suffix(".safetensors")
        for p in (js, st):
            if not p.is_file():
                raise ConfigError(
                    f"{p}: missing; neuron statistics are a .safetensors file plus a .json sidecar"
                )
        meta = json.loads(js.read_text())
        if meta.get("kind") != "neuron_stats":
            raise ConfigError(f"{js}: field 'kind' is {meta.get('kind')!r}; expected 'neuron_stats'")
        tensors = load_file(str(st))
        layers = {
            int(i): Welford(int(n), tensors[f"mean.{i}"], tensors[f"m2.{i}"])
            for i, n in meta["counts"].items()
        }
        return cls(
            layers, meta["pool"], meta["neuron_template"], meta["n_texts"], meta["data_digest"], meta["meta"]
        )


def encode_with_offsets(tok: Any, texts: list[str]) -> Any:
    """Left-padded batch with character offsets (fast tokenizers); without them (slow ones) the
    whole text is the span, which :func:`span_masks` then uses."""
    try:
        return tok(texts, return_tensors="pt", padding=True, return_offsets_mapping=True)
    except (NotImplementedError, ValueError, TypeError):
        return tok(texts, return_tensors="pt", padding=True)


def span_masks(tok: Any, texts: Sequence[str], starts: Sequence[int], enc: Any) -> Any:
    """Bool [batch, seq]: real tokens whose text ends after the span start (left padding aware)."""
    import torch

    offsets = enc.get("offset_mapping")
    attn = enc["attention_mask"].bool()
    if offsets is None:
        return attn
    ends = offsets[..., 1]
    start_t = torch.tensor(list(starts), dtype=ends.dtype).unsqueeze(1)
    inside = (ends > start_t) & attn
    # a span that tokenises into nothing (or a tokenizer without offsets for specials) falls back to the text
    empty = ~inside.any(dim=1)
    return torch.where(empty.unsqueeze(1), attn, inside)


def collect_neuron_stats(
    model: Any,
    tokenizer: Any,
    texts: Sequence[AspectText] | Sequence[str],
    layers: list[int] | None = None,
    *,
    pool: Pool = "mean",
    batch_size: int = 8,
    neuron_template: str | None = None,
) -> NeuronStats:
    """Statistics of every neuron at ``layers`` (None: all) over ``texts``.

    Plain strings are pooled over the whole text; :class:`AspectText` items over their response.
    """
    import torch

    from valuespectrum.steering.collect import left_padded, text_tokenizer
    from valuespectrum.steering.vectors import texts_digest

    if pool not in ("mean", "last", "tokens"):
        raise ConfigError(f"pool must be 'mean', 'last' or 'tokens', got {pool!r}")
    if not texts:
        raise ConfigError("collect_neuron_stats needs at least one text")
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
    items = [(t, 0) if isinstance(t, str) else (t.text, t.start) for t in texts]
    tok = text_tokenizer(tokenizer)
    template = neuron_template_for(model, neuron_template)
    modules = neuron_modules(model, layers, template)
    captured: dict[int, torch.Tensor] = {}

    def make_hook(i: int) -> Any:
        def hook(_m: Any, args: Any) -> None:
            captured[i] = args[0].detach()

        return hook

    acc: dict[int, Welford] = {}
    handles = [m.register_forward_pre_hook(make_hook(i)) for i, m in modules.items()]
    try:
        device = next(model.parameters()).device
        with left_padded(tok), torch.no_grad():
            for s in range(0, len(items), batch_size):
                chunk = items[s : s + batch_size]
                batch_texts = [t for t, _ in chunk]
                enc = encode_with_offsets(tok, batch_texts)
                mask = span_masks(tok, batch_texts, [st for _, st in chunk], enc)
                captured.clear()
                model(input_ids=enc["input_ids"].to(device), attention_mask=enc["attention_mask"].to(device))
                for i in modules:
                    h = captured[i].to("cpu", torch.float64)
                    samples = _pool(h, mask, pool)
                    acc.setdefault(i, Welford.empty(int(h.shape[-1]))).update(samples.numpy())
    finally:
        for handle in handles:
            handle.remove()
    return NeuronStats(acc, pool, template, len(items), texts_digest([t for t, _ in items]))


def _pool(h: Any, mask: Any, pool: Pool) -> Any:
    """Samples [m, width] from activations [batch, seq, width] inside ``mask`` [batch, seq]."""
    import torch

    if pool == "tokens":
        return h[mask]
    if pool == "mean":
        w = mask.to(h.dtype).unsqueeze(-1)
        return (h * w).sum(1) / w.sum(1)
    # last token of the span: with left padding that is the last real position of the row
    last = mask.shape[1] - 1 - torch.flip(mask.to(torch.int64), dims=[1]).argmax(dim=1)
    return h[torch.arange(h.shape[0]), last]
