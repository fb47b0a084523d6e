"""The typed ``wordings`` block of ``summary.json``: how far a profile depends on its wording.

Written by :func:`valuespectrum.scoring.wordings.summarise_wordings` for runs that ask
several wordings or repeats; absent (None) otherwise and in folders written before it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WordingPair(_Lenient):
    """Rank agreement of two wordings' profiles over the values both scored."""

    a: str
    b: str
    spearman: float | None = None
    kendall: float | None = None
    n_values: int = 0


class WordingEffect(_Lenient):
    """Does this value's score depend on the wording? A permutation test within items."""

    n_items: int = 0
    """Items of the value answered in every wording."""
    statistic: float | None = None
    """Sum over wordings of (wording mean - grand mean) squared, on the items' scores."""
    p_value: float | None = None
    p_holm: float | None = None
    """Holm-adjusted over the group's values (family-wise error)."""
    p_bh: float | None = None
    """Benjamini-Hochberg-adjusted over the group's values (false discovery rate)."""
    exact: bool = False


class WordingGroup(_Lenient):
    """One (model, persona, modality): a profile per wording and their agreement."""

    model: str
    persona: str
    modality: str = ""
    measure: str = "scores"
    """``like_rate`` (0-100) for yes/no items, else ``scores`` (mean item score)."""
    profiles: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    """Wording id -> value -> score on the measure (label orders pooled, repeats reduced)."""
    ci_low: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    ci_high: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    """Percentile bootstrap CIs resampling items, so an item's orders and repeats move together."""
    n_answers: dict[str, int] = Field(default_factory=dict)
    """Parsed answers per wording after reducing repeats."""
    spread: dict[str, float | None] = Field(default_factory=dict)
    """Per value: the standard deviation (ddof 0) of its score across wordings."""
    mean_spread: float | None = None
    pairs: list[WordingPair] = Field(default_factory=list)
    mean_spearman: float | None = None
    mean_kendall: float | None = None
    icc_consistency: float | None = None
    """ICC(3,1) of the values x wordings table (the same ordering and spacing)."""
    icc_agreement: float | None = None
    """ICC(2,1) of the same table (the same numbers)."""
    icc_n_values: int = 0
    effects: dict[str, WordingEffect] = Field(default_factory=dict)
    """Per value: the test that its score is the same in every wording."""


class WordingDecomposition(_Lenient):
    """Main-effect shares of the item-score variance for one (model, modality)."""

    model: str
    modality: str = ""
    n_scores: int = 0
    shares: dict[str, float] = Field(default_factory=dict)
    """Factor (wording, order, persona, item) -> its share of the total sum of squares."""
    residual: float = 0.0
    balanced: bool = False
    """Every combination of levels occurs equally often (then the shares add up exactly)."""


class WordingsSummary(_Lenient):
    wordings: list[str] = Field(default_factory=list)
    repeats: int = 1
    reducer: str = "mean"
    groups: list[WordingGroup] = Field(default_factory=list)
    decomposition: list[WordingDecomposition] = Field(default_factory=list)


__all__ = ["WordingDecomposition", "WordingEffect", "WordingGroup", "WordingPair", "WordingsSummary"]
