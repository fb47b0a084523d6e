"""A scripted, deterministic mock backend for tests and dry runs.

Answers come from a script: a callable ``(request) -> str`` or a mapping from a
request's ``metadata["probe_id"]`` (or request_id) to a fixed answer, with a default.
Option log-likelihoods, when requested, put all mass on the option that the scripted
text names, so logprob scoring and text parsing agree; ``option_scores`` instead scripts the
log-likelihoods themselves (``(request) -> one per option``), and the answer text is then the
most likely option.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence

from valuespectrum.types import ModelRequest, ModelResponse, stable_hash

Script = Callable[[ModelRequest], str] | Mapping[str, str]
OptionScores = Callable[[ModelRequest], Sequence[float]]


class MockBackend:
    """Deterministic backend answering from a script; counts calls for assertions."""

    def __init__(
        self,
        script: Script | None = None,
        *,
        default: str = "4",
        model_id: str = "mock",
        logprobs: bool = False,
        fail_ids: Sequence[str] = (),
        delay_s: float = 0.0,
        images: bool = True,
        option_scores: OptionScores | None = None,
    ) -> None:
        self._script = script
        self._option_scores = option_scores
        self._default = default
        self._model_id = model_id
        self._logprobs = logprobs or option_scores is not None
        self._fail_ids = set(fail_ids)
        self._delay_s = delay_s
        self._images = images
        self.calls = 0
        self.requests_seen: list[ModelRequest] = []

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def revision(self) -> str | None:
        return None

    @property
    def cache_identity(self) -> str:
        """Digest of what decides the answers: the script, the default, failures, logprobs."""
        script: object = self._script
        if isinstance(self._script, Mapping):
            script = dict(self._script.items())
        elif callable(script):
            code = getattr(script, "__code__", None)
            script = [
                getattr(script, "__module__", ""),
                getattr(script, "__qualname__", type(script).__qualname__),
                code.co_code.hex() if code is not None else "",
                repr(code.co_consts) if code is not None else "",
            ]
        return (
            "mock-"
            + stable_hash(
                {
                    "script": script,
                    "default": self._default,
                    "fail": sorted(self._fail_ids),
                    "lp": self._logprobs,
                    "scores": _code_identity(self._option_scores),
                }
            )[:16]
        )

    @property
    def supports_option_logprobs(self) -> bool:
        return self._logprobs

    @property
    def supports_images(self) -> bool:
        return self._images

    def answer(self, request: ModelRequest) -> str:
        if self._script is None:
            return self._default
        if callable(self._script):
            return self._script(request)
        key = str(request.metadata.get("probe_id", request.request_id))
        return self._script.get(key, self._script.get(request.request_id, self._default))

    def generate(self, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        out: list[ModelResponse] = []
        for req in requests:
            self.calls += 1
            self.requests_seen.append(req)
            if self._delay_s:
                time.sleep(self._delay_s)
            if req.request_id in self._fail_ids or req.metadata.get("probe_id") in self._fail_ids:
                out.append(
                    ModelResponse(
                        request_id=req.request_id, model_id=self._model_id, error="scripted failure"
                    )
                )
                continue
            text = self.answer(req)
            lps: list[float] | None = None
            if self._option_scores is not None and req.options:
                lps = [float(x) for x in self._option_scores(req)]
                text = req.options[max(range(len(lps)), key=lps.__getitem__)]
            elif self._logprobs and req.options:
                hit = [o.strip().lower() == text.strip().lower() for o in req.options]
                lps = [0.0 if h else -math.inf for h in hit] if any(h for h in hit) else None
            out.append(
                ModelResponse(
                    request_id=req.request_id, text=text, option_logprobs=lps, model_id=self._model_id
                )
            )
        return out

    def close(self) -> None:
        return None


def _code_identity(fn: object) -> list[str] | None:
    if fn is None:
        return None
    code = getattr(fn, "__code__", None)
    return [
        getattr(fn, "__module__", ""),
        getattr(fn, "__qualname__", type(fn).__qualname__),
        code.co_code.hex() if code is not None else "",
        repr(code.co_consts) if code is not None else "",
    ]
