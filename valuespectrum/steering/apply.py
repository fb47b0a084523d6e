"""Apply a steering vector to a model for the duration of a ``with`` block.

Hooks are forward hooks on decoder layers that return a modified output; no weight is
touched, and every hook is removed in ``finally``, so the model is restored exactly even when
the block raises.

Positions (``positions=``): ``"all"`` (default) steers every position that passes through the
hooked layers: prompt tokens and, during generation, each new token. ``"prompt"`` steers the
passes that read the request (the prefill of ``model.generate`` and every pass outside it, such
as option scoring, where scored options are read teacher-forced in the same pass);
``"generated"`` steers only the decoding steps of ``model.generate`` (so single-token option
scores, read at the prompt's last position, are left unchanged). With left padding, pad
positions are shifted too, but the attention mask keeps them from reaching real tokens, so a
padded batch gives the same outputs per sequence as running each sequence alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from valuespectrum.errors import ConfigError
from valuespectrum.steering.gated import Gate, min_norm_shift
from valuespectrum.steering.layers import (
    hidden_of,
    layer_template_for,
    resolve_layers,
    vector_modules,
    with_hidden,
)
from valuespectrum.steering.vectors import SteeringVector

if TYPE_CHECKING:
    import torch

Mode = Literal["add", "gated", "conva_raise", "conva_lower"]
#: modes whose strength is a probe-probability target p0 (and that need a probe vector)
P0_MODES: tuple[str, ...] = ("gated", "conva_raise", "conva_lower")
Positions = Literal["all", "prompt", "generated"]


@dataclass
class _Phase:
    """Whether the current forward call reads the request or decodes a new token."""

    generating: bool = False
    calls: int = 0
    """Forward calls since the running ``generate`` began (1 = its prefill)."""

    def current(self) -> Literal["prompt", "generated"]:
        return "generated" if self.generating and self.calls > 1 else "prompt"


@dataclass
class _GateState:
    """The gate's decision for the batch being processed.

    Decided on a forward pass over more than one position (a prompt) and held for the
    one-token decoding steps that follow, so a generated answer is steered all the way or not
    at all.
    """

    mask: torch.Tensor | None = None
    decided_for_batch: int = -1
    calls: list[bool] = field(default_factory=list)
    attention_mask: torch.Tensor | None = None
    """The 2-D attention mask of the current forward call (for gates that pool the prompt)."""


@contextmanager
def steer(
    model: Any,
    vector: SteeringVector,
    multiplier: float | dict[int, float] = 1.0,
    *,
    layers: list[int] | None = None,
    mode: Mode = "add",
    p0: float = 0.9,
    gate: Gate | None = None,
    gate_layer: int | None = None,
    layer_template: str | None = None,
    positions: Positions = "all",
) -> Iterator[dict[str, Any]]:
    """Steer ``model`` inside the block.

    ``mode="add"``: h += multiplier[layer] * vector[layer] at each chosen layer.
    ``mode="gated"`` (ConVA): at each chosen layer, shift positions whose probe probability is
    below ``p0`` by the minimum-norm move that reaches ``p0`` (needs a ``method="probe"``
    vector; multipliers are not used). ``gate`` (hidden states at ``gate_layer`` -> bool per
    sequence) restricts steering to value-relevant inputs; without it every input is steered.
    A gate with ``uses_attention_mask = True`` (e.g. :meth:`InputDetector.gate`) also gets the
    attention mask of the model call, so it can pool the whole prompt without padding.

    ``mode="conva_raise"`` / ``"conva_lower"``: ConVA's published shift instead (see
    :mod:`.conva_shift`): per layer in order, one epsilon from the last prompt token (earlier
    layers' shifts applied), clamped >= 0 (raise) or <= 0 (lower), then the same vector at every
    position, decoding steps included.

    ``positions`` (``all``, ``prompt``, ``generated``): which forward passes are steered (see
    the module notes). Yields a small dict of counters (``steered_sequences``) for reports.
    """
    template = layer_template_for(model, layer_template or vector.layer_template)
    modules = vector_modules(model, vector, layers, template)
    mults = _multipliers(multiplier, list(modules))
    if mode in P0_MODES:
        if vector.probe_bias is None:
            raise ConfigError(f"mode={mode!r} needs a probe vector (w per layer plus probe_bias)")
    elif mode != "add":
        raise ConfigError(f"mode must be one of 'add', {', '.join(repr(m) for m in P0_MODES)}; got {mode!r}")
    if gate is not None and mode not in P0_MODES:
        raise ConfigError(f"gate is only used with modes {', '.join(P0_MODES)}")
    if positions not in ("all", "prompt", "generated"):
        raise ConfigError(f"positions must be 'all', 'prompt' or 'generated', got {positions!r}")

    state = _GateState()
    phase = _Phase()
    stats: dict[str, Any] = {"steered_sequences": 0, "seen_sequences": 0}
    handles = []
    patched = False
    try:
        if positions != "all":
            handles.append(model.register_forward_pre_hook(_count_hook(phase)))
            _wrap_generate(model, phase)
            patched = True
        if gate is not None:
            g_layer = min(modules) if gate_layer is None else gate_layer
            if g_layer > min(modules):
                raise ConfigError(
                    f"gate_layer {g_layer} must not come after the first steered layer {min(modules)}"
                )
            g_module = resolve_layers(model, [g_layer], template)[g_layer]
            if getattr(gate, "uses_attention_mask", False):
                handles.append(model.register_forward_pre_hook(_mask_hook(state), with_kwargs=True))
            handles.append(g_module.register_forward_hook(_gate_hook(gate, state, stats)))
        for i, module in modules.items():
            if mode == "add":
                hook = _add_hook(vector.layers[i], mults[i])
            elif mode in ("conva_raise", "conva_lower"):
                assert vector.probe_bias is not None
                direction = "raise" if mode == "conva_raise" else "lower"
                hook = _conva_hook(
                    vector.layers[i], vector.probe_bias[i], p0, direction, state, gate is not None
                )
            else:
                assert vector.probe_bias is not None
                hook = _gated_hook(vector.layers[i], vector.probe_bias[i], p0, state, gate is not None)
            handles.append(module.register_forward_hook(_only_in(phase, positions, hook)))
        yield stats
    finally:
        for h in handles:
            h.remove()
        if patched:
            del model.generate  # the instance attribute; the class's method shows again


def _count_hook(phase: _Phase) -> Any:
    def hook(_module: Any, _args: Any) -> None:
        if phase.generating:
            phase.calls += 1

    return hook


def _wrap_generate(model: Any, phase: _Phase) -> None:
    """Shadow ``model.generate`` for the block so decoding steps can be told from the prefill."""
    if "generate" in vars(model):
        raise ConfigError("this model is already being steered by prompt or generated positions")
    original = model.generate

    def generate(*args: Any, **kwargs: Any) -> Any:
        phase.generating, phase.calls = True, 0
        try:
            return original(*args, **kwargs)
        finally:
            phase.generating = False

    model.generate = generate


def _only_in(phase: _Phase, positions: Positions, hook: Any) -> Any:
    if positions == "all":
        return hook

    def gated_by_phase(module: Any, inputs: Any, output: Any) -> Any:
        return hook(module, inputs, output) if phase.current() == positions else None

    return gated_by_phase


def _multipliers(multiplier: float | dict[int, float], layers: list[int]) -> dict[int, float]:
    if isinstance(multiplier, dict):
        missing = [i for i in layers if i not in multiplier]
        if missing:
            raise ConfigError(f"multiplier dict has no entry for layers {missing}")
        return {i: float(multiplier[i]) for i in layers}
    return dict.fromkeys(layers, float(multiplier))


def _add_hook(direction: torch.Tensor, mult: float) -> Any:
    cache: dict[tuple[Any, Any], torch.Tensor] = {}

    def hook(_module: Any, _inputs: Any, output: Any) -> Any:
        h = hidden_of(output)
        key = (h.device, h.dtype)
        if key not in cache:
            cache[key] = (direction.to(device=h.device, dtype=h.dtype)) * mult
        return with_hidden(output, h + cache[key])

    return hook


def _mask_hook(state: _GateState) -> Any:
    """Remember the attention mask of each forward call of the whole model."""

    def hook(_module: Any, _args: Any, kwargs: dict[str, Any]) -> None:
        m = kwargs.get("attention_mask")
        state.attention_mask = m if m is not None and getattr(m, "ndim", 0) == 2 else None

    return hook


def _gate_hook(gate: Gate, state: _GateState, stats: dict[str, Any]) -> Any:
    with_mask = bool(getattr(gate, "uses_attention_mask", False))

    def hook(_module: Any, _inputs: Any, output: Any) -> Any:
        h = hidden_of(output)
        new_prompt = h.shape[1] > 1 or state.mask is None or state.mask.shape[0] != h.shape[0]
        if new_prompt:
            decided = gate(h, state.attention_mask) if with_mask else gate(h)  # type: ignore[call-arg]
            state.mask = decided.to(h.device).bool().reshape(h.shape[0])
            stats["seen_sequences"] += int(h.shape[0])
            stats["steered_sequences"] += int(state.mask.sum())
        return None

    return hook


def _gated_hook(w: torch.Tensor, b: float, p0: float, state: _GateState, gated: bool) -> Any:
    def hook(_module: Any, _inputs: Any, output: Any) -> Any:
        h = hidden_of(output)
        shifted = min_norm_shift(h, w, b, p0)
        if gated:
            assert state.mask is not None
            shifted = hidden_where(state.mask, shifted, h)
        return with_hidden(output, shifted)

    return hook


def _conva_hook(w: torch.Tensor, b: float, p0: float, direction: Any, state: _GateState, gated: bool) -> Any:
    from valuespectrum.steering.conva_shift import constant_shift_hook

    inner = constant_shift_hook(w, b, p0, direction)

    def hook(module: Any, inputs: Any, output: Any) -> Any:
        shifted = inner(module, inputs, output)
        if not gated:
            return shifted
        assert state.mask is not None
        return with_hidden(output, hidden_where(state.mask, hidden_of(shifted), hidden_of(output)))

    return hook


def hidden_where(mask: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-sequence choice between two [batch, seq, dim] tensors."""
    import torch

    return torch.where(mask.view(-1, 1, 1), a, b)
