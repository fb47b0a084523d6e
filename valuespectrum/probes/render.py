"""Render a probe (plus an optional persona) into a model request.

Rendering is deterministic: the same probe, persona and label order always give the same
words, so stored responses can be re-scored later without the model. ``reverse_labels``
presents the answer scale in the opposite order (6..1 meanings on 1..6, "No or Yes",
options in reverse), the standard control for answer-position bias; the returned mapping
turns what the model answered *as presented* back into the probe's own answer space.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

from valuespectrum.personas import Persona
from valuespectrum.probes.schema import AnswerFormat, Option, Probe
from valuespectrum.probes.wordings import Wording
from valuespectrum.types import (
    AnswerValue,
    ContentPart,
    GenerateConfig,
    ImagePart,
    Message,
    ModelRequest,
    PromptStyle,
    TextPart,
    VideoPart,
)

_SIMPLE = (
    'Reply with JSON only: {"answer": "%s" or "%s", "reason": "one sentence", '
    '"trait": "the trait of yours that most influenced the decision"}'
)
_ISQ = (
    "Before deciding, rate the content from 1 to 10 on each of: visual appeal, curiosity "
    "stimulation, emotional engagement, and value expectation (how much you expect to gain "
    'from it). Then decide. Reply with JSON only: {"visual_appeal": n, "curiosity": n, '
    '"emotional_engagement": n, "value_expectation": n, "answer": "%s" or "%s"}'
)

PORTRAIT_QUESTION = "How much is this person like you?"
QUERY_RESPONSE_QUESTION = "How much is this response like the way you would respond?"


@dataclass(frozen=True)
class RenderedProbe:
    """A request plus what is needed to read its answer back in the probe's terms."""

    request: ModelRequest
    presented: Probe
    """The probe as shown: labels/options in presented order (parse answers against this)."""
    option_values: list[AnswerValue] | None
    """Presented answer meant by each entry of ``request.options``."""
    to_true: dict[AnswerValue, AnswerValue] = field(default_factory=dict)
    """Presented answer -> answer in the probe's own keying (identity when not reversed)."""

    def true_value(self, presented: AnswerValue) -> AnswerValue:
        key: AnswerValue = float(presented) if isinstance(presented, int | float) else presented
        return self.to_true.get(key, presented)


def media_parts(probe: Probe) -> list[ContentPart]:
    """The probe's media as request parts: several video frames as one video, else images."""
    if not probe.media:
        return []
    if probe.media_kind == "video" and len(probe.media) > 1:
        fps = probe.metadata.get("fps")
        return [VideoPart(frames=list(probe.media), fps=float(fps) if isinstance(fps, int | float) else None)]
    return [ImagePart(image=m) for m in probe.media]


def _likert(
    probe: Probe, reverse: bool, wording: Wording | None = None
) -> tuple[str, Probe, list[AnswerValue], dict[AnswerValue, AnswerValue]]:
    fmt = probe.format
    lo, hi = fmt.scale_min, fmt.scale_max
    points = list(range(lo, hi + 1))
    # presented point p means true point t(p)
    true_of = {p: (lo + hi - p if reverse else p) for p in points}
    labels = {p: fmt.labels[true_of[p]] for p in points if true_of[p] in fmt.labels}
    presented = probe.model_copy(update={"format": fmt.model_copy(update={"labels": labels})})
    mapping: dict[AnswerValue, AnswerValue] = {float(p): float(true_of[p]) for p in points}
    if wording is not None and wording.likert is not None:
        prompt = _worded_likert(probe, wording, lo, hi, labels, reverse)
        return prompt, presented, [float(p) for p in points], mapping
    if labels:
        legend = "\n".join(f"{p} = {labels[p]}" for p in points if p in labels)
        scale = f"Answer with one number from {lo} to {hi}:\n{legend}"
    else:
        low_word, high_word = ("most", "least") if reverse else ("least", "most")
        scale = f"Answer with one number from {lo} ({low_word}) to {hi} ({high_word})."
    question = str(probe.metadata.get("question") or "")
    if not question:
        question = QUERY_RESPONSE_QUESTION if probe.context else PORTRAIT_QUESTION
    body = f"Query: {probe.context}\nResponse: {probe.text}" if probe.context else probe.text
    lead = "Here is a response to a query." if probe.context else "Here is a description of a person."
    prompt = f"{lead}\n\n{body}\n\n{question} {scale}\nReply with the number only."
    return prompt, presented, [float(p) for p in points], mapping


def _worded_likert(
    probe: Probe, wording: Wording, lo: int, hi: int, labels: dict[int, str], reverse: bool
) -> str:
    """A Likert prompt in a wording's texts; items carrying their own question keep it."""
    assert wording.likert is not None
    w = wording.likert
    question = str(probe.metadata.get("question") or "")
    if not question:
        question = (w.response_instruction or QUERY_RESPONSE_QUESTION) if probe.context else w.instruction
    legend = "\n".join(f"{p} = {labels[p]}" for p in range(lo, hi + 1) if p in labels)
    low_end, high_end = ("most", "least") if reverse else ("least", "most")
    scale = w.scale.format(
        lo=lo, hi=hi, legend=legend, low_end=labels.get(lo, low_end), high_end=labels.get(hi, high_end)
    )
    scale = "\n".join(line for line in scale.splitlines() if line.strip())
    body = f"Query: {probe.context}\nResponse: {probe.text}" if probe.context else probe.text
    lead = "Here is a response to a query." if probe.context else "Here is a description of a person."
    return f"{lead}\n\n{body}\n\n{question} {scale}"


