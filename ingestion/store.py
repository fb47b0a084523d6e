"""Vector store: a small protocol and its Chroma implementation (embedded or HTTP server).

Embeddings always come from our encoder (``embedding_function=None``); each collection's
metadata records the encoder id, its dimension and the schema version, and opening it with a
different encoder is refused. Calls to a Chroma server are retried with backoff on connection
errors and 5xx answers (``store_retry``); an embedded database is called once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ingestion.config import SCHEMA_VERSION
from ingestion.store_retry import (
    RetryPolicy,
    StoreUnavailableError,
    call_with_retries,
    harden_http_client,
)
from valuespectrum.errors import ConfigError, require

KINDS: tuple[str, ...] = ("frames", "videos", "captions")


class EncoderMismatchError(ConfigError):
    """The collection was built with a different encoder or schema."""


@dataclass
class Hit:
    id: str
    score: float
    """Cosine similarity (1 - cosine distance)."""
    metadata: dict[str, Any]
    document: str | None = None


@dataclass
class Records:
    ids: list[str]
    metadatas: list[dict[str, Any]]
    embeddings: np.ndarray | None
    documents: list[str | None]


class VectorStore(Protocol):
    encoder_id: str
    dim: int

    def upsert(
        self,
        kind: str,
        ids: Sequence[str],
        embeddings: np.ndarray,
        metadatas: Sequence[dict[str, Any]],
        documents: Sequence[str] | None = None,
    ) -> None: ...

    def query(
        self, kind: str, embedding: np.ndarray, n: int, where: dict[str, Any] | None = None
    ) -> list[Hit]: ...

    def get(
        self,
        kind: str,
        ids: Sequence[str] | None = None,
        where: dict[str, Any] | None = None,
        include_embeddings: bool = False,
    ) -> Records: ...

    def count(self, kind: str) -> int: ...

    def delete(
        self, kind: str, ids: Sequence[str] | None = None, where: dict[str, Any] | None = None
    ) -> None: ...


def _batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


class ChromaStore:
    """Chroma collections ``<prefix>_frames|videos|captions`` in cosine space."""

    def __init__(
        self,
        encoder_id: str,
        dim: int,
        *,
        path: Path | None = None,
        host: str | None = None,
        port: int = 8000,
        prefix: str = "vspec",
        create: bool = True,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.retry = (retry or RetryPolicy()) if host else RetryPolicy(retries=0)
        self.client, self.location = _client(path, host, port, self.retry)
        self.encoder_id = encoder_id
        self.dim = dim
        self.prefix = prefix
        self.max_batch = int(self._call(self.client.get_max_batch_size, "a batch-size query"))
        self._cols: dict[str, Any] = {}
        for kind in KINDS:
            self._cols[kind] = self._call(lambda k=kind: self._open(f"{prefix}_{k}", create), "open")

    def _call(self, fn: Any, what: str) -> Any:
        return call_with_retries(fn, self.retry, self.location, what)

    def _open(self, name: str, create: bool) -> Any:
        wanted = {"encoder_id": self.encoder_id, "dim": self.dim, "schema_version": SCHEMA_VERSION}
        existing = {c.name if hasattr(c, "name") else str(c) for c in self.client.list_collections()}
        if name in existing:
            col = self.client.get_collection(name, embedding_function=None)
            meta = dict(col.metadata or {})
            found = {k: meta.get(k) for k in wanted}
            if found != wanted:
                raise EncoderMismatchError(
                    f"collection '{name}' at {self.location} was built with encoder "
                    f"{found['encoder_id']} (dim {found['dim']}, schema {found['schema_version']}), "
                    f"but this run uses {self.encoder_id} (dim {self.dim}, schema {SCHEMA_VERSION}); "
                    f"use the same encoder, or a new --collection prefix or --data-dir"
                )
            return col
        if not create:
            raise ConfigError(
                f"collection '{name}' does not exist at {self.location}; run `vspec index` first "
                f"or pass the --collection prefix and --data-dir used when indexing"
            )
        return self.client.create_collection(
            name, embedding_function=None, metadata=wanted, configuration={"hnsw": {"space": "cosine"}}
        )

    @staticmethod
    def read_encoder_id(
        *,
        path: Path | None = None,
        host: str | None = None,
        port: int = 8000,
        prefix: str = "vspec",
        retry: RetryPolicy | None = None,
    ) -> tuple[str, int]:
        """The encoder id and dim recorded in an existing index (to rebuild the same encoder for queries)."""
        from ingestion.store_retry import is_transient

        if not host and (path is None or not path.exists()):
            raise ConfigError(f"data_dir: no index at {path}; run `vspec index` first")
        policy = (retry or RetryPolicy()) if host else RetryPolicy(retries=0)
        client, location = _client(path, host, port, policy)
        name = f"{prefix}_frames"

        def read() -> dict[str, Any]:
            try:
                return dict(client.get_collection(name, embedding_function=None).metadata or {})
            except Exception as exc:
                if is_transient(exc):
                    raise
                raise ConfigError(
                    f"collection '{name}' not found ({exc}); run `vspec index` first or pass the right --collection"
                ) from exc

        meta = call_with_retries(read, policy, location, "a read of the index settings")
        return str(meta.get("encoder_id")), int(meta.get("dim") or 0)

    def upsert(
        self,
        kind: str,
        ids: Sequence[str],
        embeddings: np.ndarray,
        metadatas: Sequence[dict[str, Any]],
        documents: Sequence[str] | None = None,
    ) -> None:
        if len(ids) == 0:
            return
        if embeddings.shape != (len(ids), self.dim):
            raise ValueError(f"embeddings shape {embeddings.shape} does not match {len(ids)} x {self.dim}")
        col = self._cols[kind]
        for sl in _batches(len(ids), self.max_batch):
            self._call(
                lambda sl=sl: col.upsert(
                    ids=list(ids[sl]),
                    embeddings=embeddings[sl].astype(np.float32),
                    metadatas=list(metadatas[sl]),
                    documents=list(documents[sl]) if documents is not None else None,
                ),
                f"a write to {col.name}",
            )

    def query(
        self, kind: str, embedding: np.ndarray, n: int, where: dict[str, Any] | None = None
    ) -> list[Hit]:
        col = self._cols[kind]
        q = [np.asarray(embedding, dtype=np.float32)]
        res = self._call(lambda: col.query(query_embeddings=q, n_results=n, where=where), "a query")
        ids = res["ids"][0]
        dists = res["distances"][0] if res.get("distances") else [1.0] * len(ids)
        metas = res["metadatas"][0] if res.get("metadatas") else [{}] * len(ids)
        docs = res["documents"][0] if res.get("documents") else [None] * len(ids)
        return [
            Hit(i, 1.0 - float(d), dict(m or {}), doc)
            for i, d, m, doc in zip(ids, dists, metas, docs, strict=True)
        ]

    def get(
        self,
        kind: str,
        ids: Sequence[str] | None = None,
        where: dict[str, Any] | None = None,
        include_embeddings: bool = False,
    ) -> Records:
        col = self._cols[kind]
        include = ["metadatas", "documents"] + (["embeddings"] if include_embeddings else [])
        wanted = list(ids) if ids is not None else None
        res = self._call(lambda: col.get(ids=wanted, where=where, include=include), f"a read of {col.name}")
        emb = None
        if include_embeddings:
            raw = res.get("embeddings")
            emb = (
                np.asarray(raw, dtype=np.float32) if raw is not None and len(raw) else np.zeros((0, self.dim))
            )
        return Records(
            list(res["ids"]), [dict(m or {}) for m in res["metadatas"]], emb, list(res["documents"] or [])
        )

    def count(self, kind: str) -> int:
        return int(self._call(self._cols[kind].count, "a count"))

    def delete(
        self, kind: str, ids: Sequence[str] | None = None, where: dict[str, Any] | None = None
    ) -> None:
        if ids is None and where is None:
            raise ValueError("delete needs ids or a where clause")
        wanted = list(ids) if ids is not None else None
        col = self._cols[kind]
        self._call(lambda: col.delete(ids=wanted, where=where), f"a delete in {col.name}")


def _client(path: Path | None, host: str | None, port: int, policy: RetryPolicy) -> tuple[Any, str]:
    """A chromadb client (HTTP when ``host`` is set, else embedded under ``path``) and its location."""
    chromadb: Any = require("chromadb", extra="video", feature="the vector store")
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if host:
        location = f"http://{host}:{port}"

        def connect() -> Any:
            try:
                return chromadb.HttpClient(host=host, port=port, settings=settings)
            except ValueError as exc:  # chromadb's word for a refused connection
                if "connect" in str(exc).lower():
                    raise ConnectionError(str(exc)) from exc
                raise

        try:
            client = call_with_retries(connect, policy, location, "a connection request")
        except StoreUnavailableError as exc:
            raise StoreUnavailableError(
                f"{exc}; start one with `chroma run --path DIR --host {host} --port {port}` "
                f"or leave chroma_host unset for the embedded database",
                location=location,
                cause=exc.cause,
            ) from exc
        harden_http_client(client)
        return client, location
    if path is None:
        raise ConfigError("data_dir: a folder is needed for the embedded Chroma database")
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings), str(path)
