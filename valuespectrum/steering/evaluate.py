"""Run a probe set under steering, with the standard controls, and report effects against them.

The evaluation is one ordinary probe run (:mod:`valuespectrum.steering.conditions`): its
conditions are the run's models and personas, so it leaves ``responses.jsonl`` with every
prompt, resumes after a kill, uses the response cache, and ``vspec score`` / ``vspec report``
read its folder like any run. Every condition answers every probe in both answer-label orders
(1-6 and 6-1, Yes/No and No/Yes) and the two readouts are averaged, because small models often
answer by position. Controls, always on unless ``controls=False``:

- baseline: no steering, no persona;
- the built-in ``neutral`` persona (the reference for persona prompting);
- random vectors with the same per-layer norm as each steering vector (several seeded draws),
  at the same strengths: a steering effect counts only against this distribution.

Side by side: the same items under the built-in ``value-*`` persona of the target value (the
texts ``vspec run`` uses). In gated mode a whole-input detector per value
(:class:`~valuespectrum.steering.detector.InputDetector`) can decide once per request whether
to steer it at all; rejected requests run unsteered, in every steered and random condition
alike, so random controls differ from the vector only in direction. For the baseline and each
steered condition the report also carries a fluency proxy (perplexity of its generated text
under the unsteered model, repetition rate) and a capability proxy (fixed arithmetic and copy
items); their requests and answers are kept in ``steering/quality.jsonl``.
Scores are continuous readouts of the stored option log-likelihoods (:mod:`.readout`).
"""

from __future__ import annotations

import json
import math
import statistics
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from valuespectrum.backends.base import ActivationAccess, Backend, text_reader
from valuespectrum.errors import ConfigError
from valuespectrum.manifest import ProbeSelection
from valuespectrum.personas import Persona
from valuespectrum.probes.probe_set import save_probe_set
from valuespectrum.probes.render import render_probe
from valuespectrum.probes.schema import Probe, ProbeBank
from valuespectrum.runs.execute import execute_run
from valuespectrum.runs.folder import RunFolder
from valuespectrum.runs.jsonl import read_jsonl
from valuespectrum.runs.score import score_run
from valuespectrum.runs.setup import data_dir, under
from valuespectrum.steering import quality
from valuespectrum.steering.apply import P0_MODES, Mode, Positions
from valuespectrum.steering.collect import text_tokenizer
from valuespectrum.steering.conditions import (
    PlannedCondition,
    SteeringSetup,
    condition_backends,
    plan_conditions,
    run_manifest,
)
from valuespectrum.steering.detector import InputDetector, request_text
from valuespectrum.steering.manifest import EvalManifest
from valuespectrum.steering.quality_checks import run_quality_checks
from valuespectrum.steering.readout import keyed_scores
from valuespectrum.steering.summary import (
    STEERING_FORMAT_VERSION,
    Condition,
    Effect,
    Fluency,
    GateInfo,
    SteeringSummary,
    complete_conditions,
    persona_changes,
    persona_side_effect,
)
from valuespectrum.steering.vectors import SteeringVector
from valuespectrum.types import GenerateConfig, ModelRequest, ModelResponse
from valuespectrum.values import Value

Z_THRESHOLD = 2.0
#: Subfolder of a steering run folder that holds the steering results (read by ``vspec report``).
STEERING_DIR = "steering"


SteeringReport = SteeringSummary
"""The name 0.1 code used for :class:`~valuespectrum.steering.summary.SteeringSummary`."""


