"""Indexing against a real `chroma run` server on loopback through HttpClient."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from media import make_video, tiny_encoder_factory

from ingestion.config import IndexConfig
from ingestion.pipeline import index_corpus
from ingestion.query import corpus_stats, open_index, search_image
from ingestion.store import ChromaStore


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    if not Path(exe).exists():
        pytest.skip("the chroma CLI is not installed")
    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = open(path / "server.log", "wb")  # noqa: SIM115 - closed in the finalizer
    proc = subprocess.Popen(
        [exe, "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        import httpx

        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"chroma run exited with {proc.returncode}: {(path / 'server.log').read_text()[-500:]}"
                )
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("chroma run did not answer its heartbeat within 30 s")
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_index_into_http_server(chroma_server: int, tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    for i in range(3):
        make_video(root / f"v{i}.mp4", seed=10 + i)
    cfg = IndexConfig(
        corpus_root=root,
        data_dir=tmp_path / "data",
        model="vspec-tiny-clip",
        chroma_host="127.0.0.1",
        chroma_port=chroma_server,
        frames_per_video=4,
        progress=False,
    )
    enc = tiny_encoder_factory()
    report = index_corpus(cfg, encoder=enc)
    assert len(report.indexed) == 3 and report.store == f"http://127.0.0.1:{chroma_server}"
    assert not (tmp_path / "data" / "chroma").exists()  # nothing embedded: the server holds the data
    _, store = open_index(cfg, enc)
    assert corpus_stats(store).frames == 12
    thumb = next((tmp_path / "data" / "frames").glob("*/2.jpg"))
    hits = search_image(enc, store, thumb, k=3)
    assert hits[0].video_id == thumb.parent.name
    again = index_corpus(cfg, encoder=enc)
    assert len(again.unchanged) == 3 and again.indexed == []
    assert ChromaStore.read_encoder_id(host="127.0.0.1", port=chroma_server) == (enc.id, 64)
