"""The prompts of the baselines and of the counterfactual steps (written for this project)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from valuespectrum.designs.couple.attribution import CRITERIA, describe
from valuespectrum.designs.couple.calls import chat
from valuespectrum.designs.couple.relations import RelationGraph
from valuespectrum.types import Message

ANSWER_FORMAT = "Answer in a few sentences: state your stance (yes, no or neutral) and your main reasons."
MEANING = {
    1: "the answer should oppose it",
    2: "the answer should leave it out",
    3: "the answer may mention it without weight",
    4: "the answer should show it, though not as its main point",
    5: "the answer should put it first",
}
IMPORTANCE = {
    5: "matters most to you",
    4: "matters to you",
    3: "matters a little to you",
    2: "does not matter to you",
    1: "is something you reject",
}
PHRASE = {
    "congruent": "is congruent with",
    "opposite": "is opposite to",
    "influences": "influences",
    "influenced by": "is influenced by",
    "linked": "is linked both ways with",
}


def ranked(target: Mapping[str, int]) -> list[tuple[str, int]]:
    return sorted(target.items(), key=lambda kv: -kv[1])


def raw(question: str) -> list[Message]:
    return chat(None, f"{question}\n{ANSWER_FORMAT}")


def role_prompt(question: str, target: Mapping[str, int]) -> list[Message]:
    who = "; ".join(f"{d} {IMPORTANCE[s]}" for d, s in ranked(target))
    return chat(
        f"You are a person with these values: {who}. Answer as this person would.",
        f"{question}\n{ANSWER_FORMAT}",
    )


def value_prompt(question: str, target: Mapping[str, int]) -> list[Message]:
    lines = "\n".join(f"- {describe(d)}: {s}/5 ({MEANING[s]})" for d, s in ranked(target))
    return chat(
        None,
        f"{CRITERIA}\n\nYour answer must reflect this value profile, and a value scored higher must be "
        f"reflected more strongly than one scored lower:\n{lines}\n\nQuestion: {question}\n{ANSWER_FORMAT}",
    )


def _scores(profile: Mapping[str, float | None]) -> str:
    return ", ".join(f"{d} {'?' if s is None else f'{s:g}'}" for d, s in profile.items())


def counterfactual(
    question: str,
    dim: str,
    target: Mapping[str, int],
    graph: RelationGraph,
    concepts: Sequence[str],
    attributed: Mapping[str, float | None],
) -> list[Message]:
    """Counterfactual concepts for one target value: relations, relative importance, the
    original concepts and the profile they showed (the value-to-concept relation)."""
    s = target[dim]
    rel = [
        f"- {dim} {PHRASE[r]} {b}" + (f" (target {target[b]})" if b in target else "")
        for b, r in graph.related(dim)
    ]
    relations = "\n".join(rel) if rel else "- (no related value in the graph)"
    importance = " > ".join(f"{d} {v}" for d, v in ranked(target))
    original = "\n".join(f"- {c}" for c in concepts) if concepts else "- (none could be read)"
    return chat(
        "You write the value concepts of an answer that a person with a given value profile would give.",
        f"{CRITERIA}\n\nQuestion: {question}\n\nTarget value: {describe(dim)}; target score {s}/5: {MEANING[s]}.\n"
        f"Relations among values ({graph.source}):\n{relations}\n"
        f"Relative importance in the target profile: {importance}\n\n"
        f"Value concepts of the original answer:\n{original}\nThey showed this profile: {_scores(attributed)}\n\n"
        "Reason in five steps: (1) what the target score asks of this value here; (2) what the related "
        "values imply; (3) which original concepts to keep, change or drop; (4) what new concepts are "
        "needed; (5) check them against the relative importance. Then give 1 to 3 concepts of 5 to 15 "
        "words, one per line starting with '- ', between <answer> and </answer>.",
    )


def final(
    question: str, original: str, target: Mapping[str, int], concepts: Mapping[str, Sequence[str]]
) -> list[Message]:
    """The answer built from the counterfactual concepts, aware of the original answer (style and
    content unrelated to values are kept from it)."""
    blocks = "\n".join(
        f"{d} (target {target[d]}/5):\n"
        + ("\n".join(f"- {c}" for c in concepts.get(d, [])) or "- (no concept)")
        for d, _ in ranked(target)
    )
    return chat(
        "You rewrite an answer so that it expresses a given value profile.",
        f"Question: {question}\n\nOriginal answer (keep its style and whatever is unrelated to values):\n{original}\n\n"
        f"Value concepts the new answer must be built from, most important value first:\n{blocks}\n\n"
        "Write the new answer in this format:\nStance: yes, no or neutral\nKey points:\n"
        "1. a point and its justification\n2. a point and its justification\n3. a point and its justification",
    )
