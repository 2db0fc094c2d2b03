"""The real job routes and the one long-work primitive: the tab and the API run, watch and stop the
same jobs. Jobs are awaited on events with a bound, never slept on."""

from __future__ import annotations

import threading

import pytest

from lib_textinv.kit import longwork
from lib_textinv.kit.api_models import Model
from lib_textinv.kit.host import BaseHost, Unavailable
from lib_textinv.kit.ids import API_PREFIX
from lib_textinv.kit.jobs import JOBS, Busy
from lib_textinv.kit.progress import Cancelled, Progress
from tests.api_client import api_client, wait_job

BOUND = 30.0


class Box(Model):
    x: float = 0.0


class InterruptHost(BaseHost):
    """Records the host's Interrupt; ``run_job`` runs directly, as standalone does."""

    def __init__(self) -> None:
        super().__init__(kind="test")
        self.interrupts = 0

    def interrupt(self) -> None:
        self.interrupts += 1


def blocking_work(started: threading.Event, release: threading.Event):
    """Work that steps until cancelled (or released), like a sampler checking each step."""

    def fn(progress: Progress) -> str:
        progress.begin(100, "working")
        started.set()
        for _ in range(100):
            if release.wait(0.01):
                break
            progress.check()
            progress.step()
        return "finished"

    return fn


def test_get_reports_progress_and_result_of_a_real_job():
    host = InterruptHost()
    client = api_client(host)
    job = longwork.start(host, "test-get", "quick", lambda p: (p.begin(2), p.step(), p.step(), {"n": 2})[-1])
    state = wait_job(client, job.id)
    assert state["status"] == "done"
    assert state["result"] == {"n": 2}
    assert (state["done"], state["total"], state["fraction"]) == (2, 2, 1.0)
    assert state["key"] == "test-get"


def test_delete_interrupts_a_running_job_and_presses_the_hosts_interrupt():
    host = InterruptHost()
    client = api_client(host)
    started, release = threading.Event(), threading.Event()
    job = longwork.start(host, "test-delete", "long", blocking_work(started, release))
    assert started.wait(BOUND)
    r = client.delete(f"{API_PREFIX}/jobs/{job.id}")
    assert r.status_code == 200
    state = wait_job(client, job.id)
    release.set()
    assert state["status"] == "interrupted"
    assert host.interrupts == 1
    assert state["done"] < 100


def test_delete_of_a_finished_job_does_not_press_interrupt():
    host = InterruptHost()
    client = api_client(host)
    job = longwork.start(host, "test-finished", "quick", lambda p: "ok")
    wait_job(client, job.id)
    assert client.delete(f"{API_PREFIX}/jobs/{job.id}").json()["status"] == "done"
    assert host.interrupts == 0


@pytest.mark.parametrize("method", ["get", "delete"])
def test_unknown_job_is_404(method):
    client = api_client(InterruptHost())
    r = getattr(client, method)(f"{API_PREFIX}/jobs/nope")
    assert r.status_code == 404
    assert "nope" in r.json()["detail"]


def test_tab_stop_ends_the_job_the_api_sees():
    """A job the tab started (longwork.run) is the job GET /jobs shows; the tab's Stop ends it."""
    host = InterruptHost()
    client = api_client(host)
    started, release = threading.Event(), threading.Event()
    box: dict = {}

    def tab_click() -> None:
        try:
            box["result"] = longwork.run(host, "test-tab", "tab work", blocking_work(started, release))
        except Cancelled as e:
            box["cancelled"] = e

    t = threading.Thread(target=tab_click)
    t.start()
    assert started.wait(BOUND)
    job = JOBS.active("test-tab")
    assert job is not None
    assert client.get(f"{API_PREFIX}/jobs/{job.id}").json()["status"] == "running"
    assert longwork.stop(host, "test-tab") == "stopping…"
    t.join(BOUND)
    release.set()
    assert not t.is_alive()
    assert "cancelled" in box and "result" not in box
    assert wait_job(client, job.id)["status"] == "interrupted"
    assert host.interrupts == 1
    assert longwork.stop(host, "test-tab") == "nothing is running"


def test_second_job_of_a_kind_is_refused_while_the_first_runs():
    host = InterruptHost()
    started, release = threading.Event(), threading.Event()
    first = longwork.start(host, "test-busy", "first", blocking_work(started, release))
    assert started.wait(BOUND)
    with pytest.raises(Busy, match="already running"):
        longwork.start(host, "test-busy", "second", lambda p: None)
    release.set()
    assert first.ended.wait(BOUND)
    second = longwork.start(host, "test-busy", "second", lambda p: "ran")
    assert second.ended.wait(BOUND)
    assert second.result == "ran"


