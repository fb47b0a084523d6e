"""``vspec couple run MANIFEST``: objectives x questions through COUPLE and its baselines."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from statistics import mean
from typing import Any, Literal

from pydantic import Field

from valuespectrum.backends.base import Backend
from valuespectrum.designs.common import DesignOutcome, check_header, make_backend, out_folder, resolve
from valuespectrum.designs.couple.attribution import Attributor, ScoreMode
from valuespectrum.designs.couple.calls import Caller
from valuespectrum.designs.couple.metrics import aggregate
from valuespectrum.designs.couple.objectives import Scale, load_objectives, system_dimensions
from valuespectrum.designs.couple.pipeline import METHODS, Pipeline, run_pairs
from valuespectrum.designs.couple.questions import QuestionFormat, load_questions
from valuespectrum.designs.couple.relations import load_relations
from valuespectrum.manifest import ModelEntry, _Strict, load_config
from valuespectrum.runs.jsonl import write_json_atomic

Method = Literal["raw", "role_prompt", "value_prompt", "couple"]
NOTE = (
    "Small models (SmolLM2-135M) show the plumbing only: they neither follow the attribution format "
    "reliably nor rewrite answers toward a profile, so their numbers say nothing about the published "
    "effect; compare methods with 7B+ generators and a different evaluator."
)


class ObjectivesEntry(_Strict):
    path: str
    scale: Scale = "likert5"
    system: str | None = None
    """Value system of a CSV file (default schwartz10; a YAML file names its own)."""


class QuestionsEntry(_Strict):
    path: str
    format: QuestionFormat = "plain"
    limit: int | None = Field(default=None, ge=1)


class CoupleManifest(_Strict):
    name: str = "couple"
    generator: ModelEntry
    attributor: ModelEntry | None = None
    """Attributes the raw answer inside COUPLE (default: the generator)."""
    evaluator: ModelEntry
    """Scores every method's answer for the metrics; should differ from the generator."""
    objectives: ObjectivesEntry
    questions: QuestionsEntry
    relations: str = "circumplex"
    """``circumplex``, ``none`` or a ``vspec graph`` output (graph.json or its folder), relative to the manifest."""
    methods: list[Method] = Field(default_factory=lambda: list(METHODS), min_length=1)  # type: ignore[arg-type]
    tau: float = Field(default=0.0, ge=0.0)
    """Intervene when sum |s' - s| over the defining dimensions exceeds tau (the paper gives no value)."""
    k: int = Field(default=5, ge=1)
    """Defining dimensions per objective when it lists none (its k highest scores)."""
    score_mode: ScoreMode = "auto"
    calibration: str | None = None
    """Labelled JSONL to calibrate the evaluator against (agreement, within-one, kappa)."""
    answer_tokens: int = Field(default=200, ge=1)
    concept_tokens: int = Field(default=200, ge=1)
    cache: bool | str = True
    """Response cache: true = cache.sqlite in the output folder, a path, or false."""
    output_dir: str = "runs"
    max_unparsed_rate: float = Field(default=1.0, ge=0.0, le=1.0)
    """Exit non-zero when more than this share of evaluated target scores is unparsed or failed."""


class CoupleOutcome(DesignOutcome):
    """A couple run's outcome; its answers are the evaluated target scores."""


def _backend(entry: ModelEntry, override: str | None, base: Path, cache: Path | None) -> Backend:
    b = make_backend(entry, override, base=base)
    if cache is None:
        return b
    from valuespectrum.backends.cache import CachedBackend

    return CachedBackend(b, cache)


