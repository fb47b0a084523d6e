"""A backend with a steering condition: every answer is produced under a steering vector.

    base = create_backend("hf:./models/SmolLM2-135M-Instruct")
    steered = SteeredBackend(base, vector, 4.0, layers=[15])      # a Backend like any other
    vs.evaluate(steered, ...); execute_browse(..., backend_factory=lambda *a: steered)

The condition (vector digest, strength, layers, positions, mode, gate) is part of the model
identity: ``model_id`` is the base's id plus a digest of the condition, so response-cache keys
and run records tell conditions apart, and an unsteered answer is never served for a steered
request or the reverse. Hooks live only for the duration of each ``generate`` call and are
removed even when it raises, so the base model can serve other runs in between. The wrapper
never closes a base it was given (``owns_inner=False``); one built from a spec
(``steered:hf:PATH`` with options, see :class:`SteeredOptions`) owns and closes its base.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from valuespectrum.backends.base import ActivationAccess, Backend, Wrapper, text_reader
from valuespectrum.backends.edited import build_over_base
from valuespectrum.backends.spec import BackendSpec
from valuespectrum.config import validate_value
from valuespectrum.errors import BackendError, ConfigError
from valuespectrum.steering.apply import P0_MODES, Mode, Positions, steer
from valuespectrum.steering.detector import InputDetector, request_text
from valuespectrum.steering.vectors import SteeringVector
from valuespectrum.types import ModelRequest, ModelResponse, stable_hash


class GateIdentity(BaseModel):
    """The whole-input detector of a gated condition, as far as it changes answers."""

    model_config = ConfigDict(frozen=True)

    digest: str
    layer: int
    pooling: str
    threshold: float


class SteeringCondition(BaseModel):
    """What a steered backend does to its base model; its digest enters the model id."""

    model_config = ConfigDict(frozen=True)

    value: str
    method: str
    vector_digest: str
    """:meth:`SteeringVector.digest` of the direction applied (a random control's own digest)."""
    strength: float
    """Multiplier (mode add) or probe-probability target p0 (mode gated)."""
    layers: list[int]
    positions: Positions = "all"
    mode: Mode = "add"
    layer_template: str
    gate: GateIdentity | None = None

    def digest(self) -> str:
        return stable_hash(self.model_dump(mode="json"))


class SteeredBackend(Wrapper):
    """``inner`` (a backend exposing its activations) answering under one steering condition."""

    def __init__(
        self,
        inner: Backend,
        vector: SteeringVector,
        strength: float = 1.0,
        *,
        layers: list[int] | None = None,
        positions: Positions = "all",
        mode: Mode = "add",
        detector: InputDetector | None = None,
        layer_template: str | None = None,
        owns_inner: bool = False,
    ) -> None:
        if not isinstance(inner, ActivationAccess):
            raise ConfigError(
                f"steering needs a backend that exposes its activations (model, tokenizer), such as hf:; "
                f"{inner.model_id!r} ({type(inner).__name__}) does not"
            )
        chosen = sorted(vector.layers) if layers is None else list(layers)
        missing = [i for i in chosen if i not in vector.layers]
        if missing:
            raise ConfigError(f"layers {missing} requested but the vector has only {sorted(vector.layers)}")
        if mode in P0_MODES and not 0.0 < strength < 1.0:
            raise ConfigError(f"in mode '{mode}' the strength is p0 and must lie in (0, 1), got {strength}")
        if detector is not None and mode not in P0_MODES:
            raise ConfigError(
                "a whole-input detector is only used with modes gated, conva_raise and conva_lower"
            )
        self.inner = inner
        self.access: ActivationAccess = inner
        self.vector, self.strength, self.layers = vector, float(strength), chosen
        self.positions, self.mode, self.detector = positions, mode, detector
        self.layer_template = layer_template or vector.layer_template
        self.owns_inner = owns_inner
        gate = None
        if detector is not None:
            gate = GateIdentity(
                digest=stable_hash([float(x) for x in detector.w.flatten().tolist()] + [detector.b]),
                layer=detector.layer,
                pooling=detector.pooling,
                threshold=detector.threshold,
            )
        self.condition = SteeringCondition(
            value=vector.value.value,
            method=vector.method,
            vector_digest=vector.digest(),
            strength=self.strength,
            layers=chosen,
            positions=positions,
            mode=mode,
            layer_template=self.layer_template,
            gate=gate,
        )
        self.steered_requests = 0
        """Requests this backend ran under steering (a detector may let some through unsteered)."""

    @classmethod
    def from_spec(cls, spec: BackendSpec) -> SteeredBackend:
        """``steered:<base spec>`` with :class:`SteeredOptions`; loads (and owns) the base model."""
        opts = SteeredOptions.parse(spec.options, spec.label())
        return build_over_base(
            spec,
            "steered",
            opts.model_options,
            lambda inner: opts.build(inner, base_dir=spec.base_dir, owns_inner=True),
        )

    # -- Backend protocol -------------------------------------------------------------
    @property
    def model_id(self) -> str:
        return f"{self.inner.model_id}+steer:{self.condition.digest()[:16]}"

    def generate(self, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        reqs = list(requests)
        steered = list(range(len(reqs)))
        if self.detector is not None and reqs:
            accept = self.detector.decide(
                self.access.model, text_reader(self.access), [request_text(r) for r in reqs]
            )
            steered = [i for i, a in enumerate(accept) if a]
        chosen = set(steered)
        plain = [i for i in range(len(reqs)) if i not in chosen]
        out: dict[int, ModelResponse] = {}
        if plain:
            out.update(self._run(plain, reqs))
        if steered:
            with self.steering():
                out.update(self._run(steered, reqs))
            self.steered_requests += len(steered)
        return [out[i].model_copy(update={"model_id": self.model_id}) for i in range(len(reqs))]

    def close(self) -> None:
        """Closes the base model only when this backend loaded it (``owns_inner``)."""
        if self.owns_inner:
            self.inner.close()

    # -- steering -----------------------------------------------------------------------
    def steering(self) -> Any:
        """The context in which the base model is steered (hooks removed on exit, also on error)."""
        mult, p0 = (1.0, self.strength) if self.mode in P0_MODES else (self.strength, 0.9)
        return steer(
            self.access.model,
            self.vector,
            mult,
            layers=self.layers,
            mode=self.mode,
            p0=p0,
            layer_template=self.layer_template,
            positions=self.positions,
        )

    def _run(self, idx: list[int], reqs: list[ModelRequest]) -> dict[int, ModelResponse]:
        resps = self.inner.generate([reqs[i] for i in idx])
        if len(resps) != len(idx):
            raise BackendError(
                f"backend {self.inner.model_id!r} returned {len(resps)} responses for {len(idx)} requests"
            )
        return dict(zip(idx, resps, strict=True))

    def __repr__(self) -> str:
        c = self.condition
        return f"SteeredBackend({self.inner.model_id!r}, {c.value} {c.method} x{c.strength:g}, layers={c.layers})"


class SteeredOptions(BaseModel):
    """Options of a ``steered:<base spec>`` model entry (run, browse and steering manifests)."""

    model_config = ConfigDict(extra="forbid")

    vector: str
    """A saved steering vector (.json or .safetensors; relative to the manifest's folder)."""
    strength: float = 1.0
    """Multiplier in mode add; the probe-probability target p0 in mode gated."""
    layers: list[int] | None = None
    """Decoder layers to steer (default: every layer the vector has)."""
    positions: Positions = "all"
    """all, prompt (the passes reading the request) or generated (decoding steps only)."""
    mode: Mode = "add"
    random_seed: int | None = None
    """Steer with a random direction of the vector's per-layer norm drawn with this seed (a control)."""
    vector_digest: str | None = None
    """When set, the vector file must still have this digest (a run refuses a changed vector)."""
    detector: str | None = None
    """Mode gated: a saved probe vector read as a whole-input detector (steer accepted requests only)."""
    detector_layer: int | None = None
    detector_pooling: Literal["mean", "last"] | None = None
    detector_threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    layer_template: str | None = None
    model_options: dict[str, Any] = Field(default_factory=dict)
    """Options of the base model's backend (device, dtype, batch_size...)."""

    @model_validator(mode="after")
    def _consistent(self) -> SteeredOptions:
        if self.detector is not None and self.mode not in P0_MODES:
            raise ValueError("'detector' is only used with mode: gated")
        if self.mode in P0_MODES and not 0.0 < self.strength < 1.0:
            raise ValueError("in mode: gated 'strength' is p0 and must lie strictly between 0 and 1")
        return self

    @classmethod
    def parse(cls, options: dict[str, Any], source: str) -> SteeredOptions:
        return validate_value(cls, options, f"model {source!r} options")

    def build(
        self,
        inner: Backend,
        *,
        base_dir: str | Path | None = None,
        owns_inner: bool = False,
        load: Any = SteeringVector.load,
    ) -> SteeredBackend:
        """The steered backend these options describe, around ``inner``.

        ``load`` (path -> SteeringVector) lets a caller share loaded vectors between conditions.
        """
        path = _under(base_dir, self.vector)
        vector = load(path)
        if self.vector_digest is not None and vector.digest() != self.vector_digest:
            raise ConfigError(
                f"{path}: the vector changed since this run began (digest {vector.digest()[:19]}..., "
                f"expected {self.vector_digest[:19]}...); start the run over with --fresh"
            )
        if self.random_seed is not None:
            vector = vector.random_like(self.random_seed)
        detector = None
        if self.detector is not None:
            dpath = _under(base_dir, self.detector)
            detector = InputDetector.from_vector(
                load(dpath),
                layer=self.detector_layer,
                pooling=self.detector_pooling,
                threshold=self.detector_threshold,
                source=self.detector,
            )
        return SteeredBackend(
            inner,
            vector,
            self.strength,
            layers=self.layers,
            positions=self.positions,
            mode=self.mode,
            detector=detector,
            layer_template=self.layer_template,
            owns_inner=owns_inner,
        )


def _under(base: str | Path | None, p: str) -> Path:
    path = Path(p)
    return path if path.is_absolute() or base is None else Path(base) / path


class Borrowed(Wrapper):
    """A backend lent to a run: answers through ``inner`` but never closes it (the lender does)."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner

    def generate(self, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        return self.inner.generate(requests)

    def close(self) -> None:
        """Leaves ``inner`` open."""
