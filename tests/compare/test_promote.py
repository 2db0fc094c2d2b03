"""Promotion: safe names, no silent overwrite, fresh mtime, width check, forced reload."""

from __future__ import annotations

import os
import time

import pytest
import torch

from lib_textinv.compare.checkpoints import find_runs
from lib_textinv.compare.promote import (
    PromoteError,
    Refusal,
    promote,
    promote_checkpoint,
    promote_file,
    validate_trigger,
)
from tests.embfiles import write_malicious_pt, write_pt, write_safetensors, write_training_run
from tests.sweep_fakes import FakeSweepHost


@pytest.fixture
def env(tmp_path):
    log = tmp_path / "log"
    run = write_training_run(log, "charcoalstyle", steps=(250, 500))
    emb_dir = tmp_path / "embeddings"
    write_pt(emb_dir / "charcoalstyle.pt", torch.randn(2, 768), name="charcoalstyle", step=500)
    src = run / "embeddings" / "charcoalstyle-500.pt"
    old = time.time() - 30 * 86400
    os.utime(src, (old, old))  # a month-old checkpoint: the copy must not keep this mtime
    return src, emb_dir


def test_promote_as_name_step(env, tmp_path):
    src, emb_dir = env
    host = FakeSweepHost(tmp_path / "out")
    t0 = time.time()
    res = promote(host, src, emb_dir, "charcoalstyle-500", expected_width=768)
    dest = emb_dir / "charcoalstyle-500.pt"
    assert res.path == str(dest) and dest.read_bytes() == src.read_bytes()
    assert dest.stat().st_mtime >= t0 - 1 > src.stat().st_mtime
    assert res.text_to_type == "drawing of a cat, charcoalstyle-500" and not res.overwritten
    assert host.reloads == [True]
    assert not list(emb_dir.glob(".*.tmp"))


def test_never_overwrites_without_flag(env, tmp_path, checksums):
    src, emb_dir = env
    write_pt(emb_dir / "mine.pt", torch.randn(2, 768), name="mine")
    before = checksums(emb_dir)
    host = FakeSweepHost(tmp_path / "out")
    with pytest.raises(PromoteError, match="overwrite") as e:
        promote(host, src, emb_dir, "mine")
    assert e.value.kind is Refusal.EXISTS
    with pytest.raises(PromoteError, match="overwrite"):
        promote(host, src, emb_dir, "charcoalstyle")
    assert checksums(emb_dir) == before and host.reloads == []
    # with the flag: replaced, mtime strictly newer than the replaced file's (hash cache)
    future = time.time() + 3600
    os.utime(emb_dir / "mine.pt", (future, future))
    res = promote(host, src, emb_dir, "mine", overwrite=True, sample_prompt="a house in the style of {}")
    assert res.overwritten and (emb_dir / "mine.pt").read_bytes() == src.read_bytes()
    assert (emb_dir / "mine.pt").stat().st_mtime > future
    assert res.text_to_type == "a house in the style of mine"


def test_same_token_elsewhere_is_refused_even_with_flag(env, checksums):
    src, emb_dir = env
    write_safetensors(emb_dir / "sub" / "Style.safetensors", torch.randn(2, 768))
    before = checksums(emb_dir)
    with pytest.raises(PromoteError, match="already exists as") as e:
        promote_file(src, emb_dir, "style", overwrite=True)
    assert e.value.kind is Refusal.EXISTS
    assert checksums(emb_dir) == before


@pytest.mark.parametrize(
    "bad", ["", "../x", "a/b", "..", ".hidden", "a:b", "CON", "a\\b", "name.pt", "x" * 101, "ab\x00"]
)
def test_bad_trigger_names(bad):
    with pytest.raises(PromoteError) as e:
        validate_trigger(bad)
    assert e.value.kind is Refusal.BAD_NAME


def test_good_trigger_names():
    assert validate_trigger(" charcoalstyle-500 ") == "charcoalstyle-500"
    assert validate_trigger("my_style.v2") == "my_style.v2"
    assert validate_trigger("my style") == "my style"  # the webui keeps spaces in names


def test_width_and_unsafe_refused(env, tmp_path, checksums):
    src, emb_dir = env
    before = checksums(emb_dir)
    with pytest.raises(PromoteError, match="1024"):
        promote_file(src, emb_dir, "x", expected_width=1024)
    evil = write_malicious_pt(tmp_path / "evil-5.pt")
    with pytest.raises(PromoteError, match="unsafe"):
        promote_file(evil, emb_dir, "evil-5")
    with pytest.raises(PromoteError, match="not found") as e:
        promote_file(src, tmp_path / "nope", "x")
    assert e.value.kind is Refusal.NO_FOLDER
    assert checksums(emb_dir) == before


def test_optimizer_state_travels_and_safetensors_keep_extension(env, tmp_path):
    src, emb_dir = env
    src.with_name(src.name + ".optim").write_bytes(b"optim")
    res = promote_file(src, emb_dir, "cs-500")
    assert res.optimizer_copied and (emb_dir / "cs-500.pt.optim").read_bytes() == b"optim"
    st = write_safetensors(tmp_path / "kohya.safetensors", torch.randn(1, 768))
    res = promote_file(st, emb_dir, "kohya-1")
    assert res.path.endswith("kohya-1.safetensors")


