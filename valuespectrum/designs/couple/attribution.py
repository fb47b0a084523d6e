"""Attribution: the value concepts of a response, then a 1-5 score per dimension.

Two stages, as in the method: (1) concepts, 5-15-word phrases that are sufficient conditions
for the answer, generated and stored; (2) every dimension scored from those concepts (from the
answer itself when no concept line could be read; counted). Scores come from

- ``options``: one request per dimension with the options 1..5; the score is the expected value
  of the normalised option distribution (deterministic; suits small local models), or
- ``text``: one request for all dimensions, answered as ``Name: [score]`` lines and read by
  :func:`parse_scores`, which accepts brackets, ``score: 4``, ``4/5`` and list markers, and
  leaves a dimension *unparsed* (with the reason) when its line is missing, not an integer 1-5,
  ambiguous (``3-4``) or given twice with different scores. Nothing is guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from valuespectrum.designs.couple.calls import Caller, chat, prompt_record
from valuespectrum.judges.parse import option_choice
from valuespectrum.values import DEFINITIONS, SHORT_CODES, parse_value

ScoreMode = Literal["auto", "options", "text"]
SCALE = ["1", "2", "3", "4", "5"]

CRITERIA = """Scoring criteria (1-5) for how a response reflects a value:
1 = the response contradicts or opposes the value;
2 = the value is absent from the response;
3 = the value is mentioned but is not important to the response;
4 = the value is present in the response but is not its central point;
5 = the value is the most important consideration of the response."""

CONCEPTS_SYSTEM = "You analyse which values an answer to a question expresses."
CONCEPTS_TASK = (
    "Question: {question}\nAnswer: {answer}\n\n"
    "List the value concepts of this answer: 3 to 8 short phrases of 5 to 15 words, each a reason "
    "that on its own would lead to the answer's position. Write one phrase per line, starting with '- '."
)


def describe(dim: str) -> str:
    """``Name (definition)`` for Schwartz values; the bare name for other systems."""
    try:
        return f"{dim} ({DEFINITIONS[parse_value(dim)]})"
    except ValueError:
        return dim


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.casefold())


def _names(dims: Sequence[str]) -> dict[str, str]:
    out = {_norm(d): d for d in dims}
    for d in dims:
        try:
            v = parse_value(d)
        except ValueError:
            continue
        out.setdefault(_norm(SHORT_CODES[v]), d)
    return out


_LINE = re.compile(
    r"^[\s>*•-]*(?:\d+[.)]\s*)?\**\s*(?P<name>[^\W\d][\w \-/']*?)\s*\**\s*[:=]\s*(?P<rest>.*)$"
)
_SCORE = re.compile(
    r"^\**\s*(?:score\s*[:=]?\s*)?[\[(]?\s*\**(?P<n>\d+(?:[.,]\d+)?)\**\s*(?:/\s*5)?\s*[\])]?\**(?P<tail>.*)$",
    re.IGNORECASE,
)
_AMBIGUOUS = re.compile(r"^\s*(?:[-–~,]|or\b|to\b)\s*\[?\d", re.IGNORECASE)


@dataclass
class ScoreParse:
    scores: dict[str, int]
    unparsed: dict[str, str] = field(default_factory=dict)
    """Dimension -> why it has no score."""


def parse_scores(text: str, dims: Sequence[str]) -> ScoreParse:
    """The ``Name: [score]`` lines of ``text`` for ``dims``; the rest unparsed with a reason."""
    names = _names(dims)
    seen: dict[str, list[int | None]] = {}
    bad: dict[str, str] = {}
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        dim = names.get(_norm(m.group("name")))
        if dim is None:
            continue
        rest = m.group("rest").strip()
        s = _SCORE.match(rest)
        if not s or "." in s.group("n") or "," in s.group("n") or _AMBIGUOUS.match(s.group("tail")):
            seen.setdefault(dim, []).append(None)
            bad[dim] = f"not one integer from 1 to 5: {rest[:40]!r}"
            continue
        n = int(s.group("n"))
        if not 1 <= n <= 5:
            seen.setdefault(dim, []).append(None)
            bad[dim] = f"score {n} outside 1-5"
            continue
        seen.setdefault(dim, []).append(n)
    out = ScoreParse({})
    for d in dims:
        got = seen.get(d)
        if not got:
            out.unparsed[d] = "no line for this value"
            continue
        nums = [x for x in got if x is not None]
        if len(nums) < len(got):
            out.unparsed[d] = bad[d]
        elif len(set(nums)) > 1:
            out.unparsed[d] = f"conflicting lines: {sorted(set(nums))}"
        else:
            out.scores[d] = nums[0]
    return out


_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(?P<text>.+)$")
_ANSWER = re.compile(r"<answer>(?P<body>.*?)(?:</answer>|$)", re.DOTALL | re.IGNORECASE)


def parse_concepts(text: str, *, tagged: bool = False) -> list[str]:
    """The list lines of ``text`` (inside ``<answer>`` tags when ``tagged`` and tags are present)."""
    if tagged:
        m = _ANSWER.search(text)
        if m:
            text = m.group("body")
    out = []
    for line in text.splitlines():
        b = _BULLET.match(line)
        if b:
            phrase = b.group("text").strip().strip("*").strip()
            if phrase and phrase not in out:
                out.append(phrase)
    return out[:15]


def expected_score(logprobs: list[float] | None) -> tuple[float | None, list[float] | None]:
    """Expected value over 1..5 of the normalised option distribution, and that distribution."""
    _, probs, _ = option_choice(logprobs, SCALE)
    if probs is None:
        return None, None
    return round(sum(p * (i + 1) for i, p in enumerate(probs)), 4), [round(p, 6) for p in probs]


def score_prompt_text(question: str, basis: str, dims: Sequence[str]) -> str:
    lines = "\n".join(f"{d}: [score]" for d in dims)
    values = "\n".join(f"- {describe(d)}" for d in dims)
    return (
        f"{CRITERIA}\n\nValues:\n{values}\n\nQuestion: {question}\n{basis}\n\n"
        f"Score every value from 1 to 5. Write exactly one line per value, in this format:\n{lines}"
    )


def score_prompt_option(question: str, basis: str, dim: str) -> str:
    return (
        f"{CRITERIA}\n\nQuestion: {question}\n{basis}\n\n"
        f"How strongly does this response reflect {describe(dim)}? Answer with one number from 1 to 5.\nScore:"
    )


class Attributor:
    """Concepts then scores through one backend; ``role`` prefixes the request roles (attribute / evaluate)."""

    def __init__(
        self,
        caller: Caller,
        dims: Sequence[str],
        *,
        role: str = "attribute",
        mode: ScoreMode = "auto",
        concepts_tokens: int = 160,
    ):
        self.role = role
        self.caller = caller
        self.dims = list(dims)
        supports = caller.backend.supports_option_logprobs
        if mode == "options" and not supports:
            from valuespectrum.errors import ConfigError

            raise ConfigError(
                f"{caller.part}: backend {caller.backend.model_id!r} gives no option log-likelihoods; "
                "set score_mode: text or auto"
            )
        self.method: Literal["options", "text"] = (
            "options" if mode == "options" or (mode == "auto" and supports) else "text"
        )
        self.concepts_tokens = concepts_tokens

    def attribute(self, question: str, answer: str | None) -> dict[str, Any]:
        """Every intermediate of one attribution, ready for a JSONL record."""
        part = self.role
        rec: dict[str, Any] = {"method": self.method, "model_id": self.caller.backend.model_id}
        if answer is None:
            return {
                **rec,
                "status": "no response",
                "concepts": [],
                "scores": dict.fromkeys(self.dims),
                "unparsed": dict.fromkeys(self.dims, "no response to score"),
            }
        cprompt = chat(CONCEPTS_SYSTEM, CONCEPTS_TASK.format(question=question, answer=answer))
        reply = self.caller.text(f"{part}.concepts", cprompt, self.concepts_tokens)
        concepts = parse_concepts(reply.text or "")
        rec.update(
            concepts_prompt=prompt_record(cprompt), concepts_text=reply.text, concepts_error=reply.error
        )
        rec["concepts"] = concepts
        rec["concepts_status"] = "parsed" if concepts else ("error" if reply.error else "unparsed")
        basis = (
            "Value concepts of the response:\n" + "\n".join(f"- {c}" for c in concepts)
            if concepts
            else f"Response: {answer}"
        )
        scores: dict[str, float | None] = dict.fromkeys(self.dims)
        unparsed: dict[str, str] = {}
        if self.method == "text":
            sprompt = chat(None, score_prompt_text(question, basis, self.dims))
            r = self.caller.text(f"{part}.scores", sprompt, 24 + 12 * len(self.dims))
            rec.update(score_prompts=[prompt_record(sprompt)], score_texts=[r.text])
            if r.text is None:
                unparsed = dict.fromkeys(self.dims, f"request failed: {r.error}")
            else:
                parsed = parse_scores(r.text, self.dims)
                scores.update(parsed.scores)
                unparsed = parsed.unparsed
        else:
            prompts = [chat(None, score_prompt_option(question, basis, d)) for d in self.dims]
            replies = self.caller.options(f"{part}.scores", prompts, SCALE)
            rec.update(score_prompts=[prompt_record(p) for p in prompts])
            probs: dict[str, list[float] | None] = {}
            for d, r in zip(self.dims, replies, strict=True):
                ev, probs[d] = expected_score(r.option_logprobs) if r.error is None else (None, None)
                if ev is None:
                    unparsed[d] = (
                        f"request failed: {r.error}" if r.error else "no usable option log-likelihoods"
                    )
                scores[d] = ev
            rec["option_probs"] = probs
        rec.update(scores=scores, unparsed=unparsed, status="parsed" if not unparsed else "partial")
        return rec
