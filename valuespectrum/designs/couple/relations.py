"""Relations among values for counterfactual concepts: the circumplex, or a model's own graph.

Circumplex (Schwartz 10): neighbours (distance 1) are *congruent*, values five steps apart
*opposite*, all other pairs *irrelevant*. A graph written by ``vspec graph`` (``graph.json``:
``values`` and directed ``edges``) gives *influences* (a -> b), *influenced by* (b -> a),
*linked* (both directions) and *irrelevant* (no edge); PC edges carry no sign, so a graph
never says congruent or opposite. ``none`` leaves every pair irrelevant (for value systems
without a known structure, such as DailyDilemmas' free value names).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from valuespectrum.errors import ConfigError
from valuespectrum.tables import read_json_document
from valuespectrum.values import circular_distance, parse_value

RELATIONS = ("congruent", "opposite", "irrelevant", "influences", "influenced by", "linked")


@dataclass(frozen=True)
class RelationGraph:
    source: str
    dims: tuple[str, ...]
    pairs: dict[tuple[str, str], str]
    """(a, b) -> how a relates to b ("a influences b"), for a != b; missing pairs are irrelevant."""

    def relation(self, a: str, b: str) -> str:
        return self.pairs.get((a, b), "irrelevant")

    def related(self, a: str) -> list[tuple[str, str]]:
        """(other value, relation) for every value not irrelevant to ``a``, in ``dims`` order."""
        return [(b, r) for b in self.dims if b != a and (r := self.relation(a, b)) != "irrelevant"]


def circumplex(dims: Sequence[str]) -> RelationGraph:
    try:
        vals = {d: parse_value(d) for d in dims}
    except ValueError as exc:
        raise ConfigError(
            f"relations: circumplex needs Schwartz values ({exc}); give relations: none or PATH/graph.json for other systems"
        ) from exc
    pairs: dict[tuple[str, str], str] = {}
    for a in dims:
        for b in dims:
            if a != b:
                dist = circular_distance(vals[a], vals[b])
                pairs[(a, b)] = "congruent" if dist == 1 else "opposite" if dist == 5 else "irrelevant"
    return RelationGraph("circumplex", tuple(dims), pairs)


def from_graph_json(path: str | Path, dims: Sequence[str]) -> RelationGraph:
    p = Path(path)
    data = read_json_document(p, "the graph.json that vspec graph writes")
    if not isinstance(data, dict) or not isinstance(data.get("edges"), list):
        raise ConfigError(f"{p}: field 'edges' is missing; give the graph.json that vspec graph writes")
    fold = {d.casefold(): d for d in dims}
    edges: set[tuple[str, str]] = set()
    for e in data["edges"]:
        if not (isinstance(e, list | tuple) and len(e) == 2):
            raise ConfigError(f"{p}: edge {e!r} is not a [source, target] pair")
        a, b = (fold.get(str(x).casefold()) for x in e)
        if a is not None and b is not None and a != b:
            edges.add((a, b))
    pairs: dict[tuple[str, str], str] = {}
    for a, b in edges:
        both = (b, a) in edges
        pairs[(a, b)] = "linked" if both else "influences"
        if not both:
            pairs[(b, a)] = "influenced by"
    return RelationGraph(str(p), tuple(dims), pairs)


def load_relations(spec: str | None, dims: Sequence[str], base: Path | None = None) -> RelationGraph:
    """``circumplex`` (default), ``none`` (every pair irrelevant: value systems without a known
    structure) or a ``vspec graph`` output (graph.json or its folder)."""
    if spec is None or spec == "circumplex":
        return circumplex(dims)
    if spec == "none":
        return RelationGraph("none", tuple(dims), {})
    p = Path(spec).expanduser()
    if not p.is_absolute() and base is not None:
        p = base / p
    if p.is_dir():
        p = p / "graph.json"
    return from_graph_json(p, dims)
