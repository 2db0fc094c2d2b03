"""The real routes (``lib_textinv.routes.mount``: status, jobs and every step's routes) on a
FastAPI app, for tests that drive the API without a webui; jobs are awaited on their own event."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from lib_textinv.kit.host import Host
from lib_textinv.kit.ids import API_PREFIX
from lib_textinv.kit.jobs import JOBS
from lib_textinv.routes import mount

JOB_SECONDS = 60.0  # a bound that fails loudly, never a sleep


def api_client(host: Host, api_auth: str | None = None) -> TestClient:
    app = FastAPI()
    mount(app, host, api_auth=api_auth)
    return TestClient(app)


def wait_job(client: TestClient, job_id: str, seconds: float = JOB_SECONDS) -> dict:
    """Wait for the job to end (on its event), then return what ``GET /jobs/{id}`` says."""
    job = JOBS.get(job_id)
    assert job is not None, f"no job {job_id}"
    assert job.ended.wait(seconds), f"job {job_id} ({job.title}) still running after {seconds} s"
    r = client.get(f"{API_PREFIX}/jobs/{job_id}")
    assert r.status_code == 200, r.text
    return r.json()
