"""Turn a model's response into an answer: a Likert rating, yes/no/unsure or an option label.

The parser never guesses. Every response ends in one of three outcomes:

- ``parsed``: one answer was found (``method`` says how: option log-likelihoods, a JSON
  object, or a rule on the text; ``detail`` names the rule);
- ``unparsed``: the text holds no answer, or several conflicting ones (``detail`` says why);
- ``error``: the request itself failed (``response.error`` was set).

Unparsed and failed answers are counted by the caller and reported; they are never scored.

Order of evidence: option log-likelihoods (when the backend returned finite ones and the
caller asks for them), then JSON objects in the text, then an answer marked in the text
("Answer: 4", "Rating: B"), then the whole text.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from valuespectrum.probes.schema import Probe
from valuespectrum.types import ModelResponse

AnswerValue = float | str
"""A Likert rating (float), ``"yes" | "no" | "unsure"``, or an option label such as ``"A"``."""

YES, NO, UNSURE = "yes", "no", "unsure"


class ParsedAnswer(BaseModel):
    """The outcome of parsing one response."""

    status: Literal["parsed", "unparsed", "error"]
    """``error`` = the request failed (response.error set); ``unparsed`` = no single answer found."""
    value: float | str | None = None
    """The answer: a rating, ``yes``/``no``/``unsure``, or an option label; None unless parsed."""
    method: Literal["text", "json", "logprob", "none"] = "none"
    probs: list[float] | None = None
    """Normalised option probabilities, aligned with the request's options (logprob method only)."""
    expected: float | None = None
    """Probability-weighted mean rating over numeric options (Likert, logprob method only)."""
    detail: str | None = None
    """Which rule matched, or why nothing was parsed."""

    @property
    def ok(self) -> bool:
        return self.status == "parsed"


@dataclass(frozen=True)
class _Found:
    """Candidate answers found by one rule, or a reason why the rule found none."""

    values: tuple[AnswerValue, ...] = ()
    problem: str | None = None
    empty: bool = False
    """True when the rule found nothing at all (as opposed to conflicting answers)."""


def parse_answer(
    probe: Probe,
    response: ModelResponse,
    option_values: list[AnswerValue] | None = None,
    *,
    use_logprobs: bool = True,
) -> ParsedAnswer:
    """Parse ``response`` to ``probe``.

    ``option_values`` gives, for each entry of the request's ``options`` list in the order
    rendered, the answer that option means (Likert ``[1, ..., 6]`` or reversed, yes/no
    ``["yes", "no"]``, choice ``["A", "B"]``). It is needed only to read option
    log-likelihoods; text is parsed from the probe's answer format alone.
    """
    if response.error is not None:
        return ParsedAnswer(status="error", detail=f"request failed: {response.error}")
    fallback_note = ""
    if use_logprobs and response.option_logprobs is not None and option_values is not None:
        from_lp = _from_logprobs(probe, response.option_logprobs, option_values)
        if from_lp is not None:
            return from_lp
        fallback_note = "option log-likelihoods not finite; "
    parsed = parse_text(probe, response.text)
    if fallback_note:
        parsed = parsed.model_copy(update={"detail": fallback_note + (parsed.detail or "")})
    return parsed


def parse_text(probe: Probe, text: str) -> ParsedAnswer:
    """Parse a free-text answer (JSON objects, marked answers, then the whole text)."""
    if not text or not text.strip():
        return _unparsed("empty response")
    kind = probe.format.kind
    js = _from_json(probe, text)
    if js is not None:
        return js
    clean = _clean(text)
    marked = _marked_segments(clean)
    if marked:
        # Segments where the rule found nothing (e.g. "in response to ...") do not count;
        # segments with conflicting answers do, and send us on to the whole text.
        found = [f for f in (_scan(probe, seg) for seg in marked) if not f.empty]
        vals = {v for f in found for v in f.values}
        if len(vals) == 1 and not any(f.problem for f in found):
            checked = _check_marked_yes_no(clean) if kind == "yes_no" else None
            if checked is not None:
                return checked
            if kind != "yes_no" or not _marked_conflict(clean):
                return _parsed(vals.pop(), "text", "answer after a marker (e.g. 'Answer:')")
    if kind == "yes_no":
        lead = _leading_yes_no(clean)
        if lead is not None:
            return lead
    return _result(_scan(probe, clean), "text", "whole text")


# --- log-likelihoods -------------------------------------------------------------------------