def run_couple_manifest(
    path: str | Path,
    *,
    out: Path | None = None,
    fresh: bool = False,
    model: str | None = None,
    evaluator: str | None = None,
) -> CoupleOutcome:
    """``model`` replaces the generator (and the attributor it stands in for); ``evaluator`` the evaluator."""
    path = Path(path)
    m = load_config(CoupleManifest, path)
    base = path.parent
    obj_path, q_path = resolve(base, m.objectives.path), resolve(base, m.questions.path)
    assert obj_path is not None and q_path is not None
    objectives = load_objectives(obj_path, scale=m.objectives.scale, system=m.objectives.system)
    system = objectives[0].system
    dims = system_dimensions(system, [d for o in objectives for d in o.scores])
    questions = load_questions(q_path, m.questions.format, m.questions.limit)
    graph = load_relations(m.relations, dims, base)
    folder = out_folder(base, m.output_dir, m.name, out, fresh)
    cache = (
        None if m.cache is False else (folder / "cache.sqlite" if m.cache is True else resolve(base, m.cache))
    )
    opened: dict[str, Backend] = {}

    def backend(entry: ModelEntry, override: str | None) -> Backend:
        # one backend per distinct model entry: a local model named twice is loaded once
        key = repr((override,) if override else (entry.spec, sorted(entry.options.items())))
        if key not in opened:
            opened[key] = _backend(entry, override, base, cache)
        return opened[key]

    try:
        gen = backend(m.generator, model)
        att = gen if m.attributor is None else backend(m.attributor, None)
        ev = backend(m.evaluator, evaluator)
        same = ev.model_id == gen.model_id
        if same:
            warnings.warn(
                f"couple: the evaluator is the generator ({gen.model_id}); the paper scores with a different model",
                stacklevel=2,
            )
        header = {
            "design": "couple",
            "manifest": m.model_dump(exclude={"max_unparsed_rate", "cache", "output_dir"}),
            "generator": gen.model_id,
            "attributor": att.model_id,
            "evaluator": ev.model_id,
            "objectives": str(obj_path),
            "questions": str(q_path),
            "n_questions": len(questions),
        }
        check_header(folder, header)
        gcall = Caller(gen, "generator", m.answer_tokens)
        acall = Caller(att, "attributor")
        ecall = Caller(ev, "evaluator")
        pipe = Pipeline(
            generator=gcall,
            attributor=Attributor(acall, dims, mode=m.score_mode, concepts_tokens=m.concept_tokens),
            evaluator=Attributor(
                ecall, dims, role="evaluate", mode=m.score_mode, concepts_tokens=m.concept_tokens
            ),
            graph=graph,
            tau=m.tau,
            k=m.k,
            methods=m.methods,
            answer_tokens=m.answer_tokens,
            concept_tokens=m.concept_tokens,
        )
        records = run_pairs(pipe, objectives, questions, folder / "records.jsonl")
        calibration = None
        if m.calibration:
            from valuespectrum.designs.couple.calibration import calibrate

            cal_path = resolve(base, m.calibration)
            assert cal_path is not None
            calibration = calibrate(pipe.evaluator, cal_path, system)
            write_json_atomic(folder / "calibration.json", calibration)
        calls = {c.part: dict(sorted(c.calls.items())) for c in (gcall, acall, ecall)}
    finally:
        for b in opened.values():
            b.close()
    summary = summarize(records, [o.name for o in objectives], list(m.methods))
    summary.update(
        generator=header["generator"],
        attributor=header["attributor"],
        evaluator=header["evaluator"],
        evaluator_is_generator=same,
        system=system,
        relations=graph.source,
        tau=m.tau,
        score_methods={"attributor": pipe.attributor.method, "evaluator": pipe.evaluator.method},
        calls_this_invocation=calls,
        calibration=None if calibration is None else {k: v for k, v in calibration.items() if k != "pairs"},
        note=NOTE,
    )
    write_json_atomic(folder / "summary.json", summary)
    from valuespectrum.designs.couple.report import write_report

    write_report(summary, folder)
    return CoupleOutcome(
        folder, summary, summary["n_target_scores"], summary["n_target_scores_unread"], m.max_unparsed_rate
    )


def summarize(records: list[dict[str, Any]], objectives: list[str], methods: list[str]) -> dict[str, Any]:
    per: dict[str, Any] = {}
    n_scores = n_unread = 0
    for meth in methods:
        rows = [r["evaluation"][meth]["metrics"] for r in records if meth in r["evaluation"]]
        n_scores += sum(int(x["n_dims"]) for x in rows)
        n_unread += sum(int(x["n_unscored"]) for x in rows)
        per[meth] = {
            "overall": aggregate(rows),
            "per_objective": {
                o: aggregate(
                    [
                        r["evaluation"][meth]["metrics"]
                        for r in records
                        if r["objective"] == o and meth in r["evaluation"]
                    ]
                )
                for o in objectives
            },
            "n_failed_responses": sum(
                r["responses"][meth]["text"] is None for r in records if meth in r["responses"]
            ),
            "n_concepts_unparsed": sum(
                r["evaluation"][meth].get("concepts_status") not in ("parsed", None)
                for r in records
                if meth in r["evaluation"]
            ),
        }
    cp = [r["couple"] for r in records if r.get("couple")]
    deltas = [c["delta"] for c in cp if c["delta"] is not None]
    cf = [x for c in cp for x in c["counterfactual"]]
    status = Counter(x["status"] for x in cf)
    couple = {
        "n": len(cp),
        "n_intervened": sum(c["intervened"] for c in cp),
        "mean_delta": mean(deltas) if deltas else None,
        "n_delta_none": len(cp) - len(deltas),
        "n_attribution_dims_unscored": sum(int(c["delta_dims_unscored"]) for c in cp),
        "counterfactual_calls": len(cf),
        "counterfactual_unparsed": status.get("unparsed", 0),
        "counterfactual_failed": status.get("error", 0),
        "counterfactual_untagged": sum(not x["tagged"] for x in cf),
    }
    return {
        "design": "couple",
        "n_objectives": len(objectives),
        "n_pairs": len(records),
        "methods": per,
        "couple": couple if cp else None,
        "n_target_scores": n_scores,
        "n_target_scores_unread": n_unread,
    }
