"""The extension's settings (Settings → "Textual Inversion Helper"), as plain data.

The webui bridge turns each entry into ``shared.OptionInfo``; standalone mode uses the defaults.
Keys are ``textinv_<name>`` (ids.setting_key).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lib_textinv.kit.ids import setting_key


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    label: str
    component: str = "textbox"  # textbox | number | slider | checkbox | dropdown | radio
    args: dict = field(default_factory=dict)
    info: str = ""

    @property
    def key(self) -> str:
        return setting_key(self.name)


SETTINGS: list[Setting] = [
    Setting(
        "recent_folders",
        10,
        "Recent folders remembered in the Dataset section",
        "slider",
        {"minimum": 0, "maximum": 50, "step": 1},
    ),
    Setting(
        "max_megapixels",
        100,
        "Refuse images above this many megapixels (decompression-bomb guard)",
        "slider",
        {"minimum": 10, "maximum": 500, "step": 10},
    ),
    Setting("background", "#ffffff", "Background colour transparent images are composited on", "textbox"),
    Setting(
        "clip_model",
        "ViT-L-14",
        "open_clip model for image diversity and CLIP scores",
        "textbox",
        info="the image tower of SD1's text encoder family; weights are used only if already cached",
    ),
    Setting("clip_pretrained", "openai", "open_clip pretrained tag", "textbox"),
    Setting(
        "clip_cache_dir",
        "",
        "Extra folder with open_clip weights",
        "textbox",
        info="searched before ~/.cache/clip and the Hugging Face cache; nothing is downloaded",
    ),
    Setting("clip_device", "auto", "Device for CLIP scoring", "radio", {"choices": ["auto", "cpu", "cuda"]}),
    Setting("clip_batch_size", 16, "CLIP batch size", "slider", {"minimum": 1, "maximum": 128, "step": 1}),
    Setting(
        "caption_batch_size",
        8,
        "Captioning batch size (BLIP)",
        "slider",
        {"minimum": 1, "maximum": 64, "step": 1},
        info="larger is faster on a GPU with memory to spare",
    ),
    Setting(
        "allowed_folders",
        "",
        "Folders the tab may read and write when the webui is reachable from other machines",
        "textbox",
        info="one per line or separated by ';'. With --listen, --share, --ngrok or --server-name "
        "(and without --enable-insecure-extension-access) only these and the webui's own folders (data, "
        "embeddings, training log) are allowed; on a local webui any folder works",
    ),
    Setting(
        "sweep_batch_size",
        8,
        "Step-sweep images per generation call",
        "slider",
        {"minimum": 1, "maximum": 64, "step": 1},
    ),
]


def defaults() -> dict[str, Any]:
    return {s.key: s.default for s in SETTINGS}
