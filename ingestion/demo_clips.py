"""The bulk of the demo corpus: a few hundred short pan/zoom clips of shipped photographs, with
captions and metadata written for each of the ten values.

Each value has its own photographs and colour grade (so clips of one value look alike, as the
clips of one account or trend do) and its own caption phrases; a clip's caption is one phrase in one of a few framings, its platform,
uploader and date come from a seeded generator. Clips are tiny (160x120, 10 frames) so that
300 build in well under a minute. Deterministic: the same call writes the same bytes.
"""

from __future__ import annotations

import colorsys
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from valuespectrum.values import CIRCUMPLEX, Value

#: Photographs of scikit-image per value.
SOURCES: dict[Value, tuple[str, ...]] = {
    Value.SELF_DIRECTION: ("page.png", "text.png", "color.png"),
    Value.STIMULATION: ("motorcycle_left.png", "motorcycle_right.png"),
    Value.HEDONISM: ("coffee.png", "color.png"),
    Value.ACHIEVEMENT: ("rocket.jpg", "astronaut.png"),
    Value.POWER: ("coins.png", "logo.png"),
    Value.SECURITY: ("camera.png", "phantom.png"),
    Value.CONFORMITY: ("chessboard_RGB.png", "brick.png"),
    Value.TRADITION: ("clock_motion.png", "moon.png"),
    Value.BENEVOLENCE: ("chelsea.png", "retina.jpg"),
    Value.UNIVERSALISM: ("horse.png", "hubble_deep_field.jpg", "grass.png"),
}

PHRASES: dict[Value, tuple[str, ...]] = {
    Value.SELF_DIRECTION: (
        "designing my own typeface from scratch",
        "writing a novel on my own terms, no publisher",
        "I repaint my room whatever colour I like",
        "learning the violin by myself from old videos",
        "my homemade synthesizer, built without a manual",
        "choosing my own path instead of the career they planned",
        "drafting the plans for a cabin I will build myself",
    ),
    Value.STIMULATION: (
        "top speed on the track, my heart is pounding",
        "a wheelie on the highway, do not try this",
        "first motocross jump, terrifying and amazing",
        "night ride through the mountains at full throttle",
        "drifting around the corner, adrenaline overload",
        "new thrill unlocked: racing in the rain",
        "the craziest stunt I have ever filmed",
    ),
    Value.HEDONISM: (
        "the creamiest latte in town, pure bliss",
        "treat yourself: cake and coffee in bed",
        "slow weekend mornings are the best pleasure",
        "sweet tooth tour of the best cafes",
        "doing absolutely nothing with a hot chocolate",
        "colour therapy: pretty things that make me happy",
        "brunch with extra whipped cream, no regrets",
    ),
    Value.ACHIEVEMENT: (
        "ten years of work and the launch succeeded",
        "from trainee to mission commander",
        "we hit every milestone ahead of schedule",
        "the engineering team that made it to orbit",
        "graduated top of the flight academy",
        "my promotion to chief engineer came through",
        "record-breaking launch, proud of the whole crew",
    ),
    Value.POWER: (
        "my coin collection is worth more than your house",
        "stacks of gold, the empire keeps growing",
        "the brand I own is now worth billions",
        "rich people secrets: money makes money",
        "only the elite get access to this vault",
        "counting my fortune, who is the boss now",
        "luxury lifestyle, status is everything",
    ),
    Value.SECURITY: (
        "checking every camera before we lock up for the night",
        "a full medical scan to be sure everything is safe",
        "home safety checklist everyone should follow",
        "our neighbourhood watch keeps the street secure",
        "an emergency plan for the whole household",
        "saving for a rainy day, a stable life matters",
        "safety first: how we protect our home",
    ),
    Value.CONFORMITY: (
        "everything in its proper square, just as the rules say",
        "neat rows, no one steps out of line",
        "etiquette lesson: how to behave properly at dinner",
        "follow the dress code and respect the guidelines",
        "we always do what is expected of us",
        "polite manners and obeying the house rules",
        "every brick laid exactly as the building code requires",
    ),
    Value.TRADITION: (
        "grandfather's clock, wound the same way for a hundred years",
        "the old moon festival our ancestors celebrated",
        "heirlooms and customs passed down the family line",
        "keeping the ancient ritual alive every autumn",
        "the traditional calendar our village still follows",
        "antique craftsmanship from a time-honoured workshop",
        "honouring the customs of our elders",
    ),
    Value.BENEVOLENCE: (
        "nursing our rescue kitten back to health",
        "taking care of my sick grandmother every day",
        "volunteering at the animal shelter on weekends",
        "my best friend needed help, so I showed up",
        "caring for the eyes of elderly patients for free",
        "feeding the stray cats in our building",
        "looking after each other is what family means",
    ),
    Value.UNIVERSALISM: (
        "wild horses need protected open land for everyone",
        "we are all one tiny part of this vast universe",
        "protect the meadows and the insects that live there",
        "nature belongs to all of us, keep it clean",
        "equal rights for every person on this planet",
        "the cosmos reminds us to care for our shared home",
        "restoring grassland for wildlife and future generations",
    ),
}


