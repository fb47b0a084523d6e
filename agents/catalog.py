"""The corpus as the feed sees it: one unit-norm embedding and a few facts per video.

Video embeddings (the pooled frame embeddings the index stores in its ``videos`` collection),
value tags, platform, duration and caption are loaded once; a video's sampled frames are
fetched from the store only when the video is shown, through the same helpers that build
VQA probe sets. A catalog can also be built directly from items (tests, benchmarks,
precomputed embeddings) with no store behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from valuespectrum.errors import ConfigError
from valuespectrum.values import CIRCUMPLEX, Value, parse_value

if TYPE_CHECKING:
    from ingestion.store import VectorStore

#: Dwell ceiling used when an index does not record a video's duration.
DEFAULT_DURATION_S = 30.0


@dataclass(frozen=True)
class VideoItem:
    """One video of the feed."""

    video_id: str
    values: tuple[Value, ...]
    """The video's value tags (its top values in the index)."""
    platform: str = "other"
    caption: str = ""
    title: str = ""
    duration_s: float | None = None
    frames: tuple[Path, ...] = ()
    """Sampled frames, when known up front (otherwise fetched from the store when shown)."""
    fps: float | None = None
    n_frames: int = 0
    """Frames the index stored for it (lets them be fetched by id); 0 when unknown."""

    @property
    def max_dwell_s(self) -> float:
        return float(self.duration_s) if self.duration_s else DEFAULT_DURATION_S


@dataclass
class Catalog:
    """Items, their embedding matrix (rows unit-norm, in item order) and optional store access."""

    items: list[VideoItem]
    embeddings: np.ndarray
    store: Any | None = None
    data_dir: Path | None = None
    _index: dict[str, int] = field(init=False, repr=False)
    _frames: dict[str, tuple[tuple[Path, ...], float | None]] = field(
        init=False, repr=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        if self.embeddings.ndim != 2 or self.embeddings.shape[0] != len(self.items):
            raise ValueError(
                f"catalog: {len(self.items)} items but an embedding matrix of shape {self.embeddings.shape}"
            )
        norms = np.linalg.norm(self.embeddings, axis=1, keepdims=True)
        self.embeddings = (self.embeddings / np.maximum(norms, 1e-12)).astype(np.float32)
        self._index = {it.video_id: i for i, it in enumerate(self.items)}
        if len(self._index) != len(self.items):
            raise ValueError("catalog: video ids must be unique")

    def __len__(self) -> int:
        return len(self.items)

    @property
    def ids(self) -> list[str]:
        return [it.video_id for it in self.items]

    def position(self, video_id: str) -> int:
        return self._index[video_id]

    def item(self, video_id: str) -> VideoItem:
        return self.items[self._index[video_id]]

    def vector(self, video_id: str) -> np.ndarray:
        return np.asarray(self.embeddings[self._index[video_id]])

    def value_centroid(self, values: Sequence[Value]) -> np.ndarray | None:
        """Unit mean embedding of the videos tagged with any of ``values`` (None if there are none)."""
        wanted = set(values)
        rows = [i for i, it in enumerate(self.items) if wanted & set(it.values)]
        if not rows:
            return None
        c = self.embeddings[rows].mean(axis=0)
        n = float(np.linalg.norm(c))
        return c / n if n > 1e-12 else None

    def value_centroids(self) -> dict[Value, np.ndarray]:
        """Centroid per value that tags at least one video."""
        out: dict[Value, np.ndarray] = {}
        for v in CIRCUMPLEX:
            c = self.value_centroid([v])
            if c is not None:
                out[v] = c
        return out

    def frames(self, video_id: str) -> tuple[tuple[Path, ...], float | None]:
        """A video's sampled frames (absolute paths) and their rate, fetched once from the store."""
        item = self.item(video_id)
        if item.frames or self.store is None:
            return item.frames, item.fps
        if video_id not in self._frames:
            from ingestion.probe_sets import frame_paths, frame_rate, frames_of

            metas = frames_of(self.store, video_id, item.n_frames or None)
            paths = tuple(frame_paths(self.data_dir or Path("."), metas))
            self._frames[video_id] = (paths, frame_rate(metas, {}))
        return self._frames[video_id]

    @classmethod
    def from_store(cls, store: VectorStore, data_dir: Path | None = None) -> Catalog:
        """Every complete video of an index (the ``videos`` collection), with its pooled embedding."""
        from ingestion.store_retry import StoreUnavailableError

        try:  # a Chroma server's faults are retried in the store; this says what was under way
            recs = store.get("videos", include_embeddings=True)
        except StoreUnavailableError as exc:
            raise exc.during(
                "while loading the browsing catalog",
                "nothing was written: run the same command again once the server answers",
            ) from exc
        if not recs.ids:
            raise ConfigError(
                f"index.data_dir: the index at {data_dir} holds no videos; run `vspec index` (or `vspec demo`) first"
            )
        assert recs.embeddings is not None
        # a stable order, whatever order the store returns
        order = sorted(range(len(recs.ids)), key=lambda i: recs.ids[i])
        items = [_item_from_meta(recs.ids[i], recs.metadatas[i], recs.documents[i]) for i in order]
        emb = np.asarray(recs.embeddings, dtype=np.float32)[order]
        # image encoders' embeddings share a large common direction (mean pairwise cosine 0.92 on
        # the demo index); centred, the feed's moves toward likes and away from skips follow content
        return cls(items, emb - emb.mean(axis=0), store=store, data_dir=data_dir)


def _item_from_meta(video_id: str, meta: dict[str, Any], document: str | None) -> VideoItem:
    tags: list[Value] = []
    # text tags (a real sentence encoder) when the index has them; else the image tags
    for name in str(meta.get("text_top_values") or meta.get("top_values", "")).split(","):
        if name.strip():
            tags.append(parse_value(name))
    duration = meta.get("duration_s")
    return VideoItem(
        video_id=video_id,
        values=tuple(tags),
        platform=str(meta.get("platform", "other")),
        caption=str(document or meta.get("title", "")),
        title=str(meta.get("title", "")),
        duration_s=float(duration) if isinstance(duration, int | float) and duration > 0 else None,
        n_frames=int(meta.get("n_frames_stored") or 0),
    )
