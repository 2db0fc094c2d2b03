"""The webui's embedding database and text encoder: list, create and reload embeddings, count
tokens as the prompt box does, and read the raw token table (SD1/SD2). docs/webui-contract.md
§9 text encoder, §10 embedding database, §11 creating an embedding."""

from __future__ import annotations

from typing import Any

from lib_textinv.kit.host import EmbeddingInfo, Unavailable
from lib_textinv.webui import cond_cache
from lib_textinv.webui.facts import loaded_model


def embedding_db() -> Any:
    """``model_hijack.embedding_db``, or None where there is none (Forge)."""
    from modules import sd_hijack

    return getattr(sd_hijack.model_hijack, "embedding_db", None)


def _width(e: Any) -> int | None:
    vec = getattr(e, "vec", None)
    shape = getattr(e, "shape", None)
    if shape:
        return int(shape)
    return int(vec.shape[-1]) if vec is not None and hasattr(vec, "shape") else None


def embeddings() -> list[EmbeddingInfo]:
    db = embedding_db()
    if db is None:
        return []
    out = []
    for loaded, table in ((True, db.word_embeddings), (False, db.skipped_embeddings)):
        for name, e in table.items():
            out.append(
                EmbeddingInfo(
                    name=name,
                    filename=getattr(e, "filename", None),
                    vectors=int(getattr(e, "vectors", 0) or 0),
                    width=_width(e),
                    step=getattr(e, "step", None),
                    loaded=loaded,
                )
            )
    return out


def create_embedding(name: str, nvpt: int, init_text: str, overwrite: bool) -> str:
    """modules/textual_inversion/textual_inversion.py:259-284; note the order: nvpt second,
    init_text last. The caller holds the queue lock (embedding/create.py runs it in run_job)."""
    from modules.textual_inversion import textual_inversion as ti

    path = ti.create_embedding(name, int(nvpt), bool(overwrite), init_text=init_text)
    cond_cache.forget()  # an overwritten token must not keep its old conditioning
    return path


def reload_embeddings(force: bool = True) -> None:
    """A reload clears hand-registered entries: never call it during a sweep. Files may hold new
    vectors under old names now, so the cached conditioning goes too."""
    db = embedding_db()
    if db is not None:
        db.load_textual_inversion_embeddings(force_reload=force)
    cond_cache.forget()


def count_tokens(text: str) -> int:
    """Tokens as the loaded model's tokenizer counts them (sd_hijack_clip.py tokenize)."""
    cond = getattr(loaded_model(), "cond_stage_model", None)
    if cond is None or not hasattr(cond, "tokenize"):
        raise Unavailable("no model with a text encoder is loaded")
    return len(cond.tokenize([text])[0])


class WebuiPromptCounter:
    """Prompt token counts as the txt2img counter shows them: embeddings count as their vectors
    (model_hijack.get_prompt_lengths, modules/sd_hijack.py:324-333)."""

    def count_tokens(self, text: str) -> int:
        from modules import sd_hijack

        return int(sd_hijack.model_hijack.get_prompt_lengths(text)[0])


def prompt_counter() -> WebuiPromptCounter:
    if loaded_model() is None:
        raise Unavailable("no model is loaded")
    return WebuiPromptCounter()


class WebuiTokenTable:
    """The raw token matrix and id → text of SD1/SD2 text encoders."""

    def __init__(self, cond: Any) -> None:
        self.cond = cond

    def matrix(self) -> Any:
        w = self.cond.wrapped
        if hasattr(w, "transformer"):  # SD1: FrozenCLIPEmbedder
            return w.transformer.text_model.embeddings.token_embedding.wrapped.weight
        return w.model.token_embedding.wrapped.weight  # SD2: open_clip

    def id_to_token(self, ids: list[int]) -> list[str]:
        tok = getattr(self.cond, "tokenizer", None)
        if tok is not None:
            return list(tok.convert_ids_to_tokens([int(i) for i in ids]))
        import open_clip

        return [open_clip.tokenizer._tokenizer.decoder[int(i)] for i in ids]


def token_table() -> WebuiTokenTable:
    cond = getattr(loaded_model(), "cond_stage_model", None)
    if cond is None:
        raise Unavailable("no model with a text encoder is loaded")
    if not hasattr(cond, "wrapped"):  # SDXL's GeneralConditioner (modules/sd_hijack.py:205-230)
        raise Unavailable("token norms need an SD1/SD2 text encoder; this model has several")
    return WebuiTokenTable(cond)
