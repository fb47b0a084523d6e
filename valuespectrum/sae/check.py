"""Check an SAE against the model it is meant for, before it steers anything.

:func:`check_sae` reads a few hundred tokens of the offline corpus at the SAE's hook, measures
fraction of variance explained (FVE) and L0, and refuses (``SAEMismatch``) below ``min_fve``
(default 0.5, overridable). To name the likely mismatch it retries the neighbouring hook
points and the other input processings (centring, norm rescaling) and says which one fits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valuespectrum.errors import ConfigError
from valuespectrum.sae.activations import activations_in_memory, corpus_texts
from valuespectrum.sae.hooks import HookPoint, parse_hook
from valuespectrum.sae.model import SparseAutoencoder
from valuespectrum.steering.layers import count_layers, layer_template_for

DEFAULT_MIN_FVE = 0.5


class SAEMismatch(ConfigError):
    """The SAE does not reconstruct this model's activations at its hook."""


@dataclass(frozen=True)
class SAECheck:
    fve: float
    l0: float
    n_tokens: int
    hook_name: str


def check_sae(
    sae: SparseAutoencoder,
    model: Any,
    tokenizer: Any,
    *,
    min_fve: float | None = DEFAULT_MIN_FVE,
    texts: Sequence[str] | None = None,
    max_tokens: int = 256,
    layer_template: str | None = None,
) -> SAECheck:
    """FVE and L0 of ``sae`` on ``model``; raises :class:`SAEMismatch` when FVE < ``min_fve`` (None: never)."""
    point = parse_hook(sae.hook_name)
    template = layer_template_for(model, layer_template)
    n_layers = count_layers(model, template)
    if point.layer >= n_layers:
        raise SAEMismatch(
            f"SAE hook {sae.hook_name}: the model has only {n_layers} decoder layers (wrong model?)"
        )
    src = list(texts) if texts is not None else corpus_texts(("pydoc",))[:40]

    def acts(p: HookPoint) -> Any:
        return activations_in_memory(model, tokenizer, p, src, max_tokens=max_tokens, layer_template=template)

    x = acts(point)
    if x.shape[-1] != sae.d_in:
        raise SAEMismatch(
            f"SAE d_in {sae.d_in} != the model's width {x.shape[-1]} at {sae.hook_name}: the SAE is for another model"
        )
    q = sae.quality(x)
    result = SAECheck(fve=q["fve"], l0=q["l0"], n_tokens=int(q["n_tokens"]), hook_name=sae.hook_name)
    if min_fve is None or q["fve"] >= min_fve:
        return result
    raise SAEMismatch(
        f"SAE at {sae.hook_name}: fraction of variance explained {q['fve']:.3f} < {min_fve} "
        f"(L0 {q['l0']:.1f}) on {int(q['n_tokens'])} tokens; {_diagnose(sae, point, n_layers, x, acts)}. "
        "Pass min_fve=None to load it anyway"
    )


def _diagnose(sae: SparseAutoencoder, point: HookPoint, n_layers: int, x: Any, acts: Any) -> str:
    tries: list[tuple[str, float]] = []
    for alt in (dataclasses.replace(sae, center=not sae.center), _renorm(sae)):
        if alt is not None:
            what = "centring" if alt.center != sae.center else f"normalisation {alt.normalize}"
            tries.append(
                (f"input processing ({what} fits: FVE {alt.quality(x)['fve']:.3f})", alt.quality(x)["fve"])
            )
    for p in _neighbours(point, n_layers):
        fve = sae.quality(acts(p))["fve"]
        tries.append((f"hook (the activations at {p.hook_name} fit: FVE {fve:.3f})", fve))
    best = max(tries, key=lambda t: t[1], default=None)
    if best is not None and best[1] >= 0.5:
        return f"likely mismatch: {best[0]}"
    return "likely mismatch: model revision or weights (no neighbouring hook or input processing fits either)"


def _renorm(sae: SparseAutoencoder) -> SparseAutoencoder | None:
    if sae.normalize == "constant_norm_rescale":
        return dataclasses.replace(sae, normalize="none")
    return dataclasses.replace(sae, normalize="constant_norm_rescale")


def _neighbours(point: HookPoint, n_layers: int) -> list[HookPoint]:
    out = [HookPoint(point.layer, s) for s in ("resid_post", "resid_pre", "mlp_out") if s != point.site]
    out += [HookPoint(j, point.site) for j in (point.layer - 1, point.layer + 1) if 0 <= j < n_layers]
    return out


def load_checked(
    path: str | Path,
    model: Any,
    tokenizer: Any,
    *,
    min_fve: float | None = DEFAULT_MIN_FVE,
    hook_name: str | None = None,
    layer_template: str | None = None,
) -> tuple[SparseAutoencoder, SAECheck]:
    """Load an SAE from a local path and check it on ``model`` (see :func:`check_sae`)."""
    from valuespectrum.sae.formats import load_sae

    device = str(next(model.parameters()).device)
    sae = load_sae(path, hook_name=hook_name, device=device)
    return sae, check_sae(sae, model, tokenizer, min_fve=min_fve, layer_template=layer_template)
