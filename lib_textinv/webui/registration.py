"""A sweep's checkpoints registered in memory under their own tokens, hiding (and afterwards
restoring) a user's embedding of the same name. Nothing is written to the embeddings folder.
Each change forgets the webui's cached conditioning, which does not know what a token stands for
(docs/webui-contract.md §10 embedding database, §16 checkpoints side by side). SD1/SD2 and SDXL
checkpoints alike (§25 SDXL embeddings)."""

from __future__ import annotations

import os
from typing import Any

from modules import shared

from lib_textinv.webui import cond_cache
from lib_textinv.webui.embeddings import embedding_db


class SweepRegistry:
    def __init__(self) -> None:
        self._shadowed: dict[str, Any] = {}  # user embeddings hidden by a sweep token
        self._ours: set[str] = set()  # tokens registered by a sweep now

    def register(self, token: str, path: str) -> None:
        """emb.name == token (the stale-entry trap of register_embedding_by_name,
        modules/textual_inversion/textual_inversion.py:136) and a real filename (the Extra
        Networks page needs it)."""
        from modules.textual_inversion import textual_inversion as ti

        from lib_textinv.kit.embedding_file import load_embedding

        data = load_embedding(path)  # refuses unsafe pickles before the webui sees the file
        emb = ti.create_embedding_from_data(
            _payload(data.vectors), token, filename=os.path.basename(path), filepath=path
        )
        emb.name, emb.filename, emb.step = token, path, data.step
        db = embedding_db()
        # Hide (and later restore) the user's own embedding of this name, never an earlier
        # registration of ours (a re-registration after a reload must not be "restored").
        if token in db.word_embeddings and token not in self._shadowed and token not in self._ours:
            self._shadowed[token] = db.word_embeddings[token]
        db.register_embedding_by_name(emb, shared.sd_model, token)
        self._ours.add(token)
        cond_cache.forget()  # the token may have stood for other vectors in the last generation

    def is_registered(self, token: str, path: str) -> bool:
        """Whether ``token`` is still our entry for ``path``: an Extra Networks refresh reloads the
        database without the queue lock (modules/ui_extra_networks_textual_inversion.py:12-13,
        modules/textual_inversion/textual_inversion.py:223-225) and drops it mid-sweep."""
        db = embedding_db()
        emb = db.word_embeddings.get(token) if db is not None else None
        return emb is not None and getattr(emb, "filename", None) == path

    def unregister(self, token: str) -> None:
        db = embedding_db()
        db.register_embedding_by_name(None, shared.sd_model, token)
        self._ours.discard(token)
        previous = self._shadowed.pop(token, None)
        if previous is not None:
            db.register_embedding_by_name(previous, shared.sd_model, token)
        cond_cache.forget()


def _payload(vectors: Any) -> dict[str, Any]:
    """What ``create_embedding_from_data`` reads: SD1/SD2 vectors in the webui's own layout; SDXL's
    two parts as the dict of tensors alone (its SDXL branch converts every value of the dict,
    modules/textual_inversion/textual_inversion.py:296-299, so no name or step may be in it;
    docs/webui-contract.md §25 SDXL embeddings)."""
    if isinstance(vectors, dict):
        return {"clip_l": vectors["clip_l"], "clip_g": vectors["clip_g"]}
    return {"string_to_param": {"*": vectors}}
