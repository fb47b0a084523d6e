"""How values move together under steering and persona prompting.

Input: many runs (conditions), each with a value profile and, for steering runs, the
steered target. Outputs:

- the value-to-value effect matrix E[i, j] = mean change of value j (versus baseline) over
  the runs that steer toward value i;
- the correlation matrix of profiles across runs, partial correlations, and a causal
  skeleton from the PC algorithm (causal-learn, Fisher-z test, alpha 0.05);
- a circumplex check: neighbouring values should correlate positively, opposite values
  negatively;
- a heat-map figure of a matrix.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from valuespectrum.errors import ConfigError
from valuespectrum.values import CIRCUMPLEX, Value, circular_distance

if TYPE_CHECKING:
    import numpy as np

    from valuespectrum.steering.summary import SteeringSummary


@dataclass(frozen=True)
class EffectRow:
    """One steered or persona run: its target value and its profile change versus baseline."""

    target: Value
    delta: dict[Value, float]


def effect_matrix(rows: Sequence[EffectRow]) -> np.ndarray:
    """10x10 matrix, row = steered value, column = affected value (NaN where no run steered that row)."""
    import numpy as np

    m = np.full((len(CIRCUMPLEX), len(CIRCUMPLEX)), np.nan)
    for i, target in enumerate(CIRCUMPLEX):
        mine = [r for r in rows if r.target is target]
        if not mine:
            continue
        for j, v in enumerate(CIRCUMPLEX):
            xs = [r.delta[v] for r in mine if v in r.delta]
            if xs:
                m[i, j] = float(np.mean(xs))
    return m


def profile_matrix(profiles: Sequence[dict[Value, float]]) -> np.ndarray:
    """Runs x 10 values, in circumplex order; every profile must score all ten values."""
    import numpy as np

    for k, p in enumerate(profiles):
        missing = [v.value for v in CIRCUMPLEX if v not in p]
        if missing:
            raise ConfigError(f"profile {k} lacks scores for {missing}; interdependence needs all ten values")
    return np.array([[p[v] for v in CIRCUMPLEX] for p in profiles], dtype=float)


def correlations(data: np.ndarray) -> np.ndarray:
    import numpy as np

    _check_rows(data)
    return np.asarray(np.corrcoef(data, rowvar=False))


def partial_correlations(data: np.ndarray) -> np.ndarray:
    """Partial correlation of each pair of values given all the others (from the precision matrix)."""
    import numpy as np

    _check_rows(data)
    prec = np.linalg.pinv(np.cov(data, rowvar=False))
    d = np.sqrt(np.diag(prec))
    pc = -prec / np.outer(d, d)
    np.fill_diagonal(pc, 1.0)
    return np.asarray(pc)


def pc_skeleton(data: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Adjacency (10x10, causal-learn's graph encoding) from the PC algorithm with Fisher-z tests.

    ``G[i, j] == -1 and G[j, i] == 1`` is an edge i -> j; ``-1`` both ways is undirected.
    """
    import numpy as np
    from causallearn.search.ConstraintBased.PC import pc

    _check_rows(data)
    cg = pc(data, alpha, "fisherz", show_progress=False)
    return np.asarray(cg.G.graph)


def edges(graph: np.ndarray) -> list[tuple[Value, Value, str]]:
    """Edges of a causal-learn graph as (a, b, kind) with kind '->' or '--'."""
    out: list[tuple[Value, Value, str]] = []
    n = graph.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            a, b = graph[i, j], graph[j, i]
            if a == 0 and b == 0:
                continue
            if a == -1 and b == 1:
                out.append((CIRCUMPLEX[i], CIRCUMPLEX[j], "->"))
            elif a == 1 and b == -1:
                out.append((CIRCUMPLEX[j], CIRCUMPLEX[i], "->"))
            else:
                out.append((CIRCUMPLEX[i], CIRCUMPLEX[j], "--"))
    return out


@dataclass(frozen=True)
class CircumplexCheck:
    neighbour_mean: float
    """Mean correlation of the 10 neighbouring pairs."""
    opposite_mean: float
    """Mean correlation of the 5 opposite pairs."""
    by_distance: dict[int, float]
    """Mean correlation at each circular distance 1..5."""

    @property
    def consistent(self) -> bool:
        """Neighbours move together more than opposites do."""
        return self.neighbour_mean > self.opposite_mean


def circumplex_check(corr: np.ndarray) -> CircumplexCheck:
    """Compare a 10x10 correlation-like matrix (circumplex order) against the circle."""
    import numpy as np

    if corr.shape != (10, 10):
        raise ConfigError(f"circumplex_check needs a 10x10 matrix in circumplex order, got {corr.shape}")
    by: dict[int, list[float]] = {d: [] for d in range(1, 6)}
    for i in range(10):
        for j in range(i + 1, 10):
            by[circular_distance(CIRCUMPLEX[i], CIRCUMPLEX[j])].append(float(corr[i, j]))
    means = {d: float(np.nanmean(xs)) for d, xs in by.items()}
    return CircumplexCheck(neighbour_mean=means[1], opposite_mean=means[5], by_distance=means)


