"""Score a run folder from its stored responses, without calling any model.

Each record is re-rendered (rendering is deterministic) to know how its answer was
presented, parsed (unparsed answers are kept and counted, never guessed), mapped back to
the probe's own answer space and scored; then profiles are built per (model, persona),
pooling both label orders, with per-order profiles kept to show position bias.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from valuespectrum.config import load_yaml
from valuespectrum.errors import ConfigError
from valuespectrum.manifest import RunManifest, parse_manifest
from valuespectrum.personas import NO_PERSONA, Persona
from valuespectrum.probes.schema import Probe
from valuespectrum.runs.analysis import (
    annotate_groups,
    comparison_rows,
    model_agreement,
    steerability_summary,
    value_reliability,
    write_comparison_csv,
)
from valuespectrum.runs.chance import chance_summary
from valuespectrum.runs.folder import RunFolder
from valuespectrum.runs.log import (
    FORMAT_VERSION,
    GroupSummary,
    RunRecord,
    RunSummary,
    ScoreLine,
    latest_records,
    write_scores,
    write_summary,
)
from valuespectrum.runs.plan import modality_of, plan_trials
from valuespectrum.runs.readout_log import READOUTS, Readout
from valuespectrum.runs.readout_summary import (
    BiasObservation,
    answer_label,
    group_bias,
    item_measure_values,
    profile_of,
    read_record,
)
from valuespectrum.runs.wording_summary import WordingsSummary
from valuespectrum.scoring.interpret import interpret, read_rendered, render_as_asked
from valuespectrum.scoring.items import ItemScore, score_item
from valuespectrum.scoring.profile import ValueProfile, build_profile, compare_profiles
from valuespectrum.scoring.steerability import measure_of
from valuespectrum.scoring.wordings import reduce_repeats, summarise_wordings
from valuespectrum.value_systems import ValueSystem, schwartz_only_lines, system_of_probes

__all__ = ["RunState", "interpret", "load_state", "modality_gaps", "score_run"]


_RECORD_KEYS = {"record_id", "model", "persona", "probe_id", "order", "variant", "wording", "repeat"}
"""What a score line repeats of its record."""


def _by_order() -> dict[str, list[ItemScore]]:
    return defaultdict(list)


@dataclass
class _Group:
    items: list[ItemScore] = field(default_factory=list)
    by_order: dict[str, list[ItemScore]] = field(default_factory=_by_order)
    expected: list[ItemScore] = field(default_factory=list)
    expected_by_order: dict[str, list[ItemScore]] = field(default_factory=_by_order)
    observations: list[BiasObservation] = field(default_factory=list)
    n_distribution: int = 0
    n_bounded: int = 0
    n_topk: int = 0
    n_exact: int = 0
    parsed: int = 0
    unparsed: int = 0
    failed: int = 0
    cached: int = 0

    def items_of(self, readout: Readout) -> list[ItemScore]:
        return self.items if readout == "argmax" else self.expected

    def by_order_of(self, readout: Readout) -> dict[str, list[ItemScore]]:
        return self.by_order if readout == "argmax" else self.expected_by_order


@dataclass(frozen=True)
class RunState:
    """What a run folder says the run is: its manifest, probes and personas."""

    manifest: RunManifest
    probes: dict[str, Probe]
    personas: dict[str, Persona]

    @property
    def system(self) -> ValueSystem:
        """The value system the run's probes are keyed in."""
        return system_of_probes(self.probes.values())

    def expected_ids(self) -> set[str]:
        # record ids use only the persona's id
        personas = [
            None if p == NO_PERSONA else self.personas.get(p) or Persona(id=p, description="")
            for p in self.manifest.personas
        ]
        return {t.record_id for t in plan_trials(self.manifest, list(self.probes.values()), personas)}


