"""ConVA's published shift: one constant vector per layer, fixed from the prompt's last token.

For the chosen layers **in order** (each hook sees the shifts of earlier layers, because they
already changed its input), on the pass that reads a prompt: take the last prompt token ``e``
of the layer output, ``eps = (logit(p0) - b - w.e) / ||w||`` with the layer probe ``(w, b)``,
clamped at ``eps >= 0`` for ``direction="raise"`` (toward p0) or ``eps <= 0`` for ``"lower"``
(away from the value, used with a small p0), then add ``eps * w / ||w||`` to **every position**
of that layer, and keep adding the same vector in each decoding step of the generation.

This differs from :func:`~valuespectrum.steering.apply.steer` ``mode="gated"``, which moves each
position by its own minimum-norm shift. Inputs are left padded, so the last position of each row
is a real token; each sequence of a batch gets its own epsilon.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

from valuespectrum.errors import ConfigError
from valuespectrum.steering.gated import logit, shift_dtype
from valuespectrum.steering.layers import (
    hidden_of,
    vector_modules,
    with_hidden,
)
from valuespectrum.steering.vectors import SteeringVector

if TYPE_CHECKING:
    import torch

Direction = Literal["raise", "lower"]


def prompt_epsilon(
    e: torch.Tensor, w: torch.Tensor, b: float, p0: float, direction: Direction
) -> torch.Tensor:
    """Signed step along ``w / ||w||`` for last-token activations ``e`` [batch, dim]."""
    wd = w.to(device=e.device, dtype=e.dtype)
    eps = (logit(p0) - b - e @ wd) / wd.norm()
    return eps.clamp(min=0.0) if direction == "raise" else eps.clamp(max=0.0)


@contextmanager
def prompt_constant_shift(
    model: Any,
    probe: SteeringVector,
    p0: float = 0.9,
    *,
    direction: Direction = "raise",
    layers: list[int] | None = None,
    layer_template: str | None = None,
) -> Iterator[dict[int, torch.Tensor]]:
    """Apply ConVA's shift inside the block; yields {layer: eps [batch]} of the latest prompt."""
    if probe.probe_bias is None:
        raise ConfigError("the prompt-constant shift needs a probe vector (w per layer plus probe_bias)")
    if direction not in ("raise", "lower"):
        raise ConfigError(f"direction must be 'raise' or 'lower', got {direction!r}")
    logit(p0)  # validates p0
    modules = vector_modules(
        model, probe, None if layers is None else sorted(layers), layer_template, what="probe"
    )
    eps_seen: dict[int, torch.Tensor] = {}
    handles = []
    try:
        for i, module in modules.items():
            hook = constant_shift_hook(probe.layers[i], probe.probe_bias[i], p0, direction, eps_seen, i)
            handles.append(module.register_forward_hook(hook))
        yield eps_seen
    finally:
        for h in handles:
            h.remove()


def constant_shift_hook(
    w: torch.Tensor,
    b: float,
    p0: float,
    direction: Direction,
    eps_seen: dict[int, torch.Tensor] | None = None,
    layer: int = 0,
) -> Any:
    """The forward hook of one layer: a new epsilon on each prompt pass, the same vector after."""
    state: dict[str, Any] = {"shift": None}

    def hook(_module: Any, _inputs: Any, output: Any) -> Any:
        h = hidden_of(output)
        dtype = shift_dtype(h)
        shift = state["shift"]
        new_prompt = h.shape[1] > 1 or shift is None or shift.shape[0] != h.shape[0]
        if new_prompt:
            wd = w.to(device=h.device, dtype=dtype)
            eps = prompt_epsilon(h[:, -1, :].to(dtype), wd, b, p0, direction)
            shift = eps.unsqueeze(-1) * (wd / wd.norm())
            state["shift"] = shift
            if eps_seen is not None:
                eps_seen[layer] = eps.detach().cpu()
        return with_hidden(output, (h.to(dtype) + shift.unsqueeze(1)).to(h.dtype))

    return hook
