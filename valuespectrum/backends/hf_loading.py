"""Finding and loading a transformers model: hub id, local folder, or local GGUF file.

Kept apart from the backend so that loading errors (bad spec, missing folder, unknown
architecture, hub unreachable) are raised in one place, each naming the thing and the fix.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valuespectrum.errors import BackendError, ConfigError, require

_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth")
DTYPES = ("float32", "bfloat16", "float16")


@dataclass(frozen=True)
class ModelSource:
    """Where the weights come from, resolved from what the user wrote."""

    location: str
    """Hub id or absolute folder path handed to ``from_pretrained``."""
    gguf_file: str | None
    """GGUF file name inside ``location`` (transformers' ``gguf_file``), if any."""
    local: bool
    model_id: str
    revision: str | None


def resolve_source(model: str, *, revision: str | None = None, gguf_file: str | None = None) -> ModelSource:
    """Turn a hub id, a folder or a ``.gguf`` path into a :class:`ModelSource`.

    Raises BackendError for an empty spec, a path that does not exist, a folder without
    ``config.json`` (and no GGUF file), or something that is neither a path nor a hub id.
    """
    text = model.strip()
    if not text:
        raise BackendError(
            "hf backend: empty model; give a hub id (Qwen/Qwen2-VL-2B-Instruct), a folder or a .gguf file"
        )
    path = Path(text).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        if gguf_file is not None and gguf_file != path.name:
            raise ConfigError(
                f"hf backend: model {text!r} is a GGUF file but gguf_file={gguf_file!r} names another"
            )
        full = path.resolve()
        return ModelSource(str(full.parent), full.name, True, str(full), local_revision(full))
    if path.is_dir():
        full = path.resolve()
        if gguf_file is not None:
            gpath = full / gguf_file
            if not gpath.is_file():
                raise BackendError(f"{gpath}: GGUF file not found (gguf_file={gguf_file!r} in folder {full})")
            return ModelSource(str(full), gguf_file, True, str(gpath), local_revision(gpath))
        if not (full / "config.json").is_file():
            raise BackendError(
                f"{full}: no config.json in this model folder; point at a folder saved with "
                "save_pretrained (config.json + weights) or at a .gguf file"
            )
        if not any(p.suffix in _WEIGHT_SUFFIXES for p in full.iterdir()):
            raise BackendError(f"{full}: no weights (*.safetensors / *.bin) in this model folder")
        return ModelSource(str(full), None, True, str(full), local_revision(full))
    looks_like_path = text.startswith((".", "/", "~")) or text.endswith(".gguf") or text.count("/") > 1
    if looks_like_path:
        what = "GGUF file" if text.endswith(".gguf") else "model folder"
        raise BackendError(f"{path}: {what} does not exist; check the path in the model spec")
    if not _HUB_ID.match(text):
        raise BackendError(
            f"hf backend: {text!r} is neither an existing folder, a .gguf file nor a hub id like 'owner/name'"
        )
    model_id = f"{text}/{gguf_file}" if gguf_file else text
    return ModelSource(text, gguf_file, False, model_id, revision)


def local_revision(path: Path) -> str:
    """Cheap digest of a local model: config.json bytes plus weight files' names, sizes, mtimes."""
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(path.iterdir())
    for f in files:
        if f.name == "config.json":
            h.update(f.read_bytes())
        elif f.suffix in _WEIGHT_SUFFIXES and f.is_file():
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return "local-" + h.hexdigest()[:12]


def pick_device(device: str | None) -> str:
    import torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise BackendError(
            f"hf backend: device={device!r} asked for but CUDA is not available; use device='cpu'"
        )
    return device


def pick_dtype(dtype: str | None, device: str) -> Any:
    import torch

    if dtype in (None, "auto"):
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    if dtype not in DTYPES:
        raise ConfigError(f"hf backend: dtype={dtype!r} is not one of {', '.join(DTYPES)} (or 'auto')")
    return getattr(torch, dtype)


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    processor: Any | None
    """None for text-only models (the tokenizer renders and encodes)."""
    model_type: str


def load_model(
    src: ModelSource,
    *,
    device: str,
    dtype: Any,
    trust_remote_code: bool = False,
    gguf_cache: bool = True,
    device_map: str | None = None,
) -> LoadedModel:
    """Load config, then the right Auto class (image-text-to-text or causal LM) and its processor.

    A GGUF file is converted once into a cached standard folder (``gguf_cache``, see
    :func:`converted_gguf`) and loaded from there. ``device_map="auto"`` lets accelerate spread
    a model too large for one device over the GPUs (and CPU memory) instead of moving it to
    ``device``."""
    require("transformers", extra="hf", feature="the hf backend")
    from valuespectrum.compat import ensure_torch_stack

    ensure_torch_stack()
    import transformers
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES,
    )

    if src.gguf_file and gguf_cache:
        folder = converted_gguf(Path(src.location) / src.gguf_file)
        src = ModelSource(str(folder), None, True, src.model_id, src.revision)
    common: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if src.revision and not src.local:
        common["revision"] = src.revision
    if src.gguf_file:
        common["gguf_file"] = src.gguf_file
    try:
        config = transformers.AutoConfig.from_pretrained(src.location, **common)
    except OSError as exc:
        raise BackendError(_not_found(src, exc)) from exc
    except (ValueError, KeyError) as exc:
        raise BackendError(f"{src.model_id}: unknown or unsupported model config: {exc}") from exc
    mtype = str(getattr(config, "model_type", ""))
    is_vlm = mtype in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES
    if not is_vlm and mtype not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and not trust_remote_code:
        raise BackendError(
            f"{src.model_id}: model type {mtype!r} is neither a causal LM nor an image-text-to-text "
            "model in this transformers version; upgrade transformers or pick another model"
        )
    auto = transformers.AutoModelForImageTextToText if is_vlm else transformers.AutoModelForCausalLM
    try:
        placement = {"device_map": device_map} if device_map else {}
        model = auto.from_pretrained(src.location, dtype=dtype, **placement, **common)
        processor = transformers.AutoProcessor.from_pretrained(src.location, **common) if is_vlm else None
        tokenizer = (
            processor.tokenizer
            if processor is not None
            else transformers.AutoTokenizer.from_pretrained(src.location, **common)
        )
    except OSError as exc:
        raise BackendError(_not_found(src, exc)) from exc
    model = (model if device_map else model.to(device)).eval()  # type: ignore[arg-type]
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return LoadedModel(model=model, tokenizer=tokenizer, processor=processor, model_type=mtype)


