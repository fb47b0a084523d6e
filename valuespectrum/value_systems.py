"""Value systems: the dimensions a measurement is expressed in, beyond Schwartz's ten.

A ``ValueSystem`` has an id, its dimensions in a fixed order, a definition of each, aliases
(other spellings users' files use) and, where the theory gives one, a circular order. The
built-ins:

- ``schwartz10``: the ten basic values (the ``Value`` enum), circumplex order;
- ``schwartz19``: the refined theory's 19 values (PVQ-RR), each mapped onto one of the ten;
- ``mft6``: Moral Foundations (care, fairness, loyalty, authority, sanctity, liberty);
- ``valuepilot6``: the six decision dimensions of the ValuePilot data;

and ``free(id, names)`` for the names found in a user's file. Code that rests on Schwartz's
theory (circumplex checks, higher-order values, reference profiles) calls
``require_schwartz``, which refuses other systems with a message naming the analysis; code
that only needs a list of dimensions (profiles, intervals, comparisons, graphs) takes any.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Protocol

from pydantic import BeforeValidator

from valuespectrum.errors import ConfigError
from valuespectrum.values import CIRCUMPLEX, SHORT_CODES, Value


def _fold(name: str) -> str:
    return re.sub(r"[\s_\-:]+", " ", name.strip().casefold()).strip()


@dataclass(frozen=True)
class ValueSystem:
    id: str
    dimensions: tuple[str, ...]
    definitions: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    """Other spelling -> dimension (matched case-, space-, dash- and underscore-insensitively)."""
    circular: bool = False
    """The dimensions' order is circular (neighbours are compatible, opposites conflict)."""
    maps_to: Mapping[str, str] = field(default_factory=dict)
    """Dimension -> a dimension of ``parent`` it is part of (e.g. schwartz19 onto schwartz10)."""
    parent: str | None = None

    def __post_init__(self) -> None:
        if len(set(map(_fold, self.dimensions))) != len(self.dimensions):
            raise ConfigError(f"value system {self.id!r}: dimensions repeat: {list(self.dimensions)}")
        bad = sorted(set(self.aliases.values()) - set(self.dimensions))
        if bad:
            raise ConfigError(f"value system {self.id!r}: aliases point at unknown dimensions {bad}")

    @property
    def is_schwartz(self) -> bool:
        return self.id == "schwartz10"

    def _lookup(self) -> dict[str, str]:
        table = {_fold(a): d for a, d in self.aliases.items()}
        table.update({_fold(d): d for d in self.dimensions})
        return table

    def find(self, name: object) -> str | None:
        """The dimension ``name`` stands for, or None (``Care/Harm`` and ``Care (harm)`` read as Care)."""
        if not isinstance(name, str):
            return None
        table = self._lookup()
        text = name.strip().strip(".*\"'")
        for cand in (text, text.split("/")[0], text.split("(")[0]):
            hit = table.get(_fold(cand))
            if hit is not None:
                return hit
        return None

    def resolve(self, name: object, *, where: str = "") -> str:
        hit = self.find(name)
        if hit is None:
            at = f"{where}: " if where else ""
            raise ConfigError(
                f"{at}{name!r} is not a dimension of value system {self.id!r}; use one of "
                f"{list(self.dimensions)} (or an alias such as {self._examples()}), or map it with "
                "value_map: {NAME: DIMENSION}"
            )
        return hit

    def resolve_all(self, names: Iterable[object], *, where: str = "") -> list[str]:
        """Every name resolved; the error lists all unknown names at once."""
        names = list(names)
        unknown = [n for n in names if self.find(n) is None]
        if unknown:
            at = f"{where}: " if where else ""
            raise ConfigError(
                f"{at}{len(unknown)} name(s) are not dimensions of value system {self.id!r}: {unknown}; "
                f"its dimensions are {list(self.dimensions)}; map the others with value_map: "
                "{NAME: DIMENSION} or use another system"
            )
        return [self.resolve(n) for n in names]

    def _examples(self) -> str:
        return ", ".join(repr(a) for a in list(self.aliases)[:3]) or "none"

    def opposite(self, dim: str) -> str:
        self._need_circle("opposites")
        i = self.dimensions.index(self.resolve(dim))
        return self.dimensions[(i + len(self.dimensions) // 2) % len(self.dimensions)]

    def distance(self, a: str, b: str) -> int:
        """Steps between two dimensions round the circle (0 = same)."""
        self._need_circle("circular distances")
        n = len(self.dimensions)
        d = abs(self.dimensions.index(self.resolve(a)) - self.dimensions.index(self.resolve(b))) % n
        return min(d, n - d)

    def _need_circle(self, what: str) -> None:
        if not self.circular:
            raise ConfigError(f"value system {self.id!r} has no circular order, so it has no {what}")

    def require_schwartz(self, analysis: str) -> None:
        """Refuse an analysis that rests on Schwartz's ten values."""
        if not self.is_schwartz:
            raise ConfigError(
                f"{analysis} rests on Schwartz's ten values (circumplex, higher-order values, reference "
                f"profiles) and does not apply to value system {self.id!r}; the profiles, intervals and "
                "comparisons of this run do"
            )


def _schwartz10() -> ValueSystem:
    aliases: dict[str, str] = {}
    for v in CIRCUMPLEX:
        aliases[SHORT_CODES[v]] = v.value
        aliases[v.name] = v.value
    aliases.update({"self direction": "Self-Direction", "selfdirection": "Self-Direction"})
    return ValueSystem(
        "schwartz10",
        tuple(v.value for v in CIRCUMPLEX),
        {v.value: v.definition for v in CIRCUMPLEX},
        aliases,
        circular=True,
    )


# The refined theory's values (Schwartz et al. 2012), in its circular order, and the basic
# value each belongs to. Face and humility sit on boundaries in the refined circle; they map
# where their items stood in the original instruments (public image in Power, humble in Tradition).
_S19: dict[str, tuple[str, str]] = {
    "Self-Direction-Thought": ("Self-Direction", "Freedom to cultivate one's own ideas and abilities."),
    "Self-Direction-Action": ("Self-Direction", "Freedom to determine one's own actions."),
    "Stimulation": ("Stimulation", "Excitement, novelty and change."),
    "Hedonism": ("Hedonism", "Pleasure and sensuous gratification."),
    "Achievement": ("Achievement", "Success according to social standards."),
    "Power-Dominance": ("Power", "Power through exercising control over people."),
    "Power-Resources": ("Power", "Power through control of material and social resources."),
    "Face": ("Power", "Security and power through maintaining one's public image and avoiding humiliation."),
    "Security-Personal": ("Security", "Safety in one's immediate environment."),
    "Security-Societal": ("Security", "Safety and stability in the wider society."),
    "Tradition": ("Tradition", "Maintaining and preserving cultural, family or religious traditions."),
    "Conformity-Rules": ("Conformity", "Compliance with rules, laws and formal obligations."),
    "Conformity-Interpersonal": ("Conformity", "Avoidance of upsetting or harming other people."),
    "Humility": ("Tradition", "Recognising one's insignificance in the larger scheme of things."),
    "Benevolence-Dependability": ("Benevolence", "Being a reliable and trustworthy member of the in-group."),
    "Benevolence-Caring": ("Benevolence", "Devotion to the welfare of in-group members."),
    "Universalism-Concern": (
        "Universalism",
        "Commitment to equality, justice and protection for all people.",
    ),
    "Universalism-Nature": ("Universalism", "Preservation of the natural environment."),
    "Universalism-Tolerance": (
        "Universalism",
        "Acceptance and understanding of those who differ from oneself.",
    ),
}
_S19_CODES = {
    "SDT": "Self-Direction-Thought", "SDA": "Self-Direction-Action", "ST": "Stimulation",
    "HE": "Hedonism", "AC": "Achievement", "POD": "Power-Dominance", "POR": "Power-Resources",
    "FAC": "Face", "SEP": "Security-Personal", "SES": "Security-Societal", "TR": "Tradition",
    "COR": "Conformity-Rules", "COI": "Conformity-Interpersonal", "HUM": "Humility",
    "BED": "Benevolence-Dependability", "BEC": "Benevolence-Caring", "UNC": "Universalism-Concern",
    "UNN": "Universalism-Nature", "UNT": "Universalism-Tolerance",
}  # fmt: skip

_MFT6 = {
    "Care": ("harm", "Caring for others and protecting them from harm."),
    "Fairness": ("cheating", "Justice, rights and proportional treatment; not cheating."),
    "Loyalty": ("betrayal", "Standing with one's group, family or nation."),
    "Authority": ("subversion", "Respect for legitimate leadership and tradition."),
    "Sanctity": ("degradation", "Purity and disgust: living in an elevated, less carnal way."),
    "Liberty": ("oppression", "Resisting domination and oppression."),
}

_VALUEPILOT6 = {
    "curiosity": "Wanting to learn, explore and understand new things.",
    "energy": "Keeping one's physical energy and vitality.",
    "safety": "Avoiding danger and harm to oneself.",
    "happiness": "Enjoyment and a good mood.",
    "intimacy": "Closeness to and connection with other people.",
    "fairness": "Treating people justly and equally.",
}


def _builtins() -> dict[str, ValueSystem]:
    mft_aliases = {f"{d}/{opp}": d for d, (opp, _) in _MFT6.items()}
    mft_aliases.update({"purity": "Sanctity", "harm": "Care", "in-group": "Loyalty", "ingroup": "Loyalty"})
    return {
        "schwartz10": _schwartz10(),
        "schwartz19": ValueSystem(
            "schwartz19",
            tuple(_S19),
            {k: d for k, (_, d) in _S19.items()},
            _S19_CODES,
            circular=True,
            maps_to={k: base for k, (base, _) in _S19.items()},
            parent="schwartz10",
        ),
        "mft6": ValueSystem("mft6", tuple(_MFT6), {k: d for k, (_, d) in _MFT6.items()}, mft_aliases),
        "valuepilot6": ValueSystem("valuepilot6", tuple(_VALUEPILOT6), dict(_VALUEPILOT6)),
    }


BUILTIN: dict[str, ValueSystem] = _builtins()


def get_system(system: str | ValueSystem) -> ValueSystem:
    if isinstance(system, ValueSystem):
        return system
    found = BUILTIN.get(system.strip().casefold())
    if found is None:
        raise ConfigError(
            f"unknown value system {system!r}; built-in systems are {sorted(BUILTIN)}, or give the list "
            "of dimension names (a free system)"
        )
    return found


def free(system_id: str, names: Sequence[str], definitions: Mapping[str, str] | None = None) -> ValueSystem:
    """A system made of the names found in a user's file (first spelling kept, order kept)."""
    dims: list[str] = []
    seen: set[str] = set()
    for n in names:
        key = _fold(str(n))
        if key and key not in seen:
            seen.add(key)
            dims.append(str(n).strip())
    if not dims:
        raise ConfigError(f"value system {system_id!r}: no dimension names given")
    return ValueSystem(system_id, tuple(dims), dict(definitions or {}))


def system_from(spec: str | Sequence[str] | ValueSystem, *, name: str = "custom") -> ValueSystem:
    """A manifest's ``values:`` setting: a built-in id, or a list of names (a free system)."""
    if isinstance(spec, (str, ValueSystem)):
        return get_system(spec)
    return free(name, [str(x) for x in spec])


def to_schwartz10(system: ValueSystem, dim: str) -> Value | None:
    """The basic value a dimension is part of (schwartz10 itself, or a mapped refinement)."""
    if system.is_schwartz:
        return Value(system.resolve(dim))
    base = system.maps_to.get(system.resolve(dim))
    return Value(base) if base is not None and system.parent == "schwartz10" else None


SCHWARTZ10 = "schwartz10"
FREE = "free"
"""The id of a system built from the names an item file uses."""


def as_dim(x: object) -> Value | str:
    """A stored value key: one of Schwartz's ten (by its exact name) as ``Value``, else the text."""
    if isinstance(x, Value):
        return x
    text = str(x)
    try:
        return Value(text)
    except ValueError:
        return text


Dim = Annotated[Value | str, BeforeValidator(as_dim)]
"""A value key in typed results: ``Value`` for Schwartz's ten, the dimension's name otherwise;
both dump to the same JSON text."""


def dim_name(d: Value | str) -> str:
    return d.value if isinstance(d, Value) else str(d)


def key_of(system_id: str, name: object) -> Value | str:
    """A value key as probes store it: a ``Value`` for Schwartz's ten (so old code and files
    read the same), a dimension of a built-in system, or the name itself in a free system."""
    if system_id == SCHWARTZ10:
        from valuespectrum.values import parse_value

        return name if isinstance(name, Value) else parse_value(str(name))
    text = str(name).strip()
    if not text:
        raise ValueError(f"value system {system_id!r}: an empty value name")
    if system_id in BUILTIN:
        hit = BUILTIN[system_id].find(text)
        if hit is None:
            dims = ", ".join(BUILTIN[system_id].dimensions)
            raise ValueError(
                f"unknown value {text!r} in value system {system_id!r}; valid values are: {dims}"
            )
        return hit
    return text


def check_system_id(system_id: str) -> str:
    """A declared ``value_system``: a built-in id or ``free`` (names taken from the file)."""
    sid = str(system_id).strip().casefold()
    if sid != FREE and sid not in BUILTIN:
        raise ValueError(
            f"unknown value_system {system_id!r}; use one of {sorted(BUILTIN)} or 'free' (the names found in the file)"
        )
    return sid


def system_of_keys(system_id: str, names: Iterable[str]) -> ValueSystem:
    """The system a run's probes are keyed in: a built-in, or a free one from the names used."""
    return BUILTIN[system_id] if system_id in BUILTIN else free(system_id, list(names))


def short_label(dim: str) -> str:
    """A column label: Schwartz's two-letter code ("PO"), else the dimension itself."""
    try:
        return SHORT_CODES[Value(dim)]
    except ValueError:
        return dim


def not_applicable(analysis: str, system_id: str) -> str:
    """The one line every Schwartz-only analysis shows for another system."""
    return f"{analysis}: not applicable to value system {system_id} (it rests on Schwartz's ten values)"


class _Keyed(Protocol):
    @property
    def value_system(self) -> str: ...

    def values(self) -> list[Value | str]: ...


def system_of_probes(probes: Iterable[_Keyed], *, where: str = "the run") -> ValueSystem:
    """The one value system a set of probes is keyed in (a free one: the names they use, in
    order); probes of two systems cannot be scored together."""
    probes = list(probes)
    ids = sorted({p.value_system for p in probes})
    if len(ids) > 1:
        raise ConfigError(
            f"{where} mixes probes of value systems {ids}; their scores cannot share one profile: "
            "keep the items of one system (for another system, set probes.banks: [] and list only its files)"
        )
    sid = ids[0] if ids else SCHWARTZ10
    return system_of_keys(sid, (dim_name(v) for p in probes for v in p.values()))


def dims_in(keys: Iterable[Value | str]) -> list[Value | str]:
    """The dimensions a table shows: Schwartz's ten in circumplex order when every key is one
    of them (also when there are none), else the keys met, in order."""
    keys = list(keys)
    if all(isinstance(as_dim(k), Value) for k in keys):
        return list(CIRCUMPLEX)
    return [as_dim(k) for k in dict.fromkeys(dim_name(k) for k in keys)]


SCHWARTZ_ONLY = (
    "reference profiles and norms (human hierarchy, pan-cultural baseline, published models)",
    "higher-order values",
    "circumplex checks (circular profile figure, opposite-value structure)",
)
"""The analyses of a probe run that rest on Schwartz's ten values."""


def schwartz_only_lines(system_id: str) -> list[str]:
    return [not_applicable(a, system_id) for a in SCHWARTZ_ONLY]
