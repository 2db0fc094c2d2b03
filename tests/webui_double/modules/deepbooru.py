"""modules/deepbooru.py — ``model = DeepDanbooru()`` (:12-98): ``start()`` loads and moves it to the
device, ``stop()`` sends it back unless "keep models in memory" is on, ``tag_multi(pil_image)``
returns the comma-separated tags. The double tags an image by its dominant colour channel."""


class DeepDanbooru:
    def __init__(self):
        self.model = None
        self.starts = 0  # double only
        self.stops = 0  # double only

    def start(self):  # :33-35
        self.model = self.model or "loaded"
        self.starts += 1

    def stop(self):  # :37-40
        self.stops += 1

    def tag_multi(self, pil_image, force_disable_ranks=False):  # :49
        r, g, b = pil_image.convert("RGB").resize((1, 1)).getpixel((0, 0))
        colour = max((r, "red"), (g, "green"), (b, "blue"))[1]
        return f"no humans, {colour} theme"


model = DeepDanbooru()  # :98
