"""Create with an SDXL model loaded: the webui cannot (its create_embedding raises TypeError on
sgm's conditioner), so we write ``<name>.safetensors`` with clip_l and clip_g vectors, each from
its own encoder's token table, and the database loads it at once."""

from __future__ import annotations

import pytest
import torch

from lib_textinv.embedding.create import create
from lib_textinv.embedding.init_vectors import spread
from lib_textinv.kit.embedding_file import load_embedding
from tests.sdxl_files import write_sdxl


@pytest.fixture
def xl(fake):
    fake.family, fake.width = "SDXL", 2048
    return fake


def _create(host, name="zq-xl", vectors=3, text="charcoal drawing", **kw):
    return create(host, name, vectors, text, model=host.model_facts(), embeddings_dir=str(host.emb_dir), **kw)


def test_spread_follows_the_webuis_rule():
    """textual_inversion.py:270-272: vector i = row i * rows // vectors (repeated when fewer rows)."""
    rows = torch.arange(2.0)[:, None]
    assert spread(rows, 5).flatten().tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert spread(torch.arange(3.0)[:, None], 3).flatten().tolist() == [0.0, 1.0, 2.0]


def test_sdxl_create_writes_both_parts_from_each_encoders_own_table(xl):
    r = _create(xl)

    assert r.ok, r.message
    path = xl.emb_dir / "zq-xl.safetensors"
    assert r.path == str(path) and not (xl.emb_dir / "zq-xl.pt").exists()
    data = load_embedding(path)
    assert {k: tuple(v.shape) for k, v in data.vectors.items()} == {"clip_l": (3, 768), "clip_g": (3, 1280)}
    for part in ("clip_l", "clip_g"):
        table = xl.token_table(part)
        ids = table.encode("charcoal drawing")
        expected = table.matrix()[[ids[0], ids[0], ids[1]]]  # 2 tokens over 3 vectors
        assert torch.equal(data.vectors[part], expected), part
    assert (data.step, data.sd_checkpoint, data.sd_checkpoint_name) == (0, "0123456789", "tiny-sdxl")
    assert (r.vectors, r.width) == (3, 2048)  # listed loaded by the database, 768 + 1280 wide
    assert not any(c[0] == "create" for c in xl.calls)  # the webui's create (which fails) never called
    assert ("reload", True) in xl.calls


def test_sdxl_init_text_keeps_its_first_tokens_and_says_so(xl):
    r = _create(xl, vectors=2, text="charcoal drawing of a cat")
    assert r.ok and any("SDXL starts from its first 2 tokens" in w for w in r.warnings)
    data = load_embedding(r.path)
    table = xl.token_table("clip_g")
    ids = table.encode("charcoal drawing of a cat")[:2]
    assert torch.equal(data.vectors["clip_g"], table.matrix()[ids])


def test_sdxl_empty_init_text_gives_zero_vectors(xl):
    r = _create(xl, text="")
    assert r.ok
    assert all(bool((v == 0).all()) for v in load_embedding(r.path).vectors.values())


def test_sdxl_existing_file_is_not_replaced_without_overwrite(xl, checksums):
    write_sdxl(xl.emb_dir / "zq-xl.safetensors", n=2)
    with xl.lock:
        xl.reload_embeddings(True)
    before = checksums(xl.emb_dir)

    r = _create(xl)

    assert not r.ok and r.conflict and "already exists" in r.message
    assert checksums(xl.emb_dir) == before
    again = _create(xl, overwrite=True)
    assert again.ok, again.message
    assert load_embedding(again.path).n_vectors == 3


def test_sdxl_never_writes_beside_another_file_of_the_same_token(xl, checksums):
    """An SD1 ``zq-xl.pt`` (skipped on SDXL) would compete for the token with a new .safetensors."""
    from tests.embfiles import write_pt

    write_pt(xl.emb_dir / "zq-xl.pt", torch.zeros(2, 768))
    before = checksums(xl.emb_dir)
    for overwrite in (False, True):
        r = _create(xl, overwrite=overwrite)
        assert not r.ok and "zq-xl.pt" in r.message
    assert checksums(xl.emb_dir) == before


def test_sdxl_file_appearing_meanwhile_is_not_replaced(xl, checksums):
    """The name was free when checked; a file written before ours (another tab) is kept."""
    target = xl.emb_dir / "zq-xl.safetensors"
    xl.before_table = lambda part: target.exists() or write_sdxl(target, n=1)

    r = _create(xl)

    assert not r.ok and r.conflict and "Not replaced" in r.message
    assert load_embedding(target).n_vectors == 1


def test_sd1_still_goes_through_the_webuis_create(fake):
    r = _create(fake, "zq-one", 2, "ink")
    assert r.ok and r.path.endswith("zq-one.pt")
    assert any(c[0] == "create" for c in fake.calls)


def test_the_section_names_the_safetensors_file_and_the_sdxl_rule(xl):
    from lib_textinv.embedding import handlers

    assert "(zq-fresh.safetensors)" in handlers.name_check_text(xl, "zq-fresh", False)
    assert "SDXL starts from its first token only" in handlers.init_tokens_text(xl, "charcoal drawing", 1)
