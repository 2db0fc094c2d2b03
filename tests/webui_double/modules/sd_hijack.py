"""modules/sd_hijack.py:168-393 — ``model_hijack.embedding_db`` and the generation-params dict the
text encoder fills ("TI hashes", sd_hijack_clip.py:230-243). The real constructor adds
``cmd_opts.embeddings_dir`` (:181-182); the double's is set later, by the test fixture."""

from modules.textual_inversion.textual_inversion import EmbeddingDatabase


class StableDiffusionModelHijack:  # :168
    fixes = None  # :169: set by the text encoder's forward, read and cleared by EmbeddingsWithFixes
    clip = None

    def __init__(self):
        self.extra_generation_params = {}
        self.comments = []
        self.embedding_db = EmbeddingDatabase()

    def clear_comments(self):  # :320-322
        self.comments = []
        self.extra_generation_params = {}


model_hijack = StableDiffusionModelHijack()  # :393
