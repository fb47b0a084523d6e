"""A SQLite response cache and a backend wrapper that uses it.

Keys come from :meth:`ModelRequest.key`: model id and revision, messages with a content
digest of every image or frame, generation settings and options; never request ids or
metadata. A backend may add a ``cache_identity`` (a string, or None) for whatever else
decides its answers (the mock's script, a server's ``extra_body``, a local model's dtype):
it enters the key too. ``refresh=True`` asks the inner backend every time and overwrites
the stored answers (a manifest's ``cache: refresh``). Only deterministic requests (greedy, or seeded) are cached, and only successful
responses are stored. The database runs in WAL mode with a busy timeout and writes in
short immediate transactions, so several processes can share one cache file.
Responses are stored as JSON via the standard library (which keeps ``-inf`` log-probs).
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from valuespectrum.backends.base import Backend, Wrapper
from valuespectrum.errors import ConfigError
from valuespectrum.types import ModelRequest, ModelResponse, stable_hash

_SCHEMA_VERSION = 1
_BUSY_TIMEOUT_MS = 30_000
_DDL = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model_id TEXT NOT NULL,
    response_json TEXT NOT NULL,
    created_at REAL NOT NULL
)
"""
# Per-call fields that describe this call, not the model's answer.
_NOT_STORED = {"request_id", "cached", "latency_s"}


class ResponseCache:
    """Responses by request key in one SQLite file; safe across threads and processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise ConfigError(
                f"{self.path}: response cache path is a folder; give a file path such as cache.sqlite"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self._conn = self._open()
                break
            except sqlite3.OperationalError as exc:
                # Switching a new file to WAL can report "locked" at once, without waiting
                # for the busy timeout, when another process does the same: retry briefly.
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise ConfigError(
                        f"{self.path}: cannot open the response cache ({exc}); "
                        "check that the folder is writable and not on a network share"
                    ) from exc
                time.sleep(0.02 + 0.05 * random.random())
            except sqlite3.DatabaseError as exc:
                raise ConfigError(
                    f"{self.path}: not a usable response cache ({exc}); delete the file or choose another cache path"
                ) from exc

    def _open(self) -> sqlite3.Connection:
        # Autocommit mode: transactions are opened explicitly (BEGIN IMMEDIATE) for writes.
        conn = sqlite3.connect(
            self.path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_DDL)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                conn.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
            elif version != _SCHEMA_VERSION:
                raise ConfigError(
                    f"{self.path}: response cache schema version {version}, expected {_SCHEMA_VERSION}; "
                    "delete the file or choose another cache path"
                )
        except BaseException:
            conn.close()
            raise
        return conn

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"{self.path}: response cache used after close()")
        return self._conn

    def get(self, key: str) -> ModelResponse | None:
        """The stored response for ``key`` (request_id empty, cached=True), or None."""
        return self.get_many([key]).get(key)

    def get_many(self, keys: Iterable[str]) -> dict[str, ModelResponse]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, ModelResponse] = {}
        with self._lock:
            db = self._db()
            for i in range(0, len(wanted), 500):  # stay under SQLite's bound-variable limit
                chunk = wanted[i : i + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(f"SELECT key, response_json FROM responses WHERE key IN ({marks})", chunk)
                for key, blob in rows.fetchall():
                    data = json.loads(blob)
                    found[key] = ModelResponse.model_validate({**data, "request_id": "", "cached": True})
        return found

    def put(self, key: str, response: ModelResponse) -> None:
        self.put_many([(key, response)])

    def put_many(self, items: Iterable[tuple[str, ModelResponse]]) -> int:
        """Store successful responses in one transaction; errors are skipped. Returns rows written."""
        rows = [
            (key, resp.model_id, _to_json(resp), time.time()) for key, resp in items if resp.error is None
        ]
        if not rows:
            return 0
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT OR REPLACE INTO responses (key, model_id, response_json, created_at) VALUES (?, ?, ?, ?)",
                    rows,
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return len(rows)

    def __len__(self) -> int:
        with self._lock:
            return int(self._db().execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def cache_identity(backend: object) -> str | None:
    """The optional ``cache_identity`` of a backend (see the module docstring)."""
    value = getattr(backend, "cache_identity", None)
    return value if isinstance(value, str) else None


def _to_json(resp: ModelResponse) -> str:
    data = {k: v for k, v in resp.model_dump().items() if k not in _NOT_STORED}
    return json.dumps(data, sort_keys=True)


class CachedBackend(Wrapper):
    """Wraps a backend with a :class:`ResponseCache`; a Backend itself.

    Hits come back with ``cached=True`` and the caller's request_id; misses go to the
    inner backend in one batch, in order. ``hits`` and ``misses`` count lookups.
    """

    def __init__(self, inner: Backend, cache: ResponseCache | str | Path, *, refresh: bool = False) -> None:
        self.inner = inner
        self.refresh = refresh
        self._owns_cache = not isinstance(cache, ResponseCache)
        self.cache = cache if isinstance(cache, ResponseCache) else ResponseCache(cache)
        self.hits = 0
        self.misses = 0

    def key_for(self, request: ModelRequest) -> str | None:
        """Cache key, or None if the request must not be cached (non-deterministic, unreadable media)."""
        if not request.config.deterministic:
            return None
        try:
            key = request.key(self.inner.model_id, self.inner.revision)
        except OSError:
            # Missing media: let the inner backend report it as that request's error.
            return None
        extra = cache_identity(self.inner)
        return key if extra is None else stable_hash([key, extra])

    def generate(self, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        reqs = list(requests)
        keys = [self.key_for(r) for r in reqs]
        stored = {} if self.refresh else self.cache.get_many(k for k in keys if k is not None)
        out: list[ModelResponse | None] = [None] * len(reqs)
        todo: list[int] = []
        for i, (req, key) in enumerate(zip(reqs, keys, strict=True)):
            hit = stored.get(key) if key is not None else None
            if hit is not None:
                out[i] = hit.model_copy(update={"request_id": req.request_id, "cached": True})
                self.hits += 1
            else:
                todo.append(i)
                self.misses += 1
        if todo:
            fresh = self.inner.generate([reqs[i] for i in todo])
            if len(fresh) != len(todo):
                raise RuntimeError(
                    f"backend {self.inner.model_id!r} returned {len(fresh)} responses for {len(todo)} requests"
                )
            to_store: list[tuple[str, ModelResponse]] = []
            for i, resp in zip(todo, fresh, strict=True):
                out[i] = resp
                key = keys[i]
                if key is not None and resp.error is None:
                    to_store.append((key, resp))
            self.cache.put_many(to_store)
        return [r for r in out if r is not None]

    def close(self) -> None:
        self.inner.close()
        if self._owns_cache:
            self.cache.close()

    def __repr__(self) -> str:
        return f"CachedBackend({self.inner!r}, cache={str(self.cache.path)!r})"
