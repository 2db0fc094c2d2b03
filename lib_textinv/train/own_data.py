"""Our trainer's dataset: every image directly in the dataset folder (as the webui's trainer,
docs/webui-contract.md §15 training dataset), resized to the training size, encoded by the VAE
once (and its mirrored copy once, when asked), and a new prompt for each use, drawn from the
template with the caption's tags shuffled and dropped exactly as the webui's trainer does
(``kit.templates.training_prompt``)."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib_textinv.kit.host import TrainModel
from lib_textinv.kit.progress import Progress
from lib_textinv.kit.templates import training_prompt

ENCODE_CHUNK = 8  # images per VAE call: bounded memory, progress between calls


def caption_for(image: Path) -> str:
    """The caption the trainer uses: ``<stem>.txt``, else the file stem minus leading digits and
    dashes (docs/webui-contract.md §15 "Training dataset"; the filename-regex option is not applied)."""
    from lib_textinv.captions.files import read_caption

    text = read_caption(image)
    return text if text is not None else re.sub(r"^[-\d]+\s*", "", image.stem)


def stratified_timesteps(n: int, num_timesteps: int, generator: Any) -> Any:
    """``n`` timesteps covering ``[0, num_timesteps)`` evenly (one per stratum, seeded jitter, seeded
    order): a few samples already see early and late denoising."""
    import torch

    jitter = torch.rand(n, generator=generator, dtype=torch.float64)
    t = (
        ((torch.arange(n, dtype=torch.float64) + jitter) * num_timesteps / n)
        .long()
        .clamp(0, num_timesteps - 1)
    )
    return t[torch.randperm(n, generator=generator)]


@dataclass
class Item:
    """One training sample: an image (or its mirror) and its caption."""

    name: str
    caption: str
    mirrored: bool = False


@dataclass
class Latents:
    """The VAE posterior of every item, in item order (``[n, C, h, w]`` each)."""

    mean: Any
    std: Any

    def sample(self, index: Any, method: str, generator: Any) -> Any:
        """The latents of ``index`` items: the mean ("deterministic"), a sample drawn once per run
        ("once", drawn by ``fix_once``) or a new sample each time ("random")."""
        import torch

        mean = self.mean[index]
        if method != "random":
            return mean
        eps = torch.randn(mean.shape, generator=generator, dtype=mean.dtype)
        return mean + self.std[index] * eps

    def fix_once(self, generator: Any) -> None:
        """Latent sampling "once": one sample per image for the whole run."""
        import torch

        eps = torch.randn(self.mean.shape, generator=generator, dtype=self.mean.dtype)
        self.mean = self.mean + self.std * eps


def load_items(
    paths: Sequence[Path], width: int, height: int, flip: bool, progress: Progress
) -> tuple[list[Item], list[Any], list[str]]:
    """Readable images resized to ``width``×``height`` (the webui's trainer stretches, it does not
    crop) plus their mirrors when ``flip``; the unreadable ones as "file: reason"."""
    from PIL import Image, ImageOps

    from lib_textinv.kit.images import ImageRefused, load_rgb

    items: list[Item] = []
    images: list[Any] = []
    skipped: list[str] = []
    for p in paths:
        progress.check()
        try:
            im = load_rgb(p).resize((width, height), Image.BICUBIC)
        except (OSError, ImageRefused, ValueError) as e:
            skipped.append(f"{p.name}: {e}")
            continue
        caption = caption_for(p)
        items.append(Item(p.name, caption))
        images.append(im)
        if flip:
            items.append(Item(p.name, caption, mirrored=True))
            images.append(ImageOps.mirror(im))
    return items, images, skipped


def encode_all(model: TrainModel, images: list[Any], progress: Progress) -> Latents:
    """Every image through the VAE once, ``ENCODE_CHUNK`` at a time."""
    import torch

    means, stds = [], []
    for i in range(0, len(images), ENCODE_CHUNK):
        progress.check()
        progress.set_text(f"encoding images {i + 1}-{min(i + ENCODE_CHUNK, len(images))} of {len(images)}")
        with torch.no_grad():
            mean, std = model.encode_latents(images[i : i + ENCODE_CHUNK])
        means.append(torch.as_tensor(mean).detach().float().cpu())
        stds.append(torch.as_tensor(std).detach().float().cpu())
    return Latents(torch.cat(means), torch.cat(stds))


def batches(n_items: int, batch_size: int, rng: random.Random) -> Iterator[list[int]]:
    """Item indices, shuffled each epoch; a last incomplete batch is dropped (as the webui's
    loader does) unless the dataset is smaller than one batch."""
    size = min(batch_size, n_items)
    while True:
        order = list(range(n_items))
        rng.shuffle(order)
        for i in range(0, n_items - size + 1, size):
            yield order[i : i + size]


def prompts_for(
    items: Sequence[Item],
    index: Sequence[int],
    template_lines: Sequence[str],
    token: str,
    rng: random.Random,
    shuffle: bool,
    drop_out: float,
) -> list[str]:
    return [training_prompt(template_lines, token, items[i].caption, rng, shuffle, drop_out) for i in index]
