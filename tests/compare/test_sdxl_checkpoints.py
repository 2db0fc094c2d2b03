"""SDXL checkpoints (``<name>-<N>.safetensors`` with clip_l and clip_g, docs/webui-contract.md §25
SDXL embeddings) are found, checked against the loaded model's width and promoted like SD1 ones."""

from __future__ import annotations

import torch

from lib_textinv.compare.checkpoints import find_runs, run_from_folder
from lib_textinv.compare.promote import promote_checkpoint
from lib_textinv.kit.embedding_file import load_embedding
from lib_textinv.kit.host import HostPaths, ModelFacts
from tests.embfiles import write_pt
from tests.sdxl_files import write_sdxl, write_sdxl_run
from tests.sweep_fakes import FakeSweepHost


def test_sdxl_run_is_found_with_steps_from_the_file_names(tmp_path):
    run_dir = write_sdxl_run(tmp_path / "log", "xlstyle", steps=(5, 10), n=3)
    write_pt(run_dir / "embeddings" / "xlstyle-15.pt", torch.randn(3, 768), step=14)  # an SD1 one

    (run,) = find_runs(tmp_path / "log", "xlstyle", expected_width=2048)

    by = {c.step: c for c in run.checkpoints}
    assert [c.step for c in run.usable] == [5, 10]
    assert by[5].path.suffix == ".safetensors" and (by[5].n_vectors, by[5].width) == (3, 2048)
    assert by[10].stored_step == 9  # the step our trainer stores in the metadata
    assert not by[15].usable and "768 wide" in by[15].error and "2048" in by[15].error


def test_sdxl_checkpoints_are_not_usable_on_an_sd1_model(tmp_path):
    run_dir = write_sdxl_run(tmp_path / "log", "xlstyle", steps=(5,))
    (cp,) = run_from_folder(run_dir, expected_width=768).checkpoints
    assert not cp.usable and "2048 wide" in cp.error


def test_final_sdxl_embedding_joins_the_run(tmp_path):
    run_dir = write_sdxl_run(tmp_path / "log", "xlstyle", steps=(5,))
    emb_dir = tmp_path / "embeddings"
    write_sdxl(emb_dir / "xlstyle.safetensors", step=19)
    run = run_from_folder(run_dir, 2048, embeddings_dir=emb_dir)
    final = run.checkpoints[-1]
    assert final.final and final.usable and final.step == 20


class SdxlHost(FakeSweepHost):
    def __init__(self, out, emb_dir):
        super().__init__(out)
        self.emb_dir = emb_dir

    def paths(self):
        return HostPaths(embeddings_dir=str(self.emb_dir))

    def model_facts(self):
        return ModelFacts(loaded=True, family="SDXL", embedding_width=2048, trainable=True)


def test_promote_an_sdxl_checkpoint_keeps_safetensors_and_reloads(tmp_path, checksums):
    run_dir = write_sdxl_run(tmp_path / "log", "xlstyle", steps=(5, 10))
    emb_dir = tmp_path / "embeddings"
    emb_dir.mkdir()
    host = SdxlHost(tmp_path / "out", emb_dir)
    run = run_from_folder(run_dir, 2048)
    before = checksums(run_dir)

    res = promote_checkpoint(host, run.by_step(10), "xlstyle")

    dest = emb_dir / "xlstyle.safetensors"
    assert res.path == str(dest) and not (emb_dir / "xlstyle.pt").exists()
    assert dest.read_bytes() == run.by_step(10).path.read_bytes()
    assert sorted(load_embedding(dest).vectors) == ["clip_g", "clip_l"]
    assert host.reloads == [True] and checksums(run_dir) == before
