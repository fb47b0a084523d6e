"""SAE hook names mapped onto our decoder-layer templates (:mod:`valuespectrum.steering.layers`).

- ``blocks.L.hook_resid_post`` (SAELens), ``layers.L`` (EleutherAI sparsify), ``model.layers.L``:
  the output of decoder layer L;
- ``blocks.L.hook_resid_pre``: the input of layer L (the output of layer L-1; the embeddings for L = 0);
- ``blocks.L.hook_mlp_out``: the output of layer L's ``mlp`` submodule.

Attention-head hooks (``attn.hook_z``) are not supported: an error says so. A point is read
and written with forward hooks that always come off (see :func:`attach`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from valuespectrum.errors import ConfigError
from valuespectrum.steering.layers import get_layer, hidden_of, layer_template_for, with_hidden

if TYPE_CHECKING:
    import torch

Site = Literal["resid_post", "resid_pre", "mlp_out"]

_PATTERNS: list[tuple[re.Pattern[str], Site]] = [
    (re.compile(r"^blocks\.(\d+)\.hook_resid_post$"), "resid_post"),
    (re.compile(r"^blocks\.(\d+)\.hook_resid_pre$"), "resid_pre"),
    (re.compile(r"^blocks\.(\d+)\.hook_mlp_out$"), "mlp_out"),
    (re.compile(r"^(?:model\.)?layers\.(\d+)$"), "resid_post"),
    (re.compile(r"^(?:model\.)?layers\.(\d+)\.mlp$"), "mlp_out"),
]


@dataclass(frozen=True)
class HookPoint:
    """Where an SAE reads the model: a decoder layer index and a site in it."""

    layer: int
    site: Site = "resid_post"

    @property
    def hook_name(self) -> str:
        """The SAELens name of this point."""
        return f"blocks.{self.layer}.hook_{self.site}"


def parse_hook(name: str) -> HookPoint:
    """The point a hook name denotes; a clear error for names we cannot map."""
    for pat, site in _PATTERNS:
        m = pat.match(name.strip())
        if m:
            return HookPoint(int(m.group(1)), site)
    hint = " (attention-head hooks are not supported)" if "attn" in name else ""
    raise ConfigError(
        f"SAE hook {name!r} cannot be mapped onto a decoder layer{hint}; supported: "
        "blocks.L.hook_resid_post, blocks.L.hook_resid_pre, blocks.L.hook_mlp_out, layers.L"
    )


Edit = Callable[["torch.Tensor"], "torch.Tensor | None"]
"""Receives the activations [batch, seq, d] at the point; returns replacements or None (read only)."""


@contextmanager
def attach(model: Any, point: HookPoint, edit: Edit, *, layer_template: str | None = None) -> Iterator[None]:
    """Call ``edit`` on the activations at ``point`` in every forward pass of the block.

    Output sites use a forward hook; ``resid_pre`` uses a forward pre-hook on layer L (so
    L = 0 reads the embeddings). Hooks are removed on exit, also when the block raises.
    """
    template = layer_template_for(model, layer_template)
    handle: Any
    if point.site == "resid_pre":
        module = get_layer(model, template, point.layer)

        def pre(_m: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            if args:
                new = edit(args[0])
                return None if new is None else ((new, *args[1:]), kwargs)
            new = edit(kwargs["hidden_states"])
            return None if new is None else (args, {**kwargs, "hidden_states": new})

        handle = module.register_forward_pre_hook(pre, with_kwargs=True)
    else:
        module = get_layer(model, template, point.layer)
        if point.site == "mlp_out":
            try:
                module = module.get_submodule("mlp")
            except AttributeError as exc:
                raise ConfigError(f"layer {point.layer} has no 'mlp' submodule for hook_mlp_out") from exc

        def post(_m: Any, _inputs: Any, output: Any) -> Any:
            new = edit(hidden_of(output))
            return None if new is None else with_hidden(output, new)

        handle = module.register_forward_hook(post)
    try:
        yield
    finally:
        handle.remove()
