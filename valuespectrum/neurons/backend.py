"""A backend answering with value neurons edited (the neuron counterpart of ``SteeredBackend``).

In manifests: ``spec: value-neurons:hf:PATH`` with :class:`NeuronOptions` (``set: FILE, mode: shift,
gamma: 4``; ``random_seed`` or ``opposite: true`` for the controls), so a neuron edit is a model
entry of any probe, VQA or browsing run.

The condition (neuron-set digest, mode, gamma, schedule) is part of the model id, so the
response cache and run records tell conditions apart. Hooks live only for each ``generate``
call; the base model is closed only by a backend that loaded it (built from a spec).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from valuespectrum.backends.base import Backend
from valuespectrum.backends.edited import HookEditedBackend, build_over_base
from valuespectrum.backends.spec import BackendSpec
from valuespectrum.config import validate_value
from valuespectrum.errors import ConfigError
from valuespectrum.neurons.edit import EditMode, Schedule, edit_neurons
from valuespectrum.neurons.locate import NeuronSet
from valuespectrum.types import stable_hash


class NeuronCondition(BaseModel):
    """What a neuron-edited backend does; its digest enters the model id."""

    model_config = ConfigDict(frozen=True)

    set_digest: str
    mode: EditMode
    gamma: float
    schedule: Schedule = "constant"
    neuron_template: str
    role: str = "target"
    """``target``, ``opposite`` or ``random`` (reports only; the digest already differs)."""

    def digest(self) -> str:
        return stable_hash(self.model_dump(mode="json", exclude={"role"}))


class NeuronEditedBackend(HookEditedBackend):
    """``inner`` (a backend exposing model and tokenizer) answering with ``nset`` edited."""

    id_tag = "neurons"
    condition: NeuronCondition

    def __init__(
        self,
        inner: Backend,
        nset: NeuronSet,
        mode: EditMode = "scale",
        gamma: float = 0.0,
        *,
        schedule: Schedule = "constant",
        neuron_template: str | None = None,
    ) -> None:
        self._wrap(inner, "neuron editing")
        self.nset, self.mode, self.gamma, self.schedule = nset, mode, float(gamma), schedule
        self.neuron_template = neuron_template or nset.neuron_template
        self.condition = NeuronCondition(
            set_digest=nset.digest(),
            mode=mode,
            gamma=self.gamma,
            schedule=schedule,
            neuron_template=self.neuron_template,
            role=str(nset.settings.get("role", "target")),
        )

    @classmethod
    def from_spec(cls, spec: BackendSpec) -> NeuronEditedBackend:
        """``value-neurons:<base spec>`` with :class:`NeuronOptions`; loads (and owns) the base model."""
        opts = NeuronOptions.parse(spec.options, spec.label())
        nset = opts.load_set(spec.base_dir)

        def build(inner: Backend) -> NeuronEditedBackend:
            out = cls(inner, nset, opts.mode, opts.gamma, schedule=opts.schedule)
            out.owns_inner = True
            return out

        return build_over_base(spec, "value-neurons", opts.model_options, build)

    def steering(self) -> Any:
        return edit_neurons(
            self.access.model,
            self.nset,
            self.mode,
            self.gamma,
            schedule=self.schedule,
            neuron_template=self.neuron_template,
        )

    def __repr__(self) -> str:
        c = self.condition
        return (
            f"NeuronEditedBackend({self.inner.model_id!r}, {len(self.nset)} neurons, {c.mode} x{c.gamma:g})"
        )


class NeuronOptions(BaseModel):
    """Options of a ``value-neurons:<base spec>`` model entry."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    neuron_set: str = Field(alias="set")
    """A neuron set written by ``vspec steer neurons locate`` (.json or .safetensors; relative to the manifest)."""
    mode: EditMode = "shift"
    gamma: float = 1.0
    schedule: Schedule = "constant"
    random_seed: int | None = None
    """Edit a random set of the same size and layer distribution drawn with this seed (a control)."""
    opposite: bool = False
    """Edit the opposite set (aspects swapped) instead (a control)."""
    set_digest: str | None = None
    """When set, the set file must still have this digest."""
    model_options: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def parse(cls, options: dict[str, object], source: str) -> NeuronOptions:
        return validate_value(cls, options, f"model {source!r} options")

    def load_set(self, base_dir: str | Path | None) -> NeuronSet:
        from valuespectrum.neurons.stats import NeuronStats

        path = Path(self.neuron_set)
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        nset = NeuronSet.load(path)
        if self.set_digest is not None and nset.digest() != self.set_digest:
            raise ConfigError(f"{path}: the neuron set changed (digest {nset.digest()[:19]}...); start over")
        if self.opposite:
            nset = nset.opposite()
        if self.random_seed is not None:
            stem = path.with_suffix("")
            stats = [Path(f"{stem}-stats-{s}.json") for s in ("a", "b")]
            sa, sb = (NeuronStats.load(p) for p in stats) if all(p.is_file() for p in stats) else (None, None)
            nset = nset.random_like(self.random_seed, sa, sb)
        return nset
