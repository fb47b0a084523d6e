"""Persona steerability: how far a persona moves each value against the same model without one.

Definitions
-----------
- **Value change** of a persona: ``d_v = s_persona(v) - s_none(v)``, the persona's score minus
  the score of the ``none`` persona (no system prompt) of the same model and modality, for
  each value both scored.
- **Target rank**: sort the values with a change by ``d_v``, largest increase first, and give
  ranks 1..n (ties share their average rank). The rank of a target value says how far the
  persona moved it compared with the other values: 1 = moved up the most. The **mean target
  rank** averages this over the persona's targets that have a change. With 10 values, a
  persona that moves values at random has an expected mean target rank of
  ``(n + 1) / 2 = 5.5``; a perfectly steered single-target persona has 1.
- **Target moved most**: the best-ranked target moved up more than every other value (rank 1;
  a tie for first place does not count). Under random movement a single target is first with
  probability ``1 / n``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from valuespectrum.value_systems import Dim, dim_name, dims_in


def value_changes(
    persona_scores: Mapping[Dim, float | None], baseline_scores: Mapping[Dim, float | None]
) -> dict[Dim, float]:
    """``d_v = persona - baseline`` for the values scored in both, in circumplex order."""
    out: dict[Dim, float] = {}
    for v in dims_in([*persona_scores, *baseline_scores]):
        a, b = persona_scores.get(v), baseline_scores.get(v)
        if a is not None and b is not None:
            out[v] = float(a) - float(b)
    return out


def change_ranks(changes: Mapping[Dim, float]) -> dict[Dim, float]:
    """Rank of each value's change, 1 = largest increase; ties get their average rank."""
    if not changes:
        return {}
    from scipy.stats import rankdata

    values = list(changes)
    # rounded so that float noise (50.0 vs 49.99999999999999 from like-rates) ties, as it should
    ranks = rankdata([-round(changes[v], 9) for v in values], method="average")
    return {v: float(r) for v, r in zip(values, ranks, strict=True)}


def mean_target_rank(changes: Mapping[Dim, float], targets: Sequence[Dim]) -> float | None:
    """Mean rank of the targets among all value changes (see the module docstring).

    None when no target has a change.
    """
    ranks = change_ranks(changes)
    hits = [ranks[t] for t in targets if t in ranks]
    return float(np.mean(hits)) if hits else None


@dataclass(frozen=True)
class PersonaEffect:
    """One persona of one model and modality against that model's ``none`` persona."""

    model: str
    modality: str
    persona: str
    measure: str
    """The profile field compared: ``like_rate`` (0-100) for yes/no items, else ``scores``."""
    changes: dict[Dim, float]
    targets: list[Dim] = field(default_factory=list)
    target_ranks: dict[Dim, float] = field(default_factory=dict)
    mean_target_rank: float | None = None
    target_moved_most: bool | None = None
    """None when the persona names no target value (trait personas may name none)."""

    def to_json(self) -> dict[str, object]:
        return {
            "model": self.model,
            "modality": self.modality,
            "persona": self.persona,
            "measure": self.measure,
            "changes": {dim_name(v): round(d, 6) for v, d in self.changes.items()},
            "targets": [dim_name(t) for t in self.targets],
            "target_ranks": {dim_name(v): r for v, r in self.target_ranks.items()},
            "mean_target_rank": self.mean_target_rank,
            "target_moved_most": self.target_moved_most,
            "n_values": len(self.changes),
        }


def measure_of(profile: Mapping[str, Any]) -> str:
    """The field a summary profile is compared on: ``like_rate`` (0-100) for yes/no items,
    else ``scores``; under the expected readout, ``centred`` for rating and yes/no profiles
    (score - MRAT; P(yes) - the mean P(yes) of the group), so a uniform shift under a persona
    (acquiescence) is not read as a value change."""
    if profile.get("readout") == "expected" and profile.get("scale") in ("rating", "endorse"):
        return "centred"
    return "like_rate" if profile.get("scale") == "endorse" else "scores"


def profile_values(profile: Mapping[str, Any]) -> dict[Dim, float | None]:
    """A summary profile's per-value numbers on its measure (see :func:`measure_of`)."""
    raw = profile.get(measure_of(profile)) or {}
    return {v: (None if raw.get(dim_name(v)) is None else float(raw[dim_name(v)])) for v in dims_in(raw)}


def persona_effects(
    groups: Sequence[Mapping[str, object]], targets: Mapping[str, Sequence[Dim]], *, baseline: str = "none"
) -> list[PersonaEffect]:
    """Effects of every persona against ``baseline`` of the same model and modality.

    ``groups`` are the summary groups of a scored run (``model``, ``persona``, ``modality``,
    ``profile``); groups without a baseline partner are left out.
    """
    by_key = {(str(g["model"]), str(g.get("modality", "")), str(g["persona"])): g for g in groups}
    out: list[PersonaEffect] = []
    for (model, modality, persona), g in by_key.items():
        base = by_key.get((model, modality, baseline))
        if persona == baseline or base is None:
            continue
        prof, base_prof = g["profile"], base["profile"]
        assert isinstance(prof, Mapping) and isinstance(base_prof, Mapping)
        measure = measure_of(prof)
        changes = value_changes(profile_values(prof), profile_values(base_prof))
        tgt = list(targets.get(persona, []))
        ranks = change_ranks(changes)
        target_ranks = {t: ranks[t] for t in tgt if t in ranks}
        out.append(
            PersonaEffect(
                model=model,
                modality=modality,
                persona=persona,
                measure=measure,
                changes=changes,
                targets=tgt,
                target_ranks=target_ranks,
                mean_target_rank=mean_target_rank(changes, tgt) if tgt else None,
                target_moved_most=(min(target_ranks.values()) < 1.5) if target_ranks else None,
            )
        )
    return out


def steerability_overview(effects: Sequence[PersonaEffect]) -> list[dict[str, object]]:
    """Per (model, modality): mean target rank over personas with targets, against chance."""
    keyed: dict[tuple[str, str], list[PersonaEffect]] = {}
    for e in effects:
        if e.mean_target_rank is not None:
            keyed.setdefault((e.model, e.modality), []).append(e)
    rows: list[dict[str, object]] = []
    for (model, modality), es in sorted(keyed.items()):
        n_values = int(np.mean([len(e.changes) for e in es]))
        rows.append(
            {
                "model": model,
                "modality": modality,
                "n_personas": len(es),
                "mean_target_rank": float(np.mean([e.mean_target_rank for e in es])),
                "chance_mean_target_rank": (n_values + 1) / 2,
                "share_target_moved_most": float(np.mean([bool(e.target_moved_most) for e in es])),
                "chance_share_single_target": 1 / n_values if n_values else None,
            }
        )
    return rows
