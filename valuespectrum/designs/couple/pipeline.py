"""The COUPLE pipeline and its baselines over one generator, one attributor and one evaluator.

Per (objective, question), in a fixed order:

1. ``raw``: the generator answers the question (once per question, shared by objectives).
2. ``role_prompt`` / ``value_prompt``: the generator answers as a person with the profile /
   with the scores and criteria spelled out.
3. ``couple``: the attributor attributes the raw answer (concepts, then scores: v'); the
   distance ``delta = sum |s'_i - s_i|`` over the objective's defining dimensions the
   attributor scored is compared with ``tau``: when ``delta > tau`` (or nothing was scored) the
   generator writes counterfactual concepts per defining dimension (relation graph, relative
   importance, the original concepts and v'), then the final answer from them; otherwise the raw
   answer stands and no counterfactual call is made.
4. The evaluator attributes each method's answer (once per distinct answer of a question) and
   the metrics compare its scores with the target on the defining dimensions.

Each pair becomes one JSONL record with every intermediate (prompts included); a rerun repairs
a torn last line and skips the pairs stored, so a killed run resumes to the same file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valuespectrum.designs.couple import prompts
from valuespectrum.designs.couple.attribution import Attributor, parse_concepts
from valuespectrum.designs.couple.calls import Caller, Reply, prompt_record
from valuespectrum.designs.couple.metrics import profile_metrics
from valuespectrum.designs.couple.objectives import ValueObjective
from valuespectrum.designs.couple.questions import Question
from valuespectrum.designs.couple.relations import RelationGraph
from valuespectrum.runs.jsonl import JsonlWriter, read_jsonl, repair_tail

METHODS = ("raw", "role_prompt", "value_prompt", "couple")


@dataclass
class Pipeline:
    generator: Caller
    attributor: Attributor
    evaluator: Attributor
    graph: RelationGraph
    tau: float = 0.0
    k: int = 5
    methods: Sequence[str] = METHODS
    answer_tokens: int = 200
    concept_tokens: int = 200

    def __post_init__(self) -> None:
        self._raw: dict[str, tuple[list[dict[str, str]], Reply]] = {}
        self._attributed: dict[str, dict[str, Any]] = {}
        self._evaluated: dict[tuple[str, str | None], dict[str, Any]] = {}

    # -- shared per question ---------------------------------------------------------------

    def raw_answer(self, q: Question) -> tuple[list[dict[str, str]], Reply]:
        if q.id not in self._raw:
            msgs = prompts.raw(q.text)
            self._raw[q.id] = (
                prompt_record(msgs),
                self.generator.text("generate.raw", msgs, self.answer_tokens),
            )
        return self._raw[q.id]

    def attributed_raw(self, q: Question, text: str | None) -> dict[str, Any]:
        if q.id not in self._attributed:
            self._attributed[q.id] = self.attributor.attribute(q.text, text)
        return self._attributed[q.id]

    def evaluate(self, q: Question, text: str | None) -> dict[str, Any]:
        key = (q.id, text)
        if key not in self._evaluated:
            self._evaluated[key] = self.evaluator.attribute(q.text, text)
        return self._evaluated[key]

    # -- one pair --------------------------------------------------------------------------

    def run_pair(self, obj: ValueObjective, q: Question) -> dict[str, Any]:
        target = obj.target(self.k)
        dims = list(target)
        responses: dict[str, dict[str, Any]] = {}
        raw_prompt, raw_reply = self.raw_answer(q)
        if "raw" in self.methods:
            responses["raw"] = {"prompt": raw_prompt, "text": raw_reply.text, "error": raw_reply.error}
        for name, build in (("role_prompt", prompts.role_prompt), ("value_prompt", prompts.value_prompt)):
            if name in self.methods:
                msgs = build(q.text, target)
                r = self.generator.text(f"generate.{name}", msgs, self.answer_tokens)
                responses[name] = {"prompt": prompt_record(msgs), "text": r.text, "error": r.error}
        couple: dict[str, Any] | None = None
        if "couple" in self.methods:
            couple = self.counterfactual(q, raw_reply.text, target)
            responses["couple"] = {
                "prompt": couple.pop("final_prompt"),
                "text": couple["final_text"],
                "error": couple.pop("final_error"),
            }
        evaluation = {}
        for name, resp in responses.items():
            ev = self.evaluate(q, resp["text"])
            evaluation[name] = {**ev, "metrics": profile_metrics(target, ev["scores"], dims)}
        return {
            "objective": obj.name,
            "question_id": q.id,
            "question": q.text,
            "target": target,
            "responses": responses,
            "couple": couple,
            "evaluation": evaluation,
        }

    def counterfactual(self, q: Question, original: str | None, target: dict[str, int]) -> dict[str, Any]:
        att = self.attributed_raw(q, original)
        scored = {d: att["scores"].get(d) for d in target}
        known = [abs(float(s) - target[d]) for d, s in scored.items() if s is not None]
        delta = round(sum(known), 4) if known else None
        intervene = original is not None and (delta is None or delta > self.tau)
        rec: dict[str, Any] = {
            "attribution": att,
            "attributed_target_dims": scored,
            "delta": delta,
            "delta_dims_unscored": sum(s is None for s in scored.values()),
            "tau": self.tau,
            "intervened": intervene,
            "counterfactual": [],
        }
        if not intervene:
            rec.update(
                final_prompt=None, final_text=original, final_error=None if original else "no raw answer"
            )
            return rec
        assert original is not None
        concepts: dict[str, list[str]] = {}
        cf_prompts = [
            prompts.counterfactual(q.text, d, target, self.graph, att.get("concepts", []), att["scores"])
            for d in target
        ]
        replies = self.generator.texts("couple.counterfactual", cf_prompts, self.concept_tokens)
        for d, msgs, r in zip(target, cf_prompts, replies, strict=True):
            concepts[d] = parse_concepts(r.text or "", tagged=True)
            rec["counterfactual"].append(
                {
                    "dimension": d,
                    "prompt": prompt_record(msgs),
                    "text": r.text,
                    "error": r.error,
                    "concepts": concepts[d],
                    "tagged": r.text is not None and "<answer>" in r.text.lower(),
                    "status": "parsed" if concepts[d] else ("error" if r.error else "unparsed"),
                }
            )
        msgs = prompts.final(q.text, original, target, concepts)
        r = self.generator.text("couple.final", msgs, self.answer_tokens)
        rec.update(final_prompt=prompt_record(msgs), final_text=r.text, final_error=r.error)
        return rec


def pair_key(rec: dict[str, Any]) -> tuple[str, str]:
    return (str(rec["objective"]), str(rec["question_id"]))


def run_pairs(
    pipeline: Pipeline,
    objectives: Sequence[ValueObjective],
    questions: Sequence[Question],
    out: str | Path,
    *,
    progress: Any = None,
) -> list[dict[str, Any]]:
    """Run every (objective, question) not yet in ``out``; return all records in run order."""
    path = Path(out)
    repair_tail(path)
    done = {pair_key(r): r for r in read_jsonl(path)}
    total = len(objectives) * len(questions)
    with JsonlWriter(path) as writer:
        for obj in objectives:
            for q in questions:
                if (obj.name, q.id) in done:
                    continue
                rec = pipeline.run_pair(obj, q)
                writer.write(rec)
                writer.sync()
                done[pair_key(rec)] = rec
                if progress is not None:
                    progress(len(done), total)
    return [done[(o.name, q.id)] for o in objectives for q in questions if (o.name, q.id) in done]
