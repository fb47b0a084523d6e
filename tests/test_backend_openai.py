"""OpenAIBackend: request encoding and logprob mapping (unit), then a real
``transformers serve`` on loopback serving a tiny local model, behind a proxy that makes
the first requests fail, plus a server that is down."""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servers import Failure, ServedModel, flaky_proxy, free_port, start_transformers_server

from valuespectrum.backends.openai_compat import OpenAIBackend, option_logprobs_from_top
from valuespectrum.backends.registry import create_backend
from valuespectrum.types import (
    GenerateConfig,
    ImagePart,
    MediaRef,
    Message,
    ModelRequest,
    TextPart,
    VideoPart,
)

PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(40))


def text_request(rid: str, text: str = "Do you like it?", **cfg: object) -> ModelRequest:
    return ModelRequest(
        request_id=rid,
        messages=[Message.text("user", text)],
        config=GenerateConfig(max_new_tokens=4, **cfg),  # type: ignore[arg-type]
    )


# -- request encoding (no server) --------------------------------------------------------


def test_payload_encodes_images_and_frames_as_exact_data_urls(tmp_path: Path) -> None:
    png = tmp_path / "frame.png"
    png.write_bytes(PNG_1x1)
    jpg = tmp_path / "f2.bin"  # the mime type comes from the bytes, not the name
    jpg.write_bytes(JPEG_HEAD)
    req = ModelRequest(
        request_id="r1",
        messages=[
            Message.text("system", "You are a viewer."),
            Message(
                role="user",
                content=[
                    TextPart(text="Look:"),
                    ImagePart(image=MediaRef.pinned(png)),
                    VideoPart(frames=[MediaRef(path=str(jpg)), MediaRef(path=str(png))]),
                ],
            ),
        ],
        config=GenerateConfig(max_new_tokens=7, seed=3),
        options=["Yes", "No"],
    )
    backend = OpenAIBackend("m", "http://127.0.0.1:9/v1", extra_body={"stop": ["\n"]})
    body = backend.build_payload(req, with_logprobs=True)
    assert body["model"] == "m"
    assert body["max_tokens"] == 7 and body["seed"] == 3 and body["stop"] == ["\n"]
    assert body["logprobs"] is True and body["top_logprobs"] == 20
    assert body["messages"][0] == {"role": "system", "content": "You are a viewer."}
    parts = body["messages"][1]["content"]
    assert parts[0] == {"type": "text", "text": "Look:"}
    png_url = "data:image/png;base64," + base64.b64encode(PNG_1x1).decode()
    jpg_url = "data:image/jpeg;base64," + base64.b64encode(JPEG_HEAD).decode()
    assert [p["image_url"]["url"] for p in parts[1:]] == [png_url, jpg_url, png_url]
    assert base64.b64decode(parts[2]["image_url"]["url"].split(",", 1)[1]) == JPEG_HEAD
    plain = backend.build_payload(text_request("r2"), with_logprobs=False)
    assert "logprobs" not in plain and "seed" not in plain
    backend.close()


def test_bad_images_give_per_request_errors_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"this is not an image at all")
    changed = tmp_path / "changed.png"
    changed.write_bytes(PNG_1x1)
    pinned = MediaRef.pinned(changed)
    changed.write_bytes(PNG_1x1 + b"extra")

    def req(rid: str, ref: MediaRef) -> ModelRequest:
        return ModelRequest(request_id=rid, messages=[Message(role="user", content=[ImagePart(image=ref)])])

    # Port 9 (discard) has nothing listening: media errors must be found before any network call.
    backend = OpenAIBackend("m", "http://127.0.0.1:9/v1", max_retries=0)
    out = backend.generate(
        [
            req("bad", MediaRef(path=str(bad))),
            req("gone", MediaRef(path=str(tmp_path / "missing.jpg"))),
            req("changed", pinned),
        ]
    )
    assert [r.request_id for r in out] == ["bad", "gone", "changed"]
    assert str(bad) in (out[0].error or "") and "not a PNG, JPEG" in (out[0].error or "")
    assert str(tmp_path / "missing.jpg") in (out[1].error or "") and "missing" in (out[1].error or "")
    assert str(changed) in (out[2].error or "") and "changed" in (out[2].error or "")
    backend.close()


