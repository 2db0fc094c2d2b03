"""Each image of a mixed batch gets "TI hashes" naming its own embeddings only.

The webui collects the hashes of every embedding its text encoder puts into any prompt of a batch
and writes that one list into every image's infotext (modules/sd_hijack_clip.py:230-243,
modules/processing.py:968; docs/webui-contract.md §16 "Checkpoints side by side in one batch"), so
a sweep cell would name every checkpoint of its batch. We find the embeddings of each image's own
prompt and negative prompt the way the text encoder does (token ids, then the database's longest
match at each position: modules/sd_hijack_clip.py:81-175,
modules/textual_inversion/textual_inversion.py:245-256) and write only those.
"""

from __future__ import annotations

from typing import Any

from lib_textinv.compare import ti_hashes
from lib_textinv.webui.embeddings import embedding_db
from lib_textinv.webui.facts import loaded_model


def used_embeddings(text: str, db: Any, model: Any) -> dict[str, Any]:
    """Embedding name → embedding, for every embedding the text encoder would put into ``text``."""
    tokens = list(model.cond_stage_model.tokenize([text])[0])
    used: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        emb, length = db.find_embedding_at_position(tokens, i)
        if emb is None:
            i += 1
            continue
        used.setdefault(emb.name, emb)
        i += length
    return used


def own_entries(prompt: str, negative: str, db: Any, model: Any) -> list[str]:
    """``name: shorthash`` for the prompt's embeddings, then the negative prompt's: the order of the
    webui's own entries (the negative prompts are encoded first and their entries go last)."""
    out = []
    for text in (prompt, negative):
        for name, emb in used_embeddings(text, db, model).items():
            if emb.shorthash:
                out.append(f"{name.replace(':', '').replace(',', '')}: {emb.shorthash}")
    return out


def own_infotexts(infotexts: list[str], prompts: list[str], negatives: list[str]) -> list[str]:
    """``infotexts[i]`` with its "TI hashes" limited to what ``prompts[i]`` and ``negatives[i]`` use.
    An infotext without "TI hashes" (the option is off, or the conditioning came from the webui's
    cache) is left as it is; so is everything without an embedding database (Forge)."""
    db, model = embedding_db(), loaded_model()
    if db is None or model is None:
        return list(infotexts)
    out = []
    for text, prompt, negative in zip(infotexts, prompts, negatives, strict=False):
        own = ti_hashes.with_entries(text, own_entries(prompt, negative, db, model))
        out.append(own if ti_hashes.entries(text) else text)
    return out