_VQA_QUESTIONS = {f"Do you like the content of this {kind}?": kind for kind in ("image", "video")}
"""The Value-Spectrum question of items built from a video index (ingestion.probe_sets)."""


def _yes_no(
    probe: Probe, reverse: bool, style: PromptStyle = "plain", wording: Wording | None = None
) -> tuple[str, Probe, list[AnswerValue], dict[AnswerValue, AnswerValue]]:
    first, second = ("No", "Yes") if reverse else ("Yes", "No")
    if wording is not None and wording.yes_no is not None and style == "plain":
        w = wording.yes_no
        text = probe.text
        if w.vqa_question is not None and probe.media and text in _VQA_QUESTIONS:
            text = w.vqa_question.format(kind=_VQA_QUESTIONS[text])
        own = probe.metadata.get("instruction")
        if own:
            instruction = str(own)  # an item's own instruction is part of the item
        elif (probe.media or probe.metadata.get("ask_reason")) and w.reason is not None:
            instruction = w.reason.format(first=first, second=second)
        else:
            instruction = w.instruction.format(first=first, second=second)
        return f"{text}\n\n{instruction}", probe, [first.lower(), second.lower()], {}
    if style == "simple":
        instruction = _SIMPLE % (first, second)
    elif style == "isq":
        instruction = _ISQ % (first, second)
    else:
        default = f"Answer with {first} or {second} only."
        if probe.media or probe.metadata.get("ask_reason"):
            default = f"Answer {first} or {second} first, then say why in one sentence."
        instruction = str(probe.metadata.get("instruction") or default)
    prompt = f"{probe.text}\n\n{instruction}"
    return prompt, probe, [first.lower(), second.lower()], {}


def _choice(
    probe: Probe, reverse: bool, wording: Wording | None = None
) -> tuple[str, Probe, list[AnswerValue], dict[AnswerValue, AnswerValue]]:
    original = probe.format.options
    order = list(reversed(original)) if reverse else list(original)
    letters = string.ascii_uppercase
    shown = [Option(label=letters[i], text=o.text, values=o.values) for i, o in enumerate(order)]
    presented = probe.model_copy(update={"format": AnswerFormat(kind="choice", options=shown)})
    lines = "\n".join(f"{o.label}. {o.text}" for o in shown)
    tail = "Answer with the letter of your choice only."
    if wording is not None and wording.choice is not None:
        tail = wording.choice.instruction
    prompt = f"{probe.text}\n\n{lines}\n\n{tail}"
    mapping: dict[AnswerValue, AnswerValue] = {s.label: o.label for s, o in zip(shown, order, strict=True)}
    return prompt, presented, [s.label for s in shown], mapping


def render_probe(
    probe: Probe,
    persona: Persona | str | None = None,
    *,
    reverse_labels: bool = False,
    config: GenerateConfig | None = None,
    request_id: str | None = None,
    text_only: bool = False,
    style: PromptStyle = "plain",
    wording: Wording | None = None,
) -> RenderedProbe:
    """Build the request for one probe.

    ``persona`` is a Persona or a raw system prompt. ``text_only`` drops the media and puts
    a description in their place (the modality ablation: the same item as text): the one a
    model wrote from the frames (``metadata["description"]``, see ``probes.describe`` in the
    manifest) when present, else the probe's caption. ``wording`` asks the item in that
    wording's texts (see :mod:`valuespectrum.probes.wordings`; None = the default prompt;
    JSON styles keep their own yes/no instructions).
    """
    kind = probe.format.kind
    if kind == "yes_no":
        prompt, presented, option_values, mapping = _yes_no(probe, reverse_labels, style, wording)
    elif kind == "likert":
        prompt, presented, option_values, mapping = _likert(probe, reverse_labels, wording)
    else:
        prompt, presented, option_values, mapping = _choice(probe, reverse_labels, wording)
    parts: list[ContentPart] = []
    if text_only:
        if probe.media:
            generated = probe.metadata.get("description")
            described = str(generated) if generated else (probe.caption or "(no description available)")
            prompt = f"Content description: {described}\n\n{prompt.replace('this image', 'this content').replace('this video', 'this content')}"
    else:
        parts.extend(media_parts(probe))
    parts.append(TextPart(text=prompt))
    messages: list[Message] = []
    if persona is not None:
        system = persona.system_prompt() if isinstance(persona, Persona) else persona
        messages.append(Message.text("system", system))
    messages.append(Message(role="user", content=parts))
    pid = persona.id if isinstance(persona, Persona) else ("custom" if persona else "none")
    rid = request_id or f"{probe.id}|{pid}|{'rev' if reverse_labels else 'fwd'}"
    request = ModelRequest(
        request_id=rid,
        messages=messages,
        config=config or GenerateConfig(max_new_tokens=16),
        # JSON styles answer in free text: option likelihoods would score the wrong tokens
        options=None
        if style != "plain" and probe.format.kind == "yes_no"
        else [str(v).capitalize() if isinstance(v, str) else f"{int(v)}" for v in option_values],
        metadata={"probe_id": probe.id, "persona": pid, "reverse_labels": reverse_labels, "style": style}
        | ({"wording": wording.id} if wording is not None else {}),
    )
    return RenderedProbe(request=request, presented=presented, option_values=option_values, to_true=mapping)