def test_first_token_logprob_mapping_by_hand() -> None:
    top = [(" Yes", -0.5), ("Yes", -1.5), ("ĠNo", -2.0), ("maybe", -3.0)]
    got = option_logprobs_from_top(top, ["yes", "No", "Unsure"])
    assert got is not None
    # " Yes" and "Yes" pool: log(e^-0.5 + e^-1.5) = -0.5 + log(1.367879) = -0.1867383
    assert got[0] == pytest.approx(-0.5 + math.log(1 + math.exp(-1.0)), abs=1e-12)
    assert got[0] == pytest.approx(-0.1867383, abs=1e-6)
    assert got[1] == -2.0
    assert got[2] == -math.inf
    # Longest prefix wins: "10" is its own token, "1" is another.
    assert option_logprobs_from_top([("1", -1.0), ("10", -2.0)], ["1", "10"]) == [-1.0, -2.0]
    # Two options sharing their only matching first token cannot be separated.
    assert option_logprobs_from_top([("Very", -0.1)], ["Very much", "Very little"]) is None
    assert option_logprobs_from_top([("Hello", -0.1)], ["Yes", "No"]) is None


def _chat_body(content: str, top: list[tuple[str, float]] | None) -> dict[str, object]:
    choice: dict[str, object] = {"index": 0, "message": {"role": "assistant", "content": content}}
    if top is not None:
        choice["logprobs"] = {
            "content": [
                {
                    "token": top[0][0],
                    "logprob": top[0][1],
                    "top_logprobs": [{"token": t, "logprob": lp} for t, lp in top],
                }
            ]
        }
    return {"choices": [choice], "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}


def _scripted(
    *replies: dict[str, object], **options: object
) -> tuple[OpenAIBackend, list[dict[str, object]]]:
    """A backend whose (mocked) server answers its n-th chat request with ``replies[n]``, or with
    the only reply when there is one; the list collects the request bodies it was sent."""
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=replies[0] if len(replies) == 1 else replies[len(seen) - 1])

    backend = OpenAIBackend("m", "http://vllm.local/v1", transport=httpx.MockTransport(handler), **options)  # type: ignore[arg-type]
    return backend, seen


