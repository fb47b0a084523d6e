"""The decision design driven by a manifest.

For every preference profile (people of a human study, or profiles listed in the manifest)
and scenario: each assessor's ratings ranked by each MCDM method, and optionally a model's
own ranking. Standard methods weight the dimensions by the profile's preferences; the
``valuepilot_*`` variant takes the preferences raw and the scenario's relevance vector (1 for
each dimension the scenario names) as its scenario rating. Rankings are compared with the
people's (where a human study is given) and the model's with each oracle MCDM ranking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

from valuespectrum.backends.spec import redact_url_credentials
from valuespectrum.designs.common import DesignOutcome, check_header, make_backend, out_folder, resolve
from valuespectrum.designs.decisions import assess
from valuespectrum.designs.decisions.compare import first_choice, mean_ci, paired_difference, set_similarity
from valuespectrum.designs.decisions.dataset import (
    DIMENSIONS,
    Scenario,
    load_dataset,
    load_people,
    load_scenarios,
)
from valuespectrum.designs.decisions.maker import rank_actions
from valuespectrum.designs.decisions.mcdm import METHODS, rank, score_by
from valuespectrum.designs.decisions.report import write_report
from valuespectrum.errors import ConfigError
from valuespectrum.manifest import ModelEntry, _Strict, load_config
from valuespectrum.runs.jsonl import write_json_atomic

AssessorName = Literal["oracle", "judge", "probe"]


def _oracle_only() -> list[AssessorName]:
    return ["oracle"]


class Profile(_Strict):
    id: str
    preferences: list[float] = Field(min_length=6, max_length=6)


class HumanStudy(_Strict):
    results: str
    """People's preference points and rankings (``result_en.json`` layout)."""
    ranking_base: Literal[0, 1] = 1


class DecisionManifest(_Strict):
    name: str = "decisions"
    model: ModelEntry | None = None
    """Backend for the judge and probe assessors and the model decision maker."""
    scenarios: str
    """Scenario file (ValuePilot layout; the questionnaire when a human study is given)."""
    train: str | None = None
    """Training scenarios (file or dataset folder) for the probe assessor."""
    human_study: HumanStudy | None = None
    profiles: list[Profile] = Field(default_factory=list)
    assessors: list[AssessorName] = Field(default_factory=_oracle_only, min_length=1)
    methods: list[str] = Field(default_factory=lambda: list(METHODS), min_length=1)
    decision_maker: bool = False
    """Also let the model rank the actions itself."""
    probe_alpha: float = Field(default=1.0, gt=0)
    n_boot: int = Field(default=1000, ge=0)
    seed: int = 0
    output_dir: str = "runs"
    max_unparsed_rate: float = Field(default=1.0, ge=0.0, le=1.0)

    @field_validator("methods")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        bad = [m for m in v if m not in METHODS]
        if bad:
            raise ValueError(f"unknown MCDM method(s) {bad}; use {list(METHODS)}")
        return v


def _rankings(ratings: np.ndarray, s: Scenario, prefs: list[float], method: str) -> list[int]:
    return rank(score_by(method, ratings, prefs, scenario_rating=s.relevance, preferences=prefs))


def run_decision_manifest(
    path: str | Path, *, out: Path | None = None, fresh: bool = False, model: str | None = None
) -> DesignOutcome:
    path = Path(path)
    m = load_config(DecisionManifest, path)
    base = path.parent
    sc_path = resolve(base, m.scenarios)
    assert sc_path is not None
    scenarios = load_scenarios(sc_path)
    people = []
    if m.human_study is not None:
        res_path = resolve(base, m.human_study.results)
        assert res_path is not None
        people = load_people(res_path, scenarios, base=m.human_study.ranking_base)
    profiles = [(p.id, list(p.preferences)) for p in people] + [(p.id, p.preferences) for p in m.profiles]
    if not profiles:
        raise ConfigError(
            f"{path}: give 'profiles' or a 'human_study' (whose people carry preference points)"
        )
    needs_model = m.decision_maker or any(a != "oracle" for a in m.assessors)
    if needs_model and m.model is None and model is None:
        raise ConfigError(
            f"{path}: field 'model' is required for the judge/probe assessors and decision_maker"
        )
    folder = out_folder(base, m.output_dir, m.name, out, fresh)
    backend = (
        make_backend(m.model or ModelEntry(spec="mock"), model, base=path.parent) if needs_model else None
    )
    n_req = n_unread = 0
    assessments: list[assess.Assessment] = []
    model_recs: dict[tuple[str, str], dict[str, Any]] = {}
    try:
        check_header(
            folder,
            {
                "design": "decisions",
                "manifest": m.model_dump(),
                "model": redact_url_credentials(model) if model else model,
                "model_id": backend.model_id if backend else None,
            },
        )
        for name in m.assessors:
            if name == "oracle":
                assessments.append(assess.oracle(scenarios))
            elif name == "judge":
                assert backend is not None
                assessments.append(assess.judge(backend, scenarios))
            else:
                tr = resolve(base, m.train)
                if tr is None:
                    raise ConfigError(f"{path}: field 'train' is required for the probe assessor")
                train = [s for s in load_dataset(tr) if s.split in ("", "train")]
                assessments.append(assess.probe(backend, train, scenarios, alpha=m.probe_alpha))
            n_req += assessments[-1].n_requests
            n_unread += assessments[-1].n_unread
        if m.decision_maker:
            assert backend is not None
            tasks = [(pid, s, prefs) for pid, prefs in profiles for s in scenarios]
            model_recs = rank_actions(backend, tasks, folder / "model_rankings.jsonl")
            n_req += len(tasks)
            n_unread += sum(model_recs[(pid, s.id)]["status"] != "parsed" for pid, s, _ in tasks)
    finally:
        if backend is not None:
            backend.close()

    # rankings[(assessor, method)][(profile, scenario)]
    rankings: dict[tuple[str, str], dict[tuple[str, str], list[int] | None]] = {}
    for a in assessments:
        for meth in m.methods:
            rankings[(a.name, meth)] = {
                (pid, s.id): _rankings(a.ratings[s.id], s, prefs, meth)
                for pid, prefs in profiles
                for s in scenarios
            }
    if m.decision_maker:
        rankings[("model", "model")] = {k: r["ranking"] for k, r in model_recs.items()}
    summary = summarize(rankings, people, scenarios, profiles, m, n_unread, n_req)
    summary["assessors"] = {
        a.name: {"n_requests": a.n_requests, "n_unread": a.n_unread, **a.details} for a in assessments
    }
    summary["model_id"] = backend.model_id if backend is not None else None
    write_json_atomic(folder / "summary.json", summary)
    write_report(summary, folder)
    return DesignOutcome(folder, summary, n_req, n_unread, m.max_unparsed_rate)


