"""Creating an embedding through the bridge (the Embedding section's ``create``) against the
contract double's ``create_embedding`` and database (docs/webui-contract.md §10, §11): the file is
written, and the token is loaded and usable at once, also after an overwrite in place."""

from __future__ import annotations

from pathlib import Path

from lib_textinv.embedding.create import create
from lib_textinv.kit.embedding_file import load_embedding


def _usable_in_prompts(webui, db, token: str):
    """The embedding the prompt parser finds for ``token`` (None when it finds none)."""
    ids = webui.shared.sd_model.cond_stage_model.tokenize([token])[0]
    return db.find_embedding_at_position(ids, 0)[0]


def test_create_writes_the_file_and_the_token_is_loaded_at_once(host, webui, db):
    locked_before = webui.call_queue.queue_lock.acquired_count

    result = create(host, "zq-charcoal", 3, "charcoal drawing", model=host.model_facts())

    assert result.ok, result.message
    path = Path(webui.shared.cmd_opts.embeddings_dir) / "zq-charcoal.pt"
    assert result.path == str(path)
    data = load_embedding(path)
    assert (tuple(data.vectors.shape), data.step) == ((3, 768), 0)
    # the vectors start from the init text's token vectors (the webui's argument order kept)
    init = webui.shared.sd_model.cond_stage_model.encode_embedding_init_text("charcoal drawing", 3)
    assert bool((data.vectors[0] == init[0]).all()) and bool((data.vectors[2] == init[1]).all())
    (info,) = [e for e in host.embeddings() if e.name == "zq-charcoal"]
    assert (info.loaded, info.vectors, info.width, info.filename) == (True, 3, 768, str(path))
    assert _usable_in_prompts(webui, db, "zq-charcoal").name == "zq-charcoal"
    assert webui.call_queue.queue_lock.acquired_count == locked_before + 1  # one job, under the lock


def test_overwriting_in_place_is_seen_at_once(host, webui, db):
    """An overwrite leaves the folder's mtime as it was: only a forced reload sees the new file."""
    model = host.model_facts()
    assert create(host, "zq-ink", 2, "ink", model=model).ok
    first = db.word_embeddings["zq-ink"].vec.clone()

    again = create(host, "zq-ink", 2, "ink wash on rice paper", overwrite=True, model=model)

    assert again.ok, again.message
    now = db.word_embeddings["zq-ink"].vec
    assert not bool((now == first).all())
    assert bool((now == load_embedding(again.path).vectors).all())


def test_sdxl_create_writes_safetensors_from_each_encoders_table_and_loads_it(host, webui, db):
    """The webui's create_embedding raises TypeError on SDXL (docs/webui-contract.md §25 SDXL
    embeddings): we write <name>.safetensors, clip_l from CLIP-L's token table, clip_g from
    OpenCLIP-G's, and the database lists it loaded, 768 + 1280 wide."""
    import torch

    model = webui.sd_models.make_model("SDXL")
    webui.sd_models.model_data.sd_model = model
    with webui.call_queue.queue_lock:
        db.load_textual_inversion_embeddings(force_reload=True)  # expected shape 2048 now

    result = create(host, "zq-xl", 2, "charcoal drawing", model=host.model_facts())

    assert result.ok, result.message
    path = Path(webui.shared.cmd_opts.embeddings_dir) / "zq-xl.safetensors"
    assert result.path == str(path) and (result.vectors, result.width) == (2, 2048)
    data = load_embedding(path)
    clip_l, clip_g = list(model.cond_stage_model.embedders)[:2]  # the text encoders come first
    for part, enc in (("clip_l", clip_l), ("clip_g", clip_g)):
        ids = enc.tokenize(["charcoal drawing"])[0]
        rows = enc.encode_embedding_init_text("charcoal drawing", 2)  # the encoder's own table rows
        assert len(ids) == 2 and torch.equal(data.vectors[part], rows), part
    emb = db.word_embeddings["zq-xl"]
    assert (emb.shape, emb.vectors, sorted(emb.vec)) == (2048, 2, ["clip_g", "clip_l"])
    assert _usable_in_prompts(webui, db, "zq-xl") is emb
    assert data.sd_checkpoint_name == model.sd_checkpoint_info.model_name


def test_sdxl_token_tables_are_per_encoder(host, webui):
    model = webui.sd_models.make_model("SDXL")
    webui.sd_models.model_data.sd_model = model
    clip_l, clip_g = list(model.cond_stage_model.embedders)[:2]  # the text encoders come first
    lt, gt = host.token_table("clip_l"), host.token_table("clip_g")
    assert lt.matrix() is clip_l.wrapped.transformer.text_model.embeddings.token_embedding.wrapped.weight
    assert gt.matrix() is clip_g.wrapped.model.token_embedding.wrapped.weight
    assert (lt.matrix().shape[1], gt.matrix().shape[1]) == (768, 1280)
    assert lt.encode("charcoal") == gt.encode("charcoal") == clip_l.tokenize(["charcoal"])[0]
    assert lt.id_to_token(lt.encode("charcoal")) == ["charcoal</w>"]


def test_create_is_offered_on_sdxl(host, webui):
    """We write SDXL embeddings ourselves: Create is on whatever the trainer can do."""
    webui.sd_models.model_data.sd_model = webui.sd_models.make_model("SDXL")
    assert host.feature("create") == (True, "")


def test_sdxl_token_counts_are_clip_ls(host, webui):
    """The init-text and name checks count with CLIP-L's tokenizer on SDXL, as the webui counts
    prompts (modules/sd_models_xl.py:65-69)."""
    webui.sd_models.model_data.sd_model = webui.sd_models.make_model("SDXL")
    clip_l = next(iter(webui.shared.sd_model.cond_stage_model.embedders))
    text = "charcoal drawing, of a cat"
    assert host.count_tokens(text) == len(clip_l.tokenize([text])[0]) == 6
