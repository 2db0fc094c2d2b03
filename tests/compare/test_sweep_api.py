"""POST /sweep (a long-work job) and POST /promote against a fake host, through the real routes
(``lib_textinv.routes.mount``: the jobs routes included); jobs are awaited on their events."""

from __future__ import annotations

import pytest
import torch

from lib_textinv.compare.promote import Refusal
from lib_textinv.compare.routes import PROMOTE_STATUS, PromoteRequest, SweepRequest
from lib_textinv.compare.sweep_record import read_record
from lib_textinv.kit.host import StandaloneHost
from lib_textinv.kit.jobs import JOBS
from tests.api_client import api_client, wait_job
from tests.compare.test_sweep_ui import WebuiLikeHost
from tests.embfiles import write_pt, write_training_run
from tests.sweep_fakes import SAMPLER_BOUND

SWEEP = {
    "name": "cs",
    "checkpoints": "every",
    "every": 2,
    "include_final": True,
    "prompts": ["a cat, {}", "  "],
    "seeds": [1, 2, 1],
    "batch_size": 4,
    "width": 64,
    "height": 64,
    "sampling_steps": 4,
}


@pytest.fixture
def host(tmp_path):
    h = WebuiLikeHost(tmp_path)
    write_training_run(h.log, "cs", steps=(5, 10, 15, 20))
    write_pt(h.emb_dir / "cs.pt", torch.randn(2, 768), name="cs", step=20)
    return h


def test_sweep_job_reports_the_grid_and_its_record(host, checksums):
    before, db_before = checksums(host.emb_dir), dict(host.db)
    c = api_client(host)
    r = c.post("/textinv/v1/sweep", json=SWEEP)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["cells"] == 6 and body["calls"] == 2  # the blank prompt and the repeated seed dropped
    job = wait_job(c, body["job_id"])
    assert job["status"] == "done", job["error"]
    assert job["key"] == "compare.sweep" and (job["done"], job["total"]) == (6, 6)
    res = job["result"]
    assert res["done"] == 6 and res["grid"] and not res["interrupted"]
    assert [x["token"] for x in res["cells"]][:3] == ["cs-10", "cs-20", "cs-final"]
    assert "cs-final=" in res["infotext"]
    rec = read_record(res["record"])
    assert (
        rec.grid == res["grid"] and rec.name == "cs" and rec.run_folder == str(host.log / "2026-11-25" / "cs")
    )
    assert [cell.path for cell in rec.cells] == [x["path"] for x in res["cells"]]
    assert checksums(host.emb_dir) == before and host.db == db_before
    assert sorted(host.unregistered_log) == ["cs-10", "cs-20", "cs-final"]


def test_delete_stops_the_sweep_inside_the_sampler(tmp_path):
    host = WebuiLikeHost(tmp_path, sample_until_interrupted_on_call=2)
    write_training_run(host.log, "cs", steps=(5, 10, 15, 20))
    c = api_client(host)
    r = c.post("/textinv/v1/sweep", json={**SWEEP, "include_final": False, "every": 1, "checkpoints": "all"})
    assert r.status_code == 200, r.text
    assert host.sampling.wait(SAMPLER_BOUND), "the second batch never started"
    busy = c.post("/textinv/v1/sweep", json={**SWEEP, "include_final": False})
    assert busy.status_code == 409 and "already running" in busy.json()["detail"]
    assert c.delete(f"/textinv/v1/jobs/{r.json()['job_id']}").status_code == 200
    job = wait_job(c, r.json()["job_id"])
    assert host.interrupted.is_set() and job["status"] == "interrupted"
    assert job["result"]["interrupted"] and job["result"]["done"] == 4
    assert read_record(job["result"]["record"]).interrupted


