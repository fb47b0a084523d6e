"""A backend answering with value neurons edited (the neuron counterpart of ``SteeredBackend``).

The condition (neuron-set digest, mode, gamma, schedule) is part of the model id, so the
response cache and run records tell conditions apart. Hooks live only for each ``generate``
call; the wrapped backend is never closed by this wrapper.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from valuespectrum.backends.base import ActivationAccess, Backend, Wrapper
from valuespectrum.errors import BackendError, ConfigError
from valuespectrum.neurons.edit import EditMode, Schedule, edit_neurons
from valuespectrum.neurons.locate import NeuronSet
from valuespectrum.types import ModelRequest, ModelResponse, stable_hash


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


class NeuronEditedBackend(Wrapper):
    """``inner`` (a backend exposing model and tokenizer) answering with ``nset`` edited."""

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
        if not isinstance(inner, ActivationAccess):
            raise ConfigError(
                f"neuron editing needs a backend exposing its activations (hf:); {inner.model_id!r} does not"
            )
        self.inner, self.access = inner, inner
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

    @property
    def model_id(self) -> str:
        return f"{self.inner.model_id}+neurons:{self.condition.digest()[:16]}"

    def steering(self) -> Any:
        return edit_neurons(
            self.access.model,
            self.nset,
            self.mode,
            self.gamma,
            schedule=self.schedule,
            neuron_template=self.neuron_template,
        )

    def generate(self, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        reqs = list(requests)
        with self.steering():
            resps = self.inner.generate(reqs)
        if len(resps) != len(reqs):
            raise BackendError(
                f"backend {self.inner.model_id!r} returned {len(resps)} responses for {len(reqs)}"
            )
        return [r.model_copy(update={"model_id": self.model_id}) for r in resps]

    def close(self) -> None:
        """Leaves ``inner`` open (its lender closes it)."""

    def __repr__(self) -> str:
        c = self.condition
        return (
            f"NeuronEditedBackend({self.inner.model_id!r}, {len(self.nset)} neurons, {c.mode} x{c.gamma:g})"
        )
