"""The browsing agent: a persona-driven model navigating an indexed corpus as a feed.

Public names are re-exported lazily (on first access), so mounting ``vspec browse`` costs
the CLI nothing at start-up::

    from agents import execute_browse, load_browse_manifest
    outcome = execute_browse(load_browse_manifest("manifests/browse.yaml"), base=Path("manifests"))
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "Catalog": "agents.catalog",
    "VideoItem": "agents.catalog",
    "ParsedDecision": "agents.decide",
    "build_request": "agents.decide",
    "parse_decision": "agents.decide",
    "EmbeddingFeed": "agents.feed",
    "Engagement": "agents.feed",
    "FeedConfig": "agents.feed",
    "FeedSimulator": "agents.feed",
    "Pick": "agents.feed",
    "BrowseManifest": "agents.manifest",
    "load_browse_manifest": "agents.manifest",
    "parse_browse_manifest": "agents.manifest",
    "session_metrics": "agents.metrics",
    "value_distribution": "agents.metrics",
    "KeywordSearcher": "agents.search",
    "Searcher": "agents.search",
    "StoreSearcher": "agents.search",
    "BrowseFolder": "agents.session",
    "BrowseOutcome": "agents.session",
    "Session": "agents.session",
    "execute_browse": "agents.session",
    "synthetic_catalog": "agents.synthetic",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agents' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
