"""A layer x strength sweep with a steerability slope and an automatic choice on a held-out split.

For each layer the effect at strength s is ``score(layer, s) - score(layer, 0)`` (e.g. the mean
pair preference of :mod:`.preference`). Per layer:

- **slope**: least-squares change per unit strength over the swept strengths (through the
  strength-0 point, which is always evaluated);
- **spearman**: rank correlation of effect with strength (1 = the effect grows monotonically).

Choice (ours): on the *selection* split keep layers whose Spearman is at least ``min_spearman``
(all layers when none qualifies), take the layer with the largest slope, and the strength with the
largest effect on that layer; then report the effect at that choice on the *held-out* split, so the
number is not inflated by the choice. Scores come from a callable, so vectors, neuron edits or
any other condition can be swept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from valuespectrum.errors import ConfigError

Split = Literal["select", "test"]
#: (layer, strength, split) -> score (higher = further toward the target)
Scorer = Callable[[int, float, Split], float]


@dataclass
class LayerCurve:
    layer: int
    strengths: list[float]
    effects: list[float]
    """score(s) - score(0) per strength, on the selection split."""
    slope: float
    spearman: float


@dataclass
class SweepResult:
    curves: dict[int, LayerCurve]
    layer: int
    strength: float
    select_effect: float
    test_effect: float
    """Effect at the chosen layer and strength on the held-out split."""
    test_curve: list[float] = field(default_factory=list)
    """Held-out effects of the chosen layer at every strength."""
    test_slope: float = 0.0
    test_spearman: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "layer": self.layer,
            "strength": self.strength,
            "select_effect": self.select_effect,
            "test_effect": self.test_effect,
            "test_slope": self.test_slope,
            "test_spearman": self.test_spearman,
            "curves": {
                str(i): {
                    "strengths": c.strengths,
                    "effects": c.effects,
                    "slope": c.slope,
                    "spearman": c.spearman,
                }
                for i, c in sorted(self.curves.items())
            },
        }


def steerability(strengths: Sequence[float], effects: Sequence[float]) -> tuple[float, float]:
    """(slope through the origin, Spearman rho) of effect against strength."""
    from scipy.stats import spearmanr

    s = np.asarray(strengths, dtype=np.float64)
    e = np.asarray(effects, dtype=np.float64)
    denom = float((s * s).sum())
    slope = float((s * e).sum() / denom) if denom > 0 else 0.0
    if len(s) < 2 or np.ptp(e) == 0 or np.ptp(s) == 0:
        return slope, 0.0
    rho = spearmanr(s, e).statistic
    return slope, float(0.0 if np.isnan(rho) else rho)


def sweep(
    score: Scorer, layers: Sequence[int], strengths: Sequence[float], *, min_spearman: float = 0.8
) -> SweepResult:
    """Sweep ``layers`` x ``strengths`` with ``score`` and choose a layer and strength (module notes)."""
    chosen_strengths = sorted({float(s) for s in strengths if float(s) != 0.0})
    if not layers or not chosen_strengths:
        raise ConfigError("sweep needs at least one layer and one non-zero strength")
    curves: dict[int, LayerCurve] = {}
    for i in layers:
        base = score(i, 0.0, "select")
        effects = [score(i, s, "select") - base for s in chosen_strengths]
        slope, rho = steerability(chosen_strengths, effects)
        curves[i] = LayerCurve(i, chosen_strengths, effects, slope, rho)
    eligible = [c for c in curves.values() if c.spearman >= min_spearman] or list(curves.values())
    best = max(eligible, key=lambda c: (c.slope, -c.layer))
    k = int(np.argmax(best.effects))
    strength = best.strengths[k]
    test_base = score(best.layer, 0.0, "test")
    test_curve = [score(best.layer, s, "test") - test_base for s in chosen_strengths]
    t_slope, t_rho = steerability(chosen_strengths, test_curve)
    return SweepResult(
        curves=curves,
        layer=best.layer,
        strength=strength,
        select_effect=best.effects[k],
        test_effect=test_curve[k],
        test_curve=test_curve,
        test_slope=t_slope,
        test_spearman=t_rho,
    )
