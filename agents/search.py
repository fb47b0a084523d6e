"""Answering the agent's searches: a text query in, the ids of the best-matching videos out.

:class:`StoreSearcher` embeds the query with the encoder the index was built with and asks
the vector store (frames and captions, best match per video); the encoder is built on the
first search only. :class:`KeywordSearcher` ranks captions by shared words, for catalogs with
no encoder behind them (tests, precomputed embeddings).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Protocol

from agents.catalog import Catalog

if TYPE_CHECKING:
    from ingestion.config import IndexConfig


class Searcher(Protocol):
    def search(self, query: str, k: int) -> list[str]:
        """Ids of up to ``k`` videos matching ``query``, best first (deterministic)."""
        ...


class StoreSearcher:
    """Text search over an index through its own encoder."""

    def __init__(self, config: IndexConfig, store: Any) -> None:
        self.config = config
        self.store = store
        self._encoder: Any = None

    def search(self, query: str, k: int) -> list[str]:
        from ingestion.query import encoder_for_index, search_text

        if self._encoder is None:
            self._encoder = encoder_for_index(self.config)
        return [h.video_id for h in search_text(self._encoder, self.store, query, k)]


_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


class KeywordSearcher:
    """Rank videos by the number of query words their caption or title shares (ties: catalog order)."""

    def __init__(self, catalog: Catalog) -> None:
        self._docs = [(it.video_id, _words(f"{it.caption} {it.title}")) for it in catalog.items]

    def search(self, query: str, k: int) -> list[str]:
        q = _words(query)
        scored = [(len(q & words), i, vid) for i, (vid, words) in enumerate(self._docs)]
        hits = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))
        return [vid for _, _, vid in hits[:k]]
