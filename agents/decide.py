"""The decision prompt and the robust reading of the model's JSON answer.

The agent answers each video with one JSON object: ``watch`` (with ``dwell_seconds``),
``like`` (watch to the end and like), ``skip`` or ``search`` (with a ``query``). Reading is
tolerant of what models really write: code fences, text around the object, single quotes,
Python-style ``True``/``None``, numbers as strings. An answer that still cannot be read, or
that breaks the rules (unknown action, watch without seconds, empty query), is never a crash:
it becomes a skip with ``parsed=False`` and the reason, and the metrics count it.

The ``likelihood`` mode asks instead for one word (like / watch / skip) and reads the decision
from the three options' log-likelihoods, softmaxed to probabilities: the action is the most
likely word; a watch lasts ``duration x (p_like + p_watch)``, the probability of not
scrolling past, so the dwell carries how sure the model was.
"""

from __future__ import annotations

import ast
import json
import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from agents.observe import Modality, Observation
from valuespectrum.personas import Persona
from valuespectrum.results import Action, StepDecision
from valuespectrum.types import ContentPart, GenerateConfig, Message, ModelRequest, TextPart

ACTIONS: tuple[Action, ...] = ("watch", "like", "skip", "search")


def decision_prompt(max_dwell_s: float, *, allow_search: bool) -> str:
    lines = [
        "You are scrolling a short-video feed. Decide what to do with this video.",
        "Answer with one JSON object and nothing else, choosing one of:",
        f'{{"action": "watch", "dwell_seconds": 12, "reason": "..."}}  keep watching for that many seconds '
        f"(0 to {max_dwell_s:.0f})",
        '{"action": "like", "reason": "..."}  watch it to the end and like it',
        '{"action": "skip", "reason": "..."}  scroll past it at once',
    ]
    if allow_search:
        lines.append('{"action": "search", "query": "...", "reason": "..."}  search for other videos instead')
    return "\n".join(lines)


LIKELIHOOD_OPTIONS: tuple[Action, ...] = ("like", "watch", "skip")

LIKELIHOOD_PROMPT = (
    "You are scrolling a short-video feed. What do you do with this video? Answer with one word: "
    "like (watch it to the end and like it), watch (watch some of it) or skip (scroll past it)."
)


def build_request(
    obs: Observation,
    persona: Persona | None,
    *,
    modality: Modality,
    config: GenerateConfig,
    request_id: str,
    allow_search: bool = True,
    decision: Literal["json", "likelihood"] = "json",
) -> ModelRequest:
    """System: the persona (if any). User: the frames (vision only), caption, platform, the choices."""
    messages: list[Message] = []
    if persona is not None:
        messages.append(Message.text("system", persona.system_prompt()))
    parts: list[ContentPart] = obs.media_parts() if modality == "vision" else []
    parts.append(obs.describe())
    if decision == "likelihood":
        parts.append(TextPart(text=LIKELIHOOD_PROMPT))
    else:
        parts.append(TextPart(text=decision_prompt(obs.duration_s, allow_search=allow_search)))
    messages.append(Message(role="user", content=parts))
    return ModelRequest(
        request_id=request_id,
        messages=messages,
        config=config.model_copy(update={"generate_text": False}) if decision == "likelihood" else config,
        options=[o.capitalize() for o in LIKELIHOOD_OPTIONS] if decision == "likelihood" else None,
        metadata={"video_id": obs.video_id, "persona": persona.id if persona else "none"},
    )


def decision_from_likelihoods(logprobs: list[float] | None, max_dwell_s: float) -> StepDecision:
    """The decision of the ``likelihood`` mode (see the module doc)."""
    if (
        not logprobs
        or len(logprobs) != len(LIKELIHOOD_OPTIONS)
        or not all(math.isfinite(x) for x in logprobs)
    ):
        return unparsed("the backend gave no option likelihoods (use agent.decision: json with this model)")
    top = max(logprobs)
    weights = [math.exp(x - top) for x in logprobs]
    probs = dict(zip(LIKELIHOOD_OPTIONS, (w / sum(weights) for w in weights), strict=True))
    action = max(LIKELIHOOD_OPTIONS, key=lambda o: probs[o])
    reason = "p(" + ", ".join(f"{o}={probs[o]:.3f}" for o in LIKELIHOOD_OPTIONS) + ")"
    if action == "like":
        return _decided("like", max_dwell_s, reason=reason)
    if action == "skip":
        return _decided("skip", 0.0, reason=reason)
    return _decided("watch", round(max_dwell_s * (probs["like"] + probs["watch"]), 3), reason=reason)


