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


def test_an_sdxl_model_is_refused_in_words_before_the_webui_is_called(host, webui):
    webui.sd_models.model_data.sd_model = webui.sd_models.make_model("SDXL")

    result = create(host, "zq-xl", 2, "ink", model=host.model_facts())

    assert not result.ok and "SDXL" in result.message
    assert not (Path(webui.shared.cmd_opts.embeddings_dir) / "zq-xl.pt").exists()
