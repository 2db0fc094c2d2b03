"""Training presets filled from the dataset, each value with the reason it was chosen.

The tutorial sets: width/height = the processed images' size; max steps ≈1500 for ~25 images and
fewer for fewer; an embedding and a preview image every 50 steps (100 for long runs); shuffle tags;
tag drop-out 0.1; latent sampling "deterministic"; learning rate 0.005. Everything stays editable.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from lib_textinv.captions.files import read_caption
from lib_textinv.dataset.reasons import reason_for
from lib_textinv.dataset.scan import list_images
from lib_textinv.dataset.upright import upright_size
from lib_textinv.kit.images import ImageRefused, exif_orientation, open_image

logger = logging.getLogger(__name__)

STEPS_PER_IMAGE = 60  # 25 images × 60 = 1500, the tutorial's figure
MAX_PRESET_STEPS = 1500
MIN_PRESET_STEPS = 300
LONG_RUN_STEPS = 1000  # above this, save every 100 instead of 50
TEMPLATES = {
    "style": ("style_filewords.txt", "style.txt"),
    "subject": ("subject_filewords.txt", "subject.txt"),
}


@dataclass(frozen=True)
class ImageFacts:
    path: Path
    size: tuple[int, int] | None  # after EXIF rotation, as the webui's images.read sees it
    error: str | None  # why it cannot be used, in the Dataset report's words (``dataset.reasons``)
    has_caption: bool
    caption_empty: bool


@dataclass
class DatasetFacts:
    folder: Path
    images: list[ImageFacts] = field(default_factory=list)

    @property
    def readable(self) -> list[ImageFacts]:
        return [i for i in self.images if i.error is None]

    @property
    def sizes(self) -> Counter:
        return Counter(i.size for i in self.readable)

    def common_size(self) -> tuple[int, int] | None:
        return self.sizes.most_common(1)[0][0] if self.readable else None

    @property
    def captioned(self) -> int:
        return sum(1 for i in self.images if i.has_caption)


def is_folder(path: str | os.PathLike) -> bool:
    """Whether a user-typed path is a folder; False also for what is no path at all (a NUL byte,
    a name longer than the file system allows)."""
    try:
        return bool(str(path).strip()) and Path(path).is_dir()
    except (OSError, ValueError):
        return False


def image_size(path: Path) -> tuple[int, int]:
    """Upright size (``dataset.upright``: after EXIF rotation); decodes the pixels, from memory as
    every step reads images (``kit.images``), so a truncated file is caught here, not in the
    middle of the webui's dataset preparation (which would skip it silently)."""
    with open_image(path) as im:
        im.load()
        return upright_size(im.size, exif_orientation(im))


def scan_dataset(folder: str | os.PathLike) -> DatasetFacts:
    """Every image directly in ``folder`` (the webui's trainer is not recursive): size or the
    reason it cannot be read, and whether it has a caption file."""
    folder = Path(folder)
    facts = DatasetFacts(folder)
    for p in list_images(folder):
        size, error = None, None
        try:
            size = image_size(p)
        except (ImageRefused, OSError, ValueError, SyntaxError, EOFError) as e:  # PIL: SyntaxError
            error = reason_for(e, p).message  # on bad PNG chunks, EOFError on some cut-off files
        cap = read_caption(p)
        facts.images.append(ImageFacts(p, size, error, cap is not None, cap is not None and not cap))
    return facts


def _round(n: float, to: int = 50) -> int:
    return max(to, round(n / to) * to)


@dataclass
class Presets:
    values: dict
    reasons: dict[str, str]

    def set(self, name: str, value: object, reason: str) -> None:
        self.values[name], self.reasons[name] = value, reason

    def explain(self) -> str:
        return "\n".join(f"- **{k}** = {self.values[k]}: {r}" for k, r in self.reasons.items())


