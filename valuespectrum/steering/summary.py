"""The typed result of a steering evaluation (``vspec steer eval``): one versioned model with
one write/read pair. Analyses (:mod:`.interdependence`) take it and reports
(:mod:`.report_section`) read it; neither recomputes a number it holds.

Written to ``RUN_DIR/steering/report.json``; 0.1 files (no ``format_version``) still read, their
derived numbers produced from the stored profiles by the same functions that produce them now.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from valuespectrum.values import Value

STEERING_FORMAT_VERSION = 2


class Fluency(BaseModel):
    perplexity: float | None
    """Perplexity of this condition's generated text under the unsteered model."""
    repetition_rate: float
    """Mean share of repeated word 3-grams in the generated texts."""
    samples: list[str]


class Condition(BaseModel):
    """One way of running the probe set and what came out."""

    name: str
    kind: Literal["baseline", "neutral_persona", "persona", "steer", "random"]
    target: Value | None = None
    strength: float | None = None
    """Multiplier (add mode) or p0 (gated mode)."""
    seed: int | None = None
    profile: dict[Value, float]
    """Order-averaged score per value, 0-100."""
    order_r: float | None
    """Pearson r between the item scores of the two label orders (negative = answers by position)."""
    capability: float | None = None
    fluency: Fluency | None = None
    steered_share: float | None = None
    """Share of probe requests a whole-input detector let through (gated mode with a detector)."""
    method: str | None = None
    """The vector's method (steer and random conditions)."""
    model: str | None = None
    """The run's model label whose rows this condition is."""
    persona: str | None = None
    """The run's persona id whose rows this condition is."""
    n_failed: int = 0
    """Requests without option log-likelihoods (failed), left out of the profile."""
    reference: str | None = None
    """The condition this one's ``changes`` are measured against: the neutral persona for value
    personas, the baseline for every other condition (None for the baseline itself)."""
    changes: dict[Value, float] | None = None
    """Per value, this profile minus the reference's (points): the steering or persona effect."""
    capability_delta: float | None = None
    """Capability minus the baseline's."""
    perplexity_ratio: float | None = None
    """Perplexity of this condition's text / the baseline's (both under the unsteered model)."""


class Effect(BaseModel):
    """What steering toward ``target`` at ``strength`` did, relative to baseline and controls."""

    target: Value
    method: str
    strength: float
    target_delta: float
    """Change of the target value's score versus baseline (points)."""
    side_effects: dict[Value, float]
    """Change of each other value's score versus baseline."""
    mean_abs_side_effect: float
    random_deltas: list[float]
    """Target-value change under each same-norm random vector."""
    random_mean: float | None
    random_sd: float | None
    z_vs_random: float | None
    persona_delta: float | None
    """Target-value change under the value persona versus the neutral persona."""
    persona_mean_abs_side_effect: float | None = None
    """Mean |change| of the other values under the value persona versus the neutral persona."""
    capability_delta: float | None
    perplexity_ratio: float | None
    """Perplexity of steered text / perplexity of baseline text (both under the unsteered model)."""
    verdict: str


class GateInfo(BaseModel):
    """The whole-input detector that gated one value's steering."""

    value: Value
    source: str
    layer: int
    pooling: str
    threshold: float


