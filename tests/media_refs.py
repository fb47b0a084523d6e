"""Pinned media references to small files, for tests that build requests without decoding images."""

from __future__ import annotations

from pathlib import Path

from valuespectrum.types import MediaRef


def pinned_frames(folder: Path, n: int = 3) -> list[MediaRef]:
    """``n`` files ``f0.jpg``, ``f1.jpg``, … of distinct bytes in ``folder``, each pinned by its digest."""
    frames = []
    for i in range(n):
        p = folder / f"f{i}.jpg"
        p.write_bytes(bytes([i]) * 10)
        frames.append(MediaRef.pinned(p))
    return frames