def test_run_raises_what_the_work_raised():
    host = InterruptHost()

    def fails(progress: Progress) -> None:
        raise Unavailable("no model is loaded")

    with pytest.raises(Unavailable, match="no model"):
        longwork.run(host, "test-raise", "fails", fails)
    assert not longwork.is_running("test-raise")


def test_watch_yields_while_running_and_once_at_the_end():
    host = InterruptHost()
    started, release = threading.Event(), threading.Event()
    job = longwork.start(host, "test-watch", "watched", blocking_work(started, release))
    seen = []
    for j in longwork.watch(job, every=0.01):
        seen.append(j.active)
        if len(seen) == 3:
            release.set()
    assert seen[-1] is False
    assert seen[:3] == [True, True, True]
    assert job.result == "finished"


def test_our_error_kinds_are_answered_with_their_status_not_500():
    """Busy → 409, Unavailable → 503, a too-long path → 400 with the reason (kit.http_errors)."""
    from fastapi import APIRouter, FastAPI
    from fastapi.testclient import TestClient

    from lib_textinv.kit.http_errors import GuardedRoute

    router = APIRouter(route_class=GuardedRoute)

    @router.get("/busy")
    def busy():
        raise Busy("Train x: already running")

    @router.get("/unavailable")
    def unavailable():
        raise Unavailable("no model is loaded")

    @router.get("/long")
    def long_name():
        import os

        os.stat("/tmp/" + "x" * 5000)

    @router.get("/bug")
    def bug():
        raise KeyError("a bug stays a bug")

    app = FastAPI()
    app.include_router(router)
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/busy").status_code == 409
    r = client.get("/unavailable")
    assert (r.status_code, r.json()["detail"]) == (503, "no model is loaded")
    r = client.get("/long")
    assert r.status_code == 400 and "longer than the file system allows" in r.json()["detail"]
    assert client.get("/bug").status_code == 500


def test_get_with_wait_answers_when_the_job_ends():
    """Long polling: ``?wait=`` returns the ended job without the client sleeping."""
    host = InterruptHost()
    client = api_client(host)
    started, release = threading.Event(), threading.Event()
    job = longwork.start(host, "test-wait", "long", blocking_work(started, release))
    assert started.wait(BOUND)
    assert client.get(f"{API_PREFIX}/jobs/{job.id}", params={"wait": 0.05}).json()["status"] == "running"
    release.set()
    assert client.get(f"{API_PREFIX}/jobs/{job.id}", params={"wait": BOUND}).json()["status"] == "done"
    assert client.get(f"{API_PREFIX}/jobs/{job.id}", params={"wait": 3600}).status_code == 422


def test_a_refused_nan_is_a_422_not_a_500():
    """Under pydantic 2 the validation error echoes the NaN it refused; the 422 must still be JSON."""
    from fastapi import APIRouter, FastAPI
    from fastapi.testclient import TestClient

    from lib_textinv.kit.http_errors import GuardedRoute

    router = APIRouter(route_class=GuardedRoute)

    @router.post("/box")
    def box(req: Box) -> dict:
        return req.as_dict()

    app = FastAPI()
    app.include_router(router)
    client = TestClient(app, raise_server_exceptions=False)
    r = client.post("/box", content=b'{"x": NaN}', headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert client.post("/box", json={"x": 2}).json() == {"x": 2.0}


def test_field_takes_a_default_factory():
    from lib_textinv.kit.api_models import Field, Model

    class Steps(Model):
        steps: list[int] = Field(default_factory=list)

    assert Steps().steps == [] and Steps(steps=[1]).steps == [1]


def test_a_job_result_the_tab_made_is_still_json():
    """Tab jobs return objects (a ScoreReport…): GET /jobs/{id} sends their to_dict, or the type."""
    import dataclasses

    @dataclasses.dataclass
    class Report:
        best: int

        def to_dict(self) -> dict:
            return {"best": self.best}

    host = InterruptHost()
    client = api_client(host)
    job = longwork.start(host, "test-result", "tab", lambda p: (Report(500), object()))
    assert wait_job(client, job.id)["result"] == [{"best": 500}, "<object>"]