def plot_matrix(matrix: np.ndarray, path: str | Path, *, title: str = "", label: str = "") -> Path:
    """Save a heat map of a 10x10 value matrix (rows and columns in circumplex order)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    codes = [v.short for v in CIRCUMPLEX]
    lim = float(np.nanmax(np.abs(matrix))) if np.isfinite(matrix).any() else 1.0
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    im = ax.imshow(matrix, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_xticks(range(10), codes)
    ax.set_yticks(range(10), codes)
    ax.set_xlabel("affected value")
    ax.set_ylabel("steered value")
    if title:
        ax.set_title(title)
    fig.colorbar(im, ax=ax, label=label)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def rows_from_report(report: SteeringSummary) -> tuple[list[EffectRow], list[dict[Value, float]]]:
    """Effect rows (steering and persona runs: their stored changes) and all profiles of a summary."""
    rows = [
        EffectRow(c.target, dict(c.changes))
        for c in report.conditions
        if c.kind in ("steer", "persona") and c.target is not None and c.changes is not None
    ]
    return rows, [c.profile for c in report.conditions]


def _check_rows(data: np.ndarray) -> None:
    if data.ndim != 2 or data.shape[0] < data.shape[1] + 2:
        raise ConfigError(
            f"need more runs than values for correlations: got {data.shape[0]} runs for {data.shape[1]} values "
            "(add steering strengths, random seeds or personas)"
        )


class CircumplexSummary(BaseModel):
    """The correlation-based circumplex check, as stored."""

    neighbour_mean: float | None
    opposite_mean: float | None
    by_distance: dict[int, float | None]
    consistent: bool


class InterdependenceResult(BaseModel):
    """What ``steer eval`` writes to ``steering/interdependence.json`` (matrices in circumplex order).

    ``None`` stands for a cell with no data (a value no run steered, or a correlation that is
    undefined because a value never moved).
    """

    values: list[str]
    effect_matrix: list[list[float | None]]
    """Row = steered value (vector or persona), column = mean change of each value (points)."""
    effect_by_distance: dict[int, float | None]
    """Mean effect on values at circular distance 1..5 from the steered one (neighbours should be
    above opposites)."""
    n_runs: int
    correlation: list[list[float | None]] | None = None
    partial_correlation: list[list[float | None]] | None = None
    circumplex: CircumplexSummary | None = None
    """Correlation-based check: neighbours should correlate above opposites."""
    graph_method: str | None = None
    edges: list[tuple[str, str, str]] = Field(default_factory=list)
    """(a, b, kind): kind '->' (a causes b) or '--' (undirected)."""
    notes: list[str] = Field(default_factory=list)


def effect_by_distance(matrix: np.ndarray) -> dict[int, float | None]:
    """Mean off-diagonal entry of an effect matrix at each circular distance (rows with data only)."""
    import numpy as np

    by: dict[int, list[float]] = {d: [] for d in range(1, 6)}
    for i in range(10):
        for j in range(10):
            if i != j and np.isfinite(matrix[i, j]):
                by[circular_distance(CIRCUMPLEX[i], CIRCUMPLEX[j])].append(float(matrix[i, j]))
    return {d: (float(np.mean(xs)) if xs else None) for d, xs in by.items()}


def analyse_report(report: SteeringSummary, *, alpha: float = 0.05) -> InterdependenceResult:
    """Effect matrix, correlations, PC graph and circumplex checks from one steering summary.

    Correlations and the graph need more runs than values (baseline, personas, steered and
    random runs all count); with fewer, only the effect matrix is given and a note says why.
    """
    import numpy as np

    rows, profiles = rows_from_report(report)
    em = effect_matrix(rows)
    res = InterdependenceResult(
        values=[v.value for v in CIRCUMPLEX],
        effect_matrix=_cells(em),
        effect_by_distance=effect_by_distance(em),
        n_runs=len(profiles),
    )
    try:
        data = profile_matrix(profiles)
        _check_rows(data)
    except ConfigError as exc:
        res.notes.append(f"correlations and causal graph skipped: {exc}")
        return res
    moving = data.std(axis=0) > 0
    if not moving.all():
        still = [CIRCUMPLEX[i].value for i in np.flatnonzero(~moving)]
        res.notes.append(f"values that never moved (correlations undefined): {', '.join(still)}")
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = correlations(data)
        res.correlation = _cells(corr)
        res.partial_correlation = _cells(partial_correlations(data)) if moving.all() else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN distances give NaN, reported as None
        chk = circumplex_check(corr)
    res.circumplex = CircumplexSummary(
        neighbour_mean=_finite(chk.neighbour_mean),
        opposite_mean=_finite(chk.opposite_mean),
        by_distance={d: _finite(x) for d, x in chk.by_distance.items()},
        consistent=chk.consistent,
    )
    if moving.all():
        try:
            res.edges = [(a.value, b.value, k) for a, b, k in edges(pc_skeleton(data, alpha))]
            res.graph_method = f"PC (Fisher-z, alpha {alpha:g})"
        except Exception as exc:  # causal-learn raises plain errors on singular data
            res.notes.append(f"PC algorithm failed ({type(exc).__name__}: {exc})")
    return res


def _finite(x: float) -> float | None:
    return x if x == x and abs(x) != float("inf") else None


def _cells(m: np.ndarray) -> list[list[float | None]]:
    import numpy as np

    return [[float(x) if np.isfinite(x) else None for x in row] for row in m]


def write_interdependence(path: Path, result: InterdependenceResult) -> None:
    path.write_text(result.model_dump_json(indent=2) + "\n", encoding="utf-8")


def read_interdependence(path: Path) -> InterdependenceResult:
    """Read ``steering/interdependence.json``; a malformed file is a one-line error naming the field."""
    from valuespectrum.config import read_json_model

    return read_json_model(InterdependenceResult, path, fix="re-run `vspec steer eval` to rewrite it")
