"""Value graphs: PC on a condition x value table, transitive reduction, bootstrap stability, random baselines.

Edges are directed pairs (a, b). PC's undirected (``--``) and bidirected (``<->``) edges become
two directed edges, as in the published analysis. The transitive reduction removes an edge
a -> b when b stays reachable from a without it; edges are tried in sorted order and the
removal repeated until nothing changes (for a DAG this is the unique transitive reduction;
with cycles the result depends on that order, which is fixed, so it is reproducible).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from valuespectrum.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

Edge = tuple[str, str]


def pc_edges(data: np.ndarray, names: Sequence[str], alpha: float = 0.05) -> set[Edge]:
    """Directed edges of the PC graph (causal-learn, Fisher-z); undirected/bidirected edges twice."""
    import warnings

    import numpy as np

    try:
        from causallearn.search.ConstraintBased.PC import pc
    except ImportError as exc:  # pragma: no cover - the steer extra
        raise ConfigError("vspec graph needs causal-learn: pip install 'valuespectrum[steer]'") from exc
    if data.shape[0] <= data.shape[1] + 1:
        raise ConfigError(f"PC needs more conditions ({data.shape[0]}) than values + 1 ({data.shape[1] + 1})")
    keep = np.nanstd(data, axis=0) > 0
    if not keep.all():
        dead = [names[i] for i in range(len(names)) if not keep[i]]
        raise ConfigError(f"value column(s) {dead} are constant across conditions; drop them (--values)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = pc(np.asarray(data, dtype=float), alpha, "fisherz", show_progress=False).G.graph
    out: set[Edge] = set()
    n = len(names)
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            a, b = g[i, j], g[j, i]
            # i -> j, or i -- j / i <-> j (counted both ways, as j's loop adds j -> i)
            if (a, b) in ((-1, 1), (-1, -1), (1, 1)):
                out.add((names[i], names[j]))
    return out


def reachable(edges: Iterable[Edge], start: str, skip: Edge | None = None) -> set[str]:
    """Nodes reachable from ``start`` (not counting itself unless on a cycle), optionally without one edge."""
    adj: dict[str, list[str]] = {}
    for e in edges:
        if e != skip:
            adj.setdefault(e[0], []).append(e[1])
    seen: set[str] = set()
    stack = list(adj.get(start, []))
    while stack:
        v = stack.pop()
        if v not in seen:
            seen.add(v)
            stack.extend(adj.get(v, []))
    return seen


def transitive_reduction(edges: Iterable[Edge]) -> set[Edge]:
    """Remove edges implied by longer paths, repeatedly, in sorted order (see the module notes)."""
    out = set(edges)
    changed = True
    while changed:
        changed = False
        for e in sorted(out):
            if e[1] in reachable(out, e[0], skip=e):
                out.discard(e)
                changed = True
    return out


def descendants(edges: Iterable[Edge], node: str) -> set[str]:
    return reachable(edges, node) - {node}


def ancestors(edges: Iterable[Edge], node: str) -> set[str]:
    return reachable([(b, a) for a, b in edges], node) - {node}


def random_graph(names: Sequence[str], n_edges: int, seed: int) -> set[Edge]:
    """``n_edges`` distinct directed edges between distinct nodes, drawn with ``seed``."""
    pairs = [(a, b) for a in names for b in names if a != b]
    if n_edges > len(pairs):
        raise ConfigError(f"cannot draw {n_edges} edges among {len(names)} nodes")
    return set(random.Random(seed).sample(pairs, n_edges))


def bootstrap_stability(
    data: np.ndarray,
    names: Sequence[str],
    *,
    alpha: float = 0.05,
    n_boot: int = 50,
    seed: int = 0,
    reduce: bool = True,
) -> dict[Edge, float]:
    """Share of ``n_boot`` row resamples whose (reduced) PC graph has each edge."""
    import numpy as np

    rng = np.random.default_rng(seed)
    counts: dict[Edge, int] = {}
    done = 0
    for _ in range(n_boot):
        rows = rng.integers(0, data.shape[0], data.shape[0])
        sample = data[rows]
        if (sample.std(axis=0) == 0).any():
            continue  # a resample with a constant column has no correlation structure to test
        e = pc_edges(sample, names, alpha)
        for edge in transitive_reduction(e) if reduce else e:
            counts[edge] = counts.get(edge, 0) + 1
        done += 1
    return {e: c / done for e, c in sorted(counts.items())} if done else {}
