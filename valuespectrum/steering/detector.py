"""Whole-input value detectors for gated steering: one decision per input, not per token.

A detector is a layer probe (w, b) read on a *pooled* activation of the whole prompt (the
mean over its real tokens, or its last token): the input counts as value-relevant when
sigmoid(w . pool(h) + b) > threshold. Two ways to use it:

- on request lists (:meth:`InputDetector.decide`): each prompt is read once, unsteered, and
  only accepted requests are run under steering. Steering evaluation uses this, because
  option scoring appends answer text to the prompt and must not let the answer change the
  decision;
- inside a forward pass (:meth:`InputDetector.gate`, passed to ``steer(..., gate=...)``): the
  decision is taken on the gate layer's output of the prompt pass, with the attention mask
  so padding is left out of the mean.

The probe can be the steering vector's own layer probe or a separate detector trained on
value-relevant versus other texts (``vspec steer extract`` with ``detector_layer``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from valuespectrum.errors import ConfigError
from valuespectrum.steering.vectors import SteeringVector

if TYPE_CHECKING:
    import torch

    from valuespectrum.types import ModelRequest

Pooling = Literal["mean", "last"]


@dataclass
class InputDetector:
    """P(value-relevant | prompt) = sigmoid(w . pool(h_layer) + b); accept when above ``threshold``."""

    w: torch.Tensor
    b: float
    layer: int
    pooling: Pooling = "mean"
    threshold: float = 0.5
    layer_template: str | None = None
    source: str = ""
    """Where the probe came from (for reports), e.g. a file path or 'own probe'."""
    _cache: dict[str, float] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.pooling not in ("mean", "last"):
            raise ConfigError(f"detector pooling must be 'mean' or 'last', got {self.pooling!r}")
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError(f"detector threshold must lie strictly between 0 and 1, got {self.threshold}")

    @classmethod
    def from_vector(
        cls,
        vector: SteeringVector,
        *,
        layer: int | None = None,
        pooling: Pooling | None = None,
        threshold: float = 0.5,
        source: str = "",
    ) -> InputDetector:
        """A detector from a saved probe vector's layer (default: its first layer).

        ``pooling`` defaults to the position the probe was trained on (``metadata["position"]``):
        a probe fitted on last-token activations gives meaningless probabilities on mean-pooled
        ones, so a contradicting explicit choice is refused.
        """
        trained = vector.metadata.get("position")
        if pooling is None:
            pooling = trained if trained in ("mean", "last") else "last"
        elif trained in ("mean", "last") and trained != pooling:
            raise ConfigError(
                f"{source or 'detector'}: the probe was trained on '{trained}' activations but the gate "
                f"reads '{pooling}'; set gate.pooling: {trained} (or extract with position: {pooling})"
            )
        if vector.probe_bias is None:
            raise ConfigError(
                f"{source or 'detector'}: a detector needs a probe vector (method 'probe' with biases), "
                f"got method {vector.method!r}"
            )
        chosen = min(vector.layers) if layer is None else layer
        if chosen not in vector.layers:
            raise ConfigError(
                f"{source or 'detector'}: layer {chosen} is not in the probe's layers {sorted(vector.layers)}"
            )
        return cls(
            w=vector.layers[chosen].float(),
            b=float(vector.probe_bias[chosen]),
            layer=chosen,
            pooling=pooling,
            threshold=threshold,
            layer_template=vector.layer_template,
            source=source,
        )

    def probabilities(
        self, model: Any, tokenizer_or_processor: Any, texts: Sequence[str], *, batch_size: int = 8
    ) -> list[float]:
        """Detector probability for each text, read from the unsteered model (cached per text)."""
        import torch

        from valuespectrum.steering.collect import collect_activations

        todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if todo:
            acts = collect_activations(
                model,
                tokenizer_or_processor,
                todo,
                [self.layer],
                position=self.pooling,
                batch_size=batch_size,
                layer_template=self.layer_template,
            )
            (pooled,) = acts.values()
            probs = torch.sigmoid(pooled.double() @ self.w.double() + self.b)
            self._cache.update(zip(todo, (float(p) for p in probs), strict=True))
        return [self._cache[t] for t in texts]

    def decide(self, model: Any, tokenizer_or_processor: Any, texts: Sequence[str]) -> list[bool]:
        """True for the texts the detector deems value-relevant."""
        return [p > self.threshold for p in self.probabilities(model, tokenizer_or_processor, texts)]

    def gate(self) -> PooledGate:
        """A gate for :func:`~valuespectrum.steering.apply.steer` that pools the prompt pass."""
        return PooledGate(self.w, self.b, self.pooling, self.threshold)


@dataclass
class PooledGate:
    """Gate on a pooled prompt activation; ``steer`` passes the attention mask of the prompt pass.

    Without a mask (a model called with no ``attention_mask``) every position counts.
    """

    w: torch.Tensor
    b: float
    pooling: Pooling
    threshold: float
    uses_attention_mask: bool = True

    def __call__(self, hidden: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        import torch

        h = hidden.double()
        if attention_mask is None:
            mask = torch.ones(h.shape[:2], dtype=h.dtype, device=h.device)
        else:
            mask = attention_mask[:, -h.shape[1] :].to(device=h.device, dtype=h.dtype)
        if self.pooling == "mean":
            pooled = (h * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)
        else:
            # the last real token: with left padding the last column; with right padding the last 1
            idx = (mask * torch.arange(1, mask.shape[1] + 1, device=h.device, dtype=h.dtype)).argmax(1)
            pooled = h[torch.arange(h.shape[0], device=h.device), idx]
        w = self.w.to(device=h.device, dtype=h.dtype)
        return torch.sigmoid(pooled @ w + self.b) > self.threshold


def request_text(request: ModelRequest) -> str:
    """The text a detector reads for a request: its messages' text parts, one per line.

    Images and video are not read by the detector (it runs on the language tower alone).
    """
    return "\n".join(t for m in request.messages if (t := m.plain_text()))
