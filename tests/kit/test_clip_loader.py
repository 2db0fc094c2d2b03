"""open_clip embedder: never downloads, finds weights already on disk, deterministic tiny model."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from lib_textinv.kit import clip_loader as clip_model
from lib_textinv.kit.clip_loader import find_cached_weights, load_clip
from lib_textinv.kit.host import BaseHost, Unavailable
from tests.photos import photo
from tests.scores.clip_weights import openai_style_tiny
from tests.tinyclip import tiny_clip


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """Any download attempt fails the test; the default caches (open_clip's and Hugging Face's) are
    empty folders, whatever this machine keeps in its own."""

    def refuse(*a, **k):
        raise AssertionError("tried to download")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(clip_model, "default_cache_dirs", lambda: [str(tmp_path / "empty-cache")])
    (tmp_path / "empty-hf").mkdir()
    monkeypatch.setattr(clip_model, "hf_cache_dir", lambda: str(tmp_path / "empty-hf"))


def test_missing_openai_weights_raise_unavailable_without_download(no_network, tmp_path):
    with pytest.raises(Unavailable) as e:
        load_clip("ViT-L-14", "openai", cache_dirs=[str(tmp_path / "webui-clip")])
    msg = str(e.value)
    assert "ViT-L-14/openai" in msg
    assert "not in the cache" in msg and "no download" in msg
    assert str(tmp_path / "webui-clip" / "ViT-L-14.pt") in msg


def test_unknown_tag_names_known_tags(no_network):
    with pytest.raises(Unavailable, match=r"known tags: .*openai"):
        load_clip("ViT-L-14", "no-such-tag")


def test_hf_hub_weights_found_in_a_local_hub_cache(no_network, tmp_path):
    repo = tmp_path / "hub" / "models--laion--CLIP-ViT-B-32-laion2B-s34B-b79K"
    snap = repo / "snapshots" / ("0" * 40)
    snap.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    weights = snap / "open_clip_pytorch_model.bin"
    weights.write_bytes(b"x")
    path, _ = find_cached_weights("ViT-B-32", "laion2b_s34b_b79k", [str(tmp_path / "hub")])
    assert path == str(weights)
    empty = tmp_path / "empty-hub"
    empty.mkdir()
    path2, where = find_cached_weights("ViT-B-32", "laion2b_s34b_b79k", [str(empty)])
    assert path2 is None  # the default HF cache is an empty folder here (no_network)
    assert "CLIP-ViT-B-32-laion2B-s34B-b79K" in where and str(empty) in where


def test_cached_openai_file_loads_offline_and_matches(no_network, tmp_path):
    """An OpenAI-format file where the webui's interrogator keeps ViT-L-14.pt loads without network."""
    import open_clip
    import torch

    model = openai_style_tiny()
    folder = tmp_path / "models" / "CLIP"
    folder.mkdir(parents=True)
    torch.save(model.state_dict(), folder / "ViT-L-14.pt")
    emb = load_clip("ViT-L-14", "openai", cache_dirs=[str(folder)])
    images = [photo("astronaut"), photo("coffee"), photo("camera", mode="L")]
    got = emb.embed_images(images, batch_size=2)
    assert got.shape == (3, 32) and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-5)
    pre = open_clip.image_transform(64, is_train=False)
    with torch.no_grad():
        ref = model.encode_image(
            torch.stack([pre(im.convert("RGB")) for im in images]), normalize=True
        ).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-4)
    texts = emb.embed_texts(["a photo of a cat", "brick wall"])
    assert texts.shape == (2, 32)
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, rtol=1e-5)


def test_tiny_clip_is_deterministic_and_normalised():
    a, b, c = tiny_clip(0), tiny_clip(0), tiny_clip(1)
    ims = [photo("chelsea"), photo("rocket")]
    ea, eb, ec = a.embed_images(ims), b.embed_images(ims), c.embed_images(ims)
    np.testing.assert_array_equal(ea, eb)
    assert not np.allclose(ea, ec)
    np.testing.assert_allclose(np.linalg.norm(ea, axis=1), 1.0, rtol=1e-5)
    assert a.embed_images([]).shape == (0, 32)
    t = a.embed_texts(["charcoal drawing"])
    assert t.shape == (1, 32)


