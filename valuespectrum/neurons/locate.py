"""Locate value neurons: standardised differences between two aspects and a top-k selection.

For neuron n: ``delta_n = mean_A - mean_B`` and ``d_n = delta_n / s_pooled`` with the pooled
(ddof=1) standard deviation of the two aspects, floored at ``min_std`` so dead neurons score 0.

Selection rule (ours; the ValueLocate paper does not publish one), setting ``select``:

- ``"abs"`` (default): the k neurons with the largest ``|d|`` (both signs: neurons that fire more
  for A and neurons that fire more for B);
- ``"a"`` / ``"b"``: the k largest ``d`` (A neurons) or the k smallest (B neurons).

``per_layer=True`` takes k per layer instead of k overall. Ties keep layer-then-index order.
A :class:`NeuronSet` is saved as ``<stem>.safetensors`` (indices, differences, means) plus
``<stem>.json`` (model, neuron template, data digest, settings); nothing is pickled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from valuespectrum.errors import ConfigError
from valuespectrum.neurons.stats import NeuronStats, Pool, collect_neuron_stats
from valuespectrum.sidecar import read_meta, write_pair
from valuespectrum.types import stable_hash

Select = Literal["abs", "a", "b"]
FORMAT_VERSION = 1
_ARRAYS = ("layer", "index", "delta", "d", "mean_a", "mean_b")


@dataclass
class NeuronSet:
    """Selected neurons (parallel arrays) with what is needed to edit and to trace them."""

    layer: np.ndarray
    index: np.ndarray
    delta: np.ndarray
    """mean_A - mean_B per neuron."""
    d: np.ndarray
    """Standardised difference per neuron."""
    mean_a: np.ndarray
    mean_b: np.ndarray
    aspect_a: str
    aspect_b: str
    model_id: str
    neuron_template: str
    data_digest: str
    widths: dict[int, int]
    """Neurons per layer of the model (for random controls of the same layer distribution)."""
    settings: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.layer.shape[0])

    def per_layer(self) -> dict[int, int]:
        """Selected neurons per layer."""
        layers, counts = np.unique(self.layer, return_counts=True)
        return {int(i): int(c) for i, c in zip(layers, counts, strict=True)}

    def members(self) -> set[tuple[int, int]]:
        return {(int(i), int(j)) for i, j in zip(self.layer, self.index, strict=True)}

    def jaccard(self, other: NeuronSet) -> float:
        a, b = self.members(), other.members()
        return len(a & b) / len(a | b) if a | b else 0.0

    def digest(self) -> str:
        """``sha256:`` of what editing with this set does (arrays and template; not the notes)."""
        arrays = [np.ascontiguousarray(getattr(self, k)).tobytes().hex() for k in _ARRAYS]
        return "sha256:" + stable_hash([self.neuron_template, self.aspect_a, self.aspect_b, *arrays])

    def opposite(self) -> NeuronSet:
        """The same neurons read for the other aspect: A and B swapped (delta and d negated)."""
        return replace(
            self,
            delta=-self.delta,
            d=-self.d,
            mean_a=self.mean_b.copy(),
            mean_b=self.mean_a.copy(),
            aspect_a=self.aspect_b,
            aspect_b=self.aspect_a,
            settings={**self.settings, "role": "opposite"},
        )

    def random_like(
        self,
        seed: int,
        stats_a: NeuronStats | None = None,
        stats_b: NeuronStats | None = None,
        *,
        own_differences: bool = False,
    ) -> NeuronSet:
        """A control: as many random neurons per layer as this set has, drawn without replacement
        from the layer's unselected neurons (seeded).

        For edits, each random neuron takes a selected neuron's delta and d (a random
        permutation), so a shift moves the same total amount. ``own_differences=True`` (for
        readouts; needs the stats) gives each its own training delta and d instead, so a random
        set is read out the same way the located set is. Means come from ``stats_a``/``stats_b``
        when given (needed for ``patch``), else they are NaN and patching with the set is refused.
        """
        rng = np.random.default_rng(seed)
        chosen = self.members()
        layers: list[int] = []
        idx: list[int] = []
        for i, count in self.per_layer().items():
            free = np.array([j for j in range(self.widths[i]) if (i, j) not in chosen], dtype=np.int64)
            if len(free) < count:
                free = np.arange(self.widths[i], dtype=np.int64)
            pick = np.sort(rng.choice(free, size=count, replace=False))
            layers.extend([i] * count)
            idx.extend(int(j) for j in pick)
        perm = rng.permutation(len(self))
        lay, ind = np.array(layers, dtype=np.int64), np.array(idx, dtype=np.int64)
        mean_a = _means(stats_a, lay, ind)
        mean_b = _means(stats_b, lay, ind)
        delta, d = self.delta[perm].copy(), self.d[perm].copy()
        if own_differences:
            if stats_a is None or stats_b is None:
                raise ConfigError("own_differences needs the statistics of both aspects")
            diffs = standardised_differences(
                stats_a, stats_b, min_std=float(self.settings.get("min_std", 1e-6))
            )
            delta = np.array([diffs[int(i)][0][int(j)] for i, j in zip(lay, ind, strict=True)])
            d = np.array([diffs[int(i)][1][int(j)] for i, j in zip(lay, ind, strict=True)])
        return replace(
            self,
            layer=lay,
            index=ind,
            delta=delta,
            d=d,
            mean_a=mean_a,
            mean_b=mean_b,
            settings={**self.settings, "role": "random", "seed": seed},
        )

    # -- files ----------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write ``<stem>.safetensors`` and ``<stem>.json``; returns the safetensors path."""
        from safetensors.numpy import save_file

        tensors = {k: np.ascontiguousarray(getattr(self, k)) for k in _ARRAYS}
        meta = {
            "format_version": FORMAT_VERSION,
            "kind": "neuron_set",
            "aspect_a": self.aspect_a,
            "aspect_b": self.aspect_b,
            "model_id": self.model_id,
            "neuron_template": self.neuron_template,
            "data_digest": self.data_digest,
            "widths": {str(i): w for i, w in sorted(self.widths.items())},
            "size": len(self),
            "per_layer": {str(i): c for i, c in self.per_layer().items()},
            "settings": self.settings,
        }
        return write_pair(path, save_file, tensors, meta)

    @classmethod
    def load(cls, path: str | Path) -> NeuronSet:
        """Read a set written by :meth:`save` (either file, or the common stem)."""
        from safetensors.numpy import load_file

        required = ("aspect_a", "aspect_b", "model_id", "neuron_template", "data_digest", "widths")
        st, js, meta = read_meta(path, "a neuron set", required)
        if meta.get("kind") != "neuron_set":
            raise ConfigError(f"{js}: field 'kind' is {meta.get('kind')!r}; expected 'neuron_set'")
        tensors = load_file(str(st))
        absent = [k for k in _ARRAYS if k not in tensors]
        if absent:
            raise ConfigError(
                f"{st}: tensors {absent} are missing (a file written by NeuronSet.save has them)"
            )
        sizes = {k: int(tensors[k].shape[0]) for k in _ARRAYS}
        if len(set(sizes.values())) != 1:
            raise ConfigError(f"{st}: arrays have different lengths {sizes}")
        return cls(
            **{k: tensors[k] for k in _ARRAYS},
            aspect_a=meta["aspect_a"],
            aspect_b=meta["aspect_b"],
            model_id=meta["model_id"],
            neuron_template=meta["neuron_template"],
            data_digest=meta["data_digest"],
            widths={int(k): int(v) for k, v in meta["widths"].items()},
            settings=dict(meta.get("settings") or {}),
        )


