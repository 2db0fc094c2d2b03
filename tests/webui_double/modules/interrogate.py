"""modules/interrogate.py — ``InterrogateModels`` (:45-150): ``load()`` puts BLIP (and the CLIP
interrogator) on ``devices.device_interrogate`` and sets ``dtype``; ``unload()`` sends them back to
RAM unless "keep models in memory" is on. ``blip_model.generate`` (repositories/BLIP/models/
blip.py:128, called at :181) takes a batch ``[n, 3, 384, 384]`` and returns one caption per
image; the double's captions give each image's mean brightness so tests can tell images apart.
torch is imported lazily.
"""

blip_image_eval_size = 384  # :15


class TinyBlip:
    """Double only: BLIP's ``generate(image, sample, num_beams, min_length, max_length)``."""

    def __init__(self):
        self.device = "cpu"
        self.calls = []  # (shape, dtype, kwargs)

    def to(self, device):
        self.device = str(device)
        return self

    def half(self):
        return self

    def generate(  # blip.py:128
        self,
        image,
        sample=False,
        num_beams=3,
        max_length=30,
        min_length=10,
        top_p=0.9,
        repetition_penalty=1.0,
    ):
        kwargs = {"sample": sample, "num_beams": num_beams, "min_length": min_length}
        self.calls.append((tuple(image.shape), image.dtype, {**kwargs, "max_length": max_length}))
        return [f"a picture with brightness {float(im.mean()):.2f}" for im in image]


class InterrogateModels:  # :45
    blip_model = None
    clip_model = None
    dtype = None
    running_on_cpu = None

    def __init__(self, content_dir):
        self.content_dir = content_dir
        self.running_on_cpu = True
        self.loads = 0  # double only
        self.unloads = 0  # double only

    def load(self):  # :119-134
        import torch
        from modules import devices

        if self.blip_model is None:
            self.blip_model = TinyBlip()
        self.blip_model = self.blip_model.to(devices.device_interrogate)
        self.dtype = torch.float32  # torch_utils.get_param(self.clip_model).dtype
        self.loads += 1

    def send_blip_to_ram(self):  # :141-144
        from modules import shared

        if not shared.opts.interrogate_keep_models_in_memory and self.blip_model is not None:
            self.blip_model = self.blip_model.to("cpu")

    def unload(self):  # :146-150
        self.send_blip_to_ram()
        self.unloads += 1
