"""Sources, sidecars, listings, path confinement, sampling arithmetic and value keywords."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ingestion.config import build_config, load_index_config
from ingestion.frames import keyframe_indices, uniform_indices
from ingestion.records import normalise_platform
from ingestion.sources import PathEscapeError, confine, read_listing, scan_folder, subtitle_text
from ingestion.value_tags import ValueTagger, flag_key, load_keywords, score_key
from valuespectrum.errors import ConfigError
from valuespectrum.values import Value


def test_uniform_indices_are_segment_centres() -> None:
    # 16 frames, 4 samples: segment length 4, centres at 2, 6, 10, 14
    assert uniform_indices(16, 4) == [2, 6, 10, 14]
    # 10 frames, 3 samples: (0.5, 1.5, 2.5) * 10/3 = 1.67, 5, 8.33 -> 1, 5, 8
    assert uniform_indices(10, 3) == [1, 5, 8]
    assert uniform_indices(3, 8) == [0, 1, 2]


def test_keyframe_indices_pick_scene_changes() -> None:
    dark = np.zeros((8, 8, 3), dtype=np.uint8)
    light = np.full((8, 8, 3), 200, dtype=np.uint8)
    mid = np.full((8, 8, 3), 100, dtype=np.uint8)
    frames = [dark, dark, dark, light, light, mid, mid, mid]
    positions = [0, 10, 20, 30, 40, 50, 60, 70]
    # the first frame counts as a change; then cuts at 30 (dark->light) and 50 (light->mid)
    assert keyframe_indices(frames, positions, 80, 3) == [0, 30, 50]
    # fewer cuts than requested: filled with uniform indices (80 frames, 4 -> 10, 30, 50, 70)
    assert keyframe_indices(frames, positions, 80, 4) == [0, 10, 30, 50]


def test_sidecars_and_platforms(tmp_path: Path) -> None:
    (tmp_path / "a.mp4").write_bytes(b"x")
    (tmp_path / "a.info.json").write_text(
        json.dumps(
            {
                "title": "T",
                "tags": ["x", "y"],
                "upload_date": "20240131",
                "extractor_key": "Youtube",
                "webpage_url": "https://www.youtube.com/shorts/abc",
            }
        )
    )
    (tmp_path / "a.en.vtt").write_text(
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n<b>Hello</b> there\n\n00:00:01.000 --> 00:00:02.000\nagain\n"
    )
    (tmp_path / "notes.txt").write_text("ignored")
    found, refused = scan_folder(tmp_path)
    assert refused == []
    assert [f.rel for f in found] == ["a.mp4"]
    meta = found[0].meta
    assert meta["upload_date"] == "2024-01-31"
    assert meta["platform"] == "youtube_shorts"
    assert meta["tags"] == ["x", "y"]
    assert meta["subtitles"] == "Hello there again"
    assert found[0].provenance == "folder-scan+info.json+vtt"
    assert normalise_platform("TikTok") == "tiktok"
    assert normalise_platform("Instagram") == "instagram_reels"
    assert normalise_platform("Generic", "https://vimeo.com/1") == "other"
    assert subtitle_text("1\n00:00:01,000 --> 00:00:02,000\nSRT line\n") == "SRT line"


def test_symlink_escaping_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "secret.mp4"
    outside.write_bytes(b"x")
    (root / "link.mp4").symlink_to(outside)
    (root / "ok.mp4").write_bytes(b"y")
    (root / "inner.mp4").symlink_to(root / "ok.mp4")  # a link that stays inside is fine
    found, refused = scan_folder(root)
    assert sorted(f.rel for f in found) == ["inner.mp4", "ok.mp4"]
    assert [r.path for r in refused] == ["link.mp4"]
    assert "outside the corpus root" in refused[0].reason
    with pytest.raises(PathEscapeError):
        confine(root, "../secret.mp4")


def test_listing_refuses_dotdot_and_keeps_extra_columns(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "v.mp4").write_bytes(b"x")
    (tmp_path / "evil.mp4").write_bytes(b"x")
    listing = tmp_path / "list.csv"
    listing.write_text(
        "path,caption,platform,date,likes\n"
        "sub/v.mp4,a caption,TikTok,2024-05-01,42\n"
        "../evil.mp4,bad,tiktok,2024-05-01,1\n"
        "sub/../sub/v.mp4,sneaky,tiktok,,\n"
        f"{tmp_path / 'evil.mp4'},abs,tiktok,,\n"
        "missing.mp4,x,tiktok,,\n"
    )
    found, refused = read_listing(root, listing)
    assert [f.rel for f in found] == ["sub/v.mp4"]
    assert found[0].meta == {
        "caption": "a caption",
        "platform": "TikTok",
        "upload_date": "2024-05-01",
        "likes": "42",
    }
    assert found[0].provenance == "listing:list.csv#2"
    reasons = [r.reason for r in refused]
    assert len(refused) == 4
    assert "line 3" in reasons[0] and "'..'" in reasons[0]
    assert "line 4" in reasons[1] and "'..'" in reasons[1]
    assert "line 5" in reasons[2] and "outside the corpus root" in reasons[2]
    assert "line 6" in reasons[3] and "not found" in reasons[3]

    jl = tmp_path / "list.jsonl"
    jl.write_text('{"path": "sub/v.mp4", "caption": "c"}\nnot json\n')
    with pytest.raises(ConfigError, match=r"list.jsonl line 2: not valid JSON"):
        read_listing(root, jl)
    bad = tmp_path / "nopath.csv"
    bad.write_text("file,caption\nx,y\n")
    with pytest.raises(ConfigError, match="'path' column"):
        read_listing(root, bad)


def test_keywords_shipped_and_overridden(tmp_path: Path) -> None:
    kw = load_keywords()
    assert set(kw) == set(Value)
    assert all(8 <= len(p) <= 12 for p in kw.values())
    assert any("concert" in p for p in kw[Value.HEDONISM])
    user = tmp_path / "kw.yaml"
    user.write_text("PO: [a throne room]\nhedonism: [ice cream]\n")
    kw2 = load_keywords(user)
    assert kw2[Value.POWER] == ["a throne room"]
    assert kw2[Value.HEDONISM] == ["ice cream"]
    assert kw2[Value.TRADITION] == kw[Value.TRADITION]
    user.write_text("Greed: [gold]\n")
    with pytest.raises(ConfigError, match=r"kw.yaml: key 'Greed': unknown value"):
        load_keywords(user)
    user.write_text("Power: []\n")
    with pytest.raises(ConfigError, match="Power: give a non-empty list"):
        load_keywords(user)


def test_tagger_scores_blend_and_flags() -> None:
    protos = np.eye(10, 4, dtype=np.float32)  # value i -> axis i (first four only)
    tagger = ValueTagger(protos, top_k=2, caption_weight=0.25)
    img = np.array([0.6, 0.8, 0.0, 0.0], dtype=np.float32)
    cap = np.array([0.0, 0.0, 1.0, 0.0], dtype=np.float32)
    s = tagger.scores(img, cap)
    # 0.75 * image similarity + 0.25 * caption similarity
    assert np.allclose(s[:4], [0.45, 0.6, 0.25, 0.0])
    top = tagger.top(s)
    assert top == [Value.STIMULATION, Value.SELF_DIRECTION]
    meta = tagger.metadata(s, top)
    assert meta[score_key(Value.STIMULATION)] == pytest.approx(0.6)
    assert meta[flag_key(Value.SELF_DIRECTION)] is True and meta["is_Hedonism"] is False
    assert meta["top_values"] == "Stimulation,Self-Direction"


def test_config_errors_name_the_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="field 'frames_per_video'"):
        build_config({"corpus_root": ".", "frames_per_video": 0})
    m = tmp_path / "index.yaml"
    m.write_text("corpus_root: videos\nsampling: sometimes\n")
    with pytest.raises(ConfigError, match=r"index.yaml: field 'sampling'"):
        load_index_config(m)
    m.write_text("corpus_root: videos\nframes_per_video: 4\n")
    cfg = load_index_config(m, data_dir=str(tmp_path / "d"))
    assert cfg.corpus_root == tmp_path / "videos" and cfg.frames_per_video == 4
    assert cfg.data_dir == tmp_path / "d"


def test_frame_paths_from_an_index_stay_inside_its_data_folder(tmp_path) -> None:
    import pytest

    from ingestion.probe_sets import frame_paths
    from ingestion.sources import PathEscapeError

    (tmp_path / "frames").mkdir()
    ok = frame_paths(tmp_path, [{"video_id": "v", "thumb": "frames/v-0.jpg"}, {"video_id": "v"}])
    assert ok == [(tmp_path / "frames" / "v-0.jpg").resolve()]
    for bad in ("../../etc/passwd", "/etc/passwd"):
        with pytest.raises(PathEscapeError, match="index record of video 'v'"):
            frame_paths(tmp_path, [{"video_id": "v", "thumb": bad}])
