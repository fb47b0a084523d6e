"""Real HTTP servers on loopback for backend tests.

- :func:`start_transformers_server`: ``transformers serve`` (a real OpenAI-compatible
  server) in a subprocess on a free 127.0.0.1 port, serving a local model folder with
  the hub switched off. It is launched through a tiny Python entry that first applies
  ``valuespectrum.compat.ensure_torch_stack()``, because the server imports torchvision.
- :class:`FlakyProxy`: a stdlib proxy in front of a real server that answers its first
  requests with scripted failures (HTTP 503, 429 with Retry-After, a stall longer than
  the client's timeout) and forwards everything else, so the real server still answers.

Every wait is bounded and every process or thread started here is stopped by ``stop()``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_LAUNCH = (
    "import sys\n"
    "from valuespectrum.compat import ensure_torch_stack\n"
    "ensure_torch_stack()\n"
    "from transformers.cli.transformers import main\n"
    "sys.argv = ['transformers', 'serve', *sys.argv[1:]]\n"
    "sys.exit(main())\n"
)


def free_port() -> int:
    """A TCP port with nothing listening on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get_status(url: str, timeout: float = 1.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None


@dataclass
class ServedModel:
    """A running ``transformers serve`` process."""

    model: str
    """The model name the server is pinned to (the folder path it was started with)."""
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self, timeout_s: float = 15.0) -> None:
        """Stop the server and anything it started (its own process group)."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout_s)


def start_transformers_server(
    model_dir: str | Path, log_dir: str | Path, *, timeout_s: float = 180.0
) -> ServedModel:
    """Start ``transformers serve MODEL_DIR`` on a free loopback port and wait for /health."""
    model = str(Path(model_dir).resolve())
    port = free_port()
    log_path = Path(log_dir) / f"transformers-serve-{port}.log"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    cmd = [
        sys.executable,
        "-c",
        _LAUNCH,
        model,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--device",
        "cpu",
    ]
    return _serve(cmd, model, port, log_path, "/health", "transformers serve", timeout_s, env=env)


def start_llamacpp_server(
    gguf: str | Path, log_dir: str | Path, *, alias: str = "smollm2", timeout_s: float = 180.0
) -> ServedModel:
    """Start llama.cpp's OpenAI-compatible server (``llama-cpp-python[server]``) on a free
    loopback port serving ``gguf`` under ``alias``, and wait until ``/v1/models`` answers."""
    port = free_port()
    log_path = Path(log_dir) / f"llamacpp-{port}.log"
    cmd = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
        "--port", str(port), "--n_ctx", "2048", "--n_threads", "2", "--model_alias", alias,
    ]  # fmt: skip
    return _serve(cmd, alias, port, log_path, "/v1/models", "llama.cpp server", timeout_s)


def _serve(
    cmd: list[str],
    model: str,
    port: int,
    log_path: Path,
    ready_path: str,
    name: str,
    timeout_s: float,
    env: dict[str, str] | None = None,
) -> ServedModel:
    """Run ``cmd`` in its own process group, logging to ``log_path``, until ``ready_path`` answers 200."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    served = ServedModel(model=model, port=port, process=proc, log_path=log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode}:\n{served.log_tail()}")
        if _get_status(f"{served.origin}{ready_path}") == 200:
            return served
        time.sleep(0.2)
    served.stop()
    raise RuntimeError(f"{name} not ready after {timeout_s:.0f} s:\n{served.log_tail()}")


@dataclass
class Failure:
    """One scripted failure: an HTTP status (with optional Retry-After) or a stall."""

    status: int = 503
    retry_after: str | None = None
    stall_s: float = 0.0
    """Sleep this long before answering (longer than the client's timeout = a timeout)."""


@dataclass
class ProxyLog:
    received: int = 0
    forwarded: int = 0
    inflight: int = 0
    max_inflight: int = 0
    times: list[float] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)


class FlakyProxy:
    """Loopback proxy whose first ``len(failures)`` requests fail as scripted.

    ``upstream`` is the real server's origin (``http://127.0.0.1:PORT``); paths are kept.
    """

    def __init__(self, upstream: str, failures: Sequence[Failure] = ()) -> None:
        self.upstream = upstream.rstrip("/")
        self.log = ProxyLog()
        self._failures = list(failures)
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with proxy._lock:
                    proxy.log.received += 1
                    proxy.log.inflight += 1
                    proxy.log.max_inflight = max(proxy.log.max_inflight, proxy.log.inflight)
                    proxy.log.times.append(time.monotonic())
                    try:
                        proxy.log.bodies.append(json.loads(body or b"{}"))
                    except ValueError:
                        proxy.log.bodies.append({})
                    failure = proxy._failures.pop(0) if proxy._failures else None
                if failure is not None:
                    if failure.stall_s:
                        time.sleep(failure.stall_s)
                    self._reply(
                        failure.status,
                        json.dumps({"error": {"message": f"scripted failure {failure.status}"}}).encode(),
                        {"Retry-After": failure.retry_after} if failure.retry_after is not None else {},
                    )
                    return
                req = urllib.request.Request(
                    proxy.upstream + self.path,
                    data=body,
                    method="POST",
                    headers={"Content-Type": self.headers.get("Content-Type", "application/json")},
                )
                try:
                    with urllib.request.urlopen(req, timeout=120) as resp:
                        status, data = int(resp.status), resp.read()
                except urllib.error.HTTPError as exc:
                    status, data = int(exc.code), exc.read()
                with proxy._lock:
                    proxy.log.forwarded += 1
                self._reply(status, data, {})

            def _reply(self, status: int, data: bytes, headers: dict[str, str]) -> None:
                with proxy._lock:
                    proxy.log.inflight -= 1
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="flaky-proxy", daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def flaky_proxy(upstream: str, failures: Sequence[Failure] = ()) -> Iterator[FlakyProxy]:
    proxy = FlakyProxy(upstream, failures)
    try:
        yield proxy
    finally:
        proxy.stop()
