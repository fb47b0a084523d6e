"""Which SAE features stand for a value.

- :func:`contrastive_features`: mean activation on value-positive minus value-negative texts
  (the built-in contrastive pairs by default), ranked by the difference;
- :func:`span_features`: features active on a span of a prompt, ranked by their largest
  activation there (the published design ranks those active on " your values");
- :func:`nearest_features`: decoder rows closest in cosine to a direction (a mean-difference or
  probe vector).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from valuespectrum.errors import ConfigError
from valuespectrum.sae.activations import forward_capture
from valuespectrum.sae.hooks import parse_hook
from valuespectrum.sae.model import SparseAutoencoder
from valuespectrum.sae.steer import span_mask
from valuespectrum.steering.collect import text_tokenizer
from valuespectrum.values import Value

if TYPE_CHECKING:
    import torch

    from valuespectrum.steering.pairs import ContrastivePair


@dataclass(frozen=True)
class FeatureScore:
    feature: int
    score: float


def _ranked(scores: torch.Tensor, top: int) -> list[FeatureScore]:
    vals, idx = scores.topk(min(top, scores.shape[0]))
    return [FeatureScore(int(i), float(v)) for v, i in zip(vals, idx, strict=True)]


def _encode_text(
    model: Any, tokenizer: Any, sae: SparseAutoencoder, text: str, layer_template: str | None
) -> Any:
    import torch

    tok = text_tokenizer(tokenizer)
    ids = tok(text, return_tensors="pt")["input_ids"].to(next(model.parameters()).device)
    h = forward_capture(model, parse_hook(sae.hook_name), ids, layer_template=layer_template)
    with torch.no_grad():
        return sae.encode(h[0].float()), ids[0]


def mean_activations(
    model: Any,
    tokenizer: Any,
    sae: SparseAutoencoder,
    texts: Sequence[str],
    *,
    layer_template: str | None = None,
) -> torch.Tensor:
    """Mean feature activation over every token of every text (the first token left out) -> [d_sae]."""
    import torch

    if not texts:
        raise ConfigError("mean_activations needs at least one text")
    total = torch.zeros(sae.d_sae)
    n = 0
    for t in texts:
        f, _ = _encode_text(model, tokenizer, sae, t, layer_template)
        rows = f[1:] if f.shape[0] > 1 else f
        total += rows.sum(dim=0).cpu()
        n += int(rows.shape[0])
    return total / n


def contrastive_features(
    model: Any,
    tokenizer: Any,
    sae: SparseAutoencoder,
    value: Value,
    *,
    pairs: Sequence[ContrastivePair] | None = None,
    top: int = 10,
    layer_template: str | None = None,
) -> list[FeatureScore]:
    """Features ranked by mean activation on ``value``-positive minus negative responses."""
    from valuespectrum.steering.pairs import builtin_pairs

    mine = [p for p in (builtin_pairs() if pairs is None else pairs) if p.value is value]
    if not mine:
        raise ConfigError(f"no contrastive pairs for {value.value}")
    pos = mean_activations(
        model, tokenizer, sae, [p.render(p.positive) for p in mine], layer_template=layer_template
    )
    neg = mean_activations(
        model, tokenizer, sae, [p.render(p.negative) for p in mine], layer_template=layer_template
    )
    return _ranked(pos - neg, top)


def span_features(
    model: Any,
    tokenizer: Any,
    sae: SparseAutoencoder,
    prompt: str,
    span: str = " your values",
    *,
    top: int = 25,
    layer_template: str | None = None,
) -> list[FeatureScore]:
    """Features active on the tokens of ``span`` inside ``prompt``, by their largest activation there."""
    f, ids = _encode_text(model, tokenizer, sae, prompt, layer_template)
    span_ids = text_tokenizer(tokenizer)(span, add_special_tokens=False)["input_ids"]
    mask = span_mask(ids.unsqueeze(0), span_ids)[0]
    if not bool(mask.any()):
        raise ConfigError(f"span {span!r} does not occur (as tokens) in the prompt")
    best = f[mask.to(f.device)].max(dim=0).values.cpu()
    active = [s for s in _ranked(best, top) if s.score > 0]
    return active


def nearest_features(sae: SparseAutoencoder, direction: torch.Tensor, *, top: int = 10) -> list[FeatureScore]:
    """Features whose decoder rows are nearest in cosine to ``direction`` [d_in]."""
    import torch

    d = direction.flatten().to(sae.W_dec.dtype).to(sae.W_dec.device)
    if d.shape[0] != sae.d_in:
        raise ConfigError(f"direction has {d.shape[0]} dims, the SAE reads {sae.d_in}")
    cos = torch.nn.functional.cosine_similarity(sae.W_dec, d.unsqueeze(0), dim=1)
    return _ranked(cos.cpu(), top)
