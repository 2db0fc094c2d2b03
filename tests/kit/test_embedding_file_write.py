"""Writing embeddings: both layouts read back by our loader with their facts, atomically, and an
optimizer state only for the vectors it was saved with."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from lib_textinv.kit.embedding_file import (
    file_suffix,
    load_embedding,
    read_optimizer_state,
    write_embedding,
    write_optimizer_state,
)


def _sdxl(n=3):
    g = torch.Generator().manual_seed(1)
    return {"clip_l": torch.randn(n, 768, generator=g), "clip_g": torch.randn(n, 1280, generator=g)}


def test_sd1_pt_round_trip_keeps_step_and_checkpoint(tmp_path):
    vec = torch.randn(4, 768)
    path = write_embedding(
        tmp_path / "cat-50.pt",
        {"*": vec},
        name="cat-50",
        step=50,
        sd_checkpoint="abc123",
        sd_checkpoint_name="m",
    )
    emb = load_embedding(path)
    assert torch.equal(emb.vectors, vec)
    assert (emb.step, emb.stored_name, emb.sd_checkpoint, emb.sd_checkpoint_name) == (
        50,
        "cat-50",
        "abc123",
        "m",
    )
    # the webui's own layout (Embedding.save): one "*" entry in string_to_param
    raw = torch.load(path, weights_only=True)
    assert list(raw["string_to_param"]) == ["*"]


def test_sdxl_safetensors_layout_and_metadata(tmp_path):
    parts = _sdxl()
    assert file_suffix(parts) == ".safetensors"
    path = write_embedding(tmp_path / "cat-20.safetensors", parts, name="cat-20", step=20, sd_checkpoint="ff")
    raw = load_file(str(path))
    assert set(raw) == {"clip_l", "clip_g"}  # what the webui, Forge and ComfyUI load
    emb = load_embedding(path)
    assert emb.step == 20 and emb.sd_checkpoint == "ff" and emb.width == 2048 and emb.n_vectors == 3
    assert torch.equal(emb.vectors["clip_g"], parts["clip_g"])


def test_wrong_suffix_is_refused_and_nothing_written(tmp_path):
    with pytest.raises(ValueError, match="safetensors"):
        write_embedding(tmp_path / "x.pt", _sdxl(), name="x")
    assert list(tmp_path.iterdir()) == []


def test_kohya_sd1_safetensors_with_metadata_still_loads(tmp_path):
    vec = torch.randn(2, 768)
    from safetensors.torch import save_file

    save_file({"emb_params": vec}, str(tmp_path / "k.safetensors"), metadata={"step": "7", "other": "x"})
    emb = load_embedding(tmp_path / "k.safetensors")
    assert torch.equal(emb.vectors, vec) and emb.step == 7


def test_optimizer_state_only_for_its_vectors(tmp_path):
    parts = {"*": torch.randn(2, 8)}
    path = write_embedding(tmp_path / "a-10.pt", parts, name="a-10", step=10)
    p = torch.nn.Parameter(parts["*"].clone())
    opt = torch.optim.AdamW([p], lr=0.1)
    p.sum().backward()
    opt.step()
    write_optimizer_state(path, parts, opt.state_dict())
    state = read_optimizer_state(path, parts)
    assert state is not None and state["state"][0]["step"] == 1
    assert read_optimizer_state(path, {"*": parts["*"] + 1}) is None
    assert read_optimizer_state(tmp_path / "missing.pt", parts) is None


def test_webui_checksum_is_the_webuis():
    # The value webui 1.10.1's own Embedding.checksum() gives for these vectors (checked against the
    # real modules/textual_inversion/textual_inversion.py:73-84).
    from lib_textinv.kit.embedding_file import webui_checksum

    vec = torch.randn(2, 768, generator=torch.Generator().manual_seed(7)) * 0.3
    assert webui_checksum(vec) == "6bec"


def test_an_optimizer_state_the_webuis_trainer_saved_is_read_and_ours_carries_its_tag(tmp_path):
    from lib_textinv.kit.embedding_file import webui_checksum

    vec = torch.randn(2, 768, generator=torch.Generator().manual_seed(7)) * 0.3
    path = write_embedding(tmp_path / "w.pt", {"*": vec}, name="w", step=40)
    p = torch.nn.Parameter(vec.clone())
    opt = torch.optim.AdamW([p], lr=0.1)
    p.sum().backward()
    opt.step()
    # the webui's Embedding.save: {"hash": checksum(), "optimizer_state_dict": ...}
    torch.save({"hash": webui_checksum(vec), "optimizer_state_dict": opt.state_dict()}, f"{path}.optim")
    assert read_optimizer_state(path, {"*": vec}) is not None
    assert read_optimizer_state(path, {"*": vec + 1}) is None
    write_optimizer_state(path, {"*": vec}, opt.state_dict())
    saved = torch.load(f"{path}.optim", weights_only=True)
    assert saved["hash"] == "6bec"  # the webui's trainer resumes from ours too
