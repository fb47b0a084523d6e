"""Effect of editing a neuron set on the held-out pair preference, against its controls.

The target is the mean pair preference for aspect A (:mod:`valuespectrum.steering.preference`)
on texts the set was not located on. Each condition's *effect* is its mean preference minus the
unedited model's. Controls: the opposite set (A and B swapped, so a shift goes the other way)
and ``n_random`` random sets of the same size and layer distribution; ``z`` is the target's
effect in standard deviations of the random sets' effects (None with fewer than two random sets
or no spread).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "schedule": self.schedule,
            "baseline": self.baseline,
            "n_pairs": self.n_pairs,
            "effects": [e.as_dict() for e in self.effects],
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
) -> EditReport:
    """Edit ``nset`` at each gamma and compare with the opposite and random sets (module notes).

    ``baseline`` reuses an unedited mean preference computed on the same texts; ``max_pairs``
    keeps the first pairs only (to bound the cost on CPU).
    """

    def mean_pref(s: NeuronSet | None, g: float) -> float:
        cond = None if s is None else (lambda m: edit_neurons(m, s, mode, g, schedule=schedule))
        return float(preference(model, tokenizer, side_a, side_b, cond, batch_size=batch_size).mean())

    if max_pairs is not None:
        side_a, side_b = side_a[:max_pairs], side_b[:max_pairs]
    base = mean_pref(None, 0.0) if baseline is None else baseline
    randoms = [nset.random_like(seed * 1000 + r, stats_a, stats_b) for r in range(n_random)]
    opposite = nset.opposite()
    effects: list[EditEffect] = []
    for g in gammas:
        target = mean_pref(nset, g) - base
        opp = None if mode == "scale" else mean_pref(opposite, g) - base
        rnd = [mean_pref(r, g) - base for r in randoms]
        sd = float(np.std(rnd, ddof=1)) if len(rnd) > 1 else 0.0
        mean = float(np.mean(rnd)) if rnd else 0.0
        z = (target - mean) / sd if sd > 0 else None
        effects.append(EditEffect(float(g), target, opp, rnd, mean, sd, z))
    return EditReport(mode, schedule, base, len(side_a), effects)
