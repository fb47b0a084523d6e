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
from dataclasses import dataclass
from typing import Any

from valuespectrum.manifest import RunManifest, parse_manifest
from valuespectrum.personas import NO_PERSONA, Persona
from valuespectrum.probes.render import PromptStyle, render_probe
from valuespectrum.probes.schema import Probe
from valuespectrum.runs.analysis import (
    annotate_groups,
    comparison_rows,
    model_agreement,
    steerability_summary,
    value_reliability,
    write_comparison_csv,
)
from valuespectrum.runs.execute import modality_of
from valuespectrum.runs.folder import RunFolder
from valuespectrum.runs.jsonl import read_jsonl, write_json_atomic
from valuespectrum.scoring.items import ItemScore, score_item
from valuespectrum.scoring.parse import ParsedAnswer, parse_answer
from valuespectrum.scoring.profile import ValueProfile, build_profile, compare_profiles
from valuespectrum.scoring.steerability import measure_of
from valuespectrum.types import ModelResponse
from valuespectrum.values import CIRCUMPLEX, Value


@dataclass
class _Group:
    items: list[ItemScore]
    by_order: dict[str, list[ItemScore]]
    parsed: int = 0
    unparsed: int = 0
    failed: int = 0
    cached: int = 0


def _load_state(folder: RunFolder) -> tuple[RunManifest, dict[str, Probe], dict[str, Persona]]:
    import yaml

    manifest = parse_manifest(
        yaml.safe_load(folder.manifest.read_text(encoding="utf-8")), str(folder.manifest)
    )
    probes = {p["id"]: Probe.model_validate(p) for p in read_jsonl(folder.probes)}
    personas = {
        p["id"]: Persona.model_validate(p) for p in json.loads(folder.personas.read_text(encoding="utf-8"))
    }
    return manifest, probes, personas


def interpret(
    probe: Probe,
    persona: Persona | None,
    order: str,
    response: ModelResponse,
    *,
    use_logprobs: bool,
    variant: str = "",
    style: PromptStyle = "plain",
) -> ParsedAnswer:
    """Parse a stored response as it was presented, then map it to the probe's own terms."""
    rendered = render_probe(
        probe, persona, reverse_labels=(order == "rev"), text_only=(variant == "text"), style=style
    )
    answer = parse_answer(rendered.presented, response, rendered.option_values, use_logprobs=use_logprobs)
    if answer.status == "parsed" and answer.value is not None:
        answer = answer.model_copy(update={"value": rendered.true_value(answer.value)})
    return answer


def score_run(folder: RunFolder) -> dict[str, Any]:
    """Write scores.jsonl, summary.json and summary.csv; return the summary."""
    manifest, probes, personas = _load_state(folder)
    groups: dict[tuple[str, str, str], _Group] = defaultdict(
        lambda: _Group(items=[], by_order=defaultdict(list))
    )
    lines = []
    for rec in read_jsonl(folder.responses):
        probe = probes.get(rec["probe_id"])
        if probe is None:
            raise ValueError(
                f"{folder.responses}: record {rec['record_id']} names unknown probe {rec['probe_id']!r}"
            )
        persona = personas.get(rec["persona"]) if rec["persona"] != NO_PERSONA else None
        response = ModelResponse.model_validate(rec["response"])
        variant = rec.get("variant", "")
        answer = interpret(
            probe,
            persona,
            rec["order"],
            response,
            use_logprobs=manifest.scoring.use_logprobs,
            variant=variant,
            style=manifest.prompt_style,
        )
        g = groups[(rec["model"], rec["persona"], modality_of(variant))]
        g.cached += int(response.cached)
        items: list[ItemScore] = []
        if answer.status == "parsed":
            g.parsed += 1
            items = [
                i.model_copy(update={"answer_id": rec["record_id"]})
                for i in score_item(probe, answer, weight_threshold=manifest.scoring.weight_threshold)
            ]
            g.items.extend(items)
            g.by_order[rec["order"]].extend(items)
        elif answer.status == "unparsed":
            g.unparsed += 1
        else:
            g.failed += 1
        lines.append(
            {
                "record_id": rec["record_id"],
                "model": rec["model"],
                "persona": rec["persona"],
                "probe_id": rec["probe_id"],
                "order": rec["order"],
                "variant": variant,
                "answer": answer.model_dump(mode="json"),
                "items": [i.model_dump(mode="json") for i in items],
            }
        )
    tmp = folder.scores.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    tmp.replace(folder.scores)

    summary_groups: list[dict[str, Any]] = []
    for (model, persona_id, modality), g in sorted(groups.items()):
        prof = build_profile(
            g.items,
            n_parsed=g.parsed,
            n_unparsed=g.unparsed,
            n_failed=g.failed,
            n_boot=manifest.scoring.n_boot,
            ci=manifest.scoring.ci,
            seed=manifest.seed,
        )
        by_order: dict[str, ValueProfile] = {
            o: build_profile(
                items, n_parsed=len(items), n_unparsed=0, n_failed=0, n_boot=0, seed=manifest.seed
            )
            for o, items in sorted(g.by_order.items())
        }
        agreement = None
        if {"fwd", "rev"} <= set(by_order):
            agreement = compare_profiles(by_order["fwd"].scores, by_order["rev"].scores).model_dump(
                mode="json"
            )
        n = g.parsed + g.unparsed + g.failed
        summary_groups.append(
            {
                "model": model,
                "persona": persona_id,
                "modality": modality,
                "n_records": n,
                "n_parsed": g.parsed,
                "n_unparsed": g.unparsed,
                "n_failed": g.failed,
                "n_cached": g.cached,
                "parse_rate": g.parsed / (g.parsed + g.unparsed) if g.parsed + g.unparsed else None,
                "profile": prof.model_dump(mode="json"),
                "by_order": {o: p.model_dump(mode="json")["scores"] for o, p in by_order.items()},
                "order_agreement": agreement,
            }
        )
    annotate_groups(summary_groups)
    steer = steerability_summary(summary_groups, {pid: p.targets for pid, p in personas.items()})
    comparison = comparison_rows(summary_groups, steer)
    total = sum(g["n_records"] for g in summary_groups)
    failed = sum(g["n_failed"] for g in summary_groups)
    unparsed = sum(g["n_unparsed"] for g in summary_groups)
    summary = {
        "run": manifest.name,
        "models": sorted({g["model"] for g in summary_groups}),
        "modality_gap": modality_gaps(summary_groups),
        "steerability": steer,
        "model_agreement": model_agreement(summary_groups),
        "reliability": value_reliability({k: g.by_order for k, g in groups.items()}),
        "comparison": comparison,
        "n_records": total,
        "n_failed": failed,
        "n_unparsed": unparsed,
        "failure_rate": failed / total if total else 0.0,
        "unparsed_rate": unparsed / total if total else 0.0,
        "max_failure_rate": manifest.max_failure_rate,
        "groups": summary_groups,
    }
    write_json_atomic(folder.summary, summary)
    _write_csv(folder, summary_groups)
    write_comparison_csv(folder.comparison_csv, comparison)
    return summary


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
            v.value: (vision[use][v.value] - text[use][v.value])
            if vision[use].get(v.value) is not None and text[use].get(v.value) is not None
            else None
            for v in CIRCUMPLEX
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
            for v in CIRCUMPLEX:
                key = Value(v).value
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
