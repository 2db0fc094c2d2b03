"""POST /textinv/v1/embeddings and /recommend through the real router (``lib_textinv.routes.mount``:
the real GET/DELETE /jobs/{id}). Background jobs are awaited on their own event."""

from __future__ import annotations

import pytest

from lib_textinv.embedding import folder_advice
from lib_textinv.embedding.folder_advice import RECOMMEND_KEY
from lib_textinv.kit import clip_loader, longwork
from lib_textinv.kit.host import StandaloneHost
from tests.api_client import api_client, wait_job
from tests.embedding.held_clip import HOLD_SECONDS, HeldClip

API = "/textinv/v1"


def test_api_create(fake):
    c = api_client(fake)
    r = c.post(f"{API}/embeddings", json={"name": "zq-api", "vectors": 4, "init_text": "brick wall"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] and body["vectors"] == 4 and body["path"].endswith("zq-api.pt")
    again = c.post(f"{API}/embeddings", json={"name": "zq-api", "vectors": 4})
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    over = c.post(f"{API}/embeddings", json={"name": "zq-api", "vectors": 6, "overwrite": True})
    assert over.status_code == 200, over.text
    assert over.json()["vectors"] == 6
    bad = c.post(f"{API}/embeddings", json={"name": "a/b", "vectors": 2})
    assert bad.status_code == 400 and "path separator" in bad.json()["detail"]
    assert c.post(f"{API}/embeddings", json={"name": "x", "vectors": 0}).status_code == 422
    assert c.post(f"{API}/embeddings", json={"name": "x", "vectors": 76}).status_code == 422


def test_api_create_warns_of_a_token_prefix_clash_and_can_check_before_writing(fake):
    c = api_client(fake)
    assert c.post(f"{API}/embeddings", json={"name": "charcoalstyle-50", "vectors": 2}).status_code == 200
    body = {"name": "charcoalstyle-500", "vectors": 2, "dry_run": True}
    checked = c.post(f"{API}/embeddings", json=body)
    assert checked.status_code == 200, checked.text
    got = checked.json()
    assert got["dry_run"] and got["path"] is None and not (fake.emb_dir / "charcoalstyle-500.pt").exists()
    assert got["suggested_name"] == "charcoalstyle-s500"
    assert any("'charcoalstyle-50' is a token prefix of 'charcoalstyle-500'" in w for w in got["warnings"])
    created = c.post(f"{API}/embeddings", json={**body, "dry_run": False})
    assert created.status_code == 200, created.text
    assert created.json()["ok"] and created.json()["suggested_name"] == "charcoalstyle-s500"
    assert created.json()["warnings"] == got["warnings"] and created.json()["path"].endswith("-500.pt")
    plain = c.post(f"{API}/embeddings", json={"name": "watercolor-ti", "vectors": 2, "dry_run": True})
    assert plain.json()["suggested_name"] is None and plain.json()["warnings"] == []
    taken = c.post(f"{API}/embeddings", json={"name": "charcoalstyle-50", "vectors": 2, "dry_run": True})
    assert taken.status_code == 409  # a dry run answers what the real request would


def test_api_create_refuses_unknown_fields(fake):
    r = api_client(fake).post(f"{API}/embeddings", json={"name": "zq", "vectors": 2, "vector": 3})
    assert r.status_code == 422 and "vector" in r.text
    assert not (fake.emb_dir / "zq.pt").exists()


def test_api_create_unavailable_standalone():
    r = api_client(StandaloneHost()).post(f"{API}/embeddings", json={"name": "zq", "vectors": 2})
    assert r.status_code == 503 and "needs the webui" in r.json()["detail"]


@pytest.fixture
def no_clip_weights(monkeypatch, tmp_path):
    """A host whose CLIP search path is empty, whatever this machine's caches hold: the
    recommendation follows the image count only."""
    monkeypatch.setattr(clip_loader, "default_cache_dirs", lambda: [str(tmp_path / "empty")])
    monkeypatch.setattr(clip_loader, "hf_cache_dir", lambda: str(tmp_path / "empty"), raising=False)
    return StandaloneHost(settings={"textinv_clip_cache_dir": str(tmp_path / "empty")})


def test_api_recommend(photo_dir, tmp_path, no_clip_weights):
    c = api_client(no_clip_weights)
    r = c.post(f"{API}/recommend", json={"folder": str(photo_dir)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["vectors"] == 2 and body["range"] == "2-3" and body["images"] == 4
    assert body["diversity"] is None and "no download" in body["clip_unavailable"]
    assert "no download" in body["explanation"]
    missing = c.post(f"{API}/recommend", json={"folder": str(tmp_path / "nope")})
    assert missing.status_code == 400 and "folder not found" in missing.json()["detail"]


def test_api_recommend_in_the_background(photo_dir, no_clip_weights):
    c = api_client(no_clip_weights)
    started = c.post(f"{API}/recommend", json={"folder": str(photo_dir), "background": True})
    assert started.status_code == 200, started.text
    job = wait_job(c, started.json()["job_id"])
    assert job["status"] == "done", job
    assert job["result"]["vectors"] == 2 and job["result"]["images"] == 4
    assert job["key"] == RECOMMEND_KEY and job["done"] == job["total"] == 4


@pytest.mark.parametrize(
    "body",
    [
        {"folder": "\x00"},
        {"folder": "x" * 4000},
        {"folder": ""},
        {"folder": "/tmp", "backgrund": True},
        {"folder": 12},
    ],
)
def test_api_recommend_bad_input_is_never_a_500(body, no_clip_weights):
    r = api_client(no_clip_weights).post(f"{API}/recommend", json=body)
    assert r.status_code in (400, 422), (body, r.status_code, r.text)
    assert not longwork.is_running(RECOMMEND_KEY)


def test_a_recommendation_leaves_no_clip_model_behind(photo_dir, tmp_path, monkeypatch):
    """The recommendation loads the configured CLIP (tiny weights in OpenAI's layout where the
    settings point) for its job only: after it, nothing refers to the model any more."""
    import gc
    import weakref

    from tests.scores.clip_weights import save_tiny_openai_clip

    save_tiny_openai_clip(tmp_path / "clip")
    monkeypatch.setattr(clip_loader, "default_cache_dirs", lambda: [str(tmp_path / "empty")])
    clip_loader.forget_kept()
    models: list[weakref.ref] = []
    real = clip_loader.load_clip

    def load_clip(*a, **k):
        embedder = real(*a, **k)
        models.append(weakref.ref(embedder.model))
        return embedder

    monkeypatch.setattr(clip_loader, "load_clip", load_clip)
    settings = {"textinv_clip_model": "ViT-B-32", "textinv_clip_device": "cpu"}
    host = StandaloneHost(settings={**settings, "textinv_clip_cache_dir": str(tmp_path / "clip")})
    c = api_client(host)
    for background in (False, True):
        r = c.post(f"{API}/recommend", json={"folder": str(photo_dir), "background": background})
        assert r.status_code == 200, r.text
        body = wait_job(c, r.json()["job_id"])["result"] if background else r.json()
        assert body["diversity"] is not None and body["clip_unavailable"] is None, body
    gc.collect()
    assert len(models) == 2 and [m() for m in models] == [None, None]  # loaded per job, then freed
    assert clip_loader._cache == {}


def test_delete_job_stops_a_recommendation(photo_dir, monkeypatch):
    held = HeldClip()
    monkeypatch.setattr(folder_advice, "_default_loader", held.loader)  # CLIP without weights files
    c = api_client(StandaloneHost())
    started = c.post(f"{API}/recommend", json={"folder": str(photo_dir), "background": True})
    assert started.status_code == 200, started.text
    job_id = started.json()["job_id"]
    try:
        assert held.holding.wait(HOLD_SECONDS), "the recommendation never reached its second batch"
        running = c.get(f"{API}/jobs/{job_id}").json()
        assert running["status"] == "running" and running["done"] == 1 and running["total"] == 4
        assert running["eta_seconds"] > 0  # progress with an ETA while it runs
        again = c.post(f"{API}/recommend", json={"folder": str(photo_dir), "background": True})
        assert again.status_code == 409, again.text
        assert c.delete(f"{API}/jobs/{job_id}").status_code == 200
    finally:
        held.release.set()
    job = wait_job(c, job_id)
    assert job["status"] == "interrupted" and held.batches == 2, job
