"""Feed simulators: which video the agent sees next, given what it engaged with so far.

:class:`FeedSimulator` is the protocol a session drives; :class:`EmbeddingFeed` is the
built-in, deterministic recommender over a :class:`~agents.catalog.Catalog`:

- **Interest vector.** ``u`` starts at zero. After each engagement with video ``v``
  (unit embedding), with engagement weight ``w`` (see :class:`Engagement`)::

      w > 0 (liked, or watched):  u <- normalise(u + lr_pos * w * v)
      w < 0 (skipped):            u <- normalise(u - lr_neg * |w| * v)

  a Rocchio-style update: the feed moves toward what was liked or watched long and away
  from what was skipped. Searching away from a video leaves ``u`` unchanged.
- **Choosing the next video**, in this order:
  1. results of the agent's last search, best first (mode ``search``);
  2. during the first ``warmup`` steps, or while ``u`` is still zero, a diverse sample:
     greedy farthest-point order over the catalog from a seeded random start (``diverse``);
  3. with probability ``epsilon`` (seeded RNG), a uniformly random unseen video (``explore``);
  4. otherwise the unseen video with the highest cosine similarity to ``u`` (``exploit``;
     ties go to the earlier catalog position).
- **Never twice.** A video is shown at most once, search results included; ``next()``
  returns None when every video has been shown.

Everything depends only on the seed and the sequence of calls, so replaying a recorded
trajectory (the same ``next``/``update``/``add_search_results`` calls) restores the exact
state, RNG included: that is how a killed session resumes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from agents.catalog import Catalog

EngagementKind = Literal["watch", "like", "skip", "search", "none"]
FeedMode = Literal["search", "diverse", "explore", "exploit"]


class FeedConfig(BaseModel):
    """Settings of the built-in embedding feed (see the module doc for the rule)."""

    model_config = ConfigDict(extra="forbid")

    warmup: int = Field(default=5, ge=0)
    """Steps served from the diverse sample before the interest vector is used."""
    epsilon: float = Field(default=0.1, ge=0.0, le=1.0)
    """Share of exploration steps (a random unseen video)."""
    lr_pos: float = Field(default=0.5, ge=0.0)
    """Step toward a liked or watched video, per unit of engagement weight."""
    lr_neg: float = Field(default=0.25, ge=0.0)
    """Step away from a skipped video."""
    like_bonus: float = Field(default=0.5, ge=0.0)
    """A like weighs as a full watch plus this much."""


@dataclass(frozen=True)
class Engagement:
    """What the agent did with one video, as the feed reads it."""

    kind: EngagementKind
    dwell_fraction: float = 0.0
    """Seconds watched over the video's duration (0..1); a like counts as 1."""

    def weight(self, like_bonus: float) -> float:
        """+(1 + like_bonus) for a like, the dwell fraction for a watch, -1 for a skip, else 0."""
        if self.kind == "like":
            return 1.0 + like_bonus
        if self.kind == "watch":
            return max(0.0, min(1.0, self.dwell_fraction))
        if self.kind == "skip":
            return -1.0
        return 0.0


@dataclass(frozen=True)
class Pick:
    video_id: str
    mode: FeedMode
    score: float | None
    """Cosine similarity of the video to the interest vector (None while it is zero)."""


class FeedSimulator(Protocol):
    """What a session needs from a recommender. Implementations must be deterministic for a seed."""

    def next(self) -> Pick | None:
        """The next video to show (never one shown before), or None when none is left."""
        ...

    def update(self, video_id: str, engagement: Engagement) -> None:
        """Learn from the agent's engagement with a shown video."""
        ...

    def add_search_results(self, video_ids: Sequence[str]) -> None:
        """Serve these videos next (best first), skipping any already shown."""
        ...

    @property
    def interest(self) -> np.ndarray | None:
        """The current unit interest vector, or None while there is none."""
        ...

    def state(self) -> dict[str, Any]:
        """A small JSON-able summary for the trajectory log."""
        ...


