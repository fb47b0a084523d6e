"""Schwartz's theory of basic human values: the 10 basic values, the 19 refined values
of the PVQ-RR, their circumplex order, opposites and higher-order groupings.

Everything here is plain data with no heavy imports, so the CLI and the scoring core
can use it cheaply. Definitions are short paraphrases written for this project.
"""

from __future__ import annotations

from enum import Enum


class Value(str, Enum):
    """One of Schwartz's 10 basic values, in circumplex order."""

    SELF_DIRECTION = "Self-Direction"
    STIMULATION = "Stimulation"
    HEDONISM = "Hedonism"
    ACHIEVEMENT = "Achievement"
    POWER = "Power"
    SECURITY = "Security"
    CONFORMITY = "Conformity"
    TRADITION = "Tradition"
    BENEVOLENCE = "Benevolence"
    UNIVERSALISM = "Universalism"

    @property
    def short(self) -> str:
        return SHORT_CODES[self]

    @property
    def definition(self) -> str:
        return DEFINITIONS[self]


#: Circular order: each value neighbours the next, and Universalism neighbours Self-Direction.
CIRCUMPLEX: tuple[Value, ...] = tuple(Value)

SHORT_CODES: dict[Value, str] = {
    Value.SELF_DIRECTION: "SD",
    Value.STIMULATION: "ST",
    Value.HEDONISM: "HE",
    Value.ACHIEVEMENT: "AC",
    Value.POWER: "PO",
    Value.SECURITY: "SE",
    Value.CONFORMITY: "CO",
    Value.TRADITION: "TR",
    Value.BENEVOLENCE: "BE",
    Value.UNIVERSALISM: "UN",
}

DEFINITIONS: dict[Value, str] = {
    Value.SELF_DIRECTION: "Thinking and acting for oneself: choosing one's own goals, exploring, creating.",
    Value.STIMULATION: "Seeking excitement, novelty and challenge; a varied rather than routine life.",
    Value.HEDONISM: "Pursuing pleasure, enjoyment and sensuous gratification for oneself.",
    Value.ACHIEVEMENT: "Personal success shown by competence according to social standards.",
    Value.POWER: "Social status and prestige; control or dominance over people and resources.",
    Value.SECURITY: "Safety, harmony and stability of society, of relationships and of oneself.",
    Value.CONFORMITY: "Restraint of actions likely to upset or harm others or to break social norms.",
    Value.TRADITION: "Respect for and commitment to the customs and ideas of one's culture or religion.",
    Value.BENEVOLENCE: "Caring for the welfare of the people one is in frequent personal contact with.",
    Value.UNIVERSALISM: "Understanding, tolerance and protection of the welfare of all people and of nature.",
}


class HigherOrder(str, Enum):
    """The four higher-order values that group neighbouring basic values."""

    OPENNESS = "Openness to Change"
    SELF_ENHANCEMENT = "Self-Enhancement"
    CONSERVATION = "Conservation"
    SELF_TRANSCENDENCE = "Self-Transcendence"


#: Members used for rollups. Hedonism shares Openness and Self-Enhancement; following the
#: common scoring convention it is counted under Openness only (see HEDONISM_SHARED).
HIGHER_ORDER: dict[HigherOrder, tuple[Value, ...]] = {
    HigherOrder.OPENNESS: (Value.SELF_DIRECTION, Value.STIMULATION, Value.HEDONISM),
    HigherOrder.SELF_ENHANCEMENT: (Value.ACHIEVEMENT, Value.POWER),
    HigherOrder.CONSERVATION: (Value.SECURITY, Value.CONFORMITY, Value.TRADITION),
    HigherOrder.SELF_TRANSCENDENCE: (Value.BENEVOLENCE, Value.UNIVERSALISM),
}
HEDONISM_SHARED: tuple[HigherOrder, HigherOrder] = (HigherOrder.OPENNESS, HigherOrder.SELF_ENHANCEMENT)