#: Colour grade per value, in CIRCUMPLEX order: hues 3/10 of the wheel apart, so that values
#: next to each other on the circumplex do not share a look.
def _tint(i: int) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb((3 * i % 10) / 10, 0.8, 0.9)
    return int(r * 255), int(g * 255), int(b * 255)


TINTS: tuple[tuple[int, int, int], ...] = tuple(_tint(i) for i in range(10))

FRAMINGS = ("{p}", "POV: {p}", "{p} #fyp", "day {n}: {p}", "watch till the end: {p}")
PLATFORMS = ("tiktok", "youtube_shorts", "instagram_reels", "other")
EXTRACTOR = {
    "tiktok": "TikTok",
    "youtube_shorts": "Youtube",
    "instagram_reels": "Instagram",
    "other": "Generic",
}
URLS = {
    "tiktok": "https://www.tiktok.com/@{u}/video/{n}",
    "youtube_shorts": "https://www.youtube.com/shorts/{n}",
    "instagram_reels": "https://www.instagram.com/reel/{n}/",
    "other": "https://example.org/videos/{n}",
}


@dataclass(frozen=True)
class Clip:
    name: str
    value: Value
    photo: str
    caption: str
    platform: str
    seed: int


def plan(per_value: int) -> list[Clip]:
    """``per_value`` clips for each value, in a fixed order."""
    clips = []
    for vi, value in enumerate(CIRCUMPLEX):
        phrases, photos = PHRASES[value], SOURCES[value]
        for k in range(per_value):
            seed = 1000 + vi * 1000 + k
            phrase = phrases[k % len(phrases)]
            framing = FRAMINGS[(k // len(phrases)) % len(FRAMINGS)]
            caption = framing.format(p=phrase, n=k + 1)
            caption = caption[0].upper() + caption[1:]
            slug = value.value.lower().replace("-", "")
            clips.append(
                Clip(
                    f"{slug}_{k:03d}", value, photos[k % len(photos)], caption, PLATFORMS[(vi + k) % 4], seed
                )
            )
    return clips


def write_clips(corpus: Path, skimage: Path, per_value: int) -> list[Path]:
    """Write the planned clips (skipping those already there) and their info.json sidecars."""
    from ingestion.demo import photo_clip

    out = []
    for clip in plan(per_value):
        target = corpus / f"{clip.name}.mp4"
        if not target.exists():
            tint = TINTS[CIRCUMPLEX.index(clip.value)]
            photo_clip(skimage / clip.photo, target, clip.seed, frames=10, fps=8, size=(160, 120), tint=tint)
        rng = np.random.default_rng(clip.seed)
        user = f"{clip.value.value.lower().replace('-', '')}{int(rng.integers(1, 99))}"
        number = str(7400000000000000000 + clip.seed * 7919)
        date = f"{2021 + int(rng.integers(0, 4))}{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}"
        info = {
            "id": number,
            "title": clip.caption,
            "description": "",
            "tags": [],
            "uploader": user,
            "upload_date": date,
            "webpage_url": URLS[clip.platform].format(u=user, n=number),
            "extractor_key": EXTRACTOR[clip.platform],
            "source_package": "scikit-image",
            "source_file": clip.photo,
            "written_for_value": clip.value.value,
        }
        (corpus / f"{clip.name}.info.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
        out.append(target)
    return out