def test_batch_size_does_not_change_results():
    emb = tiny_clip(3)
    ims = [photo(n) for n in ("astronaut", "chelsea", "coffee", "rocket", "brick")]
    np.testing.assert_allclose(
        emb.embed_images(ims, batch_size=1), emb.embed_images(ims, batch_size=16), atol=1e-5
    )


def test_clip_from_settings_reads_settings_and_caches(no_network, tmp_path):
    import torch

    from lib_textinv.kit.host import StandaloneHost

    folder = tmp_path / "clip"
    folder.mkdir()
    torch.save(openai_style_tiny().state_dict(), folder / "ViT-B-32.pt")
    host = StandaloneHost(
        settings={
            "textinv_clip_model": "ViT-B-32",
            "textinv_clip_pretrained": "openai",
            "textinv_clip_device": "cpu",
            "textinv_clip_batch_size": 3,
            "textinv_clip_cache_dir": str(folder),
        }
    )
    e1, batch = clip_model.clip_from_settings(host)
    e2, _ = clip_model.clip_from_settings(host)
    assert batch == 3 and e1 is e2 and e1.device == "cpu"
    host.settings["textinv_clip_cache_dir"] = str(tmp_path / "elsewhere")
    with pytest.raises(Unavailable, match="no download"):
        clip_model.clip_from_settings(host)


def test_corrupt_cached_file_is_unavailable_not_a_crash(no_network, tmp_path):
    (tmp_path / "ViT-L-14.pt").write_bytes(b"this is not a checkpoint")
    with pytest.raises(Unavailable, match="could not be loaded"):
        load_clip("ViT-L-14", "openai", cache_dirs=[str(tmp_path)])


class ClipFoldersHost(BaseHost):
    """A host keeping CLIP weights in a folder of its own (the webui's ``--clip-models-path``)."""

    def __init__(self, folder, settings):
        super().__init__(kind="test", settings=settings)
        self.folder = folder

    def clip_cache_dirs(self):
        if self.folder is None:
            raise Unavailable("no CLIP folder in this host")
        return [str(self.folder)]


def test_one_search_path_setting_then_host_then_open_clip(no_network, tmp_path):
    host = ClipFoldersHost(tmp_path / "models" / "CLIP", {"textinv_clip_cache_dir": str(tmp_path / "mine")})
    dirs = clip_model.search_dirs(host)
    assert dirs == [str(tmp_path / "mine"), str(tmp_path / "models" / "CLIP"), str(tmp_path / "empty-cache")]
    host.settings["textinv_clip_cache_dir"] = str(tmp_path / "models" / "CLIP")  # named twice: once
    assert clip_model.search_dirs(host) == [str(tmp_path / "models" / "CLIP"), str(tmp_path / "empty-cache")]
    host.folder = None  # a host that has none still gets the others
    assert clip_model.search_dirs(host) == [str(tmp_path / "models" / "CLIP"), str(tmp_path / "empty-cache")]


def test_weights_in_the_hosts_folder_are_found_and_loaded_once(no_network, tmp_path, monkeypatch):
    import torch

    folder = tmp_path / "models" / "CLIP"
    folder.mkdir(parents=True)
    torch.save(openai_style_tiny().state_dict(), folder / "ViT-B-32.pt")
    settings = {"textinv_clip_model": "ViT-B-32", "textinv_clip_device": "cpu"}
    loads = []
    real = clip_model.load_clip
    monkeypatch.setattr(clip_model, "load_clip", lambda *a, **k: loads.append(a) or real(*a, **k))
    e1, _ = clip_model.clip_from_settings(ClipFoldersHost(folder, settings))
    e2, batch = clip_model.clip_from_settings(ClipFoldersHost(folder, settings))
    assert e1 is e2 and len(loads) == 1 and batch == 16
    with pytest.raises(Unavailable, match=str(folder / "ViT-L-14.pt")):
        clip_model.clip_from_settings(ClipFoldersHost(folder, {**settings, "textinv_clip_model": "ViT-L-14"}))


def _tiny_weights_host(folder):
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    torch.save(openai_style_tiny().state_dict(), folder / "ViT-B-32.pt")
    settings = {"textinv_clip_model": "ViT-B-32", "textinv_clip_device": "cpu"}
    return ClipFoldersHost(folder, settings)


