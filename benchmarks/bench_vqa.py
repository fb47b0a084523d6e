"""VQA throughput of the hf backend with a tiny VLM, and answer identity across batch sizes.

    python benchmarks/bench_vqa.py [--items 50] [--family qwen2_vl]

The same ``--items`` yes/no image items (generated PNGs of different colours and shapes, or
scikit-image's photographs when installed) run through a tiny random VLM in three modes,
each at batch 1 and batch 16:
  generation         text only (``score_options`` off: answers parsed from text),
  option-likelihood  option scores and the text,
  score-only         option scores only (``generate_text`` off).
Prints items/s per mode and batch size, the start-up (model load) seconds, and the share of
answers (texts, and the argmax option) identical between batch 1 and batch 16, which must
be 100 %. Where ``lmms-eval`` is installed it is only reported as present: its tiny-model
wiring is not part of this script. Ends with one JSON line of figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

from valuespectrum.backends.hf import HFBackend
from valuespectrum.types import GenerateConfig, ImagePart, MediaRef, Message, ModelRequest, TextPart

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

QUESTIONS = [
    "Does this picture show something exciting? Answer Yes or No.",
    "Does this image show people helping each other? Answer Yes or No.",
    "Is this scene about tradition? Answer Yes or No.",
    "Does this picture show wealth or power? Answer Yes or No.",
    "Is this a safe place? Answer Yes or No.",
]


def make_images(folder: Path, n: int) -> list[Path]:
    """``n`` images: scikit-image's photographs where installed, else generated PNGs."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    photos: list[Path] = []
    spec = importlib.util.find_spec("skimage")
    if spec is not None and spec.origin is not None:
        data = Path(spec.origin).parent / "data"
        photos = sorted(p for p in data.glob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    out: list[Path] = []
    for i in range(n):
        path = folder / f"{i}.png"
        if photos:
            Image.open(photos[i % len(photos)]).convert("RGB").resize((64, 48)).save(path)
        else:
            img = Image.new("RGB", (64, 48), ((37 * i) % 256, (91 * i) % 256, (53 * i) % 256))
            ImageDraw.Draw(img).ellipse((4 + i % 20, 4, 40 + i % 20, 40), fill=(255 - 5 * i % 256, 20, 90))
            img.save(path)
        out.append(path)
    return out


def requests(images: list[Path], mode: str) -> list[ModelRequest]:
    config = GenerateConfig(
        max_new_tokens=8, generate_text=mode != "score-only", score_options=mode != "generation"
    )
    return [
        ModelRequest(
            request_id=f"{mode}-{i}",
            messages=[
                Message(
                    role="user",
                    content=[
                        ImagePart(image=MediaRef.pinned(p)),
                        TextPart(text=QUESTIONS[i % len(QUESTIONS)]),
                    ],
                )
            ],
            options=["Yes", "No"],
            config=config,
        )
        for i, p in enumerate(images)
    ]


def run(
    backend: HFBackend, reqs: list[ModelRequest], batch: int
) -> tuple[float, list[tuple[str, int | None]]]:
    t0 = time.perf_counter()
    answers: list[tuple[str, int | None]] = []
    for k in range(0, len(reqs), batch):
        for r in backend.generate(reqs[k : k + batch]):
            if r.error:
                raise SystemExit(f"request {r.request_id} failed: {r.error}")
            lps = r.option_logprobs
            answers.append((r.text, max(range(len(lps)), key=lambda j: lps[j]) if lps else None))
    return len(reqs) / (time.perf_counter() - t0), answers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--family", default="qwen2_vl")
    args = ap.parse_args()
    from tiny_models import build_tiny_vlm

    from valuespectrum.compat import ensure_torch_stack

    ensure_torch_stack()
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_tiny_vlm(None, args.family)
        images = make_images(Path(tmp) / "img", args.items)
        t0 = time.perf_counter()
        backend = HFBackend(str(folder))
        startup = time.perf_counter() - t0
        backend.generate(requests(images[:2], "option-likelihood"))  # warm-up
        figures: dict[str, object] = {
            "items": args.items,
            "family": args.family,
            "startup_s": round(startup, 2),
        }
        for mode in ("generation", "option-likelihood", "score-only"):
            reqs = requests(images, mode)
            rate1, one = run(backend, reqs, 1)
            rate16, sixteen = run(backend, reqs, 16)
            same = sum(a == b for a, b in zip(one, sixteen, strict=True)) / len(reqs)
            print(
                f"{mode:18s} batch 1 {rate1:7.1f} items/s   batch 16 {rate16:7.1f} items/s   identical {same:.0%}"
            )
            figures[f"{mode}_b1_items_s"] = round(rate1, 1)
            figures[f"{mode}_b16_items_s"] = round(rate16, 1)
            figures[f"{mode}_identical_share"] = same
        print(
            f"start-up {startup:.1f} s; lmms-eval installed: {importlib.util.find_spec('lmms_eval') is not None}"
        )
        print(json.dumps(figures))
        if any(
            figures[f"{m}_identical_share"] != 1.0 for m in ("generation", "option-likelihood", "score-only")
        ):
            raise SystemExit("answers changed with the batch size")


if __name__ == "__main__":
    main()
