"""Small test videos written with PyAV, and the broken files a corpus meets in practice."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ingestion.encoders import OpenClipEncoder


def pattern_frames(seed: int, n: int = 16, size: int = 64) -> list[np.ndarray]:
    """Frames of a moving coloured pattern; each seed gives a visibly different video."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    tile = np.kron(base, np.ones((size // 8, size // 8, 1), dtype=np.uint8))
    frames = []
    for t in range(n):
        f = np.roll(tile, shift=t * 2, axis=1).copy()
        f[:, :, (seed + t) % 3] = (f[:, :, (seed + t) % 3].astype(int) // 2 + 64).astype(np.uint8)
        frames.append(f)
    return frames


def write_video(
    path: Path,
    frames: list[np.ndarray],
    fps: int = 8,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    *,
    faststart: bool = False,
    gop: int | None = None,
) -> Path:
    """Encode RGB frames to ``path`` with PyAV (H.264 by default).

    ``faststart`` puts the index (frame count, duration) before the data, as web downloads have it.
    """
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames[0].shape[:2]
    with av.open(str(path), mode="w", options={"movflags": "+faststart"} if faststart else {}) as out:
        stream: Any = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "crf": "18", **({"g": str(gop)} if gop else {})}
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def make_video(path: Path, seed: int, n: int = 16, size: int = 64) -> Path:
    return write_video(path, pattern_frames(seed, n, size))


def make_corrupt(path: Path, n_bytes: int = 4096, seed: int = 0) -> Path:
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, n_bytes, dtype=np.uint8).tobytes())
    return path


def make_truncated(path: Path, source: Path) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def make_cut_download(path: Path, seed: int, n_frames: int, keep: float) -> Path:
    """A web-style mp4 (index first) cut to its first ``keep`` share of bytes, as an interrupted
    download leaves it: the header still declares ``n_frames``, fewer decode."""
    write_video(path, pattern_frames(seed, n_frames, 64), faststart=True, gop=8)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def count_frames_pyav(path: Path) -> tuple[int, int]:
    """(declared, decodable) frames by PyAV: a third decoder, to check ours against."""
    import av

    decoded = 0
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        declared = int(stream.frames)
        try:
            for _ in c.decode(stream):
                decoded += 1
        except av.error.FFmpegError:
            pass
    return declared, decoded


def make_empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def make_text(path: Path) -> Path:
    path.write_text("this is not a video, just some text saved with a video extension\n" * 20)
    return path


def tiny_encoder_factory() -> OpenClipEncoder:
    """One tiny random-weight open_clip encoder per test process (building one takes ~1 s)."""
    global _ENCODER
    if _ENCODER is None:
        from ingestion.encoders import OpenClipEncoder, register_tiny_clip

        _ENCODER = OpenClipEncoder(register_tiny_clip(), pretrained=None, device="cpu", seed=0)
    return _ENCODER


_ENCODER: OpenClipEncoder | None = None