def evaluate_steering(
    backend: Backend,
    probes: Sequence[Probe] | ProbeSelection,
    vectors: Sequence[SteeringVector],
    multipliers: Sequence[float],
    *,
    controls: bool = True,
    seed: int = 0,
    n_random: int = 3,
    mode: Mode = "add",
    layers: list[int] | None = None,
    positions: Positions = "all",
    fluency: bool = True,
    capability: bool = True,
    fluency_tokens: int = 24,
    detectors: Mapping[Value, InputDetector] | None = None,
    out: str | Path | None = None,
    fresh: bool = False,
    spec: str | None = None,
    label: str | None = None,
    model_options: Mapping[str, Any] | None = None,
    vector_files: Sequence[str | Path] | None = None,
    cache: bool | str = False,
    generation: GenerateConfig | None = None,
    batch_size: int = 8,
    max_failure_rate: float = 1.0,
    max_unparsed_rate: float = 1.0,
    progress: Callable[[str, int, int], None] | None = None,
) -> SteeringSummary:
    """Evaluate each vector at each strength (a multiplier, or p0 in ``mode="gated"``) as one probe run.

    ``backend`` must expose its activations (:class:`~valuespectrum.backends.base.ActivationAccess`,
    e.g. an ``hf:`` backend) and fill ``option_logprobs``; it is lent to every condition and
    left open. The run goes to ``out`` (a run folder: responses.jsonl, resume, ``vspec score``;
    steering results under ``out/steering/``), or to a temporary folder that is deleted when
    ``out`` is None. ``spec``/``label``/``model_options`` describe the base model in the stored
    manifest; ``vector_files`` are the vectors' files (default: saved into the run folder);
    ``cache`` as in run manifests (False: none; "refresh": the shared cache, asked again). ``detectors`` (gated mode only) maps each steered
    value to a whole-input detector that decides per request whether to steer it.
    """
    if not isinstance(backend, ActivationAccess):
        raise ConfigError(
            "steering evaluation needs a backend that exposes its loaded model (model, tokenizer), e.g. hf:"
        )
    if isinstance(probes, Sequence) and not probes:
        raise ConfigError("steering evaluation needs at least one probe")
    if not vectors or not multipliers:
        raise ConfigError("steering evaluation needs at least one vector and one multiplier")
    if controls and n_random < 2:
        raise ConfigError("n_random must be >= 2 so the random-vector control has a spread")
    detectors = dict(detectors or {})
    if detectors and mode not in P0_MODES:
        raise ConfigError(
            "whole-input detectors are only used with mode='gated', 'conva_raise' or 'conva_lower'"
        )
    missing = [v.value.value for v in vectors if detectors and v.value not in detectors]
    if missing:
        raise ConfigError(f"no detector given for the steered values {missing}")
    with ExitStack() as stack:
        # without ``out`` the run goes to a temporary folder, removed when the results are read
        root = (
            Path(out)
            if out is not None
            else Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vspec-steer-"))) / "run"
        )
        folder = RunFolder(root)
        steering_dir = folder.root / STEERING_DIR
        steering_dir.mkdir(parents=True, exist_ok=True)
        label = label or str(backend.model_id)
        plan = plan_conditions(label, vectors, multipliers, controls=controls, seed=seed, n_random=n_random)
        files = (
            [Path(f).resolve() for f in vector_files]
            if vector_files
            else _save_vectors(vectors, steering_dir)
        )
        if isinstance(probes, ProbeSelection):
            selection = probes
        else:
            bank_file = save_probe_set(
                ProbeBank(name="steering", probes=list(probes)), steering_dir / "probes.jsonl"
            )
            selection = ProbeSelection(banks=[], probe_set=str(bank_file.resolve()))
        setup = SteeringSetup(mode=mode, layers=layers, positions=positions, detectors=detectors)
        manifest = run_manifest(
            plan,
            name=folder.root.name,
            spec=spec or f"hf:{backend.model_id}",
            model_options=model_options or {},
            vector_files=files,
            vectors=vectors,
            setup=setup,
            probes=selection,
            generation=generation or GenerateConfig(max_new_tokens=16),
            batch_size=batch_size,
            cache=cache,
            seed=seed,
            max_failure_rate=max_failure_rate,
            max_unparsed_rate=max_unparsed_rate,
        )
        refresh = cache == "refresh"
        cache_path = (
            None
            if cache is False
            else str(data_dir() / "response-cache.sqlite" if cache is True or refresh else cache)
        )
        from valuespectrum.backends.cache import ResponseCache

        shared_cache = ResponseCache(cache_path) if cache_path is not None else None
        try:
            factory = condition_backends(backend, plan, vectors, setup, shared_cache, refresh=refresh)
            execute_run(manifest, out=folder.root, fresh=fresh, backend_factory=factory, progress=progress)
            score_run(folder)
            checks = run_quality_checks(
                folder,
                plan,
                factory,
                fluency=fluency,
                capability=capability,
                tokens=fluency_tokens,
                fresh=fresh,
            )
        finally:
            if shared_cache is not None:
                shared_cache.close()
        conditions = read_conditions(folder, plan, backend, detectors)
        for c in conditions:
            cap, texts = checks.get(c.name, (None, None))
            c.capability = cap
            if texts is not None:
                tok = text_tokenizer(text_reader(backend))
                c.fluency = Fluency(
                    perplexity=quality.perplexity(backend.model, tok, texts),
                    repetition_rate=statistics.fmean(quality.repetition_rate(t) for t in texts)
                    if texts
                    else 0.0,
                    samples=texts,
                )
        complete_conditions(conditions)
        effects = [_effect(vec, m, conditions) for vec in vectors for m in multipliers]
        return SteeringSummary(
            format_version=STEERING_FORMAT_VERSION,
            model_id=str(backend.model_id),
            mode=mode,
            seed=seed,
            n_probes=sum(1 for _ in read_jsonl(folder.probes)),
            n_random=n_random if controls else 0,
            gates=[
                GateInfo(value=v, source=d.source, layer=d.layer, pooling=d.pooling, threshold=d.threshold)
                for v, d in detectors.items()
            ],
            conditions=conditions,
            effects=effects,
            run_dir=str(folder.root),
        )


