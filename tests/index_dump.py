"""Everything an index stores, read back in a stable order, and the check that two indexes hold the same."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ingestion.store import ChromaStore

KINDS = ("frames", "videos", "captions")


def dump_store(store: ChromaStore) -> dict[str, Any]:
    """Per collection: ids, metadata and embeddings, sorted by id."""
    out: dict[str, Any] = {}
    for kind in KINDS:
        r = store.get(kind, include_embeddings=True)
        order = np.argsort(r.ids)
        out[kind] = (
            [r.ids[i] for i in order],
            [r.metadatas[i] for i in order],
            r.embeddings[order] if r.embeddings is not None and len(r.ids) else np.zeros((0,)),
        )
    return out


def assert_same_index(got: dict[str, Any], want: dict[str, Any]) -> None:
    """The same ids, metadata (floats to 1e-5) and embeddings in every collection."""
    for kind in want:
        assert got[kind][0] == want[kind][0], kind
        for gm, wm in zip(got[kind][1], want[kind][1], strict=True):
            assert gm.keys() == wm.keys()
            for k in wm:
                if isinstance(wm[k], float):
                    assert gm[k] == pytest.approx(wm[k], abs=1e-5), (kind, k)
                else:
                    assert gm[k] == wm[k], (kind, k)
        assert np.allclose(got[kind][2], want[kind][2], atol=1e-5)
