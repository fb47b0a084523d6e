"""``sae:<base spec>``: a model entry whose answers come with SAE features edited.

With this kind a run manifest states an SAE condition completely (which SAE, which features,
how strongly, where), so the run can be repeated from its stored manifest alone, like the
``steered:`` entries of steering vectors:

    - spec: sae:hf:./models/SmolLM2-135M-Instruct
      label: smollm2+sae:Power:812
      options:
        sae: saes/smollm2-l12          # SAELens folder, Gemma Scope npz or sparsify folder
        edits: [{feature: 812, mode: add, value: 100}]
        positions: prompt
        model_options: {dtype: float32}
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from valuespectrum.backends.base import Backend
from valuespectrum.backends.edited import build_over_base
from valuespectrum.backends.spec import BackendSpec
from valuespectrum.config import validate_value
from valuespectrum.sae.backend import FeatureSteeredBackend
from valuespectrum.sae.steer import EditMode, FeatureEdit, Where


class EditSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feature: int = Field(ge=0)
    mode: EditMode = "add"
    value: float = 1.0
    """Coefficient (add) or target activation (clamp)."""


class SAEOptions(BaseModel):
    """Options of an ``sae:<base spec>`` model entry."""

    model_config = ConfigDict(extra="forbid")

    sae: str
    """The SAE: a local folder or ``params.npz`` (relative to the manifest's folder)."""
    edits: list[EditSpec] = Field(min_length=1)
    hook_name: str | None = None
    """Overrides the hook the SAE's files name (e.g. ``blocks.12.hook_resid_post``)."""
    positions: Where = "all"
    token_positions: list[int] | None = None
    span: str | None = None
    """Edit only on the tokens of this text where it occurs in the prompt."""
    value: str | None = None
    """The value the features were chosen for (shown in reports; changes no answer)."""
    layer_template: str | None = None
    model_options: dict[str, Any] = Field(default_factory=dict)
    """Options of the base model's backend (device, dtype, batch_size...)."""

    @classmethod
    def parse(cls, options: dict[str, Any], source: str) -> SAEOptions:
        return validate_value(cls, options, source)


def from_spec(spec: BackendSpec) -> FeatureSteeredBackend:
    from pathlib import Path

    from valuespectrum.sae.formats import load_sae

    opts = SAEOptions.parse(spec.options, spec.label())
    path = Path(opts.sae).expanduser()
    if not path.is_absolute() and spec.base_dir:
        path = Path(spec.base_dir) / path
    sae = load_sae(path, hook_name=opts.hook_name)

    def build(inner: Backend) -> FeatureSteeredBackend:
        out = FeatureSteeredBackend(
            inner,
            sae,
            [FeatureEdit(e.feature, e.mode, e.value) for e in opts.edits],
            positions=opts.positions,
            token_positions=opts.token_positions,
            span=opts.span,
            value=opts.value,
            layer_template=opts.layer_template,
        )
        out.owns_inner = True  # a manifest entry loaded its base model and closes it
        return out

    return build_over_base(spec, "sae", opts.model_options, build)
