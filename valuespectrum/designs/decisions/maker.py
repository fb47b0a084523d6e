"""A model as decision maker: given a scenario and a preference profile, it ranks the actions.

With option log-likelihoods the model is asked for the best action and the actions are
ranked by the log-likelihood of their numbers; otherwise it writes a ranking that a strict
parser accepts only as a full ordering of the action numbers (anything else is unparsed).
Records are appended to a torn-tail-safe JSONL, one per (profile, scenario); a rerun skips
what is stored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from valuespectrum.backends.base import Backend
from valuespectrum.designs.decisions.dataset import DIMENSIONS, Scenario
from valuespectrum.runs.jsonl import JsonlWriter, read_jsonl
from valuespectrum.types import GenerateConfig, Message, ModelRequest


def prompt(s: Scenario, preferences: Sequence[float], *, best_only: bool) -> str:
    acts = "\n".join(f"{k + 1}. {a.description}" for k, a in enumerate(s.actions))
    prefs = ", ".join(f"{d} {p:.2f}" for d, p in zip(DIMENSIONS, preferences, strict=True))
    ask = (
        "Which action should this person take? Answer with the action number."
        if best_only
        else "Rank all actions from best to worst for this person. Answer with the action numbers separated by commas."
    )
    return (
        f"Scenario: {s.text}\nActions:\n{acts}\n"
        f"How much this person cares about each value (0 = not at all, 1 = very much): {prefs}.\n{ask}"
    )


def parse_ranking(text: str, n: int) -> list[int] | None:
    """0-based ranking from a first line like ``2, 1, 3`` that orders all n actions, else None."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return None
    line = re.sub(r"^(?:ranking|answer)\s*[:=-]\s*", "", lines[0], flags=re.IGNORECASE).strip(" .*")
    if not re.fullmatch(r"\d+(?:\s*(?:,|>|\s)\s*\d+)*", line):
        return None
    nums = [int(x) for x in re.findall(r"\d+", line)]
    if sorted(nums) != list(range(1, n + 1)):
        return None
    return [x - 1 for x in nums]


def rank_actions(
    backend: Backend,
    tasks: Sequence[tuple[str, Scenario, Sequence[float]]],
    out: str | Path,
    *,
    max_new_tokens: int = 24,
) -> dict[tuple[str, str], dict[str, Any]]:
    """Rank every (profile id, scenario, preferences) task not yet in ``out``; return all records."""
    path = Path(out)
    done = {(r["profile"], r["scenario"]): r for r in read_jsonl(path)}
    use_options = backend.supports_option_logprobs
    todo = [t for t in tasks if (t[0], t[1].id) not in done]
    reqs = [
        ModelRequest(
            request_id=f"{pid}/{s.id}",
            messages=[Message.text("user", prompt(s, prefs, best_only=use_options))],
            options=[str(k + 1) for k in range(len(s.actions))] if use_options else None,
            config=GenerateConfig(
                max_new_tokens=max_new_tokens, temperature=0.0, generate_text=not use_options
            ),
            metadata={"probe_id": f"{pid}/{s.id}", "design": "decisions"},
        )
        for pid, s, prefs in todo
    ]
    with JsonlWriter(path) as writer:
        for start in range(0, len(reqs), 32):
            chunk = reqs[start : start + 32]
            resps = backend.generate(chunk)
            for (pid, s, _), req, resp in zip(todo[start : start + 32], chunk, resps, strict=True):
                rec = _record(pid, s, req, resp, use_options)
                writer.write(rec)
                done[(pid, s.id)] = rec
            writer.sync()
    return done


def _record(pid: str, s: Scenario, req: ModelRequest, resp: Any, use_options: bool) -> dict[str, Any]:
    ranking: list[int] | None = None
    lps = resp.option_logprobs
    if resp.error is not None:
        status, detail = "error", resp.error
    elif use_options:
        if lps is None or len(lps) != len(s.actions):
            status, detail = "unparsed", "no option log-likelihoods in the response"
        elif not any(math.isfinite(x) for x in lps):
            status, detail = "unparsed", "every option log-likelihood is -inf"
        else:
            ranking = sorted(range(len(lps)), key=lambda k: (-lps[k], k))
            tie = len(set(lps)) < len(lps)
            status = "parsed"
            detail = "ranked by option log-likelihood" + (" (ties by action number)" if tie else "")
    else:
        ranking = parse_ranking(resp.text, len(s.actions))
        status, detail = (
            ("parsed", "full ordering") if ranking else ("unparsed", "not an ordering of all actions")
        )
    return {
        "profile": pid,
        "scenario": s.id,
        "method": "options" if use_options else "text",
        "prompt": req.messages[0].plain_text(),
        "option_logprobs": lps,
        "text": resp.text,
        "status": status,
        "detail": detail,
        "ranking": ranking,
        "model_id": resp.model_id,
    }
