"""ResponseCache and CachedBackend: what enters the key, what is stored, and two
processes sharing one cache file."""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import time
from pathlib import Path

import pytest

from valuespectrum.backends.cache import CachedBackend, ResponseCache
from valuespectrum.backends.mock import MockBackend
from valuespectrum.errors import ConfigError
from valuespectrum.types import GenerateConfig, ImagePart, MediaRef, Message, ModelRequest, ModelResponse


def req(rid: str, text: str = "Do you like it?", **cfg: object) -> ModelRequest:
    return ModelRequest(
        request_id=rid,
        messages=[Message.text("user", text)],
        config=GenerateConfig(**cfg),  # type: ignore[arg-type]
    )


def test_key_ignores_ids_and_metadata_but_follows_image_bytes(tmp_path: Path) -> None:
    a = req("a").model_copy(update={"metadata": {"probe_id": "p1", "persona": "x"}})
    b = req("b").model_copy(update={"metadata": {"probe_id": "p2"}})
    assert a.key("m") == b.key("m")
    assert a.key("m") != a.key("m2")
    assert a.key("m", "rev1") != a.key("m", "rev2")
    assert req("c", max_new_tokens=5).key("m") != req("c", max_new_tokens=6).key("m")
    assert req("c", text="Why?").key("m") != a.key("m")

    img = tmp_path / "frame.png"
    img.write_bytes(b"\x89PNG\r\n\x1a\nfirst")
    image_req = ModelRequest(
        request_id="i", messages=[Message(role="user", content=[ImagePart(image=MediaRef(path=str(img)))])]
    )
    k1 = image_req.key("m")
    img.write_bytes(b"\x89PNG\r\n\x1a\nsecond")  # same path, new bytes
    k2 = image_req.key("m")
    img.write_bytes(b"\x89PNG\r\n\x1a\nfirst")
    assert k1 != k2 and image_req.key("m") == k1


def test_score_only_response_is_never_served_to_a_request_that_wants_text(tmp_path: Path) -> None:
    # A real backend leaves the text empty when asked for option scores only.
    inner = MockBackend(lambda r: "Yes, it looks fun" if r.config.generate_text else "", model_id="m")
    backend = CachedBackend(inner, tmp_path / "c.sqlite")
    score_only = req("s", generate_text=False).model_copy(update={"options": ["Yes", "No"]})
    wants_text = req("t").model_copy(update={"options": ["Yes", "No"]})
    assert backend.key_for(score_only) != backend.key_for(wants_text)
    (first,) = backend.generate([score_only])
    (second,) = backend.generate([wants_text])
    assert (first.text, first.cached) == ("", False)
    assert (second.text, second.cached) == ("Yes, it looks fun", False)
    assert inner.calls == 2
    # Each kind is then served from its own entry.
    again = backend.generate([wants_text, score_only])
    assert [(r.text, r.cached) for r in again] == [("Yes, it looks fun", True), ("", True)]
    assert inner.calls == 2 and len(backend.cache) == 2
    backend.close()


def test_hits_return_stored_answers_with_the_callers_id(tmp_path: Path) -> None:
    inner = MockBackend(lambda r: f"answer to {r.messages[0].plain_text()}", model_id="mock-a")
    backend = CachedBackend(inner, tmp_path / "c.sqlite")
    first = backend.generate([req("r1", "one"), req("r2", "two")])
    assert [r.cached for r in first] == [False, False] and inner.calls == 2

    # Mixed batch: hits and misses keep their order; only misses reach the model.
    second = backend.generate([req("x", "three"), req("y", "one"), req("z", "two")])
    assert [(r.request_id, r.text, r.cached) for r in second] == [
        ("x", "answer to three", False),
        ("y", "answer to one", True),
        ("z", "answer to two", True),
    ]
    assert inner.calls == 3 and [r.request_id for r in inner.requests_seen] == ["r1", "r2", "x"]
    assert (backend.hits, backend.misses) == (2, 3)
    assert all(r.model_id == "mock-a" for r in second)
    backend.close()

    # Persisted: a new instance of the same model (same script) reads the same answers.
    again = CachedBackend(
        MockBackend(lambda r: f"answer to {r.messages[0].plain_text()}", model_id="mock-a"),
        tmp_path / "c.sqlite",
    )
    (hit,) = again.generate([req("late", "two")])
    assert (hit.text, hit.cached, hit.request_id) == ("answer to two", True, "late")
    again.close()