def test_logprobs_used_when_the_server_returns_them() -> None:
    backend, seen = _scripted(_chat_body("No", [("No", -0.25), ("Yes", -1.75)]))
    req = text_request("q").model_copy(update={"options": ["Yes", "No"]})
    (resp,) = backend.generate([req])
    assert resp.ok and resp.text == "No"
    assert resp.option_logprobs == [-1.75, -0.25]
    assert resp.usage == {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
    assert backend.supports_option_logprobs
    assert seen[0]["logprobs"] is True
    backend.close()


def test_score_only_requests_ask_for_one_token() -> None:
    backend, seen = _scripted(_chat_body("Yes", [("Yes", -0.5), ("No", -1.0)]))
    req = text_request("q", generate_text=False).model_copy(update={"options": ["Yes", "No"]})
    (resp,) = backend.generate([req])
    assert resp.ok and resp.option_logprobs == [-0.5, -1.0] and resp.text == "Yes"
    assert len(seen) == 1 and seen[0]["max_tokens"] == 1 and seen[0]["logprobs"] is True
    # Text wanted (the default): the full max_new_tokens, still one call.
    backend.generate([req.model_copy(update={"config": GenerateConfig(max_new_tokens=4)})])
    assert len(seen) == 2 and seen[1]["max_tokens"] == 4
    backend.close()


def test_absent_option_is_bounded_by_the_kth_logprob_and_not_re_asked() -> None:
    # options "1".."3" are outside the server's top-2: each is below the 2nd alternative
    backend, seen = _scripted(_chat_body("4", [("4", -0.1), ("5", -2.5)]), max_concurrency=1)
    likert = text_request("l", generate_text=False).model_copy(update={"options": ["1", "2", "3", "4"]})
    (resp,) = backend.generate([likert])
    assert resp.text == "4" and resp.option_logprobs == [-2.5, -2.5, -2.5, -0.1]
    assert resp.option_logprobs_bounded == [True, True, True, False]
    assert [b["max_tokens"] for b in seen] == [1] and backend.bounded_responses == 1
    backend.close()


def test_score_only_falls_back_to_full_text_when_scores_are_unusable() -> None:
    backend, seen = _scripted(
        _chat_body("Yes", None),  # this server turns out to return no logprobs
        _chat_body("Yes, I like it", None),
        _chat_body("No, not at all", None),
        max_concurrency=1,
    )
    yes_no = text_request("y", generate_text=False).model_copy(update={"options": ["Yes", "No"]})
    first, second = backend.generate([yes_no, yes_no.model_copy(update={"request_id": "y2"})])
    assert (first.text, first.option_logprobs) == ("Yes, I like it", None)
    assert [b["max_tokens"] for b in seen] == [1, 4, 4]
    assert [("logprobs" in b) for b in seen] == [True, False, False]
    # Both calls of the first request are counted: 5 + 5 prompt tokens, 1 + 1 completion tokens.
    assert first.usage == {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}
    assert second.text == "No, not at all" and not backend.supports_option_logprobs
    backend.close()


def test_api_key_never_leaks(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-SECRET-0123456789abcdef"
    monkeypatch.setenv("VSPEC_TEST_KEY", secret)
    auth_seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        auth_seen.append(request.headers.get("authorization", ""))
        # Some APIs echo the key they rejected; it must not reach our messages.
        return httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {secret}"}})

    backend = OpenAIBackend(
        "gpt-x", "https://api.example.com/v1", api_key_env="VSPEC_TEST_KEY",
        transport=httpx.MockTransport(handler),
    )  # fmt: skip
    (resp,) = backend.generate([text_request("a")])
    assert auth_seen == [f"Bearer {secret}"]  # the key is used...
    assert resp.error is not None and "HTTP 401" in resp.error and "VSPEC_TEST_KEY" in resp.error
    assert "***" in resp.error
    down = OpenAIBackend("gpt-x", f"http://127.0.0.1:{free_port()}/v1", api_key_env="VSPEC_TEST_KEY",
                         max_retries=1, backoff_s=0.01)  # fmt: skip
    (down_resp,) = down.generate([text_request("b")])
    texts = [
        resp.model_dump_json(),
        down_resp.model_dump_json(),
        repr(backend),
        repr(down),
        backend.model_id,
        str(vars(backend)),
    ]
    for text in texts:  # ...and never shown
        assert secret not in text
    assert backend.model_id == "openai:gpt-x@https://api.example.com/v1"
    # Credentials in a base URL never reach the model id (which enters cache keys and run headers).
    assert (
        OpenAIBackend("m", "https://user:pw@h.example:8443/v1/").model_id
        == "openai:m@https://h.example:8443/v1"
    )
    backend.close()
    down.close()


def test_server_down_is_a_clear_quick_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    backend = OpenAIBackend("tiny", url, max_retries=2, backoff_s=0.01, max_concurrency=2)
    start = time.monotonic()
    out = backend.generate([text_request(f"r{i}") for i in range(5)])
    elapsed = time.monotonic() - start
    assert [r.request_id for r in out] == [f"r{i}" for i in range(5)]
    for r in out:
        assert r.error is not None
        assert f"cannot reach the server at {url}: is it running?" in r.error
    assert elapsed < 5.0
    backend.close()


def test_text_mode_requests_never_ask_for_logprobs() -> None:
    backend, seen = _scripted(_chat_body("Yes", [("Yes", -0.1)]))
    text_mode = text_request("t", score_options=False).model_copy(update={"options": ["Yes", "No"]})
    (resp,) = backend.generate([text_mode])
    assert resp.text == "Yes" and resp.option_logprobs is None
    assert "logprobs" not in seen[0] and "top_logprobs" not in seen[0] and seen[0]["max_tokens"] == 4
    backend.close()


def test_a_down_server_fails_later_batches_at_once_and_says_so_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    backend = OpenAIBackend("tiny", url, max_retries=3, backoff_s=0.2, max_concurrency=1)
    first = backend.generate([text_request("a")])  # spends its retries: 0.2 + 0.4 + 0.8 s
    start = time.monotonic()
    later = [backend.generate([text_request(f"b{i}"), text_request(f"c{i}")]) for i in range(3)]
    elapsed = time.monotonic() - start
    assert all(r.error and "cannot reach the server" in r.error for batch in [first, *later] for r in batch)
    assert elapsed < 0.2  # no request of a later batch waited for even one backoff
    err = capsys.readouterr().err
    assert err.count("failing the remaining requests to this server without retrying") == 1
    backend.close()


def test_credentials_in_the_base_url_are_redacted_everywhere(tmp_path: Path) -> None:
    from valuespectrum.manifest import parse_manifest
    from valuespectrum.runs.folder import RunFolder

    port = free_port()
    url = f"http://alice:p%40ssw0rd@127.0.0.1:{port}/v1"
    backend = OpenAIBackend("m", url, max_retries=0)
    (resp,) = backend.generate([text_request("a")])

    def echo_url(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text=f"upstream {request.url} failed")

    echo = OpenAIBackend("m", url, max_retries=0, transport=httpx.MockTransport(echo_url))
    (echoed,) = echo.generate([text_request("b")])
    manifest = parse_manifest(
        {"models": [{"spec": f"openai:m@{url}"}, {"spec": "openai:n", "options": {"base_url": url}}]}
    )
    RunFolder(tmp_path).start(manifest, [None])
    shown = [
        resp.model_dump_json(), echoed.model_dump_json(), repr(backend), backend.model_id,
        (tmp_path / "manifest.yaml").read_text(), (tmp_path / "header.json").read_text(),
        manifest.models[0].name,
    ]  # fmt: skip
    assert "upstream" in echoed.model_dump_json()
    for text in shown:
        assert "alice" not in text and "p%40ssw0rd" not in text and "p@ssw0rd" not in text, text
    assert "http://***@127.0.0.1" in (tmp_path / "manifest.yaml").read_text()
    backend.close()
    echo.close()


# -- a real server -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedModel]:
    from tiny_models import build_tiny_text_lm

    root = tmp_path_factory.mktemp("served")
    model_dir = build_tiny_text_lm(root, family="llama")
    server = start_transformers_server(model_dir, root)
    try:
        yield server
    finally:
        server.stop()


def test_real_server_generates_deterministically(served: ServedModel) -> None:
    backend = OpenAIBackend(served.model, served.base_url, max_retries=1, backoff_s=0.05)
    first = backend.generate([text_request("a"), text_request("b", "Why?")])
    again = backend.generate([text_request("a")])
    assert [r.request_id for r in first] == ["a", "b"]
    for r in first:
        assert r.ok, r.error
        assert r.usage["completion_tokens"] >= 1
        assert r.model_id == f"openai:{served.model}@{served.base_url}"
        assert r.latency_s is not None and r.latency_s > 0
    assert first[0].text and again[0].text == first[0].text  # greedy decoding repeats
    backend.close()


def test_server_without_logprobs_falls_back_and_is_remembered(served: ServedModel) -> None:
    with flaky_proxy(served.origin) as proxy:
        backend = OpenAIBackend(served.model, proxy.base_url, max_concurrency=1)
        opts = {"options": ["Yes", "No"]}
        out = backend.generate([text_request(f"o{i}").model_copy(update=opts) for i in range(3)])
        assert all(r.ok and r.option_logprobs is None and r.text for r in out)
        assert proxy.log.received == 3  # one call per request, no second try for logprobs
        assert [("logprobs" in b) for b in proxy.log.bodies] == [True, False, False]
        assert not backend.supports_option_logprobs
        backend.close()


def test_retries_503_and_429_then_the_real_answer(served: ServedModel) -> None:
    direct = OpenAIBackend(served.model, served.base_url)
    (expected,) = direct.generate([text_request("x")])
    failures = [Failure(503), Failure(429, retry_after="1"), Failure(502)]
    with flaky_proxy(served.origin, failures) as proxy:
        backend = OpenAIBackend(served.model, proxy.base_url, max_retries=4, backoff_s=0.01)
        (resp,) = backend.generate([text_request("x")])
        assert resp.ok, resp.error
        assert resp.text == expected.text
        assert (proxy.log.received, proxy.log.forwarded) == (4, 1)
        gaps = [b - a for a, b in zip(proxy.log.times, proxy.log.times[1:], strict=False)]
        assert gaps[1] >= 0.95  # Retry-After: 1 honoured after the 429
        assert gaps[0] < 0.5 and gaps[2] < 0.5  # plain exponential backoff from 0.01 s
        backend.close()
    direct.close()


def test_retries_exhausted_give_a_clear_error(served: ServedModel) -> None:
    with flaky_proxy(served.origin, [Failure(503)] * 5) as proxy:
        backend = OpenAIBackend(served.model, proxy.base_url, max_retries=2, backoff_s=0.01)
        (resp,) = backend.generate([text_request("x")])
        assert resp.error is not None
        assert f"server at {proxy.base_url}" in resp.error
        assert "HTTP 503 after 2 retries (last message: scripted failure 503)" in resp.error
        assert proxy.log.received == 3 and proxy.log.forwarded == 0
        backend.close()


def test_timeout_is_retried(served: ServedModel) -> None:
    with flaky_proxy(served.origin, [Failure(200, stall_s=1.5)]) as proxy:
        backend = OpenAIBackend(served.model, proxy.base_url, timeout_s=0.5, max_retries=2, backoff_s=0.01)
        (resp,) = backend.generate([text_request("x")])
        assert resp.ok, resp.error
        assert proxy.log.received == 2 and proxy.log.forwarded == 1
        backend.close()


def test_client_errors_are_not_retried(served: ServedModel) -> None:
    with flaky_proxy(served.origin) as proxy:
        backend = OpenAIBackend("not-the-served-model", proxy.base_url, max_retries=3, backoff_s=0.01)
        (resp,) = backend.generate([text_request("x")])
        assert resp.error is not None and "HTTP 400" in resp.error
        assert "not-the-served-model" in resp.error  # the server's own message is kept
        assert proxy.log.received == 1
        backend.close()


def test_concurrency_is_bounded_and_order_kept(served: ServedModel) -> None:
    with flaky_proxy(served.origin, [Failure(503, stall_s=0.3)] * 6) as proxy:
        backend = OpenAIBackend(served.model, proxy.base_url, max_concurrency=3, backoff_s=0.01)
        out = backend.generate([text_request(f"c{i}", f"Item {i}?") for i in range(8)])
        assert [r.request_id for r in out] == [f"c{i}" for i in range(8)]
        assert all(r.ok for r in out), [r.error for r in out]
        assert 2 <= proxy.log.max_inflight <= 3
        backend.close()


def test_registry_and_cache_with_the_real_server(served: ServedModel, tmp_path: Path) -> None:
    with flaky_proxy(served.origin) as proxy:
        spec = f"openai:{served.model}@{proxy.base_url}"
        backend = create_backend(spec, cache=tmp_path / "cache.sqlite", max_retries=1)
        first = backend.generate([text_request("a"), text_request("b", temperature=0.8)])
        second = backend.generate([text_request("a2"), text_request("b2", temperature=0.8)])
        assert all(r.ok for r in first + second)
        assert [r.cached for r in first] == [False, False]
        assert [r.cached for r in second] == [True, False]  # sampled requests are never cached
        assert second[0].request_id == "a2" and second[0].text == first[0].text
        assert proxy.log.received == 3
        backend.close()
