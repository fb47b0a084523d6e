"""A model that grades free-text answers against a rubric and a fixed label set.

``Judge(backend, rubric, labels)`` builds one request per answer through the backend it is
given (wrap it in a response cache, or pass ``cache=``, and judgments are cached like every
request: greedy decoding makes them deterministic). Two ways to read the label:

- ``options``: the log-likelihood of each label as the answer; the highest wins. Needs a
  backend that returns option log-likelihoods (local HF models, llama.cpp-style servers).
- ``text``: a short generated answer read by a strict parser (see ``judges.parse``).

``mode="auto"`` picks ``options`` when the backend supports it. Unparsed and failed
judgments are kept and counted, each with the prompt it was given. A judge carries its
calibration (``judges.calibrate``) or says that it has none.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from valuespectrum.backends.base import Backend
from valuespectrum.errors import ConfigError
from valuespectrum.judges.parse import option_choice, parse_label
from valuespectrum.types import GenerateConfig, Message, ModelRequest, stable_hash

if TYPE_CHECKING:
    from valuespectrum.judges.calibration import Calibration

Mode = Literal["auto", "options", "text"]
UNCALIBRATED = "uncalibrated judge: agreement with human labels unknown"


@dataclass(frozen=True)
class JudgeItem:
    """One answer to grade; ``fields`` fill further placeholders of the rubric (e.g. ``value``)."""

    answer: str
    question: str = ""
    id: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)


class Judgment(BaseModel):
    """One grading, stored with the prompt that produced it."""

    item_id: str
    judge: str
    model_id: str
    label: str | None
    status: Literal["parsed", "unparsed", "error"]
    method: Literal["options", "text"]
    probs: list[float] | None = None
    """Normalised label probabilities (options method), aligned with the judge's labels."""
    text: str = ""
    detail: str = ""
    messages: list[Message]
    request_key: str
    cached: bool = False
    error: str | None = None
    calibrated: bool = False