def _not_found(src: ModelSource, exc: Exception) -> str:
    if src.local:
        return f"{src.model_id}: cannot load the model files: {exc}"
    return (
        f"{src.model_id}: not found locally and the hub could not serve it ({type(exc).__name__}). "
        f"Download it first (`hf download {src.location}`) or pass a local folder or .gguf file"
    )


def gguf_cache_root() -> Path:
    """Where converted GGUF files live: ``$VSPEC_GGUF_CACHE``, else ``$VSPEC_DATA/gguf``,
    else ``~/.cache/valuespectrum/gguf``."""
    if env := os.environ.get("VSPEC_GGUF_CACHE"):
        return Path(env).expanduser()
    if env := os.environ.get("VSPEC_DATA"):
        return Path(env).expanduser() / "gguf"
    return Path.home() / ".cache" / "valuespectrum" / "gguf"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def converted_gguf(gguf_path: Path, cache_root: Path | None = None) -> Path:
    """The standard safetensors folder for ``gguf_path``, converted on first use into a cache
    keyed by the file's SHA-256 (a renamed or copied file reuses it, an edited one does not).

    Parsing a GGUF (config, dequantised weights, tokenizer) takes about a minute for a
    250 MB file; the converted folder loads in seconds and is a plain transformers folder.
    """
    digest = file_sha256(gguf_path)
    out = (cache_root or gguf_cache_root()) / digest[:32]
    if not _is_conversion_of(out, digest):
        tmp = out.with_name(out.name + f".tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        convert_gguf_to_folder(gguf_path, tmp)
        (tmp / _MARKER).write_text(json.dumps({"source": gguf_path.name, "sha256": digest}))
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)  # a half-written conversion is never taken for a finished one
    return out


_MARKER = "converted_from_gguf.json"


def _is_conversion_of(out: Path, digest: str) -> bool:
    try:
        return (
            json.loads((out / _MARKER).read_text()).get("sha256") == digest
            and (out / "config.json").is_file()
        )
    except (OSError, ValueError, AttributeError):
        return False


def convert_gguf_to_folder(gguf_path: str | Path, out_dir: str | Path) -> Path:
    """Dequantise a GGUF text model into a standard safetensors folder (config.json without
    the GGUF ``quantization_config``, so any tool's ``from_pretrained`` loads it).

    A GGUF-loaded model refuses ``save_pretrained``; a fresh model built from the same config
    with the loaded state dict can be saved. Skips the work when ``out_dir`` already holds a
    conversion of the same file (same name, size and mtime).
    """
    from valuespectrum.compat import ensure_torch_stack

    ensure_torch_stack()
    import transformers

    src = Path(gguf_path).expanduser().resolve()
    if not src.is_file():
        raise BackendError(f"{src}: GGUF file not found")
    out = Path(out_dir)
    stamp = {"source": src.name, "size": src.stat().st_size, "mtime_ns": src.stat().st_mtime_ns}
    marker = out / "converted_from_gguf.json"
    if marker.is_file() and (out / "config.json").is_file():
        try:
            if json.loads(marker.read_text()) == stamp and _standard_config(out):
                return out
        except ValueError:
            pass
    kw = {"gguf_file": src.name}
    tok = transformers.AutoTokenizer.from_pretrained(src.parent, **kw)
    loaded = transformers.AutoModelForCausalLM.from_pretrained(src.parent, dtype="float32", **kw)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the weights are saved dequantised
    fresh = transformers.AutoModelForCausalLM.from_config(config)
    fresh.load_state_dict(loaded.state_dict())
    fresh.generation_config = loaded.generation_config
    out.mkdir(parents=True, exist_ok=True)
    fresh.save_pretrained(out)
    tok.save_pretrained(out)
    marker.write_text(json.dumps(stamp))
    return out


def _standard_config(folder: Path) -> bool:
    return "quantization_config" not in json.loads((folder / "config.json").read_text())
