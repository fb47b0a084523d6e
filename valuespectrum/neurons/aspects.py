"""Aspect-A and aspect-B texts of a value contrast, built from contrastive pairs.

Every pair gives one text to each side and both texts share the pair's scenario, so the two
sides differ in the value expressed, not in the situation (context controlled).

- higher-order contrast ``A`` vs ``B`` (e.g. Self-Transcendence vs Self-Enhancement): side A gets
  the value-expressing response of pairs whose value belongs to A and the value-neglecting
  response of pairs whose value belongs to B; side B the reverse;
- basic value ``V`` vs its opposite on the circle: the same rule with the groups ``{V}`` and
  ``{opposite(V)}``.

The pooled span of each text is its response (``start`` is the character where it begins).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from valuespectrum.errors import ConfigError
from valuespectrum.steering.pairs import ContrastivePair
from valuespectrum.values import HIGHER_ORDER, HigherOrder, Value, opposite, parse_value


@dataclass(frozen=True)
class AspectText:
    """A text whose activations are read, and where its pooled span (the response) starts."""

    text: str
    start: int
    pair_id: str


@dataclass(frozen=True)
class Contrast:
    """Two opposing value aspects and the basic values on each side."""

    name: str
    aspect_a: str
    aspect_b: str
    group_a: tuple[Value, ...]
    group_b: tuple[Value, ...]


def _higher(name: str) -> HigherOrder | None:
    key = name.strip().lower().replace("_", " ").replace("-", " ")
    for h in HigherOrder:
        if h.value.lower().replace("-", " ") == key or h.name.lower().replace("_", " ") == key:
            return h
    if key in ("openness", "openness to change"):
        return HigherOrder.OPENNESS
    return None


def parse_contrast(spec: str) -> Contrast:
    """``"Self-Transcendence:Self-Enhancement"``, ``"Openness:Conservation"`` or a basic value
    (``"Power"``: Power against the value across the circle, Universalism)."""
    if ":" in spec:
        left, right = (s.strip() for s in spec.split(":", 1))
        a, b = _higher(left), _higher(right)
        if a is None or b is None:
            names = ", ".join(h.value for h in HigherOrder)
            raise ConfigError(f"contrast {spec!r}: both sides must be higher-order values ({names})")
        if a is b:
            raise ConfigError(f"contrast {spec!r}: the two sides must differ")
        return Contrast(f"{a.value}:{b.value}", a.value, b.value, HIGHER_ORDER[a], HIGHER_ORDER[b])
    try:
        v = parse_value(spec)
    except ValueError as exc:
        raise ConfigError(f"contrast {spec!r}: {exc}; or write two higher-order values as 'A:B'") from exc
    o = opposite(v)
    return Contrast(f"{v.value}:{o.value}", v.value, o.value, (v,), (o,))


def aspect_texts(
    pairs: Sequence[ContrastivePair], contrast: Contrast
) -> tuple[list[AspectText], list[AspectText]]:
    """Side-A and side-B texts of ``contrast`` (one of each per pair of either group, same order)."""
    side_a: list[AspectText] = []
    side_b: list[AspectText] = []
    for p in pairs:
        if p.value in contrast.group_a:
            a_resp, b_resp = p.positive, p.negative
        elif p.value in contrast.group_b:
            a_resp, b_resp = p.negative, p.positive
        else:
            continue
        for resp, side in ((a_resp, side_a), (b_resp, side_b)):
            text = p.render(resp)
            side.append(AspectText(text, len(text) - len(resp), p.id))
    if len(side_a) < 4:
        raise ConfigError(
            f"contrast {contrast.name}: only {len(side_a)} pairs of its values; need at least 4"
        )
    return side_a, side_b


def split_by_pair(
    side_a: list[AspectText], side_b: list[AspectText], test_fraction: float, seed: int
) -> tuple[tuple[list[AspectText], list[AspectText]], tuple[list[AspectText], list[AspectText]]]:
    """A seeded split by pair (a scenario is never on both sides of the split): (train, test)."""
    import random

    n = len(side_a)
    order = list(range(n))
    random.Random(seed).shuffle(order)
    n_test = max(1, round(n * test_fraction)) if test_fraction > 0 else 0
    test = set(order[:n_test])
    tr = [i for i in range(n) if i not in test]
    te = sorted(test)
    return ([side_a[i] for i in tr], [side_b[i] for i in tr]), (
        [side_a[i] for i in te],
        [side_b[i] for i in te],
    )