class Decision(BaseModel):
    """The answer schema."""

    model_config = ConfigDict(extra="ignore")

    action: Action
    dwell_seconds: float | None = None
    query: str | None = None
    reason: str = ""

    @field_validator("action", mode="before")
    @classmethod
    def _action(cls, raw: object) -> object:
        return raw.strip().lower() if isinstance(raw, str) else raw

    @field_validator("dwell_seconds", mode="before")
    @classmethod
    def _seconds(cls, raw: object) -> object:
        if isinstance(raw, str):  # "12", "12s", "12 seconds"
            m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds?)?\s*", raw.lower())
            return float(m.group(1)) if m else raw
        return raw

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, raw: object) -> object:
        return "" if raw is None else str(raw)


ParsedDecision = StepDecision
"""A decision ready to act on (the typed step decision of the trajectory); unreadable answers
arrive as skips with ``parsed=False`` and the reason in ``problem``."""


def _decided(action: Action, dwell_s: float, **more: Any) -> StepDecision:
    return StepDecision(action=action, dwell_s=dwell_s, **more)


def unparsed(problem: str) -> StepDecision:
    return _decided("skip", 0.0, parsed=False, problem=problem)


def parse_decision(text: str, max_dwell_s: float, *, allow_search: bool = True) -> StepDecision:
    """Read the first JSON object with an ``action`` from ``text`` (see the module doc)."""
    obj = first_object(text)
    if obj is None:
        return unparsed("no JSON object with an 'action' field in the answer")
    obj = {str(k).strip().lower(): v for k, v in obj.items()}
    if "dwell_seconds" not in obj:
        for alias in ("dwell", "dwell_s", "seconds", "watch_seconds"):
            if alias in obj:
                obj["dwell_seconds"] = obj[alias]
                break
    try:
        d = Decision.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or "answer"
        return unparsed(f"field '{field}': {err['msg']}")
    if d.action == "like":
        return _decided("like", max_dwell_s, reason=d.reason)
    if d.action == "skip":
        return _decided("skip", 0.0, reason=d.reason)
    if d.action == "search":
        if not allow_search:
            return unparsed("search is disabled for this session")
        query = (d.query or "").strip()
        if not query:
            return unparsed("a search needs a non-empty 'query'")
        return _decided("search", 0.0, query=query[:200], reason=d.reason)
    if d.dwell_seconds is None:
        return unparsed("a watch needs 'dwell_seconds'")
    if not math.isfinite(d.dwell_seconds):
        return unparsed(f"dwell_seconds must be a finite number, got {d.dwell_seconds}")
    dwell = min(max(float(d.dwell_seconds), 0.0), max_dwell_s)
    note = None
    if dwell != d.dwell_seconds:
        note = f"dwell_seconds {d.dwell_seconds:g} clipped to {dwell:g} (0 to the video's length)"
    return _decided("watch", dwell, reason=d.reason, problem=note)


_FENCE = re.compile(r"```(?:json|JSON)?")


def first_object(text: str) -> dict[str, Any] | None:
    """The first ``{...}`` in ``text`` that reads as a mapping with an ``action`` key."""
    cleaned = _FENCE.sub(" ", text)
    decoder = json.JSONDecoder()
    for start in (i for i, ch in enumerate(cleaned) if ch == "{"):
        obj: Any = None
        try:
            obj, _ = decoder.raw_decode(cleaned, start)
        except json.JSONDecodeError:
            chunk = _balanced(cleaned, start)
            if chunk is not None:
                obj = _python_literal(chunk)
        if isinstance(obj, dict) and any(str(k).strip().lower() == "action" for k in obj):
            return obj
    return None


def _balanced(text: str, start: int) -> str | None:
    """The substring from ``start`` to its matching brace, skipping quoted text."""
    depth = 0
    quote: str | None = None
    escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return None


def _python_literal(chunk: str) -> Any:
    """Single-quoted or Python-style objects; ``ast.literal_eval`` evaluates literals only."""
    fixed = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", re.sub(r"\bnull\b", "None", chunk)))
    for candidate in (chunk, fixed):
        try:
            return ast.literal_eval(candidate)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
    return None
