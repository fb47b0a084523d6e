"""Typed boundary objects shared by probes, backends, runs and the agent.

Messages carry content parts (text, image, video-as-frames). A ModelRequest has a stable
key: a hash of everything that changes a model's output (model, messages with media
*content digests*, generation settings) and nothing that does not (ids, paths, timing).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

_CHUNK = 1 << 20

# -- the vocabulary types shared by probes, manifests, scoring and runs ------------------

AnswerValue = float | str
"""An answer in a probe's own terms: a scale point, or a choice's label."""

PromptStyle = Literal["plain", "simple", "isq"]
"""How yes/no items are asked (Value-Spectrum): ``plain`` (Yes/No first, then why);
``simple`` (a JSON decision with the reason and the persona trait that drove it); ``isq``
(rate visual appeal, curiosity stimulation, emotional engagement and value expectation
1-10, then decide, as JSON). JSON styles are read from the text, not option likelihoods."""

Modality = Literal["vision", "text"]
"""For items with media: shown as frames (vision) or only described in words (text)."""

Order = Literal["fwd", "rev"]
"""The answer labels as written (fwd) or reversed (rev)."""


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes, as ``sha256:<hex>``."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def bytes_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def stable_hash(obj: Any) -> str:
    """sha256 of the canonical JSON of ``obj`` (sorted keys, no whitespace)."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class MediaRef(BaseModel):
    """A file on disk referenced by path, pinned by a digest of its bytes."""

    model_config = ConfigDict(frozen=True)

    path: str
    """Path to the media file (absolute, or relative to the probe set or corpus root)."""
    digest: str | None = None
    """``sha256:<hex>`` of the file's bytes; filled by :meth:`pinned` and checked by :meth:`verify`."""

    @classmethod
    def pinned(cls, path: str | Path) -> MediaRef:
        return cls(path=str(path), digest=file_digest(path))

    def resolve(self, root: str | Path | None = None) -> Path:
        p = Path(self.path)
        return p if p.is_absolute() or root is None else Path(root) / p

    def verify(self, root: str | Path | None = None) -> None:
        """Raise MediaChangedError if the file is missing or its bytes changed."""
        from valuespectrum.errors import MediaChangedError

        p = self.resolve(root)
        if not p.is_file():
            raise MediaChangedError(f"{p}: media file is missing (referenced by a probe)")
        if self.digest is not None:
            actual = file_digest(p)
            if actual != self.digest:
                raise MediaChangedError(
                    f"{p}: media changed since the probe set was built "
                    f"(expected {self.digest[:19]}..., found {actual[:19]}...); rebuild the probe set"
                )


class TextPart(BaseModel):
    type: Literal["text"] = "text"
    text: str


class ImagePart(BaseModel):
    type: Literal["image"] = "image"
    image: MediaRef


class VideoPart(BaseModel):
    """A video given to a model as frames that ingestion already sampled."""

    type: Literal["video"] = "video"
    frames: list[MediaRef]
    fps: float | None = None
    """Sampling rate of the frames, when known (some VLMs use it for temporal encoding)."""


ContentPart = Annotated[TextPart | ImagePart | VideoPart, Field(discriminator="type")]


class Message(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: list[ContentPart]

    @classmethod
    def text(cls, role: Literal["system", "user", "assistant"], text: str) -> Message:
        return cls(role=role, content=[TextPart(text=text)])

    def plain_text(self) -> str:
        return "\n".join(p.text for p in self.content if isinstance(p, TextPart))

    def media(self) -> list[MediaRef]:
        out: list[MediaRef] = []
        for p in self.content:
            if isinstance(p, ImagePart):
                out.append(p.image)
            elif isinstance(p, VideoPart):
                out.extend(p.frames)
        return out


class GenerateConfig(BaseModel):
    """Decoding settings. Greedy (temperature 0) is deterministic and cacheable."""

    max_new_tokens: int = Field(default=64, ge=1, le=32768)
    temperature: float = Field(default=0.0, ge=0.0, le=5.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    seed: int | None = None
    generate_text: bool = True
    """For requests with ``options``: also generate a free-text answer. False asks for the
    option log-likelihoods only (much faster; ``text`` may then be empty). Part of the cache
    key, so a score-only response is never served to a request that wants text. Runs send
    False on their own where answers are read from option scores and no reason is asked for
    (see ``valuespectrum.runs.execute.needs_text``); False in a manifest means never."""
    score_options: bool = Field(default=True, exclude_if=lambda v: v is True)
    """For requests with ``options``: compute option log-likelihoods. False (a run with
    ``scoring.use_logprobs: false``) answers with text only: no scoring passes on local
    models, no logprobs asked of a server. Left out of dumps when True, so cache keys and
    manifest digests written before this field existed stay valid."""

    @property
    def deterministic(self) -> bool:
        return self.temperature == 0.0 or self.seed is not None


class ModelRequest(BaseModel):
    """One call to a model: a conversation plus, optionally, answer options to score."""

    request_id: str
    """Caller's id (e.g. probe id + persona); never part of the cache key."""
    messages: list[Message]
    config: GenerateConfig = Field(default_factory=GenerateConfig)
    options: list[str] | None = None
    """When set, the backend may return a log-likelihood for each option continuation."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Free-form context (probe id, persona id...); never part of the cache key."""

    @model_validator(mode="after")
    def _non_empty(self) -> ModelRequest:
        if not self.messages:
            raise ValueError("a ModelRequest needs at least one message")
        return self

    def key(self, model_id: str, revision: str | None = None, *, root: str | Path | None = None) -> str:
        """Stable cache key. Media enter by content digest (computed if not pinned)."""
        msgs = []
        for m in self.messages:
            parts: list[Any] = []
            for p in m.content:
                if isinstance(p, TextPart):
                    parts.append(["t", p.text])
                elif isinstance(p, ImagePart):
                    parts.append(["i", p.image.digest or file_digest(p.image.resolve(root))])
                else:
                    parts.append(["v", p.fps, [f.digest or file_digest(f.resolve(root)) for f in p.frames]])
            msgs.append([m.role, parts])
        cfg = self.config.model_dump()
        return stable_hash(
            {"model": model_id, "rev": revision, "msgs": msgs, "cfg": cfg, "opts": self.options}
        )


class ModelResponse(BaseModel):
    """A backend's answer to one request. ``error`` set means the request failed."""

    request_id: str
    text: str = ""
    option_logprobs: list[float] | None = None
    """Total log-likelihood of each option continuation, aligned with request.options."""
    option_logprobs_bounded: list[bool] | None = Field(default=None, exclude_if=lambda v: v is None)
    """Set when some option scores are upper bounds, not exact values (True at those
    options): a server listed only its top-k first tokens and the option was not among them."""
    option_scores: Literal["exact", "topk", "bounded"] | None = Field(
        default=None, exclude_if=lambda v: v is None
    )
    """How a server's option scores were read: ``exact`` (each option's own log-probability),
    ``topk`` (first-token approximation) or ``bounded`` (some are upper bounds); None from
    local models, whose scores are exact continuation log-likelihoods."""
    model_id: str = ""
    prompt: str | None = Field(default=None, exclude_if=lambda v: v is None)
    """The exact prompt text the model was fed, where the backend renders it (local models:
    the chat template's output, or the plain fallback for models without a template)."""
    cached: bool = False
    error: str | None = None
    latency_s: float | None = None
    usage: dict[str, int] = Field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None
