"""Captions from the webui's own BLIP interrogator (in batches) and DeepBooru tags, loaded once for
a run and released afterwards as the webui's "keep models in memory" setting says
(docs/webui-contract.md §20)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from modules import shared

BLIP_SIZE = 384  # blip_image_eval_size, modules/interrogate.py:15
# CLIP's normalisation, as the webui's BLIP transform uses it (modules/interrogate.py:177).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class WebuiCaptioner:
    """BLIP: one ``blip_model.generate`` on a stacked batch, with the webui's own 384-px transform
    and beam/length options, gives the captions ``generate_caption`` gives one image at a time."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.blip = source in ("blip", "both")
        self.booru = source in ("deepbooru", "both")
        if self.blip:
            shared.interrogator.load()
        if self.booru:
            from modules import deepbooru

            try:
                deepbooru.model.start()
            except BaseException:
                if self.blip:  # nobody will call release(): do not leave BLIP on the GPU
                    shared.interrogator.unload()
                raise

    def caption_batch(self, images: list[Any]) -> list[str]:
        import torch
        from modules import devices
        from torchvision import transforms
        from torchvision.transforms.functional import InterpolationMode

        it = shared.interrogator
        tf = transforms.Compose(
            [
                transforms.Resize((BLIP_SIZE, BLIP_SIZE), interpolation=InterpolationMode.BICUBIC),
                transforms.ToTensor(),
                transforms.Normalize(CLIP_MEAN, CLIP_STD),
            ]
        )
        batch = (
            torch.stack([tf(im.convert("RGB")) for im in images])
            .type(it.dtype)
            .to(devices.device_interrogate)
        )
        o = shared.opts
        with torch.no_grad():
            return list(
                it.blip_model.generate(
                    batch,
                    sample=False,
                    num_beams=o.interrogate_clip_num_beams,
                    min_length=o.interrogate_clip_min_length,
                    max_length=o.interrogate_clip_max_length,
                )
            )

    def tag_batch(self, images: list[Any]) -> list[str]:
        from modules import deepbooru

        return [deepbooru.model.tag_multi(im) for im in images]

    def release(self) -> None:
        if self.blip:
            shared.interrogator.unload()  # keeps them if "keep models in memory" is on
        if self.booru:
            from modules import deepbooru

            deepbooru.model.stop()


@contextlib.contextmanager
def captioner(source: str) -> Iterator[WebuiCaptioner]:
    model = WebuiCaptioner(source)
    try:
        yield model
    finally:
        model.release()