def test_promote_a_discovered_checkpoint(env):
    src, emb_dir = env
    run = find_runs(src.parents[3], "charcoalstyle", 768, embeddings_dir=emb_dir)[0]
    cp = run.by_step(250)
    res = promote_file(cp.path, emb_dir, cp.token, expected_width=768)
    assert res.token == "charcoalstyle-250"
    with pytest.raises(PromoteError, match="already in the embeddings folder"):
        promote_file(emb_dir / "charcoalstyle-250.pt", emb_dir, "charcoalstyle-250", overwrite=True)


def test_the_preconditions_tab_and_api_share(env, tmp_path, checksums):
    """``promote_checkpoint``: a checkpoint that is missing, unusable, or no embeddings folder,
    each refused with its kind before anything is written; else the copy under its token."""
    from lib_textinv.kit.host import HostPaths, ModelFacts

    src, emb_dir = env
    run = find_runs(src.parents[3], "charcoalstyle", 1024, embeddings_dir=emb_dir)[0]

    class Host(FakeSweepHost):
        folder: str | None = str(emb_dir)

        def paths(self):
            return HostPaths(embeddings_dir=self.folder)

        def model_facts(self):
            return ModelFacts(loaded=True, embedding_width=768)

    host = Host(tmp_path / "out")
    before = checksums(emb_dir)
    for cp, kind in ((None, Refusal.NOT_FOUND), (run.by_step(250), Refusal.NOT_USABLE)):
        with pytest.raises(PromoteError) as e:
            promote_checkpoint(host, cp, missing="no step 7")
        assert e.value.kind is kind
    assert "1024" in str(e.value)  # found at 1024 wide: not usable, and why
    good = find_runs(src.parents[3], "charcoalstyle", 768, embeddings_dir=emb_dir)[0].by_step(250)
    host.folder = None
    with pytest.raises(PromoteError, match="standalone") as e:
        promote_checkpoint(host, good)
    assert e.value.kind is Refusal.NO_FOLDER and checksums(emb_dir) == before and host.reloads == []
    host.folder = str(emb_dir)
    res = promote_checkpoint(host, good, sample_prompt="{} at dusk")
    assert res.token == "charcoalstyle-250" and res.text_to_type == "charcoalstyle-250 at dusk"
    assert host.reloads == [True]


class FolderHost(FakeSweepHost):
    """A host whose loaded embeddings are the files of its embeddings folder, as after the forced
    reload every promotion ends with."""

    def __init__(self, out, emb_dir):
        super().__init__(out)
        self.emb_dir = emb_dir

    def paths(self):
        from lib_textinv.kit.host import HostPaths

        return HostPaths(embeddings_dir=str(self.emb_dir))

    def model_facts(self):
        from lib_textinv.kit.host import ModelFacts

        return ModelFacts(loaded=True, embedding_width=768)

    def embeddings(self):
        from lib_textinv.kit.host import EmbeddingInfo

        return [EmbeddingInfo(p.stem, str(p), 2, 768) for p in sorted(self.emb_dir.glob("*.pt"))]


def test_promote_warns_of_a_token_prefix_clash_and_suggests_a_name(env, tmp_path):
    """CLIP splits digits: ``painter-50`` begins ``painter-500``. The promotion is done, the answer
    says which loaded embedding clashes and offers a name that clashes with none."""
    src, emb_dir = env
    write_pt(emb_dir / "painter-50.pt", torch.randn(2, 768), name="painter-50")
    host = FolderHost(tmp_path / "out", emb_dir)
    run = find_runs(src.parents[3], "charcoalstyle", 768, embeddings_dir=emb_dir)[0]
    res = promote_checkpoint(host, run.by_step(500), "painter-500")
    assert (emb_dir / "painter-500.pt").is_file()
    assert "'painter-50' is a token prefix of 'painter-500'" in res.warning
    assert 'stray "0"' in res.warning and res.suggested_trigger == "painter-s500"
    assert res.message.endswith(res.warning) and "'painter-s500'" in res.message
    # the other way round: the new trigger begins a loaded one
    res = promote_checkpoint(host, run.by_step(250), "painter-5")
    assert "'painter-5' is a token prefix of 'painter-50'" in res.warning
    assert "'painter-5' is a token prefix of 'painter-500'" in res.warning
    assert res.suggested_trigger == "painter-s5"
    # the final embedding "charcoalstyle" begins every "charcoalstyle-<N>"
    res = promote_checkpoint(host, run.by_step(250))
    assert "'charcoalstyle' is a token prefix of 'charcoalstyle-250'" in res.warning
    assert res.suggested_trigger == "charcoalstyles-250"
    res = promote_checkpoint(host, run.by_step(500), "inkwash")
    assert res.warning == "" and res.suggested_trigger is None and "⚠" not in res.message
