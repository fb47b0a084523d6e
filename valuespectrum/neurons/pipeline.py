"""Locate value neurons for a contrast in one call: texts, split, statistics, selection, readout.

    found = locate_contrast(model, tok, builtin_pairs(), "Self-Transcendence:Self-Enhancement", k=50)
    found.nset.save("out/st-se"); found.readout.accuracy; found.random_readout

The split is by pair (``test_fraction``, ``seed``): neurons are located on the training pairs and
the readout is scored on the held-out pairs, whose ids are kept in the set's settings so that an
edit can later be evaluated on the same unseen texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from valuespectrum.neurons.aspects import AspectText, aspect_texts, parse_contrast, split_by_pair
from valuespectrum.neurons.context import ContextVariant, context_variant
from valuespectrum.neurons.locate import NeuronSet, Select, locate_on_texts
from valuespectrum.neurons.readout import Readout, readout_accuracies
from valuespectrum.neurons.stats import NeuronStats, Pool
from valuespectrum.steering.pairs import ContrastivePair


@dataclass
class Located:
    nset: NeuronSet
    stats_a: NeuronStats
    stats_b: NeuronStats
    readout: Readout
    """Held-out readout accuracy of the located set."""
    random_readout: list[float]
    """Held-out readout accuracy of random sets of the same size and layer distribution."""
    test: tuple[list[AspectText], list[AspectText]]

    def summary(self) -> dict[str, Any]:
        return {
            "contrast": self.nset.settings.get("contrast"),
            "size": len(self.nset),
            "per_layer": {str(i): c for i, c in self.nset.per_layer().items()},
            "top": [
                {"layer": int(i), "index": int(j), "d": float(d)}
                for i, j, d in sorted(
                    zip(self.nset.layer, self.nset.index, self.nset.d, strict=True), key=lambda t: -abs(t[2])
                )[:10]
            ],
            "readout_accuracy": self.readout.accuracy,
            "readout_n": self.readout.n,
            "random_readout_accuracy": self.random_readout,
        }


def locate_contrast(
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
    neuron_template: str | None = None,
    context: ContextVariant = "controlled",
) -> Located:
    """``context="non_controlled"`` locates on the non-controlled variant of the training pairs
    (:mod:`valuespectrum.neurons.context`; half as many texts); the readout stays on every held-out pair."""
    c = parse_contrast(contrast)
    side_a, side_b = aspect_texts(pairs, c)
    (tr_a, tr_b), (te_a, te_b) = split_by_pair(side_a, side_b, test_fraction, seed)
    if context != "controlled":
        tr_a, tr_b = context_variant(tr_a, tr_b, {p.id: p.value for p in pairs}, context, seed)
    t = locate_on_texts(
        model, tokenizer, tr_a, tr_b, k, layers=layers, per_layer=per_layer, select=select, pool=pool,
        batch_size=batch_size, aspect_a=c.aspect_a, aspect_b=c.aspect_b, model_id=model_id, seed=seed,
        n_random=n_random, neuron_template=neuron_template,
        settings={
            "contrast": c.name, "test_fraction": test_fraction, "seed": seed, "context": context,
            "test_pairs": [x.pair_id for x in te_a],
        },
    )  # fmt: skip
    nset, stats_a, stats_b, controls = t.nset, t.stats_a, t.stats_b, t.controls
    read_pool: Pool = "last" if pool == "last" else "mean"
    rd, *rnd = readout_accuracies(
        model, tokenizer, te_a, te_b, [nset, *controls], pool=read_pool, batch_size=batch_size
    )
    return Located(nset, stats_a, stats_b, rd, [r.accuracy for r in rnd], (te_a, te_b))


def held_out_texts(
    pairs: Sequence[ContrastivePair], nset: NeuronSet
) -> tuple[list[AspectText], list[AspectText]]:
    """The held-out texts a set recorded at location (all texts of the contrast if none were)."""
    side_a, side_b = aspect_texts(pairs, parse_contrast(str(nset.settings.get("contrast", ""))))
    ids = set(nset.settings.get("test_pairs") or [])
    if not ids:
        return side_a, side_b
    keep = [i for i, t in enumerate(side_a) if t.pair_id in ids]
    return [side_a[i] for i in keep], [side_b[i] for i in keep]