def _compare(
    got: dict[tuple[str, str], list[int] | None],
    ref: dict[tuple[str, str], list[int] | None],
    units: list[str],
    scenarios: list[Scenario],
) -> tuple[dict[str, list[float]], dict[str, list[float]], int]:
    """Per unit (person/profile): similarity and first-choice per scenario; count of unread pairs."""
    sims: dict[str, list[float]] = {u: [] for u in units}
    firsts: dict[str, list[float]] = {u: [] for u in units}
    missing = 0
    for u in units:
        for s in scenarios:
            a, b = got.get((u, s.id)), ref.get((u, s.id))
            if a is None or b is None:
                missing += 1
                continue
            sims[u].append(set_similarity(a, b))
            firsts[u].append(first_choice(a, b))
    return sims, firsts, missing


def summarize(
    rankings: dict[tuple[str, str], dict[tuple[str, str], list[int] | None]],
    people: list[Any],
    scenarios: list[Scenario],
    profiles: list[tuple[str, list[float]]],
    m: DecisionManifest,
    n_unread: int,
    n_req: int,
) -> dict[str, Any]:
    refs: dict[str, dict[tuple[str, str], list[int] | None]] = {}
    human_units = [p.id for p in people]
    if people:
        refs["human"] = {
            (p.id, s.id): list(r) for p in people for s, r in zip(scenarios, p.rankings, strict=True)
        }
    rows: list[dict[str, Any]] = []
    per_person: dict[str, dict[str, dict[str, float | int | None]]] = {}
    for (assessor, meth), got in rankings.items():
        targets = list(refs.items())
        if assessor == "model":
            targets += [
                (f"oracle:{x}", rankings[("oracle", x)]) for x in m.methods if ("oracle", x) in rankings
            ]
        for ref_name, ref in targets:
            units = human_units if ref_name == "human" else [pid for pid, _ in profiles]
            sims, firsts, missing = _compare(got, ref, units, scenarios)
            unit_means = [float(np.mean(v)) for v in sims.values() if v]
            unit_first = [float(np.mean(v)) for v in firsts.values() if v]
            ci = mean_ci(unit_means, n_boot=m.n_boot, seed=m.seed)
            rows.append(
                {
                    "assessor": assessor,
                    "method": meth,
                    "reference": ref_name,
                    "similarity": ci["mean"],
                    "ci": [ci["lo"], ci["hi"]],
                    "sd_over_units": float(np.std(unit_means, ddof=1)) if len(unit_means) > 1 else None,
                    "first_choice": float(np.mean(unit_first)) if unit_first else None,
                    "n": len(unit_means),
                    "unread_pairs": missing,
                }
            )
            if ref_name == "human":
                per_person[f"{assessor}/{meth}"] = {
                    u: mean_ci(v, n_boot=m.n_boot, seed=m.seed) for u, v in sims.items()
                }
    diffs = []
    if people:
        keys = list(per_person)
        if keys:
            first = keys[0]
            for k in keys[1:]:
                a = [per_person[k][u]["mean"] for u in human_units]
                b = [per_person[first][u]["mean"] for u in human_units]
                fa = [float(x) for x in a if x is not None]
                fb = [float(x) for x in b if x is not None]
                if len(fa) == len(fb) == len(human_units):
                    diffs.append(
                        {
                            "method": k,
                            "minus": first,
                            **paired_difference(fa, fb, n_boot=m.n_boot, seed=m.seed),
                        }
                    )
    return {
        "dimensions": DIMENSIONS,
        "n_scenarios": len(scenarios),
        "n_profiles": len(profiles),
        "similarity": rows,
        "per_person": per_person,
        "paired_differences": diffs,
        "model_answers": {"requests": n_req, "unread": n_unread},
    }
