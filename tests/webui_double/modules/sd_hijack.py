"""modules/sd_hijack.py:168-393 — ``model_hijack.embedding_db`` (created with the embeddings dir)."""

import types

from modules.textual_inversion.textual_inversion import EmbeddingDatabase

model_hijack = types.SimpleNamespace(embedding_db=EmbeddingDatabase())
