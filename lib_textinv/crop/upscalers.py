"""Who enlarges a crop smaller than its box: the host's upscalers (the webui's ESRGAN, Nearest…)
when it offers them, else plain Lanczos here. Both answer the host contract's ``Upscaling`` role."""

from __future__ import annotations

from typing import Any

from PIL import Image

from lib_textinv.kit.host import Host, Upscaling

LOCAL_UPSCALER = "Lanczos"


class LanczosUpscaler:
    """The standalone upscaler: plain Lanczos."""

    def list_upscalers(self) -> list[str]:
        return [LOCAL_UPSCALER]

    def upscale(self, image: Any, width: int, height: int, name: str) -> Any:
        return image.resize((width, height), Image.LANCZOS)


def upscaler_for(host: Host | None) -> Upscaling:
    """The host's upscalers when it offers them (``feature("upscale")``), else local Lanczos."""
    if host is not None and host.feature("upscale")[0]:
        return host
    return LanczosUpscaler()


def choices(upscaler: Upscaling) -> list[str]:
    """The names to offer: ours first (the default), then the host's in its order."""
    return [LOCAL_UPSCALER] + [n for n in upscaler.list_upscalers() if n != LOCAL_UPSCALER]


def check_name(name: str, upscaler: Upscaling) -> str:
    """``name`` if it can be used; ValueError naming the available ones otherwise."""
    if name != LOCAL_UPSCALER and name not in upscaler.list_upscalers():
        raise ValueError(f"unknown upscaler {name!r}; available: {', '.join(choices(upscaler))}")
    return name