def _from_logprobs(
    probe: Probe, logprobs: Sequence[float], option_values: Sequence[AnswerValue]
) -> ParsedAnswer | None:
    if len(logprobs) != len(option_values):
        raise ValueError(
            f"probe {probe.id!r}: {len(logprobs)} option log-likelihoods but {len(option_values)} "
            "option values; pass one option value per entry of the request's options"
        )
    if not logprobs or not all(math.isfinite(x) for x in logprobs):
        return None
    top = max(logprobs)
    weights = [math.exp(x - top) for x in logprobs]
    total = sum(weights)
    probs = [w / total for w in weights]
    best = [i for i, x in enumerate(logprobs) if x == top]
    expected = None
    if probe.format.kind == "likert":
        numeric = [_norm_value(v, "likert") for v in option_values]
        expected = sum(p * float(v) for p, v in zip(probs, numeric, strict=True))
    if len({_norm_value(option_values[i], probe.format.kind) for i in best}) > 1:
        return ParsedAnswer(
            status="unparsed",
            method="logprob",
            probs=probs,
            expected=expected,
            detail=f"tie between options {[option_values[i] for i in best]}",
        )
    value = _norm_value(option_values[best[0]], probe.format.kind)
    return ParsedAnswer(
        status="parsed",
        value=value,
        method="logprob",
        probs=probs,
        expected=expected,
        detail=f"argmax of {len(probs)} option log-likelihoods (p={probs[best[0]]:.3f})",
    )


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _norm_value(v: AnswerValue, kind: str) -> AnswerValue:
    """Ratings as floats (also when given as "4"), yes/no/unsure in lower case, labels as is."""
    if _is_number(v):
        return float(v)
    s = str(v).strip()
    if kind == "likert":
        try:
            return float(s)
        except ValueError:
            raise ValueError(f"Likert option value {v!r} is not a number") from None
    return s.lower() if s.lower() in (YES, NO, UNSURE) else s


# --- JSON ------------------------------------------------------------------------------------

_JSON_KEYS: dict[str, tuple[str, ...]] = {
    "likert": ("rating", "score", "answer", "response", "choice"),
    "yes_no": ("like", "liked", "decision", "answer", "response", "choice"),
    "choice": ("choice", "option", "answer", "response", "decision"),
}


def _json_objects(text: str) -> list[dict[str, object]]:
    decoder = json.JSONDecoder()
    out: list[dict[str, object]] = []
    i = text.find("{")
    while i != -1:
        try:
            obj, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            i = text.find("{", i + 1)
            continue
        if isinstance(obj, dict):
            out.append(obj)
        i = text.find("{", end)
    return out


def _from_json(probe: Probe, text: str) -> ParsedAnswer | None:
    """Answers from JSON objects with a recognised key; None when no such object exists."""
    keys = _JSON_KEYS[probe.format.kind]
    found: list[_Found] = []
    for obj in _json_objects(text):
        lowered = {str(k).strip().lower(): v for k, v in obj.items()}
        key = next((k for k in keys if k in lowered), None)
        if key is not None:
            found.append(_json_value(probe, key, lowered[key]))
    if not found:
        return None
    vals = {v for f in found for v in f.values}
    problems = [f.problem for f in found if f.problem]
    if len(vals) == 1 and not problems:
        return _parsed(vals.pop(), "json", "JSON object")
    if len(vals) > 1:
        return _unparsed(f"JSON objects give conflicting answers {sorted(map(str, vals))}")
    return _unparsed(f"JSON answer not understood: {problems[0]}")


def _json_value(probe: Probe, key: str, raw: object) -> _Found:
    kind = probe.format.kind
    if isinstance(raw, bool):
        if kind == "yes_no":
            return _Found((YES if raw else NO,))
        return _Found(problem=f"{key!r} is a boolean, expected a {kind} answer")
    if _is_number(raw):
        if kind == "likert":
            return _check_rating(probe, [float(raw)])  # type: ignore[arg-type]
        if kind == "choice":
            return _scan(probe, str(raw))
        return _Found(problem=f"{key!r} is a number, expected yes/no")
    if isinstance(raw, str):
        return _scan(probe, _clean(raw))
    return _Found(problem=f"{key!r} holds {type(raw).__name__}, expected text or a number")


# --- text rules ------------------------------------------------------------------------------

_MARKUP = re.compile(r"[*_`#]+")
_MARKER = re.compile(
    r"\b(?:final answer|answer|rating|score|choice|option|decision|response|"
    r"i(?: would| will|'d) (?:say|choose|pick|select|rate(?: it| this)?|go with)|"
    r"i (?:choose|pick|select|rate(?: it| this)?)|my (?:answer|rating|choice) (?:is|would be))\b"
    r"\s*(?:is|would be)?\s*[:=\-–]?\s*",
    re.IGNORECASE,
)


