"""The trace of an adaptive run: every model call and every derived step, one JSON line each.

The loop is deterministic given its answers, so a killed run resumes by running again and
serving each recorded call from the trace (no model calls) until the trace ends; from there it
calls models and appends. Each event emitted on resume must equal the one recorded at the same
position, so a trace written under other settings is refused instead of mixed. A torn last line
(a kill mid-write) is cut off; the finished trace equals the one a clean run writes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from valuespectrum.backends.base import Backend, Wrapper
from valuespectrum.errors import ConfigError
from valuespectrum.types import ModelRequest, ModelResponse, stable_hash


def _canon(obj: Any) -> Any:
    return json.loads(json.dumps(obj, ensure_ascii=False, default=str))


@dataclass
class Trace:
    path: Path
    header: dict[str, Any]
    recorded: list[dict[str, Any]] = field(default_factory=list)
    position: int = 0
    calls_made: int = 0
    calls_replayed: int = 0
    by_role: dict[str, int] = field(default_factory=dict)
    """Answers served per role (made or replayed)."""

    def __post_init__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        head = _canon({"type": "header", **self.header})
        if not self.path.exists() or self.path.stat().st_size == 0:
            self.path.write_text(json.dumps(head, ensure_ascii=False) + "\n", encoding="utf-8")
            return
        raw = self.path.read_bytes()
        complete = raw[: raw.rfind(b"\n") + 1]
        if len(complete) != len(raw):
            with open(self.path, "r+b") as fh:  # drop the torn last line
                fh.truncate(len(complete))
        lines = complete.decode("utf-8").splitlines()
        try:
            events = [json.loads(line) for line in lines]
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{self.path}: a line inside the trace is not JSON ({exc.msg}); start over with --fresh"
            ) from exc
        if not events or events[0] != head:
            raise ConfigError(
                f"{self.path}: the trace was written under other settings (its header differs); "
                "use --fresh or another --out"
            )
        self.recorded = events[1:]

    @property
    def replaying(self) -> bool:
        return self.position < len(self.recorded)

    def emit(self, event: dict[str, Any]) -> dict[str, Any]:
        """Record a derived step, or check it against the recorded one while replaying."""
        event = _canon({"n": self.position, **event})
        if self.replaying:
            old = self.recorded[self.position]
            if old != event:
                raise ConfigError(
                    f"{self.path}: event {self.position} differs from the recorded one "
                    f"({old.get('type')} vs {event.get('type')}); the run's inputs changed: use --fresh"
                )
        else:
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(event, ensure_ascii=False) + "\n")
        self.position += 1
        return event

    def call(self, role: str, backend: Backend, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        """Answers for ``requests``: recorded ones from the trace, the rest from ``backend``."""
        keys = [stable_hash([role, r.key(backend.model_id, backend.revision)]) for r in requests]
        self.by_role[role] = self.by_role.get(role, 0) + len(requests)
        out: list[ModelResponse | None] = [None] * len(requests)
        i = 0
        while i < len(requests) and self.replaying:
            old = self.recorded[self.position]
            if old.get("type") != "call" or old.get("key") != keys[i]:
                raise ConfigError(
                    f"{self.path}: event {self.position} is not the recorded call "
                    f"(role {role}, request {requests[i].request_id}); the run's inputs changed: use --fresh"
                )
            out[i] = ModelResponse.model_validate(old["response"])
            self.position += 1
            self.calls_replayed += 1
            i += 1
        if i < len(requests):
            fresh = backend.generate(list(requests[i:]))
            self.calls_made += len(fresh)
            for j, resp in enumerate(fresh, start=i):
                kept = resp.model_dump(include={"request_id", "text", "option_logprobs", "model_id", "error"})
                self.emit(
                    {
                        "type": "call",
                        "role": role,
                        "model": backend.model_id,
                        "key": keys[j],
                        "request_id": requests[j].request_id,
                        "response": kept,
                    }
                )
                out[j] = ModelResponse.model_validate(kept)
        return [r for r in out if r is not None]


class Traced(Wrapper):
    """A backend whose calls go through a trace (recorded, or replayed on resume)."""

    def __init__(self, inner: Backend, trace: Trace, role: str) -> None:
        self.inner = inner
        self.trace = trace
        self.role = role

    def generate(self, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        return self.trace.call(self.role, self.inner, requests)

    def close(self) -> None:
        """The loop does not own the backends it traces; their owner closes them."""
