"""Requests to the pipeline's backends, keyed by prompt role and counted.

Each request carries ``metadata["probe_id"] = role`` (``generate.raw``, ``attribute.concepts``,
``evaluate.scores``, ``couple.counterfactual`` ...), so a scripted mock answers by role and the
run can report how many calls each role made. Decoding is greedy: answers are deterministic and
cacheable. A failed request comes back as text None with its error; nothing raises for one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from valuespectrum.backends.base import Backend
from valuespectrum.types import GenerateConfig, Message, ModelRequest


@dataclass(frozen=True)
class Reply:
    text: str | None
    error: str | None = None
    option_logprobs: list[float] | None = None


def prompt_record(messages: Sequence[Message]) -> list[dict[str, str]]:
    return [{"role": m.role, "text": m.plain_text()} for m in messages]


def chat(system: str | None, user: str) -> list[Message]:
    msgs = [Message.text("system", system)] if system else []
    return [*msgs, Message.text("user", user)]


@dataclass
class Caller:
    """One backend in one part (generator, attributor, evaluator) of the pipeline."""

    backend: Backend
    part: str
    max_new_tokens: int = 256
    calls: Counter[str] = field(default_factory=Counter)

    def _requests(
        self, role: str, prompts: Sequence[list[Message]], options: list[str] | None, max_new_tokens: int
    ) -> list[ModelRequest]:
        out = []
        for msgs in prompts:
            self.calls[role] += 1
            out.append(
                ModelRequest(
                    request_id=f"{self.part}/{role}/{self.calls[role]}",
                    messages=msgs,
                    options=options,
                    config=GenerateConfig(
                        max_new_tokens=max_new_tokens, temperature=0.0, generate_text=options is None
                    ),
                    metadata={"probe_id": role, "design": "couple"},
                )
            )
        return out

    def _send(self, reqs: list[ModelRequest]) -> list[Reply]:
        resps = self.backend.generate(reqs) if reqs else []
        if len(resps) != len(reqs):
            raise RuntimeError(
                f"{self.part} backend returned {len(resps)} responses for {len(reqs)} requests"
            )
        return [
            Reply(None, r.error) if r.error is not None else Reply(r.text, None, r.option_logprobs)
            for r in resps
        ]

    def texts(
        self, role: str, prompts: Sequence[list[Message]], max_new_tokens: int | None = None
    ) -> list[Reply]:
        return self._send(self._requests(role, prompts, None, max_new_tokens or self.max_new_tokens))

    def text(self, role: str, prompt: list[Message], max_new_tokens: int | None = None) -> Reply:
        return self.texts(role, [prompt], max_new_tokens)[0]

    def options(self, role: str, prompts: Sequence[list[Message]], options: list[str]) -> list[Reply]:
        return self._send(self._requests(role, prompts, list(options), 1))
