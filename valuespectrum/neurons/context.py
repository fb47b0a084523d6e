"""Context-controlled versus non-controlled contrast data, and the ablation that compares them.

Context-controlled texts (the built-in pairs, ConVA's ``*_context_controlled`` files) give both
aspects of a contrast in the same situation, so the two sides differ only in the value
expressed. The non-controlled variant is built from the same pairs (setting ``context``):
within each basic value the pairs are shuffled (seeded) and taken two at a time, ``(i, j)``; the
aspect-A text comes from pair ``i`` and the aspect-B text from pair ``j``, so no situation occurs
on both sides. The controlled variant of the same size keeps both texts of pair ``i``: the two
variants share every A text and the same number of B texts and differ only in whether the B
text shares the A text's situation. A value with an odd number of pairs drops its last one.

Variants are built after the split by pair, within the training and the held-out pairs
separately, so no situation crosses the split. :func:`context_ablation` locates a set on each
training variant and reads both out on the same held-out texts (every held-out pair, both sides).
:func:`pairs_variant` is the pair-level form for anything that reads :class:`ContrastivePair` s
(e.g. ``steering.extract``): a non-controlled pair has an empty scenario and each side carries
its own situation.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from valuespectrum.errors import ConfigError
from valuespectrum.neurons.aspects import AspectText, aspect_texts, parse_contrast, split_by_pair
from valuespectrum.neurons.locate import NeuronSet, Select, locate_on_texts
from valuespectrum.neurons.readout import readout_accuracies
from valuespectrum.neurons.stats import Pool
from valuespectrum.steering.pairs import ContrastivePair
from valuespectrum.values import Value

ContextVariant = Literal["controlled", "non_controlled"]
VARIANTS: tuple[ContextVariant, ...] = ("controlled", "non_controlled")
Sides = tuple[list[AspectText], list[AspectText]]


def _couples(ids: Sequence[str], value_of: dict[str, Value], seed: int) -> list[tuple[int, int]]:
    """Index couples (i, j) of the same value, each index used once (seeded; odd ones dropped)."""
    groups: dict[Value, list[int]] = {}
    for k, pid in enumerate(ids):
        groups.setdefault(value_of[pid], []).append(k)
    rng = random.Random(seed)
    out: list[tuple[int, int]] = []
    for v in sorted(groups, key=lambda x: x.value):
        g = groups[v][:]
        rng.shuffle(g)
        out.extend((g[n], g[n + 1]) for n in range(0, len(g) - 1, 2))
    return sorted(out)


def context_variant(
    side_a: list[AspectText],
    side_b: list[AspectText],
    value_of: dict[str, Value],
    variant: ContextVariant,
    seed: int = 0,
) -> Sides:
    """The ``variant`` of paired aspect texts (module notes); both variants have the same size."""
    if variant not in VARIANTS:
        raise ConfigError(f"context {variant!r}: choose one of {', '.join(VARIANTS)}")
    couples = _couples([t.pair_id for t in side_a], value_of, seed)
    if not couples:
        raise ConfigError("the context variants need at least two pairs of one value")
    a = [side_a[i] for i, _ in couples]
    if variant == "controlled":
        return a, [side_b[i] for i, _ in couples]
    # the B text keeps its own situation; it is filed under the A text's pair
    return a, [AspectText(side_b[j].text, side_b[j].start, side_a[i].pair_id) for i, j in couples]


def pairs_variant(
    pairs: Sequence[ContrastivePair], variant: ContextVariant, seed: int = 0
) -> list[ContrastivePair]:
    """Pair-level variant: controlled pairs as given (all of them), or non-controlled pairs whose
    positive comes from pair ``i`` and negative from pair ``j`` of the same value, each with its
    own situation and an empty scenario."""
    if variant == "controlled":
        return list(pairs)
    if variant != "non_controlled":
        raise ConfigError(f"context {variant!r}: choose one of {', '.join(VARIANTS)}")
    couples = _couples([p.id for p in pairs], {p.id: p.value for p in pairs}, seed)
    return [
        ContrastivePair(
            f"{pairs[i].id}~{pairs[j].id}",
            pairs[i].value,
            "",
            pairs[i].render(pairs[i].positive),
            pairs[j].render(pairs[j].negative),
        )
        for i, j in couples
    ]


@dataclass
class ContextAblation:
    """Held-out readout accuracy of sets located on each variant (same held-out texts)."""

    contrast: str
    accuracy: dict[str, float]
    """variant trained on -> held-out readout accuracy."""
    random: dict[str, list[float]]
    """variant -> held-out accuracy of random sets of the same size and layer distribution."""
    n_train_pairs: int
    n_test_texts: int
    jaccard: float
    """Overlap of the two located sets."""
    sets: dict[str, NeuronSet] = field(repr=False, default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("sets")
        return d


def context_ablation(
    model: Any,
    tokenizer: Any,
    pairs: Sequence[ContrastivePair],
    contrast: str,
    *,
    k: int = 50,
    layers: list[int] | None = None,
    per_layer: bool = False,
    select: Select = "abs",
    pool: Pool = "mean",
    test_fraction: float = 0.25,
    seed: int = 0,
    n_random: int = 3,
    batch_size: int = 8,
    model_id: str = "",
    non_controlled_pairs: Sequence[ContrastivePair] | None = None,
) -> ContextAblation:
    """Locate on the controlled and the non-controlled training variant; read both out on the
    held-out pairs. ``non_controlled_pairs`` (e.g. ConVA's non-context-controlled files) replaces
    the built non-controlled variant by texts of its own, cut to the controlled variant's size."""
    c = parse_contrast(contrast)
    side_a, side_b = aspect_texts(pairs, c)
    (tr_a, tr_b), (te_a, te_b) = split_by_pair(side_a, side_b, test_fraction, seed)
    value_of = {p.id: p.value for p in pairs}
    train: dict[str, Sides] = {v: context_variant(tr_a, tr_b, value_of, v, seed) for v in VARIANTS}
    if non_controlled_pairs is not None:
        na, nb = aspect_texts(non_controlled_pairs, c)
        n = len(train["controlled"][0])
        if len(na) < n:
            raise ConfigError(
                f"contrast {c.name}: the non-controlled pairs give {len(na)} texts per side; need {n}"
            )
        order = list(range(len(na)))
        random.Random(seed).shuffle(order)
        train["non_controlled"] = ([na[i] for i in order[:n]], [nb[i] for i in order[:n]])
    located: dict[str, NeuronSet] = {}
    controls: list[NeuronSet] = []
    for v, (a, b) in train.items():
        t = locate_on_texts(
            model, tokenizer, a, b, k, layers=layers, per_layer=per_layer, select=select, pool=pool,
            batch_size=batch_size, aspect_a=c.aspect_a, aspect_b=c.aspect_b, model_id=model_id, seed=seed,
            n_random=n_random,
            settings={"contrast": c.name, "context": v, "seed": seed, "test_pairs": [x.pair_id for x in te_a]},
        )  # fmt: skip
        located[v] = t.nset
        controls.extend(t.controls)
    read_pool: Pool = "last" if pool == "last" else "mean"
    reads = readout_accuracies(
        model, tokenizer, te_a, te_b, [located[v] for v in VARIANTS] + controls, pool=read_pool,
        batch_size=batch_size,
    )  # fmt: skip
    acc: dict[str, float] = {v: reads[i].accuracy for i, v in enumerate(VARIANTS)}
    rnd: dict[str, list[float]] = {
        v: [r.accuracy for r in reads[2 + i * n_random : 2 + (i + 1) * n_random]]
        for i, v in enumerate(VARIANTS)
    }
    return ContextAblation(
        c.name,
        acc,
        rnd,
        len(train["controlled"][0]),
        reads[0].n,
        located["controlled"].jaccard(located["non_controlled"]),
        located,
    )
