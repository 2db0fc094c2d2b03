"""Drift per text encoder: an SDXL checkpoint's clip_l vectors against CLIP-L's tokens, its clip_g
vectors against OpenCLIP-G's (docs/webui-contract.md §25 SDXL embeddings)."""

from __future__ import annotations

import pytest
import torch

from lib_textinv.kit.host import BaseHost, ModelFacts
from lib_textinv.scores.drift import drift_for_checkpoints, token_tables
from tests.embfiles import write_pt
from tests.sdxl_files import write_sdxl


class Table:
    """A vocabulary of random rows whose tokens name the encoder (``l7</w>``, ``g7</w>``)."""

    def __init__(self, prefix: str, width: int, vocab: int = 40, seed: int = 0):
        self.prefix = prefix
        self._m = torch.randn(vocab, width, generator=torch.Generator().manual_seed(seed)) * 0.3

    def matrix(self):
        return self._m

    def encode(self, text):
        return [int(w) for w in text.split()]

    def id_to_token(self, ids):
        return [f"{self.prefix}{i}</w>" for i in ids]


@pytest.fixture
def tables():
    return {"clip_l": Table("l", 768, seed=1), "clip_g": Table("g", 1280, seed=2)}


def test_each_part_against_its_own_encoders_tokens(tables, tmp_path):
    lm, gm = tables["clip_l"].matrix(), tables["clip_g"].matrix()
    vectors = {"clip_l": torch.stack([lm[3] * 2, lm[5] * 2]), "clip_g": torch.stack([gm[7] * 5, gm[9] * 5])}
    path = write_sdxl(tmp_path / "xl-10.safetensors", vectors, step=9)

    result = drift_for_checkpoints([(10, path)], tables, k=2)

    assert not result.problems
    (row,) = result.rows
    assert [v[0].token for v in row.parts["clip_l"].nearest] == ["l3</w>", "l5</w>"]
    assert [v[0].token for v in row.parts["clip_g"].nearest] == ["g7</w>", "g9</w>"]
    assert row.parts["clip_l"].norm_ratio == pytest.approx(2.0, rel=0.2)
    assert row.parts["clip_g"].norm_ratio == pytest.approx(5.0, rel=0.2)
    assert result.ordinary_norm is None and set(result.ordinary_norms) == {"clip_l", "clip_g"}
    # the summary numbers are the part furthest from ordinary words (clip_g here)
    assert (row.norm_ratio, row.mean_norm) == (row.parts["clip_g"].norm_ratio, row.parts["clip_g"].mean_norm)
    assert set(row.summary()) == {"clip_l", "clip_g"}
    assert (
        row.nearest_text(1) == "clip_l v0: l3</w> | clip_l v1: l5</w> | clip_g v0: g7</w> | clip_g v1: g9</w>"
    )
    assert [label for label, _norm, _nbs in row.vector_rows()] == [
        "clip_l 0",
        "clip_l 1",
        "clip_g 0",
        "clip_g 1",
    ]


def test_files_that_do_not_fit_the_loaded_encoders_are_problems(tables, tmp_path):
    sd1 = write_pt(tmp_path / "x-5.pt", torch.randn(2, 768), step=4)
    narrow = write_sdxl(
        tmp_path / "x-10.safetensors", {"clip_l": torch.randn(2, 768), "clip_g": torch.randn(2, 1024)}
    )
    good = write_sdxl(tmp_path / "x-15.safetensors")

    result = drift_for_checkpoints([(5, sd1), (10, narrow), (15, good)], tables)

    assert [r.step for r in result.rows] == [15]
    assert (
        "x-5.pt: holds one text encoder's vectors, the loaded model needs clip_l and clip_g"
        in result.problems[0]
    )
    assert "clip_g are 1024 wide" in result.problems[1] and "1280" in result.problems[1]
    on_sd1 = drift_for_checkpoints([(15, good)], Table("w", 768))
    assert not on_sd1.rows and "holds clip_l and clip_g vectors" in on_sd1.problems[0]


class Host(BaseHost):
    def __init__(self, family):
        super().__init__()
        self.family, self.asked = family, []

    def model_facts(self):
        return ModelFacts(loaded=True, family=self.family)

    def token_table(self, part="*"):
        self.asked.append(part)
        return Table(part, 8)


def test_token_tables_ask_the_host_per_encoder():
    sdxl, sd1 = Host("SDXL"), Host("SD1")
    assert set(token_tables(sdxl)) == {"clip_l", "clip_g"} and sdxl.asked == ["clip_l", "clip_g"]
    assert set(token_tables(sd1)) == {"*"} and sd1.asked == ["*"]


def test_drift_through_the_bridge_on_an_sdxl_model(host, webui, tmp_path):
    """The double's SDXL model: each part's nearest tokens come from its own encoder's table."""
    webui.sd_models.model_data.sd_model = webui.sd_models.make_model("SDXL")
    tabs = token_tables(host)
    lt, gt = tabs["clip_l"], tabs["clip_g"]
    (cat,), (ink,) = lt.encode("cat"), gt.encode("ink")
    vectors = {"clip_l": lt.matrix()[[cat]].clone() * 3, "clip_g": gt.matrix()[[ink]].clone() * 3}
    path = write_sdxl(tmp_path / "xl-10.safetensors", vectors, step=9)

    (row,) = drift_for_checkpoints([(10, path)], tabs).rows

    assert row.parts["clip_l"].nearest[0][0].token == "cat</w>"
    # ids: the double's OpenCLIP-G stand-in has toy ids, its text comes from open_clip's real decoder
    assert row.parts["clip_g"].nearest[0][0].token_id == ink
    assert row.parts["clip_g"].nearest[0][0].similarity == pytest.approx(1.0, abs=1e-5)


def test_report_table_chart_and_nearest_rows_show_each_encoder(tables, tmp_path):
    from lib_textinv.scores.charts import drift_chart, nearest_rows
    from lib_textinv.scores.scoring import ScoreReport

    paths = [(s, write_sdxl(tmp_path / f"xl-{s}.safetensors", step=s - 1)) for s in (5, 10)]
    report = ScoreReport(name="xl", run_folder=str(tmp_path), drift=drift_for_checkpoints(paths, tables))

    (first, _second) = report.table()
    assert set(first["encoders"]) == {"clip_l", "clip_g"} and first["nearest_tokens"].startswith(
        "clip_l v0: "
    )
    assert report.to_dict()["ordinary_token_norms"] == report.drift.ordinary_norms
    svg = drift_chart(report)
    assert all(label in svg for label in ("mean vector norm (clip_l)", "ordinary token norm (clip_g)"))
    assert [r[:2] for r in nearest_rows(report)][:3] == [[5, "clip_l 0"], [5, "clip_l 1"], [5, "clip_g 0"]]
