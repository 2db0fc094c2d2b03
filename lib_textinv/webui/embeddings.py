"""The webui's embedding database and text encoders: list, create and reload embeddings, count
tokens as the prompt box does, and read each text encoder's raw token table (SD1/SD2's one,
SDXL's clip_l and clip_g). docs/webui-contract.md §9 text encoder, §10 embedding database,
§11 creating an embedding, §25 SDXL embeddings."""

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
    """One text encoder's raw token matrix, tokenizer and id → text (docs/webui-contract.md §9
    text encoder): ``cond`` is the webui's wrapper of that encoder (SD1/SD2 ``cond_stage_model``,
    or one of SDXL's ``conditioner.embedders``)."""

    def __init__(self, cond: Any) -> None:
        self.cond = cond

    def matrix(self) -> Any:
        w = self.cond.wrapped
        if hasattr(w, "transformer"):  # SD1 and SDXL's clip_l: FrozenCLIPEmbedder
            return w.transformer.text_model.embeddings.token_embedding.wrapped.weight
        return w.model.token_embedding.wrapped.weight  # SD2 and SDXL's clip_g: open_clip

    def encode(self, text: str) -> list[int]:
        # the wrapper's own tokenizer, no start/end tokens
        # (modules/sd_hijack_clip.py:346-349, modules/sd_hijack_open_clip.py:19-24, :49-54)
        return [int(i) for i in self.cond.tokenize([text])[0]]

    def id_to_token(self, ids: list[int]) -> list[str]:
        tok = getattr(self.cond, "tokenizer", None)
        if tok is not None:
            return list(tok.convert_ids_to_tokens([int(i) for i in ids]))
        import open_clip

        return [open_clip.tokenizer._tokenizer.decoder[int(i)] for i in ids]


def sdxl_encoders(cond: Any) -> dict[str, Any]:
    """SDXL's text-encoder wrappers by the part of an embedding each one uses: the CLIP-L wrapper
    (its raw model has ``.transformer``) takes ``vec["clip_l"]``, the OpenCLIP-G one (``.model``)
    ``vec["clip_g"]`` (modules/sd_hijack.py:205-230 wraps them, :347-367 picks the part;
    docs/webui-contract.md §25 SDXL embeddings). Other embedders (size conditioning) have no
    ``.wrapped``."""
    out: dict[str, Any] = {}
    for e in getattr(cond, "embedders", None) or []:
        raw = getattr(e, "wrapped", None)
        if hasattr(raw, "transformer"):
            out.setdefault("clip_l", e)
        elif hasattr(raw, "model"):
            out.setdefault("clip_g", e)
    return out


def token_table(part: str = "*") -> WebuiTokenTable:
    """``"*"``: the one text encoder of SD1/SD2; ``"clip_l"``/``"clip_g"``: one of SDXL's."""
    cond = getattr(loaded_model(), "cond_stage_model", None)
    if cond is None:
        raise Unavailable("no model with a text encoder is loaded")
    # SDXL's GeneralConditioner (modules/sd_hijack.py:205-230); it also has an empty ``.wrapped``
    # (modules/sd_models_xl.py:104), so it is told apart by its embedders
    sdxl = hasattr(cond, "embedders")
    if part == "*" and not sdxl:
        return WebuiTokenTable(cond)
    encoders = sdxl_encoders(cond) if sdxl else {}
    if part in encoders:
        return WebuiTokenTable(encoders[part])
    have = ", ".join(encoders) or "*"
    raise Unavailable(f"the loaded model has no text encoder {part!r} (it has {have})")