class SteeringSummary(BaseModel):
    """``steering/report.json``: every condition's profile and effect, and each vector's effect
    against the controls. Derived numbers are computed once, here; reports only read them."""

    format_version: int = 1
    """2: conditions carry ``changes``, ``capability_delta`` and ``perplexity_ratio``, effects
    ``persona_mean_abs_side_effect``; 1 (implicit): 0.1 files, completed on reading."""
    model_id: str
    mode: str
    seed: int
    n_probes: int
    n_random: int
    label_orders: list[str] = Field(default_factory=lambda: ["forward", "reversed"])
    gates: list[GateInfo] = Field(default_factory=list)
    """Detectors used in gated mode (empty: every request was steered)."""
    conditions: list[Condition]
    effects: list[Effect]
    run_dir: str | None = None
    """The probe run holding every condition's responses (responses.jsonl)."""

    @model_validator(mode="after")
    def _derived(self) -> SteeringSummary:
        # files written before format 2 lack the derived numbers: produce them from the profiles
        complete_conditions(self.conditions)
        for e in self.effects:
            if e.persona_mean_abs_side_effect is None:
                e.persona_mean_abs_side_effect = persona_side_effect(self.conditions, e.target)
        return self

    def condition(self, name: str) -> Condition:
        for c in self.conditions:
            if c.name == name:
                return c
        raise KeyError(name)

    def summary_text(self) -> str:
        base = self.condition("baseline")
        lines = [
            f"Steering evaluation of {self.model_id} ({self.mode} mode, {self.n_probes} probes, "
            f"both label orders averaged, {self.n_random} random vectors per strength).",
            f"Label-order consistency at baseline: r = {_fmt(base.order_r)} "
            "(near -1 means the model answers by position, not content).",
        ]
        for g in self.gates:
            shares = [c.steered_share for c in self.conditions if c.kind == "steer" and c.target is g.value]
            got = ", ".join(f"{x:.0%}" for x in shares if x is not None) or "n/a"
            lines.append(
                f"Gate for {g.value.value}: {g.pooling}-pooled probe at layer {g.layer} > {g.threshold:g} "
                f"({g.source}); share of probe requests steered: {got}."
            )
        for e in self.effects:
            lines.append(
                f"- {e.target.value} x{e.strength:g} ({e.method}): target {e.target_delta:+.2f} pts; "
                f"random {_fmt(e.random_mean, '+.2f')} ± {_fmt(e.random_sd, '.2f')}, z = {_fmt(e.z_vs_random, '+.2f')}; "
                f"side effects mean |Δ| {e.mean_abs_side_effect:.2f}; persona {_fmt(e.persona_delta, '+.2f')}. "
                f"{e.verdict}"
            )
        return "\n".join(lines)


def _fmt(x: float | None, spec: str = ".2f") -> str:
    return "n/a" if x is None or math.isnan(x) else format(x, spec)


def _reference(c: Condition, conditions: Sequence[Condition]) -> Condition | None:
    if c.kind == "baseline":
        return None
    if c.kind == "persona":
        neutral = next((x for x in conditions if x.kind == "neutral_persona"), None)
        if neutral is not None:
            return neutral
    return next((x for x in conditions if x.kind == "baseline"), None)


def complete_conditions(conditions: Sequence[Condition]) -> None:
    """Fill each condition's derived numbers (changes against its reference, capability and
    perplexity against the baseline) where they are missing."""
    base = next((x for x in conditions if x.kind == "baseline"), None)
    for c in conditions:
        ref = _reference(c, conditions)
        if c.changes is None and ref is not None:
            c.reference = ref.name
            c.changes = {v: c.profile[v] - ref.profile[v] for v in c.profile if v in ref.profile}
        if base is None:  # the baseline against itself: 0 and 1, as the quality table shows
            continue
        if c.capability_delta is None and c.capability is not None and base.capability is not None:
            c.capability_delta = c.capability - base.capability
        ppl = c.fluency.perplexity if c.fluency else None
        base_ppl = base.fluency.perplexity if base.fluency else None
        if c.perplexity_ratio is None and ppl is not None and base_ppl:
            c.perplexity_ratio = ppl / base_ppl


def persona_changes(conditions: Sequence[Condition], target: Value) -> dict[Value, float] | None:
    """The changes under ``target``'s value persona against the neutral persona (None without both)."""
    persona = next((c for c in conditions if c.kind == "persona" and c.target is target), None)
    neutral = next((c for c in conditions if c.kind == "neutral_persona"), None)
    if persona is None or neutral is None or persona.reference != neutral.name:
        return None
    return persona.changes


def persona_side_effect(conditions: Sequence[Condition], target: Value) -> float | None:
    """Mean |change| of the values other than ``target`` under ``target``'s value persona."""
    changes = persona_changes(conditions, target)
    side = [abs(d) for v, d in (changes or {}).items() if v is not target]
    return statistics.fmean(side) if side else None


def write_steering_summary(path: Path, summary: SteeringSummary) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        summary.model_copy(update={"format_version": STEERING_FORMAT_VERSION}).model_dump_json(indent=2)
        + "\n",
        encoding="utf-8",
    )


def read_steering_summary(path: Path) -> SteeringSummary:
    """Read ``steering/report.json``; a malformed file is a one-line error naming file and field."""
    from valuespectrum.config import read_json_model

    return read_json_model(SteeringSummary, path, fix="re-run `vspec steer eval` to rewrite it")
