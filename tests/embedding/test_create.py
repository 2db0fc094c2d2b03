"""Create flow against a fake webui that behaves like v1.10.1's embedding database (file stem =
token, reload only on a newer folder mtime unless forced, sanitised names), plus the UI handlers,
the section build and the HTTP routes."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from lib_textinv.embedding.create import create
from lib_textinv.embedding.init_text import ClipBpeCounter
from lib_textinv.embedding.names import webui_sanitise
from lib_textinv.kit.embedding_file import load_embedding
from lib_textinv.kit.host import BaseHost, EmbeddingInfo, HostPaths, ModelFacts, Unavailable
from tests.embfiles import write_pt


class FakeWebui(BaseHost):
    """The operations create.py needs, with the webui's semantics (webui-api.md §3.4, §3.5, §3.17)."""

    def __init__(self, emb_dir: Path, family: str = "SD1", width: int = 768) -> None:
        super().__init__(kind="fake-webui")
        self.emb_dir = emb_dir
        emb_dir.mkdir(parents=True, exist_ok=True)
        self.family, self.width = family, width
        self.db: dict[str, EmbeddingInfo] = {}
        self.dir_mtime = -1.0
        self.lock = threading.Lock()  # stands in for queue_lock
        self.calls: list[tuple] = []
        self._bpe = ClipBpeCounter()

    # facts
    def paths(self) -> HostPaths:
        return HostPaths(embeddings_dir=str(self.emb_dir))

    def model_facts(self) -> ModelFacts:
        return ModelFacts(
            loaded=True,
            family=self.family,
            embedding_width=self.width,
            trainable=self.family in ("SD1", "SD2"),
            reason="" if self.family != "SDXL" else "SDXL",
        )

    def feature(self, name):
        return True, ""

    def embeddings(self):
        return sorted(self.db.values(), key=lambda e: e.name.lower())

    def count_tokens(self, text):
        return self._bpe.count_tokens(text)

    def run_job(self, title, fn, progress=None):
        with self.lock:
            self.calls.append(("job", title))
            return super().run_job(title, fn, progress)

    # operations
    def create_embedding(self, name, nvpt, init_text, overwrite):
        import torch

        assert self.lock.locked(), "create_embedding outside the queue lock"
        if self.family == "SDXL":
            raise TypeError("'list' object has no attribute 'items'")  # what sgm's conditioner does
        self.calls.append(("create", name, nvpt, init_text, overwrite))
        name = webui_sanitise(name)
        fn = self.emb_dir / f"{name}.pt"
        if not overwrite:
            assert not fn.exists(), f"file {fn} already exists"
        torch.manual_seed(len(init_text))
        write_pt(fn, torch.randn(nvpt, self.width), name=name, step=0)
        return str(fn)

    def reload_embeddings(self, force):
        assert self.lock.locked(), "reload outside the queue lock"
        self.calls.append(("reload", force))
        mtime = os.path.getmtime(self.emb_dir)
        if not force and mtime <= self.dir_mtime:
            return
        self.dir_mtime = mtime
        self.db.clear()
        for root, _dirs, files in os.walk(self.emb_dir):
            for f in files:
                p = Path(root) / f
                if p.suffix in (".pt", ".safetensors"):
                    data = load_embedding(p)
                    vec = data.vectors
                    ok = vec.shape[1] == self.width
                    self.db[p.stem] = EmbeddingInfo(p.stem, str(p), vec.shape[0], vec.shape[1], data.step, ok)


@pytest.fixture
def webui(tmp_path):
    host = FakeWebui(tmp_path / "embeddings")
    with host.lock:
        host.reload_embeddings(True)
    return host


def test_create_makes_it_usable_at_once(webui):
    r = create(
        webui,
        "zq-charcoal",
        3,
        "charcoal drawing",
        model=webui.model_facts(),
        embeddings_dir=webui.paths().embeddings_dir,
    )
    assert r.ok, r.errors
    assert r.path == str(webui.emb_dir / "zq-charcoal.pt") and Path(r.path).is_file()
    assert (r.vectors, r.width) == (3, 768)
    names = {e.name: e for e in webui.embeddings()}
    assert names["zq-charcoal"].vectors == 3  # listed without any reload by the test
    kinds = [c[0] for c in webui.calls]
    assert kinds[-3:] == ["job", "create", "reload"] and webui.calls[-1] == ("reload", True)
    assert "usable now" in r.message and "no restart" in r.message
    assert load_embedding(r.path).vectors.shape == (3, 768)