def _clean(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return _MARKUP.sub("", text).strip()


def _marked_segments(text: str) -> list[str]:
    """Text right after answer markers, up to the end of that sentence or line."""
    segs = []
    for m in _MARKER.finditer(text):
        rest = text[m.end() :]
        seg = re.split(r"(?<=[a-z0-9)\]])[.!;]\s|\n|,", rest, maxsplit=1, flags=re.IGNORECASE)[0]
        if seg.strip():
            segs.append(seg.strip())
    return segs


def _scan(probe: Probe, text: str) -> _Found:
    kind = probe.format.kind
    if kind == "likert":
        return _scan_likert(probe, text)
    if kind == "yes_no":
        return _scan_yes_no(text)
    return _scan_choice(probe, text)


# Likert


def _strip_scale_mentions(text: str, lo: int, hi: int) -> str:
    """Remove mentions of the scale itself ("5/6", "out of 6", "from 1 to 6", "1-6")."""
    text = re.sub(rf"/\s*{hi}(?!\d)", " ", text)
    text = re.sub(rf"\bout of {hi}\b", " ", text, flags=re.IGNORECASE)
    text = re.sub(rf"\b(?:from )?{lo}\s*(?:-|–|to)\s*{hi}\b", " ", text, flags=re.IGNORECASE)
    return text


_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w]|\.\d)")


def _scan_likert(probe: Probe, text: str) -> _Found:
    fmt = probe.format
    low = text.lower()
    label_hits: set[float] = set()
    # Longest labels first, blanking each match, so "like me" is not found inside "not like me".
    for point, label in sorted(fmt.labels.items(), key=lambda kv: -len(kv[1])):
        pattern = re.compile(rf"(?<![a-z]){re.escape(label.lower())}(?![a-z])")
        if pattern.search(low):
            label_hits.add(float(point))
            low = pattern.sub(" ", low)
    low = _strip_scale_mentions(low, fmt.scale_min, fmt.scale_max)
    numbers = [float(m.group()) for m in _NUMBER.finditer(low)]
    if numbers:
        found = _check_rating(probe, numbers)
        if found.problem:
            return found
        if label_hits and set(found.values) != label_hits:
            return _Found(problem=f"number {found.values[0]:g} disagrees with label(s) {sorted(label_hits)}")
        return found
    if len(label_hits) == 1:
        return _Found(tuple(label_hits))
    if label_hits:
        return _Found(problem=f"several scale labels {sorted(label_hits)}")
    return _Found(problem="no rating or scale label found", empty=True)


def _check_rating(probe: Probe, numbers: list[float]) -> _Found:
    lo, hi = probe.format.scale_min, probe.format.scale_max
    distinct = sorted(set(numbers))
    if len(distinct) > 1:
        return _Found(problem=f"several different numbers {[f'{x:g}' for x in distinct]}")
    x = distinct[0]
    if not lo <= x <= hi:
        return _Found(problem=f"rating {x:g} outside the scale {lo}..{hi}")
    if x != int(x):
        return _Found(problem=f"rating {x:g} is not a scale point")
    return _Found((x,))


# Yes / no

_YES_WORDS = re.compile(r"\b(?:yes|yeah|yep|yup)\b")
_NO_WORDS = re.compile(r"\b(?:no|nope|nah)\b")
_UNSURE_WORDS = re.compile(r"\b(?:unsure|not sure|uncertain|maybe|can't decide|cannot decide)\b")
_LIKE_PHRASE = re.compile(r"\bi (?:do |really |would )?(?:like|love|enjoy)\b")
_DISLIKE_PHRASE = re.compile(
    r"\bi (?:do not|don't|did not|didn't|would not|wouldn't) (?:really )?(?:like|love|enjoy)\b|\bi dislike\b"
)


# Words after a leading yes/no that take it back or qualify it ("Yes, but ...", "No, though ...").
_HEDGE_WORDS = re.compile(
    r"\b(?:but|however|though|although|except|partly|partially|sort of|kind of|somewhat|depends)\b"
)


def _lead(text: str) -> tuple[str, str, str] | None:
    """(answer, word, rest) when ``text`` starts with a yes/no/unsure word, else None."""
    first = re.match(r"[\s\"'(\[]*([a-z']+(?: sure)?)", text.lower())
    if not first:
        return None
    word = first.group(1)
    for pattern, answer in ((_YES_WORDS, YES), (_NO_WORDS, NO), (_UNSURE_WORDS, UNSURE)):
        if pattern.fullmatch(word):
            return answer, word, text[first.end() :]
    return None


def _leading_yes_no(text: str) -> ParsedAnswer | None:
    """A leading yes/no/unsure word, trusted only when the rest neither contradicts nor hedges it.

    None when the text does not start with such a word, or when the rest gives another answer
    ("No doubt about it, yes."): the whole text then decides (and reports the conflict).
    """
    found = _lead(text)
    if found is None:
        return None
    lead, word, rest = found
    others = _scan_yes_no(rest)
    if not others.empty and (others.problem or set(others.values) != {lead}):
        return None
    hedge = _HEDGE_WORDS.search(rest.lower())
    if hedge:
        return _unparsed(f"hedged answer: {word!r} qualified by {hedge.group()!r}")
    return _parsed(lead, "text", "leading yes/no word")