def test_a_job_releases_the_model_it_loaded(no_network, tmp_path, monkeypatch):
    """Even while the caller still holds the embedder, its model is gone after the job."""
    import gc
    import weakref

    host = _tiny_weights_host(tmp_path / "models" / "CLIP")
    clip_model.forget_kept()
    with clip_model.clip_for_job(host) as (embedder, batch):
        model = weakref.ref(embedder.model)
        assert embedder.embed_images([photo("coffee")]).shape == (1, 32) and batch == 16
    gc.collect()
    assert model() is None and clip_model._cache == {}
    with pytest.raises(RuntimeError, match="released at the end of its job"):
        embedder.embed_images([photo("coffee")])


def test_a_stopped_job_releases_its_model_although_its_exception_is_kept(no_network, tmp_path):
    """A job keeps the exception it ended with (``Job.exception``), and its traceback the frames
    that held the embedder: the model must not stay alive through them."""
    import gc
    import weakref

    from lib_textinv.kit.progress import Cancelled

    host = _tiny_weights_host(tmp_path / "models" / "CLIP")
    kept_error = None
    try:
        with clip_model.clip_for_job(host) as (embedder, _batch):
            model = weakref.ref(embedder.model)
            raise Cancelled()
    except Cancelled as e:
        kept_error = e
    gc.collect()
    assert kept_error.__traceback__ is not None and model() is None


def test_a_job_borrows_the_kept_model_and_leaves_it_kept(no_network, tmp_path, monkeypatch):
    host = _tiny_weights_host(tmp_path / "models" / "CLIP")
    kept, _ = clip_model.clip_from_settings(host)  # Scores keeps it for the next click
    loads = []
    real = clip_model.load_clip
    monkeypatch.setattr(clip_model, "load_clip", lambda *a, **k: loads.append(a) or real(*a, **k))
    with clip_model.clip_for_job(host) as (embedder, _batch):
        assert embedder is kept
    assert loads == [] and clip_model.clip_from_settings(host)[0] is kept
    assert kept.embed_images([photo("coffee")]).shape == (1, 32)  # lent, not dropped
    clip_model.forget_kept()
    assert clip_model._cache == {}


RSS_SCRIPT = """
import gc, os, sys
import torch
from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg
from lib_textinv.kit import clip_loader
from lib_textinv.kit.host import StandaloneHost
from tests.photos import photo
from tests.tinyclip import tiny_clip

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

folder = sys.argv[1]
model = CLIP(embed_dim=64, quick_gelu=True,
    vision_cfg=CLIPVisionCfg(layers=2, width=384, head_width=64, patch_size=16, image_size=64),
    text_cfg=CLIPTextCfg(context_length=77, vocab_size=49408, width=384, heads=6, layers=2))
size = sum(p.numel() * p.element_size() for p in model.parameters())
torch.save(model.state_dict(), os.path.join(folder, "ViT-B-32.pt"))
del model
host = StandaloneHost(settings={"textinv_clip_model": "ViT-B-32", "textinv_clip_device": "cpu",
                                "textinv_clip_cache_dir": folder})
images = [photo("coffee"), photo("rocket")]

def job():
    with clip_loader.clip_for_job(host) as (embedder, _):
        embedder.embed_images(images)
    gc.collect()

# one-time costs (imports, tokenizer, thread pools) are not the model's: paid with a tiny one first
tiny = tiny_clip(0)
tiny.embed_images(images)
del tiny
clip_loader.release_memory()
before = rss()
job()
job()
after_jobs = rss()
for _ in range(2):
    clip_loader.clip_from_settings(host)[0].embed_images(images)
    gc.collect()
print((after_jobs - before) / size, (rss() - after_jobs) / size)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="RSS read from /proc (Linux)")
def test_the_process_is_not_left_larger_after_a_job(tmp_path):
    """RSS measured in a fresh process around two jobs with a locally built CLIP (~80 MB of
    weights): a job hands its memory back (without the heap trim glibc kept about 0.7 model sizes
    here); the kept model (Scores) is what stays, which shows the measurement sees a model."""
    out = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
        check=True,
    )
    after_jobs, kept = map(float, out.stdout.split()[-2:])  # RSS growth in model sizes
    assert after_jobs < 0.3 and kept > 0.5, out.stdout