def test_sweep_bad_requests(host):
    c = api_client(host)
    assert c.post("/textinv/v1/sweep", json={"name": "../x"}).status_code == 422
    assert c.post("/textinv/v1/sweep", json={"name": "cs", "widht": 64}).status_code == 422  # unknown field
    assert c.post("/textinv/v1/sweep", json={"name": "cs", "checkpoints": "some"}).status_code == 422
    assert c.post("/textinv/v1/sweep", json={"name": "cs", "seeds": []}).status_code == 422
    assert c.post("/textinv/v1/sweep", json={"name": "cs", "prompts": ["p"] * 65}).status_code == 422
    assert c.post("/textinv/v1/sweep", json={"name": "cs", "cfg_scale": "NaN"}).status_code == 422
    r = c.post("/textinv/v1/sweep", json={"name": "nobody"})
    assert r.status_code == 404 and "nobody" in r.json()["detail"]
    r = c.post("/textinv/v1/sweep", json={"name": "cs", "checkpoints": "list", "steps": [7]})
    assert r.status_code == 400 and "7" in r.json()["detail"]
    r = c.post("/textinv/v1/sweep", json={"name": "cs", "seeds": [-1]})
    assert r.status_code == 400 and "4294967295" in r.json()["detail"]  # the tab's seed rule
    assert c.post("/textinv/v1/sweep", json={"name": "cs", "batch_size": 0}).status_code == 422
    r = api_client(StandaloneHost()).post("/textinv/v1/sweep", json={"name": "cs"})
    assert r.status_code == 503 and "needs the webui" in r.json()["detail"]
    assert JOBS.active("compare.sweep") is None


def test_request_models_refuse_unknown_fields_and_keep_defaults_apart():
    with pytest.raises(ValueError):
        PromoteRequest(name="cs", stepp=10)
    a, b = SweepRequest(name="a"), SweepRequest(name="b")
    a.prompts.append("mine")
    assert "mine" not in b.prompts and "mine" not in SweepRequest(name="c").prompts
    assert set(PROMOTE_STATUS) == set(Refusal)  # every refusal has its answer


def test_promote_route(host):
    c = api_client(host)
    r = c.post("/textinv/v1/promote", json={"name": "cs", "step": 10})
    assert r.status_code == 200, r.text
    assert r.json()["text_to_type"] == "drawing of a cat, cs-10" and (host.emb_dir / "cs-10.pt").is_file()
    assert host.reloads == [True]
    r = c.post("/textinv/v1/promote", json={"name": "cs", "step": 10})
    assert r.status_code == 409 and "overwrite" in r.json()["detail"]
    r = c.post("/textinv/v1/promote", json={"name": "cs", "step": 10, "overwrite": True, "trigger": "mine"})
    assert r.status_code == 200 and r.json()["token"] == "mine"
    r = c.post("/textinv/v1/promote", json={"name": "cs", "step": 10, "trigger": "../x"})
    assert r.status_code == 400 and "../x" in r.json()["detail"]
    r = c.post("/textinv/v1/promote", json={"name": "cs", "step": 11})
    assert r.status_code == 404 and "no step 11" in r.json()["detail"]
    assert c.post("/textinv/v1/promote", json={"name": "cs"}).status_code == 400
    r = c.post("/textinv/v1/promote", json={"name": "cs", "final": True})
    assert r.status_code == 200 and r.json()["token"] == "cs-final"


def test_promote_route_without_an_embeddings_folder(host):
    class NoFolder(WebuiLikeHost):
        def paths(self):
            return super().paths().__class__(ti_log_dir=str(self.log))

    nf = NoFolder(host.log.parent)
    r = api_client(nf).post("/textinv/v1/promote", json={"name": "cs", "step": 10})
    assert r.status_code == 503 and "embeddings folder" in r.json()["detail"]


def test_promote_answers_a_token_clash_with_a_warning_and_a_name(host):
    from tests.compare.test_promote import FolderHost

    class Loaded(WebuiLikeHost):
        embeddings = FolderHost.embeddings  # the files of the folder, as after the forced reload

    h = Loaded(host.log.parent)
    write_pt(h.emb_dir / "cs-1.pt", torch.randn(2, 768), name="cs-1")
    r = api_client(h).post("/textinv/v1/promote", json={"name": "cs", "step": 10, "trigger": "cs-10"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "'cs-1' is a token prefix of 'cs-10'" in body["warning"]
    assert "'cs' is a token prefix of 'cs-10'" in body["warning"]
    assert body["suggested_trigger"] == "css-10"
    r = api_client(h).post("/textinv/v1/promote", json={"name": "cs", "step": 10, "trigger": "quill"})
    assert r.status_code == 200 and (r.json()["warning"], r.json()["suggested_trigger"]) == ("", None)
