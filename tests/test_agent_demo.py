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


def test_tiny_vlm_browses_the_demo_index(demo_index: Path, tmp_path: Path) -> None:
    from tiny_models import build_tiny_vlm

    vlm = build_tiny_vlm(None, "llava")
    result = _invoke(
        {
            "name": "e2e",
            "models": [{"spec": f"hf:{vlm}", "label": "tiny-llava", "modality": "vision"}],
            "personas": ["value-achievement"],
            "index": {"data_dir": str(demo_index)},
            "phases": {"training": 6, "evaluation": 3},
            "generation": {"max_new_tokens": 12},
            "output_dir": "runs",
        },
        tmp_path,
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
    result = _invoke(
        {
            "name": "search",
            "models": [{"spec": "mock", "label": "m", "modality": "text", "options": {"default": answer}}],
            "personas": ["none"],
            "index": {"data_dir": str(demo_index)},
            "phases": {"training": 2, "evaluation": 1},
            "agent": {"search_k": 3},
            "output_dir": "runs",
        },
        tmp_path,
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
