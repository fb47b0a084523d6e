"""Fixtures shared by test modules."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real demo corpus indexed once per test session (tiny random CLIP, 3 frames a video).

    Read-only for tests: copy what a test needs to change.
    """
    from ingestion.config import IndexConfig
    from ingestion.demo import build_demo_corpus
    from ingestion.encoders import register_tiny_clip
    from ingestion.pipeline import index_corpus

    base = tmp_path_factory.mktemp("demo-index")
    # the 14 hand-written videos only: the generated clips would add ~40 s of CPU to every session
    root = build_demo_corpus(base / "corpus", clips_per_value=0)
    index_corpus(
        IndexConfig(
            corpus_root=root,
            data_dir=base / "data",
            model=register_tiny_clip(),
            frames_per_video=3,
            progress=False,
        )
    )
    return base / "data"
