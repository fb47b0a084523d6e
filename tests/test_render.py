from media_refs import pinned_frames

from valuespectrum.personas import builtin_personas
from valuespectrum.probes.render import render_probe
from valuespectrum.probes.schema import AnswerFormat, Probe
from valuespectrum.types import ImagePart, TextPart, VideoPart
from valuespectrum.values import Value


def _likert() -> Probe:
    return Probe(
        id="p1", text="They enjoy planning their own projects.", format=AnswerFormat.likert6(), keys={"SD": 1}
    )


def test_likert_forward_and_reverse_mapping() -> None:
    fwd = render_probe(_likert())
    rev = render_probe(_likert(), reverse_labels=True)
    assert fwd.request.options == ["1", "2", "3", "4", "5", "6"]
    assert rev.request.options == ["1", "2", "3", "4", "5", "6"]
    # presented 1 under reversed labels means "very much like me" = true 6
    assert rev.true_value(1.0) == 6.0 and rev.true_value(6) == 1.0 and rev.true_value(3) == 4.0
    assert fwd.true_value(2.0) == 2.0
    assert rev.presented.format.labels[1] == "very much like me"
    assert "1 = very much like me" in rev.request.messages[-1].plain_text()
    assert "1 = not like me at all" in fwd.request.messages[-1].plain_text()
    assert fwd.request.request_id != rev.request.request_id


def test_yes_no_order_and_persona_system_prompt() -> None:
    probe = Probe(
        id="y", text="Do you like the content of this image?", format=AnswerFormat.yes_no(), keys={"Power": 1}
    )
    persona = builtin_personas()["value-power"]
    r = render_probe(probe, persona, reverse_labels=True)
    assert r.request.options == ["No", "Yes"]
    assert r.option_values == ["no", "yes"]
    assert r.request.messages[0].role == "system"
    assert persona.description in r.request.messages[0].plain_text()
    assert r.true_value("yes") == "yes"


def test_choice_reversed_letters_map_back() -> None:
    fmt = AnswerFormat.choice(
        [
            ("stay home", {Value.SECURITY: 1}),
            ("go climbing", {Value.STIMULATION: 1}),
            ("help", {Value.BENEVOLENCE: 1}),
        ]
    )
    probe = Probe(id="c", text="Saturday plans?", format=fmt)
    r = render_probe(probe, reverse_labels=True)
    assert r.presented.format.options[0].text == "help"
    assert r.true_value("A") == "C" and r.true_value("C") == "A"


def test_media_parts_and_text_only(tmp_path) -> None:
    frames = pinned_frames(tmp_path)
    probe = Probe(
        id="v",
        text="Do you like the content of this video?",
        format=AnswerFormat.yes_no(),
        keys={"HE": 1},
        media=frames,
        caption="a concert at night",
    )
    r = render_probe(probe)
    parts = r.request.messages[-1].content
    assert isinstance(parts[0], VideoPart) and len(parts[0].frames) == 3 and isinstance(parts[-1], TextPart)
    t = render_probe(probe, text_only=True)
    assert all(isinstance(p, TextPart) for p in t.request.messages[-1].content)
    assert "a concert at night" in t.request.messages[-1].plain_text()
    one = render_probe(probe.model_copy(update={"media": frames[:1], "media_kind": "image"}))
    assert isinstance(one.request.messages[-1].content[0], ImagePart)
