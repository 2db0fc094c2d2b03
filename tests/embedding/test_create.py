"""Create flow against a fake webui that behaves like v1.10.1's embedding database (file stem =
token, reload only on a newer folder mtime unless forced, sanitised names)."""

from __future__ import annotations

import os
from pathlib import Path

from lib_textinv.embedding.create import create
from lib_textinv.kit.embedding_file import load_embedding
from lib_textinv.kit.host import Unavailable
from tests.embfiles import write_pt


def test_create_makes_it_usable_at_once(fake):
    r = create(
        fake,
        "zq-charcoal",
        3,
        "charcoal drawing",
        model=fake.model_facts(),
        embeddings_dir=fake.paths().embeddings_dir,
    )
    assert r.ok, r.errors
    assert r.path == str(fake.emb_dir / "zq-charcoal.pt") and Path(r.path).is_file()
    assert (r.vectors, r.width) == (3, 768)
    names = {e.name: e for e in fake.embeddings()}
    assert names["zq-charcoal"].vectors == 3  # listed without any reload by the test
    kinds = [c[0] for c in fake.calls]
    assert kinds[-3:] == ["job", "create", "reload"] and fake.calls[-1] == ("reload", True)
    assert "usable now" in r.message and "no restart" in r.message
    assert load_embedding(r.path).vectors.shape == (3, 768)


def test_overwrite_in_place_is_seen_thanks_to_the_forced_reload(fake):
    assert create(fake, "zq-subject", 2, "dog").ok
    mtime = os.path.getmtime(fake.emb_dir)
    r = create(fake, "zq-subject", 5, "dog", overwrite=True)
    assert r.ok, r.errors
    assert os.path.getmtime(fake.emb_dir) == mtime  # in-place: a plain reload would have missed it
    assert {e.name: e.vectors for e in fake.embeddings()}["zq-subject"] == 5
    assert any("will be replaced" in w for w in r.warnings)


def test_existing_name_without_overwrite_is_refused_before_the_webui(fake):
    assert create(fake, "zq-subject", 2, "dog").ok
    before = list(fake.calls)
    r = create(fake, "zq-subject", 4, "dog")
    assert not r.ok and r.conflict
    assert "already exists" in r.message
    assert fake.calls == before  # nothing created, nothing reloaded


def test_bad_name_and_vector_count(fake):
    r = create(fake, "../escape", 0, "x")
    assert not r.ok
    assert any("path separator" in e for e in r.errors)
    assert any("from 1 to 75" in e for e in r.errors)
    assert not any(fake.emb_dir.parent.glob("escape*"))


def test_sdxl_typeerror_from_the_webui_is_reported(fake):
    fake.family = "SDXL"
    r = create(fake, "zq-xl", 2, "x")  # no model facts: the webui's own TypeError comes back
    assert not r.ok and "TypeError" in r.message


def test_warnings_for_init_text_and_many_vectors(fake):
    r = create(fake, "zq-long", 12, "a very long initialization text with many words")
    assert r.ok
    assert any("first 12 tokens" not in w and "leave only 63" in w for w in r.warnings)
    r2 = create(fake, "zq-two", 2, "charcoal drawing of a cat")
    assert any("first 2" in w for w in r2.warnings)
    r3 = create(fake, "zq-zero", 2, "")
    assert r3.ok and any("start at zero" in w for w in r3.warnings)


def test_case_twin_warns_but_creates(fake):
    assert create(fake, "zqstyle", 2, "x").ok
    r = create(fake, "ZQstyle", 2, "x")
    assert r.ok and any("differs only in case" in w for w in r.warnings)


def test_file_written_but_not_loaded_is_an_error(fake):
    fake.width = 1024  # the database now expects SD2 vectors, but the fake writes 1024 too...
    original = fake.create_embedding

    def wrong_width(name, nvpt, init_text, overwrite):
        import torch

        p = original(name, nvpt, init_text, overwrite)
        write_pt(Path(p), torch.zeros(nvpt, 768), name=name)
        return p

    fake.create_embedding = wrong_width
    r = create(fake, "zq-wrong", 2, "x")
    assert not r.ok and "did not load it" in r.message and "skipped" in r.message


def test_unavailable_host_operation(fake):
    def refuse(*a):
        raise Unavailable("no model is loaded")

    fake.create_embedding = refuse
    r = create(fake, "zq-none", 2, "x")
    assert not r.ok and "no model is loaded" in r.message


def test_a_refusal_of_the_webui_is_a_conflict_when_the_file_is_there(fake):
    """The name was free when checked, then the file appeared (another tab): the webui's
    assertion is a conflict because the file exists, whatever its words."""

    def appeared(name, nvpt, init_text, overwrite):
        import torch

        write_pt(fake.emb_dir / f"{name}.pt", torch.zeros(nvpt, 768), name=name)
        raise AssertionError("a file of that name is in the way")

    fake.create_embedding = appeared
    r = create(fake, "zq-race", 2, "x", embeddings_dir=str(fake.emb_dir))
    assert not r.ok and r.conflict and "The webui refused" in r.message


def test_another_refusal_of_the_webui_is_no_conflict(fake):
    def refuse(name, nvpt, init_text, overwrite):
        raise AssertionError("file exists? no: something else went wrong")

    fake.create_embedding = refuse
    r = create(fake, "zq-other", 2, "x", embeddings_dir=str(fake.emb_dir))
    assert not r.ok and not r.conflict and "The webui refused" in r.message
