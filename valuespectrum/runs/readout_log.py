"""Typed summary blocks for the option-distribution readout, answer-bias verdicts and the
tests of persona effects against chance (fields of :mod:`valuespectrum.runs.log` models).

Every block reads in folders written before it existed: all fields have defaults and
unknown keys are ignored.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Readout = Literal["argmax", "expected"]
"""``argmax``: the most likely option (or the answer parsed from text); ``expected``: the
expected rating, P(yes), or probability-weighted option value from the option distribution."""

READOUTS: tuple[Readout, ...] = ("argmax", "expected")

CHANCE_ALPHA = 0.05
"""Significance level of the chance verdict (permutation test and Holm-adjusted p-values)."""


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class BiasSummary(_Lenient):
    """Answer-bias figures of one group under one readout (see ``scoring.bias``)."""

    readout: Readout = "argmax"
    first_option_share: dict[str, float] = Field(default_factory=dict)
    """Per label order, the share of answers on the first-presented option (expected
    readout: the mean probability of the first-presented option)."""
    yes_rate: float | None = None
    """Yes/no items: share of yes (argmax) or mean P(yes) (expected); None without such items."""
    yes_rate_by_value: dict[str, float] = Field(default_factory=dict)
    order_agreement: float | None = None
    """Pearson's r between items' answers (probe keying) in the forward and reversed order."""
    position_variance_share: float | None = None
    """Share of the answers' variance that the label order explains."""
    verdict: Literal["position", "acquiescent", "naysaying", "none"] = "none"
    message: str = ""


class ValueEffectTest(_Lenient):
    """One value's change under a persona against no persona, with a paired t-test over items."""

    value: str
    change: float | None = None
    """The persona's change on the run's measure (as in ``steerability``)."""
    n_items: int = 0
    """Items answered under both the persona and no persona (the pairs of the test)."""
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    """Two-sided; None with fewer than 2 items or no variance in the differences."""
    p_holm: float | None = None
    p_bh: float | None = None


class PersonaChanceTest(_Lenient):
    """A persona's target ranks tested against chance, and its per-value effects."""

    model: str
    modality: str = ""
    persona: str
    measure: str = "scores"
    targets: list[str] = Field(default_factory=list)
    mean_target_rank: float | None = None
    chance_rank: float | None = None
    p_value: float | None = None
    """Exact permutation p of the targets' mean rank (None without targets)."""
    exact: bool = True
    values: list[ValueEffectTest] = Field(default_factory=list)


class ChanceVerdict(_Lenient):
    """Per (model, modality): every persona with targets pooled, and the plain verdict."""

    model: str
    modality: str = ""
    n_personas: int = 0
    mean_target_rank: float | None = None
    chance_rank: float | None = None
    p_value: float | None = None
    exact: bool = True
    n_target_effects: int = 0
    """Target values whose change is significant after Holm (within its persona)."""
    distinguishable: bool = False
    message: str = ""


class ChanceSummary(_Lenient):
    alpha: float = CHANCE_ALPHA
    personas: list[PersonaChanceTest] = Field(default_factory=list)
    verdicts: list[ChanceVerdict] = Field(default_factory=list)


__all__ = [
    "CHANCE_ALPHA",
    "READOUTS",
    "BiasSummary",
    "ChanceSummary",
    "ChanceVerdict",
    "PersonaChanceTest",
    "Readout",
    "ValueEffectTest",
]
