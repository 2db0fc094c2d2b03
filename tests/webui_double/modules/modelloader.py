"""modules/modelloader.py:102-140 — ``load_upscalers`` fills ``shared.sd_upscalers`` from every
``Upscaler`` class, "None"/"Lanczos"/"Nearest" first, the others sorted by name."""

from modules import shared, upscaler


def load_upscalers():  # :102-140 (the class discovery replaced by a fixed list)
    data = []
    for cls in (
        upscaler.UpscalerNone,
        upscaler.UpscalerLanczos,
        upscaler.UpscalerNearest,
        upscaler.UpscalerDoubleESRGAN,
    ):
        data += cls(None).scalers
    builtin = (upscaler.UpscalerNone, upscaler.UpscalerLanczos, upscaler.UpscalerNearest)
    shared.sd_upscalers = sorted(data, key=lambda x: "" if isinstance(x.scaler, builtin) else x.name.lower())
