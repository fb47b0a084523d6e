"""ConVA-style gated steering: the minimum-norm shift that lifts a probe's probability to p0.

For a layer probe (w, b) with P(value | e) = sigmoid(w.e + b), the smallest move of the
activation e that reaches probability p0 goes along w:

    eps = max(0, (logit(p0) - b - w.e) / ||w||),   e' = e + eps * w / ||w||

so activations already at or above p0 are left untouched. The gate decides whether an input
is value-relevant at all; only gated-in sequences are shifted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

#: hidden states at the detection layer [batch, seq, dim] -> bool per sequence [batch]
Gate = Callable[["torch.Tensor"], "torch.Tensor"]


def logit(p: float) -> float:
    if not 0.0 < p < 1.0:
        raise ValueError(f"p0 must lie strictly between 0 and 1, got {p}")
    return math.log(p / (1.0 - p))


def probe_probability(hidden: torch.Tensor, w: torch.Tensor, b: float) -> torch.Tensor:
    """sigmoid(w.e + b) for every position of ``hidden`` [..., dim]."""
    import torch

    return torch.sigmoid(hidden.double() @ w.double() + b).to(hidden.dtype)


def min_norm_shift(hidden: torch.Tensor, w: torch.Tensor, b: float, p0: float) -> torch.Tensor:
    """Shift each position of ``hidden`` [..., dim] by the least amount that makes the probe read p0.

    Computed in float64 so the probe reads p0 to ~1e-6 even for float32 activations.
    """
    wd = w.to(device=hidden.device, dtype=shift_dtype(hidden))
    h = hidden.to(wd.dtype)
    norm = wd.norm()
    eps = ((logit(p0) - b - h @ wd) / norm).clamp(min=0.0)
    return (h + eps.unsqueeze(-1) * (wd / norm)).to(hidden.dtype)


def shift_dtype(hidden: torch.Tensor) -> torch.dtype:
    """float64 where the device supports it (not on MPS), else float32."""
    import torch

    return torch.float32 if hidden.device.type == "mps" else torch.float64


def probe_gate(w: torch.Tensor, b: float, threshold: float = 0.5) -> Gate:
    """A gate from a detector probe: steer a sequence when sigmoid(w.e + b) > threshold at its last position.

    Train the detector on value-relevant versus other texts (:func:`collect.train_detector`).
    With left padding the last position is always a real token, so batches gate like single inputs.
    """

    def gate(hidden: torch.Tensor) -> torch.Tensor:
        return probe_probability(hidden[:, -1, :], w.to(hidden.device), b) > threshold

    return gate


def always(hidden: torch.Tensor) -> torch.Tensor:
    """The trivial gate: every sequence is value-relevant."""
    import torch

    return torch.ones(hidden.shape[0], dtype=torch.bool, device=hidden.device)
