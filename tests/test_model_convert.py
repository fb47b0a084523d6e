"""``vspec model convert FILE.gguf [--out DIR]``: the GGUF cache as a command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from smollm2 import needs_smollm2, smollm2_gguf
from typer.testing import CliRunner

from valuespectrum.cli import app


def _fake_convert(calls: list[Path]):  # type: ignore[no-untyped-def]
    def convert(src: Path, out: Path) -> Path:  # the real one runs on SmolLM2 below
        calls.append(Path(src))
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "config.json").write_text("{}")
        return Path(out)

    return convert


def test_convert_prints_the_cached_folder_and_reuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from valuespectrum.backends import hf_loading

    calls: list[Path] = []
    monkeypatch.setattr(hf_loading, "convert_gguf_to_folder", _fake_convert(calls))
    monkeypatch.setenv("VSPEC_GGUF_CACHE", str(tmp_path / "cache"))
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF a model")
    runner = CliRunner()
    first = runner.invoke(app, ["model", "convert", str(model)])
    again = runner.invoke(app, ["model", "convert", str(model)])
    assert first.exit_code == again.exit_code == 0, first.output
    folder = Path(first.output.strip())
    # keyed by the file's SHA-256: the folder is the one `hf:m.gguf` loads, converted once
    assert folder == hf_loading.gguf_cache_root() / hf_loading.file_sha256(model)[:32]
    assert again.output == first.output and len(calls) == 1
    assert json.loads((folder / "converted_from_gguf.json").read_text())["source"] == "m.gguf"
    out = runner.invoke(app, ["model", "convert", str(model), "--out", str(tmp_path / "mine")])
    assert out.exit_code == 0 and Path(out.output.strip()) == tmp_path / "mine" and len(calls) == 2


def test_convert_refuses_a_missing_or_non_gguf_file(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["model", "convert", str(tmp_path / "nope.gguf")])
    assert missing.exit_code == 2 and "no such GGUF file" in missing.output
    (tmp_path / "m.bin").write_bytes(b"x")
    wrong = runner.invoke(app, ["model", "convert", str(tmp_path / "m.bin")])
    assert wrong.exit_code == 2 and "not a .gguf file" in wrong.output


@pytest.mark.slow
@pytest.mark.realmodel
@needs_smollm2
def test_real_gguf_converted_by_the_command_loads_with_plain_from_pretrained(tmp_path: Path) -> None:
    from valuespectrum.compat import ensure_torch_stack

    ensure_torch_stack()  # the CPU torch beside a CUDA torchvision here (see valuespectrum.compat)
    import transformers

    gguf = smollm2_gguf()
    assert gguf is not None
    env = {**os.environ, "VSPEC_GGUF_CACHE": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-m", "valuespectrum", "model", "convert", str(gguf)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    folder = Path(done.stdout.strip().splitlines()[-1])
    assert folder.parent == tmp_path / "cache" and (folder / "model.safetensors").is_file()
    model = transformers.AutoModelForCausalLM.from_pretrained(folder)
    tok = transformers.AutoTokenizer.from_pretrained(folder)
    text = tok.apply_chat_template(
        [{"role": "user", "content": "Hi"}], add_generation_prompt=True, tokenize=False
    )
    assert model.config.model_type == "llama" and text.endswith("<|im_start|>assistant\n")
