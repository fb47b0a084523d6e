"""Frame decoding: sanity checks, decoder fallback, keyframe sampling, thumbnails."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from media import make_video, write_video
from PIL import Image

from ingestion import frames as frames_mod
from ingestion.frames import DecodeError, sample_frames, save_thumbnails


def test_uniform_sampling_reads_the_right_frames(tmp_path: Path) -> None:
    # frame t is a flat grey level 10*t with a small bright square so it is not "blank"
    seq = []
    for t in range(16):
        f = np.full((32, 32, 3), 10 * t, dtype=np.uint8)
        f[4:12, 4:12] = 255
        seq.append(f)
    path = write_video(tmp_path / "ramp.mp4", seq)
    d = sample_frames(path, 4)
    assert d.decoder == "decord" and d.indices == [2, 6, 10, 14] and d.n_frames == 16
    # the background level tells which frame was decoded (lossy codec: within a few levels)
    levels = [int(np.median(f[20:, 20:])) for f in d.frames]
    assert all(abs(lv - 10 * i) <= 4 for lv, i in zip(levels, d.indices, strict=True))


def test_opencv_fallback_gives_the_same_frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_video(tmp_path / "v.mp4", seed=3)
    ref = sample_frames(path, 5)

    def broken(*_: object) -> None:
        raise RuntimeError("simulated decoder failure")

    monkeypatch.setattr(frames_mod, "_decord_sample", broken)
    d = sample_frames(path, 5)
    assert d.decoder == "opencv" and d.indices == ref.indices
    assert "fell back to opencv (decord: RuntimeError: simulated decoder failure)" in d.notes[0]
    diff = max(
        float(np.abs(a.astype(int) - b.astype(int)).mean()) for a, b in zip(d.frames, ref.frames, strict=True)
    )
    assert diff < 3.0


def test_blank_video_is_refused(tmp_path: Path) -> None:
    path = write_video(tmp_path / "black.mp4", [np.zeros((32, 32, 3), np.uint8)] * 8)
    with pytest.raises(DecodeError, match="every sampled frame is blank"):
        sample_frames(path, 4)


def test_keyframe_sampling_finds_the_cuts(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    scenes = [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) // 4 + 64 * k for k in range(3)]
    seq = [scenes[0]] * 10 + [scenes[1]] * 12 + [scenes[2]] * 10  # cuts at frames 10 and 22
    path = write_video(tmp_path / "cuts.mp4", [s.astype(np.uint8) for s in seq])
    d = sample_frames(path, 3, "keyframe")
    assert d.indices == [0, 10, 22]


def test_thumbnails(tmp_path: Path) -> None:
    frames = [np.full((100, 200, 3), 30 * i, dtype=np.uint8) for i in range(3)]
    paths = save_thumbnails(frames, tmp_path / "vid", 50)
    assert [p.name for p in paths] == ["0.jpg", "1.jpg", "2.jpg"]
    with Image.open(paths[2]) as im:
        assert im.size == (50, 25)
        assert abs(int(np.asarray(im).mean()) - 60) <= 2
    assert not list((tmp_path / "vid").glob("*.tmp"))
