"""The scan is one job for the tab and ``POST /scan``: progress with an ETA, and one Stop (the
tab's button or ``DELETE /jobs/{id}``) that ends it after the file in hand, its report marked
incomplete."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import gradio as gr

from lib_textinv.dataset import section
from lib_textinv.dataset.work import SCAN_KEY
from lib_textinv.kit import longwork
from lib_textinv.kit.host import StandaloneHost
from lib_textinv.kit.ids import API_PREFIX
from lib_textinv.kit.progress import ForwardingProgress, Progress
from lib_textinv.kit.tab_context import TabContext
from tests.api_client import api_client, wait_job
from tests.badfiles import make_corpus
from tests.photos import write_photos

BOUND = 30.0


class PausingHost(StandaloneHost):
    """Runs each job with a progress that, after the first file is counted, waits until the test
    has pressed Stop (``first_file`` says it is there; ``release`` lets it go on)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.first_file, self.release = threading.Event(), threading.Event()
        self.interrupts = 0

    def run_job(self, title, fn, progress=None):
        def pause(p: Progress) -> None:
            if p.done == 1 and not self.first_file.is_set():
                self.first_file.set()
                assert self.release.wait(BOUND), "the test never released the scan"

        return fn(ForwardingProgress(progress or Progress(), on_update=pause))

    def interrupt(self):
        self.interrupts += 1


def test_post_scan_is_a_job_with_the_report_as_result(tmp_path):
    folder = tmp_path / "photos"
    write_photos(folder, ("astronaut", "chelsea"))
    (folder / "notes.txt").write_text("not an image", encoding="utf-8")
    client = api_client(StandaloneHost())
    r = client.post(f"{API_PREFIX}/scan", json={"folder": str(folder), "width": 256, "height": 256})
    assert r.status_code == 200, r.text
    job = wait_job(client, r.json()["job_id"])
    assert job["status"] == "done" and job["key"] == SCAN_KEY
    assert (job["done"], job["total"]) == (2, 2)
    report = job["result"]
    assert report["counts"] == {"ok": 2, "warning": 0, "refused": 0}
    assert [(e["name"], e["kind"]) for e in report["others"]] == [("notes.txt", "caption without image")]
    assert [f["name"] for f in report["files"]] == ["astronaut.jpg", "chelsea.jpg"]


def test_post_scan_refuses_bad_requests_at_once(tmp_path):
    client = api_client(StandaloneHost())
    r = client.post(f"{API_PREFIX}/scan", json={"folder": str(tmp_path / "nope")})
    assert r.status_code == 400 and "folder not found" in r.json()["detail"]
    r = client.post(f"{API_PREFIX}/scan", json={"folder": str(tmp_path), "widht": 256})
    assert r.status_code == 422 and "widht" in r.text
    r = client.post(f"{API_PREFIX}/scan", json={"folder": str(tmp_path), "background": "red"})
    assert r.status_code == 422
    r = client.post(
        f"{API_PREFIX}/scan",
        content=f'{{"folder": "{tmp_path}", "max_megapixels": NaN}}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422 and "max_megapixels" in r.text


def test_delete_stops_the_scan_after_the_file_in_hand(tmp_path):
    folder = tmp_path / "mixed"
    make_corpus(folder)
    host = PausingHost()
    client = api_client(host)
    job_id = client.post(f"{API_PREFIX}/scan", json={"folder": str(folder)}).json()["job_id"]
    assert host.first_file.wait(BOUND)
    assert client.delete(f"{API_PREFIX}/jobs/{job_id}").status_code == 200
    host.release.set()
    job = wait_job(client, job_id)
    assert job["status"] == "interrupted" and host.interrupts == 1
    report = job["result"]
    assert report["cancelled"] and len(report["files"]) == 1 and job["total"] > 1
    assert "report incomplete" in report["summary"]


def test_tab_stop_ends_the_same_scan_job(tmp_path):
    folder = tmp_path / "photos"
    write_photos(folder, ("astronaut", "chelsea", "coffee", "rocket"))
    host = PausingHost(state_dir=str(tmp_path / "state"))
    with gr.Blocks():
        ctx = TabContext(host=host, source_folder=gr.Textbox())
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(section.do_scan, ctx, str(folder), 256, 256, "#ffffff", 100)
        assert host.first_file.wait(BOUND)
        assert longwork.is_running(SCAN_KEY)
        assert longwork.stop(host, SCAN_KEY) == "stopping…"
        host.release.set()
        summary, rows, _items, _recent, real = pending.result(BOUND)
    assert 'data-interrupted="true"' in summary and "scan interrupted, report incomplete" in summary
    assert [r[0] for r in rows] == ["astronaut.jpg"] and real == str(folder)
    assert not longwork.is_running(SCAN_KEY)
