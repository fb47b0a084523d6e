"""Decoding sanity: files that declare more frames than decode are reported, not indexed silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from media import count_frames_pyav, make_cut_download, make_video
from typer.testing import CliRunner

from ingestion.cli import app
from ingestion.frames import DecodeError, sample_frames


def _json(output: str) -> dict:
    return json.loads(output[output.index("{") :])


def test_a_cut_download_is_partial_with_both_numbers(tmp_path: Path) -> None:
    path = make_cut_download(tmp_path / "cut.mp4", seed=3, n_frames=96, keep=1 / 3)
    declared, decodable = count_frames_pyav(path)
    assert declared == 96 and 10 < decodable < 0.9 * 96  # the fixture is what it claims to be
    d = sample_frames(path, 8)
    assert d.partial and d.declared_frames == 96 and d.n_frames == decodable
    assert d.decoder == "opencv" and d.decode_errors == 2  # decord refused it, OpenCV stopped early
    assert d.shortfall() == f"{decodable} of 96 declared frames decode ({decodable / 8:.1f} s of 12.0 s)"
    # the sampled frames come from what decodes
    assert max(d.indices) < decodable and len(d.indices) == 8


def test_a_download_cut_to_its_first_bytes_is_skipped(tmp_path: Path) -> None:
    path = make_cut_download(tmp_path / "head.mp4", seed=4, n_frames=96, keep=0.05)
    declared, decodable = count_frames_pyav(path)
    assert declared == 96 and decodable < 9.6
    with pytest.raises(DecodeError, match=f"only {decodable} of 96 declared frames decode"):
        sample_frames(path, 8)
    # a lower minimum keeps it, as partial
    d = sample_frames(path, 8, min_share=0.0)
    assert d.partial and d.n_frames == decodable


def test_index_report_json_and_stats_list_partial_and_skipped(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    make_video(root / "good.mp4", seed=1, n=24)
    make_cut_download(root / "cut.mp4", seed=3, n_frames=96, keep=1 / 3)
    make_cut_download(root / "head.mp4", seed=4, n_frames=96, keep=0.05)
    _, cut_ok = count_frames_pyav(root / "cut.mp4")
    data = str(tmp_path / "data")
    runner = CliRunner()
    args = ["index", str(root), "--data-dir", data, "--model", "vspec-tiny-clip", "--frames", "4"]
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    report = _json(res.output)
    assert sorted(o["path"] for o in report["indexed"]) == ["cut.mp4", "good.mp4"]
    assert [o["path"] for o in report["partial"]] == ["cut.mp4"]
    assert report["partial"][0]["reason"].startswith(f"partial: {cut_ok} of 96 declared frames decode")
    assert [o["path"] for o in report["skipped"]] == ["head.mp4"]
    assert "declared frames decode" in report["skipped"][0]["reason"]
    stats = runner.invoke(app, ["stats", "--data-dir", data, "--json"])
    s = _json(stats.output)
    assert (s["videos"], s["partial"], s["skipped"]) == (2, 1, 1)
    assert s["partial_files"] == ["cut.mp4"] and s["skipped_files"][0].startswith("head.mp4: ")
    text = runner.invoke(app, ["stats", "--data-dir", data])
    assert "partial 1, skipped in the last run 1" in text.output
    # the plain report names both
    again = runner.invoke(app, [*args, "--collection", "other"])
    assert "partial (1)" in again.output and "skipped (1)" in again.output
    assert "declared frames decode" in again.output
