"""Frame sampling with sanity checks: decord first, OpenCV as the fallback.

Decoders disagree on some containers (a header that promises more frames than the stream
holds, a truncated file that opens but decodes nothing). Each decoded result is checked
(frame count, duration, all-blank frames); a failed check falls back to the next decoder,
and when none passes the video is reported as unreadable instead of indexing garbage.

Keyframe sampling: a cheap low-resolution pass over up to 8*N evenly strided frames scores
each frame by the change of its grey-level histogram from the previous one; the N highest
scores (scene changes; the first frame counts as one) are kept, in time order. Frames
with no change left to pick are filled uniformly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

#: A frame whose pixel standard deviation is below this is considered blank (uniform colour).
BLANK_STD = 2.0


class DecodeError(Exception):
    """No decoder produced frames that pass the sanity checks; the message says why."""


@dataclass
class DecodedVideo:
    frames: list[np.ndarray]
    """RGB uint8 arrays (H, W, 3)."""
    indices: list[int]
    """Source frame index of each sampled frame."""
    n_frames: int
    fps: float
    decoder: str
    notes: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps if self.fps > 0 else 0.0

    def timestamps(self) -> list[float]:
        return [i / self.fps if self.fps > 0 else 0.0 for i in self.indices]


def uniform_indices(n_frames: int, n: int) -> list[int]:
    """Centres of ``n`` equal segments of ``n_frames`` (distinct when n <= n_frames)."""
    n = min(n, n_frames)
    return [min(n_frames - 1, int((i + 0.5) * n_frames / n)) for i in range(n)]


def keyframe_indices(low_res: list[np.ndarray], positions: list[int], n_frames: int, n: int) -> list[int]:
    """Pick the ``n`` positions with the largest histogram change (see module docstring)."""
    if not low_res:
        return uniform_indices(n_frames, n)
    hists = []
    for f in low_res:
        grey = f.mean(axis=2) if f.ndim == 3 else f
        h, _ = np.histogram(grey, bins=32, range=(0, 256))
        hists.append(h / max(1, h.sum()))
    change = [1.0] + [float(np.abs(hists[i] - hists[i - 1]).sum()) for i in range(1, len(hists))]
    order = sorted(range(len(change)), key=lambda i: (-change[i], i))
    chosen = {positions[i] for i in order[:n] if change[i] > 0.05}
    for idx in uniform_indices(n_frames, n):  # fill when there are fewer scene changes than n
        if len(chosen) >= min(n, n_frames):
            break
        chosen.add(idx)
    return sorted(chosen)[:n]


def sample_frames(path: Path, n: int, method: Literal["uniform", "keyframe"] = "uniform") -> DecodedVideo:
    """Decode ``n`` frames of ``path``; raise DecodeError with every decoder's reason on failure."""
    if path.stat().st_size == 0:
        raise DecodeError("empty file (0 bytes)")
    reasons: list[str] = []
    for name, fn in (("decord", _decord_sample), ("opencv", _opencv_sample)):
        try:
            out = fn(path, n, method)
            _check(out, n)
            if reasons:
                out.notes.append("fell back to " + name + " (" + "; ".join(reasons) + ")")
            return out
        except DecodeError as exc:
            reasons.append(f"{name}: {exc}")
        except Exception as exc:  # decoders raise assorted types on bad data
            reasons.append(
                f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
            )
    raise DecodeError("not a readable video (" + "; ".join(reasons) + ")")


def _check(d: DecodedVideo, n: int) -> None:
    if d.n_frames <= 0:
        raise DecodeError("no frames")
    if len(d.frames) != min(n, d.n_frames):
        raise DecodeError(f"decoded {len(d.frames)} of {min(n, d.n_frames)} requested frames")
    if d.fps <= 0 or not np.isfinite(d.fps):
        raise DecodeError(f"implausible frame rate {d.fps}")
    shapes = {f.shape for f in d.frames}
    if len(shapes) != 1 or any(len(s) != 3 or s[2] != 3 or s[0] < 2 or s[1] < 2 for s in shapes):
        raise DecodeError(f"inconsistent frame shapes {sorted(shapes)}")
    if all(float(f.std()) < BLANK_STD for f in d.frames):
        raise DecodeError("every sampled frame is blank (uniform colour)")


def _decord_sample(path: Path, n: int, method: str) -> DecodedVideo:
    import decord

    vr = decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=1)
    total = len(vr)
    fps = float(vr.get_avg_fps())
    if total <= 0:
        raise DecodeError("no frames")
    if method == "keyframe":
        positions = _strided(total, 8 * n)
        low = decord.VideoReader(str(path), ctx=decord.cpu(0), width=64, height=64, num_threads=1)
        small = list(low.get_batch(positions).asnumpy())
        idx = keyframe_indices(small, positions, total, n)
    else:
        idx = uniform_indices(total, n)
    frames = list(vr.get_batch(idx).asnumpy())
    return DecodedVideo(frames, idx, total, fps, "decord")


def _opencv_sample(path: Path, n: int, method: str) -> DecodedVideo:
    """Read sequentially: slower than seeking, but counts the frames that really decode."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise DecodeError("cannot open")
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        frames_bgr: list[np.ndarray] = []
        while True:
            ok, f = cap.read()
            if not ok:
                break
            frames_bgr.append(f)
    finally:
        cap.release()
    total = len(frames_bgr)
    if total == 0:
        raise DecodeError("no decodable frames")
    if method == "keyframe":
        positions = _strided(total, 8 * n)
        small = [cv2.resize(frames_bgr[p], (64, 64), interpolation=cv2.INTER_AREA) for p in positions]
        idx = keyframe_indices(small, positions, total, n)
    else:
        idx = uniform_indices(total, n)
    frames = [cv2.cvtColor(frames_bgr[i], cv2.COLOR_BGR2RGB) for i in idx]
    return DecodedVideo(frames, idx, total, fps if fps > 0 else 25.0, "opencv")


def _strided(total: int, k: int) -> list[int]:
    step = max(1, total // max(1, k))
    return list(range(0, total, step))


def save_thumbnails(frames: list[np.ndarray], folder: Path, max_side: int) -> list[Path]:
    """Write frames as ``<folder>/<i>.jpg`` (longest side <= max_side); returns the paths."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    for i, f in enumerate(frames):
        img = Image.fromarray(f)
        img.thumbnail((max_side, max_side))
        p = folder / f"{i}.jpg"
        tmp = p.with_suffix(".tmp")
        img.save(tmp, format="JPEG", quality=90)
        tmp.replace(p)  # atomic: a killed run never leaves a half-written thumbnail
        out.append(p)
    return out
