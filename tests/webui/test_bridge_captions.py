"""The captioning part of the host bridge (BLIP in batches, DeepBooru tags, release on exit)
against the contract double of the webui's modules."""

from __future__ import annotations

import sys

import pytest
from PIL import Image

from lib_textinv.kit.host import Unavailable


@pytest.fixture
def deepbooru(webui):
    from modules import deepbooru

    return deepbooru.model


def _images():
    return [Image.new("RGB", (50, 40), (v, v, v)) for v in (0, 128, 255)] + [Image.new("L", (20, 30), 255)]


def test_blip_captions_one_batch_with_the_webuis_settings(host, webui, deepbooru):
    import torch

    opts, it = webui.shared.opts, webui.shared.interrogator
    opts.interrogate_clip_num_beams, opts.interrogate_clip_min_length, opts.interrogate_clip_max_length = (
        3,
        5,
        20,
    )
    with host.captioner("blip") as model:
        assert it.loads == 1 and it.unloads == 0
        captions = model.caption_batch(_images())
    assert it.unloads == 1 and deepbooru.starts == 0
    (call,) = it.blip_model.calls
    assert call == (
        (4, 3, 384, 384),
        torch.float32,
        {"sample": False, "num_beams": 3, "min_length": 5, "max_length": 20},
    )
    # the webui's BLIP transform: resize, to tensor, CLIP normalisation (black < grey < white)
    values = [float(c.rsplit(" ", 1)[1]) for c in captions]
    assert len(captions) == 4 and values[0] < values[1] < values[2] == pytest.approx(values[3])


def test_both_sources_are_released_even_when_the_work_fails(host, webui, deepbooru):
    it = webui.shared.interrogator
    with pytest.raises(RuntimeError, match="disk full"):
        with host.captioner("both") as model:
            tagged = model.tag_batch(
                [Image.new("RGB", (8, 8), (0, 200, 0)), Image.new("RGB", (8, 8), (200, 0, 0))]
            )
            assert tagged == ["no humans, green theme", "no humans, red theme"]
            raise RuntimeError("disk full")
    assert (it.loads, it.unloads, deepbooru.starts, deepbooru.stops) == (1, 1, 1, 1)


def test_run_captioning_through_the_bridge_writes_caption_files(host, webui, photo_dir):
    from lib_textinv.captions.captioning import captioning_job
    from lib_textinv.kit.progress import Progress

    run = captioning_job(host, photo_dir, source="blip", batch_size=3)(Progress())
    photos = sorted(p for p in photo_dir.iterdir() if p.suffix.lower() != ".txt")
    assert sorted(run.written) == sorted(p.name for p in photos)
    for p in photos:
        assert p.with_suffix(".txt").read_text().startswith("a picture with brightness")
    it = webui.shared.interrogator
    assert [c[0][0] for c in it.blip_model.calls] == [3, 1]  # batches of 3
    assert (it.loads, it.unloads) == (1, 1)


def test_without_deepbooru_the_feature_is_off_and_nothing_loads(host, webui, photo_dir, monkeypatch):
    from lib_textinv.captions.captioning import captioning_job
    from lib_textinv.kit.progress import Progress

    monkeypatch.setitem(sys.modules, "modules.deepbooru", None)  # a webui without modules/deepbooru.py
    assert host.feature("deepbooru") == (False, "DeepBooru is not part of this webui")
    with pytest.raises(Unavailable, match="DeepBooru"):
        captioning_job(host, photo_dir, source="both")(Progress())
    assert webui.shared.interrogator.loads == 0
    # the bridge's captioner does not check on its own: callers ask feature()/require() first
    with pytest.raises(ImportError), host.captioner("deepbooru"):
        pass


def test_unknown_source_is_refused_by_the_caption_run(host, webui, photo_dir):
    from lib_textinv.captions.captioning import captioning_job
    from lib_textinv.kit.progress import Progress

    with pytest.raises(ValueError, match="unknown caption source"):
        captioning_job(host, photo_dir, source="clip")(Progress())
    assert not list(photo_dir.glob("*.txt"))


def test_blip_is_released_when_deepbooru_fails_to_start(host, webui, deepbooru, monkeypatch):
    def offline():
        raise OSError("could not download model-resnet_custom_v3.pt")

    monkeypatch.setattr(deepbooru, "start", offline)
    it = webui.shared.interrogator
    with pytest.raises(OSError, match="download"), host.captioner("both"):
        pass
    assert it.unloads == it.loads == 1
