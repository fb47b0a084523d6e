"""A synthetic catalog with value-clustered embeddings, for dry runs, tests and benchmarks.

Each value gets a random unit prototype; its videos are the prototype plus Gaussian noise,
tagged with that value, so "videos of Power" form a cluster a feed can drift toward. The
captions name the value, so a keyword search finds them. Deterministic for a seed.
"""

from __future__ import annotations

import numpy as np

from agents.catalog import Catalog, VideoItem
from valuespectrum.values import CIRCUMPLEX

_PLATFORMS = ("tiktok", "youtube_shorts", "instagram_reels")


def synthetic_catalog(
    per_value: int = 30, dim: int = 32, *, noise: float = 0.6, duration_s: float = 20.0, seed: int = 0
) -> Catalog:
    """``per_value`` videos for each of the 10 values (ids ``syn-<code>-<k>``)."""
    rng = np.random.default_rng(seed)
    protos = rng.normal(size=(len(CIRCUMPLEX), dim))
    protos /= np.linalg.norm(protos, axis=1, keepdims=True)
    items: list[VideoItem] = []
    rows: list[np.ndarray] = []
    for vi, value in enumerate(CIRCUMPLEX):
        for k in range(per_value):
            rows.append(protos[vi] + noise * rng.normal(size=dim) / np.sqrt(dim))
            items.append(
                VideoItem(
                    video_id=f"syn-{value.short}-{k:03d}",
                    values=(value,),
                    platform=_PLATFORMS[(vi + k) % len(_PLATFORMS)],
                    caption=f"a short video about {value.value.lower()} number {k}",
                    title=f"{value.value} #{k}",
                    duration_s=duration_s,
                )
            )
    return Catalog(items, np.stack(rows).astype(np.float32))
