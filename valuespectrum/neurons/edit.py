"""Edit value neurons for the duration of a ``with`` block (forward pre-hooks on the down projection).

Modes, for each selected neuron n with activation a_n:

- ``scale``: ``a_n <- gamma_n * a_n`` (gamma > 1 amplifies, < 1 suppresses, 0 ablates; 1 changes nothing);
- ``shift``: ``a_n <- a_n + gamma_n * delta_n`` (toward aspect A for gamma > 0);
- ``patch``: ``a_n <- mean_A,n`` (gamma unused).

gamma schedule (ours; the paper's "dynamic scaling factor" is not published), setting ``schedule``:
``"constant"`` uses gamma for every neuron; ``"by_d"`` scales each neuron's departure from "no
edit" by ``|d_n| / max |d|`` (scale: ``gamma_n = 1 + (gamma - 1) |d_n| / max|d|``; shift:
``gamma_n = gamma |d_n| / max|d|``), so the strongest neuron gets gamma and weaker ones less.
Every position passing through the hooked layers is edited (prompt and generated tokens).
Hooks are removed in ``finally``: the model is restored exactly even when the block raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np

from valuespectrum.errors import ConfigError
from valuespectrum.neurons.locate import NeuronSet
from valuespectrum.neurons.stats import neuron_modules

EditMode = Literal["scale", "shift", "patch"]
Schedule = Literal["constant", "by_d"]


def neuron_gammas(nset: NeuronSet, mode: EditMode, gamma: float, schedule: Schedule) -> np.ndarray:
    """gamma per selected neuron under ``schedule`` (see the module notes)."""
    if schedule == "constant":
        return np.full(len(nset), float(gamma))
    if schedule != "by_d":
        raise ConfigError(f"schedule must be 'constant' or 'by_d', got {schedule!r}")
    mag = np.abs(nset.d)
    rel = mag / mag.max() if len(nset) and mag.max() > 0 else np.zeros(len(nset))
    return 1.0 + (gamma - 1.0) * rel if mode == "scale" else gamma * rel


@contextmanager
def edit_neurons(
    model: Any,
    nset: NeuronSet,
    mode: EditMode = "scale",
    gamma: float = 0.0,
    *,
    schedule: Schedule = "constant",
    neuron_template: str | None = None,
) -> Iterator[dict[str, int]]:
    """Edit ``nset``'s neurons of ``model`` inside the block; yields counters (``edited_calls``)."""
    import torch

    if mode not in ("scale", "shift", "patch"):
        raise ConfigError(f"mode must be 'scale', 'shift' or 'patch', got {mode!r}")
    if len(nset) == 0:
        raise ConfigError("the neuron set is empty; locate with k >= 1")
    if mode == "patch" and np.isnan(nset.mean_a).any():
        raise ConfigError("patch needs the aspect means of every neuron; draw random sets with the stats")
    template = neuron_template or nset.neuron_template
    layers = sorted(nset.per_layer())
    modules = neuron_modules(model, layers, template)
    gammas = neuron_gammas(nset, mode, gamma, schedule)
    stats = {"edited_calls": 0}
    handles = []
    try:
        for i, module in modules.items():
            sel = nset.layer == i
            idx = torch.as_tensor(nset.index[sel], dtype=torch.long)
            width = nset.widths.get(i)
            if width is not None and int(idx.max()) >= width:
                raise ConfigError(f"layer {i}: neuron index {int(idx.max())} out of range ({width} neurons)")
            if mode == "scale":
                values = torch.as_tensor(gammas[sel])
            elif mode == "shift":
                values = torch.as_tensor(gammas[sel] * nset.delta[sel])
            else:
                values = torch.as_tensor(nset.mean_a[sel])
            handles.append(module.register_forward_pre_hook(_hook(mode, idx, values, stats)))
        yield stats
    finally:
        for h in handles:
            h.remove()


def _hook(mode: EditMode, idx: Any, values: Any, stats: dict[str, int]) -> Any:
    cache: dict[tuple[Any, Any], tuple[Any, Any]] = {}

    def hook(_module: Any, args: Any) -> Any:
        x = args[0]
        key = (x.device, x.dtype)
        if key not in cache:
            cache[key] = (idx.to(x.device), values.to(device=x.device, dtype=x.dtype))
        i, v = cache[key]
        out = x.clone()
        if mode == "scale":
            out[..., i] = x[..., i] * v
        elif mode == "shift":
            out[..., i] = x[..., i] + v
        else:
            out[..., i] = v.expand_as(out[..., i])
        stats["edited_calls"] += 1
        return (out, *args[1:])

    return hook
