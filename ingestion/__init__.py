"""Video corpus ingestion: videos -> frames -> embeddings -> vector store, tagged with values.

Public entry points (imported lazily so ``import ingestion`` stays cheap):
``index_corpus(IndexConfig) -> IndexReport``, ``IndexConfig``, ``build_demo_corpus(out_dir)``,
``OpenClipEncoder``, ``register_tiny_clip()``, ``ChromaStore``, ``search_text``, ``search_image``,
``corpus_stats``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "IndexConfig": "ingestion.config",
    "load_index_config": "ingestion.config",
    "IndexReport": "ingestion.pipeline",
    "index_corpus": "ingestion.pipeline",
    "VideoRecord": "ingestion.records",
    "build_demo_corpus": "ingestion.demo",
    "Encoder": "ingestion.encoders",
    "OpenClipEncoder": "ingestion.encoders",
    "register_tiny_clip": "ingestion.encoders",
    "ChromaStore": "ingestion.store",
    "VectorStore": "ingestion.store",
    "open_index": "ingestion.query",
    "search_text": "ingestion.query",
    "search_image": "ingestion.query",
    "corpus_stats": "ingestion.query",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ingestion' has no attribute {name!r}")