def test_overwrite_in_place_is_seen_thanks_to_the_forced_reload(webui):
    assert create(webui, "zq-subject", 2, "dog").ok
    mtime = os.path.getmtime(webui.emb_dir)
    r = create(webui, "zq-subject", 5, "dog", overwrite=True)
    assert r.ok, r.errors
    assert os.path.getmtime(webui.emb_dir) == mtime  # in-place: a plain reload would have missed it
    assert {e.name: e.vectors for e in webui.embeddings()}["zq-subject"] == 5
    assert any("will be replaced" in w for w in r.warnings)


def test_existing_name_without_overwrite_is_refused_before_the_webui(webui):
    assert create(webui, "zq-subject", 2, "dog").ok
    before = list(webui.calls)
    r = create(webui, "zq-subject", 4, "dog")
    assert not r.ok and r.conflict
    assert "already exists" in r.message
    assert webui.calls == before  # nothing created, nothing reloaded


def test_bad_name_and_vector_count(webui):
    r = create(webui, "../escape", 0, "x")
    assert not r.ok
    assert any("path separator" in e for e in r.errors)
    assert any("from 1 to 75" in e for e in r.errors)
    assert not any(webui.emb_dir.parent.glob("escape*"))


def test_sdxl_refused_in_words(webui):
    webui.family = "SDXL"
    r = create(webui, "zq-xl", 2, "x", model=webui.model_facts())
    assert not r.ok and "SDXL" in r.message and "cannot create or train" in r.message
    assert not any(c[0] == "create" for c in webui.calls)


def test_sdxl_typeerror_from_the_webui_is_reported(webui):
    webui.family = "SDXL"
    r = create(webui, "zq-xl", 2, "x")  # no model facts: the webui's own TypeError comes back
    assert not r.ok and "TypeError" in r.message


def test_warnings_for_init_text_and_many_vectors(webui):
    r = create(webui, "zq-long", 12, "a very long initialization text with many words")
    assert r.ok
    assert any("first 12 tokens" not in w and "leave only 63" in w for w in r.warnings)
    r2 = create(webui, "zq-two", 2, "charcoal drawing of a cat")
    assert any("first 2" in w for w in r2.warnings)
    r3 = create(webui, "zq-zero", 2, "")
    assert r3.ok and any("start at zero" in w for w in r3.warnings)


def test_case_twin_warns_but_creates(webui):
    assert create(webui, "zqstyle", 2, "x").ok
    r = create(webui, "ZQstyle", 2, "x")
    assert r.ok and any("differs only in case" in w for w in r.warnings)


def test_file_written_but_not_loaded_is_an_error(webui):
    webui.width = 1024  # the database now expects SD2 vectors, but the fake writes 1024 too...
    original = webui.create_embedding

    def wrong_width(name, nvpt, init_text, overwrite):
        import torch

        p = original(name, nvpt, init_text, overwrite)
        write_pt(Path(p), torch.zeros(nvpt, 768), name=name)
        return p

    webui.create_embedding = wrong_width
    r = create(webui, "zq-wrong", 2, "x")
    assert not r.ok and "did not load it" in r.message and "skipped" in r.message


def test_unavailable_host_operation(webui):
    def refuse(*a):
        raise Unavailable("no model is loaded")

    webui.create_embedding = refuse
    r = create(webui, "zq-none", 2, "x")
    assert not r.ok and "no model is loaded" in r.message


# -- UI handlers and build ------------------------------------------------------------------------------


def test_ui_handlers(webui, tmp_path):
    from lib_textinv.embedding import section as ui_embedding

    msg, new_name, result = ui_embedding.do_create(webui, "zq-ui", 3, "charcoal", False)
    assert result.ok and new_name == "zq-ui" and "Created" in msg
    msg2, new2, _ = ui_embedding.do_create(webui, "zq-ui", 3, "charcoal", False)
    assert new2 is None and "already exists" in msg2
    assert "good name" in ui_embedding.name_check_text(webui, "zq-fresh", False)
    assert "already exists" in ui_embedding.name_check_text(webui, "zq-ui", False)
    assert ui_embedding.name_check_text(webui, "", False) == ""
    assert "2 tokens" in ui_embedding.init_tokens_text(webui, "charcoal drawing", 2)
    assert "first 1" in ui_embedding.init_tokens_text(webui, "charcoal drawing", 1)