def test_only_deterministic_requests_and_only_successes_are_stored(tmp_path: Path) -> None:
    inner = MockBackend(model_id="m", fail_ids=["bad"])
    backend = CachedBackend(inner, ResponseCache(tmp_path / "c.sqlite"))
    batch = [
        req("greedy"),
        req("sampled", "s", temperature=0.7),
        req("seeded", "t", temperature=0.7, seed=1),
        req("bad", "u"),
    ]
    out = backend.generate(batch)
    assert out[3].error == "scripted failure"
    assert len(backend.cache) == 2  # greedy + seeded
    out2 = backend.generate(batch)
    assert [r.cached for r in out2] == [True, False, True, False]
    assert inner.calls == 4 + 2  # the sampled and the failed request go to the model again
    backend.close()


def test_round_trip_is_exact_including_minus_infinity(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite")
    resp = ModelResponse(
        request_id="r", text="Yes", option_logprobs=[0.0, -math.inf, -1.25], model_id="m",
        latency_s=0.5, usage={"prompt_tokens": 3},
    )  # fmt: skip
    cache.put("k", resp)
    got = cache.get("k")
    assert got is not None
    assert got.option_logprobs == [0.0, -math.inf, -1.25]
    assert (got.text, got.model_id, got.usage, got.cached, got.request_id) == (
        "Yes",
        "m",
        {"prompt_tokens": 3},
        True,
        "",
    )
    assert got.latency_s is None  # timing belongs to the original call
    assert cache.get("other") is None
    cache.close()


def test_bad_cache_files_are_named(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database" * 100)
    with pytest.raises(ConfigError, match=r"junk\.sqlite: not a usable response cache"):
        ResponseCache(junk)
    with pytest.raises(ConfigError, match="is a folder"):
        ResponseCache(tmp_path)


def test_missing_media_is_not_cached_and_reaches_the_backend(tmp_path: Path) -> None:
    ref = MediaRef(path=str(tmp_path / "nope.png"))
    r = ModelRequest(request_id="m", messages=[Message(role="user", content=[ImagePart(image=ref)])])
    inner = MockBackend(default="x")
    backend = CachedBackend(inner, tmp_path / "c.sqlite")
    assert backend.key_for(r) is None
    (out,) = backend.generate([r])
    assert inner.calls == 1 and not out.cached and len(backend.cache) == 0
    backend.close()


def _worker(path: str, start: int, stop: int, barrier: mp.synchronize.Barrier) -> None:
    barrier.wait(timeout=30)
    cache = ResponseCache(path)  # both processes create the new file at the same moment
    for i in range(start, stop):
        cache.put(f"k{i}", ModelResponse(request_id="", text=f"t{i}", model_id="m"))
        # Read back own and neighbour's keys while the other process writes.
        got = cache.get(f"k{i}")
        assert got is not None and got.text == f"t{i}"
        cache.get_many([f"k{j}" for j in range(max(0, i - 20), i)])
    cache.close()


def test_two_processes_share_one_cache(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite")
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    # Overlapping ranges: both processes write keys 150..199.
    procs = [
        ctx.Process(target=_worker, args=(path, 0, 200, barrier)),
        ctx.Process(target=_worker, args=(path, 150, 350, barrier)),
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
    for p in procs:
        if p.is_alive():
            p.kill()
            p.join()
    assert [p.exitcode for p in procs] == [0, 0]
    cache = ResponseCache(path)
    assert len(cache) == 350
    got = cache.get_many(f"k{i}" for i in range(350))
    assert sorted(int(k[1:]) for k in got) == list(range(350))
    assert all(r.text == f"t{k[1:]}" for k, r in got.items())
    cache.close()


# -- cache identity: what a backend knows about its model and settings -------------------------


def test_mock_with_another_script_never_gets_the_others_answers(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    yes = CachedBackend(MockBackend({"p": "Yes"}), path)
    (first,) = yes.generate([req("a")])
    yes.close()
    no = CachedBackend(MockBackend({"p": "No"}, default="No"), path)
    (second,) = no.generate([req("a")])
    assert (first.text, second.text, second.cached) == ("4", "No", False)
    # The same script again is a hit.
    same = CachedBackend(MockBackend({"p": "Yes"}), path)
    (third,) = same.generate([req("a")])
    assert (third.text, third.cached) == ("4", True)
    no.close()
    same.close()


def test_refresh_asks_again_and_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    answers = iter(["first", "second"])

    def script(_r: ModelRequest) -> str:
        return next(answers)

    inner = MockBackend(script)
    CachedBackend(inner, path).generate([req("a")])
    refreshing = CachedBackend(inner, path, refresh=True)
    (fresh,) = refreshing.generate([req("a")])
    assert (fresh.text, fresh.cached, inner.calls) == ("second", False, 2)
    (hit,) = CachedBackend(inner, path).generate([req("a")])
    assert (hit.text, hit.cached, inner.calls) == ("second", True, 2)


def test_cache_refresh_from_a_manifest_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from valuespectrum.runs.setup import backend_factory

    monkeypatch.setenv("VSPEC_DATA", str(tmp_path / "data"))
    backend = backend_factory("refresh", tmp_path)("mock", {}, None)
    assert isinstance(backend, CachedBackend) and backend.refresh
    assert backend.cache.path == tmp_path / "data" / "response-cache.sqlite"
    backend.close()


def test_openai_extra_body_is_part_of_the_key(tmp_path: Path) -> None:
    import httpx

    from valuespectrum.backends.openai_compat import OpenAIBackend

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return httpx.Response(404)
        body = json.loads(request.content)
        text = f"answer with stop {body.get('stop')}"
        return httpx.Response(200, json={"choices": [{"message": {"content": text}}]})

    def make(extra: dict[str, object] | None) -> CachedBackend:
        inner = OpenAIBackend(
            "m", "http://h.local/v1", transport=httpx.MockTransport(handler), extra_body=extra
        )
        return CachedBackend(inner, tmp_path / "c.sqlite")

    plain, stop = make(None), make({"stop": ["\n"]})
    (a,) = plain.generate([req("a")])
    (b,) = stop.generate([req("a")])
    assert (a.text, b.text, b.cached) == ("answer with stop None", "answer with stop ['\\n']", False)
    assert plain.key_for(req("a")) != stop.key_for(req("a"))
    (c,) = make({"stop": ["\n"]}).generate([req("a")])
    assert (c.text, c.cached) == ("answer with stop ['\\n']", True)


def test_openai_redeployed_model_behind_the_same_name_gets_new_keys(tmp_path: Path) -> None:
    import httpx

    from valuespectrum.backends.openai_compat import OpenAIBackend

    deployed = {"meta": {"n_params": 135_000_000, "size": 90_000_000}, "answer": "old model"}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            # "created" is the listing time on some servers: it must not enter the identity
            listing = {
                "id": "m",
                "object": "model",
                "created": int(time.time() * 1000),
                "meta": deployed["meta"],
            }
            return httpx.Response(200, json={"object": "list", "data": [listing]})
        return httpx.Response(200, json={"choices": [{"message": {"content": deployed["answer"]}}]})

    def make() -> CachedBackend:
        inner = OpenAIBackend("m", "http://h.local/v1", transport=httpx.MockTransport(handler))
        return CachedBackend(inner, tmp_path / "c.sqlite")

    (a,) = make().generate([req("a")])
    (again,) = make().generate([req("a")])
    assert again.cached and again.text == "old model"
    deployed.update(meta={"n_params": 360_000_000, "size": 270_000_000}, answer="new model")
    (b,) = make().generate([req("a")])
    assert (a.text, b.text, b.cached) == ("old model", "new model", False)
