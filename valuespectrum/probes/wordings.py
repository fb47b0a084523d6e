"""Prompt wordings: the instruction and answer-scale texts an item is asked with.

Published designs average a profile over several wordings of the same instrument (three
wordings, each in both label orders), so a value profile that holds only under one phrasing
is seen as such. A :class:`Wording` holds the texts per answer kind; a kind it leaves out is
asked with the default text. The ``default`` wording is the suite's long-standing prompt
(``render_probe`` without a wording), so runs that name no wordings ask exactly what they
always asked.

Texts are templates (``str.format``); each field names the placeholders it accepts and
which it needs (``{first}``/``{second}``: the yes/no labels in presented order, so both
label orders stay visible; ``{lo}``/``{hi}``: the scale's ends). Write ``{{`` for a brace.
Every text here is written for this project.
"""

from __future__ import annotations

import string
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from valuespectrum.runs.spec import check_slug


def _check_template(text: str, allowed: set[str], required: set[str], what: str) -> str:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ValueError(f"{what}: {exc} (write '{{{{' or '}}}}' for a literal brace)") from exc
    unknown = sorted(names - allowed)
    if unknown:
        raise ValueError(
            f"{what}: unknown placeholder(s) {unknown}; this text may use {sorted(allowed) or 'none'}"
        )
    missing = sorted(required - names)
    if missing:
        raise ValueError(f"{what}: needs the placeholder(s) {['{' + m + '}' for m in missing]}")
    if not text.strip():
        raise ValueError(f"{what}: must not be empty")
    return text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LikertWording(_Strict):
    """Rating items (the portrait bank, Value Portrait's query-response items)."""

    instruction: str
    """The question after a portrait, e.g. "How much is this person like you?"."""
    response_instruction: str | None = None
    """The question after a (query, response) item; default: the default wording's."""
    scale: str
    """The answer scale. Placeholders: ``{lo}``, ``{hi}`` (needed), ``{legend}`` (the
    "1 = ..." lines of a labelled scale, empty for an unlabelled one), ``{low_end}``,
    ``{high_end}`` (the labels, or least/most, of the presented ends). Empty lines are dropped."""

    @field_validator("instruction", "response_instruction")
    @classmethod
    def _question(cls, v: str | None) -> str | None:
        return None if v is None else _check_template(v, set(), set(), "a Likert question")

    @field_validator("scale")
    @classmethod
    def _scale(cls, v: str) -> str:
        return _check_template(v, {"lo", "hi", "legend", "low_end", "high_end"}, {"lo", "hi"}, "scale")


class YesNoWording(_Strict):
    """Yes/no items (the agreement bank, Value-Spectrum's "do you like it?" items)."""

    instruction: str
    """How to answer, with ``{first}`` and ``{second}`` (the labels as presented)."""
    reason: str | None = None
    """For items that ask why (items with media, ``ask_reason``): ``{first}``, ``{second}``."""
    vqa_question: str | None = None
    """Replaces the Value-Spectrum question "Do you like the content of this image/video?";
    ``{kind}`` is image or video."""

    @field_validator("instruction", "reason")
    @classmethod
    def _labels(cls, v: str | None) -> str | None:
        if v is None:
            return None
        return _check_template(v, {"first", "second"}, {"first", "second"}, "a yes/no instruction")

    @field_validator("vqa_question")
    @classmethod
    def _vqa(cls, v: str | None) -> str | None:
        return None if v is None else _check_template(v, {"kind"}, set(), "vqa_question")


class ChoiceWording(_Strict):
    """Multiple-choice items (the dilemma bank)."""

    instruction: str
    """After the lettered options, e.g. "Answer with the letter of your choice only."."""

    @field_validator("instruction")
    @classmethod
    def _text(cls, v: str) -> str:
        return _check_template(v, set(), set(), "a choice instruction")


class Wording(_Strict):
    """One wording of the run's instruments; kinds left out keep the default text."""

    id: str
    likert: LikertWording | None = None
    yes_no: YesNoWording | None = None
    choice: ChoiceWording | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_slug(v, "wording id")

    @property
    def is_default(self) -> bool:
        return self.likert is None and self.yes_no is None and self.choice is None


DEFAULT_WORDING_ID = "default"

BUILTIN_WORDINGS: dict[str, Wording] = {
    w.id: w
    for w in (
        Wording(id=DEFAULT_WORDING_ID),
        Wording(
            id="direct",
            likert=LikertWording(
                instruction="How well does this description fit you?",
                response_instruction="How close is this response to what you would say?",
                scale="Give a number from {lo} to {hi}, where:\n{legend}\nGive only the number.",
            ),
            yes_no=YesNoWording(
                instruction="Reply {first} or {second}, nothing else.",
                reason="Reply {first} or {second}, then give your reason in one sentence.",
                vqa_question="Would you enjoy this {kind}?",
            ),
            choice=ChoiceWording(instruction="Which option do you pick? Give its letter and nothing else."),
        ),
        Wording(
            id="reflective",
            likert=LikertWording(
                instruction="Thinking about yourself, how similar are you to the person described?",
                response_instruction="Thinking about yourself, how similar is this response to your own?",
                scale="Use the scale from {lo} ({low_end}) to {hi} ({high_end}):\n{legend}\n"
                "Write just one number.",
            ),
            yes_no=YesNoWording(
                instruction="Answer from your own point of view: write {first} or {second} only.",
                reason="Write {first} or {second}, then one sentence on why.",
                vqa_question="Is this {kind} something you would like to see?",
            ),
            choice=ChoiceWording(
                instruction="Think about what matters most to you, then write only the letter of the "
                "option you would take."
            ),
        ),
    )
}
"""Three wordings of every built-in bank: the default, a direct one and a reflective one."""


def list_wordings() -> list[str]:
    return list(BUILTIN_WORDINGS)


def coerce_wording(raw: Any) -> Any:
    """A manifest entry: a built-in wording's id, or a mapping (left to validation)."""
    if isinstance(raw, str):
        if raw not in BUILTIN_WORDINGS:
            raise ValueError(
                f"unknown wording {raw!r}; built-in wordings are {list_wordings()}, or give a mapping "
                "with id and the likert/yes_no/choice texts"
            )
        return BUILTIN_WORDINGS[raw]
    return raw


__all__ = [
    "BUILTIN_WORDINGS",
    "DEFAULT_WORDING_ID",
    "ChoiceWording",
    "LikertWording",
    "Wording",
    "YesNoWording",
    "coerce_wording",
    "list_wordings",
]
