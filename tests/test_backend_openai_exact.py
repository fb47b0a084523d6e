"""Exact option scores over a server (mocked transport): a score-only request asks for a wide
first-token distribution where the server allows it, and each response says how its scores
were read (exact / topk / bounded). The real llama.cpp server: test_backend_llamacpp.py."""

from __future__ import annotations

import json

import httpx

from valuespectrum.backends.openai_compat import OpenAIBackend
from valuespectrum.types import GenerateConfig, Message, ModelRequest


def _score_only(rid: str, options: list[str]) -> ModelRequest:
    return ModelRequest(
        request_id=rid,
        messages=[Message.text("user", "Answer.")],
        config=GenerateConfig(max_new_tokens=8, generate_text=False),
        options=options,
    )


def _body(top: list[tuple[str, float]]) -> dict[str, object]:
    first = {
        "token": top[0][0],
        "logprob": top[0][1],
        "top_logprobs": [{"token": t, "logprob": lp} for t, lp in top],
    }
    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": top[0][0]},
        "logprobs": {"content": [first]},
    }
    return {"choices": [choice]}


def _server(
    top: list[tuple[str, float]], *, max_k: int | None = None
) -> tuple[OpenAIBackend, list[dict[str, object]]]:
    """A mocked server answering ``top``; it refuses more than ``max_k`` alternatives as OpenAI does."""
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        if max_k is not None and int(body.get("top_logprobs") or 0) > max_k:
            message = f"Invalid 'top_logprobs': integer above maximum value. Expected a value <= {max_k}."
            return httpx.Response(400, json={"error": {"message": message}})
        return httpx.Response(200, json=_body(top))

    return OpenAIBackend("m", "http://vllm.local/v1", transport=httpx.MockTransport(handler)), seen


def test_whole_token_options_get_their_own_unpooled_scores() -> None:
    backend, seen = _server([("Yes", -0.5), (" Yes", -1.5), ("No", -2.0), ("maybe", -3.0)])
    (resp,) = backend.generate([_score_only("a", ["Yes", "No"])])
    # exact: "Yes" alone (-0.5), not pooled with " Yes" (log(e^-0.5 + e^-1.5) = -0.187)
    assert resp.option_logprobs == [-0.5, -2.0] and resp.option_scores == "exact"
    assert resp.option_logprobs_bounded is None and seen[0]["top_logprobs"] == 1000
    assert seen[0]["max_tokens"] == 1 and backend.option_readings == {"exact": 1, "topk": 0, "bounded": 0}


def test_multi_token_and_absent_options_say_how_they_were_read() -> None:
    backend, _ = _server([("Str", -0.25), ("Dis", -1.0), ("Neutral", -4.0)])
    first_token, absent = backend.generate(
        [_score_only("a", ["Strongly agree", "Disagree"]), _score_only("b", ["Strongly agree", "Other"])]
    )
    assert first_token.option_scores == "topk" and first_token.option_logprobs == [-0.25, -1.0]
    # "Other" is outside the alternatives: bounded above by the last one's -4.0
    assert absent.option_scores == "bounded" and absent.option_logprobs == [-0.25, -4.0]
    assert absent.option_logprobs_bounded == [False, True] and backend.bounded_responses == 1


def test_a_server_refusing_the_wide_request_is_asked_again_and_remembered() -> None:
    backend, seen = _server([("1", -1.0), ("2", -2.0)], max_k=20)
    out = backend.generate([_score_only("a", ["1", "2"]), _score_only("b", ["1", "2"])])
    assert all(r.ok and r.option_logprobs == [-1.0, -2.0] and r.option_scores == "exact" for r in out)
    # one refusal (1000 > 20), then every request asks top_logprobs=20 at once
    assert [b["top_logprobs"] for b in seen] == [1000, 20, 20]


def test_exact_top_logprobs_none_keeps_the_top_k_and_generation_never_asks_wide() -> None:
    backend, seen = _server([("1", -1.0), ("2", -2.0)])
    narrow = OpenAIBackend("m", "http://vllm.local/v1", exact_top_logprobs=None, transport=backend._transport)
    narrow.generate([_score_only("a", ["1", "2"])])
    full = _score_only("b", ["1", "2"]).model_copy(update={"config": GenerateConfig(max_new_tokens=8)})
    backend.generate([full])
    assert [b["top_logprobs"] for b in seen] == [20, 20] and seen[1]["max_tokens"] == 8
    assert narrow.cache_identity != backend.cache_identity  # exact scores enter cache keys
