"""A steering evaluation as one ordinary probe run: its conditions become the run's models and personas.

- baseline: the base model, no persona;
- neutral and value personas: the base model under the built-in ``neutral`` and ``value-*``
  personas (the same texts as ``vspec run``);
- each vector at each strength, and same-norm random vectors at the same strengths: steered
  models (``steered:<base spec>`` entries), asked with no persona.

Every condition answers every probe in both label orders. The run is executed by
:func:`valuespectrum.runs.execute.execute_run` with a backend factory that lends the ONE loaded
base model to every condition (wrapped in a :class:`SteeredBackend` where steered), so the
evaluation gets ``responses.jsonl``, resume, the response cache and ``vspec score``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from valuespectrum.backends.base import Backend
from valuespectrum.backends.steered import Borrowed, SteeredBackend, SteeredOptions
from valuespectrum.config import repeated
from valuespectrum.manifest import Controls, ModelEntry, ProbeSelection, RunManifest
from valuespectrum.personas import NO_PERSONA
from valuespectrum.steering.apply import Mode, Positions
from valuespectrum.steering.detector import InputDetector
from valuespectrum.steering.vectors import SteeringVector
from valuespectrum.types import GenerateConfig
from valuespectrum.values import Value

Kind = Literal["baseline", "neutral_persona", "persona", "steer", "random"]
NEUTRAL_PERSONA_ID = "neutral"

if TYPE_CHECKING:
    from valuespectrum.backends.cache import ResponseCache


def value_persona_id(value: Value) -> str:
    """The built-in persona that stresses one value (``value-power``...)."""
    return f"value-{value.value.lower()}"


@dataclass(frozen=True)
class PlannedCondition:
    """One condition of the evaluation and where its rows are in the run."""

    name: str
    """Name in the steering report: baseline, neutral_persona, persona:V, steer:V:METHOD:S, random:..."""
    kind: Kind
    model: str
    """The run's model label."""
    persona: str
    """The run's persona id (``none`` for no persona)."""
    target: Value | None = None
    strength: float | None = None
    seed: int | None = None
    vector: int | None = None
    """Index of the steering vector (steer and random conditions)."""
    method: str | None = None


def plan_conditions(
    label: str,
    vectors: Sequence[SteeringVector],
    strengths: Sequence[float],
    *,
    controls: bool,
    seed: int,
    n_random: int,
) -> list[PlannedCondition]:
    base = [PlannedCondition("baseline", "baseline", label, NO_PERSONA)]
    if controls:
        base.append(PlannedCondition("neutral_persona", "neutral_persona", label, NEUTRAL_PERSONA_ID))
    out = list(base)
    seen_personas: set[Value] = set()
    for k, vec in enumerate(vectors):
        t = vec.value
        if controls and t not in seen_personas:
            seen_personas.add(t)
            out.append(
                PlannedCondition(f"persona:{t.value}", "persona", label, value_persona_id(t), target=t)
            )
        for s in strengths:
            name = f"steer:{t.value}:{vec.method}:{s:g}"
            out.append(_steered(label, name, "steer", t, s, None, k, vec.method))
            if controls:
                for r in range(n_random):
                    rs = seed * 1000 + r
                    name = f"random:{t.value}:{vec.method}:{s:g}:{rs}"
                    out.append(_steered(label, name, "random", t, s, rs, k, vec.method))
    dups = repeated(c.name for c in out)
    if dups:
        raise ValueError(f"conditions {dups} appear twice: give each value and method one vector")
    return out


def _steered(
    label: str, name: str, kind: Kind, t: Value, s: float, rs: int | None, k: int, method: str
) -> PlannedCondition:
    return PlannedCondition(name, kind, f"{label}+{name}", NO_PERSONA, t, s, rs, k, method)


@dataclass
class SteeringSetup:
    """How the steered conditions steer (shared by every vector)."""

    mode: Mode = "add"
    layers: list[int] | None = None
    positions: Positions = "all"
    detectors: Mapping[Value, InputDetector] | None = None


