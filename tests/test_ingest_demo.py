"""The demo corpus from packaged footage, and the CLI commands on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingestion.cli import app
from ingestion.demo import build_demo_corpus


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    args = ["demo", "--out", str(out), "--clips-per-value", "2", "--no-text-tags"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "indexed 34, unchanged 0, skipped 0, failed 0" in result.output
    assert "random weights: similarities are not meaningful" in result.output
    return out


def test_demo_corpus_is_deterministic(demo: Path, tmp_path: Path) -> None:
    corpus = demo / "corpus"
    videos = sorted(p.name for p in corpus.glob("*.mp4"))
    assert len(videos) == 14 + 2 * 10
    clip = json.loads((corpus / "power_001.info.json").read_text())
    assert clip["written_for_value"] == "Power" and clip["source_file"] == "logo.png"
    info = json.loads((corpus / "rocket_launch.info.json").read_text())
    assert info["extractor_key"] == "Youtube" and info["webpage_url"].startswith(
        "https://www.youtube.com/shorts/"
    )
    assert len(list(corpus.glob("*.vtt"))) == 3
    # a second build elsewhere writes byte-identical clips made from photographs
    other = build_demo_corpus(tmp_path, clips_per_value=2)
    for name in ("cat_nap.mp4", "rocket_launch.mp4", "power_001.mp4", "universalism_000.mp4"):
        assert (other / name).read_bytes() == (corpus / name).read_bytes()


def test_cli_stats_and_search(demo: Path) -> None:
    data = str(demo / "vspec-data")
    runner = CliRunner()
    stats = runner.invoke(app, ["stats", "--data-dir", data, "--json"])
    assert stats.exit_code == 0, stats.output
    s = json.loads(stats.output)
    assert (s["videos"], s["frames"]) == (34, 34 * 8)
    # the 14 videos' platforms (3, 3, 4, 4) plus the 20 clips (5, 4, 5, 6: platform = (value index + k) mod 4)
    assert s["per_platform"] == {"instagram_reels": 8, "other": 7, "tiktok": 9, "youtube_shorts": 10}
    assert sum(s["per_value"].values()) == 34 * 2
    # the cat clip has no subtitles, so its caption is its title and description
    caption = "Looking after our rescue cat She was so scared when we adopted her. Now look at her."
    found = runner.invoke(app, ["search", caption, "--data-dir", data, "-k", "3", "--json"])
    assert found.exit_code == 0, found.output
    hits = json.loads(found.output[found.output.index("[") :])
    assert hits[0]["path"] == "cat_nap.mp4" and hits[0]["matched"] == "caption"
    bad = runner.invoke(app, ["search", "x", "--data-dir", str(demo / "nowhere")])
    assert bad.exit_code == 2 and "run `vspec index` first" in bad.output


def test_cli_index_from_manifest(demo: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "index.yaml"
    manifest.write_text(
        f"corpus_root: {demo / 'corpus'}\ndata_dir: data\ncollection_prefix: twoframes\n"
        "frames_per_video: 2\nmodel: vspec-tiny-clip\nsampling: keyframe\n"
    )
    runner = CliRunner()
    res = runner.invoke(app, ["index", "--manifest", str(manifest), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output[res.output.index("{") :])
    assert len(report["indexed"]) == 34 and report["frames_written"] == 68
    stats = runner.invoke(
        app, ["stats", "--data-dir", str(tmp_path / "data"), "--collection", "twoframes", "--json"]
    )
    assert json.loads(stats.output)["frames"] == 68
    bad = tmp_path / "bad.yaml"
    bad.write_text("corpus_root: x\nframes_per_video: many\n")
    res = runner.invoke(app, ["index", "--manifest", str(bad)])
    assert res.exit_code == 2 and "field 'frames_per_video'" in res.output
