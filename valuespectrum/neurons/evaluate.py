"""Effect of editing a neuron set on the held-out pair preference, against its controls.

The target is the mean pair preference for aspect A (:mod:`valuespectrum.steering.preference`)
on texts the set was not located on. Each condition's *effect* is its mean preference minus the
unedited model's. Controls: the opposite set (A and B swapped, so a shift goes the other way)
and ``n_random`` random sets of the same size and layer distribution; ``z`` is the target's
effect in standard deviations of the random sets' effects (None with fewer than two random sets
or no spread). With ``measure`` (:func:`valuespectrum.neurons.quality.quality_measure`) every
condition also records fluency and capability under its edit (``EditReport.quality``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from valuespectrum.neurons.aspects import AspectText
from valuespectrum.neurons.edit import EditMode, Schedule, edit_neurons
from valuespectrum.neurons.locate import NeuronSet
from valuespectrum.neurons.stats import NeuronStats
from valuespectrum.steering.preference import preference


@dataclass
class EditEffect:
    gamma: float
    target: float
    opposite: float | None
    """None in mode scale: the opposite set has the same neurons, so scaling them is the target edit."""
    random: list[float]
    random_mean: float
    random_sd: float
    z: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EditReport:
    mode: str
    schedule: str
    baseline: float
    """Mean preference for aspect A of the unedited model."""
    n_pairs: int
    effects: list[EditEffect]
    quality: list[dict[str, Any]] = field(default_factory=list)
    """Per condition: ``condition`` (baseline, target, opposite, random), ``gamma``, ``random``
    (index of the random set or None) and the measures (perplexity, capability, mmlu, ...)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "schedule": self.schedule,
            "baseline": self.baseline,
            "n_pairs": self.n_pairs,
            "effects": [e.as_dict() for e in self.effects],
            "quality": self.quality,
        }


def edit_effects(
    model: Any,
    tokenizer: Any,
    nset: NeuronSet,
    side_a: Sequence[AspectText],
    side_b: Sequence[AspectText],
    *,
    mode: EditMode = "shift",
    gammas: Sequence[float] = (1.0,),
    schedule: Schedule = "constant",
    n_random: int = 3,
    seed: int = 0,
    stats_a: NeuronStats | None = None,
    stats_b: NeuronStats | None = None,
    batch_size: int = 8,
    baseline: float | None = None,
    max_pairs: int | None = None,
    measure: Callable[[], dict[str, float | None]] | None = None,
) -> EditReport:
    """Edit ``nset`` at each gamma and compare with the opposite and random sets (module notes).

    ``baseline`` reuses an unedited mean preference computed on the same texts; ``max_pairs``
    keeps the first pairs only (to bound the cost on CPU).
    """

    quality: list[dict[str, Any]] = []

    def mean_pref(s: NeuronSet | None, g: float, name: str, r: int | None = None, pref: bool = True) -> float:
        ctx = nullcontext() if s is None else edit_neurons(model, s, mode, g, schedule=schedule)
        with ctx:
            out = (
                float(preference(model, tokenizer, side_a, side_b, batch_size=batch_size).mean())
                if pref
                else 0.0
            )
            if measure is not None:
                quality.append(
                    {"condition": name, "gamma": None if s is None else g, "random": r, **measure()}
                )
        return out

    if max_pairs is not None:
        side_a, side_b = side_a[:max_pairs], side_b[:max_pairs]
    if baseline is None:
        base = mean_pref(None, 0.0, "baseline")
    else:
        base = baseline
        if measure is not None:
            mean_pref(None, 0.0, "baseline", pref=False)
    randoms = [nset.random_like(seed * 1000 + r, stats_a, stats_b) for r in range(n_random)]
    opposite = nset.opposite()
    effects: list[EditEffect] = []
    for g in gammas:
        target = mean_pref(nset, g, "target") - base
        opp = None if mode == "scale" else mean_pref(opposite, g, "opposite") - base
        rnd = [mean_pref(r, g, "random", k) - base for k, r in enumerate(randoms)]
        sd = float(np.std(rnd, ddof=1)) if len(rnd) > 1 else 0.0
        mean = float(np.mean(rnd)) if rnd else 0.0
        z = (target - mean) / sd if sd > 0 else None
        effects.append(EditEffect(float(g), target, opp, rnd, mean, sd, z))
    return EditReport(mode, schedule, base, len(side_a), effects, quality)
