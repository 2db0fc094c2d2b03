"""Promote through the bridge over the contract double: the token-prefix warning reads the webui's
embedding database as the forced reload left it."""

from __future__ import annotations

from pathlib import Path

import torch

from lib_textinv.compare.checkpoints import run_from_folder
from lib_textinv.compare.promote import promote_checkpoint
from tests.embfiles import write_pt
from tests.webui.test_bridge_sweep import checkpoint


def test_promote_warns_about_loaded_embeddings_that_share_a_token_prefix(host, webui, db, tmp_path):
    emb_dir = Path(webui.shared.cmd_opts.embeddings_dir)
    write_pt(emb_dir / "ink-50.pt", torch.full((1, 768), 0.1))
    write_pt(emb_dir / "wide-ink-5.pt", torch.full((1, 1024), 0.1))  # skipped: not loaded, no clash
    host.reload_embeddings(force=True)
    assert "ink-50" in db.word_embeddings and "wide-ink-5" in db.skipped_embeddings
    run = run_from_folder(Path(checkpoint(tmp_path, "emb-10", 0.5)).parent.parent, 768)
    res = promote_checkpoint(host, run.by_step(10), "ink-500")
    assert "ink-500" in db.word_embeddings
    assert "'ink-50' is a token prefix of 'ink-500'" in res.warning and "wide-ink" not in res.warning
    assert res.suggested_trigger == "ink-s500"


def test_promoted_sdxl_checkpoint_is_loaded_as_safetensors(host, webui, db, tmp_path):
    """docs/webui-contract.md §25 SDXL embeddings: the copy keeps .safetensors and the forced
    reload lists it loaded, 768 + 1280 wide, under the trigger."""
    from tests.webui.test_bridge_sweep import sdxl_checkpoint

    webui.sd_models.model_data.sd_model = webui.sd_models.make_model("SDXL")
    path = Path(sdxl_checkpoint(tmp_path, "emb-10", 3, step=9))
    run = run_from_folder(path.parent.parent, host.model_facts().embedding_width)

    res = promote_checkpoint(host, run.by_step(10), "xl-ink")

    emb_dir = Path(webui.shared.cmd_opts.embeddings_dir)
    assert res.path == str(emb_dir / "xl-ink.safetensors")
    emb = db.word_embeddings["xl-ink"]
    assert (emb.shape, emb.vectors, emb.filename) == (2048, 2, res.path)
    assert [e.name for e in host.embeddings() if e.name == "xl-ink" and e.loaded and e.width == 2048]
