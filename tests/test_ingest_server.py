"""Indexing against a real `chroma run` server on loopback: normal use, 5xx answers, a server killed mid-index."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cli_runs import vspec
from index_dump import assert_same_index, dump_store
from media import make_video, tiny_encoder_factory
from servers import free_port

from ingestion.config import IndexConfig
from ingestion.pipeline import index_corpus
from ingestion.query import corpus_stats, open_index, search_image
from ingestion.store import ChromaStore


class ChromaServer:
    """`chroma run` in a subprocess; can be killed (SIGKILL) and started again on the same port and folder."""

    def __init__(self, folder: Path) -> None:
        exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
        if not Path(exe).exists():
            pytest.skip("the chroma CLI is not installed")
        self.exe, self.folder, self.port = exe, folder, free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import httpx

        log = open(self.folder / "server.log", "ab")  # noqa: SIM115 - the child holds it
        self.proc = subprocess.Popen(
            [
                self.exe,
                "run",
                "--path",
                str(self.folder / "db"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"chroma run exited: {(self.folder / 'server.log').read_text()[-500:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("chroma run did not answer its heartbeat within 30 s")
            time.sleep(0.2)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _config(root: Path, data: Path, port: int, **kw: Any) -> IndexConfig:
    return IndexConfig(
        corpus_root=root,
        data_dir=data,
        model="vspec-tiny-clip",
        chroma_host="127.0.0.1",
        chroma_port=port,
        frames_per_video=4,
        progress=False,
        **kw,
    )


def test_index_into_http_server(chroma_server: ChromaServer, tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    for i in range(3):
        make_video(root / f"v{i}.mp4", seed=10 + i)
    cfg = _config(root, tmp_path / "data", chroma_server.port)
    enc = tiny_encoder_factory()
    report = index_corpus(cfg, encoder=enc)
    assert len(report.indexed) == 3 and report.store == f"http://127.0.0.1:{chroma_server.port}"
    assert not (tmp_path / "data" / "chroma").exists()  # nothing embedded: the server holds the data
    _, store = open_index(cfg, enc)
    assert corpus_stats(store).frames == 12
    thumb = next((tmp_path / "data" / "frames").glob("*/2.jpg"))
    hits = search_image(enc, store, thumb, k=3)
    assert hits[0].video_id == thumb.parent.name
    again = index_corpus(cfg, encoder=enc)
    assert len(again.unchanged) == 3 and again.indexed == []
    assert ChromaStore.read_encoder_id(host="127.0.0.1", port=chroma_server.port) == (enc.id, 64)


class _Flaky5xx:
    """A loopback proxy in front of the server that answers the first ``n`` writes with HTTP 503."""

    def __init__(self, upstream_port: int, n: int) -> None:
        self.left, self.failed, lock = n, 0, threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    fail = "/upsert" in self.path and proxy.left > 0
                    if fail:
                        proxy.left -= 1
                        proxy.failed += 1
                if fail:
                    self._reply(503, b'{"error":"Unavailable","message":"scripted 503"}')
                    return
                req = urllib.request.Request(
                    f"http://127.0.0.1:{upstream_port}{self.path}",
                    data=body or None,
                    method=self.command,
                    headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
                )
                try:
                    with urllib.request.urlopen(req, timeout=60) as resp:
                        self._reply(int(resp.status), resp.read())
                except urllib.error.HTTPError as exc:
                    self._reply(int(exc.code), exc.read())

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def _reply(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def test_5xx_answers_are_retried(chroma_server: ChromaServer, tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    for i in range(2):
        make_video(root / f"v{i}.mp4", seed=20 + i)
    proxy = _Flaky5xx(chroma_server.port, n=3)
    try:
        cfg = _config(
            root, tmp_path / "data", proxy.port, collection_prefix="flaky", store_retry_delay_s=0.05
        )
        report = index_corpus(cfg, encoder=tiny_encoder_factory())
        assert proxy.failed == 3 and len(report.indexed) == 2 and report.frames_written == 8
        # with fewer retries than faults the run stops with the one-line summary
        proxy.left = 10
        make_video(root / "v2.mp4", seed=22)
        cfg1 = cfg.model_copy(update={"store_retries": 1})
        from ingestion.store_retry import StoreUnavailableError

        with pytest.raises(StoreUnavailableError, match=r"HTTP 503 .* after 2 attempts over 0\.1 s"):
            index_corpus(cfg1, encoder=tiny_encoder_factory())
    finally:
        proxy.stop()


def _cli(args: list[str], timeout: float = 240) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), ".") if p)}
    return subprocess.Popen(
        [sys.executable, "-m", "valuespectrum", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _dump(port: int, prefix: str) -> dict[str, Any]:
    enc = tiny_encoder_factory()
    return dump_store(ChromaStore(enc.id, enc.dim, host="127.0.0.1", port=port, prefix=prefix, create=False))


def _videos_on(port: int, prefix: str) -> int:
    import httpx

    try:
        enc = tiny_encoder_factory()
        return ChromaStore(enc.id, enc.dim, host="127.0.0.1", port=port, prefix=prefix, create=False).count(
            "videos"
        )
    except Exception as exc:  # not created yet
        if isinstance(exc, httpx.HTTPError):
            raise
        return 0


@pytest.mark.slow
def test_server_killed_mid_index_then_resumed(tmp_path: Path) -> None:
    server = ChromaServer(tmp_path)
    server.start()
    try:
        root = tmp_path / "corpus"
        for i in range(40):
            make_video(root / f"v{i:02d}.mp4", seed=100 + i, n=12)
        base = ["index", str(root), "--model", "vspec-tiny-clip", "--frames", "4", "--batch-size", "4"]
        base += ["--host", "127.0.0.1", "--port", str(server.port), "--data-dir", str(tmp_path / "data")]
        base += ["--store-retries", "2"]
        clean_cfg = _config(root, tmp_path / "data", server.port, collection_prefix="clean", batch_size=4)
        assert len(index_corpus(clean_cfg, encoder=tiny_encoder_factory()).indexed) == 40
        proc = _cli([*base, "--collection", "cut"])
        deadline = time.monotonic() + 120
        while _videos_on(server.port, "cut") < 3:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        server.kill()
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, (out, err)
        errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
        assert "Traceback" not in err and len(errors) == 1, err
        line = errors[0]
        assert f"the Chroma server at http://127.0.0.1:{server.port} did not answer" in line
        assert "after 3 attempts over 1.5 s" in line  # backoff 0.5 s, then 1 s
        assert "this run wrote at least" in line and "of 40 videos before it stopped" in line
        assert "nothing written is lost: run the same command again to resume" in line
        written = int(line.split("this run wrote at least ")[1].split(" of")[0])
        server.start()
        partial = _dump(server.port, "cut")
        # a write the server made just before it died may not have been confirmed to the client
        assert written <= len(partial["videos"][0]) <= written + 1 and len(partial["videos"][0]) >= 3
        resumed = vspec(*base, "--collection", "cut", "--json", timeout=240)
        assert resumed.returncode == 0, resumed.stderr
        assert '"unchanged": [' in resumed.stdout
        assert_same_index(_dump(server.port, "cut"), _dump(server.port, "clean"))
        server.kill()
        # a search against the killed server: with --debug its traceback, without it one line
        search = ["search", "x", "--host", "127.0.0.1", "--port", str(server.port), "--collection", "cut"]
        dbg = vspec(*search, "--debug", "--store-retries", "0", timeout=240)
        assert dbg.returncode != 0 and "Traceback" in dbg.stderr
        plain = vspec(*search, "--store-retries", "1", timeout=240)
        assert plain.returncode == 2 and "Traceback" not in plain.stderr
        assert "the index is unchanged: run the same command again" in plain.stderr
    finally:
        server.stop()
