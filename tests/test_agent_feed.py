"""The feed simulator: never twice, deterministic, and drifting toward what the agent likes."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from agents.catalog import Catalog, VideoItem
from agents.feed import EmbeddingFeed, Engagement, FeedConfig
from agents.manifest import parse_browse_manifest
from agents.search import KeywordSearcher
from agents.session import execute_browse
from agents.synthetic import synthetic_catalog
from valuespectrum.backends.mock import MockBackend
from valuespectrum.types import ModelRequest
from valuespectrum.values import Value


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    # 200 videos per value: a persona's value never runs out within 150 steps
    return synthetic_catalog(per_value=200, dim=32, seed=1)


def test_never_twice_and_exhausts(catalog: Catalog) -> None:
    small = Catalog(catalog.items[:25], catalog.embeddings[:25])
    feed = EmbeddingFeed(small, FeedConfig(warmup=3, epsilon=0.3), seed=4)
    shown = []
    while (pick := feed.next()) is not None:
        shown.append(pick.video_id)
        feed.update(pick.video_id, Engagement("like" if len(shown) % 3 else "skip"))
        if len(shown) == 5:
            feed.add_search_results([shown[0], small.items[24].video_id, "not-in-catalog"])
    assert len(shown) == 25 and len(set(shown)) == 25
    assert shown[5] == small.items[24].video_id  # the unseen search result came next; the seen one never
    assert feed.state()["n_left"] == 0


def _u(feed: EmbeddingFeed) -> np.ndarray:
    u = feed.interest
    assert u is not None
    return u


def test_update_rule_by_hand() -> None:
    items = [VideoItem(f"v{i}", (Value.POWER,)) for i in range(3)]
    emb = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], dtype=np.float32)
    feed = EmbeddingFeed(
        Catalog(items, emb), FeedConfig(warmup=0, epsilon=0.0, lr_pos=0.5, lr_neg=0.25), seed=0
    )
    feed.update("v0", Engagement("watch", dwell_fraction=0.4))  # u = 0.5*0.4*(1,0) -> (1,0)
    assert np.allclose(_u(feed), [1.0, 0.0])
    feed.update("v1", Engagement("like"))  # u = (1,0) + 0.5*1.5*(0,1) = (1, .75) -> (.8, .6)
    assert np.allclose(_u(feed), [0.8, 0.6])
    feed.update("v0", Engagement("skip"))  # u = (.8,.6) - .25*(1,0) = (.55,.6)
    expected = np.array([0.55, 0.6]) / np.hypot(0.55, 0.6)
    assert np.allclose(_u(feed), expected)
    feed.update("v2", Engagement("search"))  # searching leaves u alone
    assert np.allclose(_u(feed), expected)
    pick = feed.next()  # exploit: cosines are .675 (v0), .736 (v1), -.675 (v2)
    assert pick is not None and (pick.video_id, pick.mode) == ("v1", "exploit")
    assert pick.score == pytest.approx(0.6 / np.hypot(0.55, 0.6), abs=1e-6)


def test_same_seed_same_feed(catalog: Catalog) -> None:
    def run(seed: int) -> list[str]:
        feed = EmbeddingFeed(catalog, FeedConfig(epsilon=0.2), seed=seed)
        out = []
        for i in range(40):
            pick = feed.next()
            assert pick is not None
            out.append(pick.video_id)
            feed.update(pick.video_id, Engagement("watch", dwell_fraction=(i % 5) / 4))
        return out

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_diverse_start_spans_values(catalog: Catalog) -> None:
    feed = EmbeddingFeed(catalog, FeedConfig(warmup=8), seed=0)
    first = [feed.next() for _ in range(8)]
    assert all(p is not None and p.mode == "diverse" for p in first)
    values = {catalog.item(p.video_id).values[0] for p in first if p is not None}
    assert len(values) >= 7  # farthest-point sampling reaches most of the 10 clusters


def _agent(catalog: Catalog, kind: str):
    rng = random.Random(0)

    def answer(req: ModelRequest) -> str:
        if kind == "power":
            liked = Value.POWER in catalog.item(req.metadata["video_id"]).values
            return '{"action": "like", "reason": "status"}' if liked else '{"action": "skip"}'
        choice = rng.choice(
            ['{"action": "like"}', '{"action": "skip"}', '{"action": "watch", "dwell_seconds": 9}']
        )
        return choice

    return MockBackend(answer, model_id=f"mock-{kind}")


def _drift_run(catalog: Catalog, kind: str, tmp_path: Path) -> dict:
    m = parse_browse_manifest(
        {
            "name": kind,
            "models": [{"spec": "mock", "label": kind, "modality": "text"}],
            "personas": ["value-power"],
            "phases": {"training": 100, "evaluation": 50},
            "feed": {"warmup": 20, "epsilon": 0.1},
        }
    )
    backend = _agent(catalog, kind)
    outcome = execute_browse(
        m,
        out=tmp_path / kind,
        catalog=catalog,
        searcher=KeywordSearcher(catalog),
        backend_factory=lambda *a: backend,
    )
    return outcome.summary.sessions[0].model_dump()


def _drifted_toward_persona(s: dict) -> bool:
    return (
        s["alignment"] > 0.1
        and s["phases"]["evaluation"]["congruent_share"] > 0.6
        and s["drift"]["slope_per_100_steps"] > 0.2
        and s["drift"]["interest_end"] > 0.8
    )


def test_feed_drifts_toward_the_liked_value_and_not_for_a_random_agent(
    catalog: Catalog, tmp_path: Path
) -> None:
    liker = _drift_run(catalog, "power", tmp_path)
    rand = _drift_run(catalog, "random", tmp_path)
    assert liker["n_steps"] == rand["n_steps"] == 150
    assert _drifted_toward_persona(liker), liker
    assert not _drifted_toward_persona(rand), rand
    # power videos are a tenth of the corpus: a random agent stays near that share
    assert abs(rand["phases"]["evaluation"]["congruent_share"] - 0.1) < 0.15
    # only Power is ever liked, so the engaged-value distribution is all Power
    assert liker["phases"]["evaluation"]["value_distribution"]["Power"] == pytest.approx(1.0)
    assert liker["agreement"]["engagement_congruence_r"] == pytest.approx(1.0)