_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]])[.!;]\s|\n", re.IGNORECASE)


def _marked_sentences(text: str) -> list[str]:
    """The whole sentence after each answer marker (commas included, unlike the segments)."""
    out = []
    for m in _MARKER.finditer(text):
        sentence = _SENTENCE_END.split(text[m.end() :], maxsplit=1)[0].strip()
        if sentence:
            out.append(sentence)
    return out


def _check_marked_yes_no(text: str) -> ParsedAnswer | None:
    """An unparsed answer when a marked yes/no is hedged in its sentence ("Answer: yes, but ...")."""
    for sentence in _marked_sentences(text):
        if _lead(sentence) is not None:
            checked = _leading_yes_no(sentence)
            if checked is not None and not checked.ok:
                return checked
    return None


def _marked_conflict(text: str) -> bool:
    """A marked yes/no contradicted in its own sentence ("I'd say yes, but honestly no")."""
    return any(_lead(s) is not None and _leading_yes_no(s) is None for s in _marked_sentences(text))


def _scan_yes_no(text: str) -> _Found:
    low = text.lower()
    hits = set()
    unsure = _UNSURE_WORDS.search(low)
    low_wo_unsure = _UNSURE_WORDS.sub(" ", low)
    if _YES_WORDS.search(low_wo_unsure):
        hits.add(YES)
    if _NO_WORDS.search(low_wo_unsure):
        hits.add(NO)
    if unsure:
        hits.add(UNSURE)
    if not hits:
        if _DISLIKE_PHRASE.search(low):
            hits.add(NO)
        if _LIKE_PHRASE.search(_DISLIKE_PHRASE.sub(" ", low)):
            hits.add(YES)
    if len(hits) == 1:
        return _Found(tuple(hits))
    if hits:
        return _Found(problem=f"conflicting answers {sorted(hits)}")
    return _Found(problem="no yes/no answer found", empty=True)


# Choice


def _scan_choice(probe: Probe, text: str) -> _Found:
    labels = [o.label for o in probe.format.options]
    alt = "|".join(re.escape(lb) for lb in sorted(labels, key=len, reverse=True))
    hits: set[str] = set()
    stripped = text.strip().strip(".()[]*:!\"'").strip()
    if stripped in labels:
        return _Found((stripped,))
    upper = {lb.upper(): lb for lb in labels}
    if len(stripped) == 1 and stripped.upper() in upper:  # "b" for label "B"
        return _Found((upper[stripped.upper()],))
    patterns = [
        rf"\(({alt})\)",  # (B)
        rf"\[({alt})\]",  # [B]
        rf"(?:^|\n)\s*({alt})\s*[).:](?:\s|$)",  # "B) ...", "B. ..." at a line start
        rf"(?i:option|choice|answer|letter)\s*(?i:is)?\s*[:\-]?\s*({alt})(?![A-Za-z0-9])",
    ]
    for pat in patterns:
        hits.update(m.group(1) for m in re.finditer(pat, text))
    if not hits:
        low = text.lower()
        by_text = {o.label for o in probe.format.options if o.text and o.text.lower() in low}
        if len(by_text) == 1:
            return _Found(tuple(by_text))
        if by_text:
            return _Found(problem=f"text of several options {sorted(by_text)} quoted")
        return _Found(problem=f"no option label {labels} found", empty=True)
    if len(hits) == 1:
        return _Found(tuple(hits))
    return _Found(problem=f"several options {sorted(hits)} named")


# --- results ---------------------------------------------------------------------------------


def _parsed(value: AnswerValue, method: Literal["text", "json"], detail: str) -> ParsedAnswer:
    return ParsedAnswer(status="parsed", value=value, method=method, detail=detail)


def _unparsed(detail: str) -> ParsedAnswer:
    return ParsedAnswer(status="unparsed", method="none", detail=detail)


def _result(found: _Found, method: Literal["text", "json"], rule: str) -> ParsedAnswer:
    if found.problem or len(found.values) != 1:
        return _unparsed(found.problem or "no answer found")
    return _parsed(found.values[0], method, rule)


def tally(answers: Sequence[ParsedAnswer]) -> dict[str, int]:
    """Counts of each outcome: ``{"parsed": n, "unparsed": n, "error": n}``."""
    out = {"parsed": 0, "unparsed": 0, "error": 0}
    for a in answers:
        out[a.status] += 1
    return out