def suggest_presets(
    facts: DatasetFacts, kind: str = "style", batch_size: int = 1, gradient_step: int = 1
) -> Presets:
    """Presets for ``TrainArgs`` fields from the dataset facts."""
    if kind not in TEMPLATES:
        raise ValueError(f"preset kind must be one of {', '.join(TEMPLATES)}, got {kind!r}")
    p = Presets({}, {})
    _size_preset(facts, p)
    steps = _steps_preset(len(facts.readable), batch_size, gradient_step, p)
    every = 100 if steps > LONG_RUN_STEPS else 50
    p.set(
        "save_embedding_every",
        every,
        f"a checkpoint and a preview every {every} steps → {steps // every} to compare later"
        + (
            f" (100 instead of 50 because the run is longer than {LONG_RUN_STEPS} steps)"
            if every == 100
            else ""
        ),
    )
    p.values["create_image_every"] = every
    p.set("shuffle_tags", True, "caption tags in a new order each time, so no tag position is learned")
    p.set(
        "tag_drop_out",
        0.1,
        "each tag left out 10% of the time, so the embedding learns what captions don't say",
    )
    p.set(
        "latent_sampling_method",
        "deterministic",
        "the VAE's mean latent of each image: no noise added to the target",
    )
    p.set(
        "learn_rate",
        "0.005",
        "the webui's default for embeddings; a schedule like 0.005:500, 0.001 also works",
    )
    p.set(
        "batch_size",
        batch_size,
        "1 image per step fits any GPU the webui trains on; raise gradient accumulation rather than batch "
        "size to average over more images without more memory",
    )
    p.values["gradient_step"] = gradient_step
    _template_preset(facts, kind, p)
    return p


def _size_preset(facts: DatasetFacts, p: Presets) -> None:
    n, size = len(facts.readable), facts.common_size()
    if not size:
        p.set("training_width", 512, "no readable image in the folder; 512×512 is the SD1 size")
        p.values["training_height"] = 512
        return
    same = facts.sizes[size]
    p.set(
        "training_width",
        size[0],
        f"all {n} images are {size[0]}×{size[1]}"
        if same == n
        else f"{same} of {n} images are {size[0]}×{size[1]}; pre-flight asks to crop the others to it",
    )
    p.values["training_height"] = size[1]


def _steps_preset(n: int, batch_size: int, gradient_step: int, p: Presets) -> int:
    per_step = max(1, batch_size) * max(1, gradient_step)
    raw = STEPS_PER_IMAGE * max(1, n) / per_step
    steps = min(MAX_PRESET_STEPS, max(MIN_PRESET_STEPS, _round(raw)))
    why = f"{n} image{'s' if n != 1 else ''} × {STEPS_PER_IMAGE} views each"
    if per_step > 1:
        why += f" ÷ {per_step} images per step (batch {batch_size} × accumulation {gradient_step})"
    why += f" ≈ {int(raw)}"
    if steps == MAX_PRESET_STEPS and raw > MAX_PRESET_STEPS:
        why += f", capped at {MAX_PRESET_STEPS} (the tutorial's figure for ~25 images; more tends to overfit)"
    elif steps == MIN_PRESET_STEPS and raw < MIN_PRESET_STEPS:
        why += f", raised to {MIN_PRESET_STEPS} so the embedding moves away from its start at all"
    else:
        why += f", rounded to {steps} (the tutorial uses ≈1500 for ~25 images, fewer for fewer)"
    p.set("steps", steps, why)
    return steps


def _template_preset(facts: DatasetFacts, kind: str, p: Presets) -> None:
    with_filewords, without = TEMPLATES[kind]
    if facts.images and facts.captioned == 0:
        p.set(
            "template_filename",
            without,
            f"{kind} preset; no image has a caption file, so a template without [filewords] "
            f"(with captions, use {with_filewords})",
        )
    else:
        p.set(
            "template_filename",
            with_filewords,
            f"{kind} preset: the webui's {with_filewords} puts the embedding's name and each image's caption "
            "into the training prompts",
        )