def load_state(folder: RunFolder) -> RunState:
    """Read the manifest, probes and personas of a run folder (one-line errors when broken)."""
    for need in (folder.manifest, folder.probes, folder.personas):
        if not need.is_file():
            raise ConfigError(
                f"{need}: not found, so {folder.root} cannot be scored; give the folder `vspec run` "
                "wrote, or run the manifest again into it"
            )
    manifest = parse_manifest(load_yaml(folder.manifest), str(folder.manifest))
    probes: dict[str, Probe] = {}
    for n, line in enumerate(folder.probes.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                p = Probe.model_validate_json(line)
            except ValueError as exc:
                raise ConfigError(
                    f"{folder.probes}: line {n} is not a valid probe ({exc}); run with --fresh"
                ) from exc
            probes[p.id] = p
    try:
        personas = {
            p["id"]: Persona.model_validate(p)
            for p in json.loads(folder.personas.read_text(encoding="utf-8"))
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{folder.personas}: not a valid personas list ({exc}); run with --fresh") from exc
    return RunState(manifest, probes, personas)


def score_run(folder: RunFolder, *, readout: Readout | None = None) -> dict[str, Any]:
    """Write scores.jsonl, summary.json and summary.csv; return the summary's JSON."""
    return score_folder(folder, readout=readout).model_dump(mode="json")


def score_folder(folder: RunFolder, *, readout: Readout | None = None) -> RunSummary:
    """Score every request's latest record; the typed summary (also written to the folder).

    ``readout`` overrides the manifest's ``scoring.readout`` (the headline every analysis uses;
    both readouts are computed either way).
    """
    state = load_state(folder)
    manifest, personas = state.manifest, state.personas
    headline: Readout = readout or manifest.scoring.readout
    records = latest_records(folder.responses)
    system = state.system
    groups, lines = _read_answers(folder, state, records)
    write_scores(folder.scores, lines)
    wordings = _wordings_block(manifest, groups, lines)
    summary_groups = [
        _summarise(key, g, manifest, headline, system.dimensions) for key, g in sorted(groups.items())
    ]
    dumped = [g.model_dump(mode="json") for g in summary_groups]
    annotate_groups(dumped, references=system.is_schwartz)
    steer = steerability_summary(dumped, {pid: p.targets for pid, p in personas.items()})
    tables = {
        (sg.model, sg.persona, sg.modality): item_measure_values(
            groups[(sg.model, sg.persona, sg.modality)].items_of(headline), sg.profile, str(sg.measure)
        )
        for sg in (GroupSummary.model_validate(d) for d in dumped)
    }
    chance = chance_summary(steer["personas"], tables, ci=manifest.scoring.ci)
    total = sum(g.n_records for g in summary_groups)
    failed = sum(g.n_failed for g in summary_groups)
    unparsed = sum(g.n_unparsed for g in summary_groups)
    expected = state.expected_ids()
    summary = RunSummary.model_validate(
        {
            "format_version": FORMAT_VERSION,
            "run": manifest.name,
            "models": sorted({g.model for g in summary_groups}),
            "modality_gap": modality_gaps(dumped),
            "steerability": steer,
            "model_agreement": model_agreement(dumped),
            "reliability": value_reliability({k: g.by_order_of(headline) for k, g in groups.items()}),
            "comparison": comparison_rows(dumped, steer),
            "n_records": total,
            "n_failed": failed,
            "n_unparsed": unparsed,
            "failure_rate": failed / total if total else 0.0,
            "unparsed_rate": unparsed / total if total else 0.0,
            "max_failure_rate": manifest.max_failure_rate,
            "max_unparsed_rate": manifest.max_unparsed_rate,
            "n_expected": len(expected),
            "n_missing": len(expected - set(records)),
            "groups": dumped,
            "wordings": wordings,
            "readout": headline,
            "chance": chance.model_dump(mode="json"),
            "n_bounded": sum(g.n_bounded for g in summary_groups),
            "value_system": system.id,
            "not_applicable": [] if system.is_schwartz else schwartz_only_lines(system.id),
            "n_topk": sum(g.n_topk for g in summary_groups),
            "n_option_readings": sum(g.n_distribution for g in summary_groups),
            "n_exact": sum(g.n_exact for g in summary_groups),
        }
    )
    write_summary(folder.summary, summary)
    _write_csv(folder, dumped)
    write_comparison_csv(folder.comparison_csv, summary.comparison)
    return summary


def _read_answers(
    folder: RunFolder, state: RunState, records: dict[str, RunRecord]
) -> tuple[dict[tuple[str, str, str], _Group], list[ScoreLine]]:
    """Interpret and score every record; the groups' counts and item scores, and the lines."""
    manifest, probes, personas = state.manifest, state.probes, state.personas
    groups: dict[tuple[str, str, str], _Group] = defaultdict(_Group)
    lines: list[ScoreLine] = []
    for rec in records.values():
        probe = probes.get(rec.probe_id)
        if probe is None:
            raise ConfigError(
                f"{folder.responses}: record {rec.record_id} names probe {rec.probe_id!r}, which is not in "
                f"{folder.probes.name}; the folder mixes two runs: run the manifest again with --fresh"
            )
        if rec.persona != NO_PERSONA and rec.persona not in personas:
            raise ConfigError(
                f"{folder.responses}: record {rec.record_id} names persona {rec.persona!r}, which is not in "
                f"{folder.personas.name}; run the manifest again with --fresh"
            )
        persona = personas.get(rec.persona) if rec.persona != NO_PERSONA else None
        try:
            wording = manifest.wording(rec.wording)
        except KeyError:
            raise ConfigError(
                f"{folder.responses}: record {rec.record_id} names wording {rec.wording!r}, which is not "
                f"among the manifest's wordings; run the manifest again with --fresh"
            ) from None
        rendered = render_as_asked(
            probe, persona, rec.order, variant=rec.variant, style=manifest.prompt_style, wording=wording
        )
        answer = read_rendered(rendered, rec.response, use_logprobs=manifest.scoring.use_logprobs)
        g = groups[(rec.model, rec.persona, modality_of(rec.variant))]
        g.cached += int(rec.response.cached)
        items: list[ItemScore] = []
        reading = read_record(
            probe,
            rendered,
            answer,
            rec.response,
            order=rec.order,
            answer_id=rec.record_id,
            weight_threshold=manifest.scoring.weight_threshold,
            weight_sign=manifest.scoring.weight_sign,
        )
        g.n_bounded += int(reading.bounded)
        g.n_topk += int(reading.option_scores == "topk")
        g.n_exact += int(reading.option_scores == "exact")
        if answer.status == "parsed":
            g.parsed += 1
            items = [
                i.model_copy(update={"answer_id": rec.record_id})
                for i in score_item(
                    probe,
                    answer,
                    weight_threshold=manifest.scoring.weight_threshold,
                    weight_sign=manifest.scoring.weight_sign,
                )
            ]
            g.items.extend(items)
            g.by_order[rec.order].extend(items)
            g.expected.extend(reading.expected_items)
            g.expected_by_order[rec.order].extend(reading.expected_items)
            g.n_distribution += int(reading.distribution is not None)
            if reading.observation is not None:
                g.observations.append(reading.observation)
        elif answer.status == "unparsed":
            g.unparsed += 1
        else:
            g.failed += 1
        lines.append(
            ScoreLine(
                **rec.model_dump(include=_RECORD_KEYS),
                answer=answer,
                items=items,
                distribution=None
                if reading.distribution is None
                else {answer_label(a): p for a, p in reading.distribution.items()},
                position=reading.position,
                expected_items=reading.expected_items,
                bounded=reading.bounded,
                option_scores=reading.option_scores,
            )
        )
    return groups, lines


def _wordings_block(
    manifest: RunManifest, groups: dict[tuple[str, str, str], _Group], lines: list[ScoreLine]
) -> WordingsSummary | None:
    """Reduce repeats to one score per request (in place), then compare the wordings."""
    if manifest.repeats > 1:
        for g in groups.values():
            g.items = reduce_repeats(g.items, manifest.scoring.reducer)
            g.by_order = defaultdict(
                list, {o: reduce_repeats(i, manifest.scoring.reducer) for o, i in g.by_order.items()}
            )
            g.expected = reduce_repeats(g.expected, manifest.scoring.reducer)
            g.expected_by_order = defaultdict(
                list, {o: reduce_repeats(i, manifest.scoring.reducer) for o, i in g.expected_by_order.items()}
            )
    if len(manifest.wordings) < 2 and manifest.repeats < 2:
        return None
    sc = manifest.scoring
    return summarise_wordings(
        lines, reducer=sc.reducer, repeats=manifest.repeats, n_boot=sc.n_boot, ci=sc.ci, seed=manifest.seed
    )


def _summarise(
    key: tuple[str, str, str], g: _Group, manifest: RunManifest, headline: Readout, dims: Sequence[str]
) -> GroupSummary:
    model, persona_id, modality = key
    profiles = {
        r: profile_of(
            g.items_of(r),
            r,
            n_parsed=g.parsed,
            n_unparsed=g.unparsed,
            n_failed=g.failed,
            n_boot=manifest.scoring.n_boot,
            ci=manifest.scoring.ci,
            seed=manifest.seed,
            dims=dims,
        )
        for r in READOUTS
    }
    prof = profiles[headline]
    by_order: dict[str, ValueProfile] = {
        o: build_profile(
            items, n_parsed=len(items), n_unparsed=0, n_failed=0, n_boot=0, seed=manifest.seed, dims=dims
        )
        for o, items in sorted(g.by_order_of(headline).items())
    }
    agreement = None
    if {"fwd", "rev"} <= set(by_order):
        agreement = compare_profiles(by_order["fwd"].scores, by_order["rev"].scores).model_dump(mode="json")
    return GroupSummary.model_validate(
        {
            "model": model,
            "persona": persona_id,
            "modality": modality,
            "n_records": g.parsed + g.unparsed + g.failed,
            "n_parsed": g.parsed,
            "n_unparsed": g.unparsed,
            "n_failed": g.failed,
            "n_cached": g.cached,
            "parse_rate": g.parsed / (g.parsed + g.unparsed) if g.parsed + g.unparsed else None,
            "profile": prof,
            "by_order": {o: p.model_dump(mode="json")["scores"] for o, p in by_order.items()},
            "order_agreement": agreement,
            "readout": headline,
            "profiles": profiles,
            "bias": {r: group_bias(g.observations, r) for r in READOUTS} if g.observations else {},
            "n_distribution": g.n_distribution,
            "n_bounded": g.n_bounded,
            "n_topk": g.n_topk,
            "n_exact": g.n_exact,
        }
    )


def modality_gaps(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (model, persona) seen both ways: vision minus text score per value (the ablation)."""
    by_key = {(g["model"], g["persona"], g["modality"]): g["profile"] for g in groups}
    out = []
    for (model, persona, modality), vision in by_key.items():
        text = by_key.get((model, persona, "text"))
        if modality != "vision" or text is None:
            continue
        use = measure_of(vision)
        gap = {
            v: (vision[use][v] - text[use][v])
            if vision[use].get(v) is not None and text[use].get(v) is not None
            else None
            for v in vision[use]
        }
        known = [abs(x) for x in gap.values() if x is not None]
        out.append(
            {
                "model": model,
                "persona": persona,
                "measure": use,
                "vision_minus_text": gap,
                "mean_abs_gap": sum(known) / len(known) if known else None,
            }
        )
    return out


def _write_csv(folder: RunFolder, groups: list[dict[str, Any]]) -> None:
    fields = [
        "model",
        "persona",
        "modality",
        "value",
        "score",
        "ci_low",
        "ci_high",
        "n_items",
        "centred",
        "like_rate",
    ]
    tmp = folder.summary_csv.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for g in groups:
            prof = g["profile"]
            for key in prof["scores"]:
                w.writerow(
                    {
                        "model": g["model"],
                        "persona": g["persona"],
                        "modality": g["modality"],
                        "value": key,
                        "score": prof["scores"].get(key),
                        "ci_low": prof["ci_low"].get(key),
                        "ci_high": prof["ci_high"].get(key),
                        "n_items": prof["n_items"].get(key),
                        "centred": (prof.get("centred") or {}).get(key),
                        "like_rate": (prof.get("like_rate") or {}).get(key),
                    }
                )
    tmp.replace(folder.summary_csv)
