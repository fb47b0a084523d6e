"""Messages in the chat-completions format: text as plain strings, images and video frames as
base64 data URLs, each verified against its recorded digest and sniffed by its bytes."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from valuespectrum.errors import MediaChangedError
from valuespectrum.types import ImagePart, MediaRef, Message, TextPart, VideoPart

# Magic bytes of the image formats that chat APIs accept; sniffing the bytes (not the file
# name) catches a renamed or truncated file before it reaches the server.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
)


class MediaEncodingError(ValueError):
    """A media file cannot be sent: missing, changed, or not an image format."""


def sniff_image_mime(data: bytes) -> str | None:
    """MIME type from an image's leading bytes, or None if it is not a known format."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_data_url(ref: MediaRef, root: str | Path | None = None) -> str:
    """Read, verify and encode one image as ``data:<mime>;base64,<bytes>``."""
    path = ref.resolve(root)
    try:
        ref.verify(root)
        data = path.read_bytes()
    except MediaChangedError as exc:
        raise MediaEncodingError(str(exc)) from exc
    except OSError as exc:
        raise MediaEncodingError(f"{path}: cannot read image ({exc.strerror or exc})") from exc
    mime = sniff_image_mime(data)
    if mime is None:
        raise MediaEncodingError(
            f"{path}: not a PNG, JPEG, GIF, WEBP or BMP image (unrecognised or truncated bytes); "
            "re-export the frame as PNG or JPEG"
        )
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def encode_messages(messages: Sequence[Message], root: str | Path | None = None) -> list[dict[str, Any]]:
    """Messages in the chat-completions format. Text-only messages use a plain string
    (accepted by every server); messages with media use a list of typed parts."""
    out: list[dict[str, Any]] = []
    for msg in messages:
        if all(isinstance(p, TextPart) for p in msg.content):
            out.append({"role": msg.role, "content": msg.plain_text()})
            continue
        parts: list[dict[str, Any]] = []
        for part in msg.content:
            if isinstance(part, TextPart):
                parts.append({"type": "text", "text": part.text})
            elif isinstance(part, ImagePart):
                parts.append({"type": "image_url", "image_url": {"url": image_data_url(part.image, root)}})
            elif isinstance(part, VideoPart):
                # Chat APIs take no video type; frames go in order as images.
                for frame in part.frames:
                    parts.append({"type": "image_url", "image_url": {"url": image_data_url(frame, root)}})
        out.append({"role": msg.role, "content": parts})
    return out
