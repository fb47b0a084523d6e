"""Frame sampling with sanity checks: decord first, OpenCV as the fallback.

Decoders disagree on some containers (a header that promises more frames than the stream
holds, a truncated file that opens but decodes nothing). Each decoded result is checked
(frame count, duration, all-blank frames); a failed check falls back to the next decoder,
and when none passes the video is reported as unreadable instead of indexing garbage.

Decodable share: what the container declares (frame count, duration) is read separately
from what decodes. decord seeks, so its result counts only when the last declared frame
decodes too; otherwise OpenCV reads the file sequentially and counts the frames that really
decode. ``decoded / declared`` below ``partial_share`` marks the video partial (indexed from
what decodes, both numbers kept); below ``min_share`` it is skipped.

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


#: Defaults of IndexConfig.partial_share / min_decodable_share (see the module docstring).
PARTIAL_SHARE = 0.9
MIN_SHARE = 0.1


class DecodeError(Exception):
    """No decoder produced frames that pass the sanity checks; the message says why."""


@dataclass(frozen=True)
class Declared:
    """What the container header says, before anything is decoded (None when it does not say)."""

    frames: int | None
    fps: float | None

    @property
    def duration_s(self) -> float | None:
        return self.frames / self.fps if self.frames and self.fps else None


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
    declared_frames: int | None = None
    """Frame count the container declares (None when it declares none)."""
    decode_errors: int = 0
    """Decoder failures met on the way (a decoder that raised, a read that stopped early)."""
    partial: bool = False
    """Fewer frames decode than the container declares (below the partial share)."""

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps if self.fps > 0 else 0.0

    @property
    def declared_duration_s(self) -> float | None:
        return self.declared_frames / self.fps if self.declared_frames and self.fps > 0 else None

    @property
    def decoded_share(self) -> float:
        """Decoded frames over declared ones (1.0 when the container declares no count)."""
        if not self.declared_frames:
            return 1.0
        return min(1.0, self.n_frames / self.declared_frames)

    def shortfall(self) -> str:
        """'31 of 96 declared frames decode (3.9 s of 12.0 s)'."""
        text = f"{self.n_frames} of {self.declared_frames} declared frames decode"
        if self.declared_duration_s is not None:
            text += f" ({self.duration_s:.1f} s of {self.declared_duration_s:.1f} s)"
        return text

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


def sample_frames(
    path: Path,
    n: int,
    method: Literal["uniform", "keyframe"] = "uniform",
    *,
    partial_share: float = PARTIAL_SHARE,
    min_share: float = MIN_SHARE,
) -> DecodedVideo:
    """Decode ``n`` frames of ``path``; raise DecodeError with every decoder's reason on failure.

    A video that decodes only in part is returned with ``partial`` set (share below
    ``partial_share``) or refused (share below ``min_share``); see the module docstring.
    """
    if path.stat().st_size == 0:
        raise DecodeError("empty file (0 bytes)")
    declared = read_declared(path)
    reasons: list[str] = []
    for name, fn in (("decord", _decord_sample), ("opencv", _opencv_sample)):
        try:
            out = fn(path, n, method)
            _check(out, n)
        except DecodeError as exc:
            reasons.append(f"{name}: {exc}")
            continue
        except Exception as exc:  # decoders raise assorted types on bad data
            reasons.append(
                f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
            )
            continue
        if reasons:
            out.notes.append("fell back to " + name + " (" + "; ".join(reasons) + ")")
        return _assess(out, declared, len(reasons), partial_share, min_share)
    raise DecodeError("not a readable video (" + "; ".join(reasons) + ")")


def read_declared(path: Path) -> Declared:
    """Frame count and rate from the container header (OpenCV's properties; no decoding)."""
    try:
        import cv2

        cap = cv2.VideoCapture(str(path))
        try:
            if not cap.isOpened():
                return Declared(None, None)
            frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        finally:
            cap.release()
    except Exception:  # a header that OpenCV cannot parse declares nothing
        return Declared(None, None)
    return Declared(frames if frames > 0 else None, fps if fps > 0 and np.isfinite(fps) else None)


def _assess(
    d: DecodedVideo, declared: Declared, failed_decoders: int, partial_share: float, min_share: float
) -> DecodedVideo:
    """Compare decoded with declared frames: mark the video partial, or refuse it (DecodeError)."""
    d.declared_frames = declared.frames
    d.decode_errors += failed_decoders
    share = d.decoded_share
    if share < min_share:
        raise DecodeError(
            f"only {d.shortfall()}, under the minimum decodable share {min_share:g} "
            f"(decoder errors {d.decode_errors}); the file looks truncated: download it again"
        )
    if share < partial_share:
        d.partial = True
    return d


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
    # decord seeks to the sampled frames only: a stream cut short behind them would pass unseen
    try:
        vr[total - 1].asnumpy()
    except Exception as exc:
        raise DecodeError(f"the last declared frame ({total - 1}) does not decode") from exc
    return DecodedVideo(frames, idx, total, fps, "decord")


def _opencv_sample(path: Path, n: int, method: str) -> DecodedVideo:
    """Read sequentially: slower than seeking, but counts the frames that really decode."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise DecodeError("cannot open")
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        declared = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        frames_bgr: list[np.ndarray] = []
        while True:
            ok, f = cap.read()
            if not ok:
                break
            frames_bgr.append(f)
    finally:
        cap.release()
    total = len(frames_bgr)
    # a read that stops before the declared end is a decoder error, not the end of the stream
    stopped_early = int(declared > 0 and total < declared)
    if total == 0:
        raise DecodeError("no decodable frames")
    if method == "keyframe":
        positions = _strided(total, 8 * n)
        small = [cv2.resize(frames_bgr[p], (64, 64), interpolation=cv2.INTER_AREA) for p in positions]
        idx = keyframe_indices(small, positions, total, n)
    else:
        idx = uniform_indices(total, n)
    frames = [cv2.cvtColor(frames_bgr[i], cv2.COLOR_BGR2RGB) for i in idx]
    return DecodedVideo(frames, idx, total, fps if fps > 0 else 25.0, "opencv", decode_errors=stopped_early)


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
