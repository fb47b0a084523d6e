"""Where steering hooks attach: explicit decoder-layer name templates per architecture.

Names are resolved with ``model.get_submodule`` from a template such as
``model.layers.{i}``; nothing is guessed by scanning module names. The defaults below were
checked on transformers 5 models built from configs (they differ from transformers 4, where
VLM language towers lived under ``language_model.model``). An architecture missing here
raises an error asking for an explicit ``layer_template``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from valuespectrum.errors import ConfigError

if TYPE_CHECKING:
    from torch import nn

    from valuespectrum.steering.vectors import SteeringVector

_TEXT = "model.layers.{i}"
_TOWER = "model.language_model.layers.{i}"
_IDEFICS = "model.text_model.layers.{i}"

#: config.model_type -> decoder-layer template (text LLMs and the language towers of VLMs).
LAYER_TEMPLATES: dict[str, str] = {
    # text LLMs (SmolLM/SmolLM2 are Llama architectures)
    "llama": _TEXT,
    "mistral": _TEXT,
    "qwen2": _TEXT,
    "qwen3": _TEXT,
    "gemma": _TEXT,
    "gemma2": _TEXT,
    "gemma3_text": _TEXT,
    "smollm3": _TEXT,
    "phi3": _TEXT,
    # language towers of VLMs
    "llava": _TOWER,
    "llava_next": _TOWER,
    "llava_onevision": _TOWER,
    "paligemma": _TOWER,
    "qwen2_vl": _TOWER,
    "qwen2_5_vl": _TOWER,
    "qwen3_vl": _TOWER,
    "gemma3": _TOWER,
    "idefics3": _IDEFICS,
    "smolvlm": _IDEFICS,
}


def layer_template_for(model: Any, layer_template: str | None = None) -> str:
    """The template to use: the explicit one if given, else the known default for the model."""
    if layer_template is not None:
        if "{i}" not in layer_template:
            raise ConfigError(f"layer_template {layer_template!r} must contain '{{i}}' for the layer index")
        return layer_template
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    if model_type in LAYER_TEMPLATES:
        return LAYER_TEMPLATES[model_type]
    raise ConfigError(
        f"no known decoder-layer template for model_type {model_type!r} ({type(model).__name__}); "
        "pass layer_template=..., e.g. 'model.layers.{i}' (see print(model) for the module names)"
    )


def get_layer(model: Any, template: str, index: int) -> nn.Module:
    """The decoder layer ``index`` named by ``template``; a clear error if it does not exist."""
    name = template.format(i=index)
    try:
        return model.get_submodule(name)  # type: ignore[no-any-return]
    except AttributeError as exc:
        raise ConfigError(
            f"layer {index}: module {name!r} not found in {type(model).__name__} "
            f"(layer_template {template!r}; the model has {count_layers(model, template)} layers)"
        ) from exc


def count_layers(model: Any, template: str) -> int:
    """Number of decoder layers reachable through ``template`` (0, 1, 2... until one is missing)."""
    n = 0
    while True:
        try:
            model.get_submodule(template.format(i=n))
        except AttributeError:
            return n
        n += 1


def resolve_layers(model: Any, layers: list[int] | None, template: str) -> dict[int, nn.Module]:
    """Map layer indices to modules. Negative indices count from the end; None means all."""
    n = count_layers(model, template)
    if n == 0:
        raise ConfigError(f"layer_template {template!r} matches no module in {type(model).__name__}")
    wanted = list(range(n)) if layers is None else list(layers)
    out: dict[int, nn.Module] = {}
    for i in wanted:
        j = i + n if i < 0 else i
        if not 0 <= j < n:
            raise ConfigError(f"layer {i} is out of range: the model has {n} decoder layers (0..{n - 1})")
        out[j] = get_layer(model, template, j)
    return out


def vector_modules(
    model: Any,
    vector: SteeringVector,
    layers: list[int] | None,
    layer_template: str | None,
    *,
    what: str = "vector",
) -> dict[int, nn.Module]:
    """The decoder layers of ``model`` that ``vector`` is applied at: ``layers`` (all of the
    vector's, ascending, when None), each of which the vector must hold."""
    template = layer_template_for(model, layer_template or vector.layer_template)
    chosen = sorted(vector.layers) if layers is None else list(layers)
    missing = [i for i in chosen if i not in vector.layers]
    if missing:
        raise ConfigError(f"layers {missing} requested but the {what} has only {sorted(vector.layers)}")
    return resolve_layers(model, chosen, template)


def hidden_of(output: Any) -> Any:
    """The hidden-state tensor of a decoder layer's output (a Tensor in transformers 5, a tuple before)."""
    return output[0] if isinstance(output, tuple) else output


def with_hidden(output: Any, hidden: Any) -> Any:
    """Rebuild a decoder layer's output with ``hidden`` in place of its hidden states."""
    if isinstance(output, tuple):
        return (hidden, *output[1:])
    return hidden
