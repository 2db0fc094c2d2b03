"""modules/upscaler.py — ``Upscaler``/``UpscalerData`` and the built-in "None", "Lanczos" and
"Nearest" upscalers (:14-137). ``UpscalerDoubleESRGAN`` stands in for a model upscaler
(realesrgan_model.py's "R-ESRGAN 4x+"): a 4× nearest-neighbour enlargement that records its calls.
PIL is imported lazily (start-up tests).
"""


def _lanczos():
    from PIL import Image

    return Image.Resampling.LANCZOS if hasattr(Image, "Resampling") else Image.LANCZOS


class Upscaler:  # :14-85
    name = None

    def __init__(self, create_dirs=False):
        self.scalers = []
        self.scale = 1
        self.model_path = None

    def do_upscale(self, img, selected_model):  # abstract in the real class
        raise NotImplementedError

    def upscale(self, img, scale, selected_model=None):  # :54-76
        """Up to three model passes until the target (scale × size, rounded down to 8) is covered,
        stopping early on Interrupt or when a pass changes nothing; then an exact Lanczos resize."""
        from modules import shared

        self.scale = scale
        dest_w = int((img.width * scale) // 8 * 8)
        dest_h = int((img.height * scale) // 8 * 8)
        for i in range(3):
            covered = img.width >= dest_w and img.height >= dest_h
            if covered and (i > 0 or scale != 1):
                break
            if shared.state.interrupted:
                break
            before = img.size
            img = self.do_upscale(img, selected_model)
            if img.size == before:
                break
        if img.size != (dest_w, dest_h):
            img = img.resize((dest_w, dest_h), resample=_lanczos())
        return img


class UpscalerData:  # :89-105
    name = None
    data_path = None
    scale: int = 4
    scaler: Upscaler = None

    def __init__(self, name, path, upscaler=None, scale=4, model=None):
        self.name = name
        self.data_path = path
        self.local_data_path = path
        self.scaler = upscaler
        self.scale = scale
        self.model = model


class UpscalerNone(Upscaler):  # :108-120
    name = "None"

    def __init__(self, dirname=None):
        super().__init__(False)
        self.scalers = [UpscalerData("None", None, self)]

    def do_upscale(self, img, selected_model=None):
        return img


class UpscalerLanczos(Upscaler):  # :123-135
    name = "Lanczos"

    def __init__(self, dirname=None):
        super().__init__(False)
        self.scalers = [UpscalerData("Lanczos", None, self)]

    def do_upscale(self, img, selected_model=None):
        return img.resize((int(img.width * self.scale), int(img.height * self.scale)), resample=_lanczos())


class UpscalerNearest(Upscaler):  # :138-150
    name = "Nearest"

    def __init__(self, dirname=None):
        super().__init__(False)
        self.scalers = [UpscalerData("Nearest", None, self)]

    def do_upscale(self, img, selected_model=None):
        from PIL import Image

        return img.resize((int(img.width * self.scale), int(img.height * self.scale)), resample=Image.NEAREST)


class UpscalerDoubleESRGAN(Upscaler):
    """Double only: a model upscaler with a fixed 4× factor (like realesrgan_model.py's models)."""

    name = "RealESRGAN"

    def __init__(self, dirname=None):
        super().__init__(False)
        self.calls = []  # (input size, selected_model)
        self.scalers = [UpscalerData("R-ESRGAN 4x+", "/models/RealESRGAN/RealESRGAN_x4plus.pth", self, 4)]

    def do_upscale(self, img, selected_model=None):
        from PIL import Image

        self.calls.append((img.size, selected_model))
        return img.resize((img.width * 4, img.height * 4), resample=Image.NEAREST)
