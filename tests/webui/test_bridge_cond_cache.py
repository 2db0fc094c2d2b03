"""After we change what a token stands for (promote over a file, create, reload, a sweep's
registrations), the user's next txt2img uses the new vectors: the webui's conditioning cache is
keyed by prompt and settings only (modules/processing.py:440-491; upstream issue #11993)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib_textinv.compare.checkpoints import run_from_folder
from lib_textinv.compare.promote import promote_checkpoint
from lib_textinv.compare.sweep_run import GenParams
from tests.embfiles import write_pt
from tests.webui.test_bridge_sweep import checkpoint, short_hash, ti_hashes_of

PARAMS = GenParams(steps=4, width=32, height=32)


@pytest.fixture
def processing(webui):
    from modules import processing

    return processing


def txt2img(processing, prompt: str, seed: int = 1) -> tuple[tuple, str | None]:
    """The user's own txt2img (modules/txt2img.py:100-110): a new ``p``, ``process_images``, ``close``;
    it reloads the embeddings folder when the folder changed, as every generation does."""
    p = processing.StableDiffusionProcessingTxt2Img(prompt=prompt, seed=seed, width=32, height=32, steps=4)
    p.do_not_save_samples = p.do_not_save_grid = True
    processed = processing.process_images(p)
    p.close()
    return processed.images[0].getpixel((0, 0)), ti_hashes_of(processed.infotexts[0])


def test_the_cache_alone_serves_the_old_vectors(webui, processing, db):
    """The double reproduces the webui's behaviour that the bridge works around."""
    import torch

    path = write_pt(Path(webui.shared.cmd_opts.embeddings_dir) / "mine.pt", torch.full((1, 768), 0.5))
    db.load_textual_inversion_embeddings(force_reload=True)
    first = txt2img(processing, "a photo of mine")
    write_pt(path, torch.full((1, 768), -0.5))
    db.load_textual_inversion_embeddings(force_reload=True)  # new vectors in the database…
    assert db.word_embeddings["mine"].shorthash == short_hash(str(path))
    assert txt2img(processing, "a photo of mine") == (first[0], None)  # …old image, no TI hashes


def test_promote_over_a_trigger_then_txt2img_uses_the_new_vectors(host, webui, processing, tmp_path):
    a = checkpoint(tmp_path, "emb-10", 0.5)
    b = checkpoint(tmp_path, "emb-20", -0.5)
    run = run_from_folder(Path(a).parent.parent, 768)
    promote_checkpoint(host, run.by_step(10), "mytrigger")
    first = txt2img(processing, "a photo of mytrigger")
    assert first[1] == f"mytrigger: {short_hash(a)}"
    promote_checkpoint(host, run.by_step(20), "mytrigger", overwrite=True)
    image, hashes = txt2img(processing, "a photo of mytrigger")
    assert image != first[0]
    assert hashes == f"mytrigger: {short_hash(b)}"


def test_create_over_an_embedding_then_txt2img_uses_the_new_vectors(host, webui, processing):
    host.create_embedding("fresh", 1, "cat", overwrite=False)
    host.reload_embeddings(force=True)
    first = txt2img(processing, "a photo of fresh")
    host.create_embedding("fresh", 1, "dog", overwrite=True)
    host.reload_embeddings(force=True)
    assert txt2img(processing, "a photo of fresh")[0] != first[0]


def test_a_sweeps_token_with_other_vectors_is_encoded_again(host, webui, processing, tmp_path):
    """Two runs of one embedding name register the same token with other vectors."""
    import torch

    a = checkpoint(tmp_path, "emb-10", 0.5)
    b = str(write_pt(tmp_path / "other-run" / "emb-10.pt", torch.full((2, 768), -0.5)))
    host.register_checkpoint("emb-10", a)
    ((first, _),) = host.generate(["a photo of emb-10"], [3], PARAMS)
    host.unregister("emb-10")
    host.register_checkpoint("emb-10", b)
    ((second, info),) = host.generate(["a photo of emb-10"], [3], PARAMS)
    host.unregister("emb-10")
    assert second.getpixel((0, 0)) != first.getpixel((0, 0))
    assert ti_hashes_of(info) == f"emb-10: {short_hash(b)}"


def test_unregistering_a_sweep_token_gives_the_user_back_their_vectors(host, webui, processing, tmp_path):
    import torch

    mine = write_pt(Path(webui.shared.cmd_opts.embeddings_dir) / "emb-10.pt", torch.full((1, 768), 0.1))
    host.reload_embeddings(force=True)
    before = txt2img(processing, "a photo of emb-10")
    host.register_checkpoint("emb-10", checkpoint(tmp_path, "emb-10", 0.5))
    host.generate(["a photo of emb-10"], [1], PARAMS)
    host.unregister("emb-10")
    assert before[1] == f"emb-10: {short_hash(str(mine))}"
    assert txt2img(processing, "a photo of emb-10") == before


def test_forgetting_leaves_a_generation_in_flight_alone(host, webui, processing):
    """The lists are replaced, not emptied: a ``p`` that holds them keeps its conditioning."""
    p = processing.StableDiffusionProcessingTxt2Img(prompt="a cat", width=32, height=32)
    held = p.cached_c
    held[:] = ["params", "conditioning"]
    host.reload_embeddings(force=True)
    assert p.cached_c is held and held == ["params", "conditioning"]
    assert processing.StableDiffusionProcessing.cached_c == [None, None]
    assert processing.StableDiffusionProcessingTxt2Img.cached_hr_c == [None, None]