def evaluate_manifest(
    m: EvalManifest,
    base: Path,
    backend: Backend,
    probes: Sequence[Probe] | ProbeSelection,
    vectors: Sequence[SteeringVector],
    *,
    detectors: Mapping[Value, InputDetector] | None = None,
    fresh: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> SteeringSummary:
    """:func:`evaluate_steering` with the settings of a steering manifest read from folder ``base``
    (``vspec steer eval``): the vectors and probes given are those the manifest names, loaded."""
    return evaluate_steering(
        backend,
        probes,
        vectors,
        m.multipliers,
        seed=m.seed,
        n_random=m.n_random,
        mode=m.mode,
        layers=m.layers,
        positions=m.positions,
        fluency=m.fluency,
        capability=m.capability,
        detectors=detectors,
        out=m.run_dir(base),
        fresh=fresh,
        spec=m.model.spec,
        label=m.model.name,
        model_options=m.model.options,
        vector_files=[under(base, p) for p in m.vectors],
        cache=m.cache_setting(base),
        generation=m.generation,
        batch_size=m.batch_size,
        max_failure_rate=m.max_failure_rate,
        max_unparsed_rate=m.max_unparsed_rate,
        progress=progress,
    )


def _save_vectors(vectors: Sequence[SteeringVector], folder: Path) -> list[Path]:
    out = []
    for k, vec in enumerate(vectors):
        out.append(vec.save(folder / "vectors" / f"{k}-{vec.value.value.lower()}-{vec.method}").resolve())
    return out


def read_conditions(
    folder: RunFolder,
    plan: Sequence[PlannedCondition],
    backend: Any,
    detectors: Mapping[Value, InputDetector] | None = None,
) -> list[Condition]:
    """Each planned condition's profile from the run's stored option log-likelihoods (no model call),
    except the share a detector steered, which is read again from the unsteered model."""
    probes = {p["id"]: Probe.model_validate(p) for p in read_jsonl(folder.probes)}
    personas = {
        p["id"]: Persona.model_validate(p) for p in json.loads(folder.personas.read_text(encoding="utf-8"))
    }
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rec in read_jsonl(folder.responses):
        rows.setdefault((rec["model"], rec["persona"]), []).append(rec)
    out = []
    for c in plan:
        recs = sorted(rows.get((c.model, c.persona), []), key=lambda r: r["record_id"])
        by_order: dict[str, dict[str, dict[Value, float]]] = {"fwd": {}, "rev": {}}
        failed = 0
        for rec in recs:
            resp = ModelResponse.model_validate(rec["response"])
            if not resp.ok or resp.option_logprobs is None:
                failed += 1
                continue
            probe = probes[rec["probe_id"]]
            rendered = render_probe(
                probe,
                personas.get(c.persona),
                reverse_labels=rec["order"] == "rev",
                text_only=rec.get("variant") == "text",
            )
            by_order[rec["order"]][rec["probe_id"]] = keyed_scores(rendered, resp.option_logprobs)
        fwd_all, rev_all = by_order["fwd"], by_order["rev"]
        if not fwd_all and not rev_all:
            raise ConfigError(
                f"{folder.responses}: condition {c.name} (model {c.model!r}) has no answer with option "
                "log-likelihoods; steering evaluation needs a backend that scores options"
            )
        both = sorted(set(fwd_all) & set(rev_all))
        share = None
        det = (
            (detectors or {}).get(c.target)
            if c.target is not None and c.kind in ("steer", "random")
            else None
        )
        if det is not None and recs:
            texts = [request_text(ModelRequest(request_id="d", messages=r["messages"])) for r in recs]
            share = sum(det.decide(backend.model, text_reader(backend), texts)) / len(texts)
        out.append(
            Condition(
                name=c.name,
                kind=c.kind,
                target=c.target,
                strength=c.strength,
                seed=c.seed,
                method=c.method,
                model=c.model,
                persona=c.persona,
                profile=_profile([*fwd_all.values(), *rev_all.values()]),
                order_r=_order_r([fwd_all[p] for p in both], [rev_all[p] for p in both]),
                steered_share=share,
                n_failed=failed,
            )
        )
    return out


def _profile(item_scores: list[dict[Value, float]]) -> dict[Value, float]:
    acc: dict[Value, list[float]] = {}
    for s in item_scores:
        for v, x in s.items():
            acc.setdefault(v, []).append(x)
    return {v: statistics.fmean(acc[v]) for v in Value if v in acc}


def _order_r(fwd: list[dict[Value, float]], rev: list[dict[Value, float]]) -> float | None:
    xs = [a[v] for a, b in zip(fwd, rev, strict=True) for v in a if v in b]
    ys = [b[v] for a, b in zip(fwd, rev, strict=True) for v in a if v in b]
    if len(xs) < 3 or statistics.pstdev(xs) == 0 or statistics.pstdev(ys) == 0:
        return None
    return statistics.correlation(xs, ys)


def _iter_kind(
    conditions: list[Condition], kind: str, target: Value, strength: float, method: str | None = None
) -> Iterator[Condition]:
    return (
        c
        for c in conditions
        if c.kind == kind
        and c.target is target
        and c.strength == strength
        and (method is None or c.method is None or c.method == method)
    )


def _effect(vec: SteeringVector, strength: float, conditions: list[Condition]) -> Effect:
    steered = next(_iter_kind(conditions, "steer", vec.value, strength, vec.method))
    t = vec.value
    delta = steered.changes or {}
    if t not in delta:
        raise ConfigError(f"no probe in the set scores {t.value}; add probes keyed to the steered value")
    rand = [
        (c.changes or {})[t] for c in _iter_kind(conditions, "random", t, strength, vec.method) if c.changes
    ]
    r_mean = statistics.fmean(rand) if rand else None
    r_sd = statistics.stdev(rand) if len(rand) >= 2 else None
    z = None
    if r_mean is not None and r_sd is not None:
        z = (
            (delta[t] - r_mean) / r_sd
            if r_sd > 0
            else (math.copysign(math.inf, delta[t] - r_mean) if delta[t] != r_mean else 0.0)
        )
    persona_delta = (persona_changes(conditions, t) or {}).get(t)
    side = {v: d for v, d in delta.items() if v is not t}
    return Effect(
        target=t,
        method=vec.method,
        strength=strength,
        target_delta=delta[t],
        side_effects=side,
        mean_abs_side_effect=statistics.fmean(abs(d) for d in side.values()) if side else 0.0,
        random_deltas=rand,
        random_mean=r_mean,
        random_sd=r_sd,
        z_vs_random=z,
        persona_delta=persona_delta,
        persona_mean_abs_side_effect=persona_side_effect(conditions, t),
        capability_delta=steered.capability_delta,
        perplexity_ratio=steered.perplexity_ratio,
        verdict=_verdict(delta[t], z),
    )


def _verdict(delta: float, z: float | None) -> str:
    if z is None:
        return "No random-vector control: the effect cannot be judged."
    if abs(z) < Z_THRESHOLD:
        return f"Not distinguishable from same-norm random vectors (|z| < {Z_THRESHOLD:g})."
    direction = "toward" if delta > 0 and z > 0 else "away from"
    return f"Moves the value {direction} the target beyond random vectors (|z| >= {Z_THRESHOLD:g})."
