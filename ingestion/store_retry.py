"""Retries for a remote Chroma server: connection errors and 5xx answers, with backoff.

Every store call is idempotent (upsert by deterministic id, delete, get, query, count), so a
call that failed on a transient fault is simply made again. When the server stays away, one
``StoreUnavailableError`` names it, the attempts and the time waited; callers add what the
run had written and how to resume.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from valuespectrum.errors import ValueSpectrumError

T = TypeVar("T")

#: Said after every store failure: store writes are idempotent and a re-run picks up where it stopped.
RESUME_HINT = "nothing written is lost: run the same command again once the server answers"


class StoreUnavailableError(ValueSpectrumError):
    """The Chroma server did not answer after the configured retries."""

    def __init__(self, message: str, *, location: str = "", cause: str = "") -> None:
        super().__init__(message)
        self.location = location
        self.cause = cause

    def during(self, what: str, hint: str = RESUME_HINT) -> StoreUnavailableError:
        """The same fault, saying what was under way and what the user can do."""
        err = StoreUnavailableError(f"{self} {what}; {hint}", location=self.location, cause=self.cause)
        err.__cause__ = self
        return err


class ServerFault(Exception):
    """A 5xx answer, raised before chromadb parses it (so it can be told from a 4xx)."""

    def __init__(self, status: int, url: str) -> None:
        super().__init__(f"HTTP {status} from {url}")
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 4
    """Attempts after the first one."""
    first_delay_s: float = 0.5
    """Wait before the first retry; doubled before each further one, up to ``max_delay_s``."""
    max_delay_s: float = 8.0

    def delays(self) -> list[float]:
        return [min(self.max_delay_s, self.first_delay_s * 2**i) for i in range(self.retries)]


def is_transient(exc: BaseException) -> bool:
    """A connection error, a timeout or a 5xx answer: worth another attempt."""
    if isinstance(exc, ServerFault | ConnectionError | TimeoutError):
        return True
    try:
        import httpx
    except ImportError:  # pragma: no cover - chromadb depends on httpx
        return False
    return isinstance(exc, httpx.TransportError)


def describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:160] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def call_with_retries(fn: Callable[[], T], policy: RetryPolicy, location: str, what: str) -> T:
    """``fn()``, made again after each transient fault while the policy allows."""
    waited = 0.0
    delays = policy.delays()
    for attempt in range(len(delays) + 1):
        try:
            return fn()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt == len(delays):
                raise StoreUnavailableError(
                    f"the Chroma server at {location} did not answer ({describe(exc)}) to {what} "
                    f"after {attempt + 1} attempts over {waited:.1f} s",
                    location=location,
                    cause=describe(exc),
                ) from exc
            time.sleep(delays[attempt])
            waited += delays[attempt]
    raise AssertionError("unreachable")  # pragma: no cover


def harden_http_client(client: Any, timeout_s: float = 60.0) -> None:
    """Give chromadb's HTTP session a timeout (it has none) and turn 5xx answers into ServerFault.

    Reaches into the client's httpx session; when that is not where this chromadb keeps it,
    connection errors are still retried and only the 5xx distinction is lost.
    """
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if not isinstance(session, httpx.Client):
        return
    session.timeout = httpx.Timeout(timeout_s, connect=min(5.0, timeout_s))

    def raise_on_5xx(response: httpx.Response) -> None:
        if response.status_code >= 500:
            raise ServerFault(response.status_code, str(response.request.url))

    session.event_hooks["response"] = [*session.event_hooks.get("response", []), raise_on_5xx]
