"""Backend for OpenAI-compatible chat-completion servers (vLLM, llama.cpp, hosted APIs).

Requests go out with httpx (no dependency on the ``openai`` package), a few at a time
(``max_concurrency``). Images and video frames travel as base64 data URLs in
``image_url`` parts. Transient failures (HTTP 429, 5xx, timeouts, dropped connections)
are retried with exponential backoff and jitter, honouring ``Retry-After``; once the
retries are spent the request gets a response with ``error`` set, never an exception.

Option scoring asks for ``logprobs``/``top_logprobs`` in the normal generation request (one
call returns the answer text and the scores) and reads the *first* generated token's
alternatives (``openai_logprobs``): ``exact`` where every option is one whole token among
them, ``topk`` (first-token approximation) or ``bounded`` (an option outside the top-k gets
the k-th value as an upper bound; the argmax is kept; ``option_logprobs_bounded``). Options
sharing their first token cannot be told apart: no scores, the text is parsed. A score-only
request asks for ``exact_top_logprobs`` (1000) alternatives, which llama.cpp grants; a server
refusing that many (HTTP 400: OpenAI, vLLM's default 20) is asked again with ``top_logprobs``
and remembered. (``/v1/completions`` with ``echo`` is not used: it needs the prompt text of
the server's chat template, and llama-cpp-python computes echoed logprobs in Python over the
vocabulary for every prompt token, about 6 s per option on 2 cores.) Servers returning no
logprobs (``transformers serve``) are remembered and not asked again; requests with
``score_options`` False never ask.

A request with options and ``config.generate_text`` False asks for one token only
(``max_tokens=1``): its text is then just that token. When that call yields no usable
scores (no logprobs from the server, options not separable) the request is asked again
in full, so the answer text can be parsed.

A server that cannot be reached (connection refused on every retry) is remembered for the
backend's lifetime: the remaining requests, in this batch and later ones, fail at once with
the same message, which is printed once to stderr, instead of each retrying for seconds.

The API key is read from an environment variable once, kept private, and redacted from
every message this module produces; so are credentials written into the base URL
(``http://user:pass@host/v1``).

Cache identity (``cache_identity``, asked by the response cache): without a ``revision``
option, a digest of the server's own listing of the model (``GET /models``, asked once:
id, root, owned_by and metadata such as llama.cpp's parameter count and file size, when
the server gives them), so a redeployed model behind the same name and URL gets new keys;
plus every setting that changes an answer (``extra_body``, ``top_logprobs``).
"""

from __future__ import annotations

import math
import random
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from valuespectrum.backends.openai_http import (
    MAX_ERROR_CHARS,
    Outcome,
    Secret,
    client_error,
    listing_digest,
    public_url,
    redact,
    retry_after_s,
    server_message,
)
from valuespectrum.backends.openai_logprobs import (
    OptionScores,
    bound_absent,
    first_token_top,
    option_logprobs_from_top,
    score_options,
)
from valuespectrum.backends.openai_media import (
    MediaEncodingError,
    encode_messages,
    image_data_url,
    sniff_image_mime,
)
from valuespectrum.backends.spec import BackendSpec
from valuespectrum.errors import ConfigError
from valuespectrum.types import (
    ModelRequest,
    ModelResponse,
    stable_hash,
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
TOP_LOGPROBS = 20
EXACT_TOP_LOGPROBS = 1000
_RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_MAX_RETRY_AFTER_S = 60.0


class OpenAIOptions(BaseModel):
    """Settings a manifest may give an ``openai:`` backend (``BackendSpec.options``)."""

    model_config = ConfigDict(extra="forbid")

    api_key_env: str = "OPENAI_API_KEY"
    """Name of the environment variable holding the API key (the key itself never goes in a manifest)."""
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=4, ge=0, le=20)
    backoff_s: float = Field(default=0.5, ge=0)
    max_concurrency: int = Field(default=4, ge=1, le=256)
    logprobs: bool = True
    """Ask for first-token logprobs when a request has options."""
    top_logprobs: int = Field(default=20, ge=1, le=100)
    """Alternatives asked for per token (OpenAI allows 20; llama.cpp and vLLM allow more)."""
    exact_top_logprobs: int | None = Field(default=EXACT_TOP_LOGPROBS, ge=1, le=1_000_000)
    """First-token alternatives asked by score-only requests where the server allows that
    many (single-token options then score exactly); None: always ``top_logprobs``."""
    extra_body: dict[str, Any] | None = None
    """Extra JSON fields merged into every request body (e.g. ``{"max_completion_tokens": 64}``)."""
    revision: str | None = None
    """Weights revision served, when known; enters cache keys."""


