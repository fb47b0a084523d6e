"""Reading the agent's decisions: tolerant of real model output, never crashing on garbage."""

from __future__ import annotations

import pytest
from media_refs import pinned_frames

from agents.decide import build_request, decision_prompt, first_object, parse_decision
from agents.observe import Observation
from valuespectrum.personas import builtin_personas
from valuespectrum.types import GenerateConfig, TextPart, VideoPart
from valuespectrum.values import Value


@pytest.mark.parametrize(
    ("text", "action", "dwell"),
    [
        ('{"action": "watch", "dwell_seconds": 12, "reason": "nice"}', "watch", 12.0),
        ('```json\n{"action": "like", "reason": "lovely"}\n```', "like", 30.0),
        ("Sure! {'action': 'skip', 'reason': 'boring'} hope that helps", "skip", 0.0),
        ('{"Action": "WATCH", "dwell_seconds": "7s"}', "watch", 7.0),
        ('{"action": "watch", "dwell": 4.5}', "watch", 4.5),
        ("{'action': 'like', 'reason': None, 'fav': True}", "like", 30.0),
        ('noise {"x": 1} then {"action": "skip"}', "skip", 0.0),
    ],
)
def test_tolerant_reading(text: str, action: str, dwell: float) -> None:
    d = parse_decision(text, max_dwell_s=30.0)
    assert d.parsed and d.action == action and d.dwell_s == dwell


def test_dwell_is_clipped_to_the_video_and_flagged() -> None:
    d = parse_decision('{"action": "watch", "dwell_seconds": 95}', max_dwell_s=20.0)
    assert d.parsed and d.dwell_s == 20.0 and "clipped to 20" in (d.problem or "")
    neg = parse_decision('{"action": "watch", "dwell_seconds": -3}', max_dwell_s=20.0)
    assert neg.dwell_s == 0.0


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("I would probably watch it for a while.", "no JSON object"),
        ('{"action": "dance"}', "field 'action'"),
        ('{"action": "watch"}', "needs 'dwell_seconds'"),
        ('{"action": "watch", "dwell_seconds": "long"}', "field 'dwell_seconds'"),
        ('{"action": "search", "query": "  "}', "non-empty 'query'"),
        ('{"action": "like"', "no JSON object"),
        ("", "no JSON object"),
    ],
)
def test_unusable_answers_become_flagged_skips(text: str, problem: str) -> None:
    d = parse_decision(text, max_dwell_s=30.0)
    assert (d.action, d.dwell_s, d.parsed) == ("skip", 0.0, False)
    assert problem in (d.problem or "")


def test_search_reads_the_query_and_can_be_disabled() -> None:
    d = parse_decision('{"action": "search", "query": "mountain climbing", "reason": "bored"}', 30.0)
    assert (d.action, d.query, d.parsed) == ("search", "mountain climbing", True)
    off = parse_decision('{"action": "search", "query": "cats"}', 30.0, allow_search=False)
    assert not off.parsed and off.problem == "search is disabled for this session"
    assert "search" not in decision_prompt(30.0, allow_search=False)


def test_first_object_handles_braces_inside_strings() -> None:
    obj = first_object("""{'action': 'skip', 'reason': "a } inside"} trailing""")
    assert obj == {"action": "skip", "reason": "a } inside"}


def test_request_shows_frames_only_to_vision_agents(tmp_path) -> None:
    frames = pinned_frames(tmp_path)
    obs = Observation("vid1", "tiktok", "Launch day", 25.0, (Value.ACHIEVEMENT,), tuple(frames), fps=2.0)
    persona = builtin_personas()["value-power"]
    cfg = GenerateConfig(max_new_tokens=32)
    vision = build_request(obs, persona, modality="vision", config=cfg, request_id="r1")
    text = build_request(obs, None, modality="text", config=cfg, request_id="r2")
    assert vision.messages[0].role == "system" and "status, wealth" in vision.messages[0].plain_text()
    video = vision.messages[1].content[0]
    assert isinstance(video, VideoPart) and len(video.frames) == 3 and video.fps == 2.0
    assert [m.role for m in text.messages] == ["user"] and not text.messages[0].media()
    body = text.messages[0].plain_text()
    assert "Platform: tiktok" in body and "Caption: Launch day" in body and "(0 to 25)" in body
    assert all(isinstance(p, TextPart) for p in text.messages[0].content)
    # the tags are never shown to the agent
    assert "Achievement" not in vision.messages[1].plain_text()


def test_non_finite_dwell_is_unparsed_not_counted() -> None:
    for raw in ('{"action": "watch", "dwell_seconds": NaN}', '{"action": "watch", "dwell_seconds": "nan"}'):
        d = parse_decision(raw, 30.0)
        assert d.parsed is False and d.action == "skip" and "finite" in (d.problem or "")
