"""From ModelRequests to what a transformers model is fed: rendered prompt, images, videos.

Rendering rules (documented for users):

- The model's own chat template renders the conversation, with the assistant turn opened
  (``add_generation_prompt=True``). VLM processors get content lists (``{"type": "text"}``,
  ``{"type": "image"}``, ``{"type": "video"}``); text-only tokenizers get plain strings.
- A template that rejects the system role gets the system text prepended to the first user turn.
- Without a chat template (PaliGemma, base models) the *plain prompt* is: the image
  placeholders first, then the system text, a blank line, and the turns as
  ``User: ...`` / ``Assistant: ...`` lines ending with ``Assistant:``.
- Video parts are frames that ingestion already sampled; this module never samples. Models
  whose processor takes frame lists natively (Qwen2-VL, Qwen2.5-VL, Qwen3-VL) get them as
  ``videos=`` (frame resampling switched off); every other VLM gets the frames as
  consecutive images.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from valuespectrum.types import ImagePart, MediaRef, Message, ModelRequest, TextPart, VideoPart

NATIVE_VIDEO_MODEL_TYPES = frozenset({"qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe"})


class RequestInputError(Exception):
    """One request cannot be prepared (bad image, media on a text-only model...)."""


@dataclass
class PreparedRequest:
    """A request rendered to text plus its decoded media, ready for the processor."""

    prompt: str
    images: list[Any] = field(default_factory=list)
    videos: list[list[Any]] = field(default_factory=list)
    video_fps: list[float | None] = field(default_factory=list)


def load_image(ref: MediaRef, *, root: str | Path | None = None, max_side: int | None = None) -> Any:
    """Decode one image file to an RGB PIL image; raises RequestInputError naming the file."""
    from PIL import Image

    path = ref.resolve(root)
    try:
        with Image.open(path) as im:
            img = im.convert("RGB")
    except FileNotFoundError as exc:
        raise RequestInputError(f"{path}: image file not found") from exc
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise RequestInputError(f"{path}: cannot decode image: {exc}") from exc
    if max_side is not None and max(img.size) > max_side:
        img.thumbnail((max_side, max_side))
    return img


@dataclass
class Renderer:
    """Renders requests for one loaded model."""

    model_type: str
    tokenizer: Any
    processor: Any | None
    media_root: str | Path | None = None
    max_image_side: int | None = None

    @property
    def native_video(self) -> bool:
        return self.processor is not None and self.model_type in NATIVE_VIDEO_MODEL_TYPES

    @property
    def template_owner(self) -> Any | None:
        for owner in (self.processor, self.tokenizer):
            if owner is not None and getattr(owner, "chat_template", None):
                return owner
        return None

    def prepare(self, request: ModelRequest) -> PreparedRequest:
        if self.processor is None and any(m.media() for m in request.messages):
            raise RequestInputError("this model is text-only; it cannot take image or video parts")
        prep = PreparedRequest(prompt="")
        for msg in request.messages:
            for part in msg.content:
                if isinstance(part, ImagePart):
                    prep.images.append(self._image(part.image))
                elif isinstance(part, VideoPart):
                    if not part.frames:
                        raise RequestInputError("a video part has no frames")
                    frames = [self._image(f) for f in part.frames]
                    if self.native_video:
                        # frames of one video must share a size; ingestion's do, but be safe
                        size = frames[0].size
                        frames = [f if f.size == size else f.resize(size) for f in frames]
                        prep.videos.append(frames)
                        prep.video_fps.append(part.fps)
                    else:
                        prep.images.extend(frames)
        prep.prompt = self.render(request.messages)
        return prep

    def _image(self, ref: MediaRef) -> Any:
        return load_image(ref, root=self.media_root, max_side=self.max_image_side)

    def render(self, messages: list[Message]) -> str:
        owner = self.template_owner
        if owner is None:
            return self.plain_prompt(messages)
        conv = [self._hf_message(m) for m in messages]
        try:
            return self._apply(owner, conv)
        except Exception as exc:
            if not any(m.role == "system" for m in messages):
                raise RequestInputError(f"chat template failed: {exc}") from exc
        try:  # templates such as Gemma's reject a system turn: fold it into the first user turn
            return self._apply(owner, [self._hf_message(m) for m in _fold_system(messages)])
        except Exception as exc:
            raise RequestInputError(f"chat template failed: {exc}") from exc

    @staticmethod
    def _apply(owner: Any, conv: list[dict[str, Any]]) -> str:
        out = owner.apply_chat_template(conv, add_generation_prompt=True, tokenize=False)
        if isinstance(out, list):  # some processors return a batch of one
            out = out[0]
        return str(out)

    def _hf_message(self, msg: Message) -> dict[str, Any]:
        if self.processor is None:
            return {"role": msg.role, "content": msg.plain_text()}
        parts: list[dict[str, Any]] = []
        for p in msg.content:
            if isinstance(p, TextPart):
                parts.append({"type": "text", "text": p.text})
            elif isinstance(p, ImagePart):
                parts.append({"type": "image"})
            elif self.native_video:
                parts.append({"type": "video"})
            else:
                parts.extend({"type": "image"} for _ in p.frames)
        return {"role": msg.role, "content": parts}

    def plain_prompt(self, messages: list[Message]) -> str:
        """The documented prompt for models without a chat template."""
        n_images = sum(
            1 if isinstance(p, ImagePart) else len(p.frames)
            for m in messages
            for p in m.content
            if isinstance(p, ImagePart | VideoPart)
        )
        image_token = getattr(self.processor, "image_token", None) if self.processor is not None else None
        head = (image_token or "") * n_images
        system = "\n".join(m.plain_text() for m in messages if m.role == "system")
        turns = [
            f"{'User' if m.role == 'user' else 'Assistant'}: {m.plain_text()}"
            for m in messages
            if m.role != "system"
        ]
        body = "\n".join([*turns, "Assistant:"])
        return head + (f"{system}\n\n{body}" if system else body)


#: Turn markers of the plain prompt: generation stops where the model starts a new turn.
PLAIN_TURN_MARKERS = ("\nUser:", "\nAssistant:")


def cut_at_turn_markers(text: str) -> str:
    """``text`` up to the first turn marker of the plain prompt (the model writing the next turn)."""
    cut = min((i for i in (text.find(m) for m in PLAIN_TURN_MARKERS) if i >= 0), default=len(text))
    return text[:cut]


def _fold_system(messages: list[Message]) -> list[Message]:
    system = "\n".join(m.plain_text() for m in messages if m.role == "system")
    rest = [m for m in messages if m.role != "system"]
    for i, m in enumerate(rest):
        if m.role == "user":
            head, *tail = m.content
            if isinstance(head, TextPart):
                content = [TextPart(text=f"{system}\n\n{head.text}"), *tail]
            else:
                content = [TextPart(text=f"{system}\n\n"), head, *tail]
            rest[i] = Message(role="user", content=content)
            break
    return rest


def processor_kwargs(preps: list[PreparedRequest], renderer: Renderer) -> dict[str, Any]:
    """Media keyword arguments for one processor call over a batch."""
    kw: dict[str, Any] = {}
    if any(p.images for p in preps):
        kw["images"] = [p.images for p in preps]
        if renderer.model_type in NATIVE_VIDEO_MODEL_TYPES or renderer.model_type == "llava":
            kw["images"] = [im for p in preps for im in p.images]
    videos = [v for p in preps for v in p.videos]
    if videos:
        kw["videos"] = videos
        kw["do_sample_frames"] = False
        if renderer.model_type.startswith("qwen3"):
            fps = [f for p in preps for f in p.video_fps]
            kw["video_metadata"] = [
                {"fps": f or 1.0, "total_num_frames": len(v), "frames_indices": list(range(len(v)))}
                for v, f in zip(videos, fps, strict=True)
            ]
    return kw