def _means(stats: NeuronStats | None, layer: np.ndarray, index: np.ndarray) -> np.ndarray:
    if stats is None:
        return np.full(layer.shape[0], np.nan)
    return np.array([stats.layers[int(i)].mean[int(j)] for i, j in zip(layer, index, strict=True)])


def standardised_differences(
    stats_a: NeuronStats, stats_b: NeuronStats, *, min_std: float = 1e-6
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per layer: (delta, d) arrays over all neurons."""
    if set(stats_a.layers) != set(stats_b.layers):
        raise ConfigError(f"aspect A has layers {sorted(stats_a.layers)}, aspect B {sorted(stats_b.layers)}")
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for i in sorted(stats_a.layers):
        a, b = stats_a.layers[i], stats_b.layers[i]
        if a.mean.shape != b.mean.shape:
            raise ConfigError(
                f"layer {i}: aspect A has {a.mean.shape[0]} neurons, aspect B {b.mean.shape[0]}"
            )
        dof = a.n + b.n - 2
        if dof < 1:
            raise ConfigError(f"layer {i}: need at least 3 samples over both aspects, got {a.n + b.n}")
        pooled = np.sqrt((a.m2 + b.m2) / dof)
        delta = a.mean - b.mean
        out[i] = (delta, delta / np.maximum(pooled, min_std))
    return out


def locate(
    stats_a: NeuronStats,
    stats_b: NeuronStats,
    k: int,
    *,
    per_layer: bool = False,
    select: Select = "abs",
    min_std: float = 1e-6,
    aspect_a: str = "A",
    aspect_b: str = "B",
    model_id: str = "",
) -> NeuronSet:
    """The top-``k`` neurons separating aspect A from aspect B (see the module notes for the rule)."""
    if k < 1:
        raise ConfigError(f"k must be at least 1, got {k}")
    if select not in ("abs", "a", "b"):
        raise ConfigError(f"select must be 'abs', 'a' or 'b', got {select!r}")
    diffs = standardised_differences(stats_a, stats_b, min_std=min_std)
    groups = [sorted(diffs)] if not per_layer else [[i] for i in sorted(diffs)]
    picked: list[tuple[int, int]] = []
    for group in groups:
        lay = np.concatenate([np.full(diffs[i][1].shape[0], i, dtype=np.int64) for i in group])
        idx = np.concatenate([np.arange(diffs[i][1].shape[0], dtype=np.int64) for i in group])
        d = np.concatenate([diffs[i][1] for i in group])
        score = np.abs(d) if select == "abs" else (d if select == "a" else -d)
        order = np.argsort(-score, kind="stable")[:k]
        picked.extend((int(lay[o]), int(idx[o])) for o in order)
    picked.sort()
    layer = np.array([p[0] for p in picked], dtype=np.int64)
    index = np.array([p[1] for p in picked], dtype=np.int64)
    return NeuronSet(
        layer=layer,
        index=index,
        delta=np.array([diffs[i][0][j] for i, j in picked]),
        d=np.array([diffs[i][1][j] for i, j in picked]),
        mean_a=np.array([stats_a.layers[i].mean[j] for i, j in picked]),
        mean_b=np.array([stats_b.layers[i].mean[j] for i, j in picked]),
        aspect_a=aspect_a,
        aspect_b=aspect_b,
        model_id=model_id,
        neuron_template=stats_a.neuron_template,
        data_digest=stable_hash([stats_a.data_digest, stats_b.data_digest]),
        widths=stats_a.widths(),
        settings={
            "k": k,
            "per_layer": per_layer,
            "select": select,
            "min_std": min_std,
            "pool": stats_a.pool,
            "n_a": stats_a.n_texts,
            "n_b": stats_b.n_texts,
        },
    )


@dataclass
class Trained:
    """A set located on one training split, its statistics, and its random controls."""

    nset: NeuronSet
    stats_a: NeuronStats
    stats_b: NeuronStats
    controls: list[NeuronSet]


def locate_on_texts(
    model: Any,
    tokenizer: Any,
    texts_a: Sequence[Any],
    texts_b: Sequence[Any],
    k: int,
    *,
    layers: list[int] | None,
    per_layer: bool,
    select: Select,
    pool: Pool,
    batch_size: int,
    aspect_a: str,
    aspect_b: str,
    model_id: str,
    seed: int,
    n_random: int,
    settings: dict[str, Any],
    neuron_template: str | None = None,
) -> Trained:
    """Statistics of both sides' texts, the top-``k`` set (``settings`` added to its own, before
    the controls copy them), and ``n_random`` random sets of the same size and layer distribution
    (read out with their own training differences, like the set)."""
    kw: dict[str, Any] = {"pool": pool, "batch_size": batch_size, "neuron_template": neuron_template}
    sa = collect_neuron_stats(model, tokenizer, texts_a, layers, **kw)
    sb = collect_neuron_stats(model, tokenizer, texts_b, layers, **kw)
    nset = locate(
        sa, sb, k, per_layer=per_layer, select=select, aspect_a=aspect_a, aspect_b=aspect_b, model_id=model_id
    )
    nset.settings.update(settings)
    controls = [nset.random_like(seed * 1000 + r, sa, sb, own_differences=True) for r in range(n_random)]
    return Trained(nset, sa, sb, controls)