def test_ui_create_refused_in_standalone(tmp_path):
    from lib_textinv.embedding import section as ui_embedding
    from lib_textinv.kit.host import StandaloneHost

    msg, new_name, result = ui_embedding.do_create(StandaloneHost(), "zq", 2, "*", False)
    assert not result.ok and new_name is None and "needs the webui" in msg


def test_ui_recommend_handler(photo_dir):
    from lib_textinv.embedding import section as ui_embedding
    from lib_textinv.kit.host import StandaloneHost
    from tests.tinyclip import tiny_clip

    tiny = tiny_clip(0)
    for p, subject in zip(sorted(photo_dir.iterdir()), ("man", "cat", "cup", "rocket"), strict=True):
        p.with_suffix(".txt").write_text(f"a charcoal drawing of a {subject}")
    html_out, variety, vectors, text, note = ui_embedding.do_recommend(
        StandaloneHost(), str(photo_dir), loader=lambda h: (tiny, 8)
    )
    assert vectors == 2 and "Recommended: 2 vectors" in html_out and 'data-range="2-3"' in html_out
    assert "4 images" in variety
    assert text == "charcoal drawing" and "2 tokens" in note


def test_build_inside_blocks(webui):
    import gradio as gr

    from lib_textinv.embedding import section as ui_embedding
    from lib_textinv.kit.tab_context import TabContext

    with gr.Blocks():
        ctx = TabContext(
            host=webui,
            source_folder=gr.Textbox(),
            prepared_folder=gr.Textbox(),
            embedding_name=gr.Textbox(),
            run_folder=gr.Textbox(),
        )
        ui_embedding.build(ctx)
    from lib_textinv.kit.host import StandaloneHost

    with gr.Blocks():
        ui_embedding.build(TabContext(host=StandaloneHost()))


# -- HTTP API -------------------------------------------------------------------------------------------


def client_for(host):
    from fastapi import APIRouter, FastAPI
    from fastapi.testclient import TestClient

    from lib_textinv.embedding import routes as api_embedding

    router = APIRouter()
    api_embedding.add_routes(router, host)
    app = FastAPI()
    app.include_router(router, prefix="/textinv/v1")
    return TestClient(app)


def test_api_create(webui):
    c = client_for(webui)
    r = c.post("/textinv/v1/embeddings", json={"name": "zq-api", "vectors": 4, "init_text": "brick wall"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] and body["vectors"] == 4 and body["path"].endswith("zq-api.pt")
    again = c.post("/textinv/v1/embeddings", json={"name": "zq-api", "vectors": 4})
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    over = c.post("/textinv/v1/embeddings", json={"name": "zq-api", "vectors": 6, "overwrite": True})
    assert over.status_code == 200 and over.json()["vectors"] == 6
    bad = c.post("/textinv/v1/embeddings", json={"name": "a/b", "vectors": 2})
    assert bad.status_code == 400 and "path separator" in bad.json()["detail"]
    assert c.post("/textinv/v1/embeddings", json={"name": "x", "vectors": 0}).status_code == 422
    assert c.post("/textinv/v1/embeddings", json={"name": "x", "vectors": 76}).status_code == 422


def test_api_create_unavailable_standalone():
    from lib_textinv.kit.host import StandaloneHost

    r = client_for(StandaloneHost()).post("/textinv/v1/embeddings", json={"name": "zq", "vectors": 2})
    assert r.status_code == 503 and "needs the webui" in r.json()["detail"]


def test_api_recommend(photo_dir, monkeypatch, tmp_path):
    from lib_textinv.kit import clip_loader as clip_model
    from lib_textinv.kit.host import StandaloneHost

    monkeypatch.setattr(clip_model, "default_cache_dirs", lambda: [str(tmp_path / "empty")])
    host = StandaloneHost(settings={"textinv_clip_cache_dir": str(tmp_path / "empty")})
    c = client_for(host)
    r = c.post("/textinv/v1/recommend", json={"folder": str(photo_dir)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["vectors"] == 2 and body["range"] == "2-3" and body["images"] == 4
    assert body["diversity"] is None and "no download" in body["clip_unavailable"]
    assert "no download" in body["explanation"]
    missing = c.post("/textinv/v1/recommend", json={"folder": str(tmp_path / "nope")})
    assert missing.status_code == 400 and "folder not found" in missing.json()["detail"]
    job = c.post("/textinv/v1/recommend", json={"folder": str(photo_dir), "background": True})
    assert job.status_code == 200 and len(job.json()["job_id"]) == 12