def run_manifest(
    plan: Sequence[PlannedCondition],
    *,
    name: str,
    spec: str,
    model_options: Mapping[str, Any],
    vector_files: Sequence[Path],
    vectors: Sequence[SteeringVector],
    setup: SteeringSetup,
    probes: ProbeSelection,
    generation: GenerateConfig,
    batch_size: int,
    cache: bool | str,
    seed: int,
    max_failure_rate: float,
    max_unparsed_rate: float = 1.0,
) -> RunManifest:
    """The ordinary run manifest of a plan: the base model with its personas, one steered model per condition."""
    base = plan[0].model
    personas = list(dict.fromkeys(c.persona for c in plan))
    models = [ModelEntry(spec=spec, label=base, options=dict(model_options))]
    for c in plan:
        if c.vector is None or c.model == base:
            continue
        opts = steered_options(c, vector_files[c.vector], vectors[c.vector], setup, model_options)
        models.append(
            ModelEntry(
                spec=f"steered:{spec}",
                label=c.model,
                options=opts.model_dump(mode="json", exclude_defaults=True),
                personas=[NO_PERSONA],
            )
        )
    return RunManifest(
        name=name,
        seed=seed,
        models=models,
        probes=probes,
        personas=personas,
        controls=Controls(reverse_labels=True),
        generation=generation,
        batch_size=batch_size,
        cache=cache,
        max_failure_rate=max_failure_rate,
        max_unparsed_rate=max_unparsed_rate,
    )


def steered_options(
    c: PlannedCondition,
    vector_file: Path,
    vector: SteeringVector,
    setup: SteeringSetup,
    model_options: Mapping[str, Any],
) -> SteeredOptions:
    """The ``steered:`` options that reproduce condition ``c`` (so the stored manifest says what ran)."""
    assert c.strength is not None
    det = (setup.detectors or {}).get(vector.value)
    return SteeredOptions(
        vector=str(vector_file),
        vector_digest=vector.digest(),
        strength=c.strength,
        layers=setup.layers,
        positions=setup.positions,
        mode=setup.mode,
        random_seed=c.seed,
        detector=None if det is None else det.source,
        detector_layer=None if det is None else det.layer,
        detector_pooling=None if det is None else det.pooling,
        detector_threshold=0.5 if det is None else det.threshold,
        model_options=dict(model_options),
    )


def condition_backends(
    base: Backend,
    plan: Sequence[PlannedCondition],
    vectors: Sequence[SteeringVector],
    setup: SteeringSetup,
    cache: ResponseCache | None,
    *,
    refresh: bool = False,
) -> Callable[[str, dict[str, object], str | None], Backend]:
    """A run's backend factory lending ``base`` to every condition (steered where planned).

    Built from the in-memory vectors and detectors (random controls drawn once per condition);
    no backend it returns closes ``base``, and every condition shares the one response cache
    ``cache`` (the caller's to close), so no condition leaves a database connection open;
    ``refresh`` asks every request again and overwrites the stored answers.
    """
    by_label = {c.model: c for c in plan}
    randoms: dict[tuple[int, int], SteeringVector] = {}

    def make(_spec: str, _options: dict[str, object], label: str | None) -> Backend:
        c = by_label.get(label or "")
        if c is None:
            raise ValueError(f"model {label!r} is not a condition of this steering evaluation")
        backend: Backend
        if c.vector is None:
            backend = Borrowed(base)
        else:
            vec = vectors[c.vector]
            if c.seed is not None:
                vec = randoms.setdefault((c.vector, c.seed), vec.random_like(c.seed))
            assert c.strength is not None
            backend = SteeredBackend(
                base,
                vec,
                c.strength,
                layers=setup.layers,
                positions=setup.positions,
                mode=setup.mode,
                detector=(setup.detectors or {}).get(vec.value),
            )
        if cache is None:
            return backend
        from valuespectrum.backends.cache import CachedBackend

        return CachedBackend(backend, cache, refresh=refresh)

    return make