class OpenAIBackend:
    """Chat completions against an OpenAI-compatible server; see the module docstring."""

    def __init__(
        self,
        model: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        timeout_s: float = 60,
        max_retries: int = 4,
        backoff_s: float = 0.5,
        max_concurrency: int = 4,
        logprobs: bool = True,
        top_logprobs: int = TOP_LOGPROBS,
        exact_top_logprobs: int | None = EXACT_TOP_LOGPROBS,
        extra_body: dict[str, Any] | None = None,
        revision: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import os

        if not model:
            raise ConfigError("openai backend: empty model name; write the spec as 'openai:MODEL@URL'")
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"openai backend: base_url {base_url!r} must start with http:// or https://")
        if max_concurrency < 1:
            raise ConfigError("openai backend: max_concurrency must be at least 1")
        self._model = model
        self._base_url = base_url.rstrip("/")
        self._public_base = public_url(base_url)
        self._api_key_env = api_key_env
        self._api_key = Secret(os.environ.get(api_key_env))
        self._timeout_s = float(timeout_s)
        self._max_retries = int(max_retries)
        self._backoff_s = float(backoff_s)
        self._max_concurrency = int(max_concurrency)
        self._want_logprobs = logprobs
        self._top_logprobs = int(top_logprobs)
        self._exact_k = (
            exact_top_logprobs if exact_top_logprobs and exact_top_logprobs > top_logprobs else None
        )
        self._exact_k_ok: bool | None = None  # None until the server has granted or refused it
        self._extra_body = dict(extra_body or {})
        self._revision = revision
        self._identity: tuple[str | None] | None = None  # computed on first use
        self._identity_lock = threading.Lock()
        self._secrets = [x for x in (urlsplit(base_url).password, urlsplit(base_url).username) if x]
        self.option_readings: dict[str, int] = {"exact": 0, "topk": 0, "bounded": 0}
        """Responses with option scores, by how they were read (see the module docstring)."""
        self._transport = transport
        self._server_logprobs: bool | None = None  # None until the server has answered once
        self._ever_reached = False
        self._down_error: str | None = None  # set once the server proved unreachable
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False

    @classmethod
    def from_spec(cls, spec: BackendSpec) -> OpenAIBackend:
        """Build from ``openai:MODEL@URL`` plus manifest options (validated, unknown keys rejected)."""
        if not spec.model:
            raise ConfigError(
                f"model spec {spec.label()!r}: the openai backend needs a model name, "
                "e.g. 'openai:my-model@http://127.0.0.1:8000/v1'"
            )
        options = dict(spec.options)
        base_url = spec.base_url or options.pop("base_url", None) or DEFAULT_BASE_URL
        options.pop("base_url", None)
        try:
            opts = OpenAIOptions.model_validate(options)
        except ValidationError as exc:
            fields = ", ".join(".".join(str(x) for x in e["loc"]) + f" ({e['msg']})" for e in exc.errors())
            raise ConfigError(
                f"model spec {spec.label()!r}: invalid options for the openai backend: {fields}; "
                f"valid options: base_url, {', '.join(OpenAIOptions.model_fields)}"
            ) from exc
        return cls(spec.model, str(base_url), **opts.model_dump())

    # -- Backend protocol ---------------------------------------------------------------

    @property
    def model_id(self) -> str:
        # The server is part of the identity: "default" on two servers is two models.
        return f"openai:{self._model}@{self._public_base}"

    @property
    def revision(self) -> str | None:
        return self._revision

    @property
    def cache_identity(self) -> str | None:
        """What else decides answers (enters cache keys): without a ``revision`` option, the
        server's listing of the model (asked once); settings such as ``extra_body``."""
        with self._identity_lock:
            if self._identity is None:
                parts: dict[str, Any] = {}
                if self._revision is None and (listing := self._server_listing()) is not None:
                    parts["server"] = listing
                if self._extra_body:
                    parts["extra_body"] = self._extra_body
                if self._top_logprobs != TOP_LOGPROBS:
                    parts["top_logprobs"] = self._top_logprobs
                if self._exact_k is not None:  # exact scores replace bounds and approximations
                    parts["exact_top_logprobs"] = self._exact_k
                self._identity = ("openai-" + stable_hash(parts)[:16] if parts else None,)
            return self._identity[0]

    def _server_listing(self) -> str | None:
        """A digest of the server's ``GET /models`` entry for this model, when it lists it."""
        try:
            resp = self._http().get(f"{self._base_url}/models", timeout=min(self._timeout_s, 5.0))
            data = resp.json() if resp.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None
        return listing_digest(data, self._model)

    @property
    def bounded_responses(self) -> int:
        """Responses whose option scores include an upper bound (an option outside the top-k)."""
        return self.option_readings["bounded"]

    @property
    def supports_option_logprobs(self) -> bool:
        return self._want_logprobs and self._server_logprobs is not False

    @property
    def supports_images(self) -> bool:
        return True

    def generate(self, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        if self._closed:
            raise RuntimeError("OpenAIBackend.generate() called after close()")
        reqs = list(requests)
        if len(reqs) <= 1 or self._max_concurrency == 1:
            return [self._one(r) for r in reqs]
        return list(self._executor().map(self._one, reqs))

    def close(self) -> None:
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def __repr__(self) -> str:
        key = "set" if self._api_key.get() else "unset"
        return f"OpenAIBackend(model={self._model!r}, base_url={self._public_base!r}, api_key_env={self._api_key_env!r} ({key}))"

    @property
    def public_base_url(self) -> str:
        """The base URL without credentials or query (safe to show, store and hash)."""
        return self._public_base

    # -- internals -----------------------------------------------------------------------

    def build_payload(
        self,
        request: ModelRequest,
        *,
        with_logprobs: bool,
        first_token_only: bool = False,
        top_logprobs: int | None = None,
    ) -> dict[str, Any]:
        """The JSON body for one request (public so tests and users can inspect it).

        ``first_token_only`` caps generation at one token (scores only, see the module docstring);
        ``top_logprobs`` overrides the option of that name.
        """
        cfg = request.config
        body: dict[str, Any] = {
            "model": self._model,
            "messages": encode_messages(request.messages),
            "max_tokens": 1 if first_token_only else cfg.max_new_tokens,
            "temperature": cfg.temperature,
            "top_p": cfg.top_p,
        }
        if cfg.seed is not None:
            body["seed"] = cfg.seed
        if with_logprobs:
            # One request yields both the full answer and the first token's alternatives,
            # so a server that ignores logprobs costs no second call.
            body["logprobs"] = True
            body["top_logprobs"] = top_logprobs or self._top_logprobs
        body.update(self._extra_body)
        return body

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._max_concurrency, thread_name_prefix="vspec-openai")
            return self._pool

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                headers = {"Content-Type": "application/json"}
                if key := self._api_key.get():
                    headers["Authorization"] = f"Bearer {key}"
                limits = httpx.Limits(max_connections=self._max_concurrency)
                self._client = httpx.Client(
                    headers=headers,
                    timeout=httpx.Timeout(self._timeout_s),
                    limits=limits,
                    transport=self._transport,
                )
            return self._client

    def _redact(self, text: str) -> str:
        return redact(text, [self._api_key.get() or "", *self._secrets])

    def _one(self, request: ModelRequest) -> ModelResponse:
        start = time.perf_counter()
        try:
            resp = self._answer(request)
        except MediaEncodingError as exc:
            resp = ModelResponse(request_id=request.request_id, model_id=self.model_id, error=str(exc))
        except Exception as exc:  # one request never takes the run down
            resp = ModelResponse(
                request_id=request.request_id,
                model_id=self.model_id,
                error=self._redact(f"{type(exc).__name__}: {exc}"),
            )
        resp.latency_s = time.perf_counter() - start
        return resp

    def _answer(self, request: ModelRequest) -> ModelResponse:
        ask_lp = (
            bool(request.options)
            and request.config.score_options
            and self._want_logprobs
            and self._server_logprobs is not False
        )
        if ask_lp and not request.config.generate_text:
            short = self._ask(request, ask_lp=True, first_token_only=True)
            lps = short.option_logprobs
            if not short.ok or (lps is not None and all(math.isfinite(x) for x in lps)):
                return short
            # No usable scores from one token: ask in full so the text can be parsed.
            ask_lp = self._want_logprobs and self._server_logprobs is not False
            full = self._ask(request, ask_lp=ask_lp, first_token_only=False)
            for k, v in short.usage.items():  # both calls are billed
                full.usage[k] = full.usage.get(k, 0) + v
            return full
        return self._ask(request, ask_lp=ask_lp, first_token_only=False)

    def _ask(self, request: ModelRequest, *, ask_lp: bool, first_token_only: bool) -> ModelResponse:
        wide = ask_lp and first_token_only and self._exact_k is not None and self._exact_k_ok is not False
        k = self._exact_k if wide else None
        payload = self.build_payload(
            request, with_logprobs=ask_lp, first_token_only=first_token_only, top_logprobs=k
        )
        outcome = self._post(payload)
        if wide and outcome.status == 400 and "logprob" in (outcome.error or "").lower():
            self._exact_k_ok = False  # the server allows fewer alternatives: ask as many as it does
            payload["top_logprobs"] = self._top_logprobs
            outcome = self._post(payload)
        elif wide and outcome.body is not None:
            self._exact_k_ok = True
        if outcome.body is None:
            return ModelResponse(
                request_id=request.request_id, model_id=self.model_id, error=self._redact(outcome.error or "")
            )
        body = outcome.body
        try:
            choice = body["choices"][0]
            text = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            snippet = self._redact(str(body)[:MAX_ERROR_CHARS])
            return ModelResponse(
                request_id=request.request_id,
                model_id=self.model_id,
                error=f"server at {self._public_base} returned no choices[0].message: {snippet}",
            )
        option_lps: list[float] | None = None
        bounded: list[bool] | None = None
        source: OptionScores | None = None
        if ask_lp and request.options:
            top = first_token_top(choice)
            if top is None:
                self._server_logprobs = False
            else:
                self._server_logprobs = True
                option_lps, bounded, source = score_options(top, request.options)
                with self._lock:
                    if source is not None:
                        self.option_readings[source] += 1
        usage = {k: int(v) for k, v in (body.get("usage") or {}).items() if isinstance(v, int)}
        return ModelResponse(
            request_id=request.request_id,
            text=text,
            option_logprobs=option_lps,
            option_logprobs_bounded=bounded,
            option_scores=source,
            model_id=self.model_id,
            usage=usage,
        )

    def _post(self, payload: dict[str, Any]) -> Outcome:
        if self._down_error is not None:
            return Outcome(error=self._down_error, unreachable=True)
        url = f"{self._base_url}/chat/completions"
        client = self._http()
        last = ""
        detail = ""
        only_unreachable = True
        for attempt in range(self._max_retries + 1):
            wait: float | None = None
            detail = ""
            try:
                resp = client.post(url, json=payload)
            except httpx.ConnectError as exc:
                last = f"connection failed ({type(exc).__name__})"
            except httpx.TimeoutException as exc:
                only_unreachable = False
                last = f"timed out after {self._timeout_s:g} s ({type(exc).__name__})"
            except httpx.TransportError as exc:
                only_unreachable = False
                last = f"connection dropped ({type(exc).__name__})"
            else:
                only_unreachable = False
                self._ever_reached = True
                if resp.status_code < 400:
                    try:
                        data = resp.json()
                    except ValueError:
                        return Outcome(
                            error=self._redact(
                                f"server at {self._public_base} answered with non-JSON: {resp.text[:200]!r}"
                            )
                        )
                    if not isinstance(data, dict):
                        return Outcome(
                            error=f"server at {self._public_base} answered with a JSON {type(data).__name__}, not an object"
                        )
                    return Outcome(body=data)
                message = self._redact(server_message(resp))
                if resp.status_code not in _RETRY_STATUS:
                    error = client_error(
                        resp.status_code, message, self._public_base, self._api_key_env, self._model
                    )
                    return Outcome(error=error, status=resp.status_code)
                last, detail = f"HTTP {resp.status_code}", message
                wait = retry_after_s(resp)
            if attempt == self._max_retries:
                break
            delay = self._backoff_s * (2**attempt) * (1.0 + 0.25 * random.random())
            if wait is not None:
                delay = max(delay, min(wait, _MAX_RETRY_AFTER_S))
            time.sleep(delay)
        if only_unreachable:
            error = (
                f"cannot reach the server at {self._public_base}: is it running? "
                f"({last} after {self._max_retries} retries)"
            )
            # Fail the remaining requests (this batch and later ones) at once instead of
            # retrying each; say so once.
            with self._lock:
                first = self._down_error is None
                self._down_error = error
            if first:
                print(
                    f"vspec: {error}; failing the remaining requests to this server without retrying",
                    file=sys.stderr,
                )
            return Outcome(error=error, unreachable=True)
        error = (
            f"request to the server at {self._public_base} failed: {last} after {self._max_retries} retries"
        )
        return Outcome(error=error + (f" (last message: {detail})" if detail else ""))


__all__ = [
    "DEFAULT_BASE_URL",
    "MediaEncodingError",
    "OpenAIBackend",
    "OpenAIOptions",
    "bound_absent",
    "encode_messages",
    "image_data_url",
    "option_logprobs_from_top",
    "redact",
    "sniff_image_mime",
]
