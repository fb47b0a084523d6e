"""Model specs as users write them: ``hf:Qwen/Qwen2-VL-2B-Instruct``, ``hf:./models/my-vlm``,
``openai:my-model@http://127.0.0.1:8000/v1``, ``mock``; plus options from a manifest."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

# ``scheme://user:password@`` or ``scheme://token@`` inside any text
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")


def redact_url_credentials(text: str) -> str:
    """``text`` with credentials written into URLs replaced by ``***`` (specs, options,
    messages): ``http://user:pw@host/v1`` becomes ``http://***@host/v1``."""
    return _URL_CREDENTIALS.sub(r"\1***@", text)


class BackendSpec(BaseModel):
    """A parsed model spec. ``options`` carries backend-specific settings from a manifest."""

    kind: str
    """Registered backend name: "hf", "openai", "mock", or a plugin's name."""
    model: str = ""
    """Hub id, local folder or GGUF file (hf); served model name (openai)."""
    base_url: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    base_dir: str | None = None
    """Folder that relative file paths in ``options`` resolve against (the manifest's folder);
    None: where you run. Backends with file options (e.g. ``steered``'s vector) read it."""

    @classmethod
    def parse(cls, spec: str, **options: Any) -> BackendSpec:
        """Parse ``kind:model[@base_url]``; a bare ``mock`` is allowed."""
        text = spec.strip()
        if not text:
            raise ValueError("empty model spec; expected e.g. 'hf:Qwen/Qwen2-VL-2B-Instruct'")
        kind, sep, rest = text.partition(":")
        if not sep:
            return cls(kind=kind, model="", options=options)
        model, at, url = rest.partition("@")
        if at and not url.startswith(("http://", "https://")):
            raise ValueError(f"model spec {spec!r}: the part after '@' must be an http(s) URL")
        return cls(kind=kind, model=model, base_url=url or None, options=options)

    def label(self) -> str:
        """Human-readable, secret-free name for tables and folder names."""
        return redact_url_credentials(f"{self.kind}:{self.model}" if self.model else self.kind)
