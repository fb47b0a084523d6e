"""The long table an ordinal model reads: one raw rating per row, and its design matrix.

Dimensions (values) are plain names, so any value system's names work. A row is one
parsed Likert answer: which unit answered (a model, a persona, or both), the item, the
values the item is keyed on with the key's sign (reverse-keyed items enter as ``-beta``),
the label order, the prompt wording (variant) and the rating on the item's own scale.
Unparsed, failed and non-Likert answers never become rows; they are counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from valuespectrum.errors import ConfigError
from valuespectrum.ordinal.likelihood import Array

By = Literal["auto", "model", "persona", "group"]


@dataclass(frozen=True)
class Rating:
    unit: str
    """Who answered, as compared: a model label, a persona id, or ``model / persona``."""
    item: str
    keys: tuple[tuple[str, int], ...]
    """(value name, +1 or -1) for each value the item is keyed on."""
    rating: int
    order: str = "fwd"
    variant: str = ""


@dataclass
class OrdinalData:
    """Ratings on one scale ``scale_min..scale_max`` and what was left out."""

    rows: list[Rating]
    scale_min: int
    scale_max: int
    excluded: dict[str, int] = field(default_factory=dict)
    """Reason -> number of answers left out (unparsed, failed, not Likert, no keyed value)."""
    targets: dict[str, list[str]] = field(default_factory=dict)
    """Unit -> values its persona is expected to favour (for target contrasts)."""

    def __post_init__(self) -> None:
        if self.scale_max <= self.scale_min:
            raise ValueError(f"scale {self.scale_min}..{self.scale_max} has fewer than two points")
        bad = [r for r in self.rows if not self.scale_min <= r.rating <= self.scale_max]
        if bad:
            raise ValueError(
                f"rating {bad[0].rating} of item {bad[0].item!r} lies outside {self.scale_min}..{self.scale_max}"
            )

    @property
    def n_categories(self) -> int:
        return self.scale_max - self.scale_min + 1

    @property
    def units(self) -> list[str]:
        return list(dict.fromkeys(r.unit for r in self.rows))

    @property
    def values(self) -> list[str]:
        return list(dict.fromkeys(v for r in self.rows for v, _ in r.keys))

    @property
    def items(self) -> list[str]:
        return list(dict.fromkeys(r.item for r in self.rows))

    @property
    def orders(self) -> list[str]:
        return sorted({r.order for r in self.rows})

    @property
    def variants(self) -> list[str]:
        return sorted({r.variant for r in self.rows})

    def codes(self) -> np.ndarray:
        return np.array([r.rating - self.scale_min for r in self.rows], dtype=np.int64)

    @classmethod
    def from_runs(cls, run_dirs: Sequence[Path], *, by: By = "auto") -> OrdinalData:
        from valuespectrum.ordinal.reading import read_runs

        return read_runs([Path(d) for d in run_dirs], by=by)


@dataclass(frozen=True)
class Design:
    """Columns of the design matrix and how the frequentist fit identifies them."""

    X: Array
    names: list[str]
    kinds: list[str]
    """Per column: ``cell`` (unit x value), ``item``, ``order`` or ``variant``."""
    cells: list[tuple[str, str]]
    """(unit, value) of each cell column, in column order (cell columns come first)."""
    constraint: Array
    """Maps free parameters to all columns (``beta = C @ free``): sum-to-zero where needed."""
    notes: list[str]

    def column(self, name: str) -> int:
        return self.names.index(name)


def primary_value(r: Rating) -> str:
    return r.keys[0][0]


def build_design(data: OrdinalData, *, item_effects: bool = True) -> Design:
    """Cell columns (unit x value), item columns, the label-order and wording covariates.

    Covariates that never vary are dropped. The label order enters as -1/2 (forward) and +1/2
    (reversed), so a cell is the mean over both orders and the order effect is rev - fwd. For the maximum-likelihood fit, item effects sum
    to zero within each value (an item's first keyed value) and, when every item is keyed the
    same way, the cells sum to zero (only differences between cells are identified then).
    """
    if not data.rows:
        raise ConfigError(
            "ordinal: no parsed Likert ratings to model (every answer was unparsed or excluded)"
        )
    units, values = data.units, data.values
    cells = [(u, v) for u in units for v in values]
    cell_ix = {c: i for i, c in enumerate(cells)}
    names = [f"{u} | {v}" for u, v in cells]
    kinds = ["cell"] * len(cells)
    items = data.items if item_effects else []
    item_ix = {it: len(names) + i for i, it in enumerate(items)}
    names += [f"item {it}" for it in items]
    kinds += ["item"] * len(items)
    covs: list[tuple[str, str, str]] = []  # (name, field, level)
    if len(data.orders) > 1:
        covs.append(("order=rev", "order", "rev"))
    for level in data.variants[1:]:
        covs.append((f"variant={level}", "variant", level))
    cov_ix = {name: len(names) + i for i, (name, _, _) in enumerate(covs)}
    names += [c[0] for c in covs]
    kinds += ["order" if f == "order" else "variant" for _, f, _ in covs]

    X = np.zeros((len(data.rows), len(names)))
    for i, r in enumerate(data.rows):
        for v, sign in r.keys:
            X[i, cell_ix[(r.unit, v)]] += sign
        if items:
            X[i, item_ix[r.item]] = 1.0
        for name, fld, level in covs:
            hit = float(getattr(r, fld) == level)
            # label order coded -1/2, +1/2: cells are the average over both orders
            X[i, cov_ix[name]] = hit - 0.5 if fld == "order" else hit

    used = np.abs(X[:, : len(cells)]).sum(axis=0) > 0
    notes: list[str] = []
    if not used.all():
        missing = [names[j] for j in np.flatnonzero(~used)]
        notes.append(f"{len(missing)} unit x value cells have no ratings; they stay at their prior")
    groups: list[list[int]] = []
    if items:
        by_value: dict[str, list[int]] = {}
        for r in data.rows:
            j = item_ix[r.item]
            lst = by_value.setdefault(primary_value(r), [])
            if j not in lst:
                lst.append(j)
        groups += list(by_value.values())
    cell_cols = np.flatnonzero(used).tolist()
    ones = np.ones(len(data.rows))
    Xc = X[:, cell_cols]
    shift_free = np.linalg.matrix_rank(np.column_stack([Xc, ones])) > np.linalg.matrix_rank(Xc)
    if not shift_free:
        groups.append(cell_cols)
        notes.append(
            "every item is keyed the same way, so only differences between cells are identified: "
            "the maximum-likelihood cells sum to zero"
        )
    C = _sum_to_zero(len(names), groups, unused=np.flatnonzero(~used).tolist())
    return Design(X, names, kinds, cells, C, notes)


def _sum_to_zero(n: int, groups: list[list[int]], unused: list[int]) -> Array:
    """Constraint matrix: in each group the last column is minus the sum of the others."""
    last_of = {g[-1]: g[:-1] for g in groups if g}
    dropped = set(last_of) | set(unused)
    free = [j for j in range(n) if j not in dropped]
    col = {j: k for k, j in enumerate(free)}
    C = np.zeros((n, len(free)))
    for j in free:
        C[j, col[j]] = 1.0
    for last, others in last_of.items():
        for j in others:
            if j in col:
                C[last, col[j]] = -1.0
    return C


def count_reasons(reasons: Sequence[str]) -> dict[str, int]:
    return dict(sorted(Counter(reasons).items()))