#: The two bipolar dimensions of the circle.
BIPOLAR: tuple[tuple[HigherOrder, HigherOrder], ...] = (
    (HigherOrder.OPENNESS, HigherOrder.CONSERVATION),
    (HigherOrder.SELF_ENHANCEMENT, HigherOrder.SELF_TRANSCENDENCE),
)

#: The 19 refined values of the PVQ-RR, in circular order.
REFINED19: tuple[str, ...] = (
    "Self-Direction-Thought",
    "Self-Direction-Action",
    "Stimulation",
    "Hedonism",
    "Achievement",
    "Power-Dominance",
    "Power-Resources",
    "Face",
    "Security-Personal",
    "Security-Societal",
    "Tradition",
    "Conformity-Rules",
    "Conformity-Interpersonal",
    "Humility",
    "Benevolence-Dependability",
    "Benevolence-Caring",
    "Universalism-Concern",
    "Universalism-Nature",
    "Universalism-Tolerance",
)

#: How the refined values roll up into the 10 basic ones (the PVQ-RR 10-value key).
#: Face is left out of the 10-value key; Humility is scored with Tradition in that key.
REFINED_TO_BASIC: dict[str, Value | None] = {
    "Self-Direction-Thought": Value.SELF_DIRECTION,
    "Self-Direction-Action": Value.SELF_DIRECTION,
    "Stimulation": Value.STIMULATION,
    "Hedonism": Value.HEDONISM,
    "Achievement": Value.ACHIEVEMENT,
    "Power-Dominance": Value.POWER,
    "Power-Resources": Value.POWER,
    "Face": None,
    "Security-Personal": Value.SECURITY,
    "Security-Societal": Value.SECURITY,
    "Tradition": Value.TRADITION,
    "Conformity-Rules": Value.CONFORMITY,
    "Conformity-Interpersonal": Value.CONFORMITY,
    "Humility": Value.TRADITION,
    "Benevolence-Dependability": Value.BENEVOLENCE,
    "Benevolence-Caring": Value.BENEVOLENCE,
    "Universalism-Concern": Value.UNIVERSALISM,
    "Universalism-Nature": Value.UNIVERSALISM,
    "Universalism-Tolerance": Value.UNIVERSALISM,
}

_ALIASES: dict[str, Value] = {}
for _v in Value:
    for _alias in (_v.value, _v.name, _v.short, _v.value.replace("-", ""), _v.value.replace("-", "_")):
        _ALIASES[_alias.lower().replace(" ", "")] = _v


def parse_value(name: str) -> Value:
    """Resolve a value name, code or common spelling ("self_direction", "SD", "power").

    Raises ValueError listing the valid names when nothing matches.
    """
    key = str(name).strip().lower().replace(" ", "")
    if key in _ALIASES:
        return _ALIASES[key]
    valid = ", ".join(v.value for v in Value)
    raise ValueError(f"unknown value {name!r}; valid values are: {valid}")


def circular_distance(a: Value, b: Value) -> int:
    """Steps between two values around the 10-value circle (0..5)."""
    n = len(CIRCUMPLEX)
    d = abs(CIRCUMPLEX.index(a) - CIRCUMPLEX.index(b)) % n
    return min(d, n - d)


def opposite(value: Value) -> Value:
    """The value across the circle (five steps away)."""
    i = CIRCUMPLEX.index(value)
    return CIRCUMPLEX[(i + len(CIRCUMPLEX) // 2) % len(CIRCUMPLEX)]


def neighbours(value: Value) -> tuple[Value, Value]:
    """The two adjacent values on the circle."""
    i = CIRCUMPLEX.index(value)
    n = len(CIRCUMPLEX)
    return CIRCUMPLEX[(i - 1) % n], CIRCUMPLEX[(i + 1) % n]


def higher_order_of(value: Value) -> tuple[HigherOrder, ...]:
    """The higher-order groups a value belongs to (two for Hedonism)."""
    if value is Value.HEDONISM:
        return HEDONISM_SHARED
    return tuple(h for h, members in HIGHER_ORDER.items() if value in members)
