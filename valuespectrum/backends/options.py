"""The options each built-in backend accepts, as one pydantic model per backend.

The registry validates a model's options against its backend's model once, before the
backend is built (and before a run writes anything), so a typo or a wrong type is a
one-line error naming the option instead of a traceback from a constructor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class MockOptions(_Options):
    """``mock``: a scripted deterministic backend (see :class:`MockBackend`)."""

    script: Any = None
    """A mapping from probe id (or request id) to the answer, or a callable (Python only)."""
    default: str = "4"
    """The answer to everything the script does not name."""
    logprobs: bool = False
    """Give option log-likelihoods (all mass on the option the answer names)."""
    fail_ids: list[str] = Field(default_factory=list)
    """Probe or request ids answered with a failure."""
    delay_s: float = Field(default=0.0, ge=0.0)
    images: bool = True


class HFOptions(_Options):
    """``hf``: a transformers model loaded in this process."""

    revision: str | None = None
    device: str | None = None
    dtype: str | None = None
    gguf_file: str | None = None
    trust_remote_code: bool = False
    batch_size: int | None = Field(default=None, ge=1)
    """Cap on sequences per forward pass (default: each batch the run hands over is one)."""
    max_image_side: int | None = Field(default=None, ge=8)
    media_root: str | Path | None = None
    gguf_cache: bool = True
    """Convert a .gguf file once into a cached standard folder and load that."""
    device_map: str | None = None
    """``auto`` (accelerate) spreads a model larger than one device over several."""


def openai_options() -> type[BaseModel]:
    """``openai``: the server backend's own options model, plus ``base_url``."""
    from valuespectrum.backends.openai_compat import OpenAIOptions

    class OpenAIManifestOptions(OpenAIOptions):
        base_url: str | None = None

    return OpenAIManifestOptions