def _cosines(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Row dot products in float32, without BLAS: on a busy machine a multithreaded BLAS
    matrix-vector product was measured 10-40x slower than this single-threaded loop."""
    return np.einsum("ij,j->i", matrix, vector.astype(matrix.dtype, copy=False))


class EmbeddingFeed:
    """The built-in recommender (see the module doc)."""

    def __init__(self, catalog: Catalog, config: FeedConfig | None = None, *, seed: int = 0) -> None:
        if len(catalog) == 0:
            raise ValueError("the feed needs a catalog with at least one video")
        self.catalog = catalog
        self.config = config or FeedConfig()
        self._rng = np.random.default_rng(seed)
        self._seen = np.zeros(len(catalog), dtype=bool)
        self._u = np.zeros(catalog.embeddings.shape[1], dtype=np.float64)
        self._queue: deque[str] = deque()
        self._diverse = self._farthest_point_order(min(self.config.warmup, len(catalog)))
        self.steps = 0
        self.n_updates = 0

    # -- the protocol -------------------------------------------------------------------

    def next(self) -> Pick | None:
        if self._seen.all():
            return None
        pos, mode = self._choose()
        self._seen[pos] = True
        self.steps += 1
        score = None
        if self._has_interest():
            score = round(float(self.catalog.embeddings[pos] @ self._u), 6)
        return Pick(self.catalog.items[pos].video_id, mode, score)

    def update(self, video_id: str, engagement: Engagement) -> None:
        w = engagement.weight(self.config.like_bonus)
        if w == 0.0:
            return
        v = self.catalog.vector(video_id).astype(np.float64)
        step = self.config.lr_pos * w if w > 0 else -self.config.lr_neg * abs(w)
        u = self._u + step * v
        n = float(np.linalg.norm(u))
        self._u = u / n if n > 1e-12 else np.zeros_like(u)
        self.n_updates += 1

    def add_search_results(self, video_ids: Sequence[str]) -> None:
        self._queue.clear()  # a new search replaces the results of the previous one
        for vid in video_ids:
            try:
                pos = self.catalog.position(vid)
            except KeyError:
                continue
            if not self._seen[pos] and vid not in self._queue:
                self._queue.append(vid)

    @property
    def interest(self) -> np.ndarray | None:
        return self._u.copy() if self._has_interest() else None

    def state(self) -> dict[str, Any]:
        return {
            "n_shown": int(self._seen.sum()),
            "n_left": int((~self._seen).sum()),
            "queued": len(self._queue),
            "n_updates": self.n_updates,
        }

    # -- internals ------------------------------------------------------------------------

    def _has_interest(self) -> bool:
        return bool(np.any(self._u))

    def _choose(self) -> tuple[int, FeedMode]:
        while self._queue:
            pos = self.catalog.position(self._queue.popleft())
            if not self._seen[pos]:
                return pos, "search"
        if self.steps < self.config.warmup or not self._has_interest():
            for pos in self._diverse:
                if not self._seen[pos]:
                    return pos, "diverse"
            return self._random_unseen(), "diverse"
        if self._rng.random() < self.config.epsilon:
            return self._random_unseen(), "explore"
        scores = _cosines(self.catalog.embeddings, self._u)
        scores[self._seen] = -np.inf
        return int(np.argmax(scores)), "exploit"

    def _random_unseen(self) -> int:
        unseen = np.flatnonzero(~self._seen)
        return int(unseen[int(self._rng.integers(len(unseen)))])

    def _farthest_point_order(self, k: int) -> list[int]:
        """Greedy max-min cosine distance from a seeded random start: k mutually distant videos."""
        if k <= 0:
            return []
        emb = self.catalog.embeddings
        first = int(self._rng.integers(len(emb)))
        order = [first]
        nearest = _cosines(emb, emb[first])  # highest similarity to any chosen video so far
        for _ in range(k - 1):
            sims = nearest.copy()
            sims[order] = np.inf
            nxt = int(np.argmin(sims))
            order.append(nxt)
            nearest = np.maximum(nearest, _cosines(emb, emb[nxt]))
        return order
