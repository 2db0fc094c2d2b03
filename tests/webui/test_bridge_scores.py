"""The token table of the host bridge (drift) against the contract double of the webui's modules;
the loaded models are tiny deterministic stand-ins (tests/webui_double/modules/_tiny_model.py).
The fixed-batch loss host is tested in test_bridge_trainer_loss.py."""

from __future__ import annotations

import pytest

from lib_textinv.kit.host import Unavailable
from tests.embfiles import write_pt


def load_model(webui, family: str):
    webui.sd_models.model_data.sd_model = webui.sd_models.make_model(family)
    return webui.sd_models.model_data.sd_model


def token_id(webui, word: str) -> int:
    (ids,) = webui.shared.sd_model.cond_stage_model.tokenize([word])
    assert len(ids) == 1
    return ids[0]


# -- token table --------------------------------------------------------------------------------


def test_token_table_needs_a_loaded_model(host, webui):
    webui.sd_models.model_data.sd_model = None
    with pytest.raises(Unavailable, match="no model"):
        host.token_table()


def test_token_table_sd1_is_the_raw_clip_embedding(host, webui):
    m = load_model(webui, "SD1")
    table = host.token_table()
    matrix = table.matrix()
    raw = m.cond_stage_model.wrapped.transformer.text_model.embeddings.token_embedding.wrapped.weight
    assert matrix is raw and tuple(matrix.shape) == (512, 768)
    ids = [token_id(webui, "charcoal"), token_id(webui, "cat")]
    assert table.id_to_token(ids) == ["charcoal</w>", "cat</w>"]


def test_token_table_sd2_reads_open_clips_vocabulary(host, webui):
    m = load_model(webui, "SD2")
    table = host.token_table()
    assert table.matrix() is m.cond_stage_model.wrapped.model.token_embedding.wrapped.weight
    assert tuple(table.matrix().shape) == (512, 1024)
    # FrozenOpenCLIPEmbedderWithCustomWords has no .tokenizer: open_clip's BPE decoder is used
    assert table.id_to_token([320, 1125]) == ["a</w>", "photo</w>"]


def test_drift_through_the_token_table(host, webui, tmp_path):
    from lib_textinv.scores.drift import drift_for_checkpoints

    load_model(webui, "SD1")
    table = host.token_table()
    cat, charcoal = token_id(webui, "cat"), token_id(webui, "charcoal")
    vec = table.matrix()[[cat, charcoal]].clone() * 3
    path = write_pt(tmp_path / "run" / "emb-10.pt", vec, step=9)
    result = drift_for_checkpoints([(10, path)], table)
    (row,) = result.rows
    assert [n[0].token for n in row.nearest] == ["cat</w>", "charcoal</w>"]
    assert row.nearest[0][0].similarity == pytest.approx(1.0, abs=1e-5)
    assert row.norm_ratio == pytest.approx(3.0, rel=0.15)


def test_token_table_refuses_sdxl_in_words(host, webui):
    load_model(webui, "SDXL")
    with pytest.raises(Unavailable):
        host.token_table().matrix()