class Judge:
    def __init__(
        self,
        backend: Backend,
        rubric: str,
        labels: Sequence[str],
        *,
        ordinal: bool = False,
        mode: Mode = "auto",
        system: str | None = None,
        name: str | None = None,
        max_new_tokens: int = 8,
        cache: str | Path | None = None,
    ) -> None:
        labels = [str(x).strip() for x in labels]
        if len(labels) < 2 or any(not x for x in labels):
            raise ConfigError(f"judge: give at least two non-empty labels, got {labels}")
        if len({x.casefold() for x in labels}) != len(labels):
            raise ConfigError(f"judge: labels must differ (case-insensitively), got {labels}")
        if mode not in ("auto", "options", "text"):
            raise ConfigError(f"judge: mode {mode!r} is not one of auto, options, text")
        if mode == "options" and not backend.supports_option_logprobs:
            raise ConfigError(
                f"judge: backend {backend.model_id!r} gives no option log-likelihoods; use mode='text' or 'auto'"
            )
        self._placeholders = {f for _, f, _, _ in string.Formatter().parse(rubric) if f}
        if "answer" not in self._placeholders:
            raise ConfigError("judge: the rubric must contain the placeholder {answer}")
        if cache is not None:
            from valuespectrum.backends.cache import CachedBackend

            backend = CachedBackend(backend, cache)
        self.backend = backend
        self.rubric = rubric
        self.labels = labels
        self.ordinal = ordinal
        self.method: Literal["options", "text"] = (
            "options"
            if mode == "options" or (mode == "auto" and backend.supports_option_logprobs)
            else "text"
        )
        self.system = system
        self.max_new_tokens = max_new_tokens
        self._name = name
        self.calibration: Calibration | None = None

    @property
    def id(self) -> str:
        """The judge's name, or a stable hash of what defines it (model, rubric, labels, method)."""
        if self._name:
            return self._name
        h = stable_hash([self.backend.model_id, self.rubric, self.labels, self.method, self.system])
        return f"judge-{h[:10]}"

    @property
    def calibrated(self) -> bool:
        return self.calibration is not None

    def messages(self, item: JudgeItem) -> list[Message]:
        values = {"answer": item.answer, "question": item.question, "labels": ", ".join(self.labels)}
        values.update(item.fields)
        missing = sorted(self._placeholders - set(values))
        if missing:
            raise ConfigError(
                f"judge: item {item.id or '?'} gives no value for rubric placeholder(s) {missing}; "
                "add them to the item's fields (columns of the labelled file)"
            )
        body = self.rubric.format_map(values).rstrip()
        body += f"\n\nAnswer with exactly one of: {', '.join(self.labels)}."
        msgs = [Message.text("system", self.system)] if self.system else []
        return [*msgs, Message.text("user", body)]

    def request(self, item: JudgeItem, index: int = 0) -> ModelRequest:
        options = list(self.labels) if self.method == "options" else None
        return ModelRequest(
            request_id=item.id or f"judge-{index}",
            messages=self.messages(item),
            config=GenerateConfig(
                max_new_tokens=self.max_new_tokens, temperature=0.0, generate_text=self.method == "text"
            ),
            options=options,
            metadata={"judge": self.id},
        )

    def grade(self, items: Sequence[JudgeItem], *, store: str | Path | None = None) -> list[Judgment]:
        """Grade every item (one batch); append the judgments to ``store`` (JSONL) when given."""
        reqs = [self.request(it, i) for i, it in enumerate(items)]
        resps = self.backend.generate(reqs) if reqs else []
        if len(resps) != len(reqs):
            raise RuntimeError(f"judge backend returned {len(resps)} responses for {len(reqs)} requests")
        out: list[Judgment] = []
        for req, resp in zip(reqs, resps, strict=True):
            base: dict[str, Any] = {
                "item_id": req.request_id,
                "judge": self.id,
                "model_id": resp.model_id or self.backend.model_id,
                "method": self.method,
                "text": resp.text,
                "messages": req.messages,
                "request_key": req.key(self.backend.model_id, self.backend.revision),
                "cached": resp.cached,
                "calibrated": self.calibrated,
            }
            if resp.error is not None:
                out.append(
                    Judgment(**base, label=None, status="error", detail="request failed", error=resp.error)
                )
                continue
            if self.method == "options":
                label, probs, detail = option_choice(resp.option_logprobs, self.labels)
                base["probs"] = probs
            else:
                parsed = parse_label(resp.text, self.labels)
                label, detail = parsed.label, parsed.detail
            status: Literal["parsed", "unparsed"] = "parsed" if label is not None else "unparsed"
            out.append(Judgment(**base, label=label, status=status, detail=detail))
        if store is not None:
            write_judgments(store, out)
        return out

    def describe(self) -> dict[str, Any]:
        """What a report shows beside a judged metric: who judged, how, and how well calibrated."""
        return {
            "judge": self.id,
            "model_id": self.backend.model_id,
            "method": self.method,
            "labels": self.labels,
            "ordinal": self.ordinal,
            "calibrated": self.calibrated,
            "calibration": self.calibration.headline() if self.calibration is not None else UNCALIBRATED,
        }


def write_judgments(path: str | Path, judgments: Sequence[Judgment]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        for j in judgments:
            fh.write(j.model_dump_json() + "\n")


def summarize(judge: Judge, judgments: Sequence[Judgment]) -> dict[str, Any]:
    """Counts per label, unparsed and failed judgments, and the judge's calibration status."""
    counts = Counter(j.label for j in judgments if j.status == "parsed")
    return {
        **judge.describe(),
        "n": len(judgments),
        "n_parsed": sum(j.status == "parsed" for j in judgments),
        "n_unparsed": sum(j.status == "unparsed" for j in judgments),
        "n_failed": sum(j.status == "error" for j in judgments),
        "counts": {lab: counts.get(lab, 0) for lab in judge.labels},
    }
