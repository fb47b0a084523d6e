"""HTTP details of the OpenAI-compatible backend: the key holder that never prints, the outcome
of one POST, ``Retry-After``, the server's error message, and redaction of secrets and URL
credentials from every message."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

MAX_ERROR_CHARS = 400


class Secret:
    """Holds the API key; prints as *** so it cannot slip into reprs or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str | None) -> None:
        self._value = value or None

    def get(self) -> str | None:
        return self._value

    def __repr__(self) -> str:
        return "Secret(***)" if self._value else "Secret(unset)"

    __str__ = __repr__


@dataclass
class Outcome:
    body: dict[str, Any] | None = None
    error: str | None = None
    unreachable: bool = False
    status: int | None = None
    """The HTTP status of a refused request (4xx)."""


def public_url(url: str) -> str:
    """The base URL without credentials or query string (safe to show and to hash)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def retry_after_s(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def server_message(resp: httpx.Response) -> str:
    try:
        data = resp.json()
    except ValueError:
        return resp.text.strip()[:MAX_ERROR_CHARS]
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:MAX_ERROR_CHARS]
        if err:
            return str(err)[:MAX_ERROR_CHARS]
        if data.get("detail"):
            return str(data["detail"])[:MAX_ERROR_CHARS]
    return str(data)[:MAX_ERROR_CHARS]


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every secret (raw or URL-encoded) replaced by ***."""
    from urllib.parse import quote, unquote

    for secret in secrets:
        if not secret:
            continue
        for form in {secret, unquote(secret), quote(unquote(secret), safe="")}:
            if form and form in text:
                text = text.replace(form, "***")
    return text


def client_error(status: int, message: str, base: str, api_key_env: str, model: str) -> str:
    """The one-line message for a request the server refused (4xx), with the likely fix."""
    hint = ""
    if status in (401, 403):
        hint = f"; check the API key in the environment variable {api_key_env}"
    elif status == 404:
        hint = "; check the base URL (it usually ends in /v1)"
    elif status == 400 and "model" in message.lower():
        hint = f"; check the model name {model!r} (the part after 'openai:' in the spec)"
    return f"server at {base} rejected the request: HTTP {status}: {message}{hint}"


def listing_digest(data: Any, model: str) -> str | None:
    """A digest of the server's ``GET /models`` entry for ``model``, when it lists it."""
    from valuespectrum.types import stable_hash

    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return None
    for entry in entries:
        if isinstance(entry, dict) and entry.get("id") == model:
            # "created" is the time of the listing on some servers, not of the deployment
            kept = {k: v for k, v in entry.items() if k not in ("created", "object", "permission")}
            return stable_hash(kept)[:16]
    return None
