"""More ways to find and use a value direction, next to CAA and probes.

- :func:`pca_directions` (RepE-style): the first principal component of the paired differences
  ``pos_i - neg_i`` per layer, signed to agree with the mean difference and scaled to the mean
  projection of the differences on it (so strengths compare with CAA's);
- :func:`actadd_vector` (ActAdd-style): the activation difference of prompt pairs such as
  ("I care about others", "I only care about myself"), at their last token (or mean);
- :func:`ablate_direction`: project a direction out of the residual stream at chosen layers,
  ``h <- h - (h.u) u`` with ``u`` the unit direction, as a context manager that restores the model.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from valuespectrum.errors import ConfigError
from valuespectrum.steering.collect import Position, collect_activations
from valuespectrum.steering.layers import (
    hidden_of,
    layer_template_for,
    vector_modules,
    with_hidden,
)
from valuespectrum.steering.vectors import SteeringVector, texts_digest
from valuespectrum.values import Value

if TYPE_CHECKING:
    import torch


def pca_directions(pos: dict[int, torch.Tensor], neg: dict[int, torch.Tensor]) -> dict[int, torch.Tensor]:
    """Per layer: first principal component of the paired differences (rows of ``pos`` and ``neg`` pair up)."""
    import torch

    if set(pos) != set(neg):
        raise ConfigError(f"positive layers {sorted(pos)} differ from negative layers {sorted(neg)}")
    out: dict[int, torch.Tensor] = {}
    for i in sorted(pos):
        if pos[i].shape != neg[i].shape or pos[i].shape[0] < 2:
            raise ConfigError(f"layer {i}: PCA needs at least 2 pairs with matching shapes")
        diff = (pos[i] - neg[i]).double()
        mean = diff.mean(0)
        _, _, vh = torch.linalg.svd(diff - mean, full_matrices=False)
        u = vh[0]
        proj = float((diff @ u).mean())
        if proj < 0:
            u, proj = -u, -proj
        out[i] = (u * proj).float()
    return out


def pca_vector(
    pos: dict[int, torch.Tensor],
    neg: dict[int, torch.Tensor],
    value: Value,
    *,
    model_id: str,
    layer_template: str,
    data_digest: str,
) -> SteeringVector:
    """A :class:`SteeringVector` (method ``pca``) from paired activations."""
    return SteeringVector(
        value,
        "pca",
        pca_directions(pos, neg),
        model_id,
        layer_template,
        data_digest,
        None,
        {"n_pairs": len(next(iter(pos.values())))},
    )


def actadd_vector(
    model: Any,
    tokenizer: Any,
    prompt_pairs: Sequence[tuple[str, str]],
    value: Value,
    layers: list[int],
    *,
    model_id: str,
    position: Position = "last",
    layer_template: str | None = None,
) -> SteeringVector:
    """ActAdd-style vector: mean over prompt pairs of activation(plus) - activation(minus)."""
    if not prompt_pairs:
        raise ConfigError("actadd_vector needs at least one (plus, minus) prompt pair")
    template = layer_template_for(model, layer_template)
    plus = collect_activations(
        model, tokenizer, [p for p, _ in prompt_pairs], layers, position=position, layer_template=template
    )
    minus = collect_activations(
        model, tokenizer, [m for _, m in prompt_pairs], layers, position=position, layer_template=template
    )
    dirs = {i: (plus[i] - minus[i]).mean(0) for i in plus}
    return SteeringVector(
        value,
        "actadd",
        dirs,
        model_id,
        template,
        texts_digest(list(prompt_pairs)),
        None,
        {"n_pairs": len(prompt_pairs), "position": position},
    )


@contextmanager
def ablate_direction(
    model: Any,
    vector: SteeringVector,
    *,
    layers: list[int] | None = None,
    layer_template: str | None = None,
) -> Iterator[None]:
    """Remove the component along ``vector[layer]`` from every position's output of each layer."""
    import torch

    modules = vector_modules(model, vector, layers, layer_template)
    handles = []
    try:
        for i, module in modules.items():
            d = vector.layers[i].double()
            if float(d.norm()) == 0.0:
                raise ConfigError(f"layer {i}: the direction is zero; nothing to ablate")
            handles.append(module.register_forward_hook(_ablate_hook(d / d.norm(), torch)))
        yield
    finally:
        for h in handles:
            h.remove()


def _ablate_hook(unit: torch.Tensor, torch: Any) -> Any:
    def hook(_module: Any, _inputs: Any, output: Any) -> Any:
        h = hidden_of(output)
        dtype = torch.float32 if h.device.type == "mps" else torch.float64
        u = unit.to(device=h.device, dtype=dtype)
        hd = h.to(dtype)
        return with_hidden(output, (hd - (hd @ u).unsqueeze(-1) * u).to(h.dtype))

    return hook
