"""Batched captioning against a fake caption model: order, file mapping, failures, modes, cancel."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

from lib_textinv.captions import captioning
from lib_textinv.captions import files as cf
from lib_textinv.kit.host import BaseHost, Unavailable
from lib_textinv.kit.progress import Progress, RecordingProgress
from tests.photos import write_photos

NAMES = ("astronaut", "chelsea", "coffee", "rocket", "brick", "grass", "camera")


def signature(im) -> str:
    """A caption that depends only on the image's pixels (so a mix-up of order shows)."""
    small = im.resize((4, 4))
    r, g, b = (sum(ch) // 16 for ch in zip(*small.getdata(), strict=True))
    return f"{im.width}x{im.height} rgb {r} {g} {b}"


class FakeModel:
    """The contract's ``CaptionModel``: BLIP-like captions from the pixels, DeepBooru-like tags."""

    def __init__(self, fail_on: set[str] = frozenset()):
        self.calls: list[int] = []
        self.tag_calls: list[int] = []
        self.fail_on = fail_on

    def caption_batch(self, images):
        self.calls.append(len(images))
        out = []
        for im in images:
            sig = signature(im)
            if sig in self.fail_on:
                raise RuntimeError("CUDA error on this image")
            out.append(sig)
        return out

    def tag_batch(self, images):
        self.tag_calls.append(len(images))
        return [f"tag{im.width % 7}, photo" for im in images]


@pytest.fixture
def folder(tmp_path) -> Path:
    d = tmp_path / "prepared"
    write_photos(d, NAMES, size=(96, 80))
    return d


def expected_for(folder: Path) -> dict[str, str]:
    from lib_textinv.kit.images import load_rgb

    return {
        p.name: signature(load_rgb(p, draft=captioning.DECODE_AT_LEAST)) for p in sorted(folder.glob("*.jpg"))
    }


@pytest.mark.parametrize("batch", [1, 3, 16])
def test_batched_captions_land_next_to_their_images(folder, batch):
    expected = expected_for(folder)
    model = FakeModel()
    progress = RecordingProgress()
    run = captioning.caption_folder(folder, model, mode="overwrite", batch_size=batch, progress=progress)
    assert sorted(run.written) == sorted(expected)
    assert {p.name: cf.read_caption(p) for p in folder.glob("*.jpg")} == expected
    assert model.calls == [min(batch, len(NAMES) - i) for i in range(0, len(NAMES), batch)]
    assert progress.done == progress.total == len(NAMES)
    assert progress.events[-1][0] == len(NAMES)


def test_broken_image_in_the_middle_of_a_batch(folder):
    expected = expected_for(folder)
    # A file that is not an image at all, sorted into the middle of the first batch.
    (folder / "bz-broken.jpg").write_bytes(b"this is not a jpeg")
    (folder / "cb-truncated.jpg").write_bytes((folder / "chelsea.jpg").read_bytes()[:200])
    model = FakeModel()
    run = captioning.caption_folder(folder, model, mode="overwrite", batch_size=4)
    failed = dict(run.failed)
    assert set(failed) == {"bz-broken.jpg", "cb-truncated.jpg"}
    assert failed["bz-broken.jpg"] == "not an image: the content looks like text"
    assert failed["cb-truncated.jpg"].startswith("truncated: ")
    assert {n: cf.read_caption(folder / n) for n in run.written} == expected
    assert not (folder / "bz-broken.txt").exists()
    assert sum(model.calls) == len(NAMES)


def test_model_failure_on_one_image_isolated(folder):
    expected = expected_for(folder)
    bad = expected["coffee.jpg"]
    model = FakeModel(fail_on={bad})
    run = captioning.caption_folder(folder, model, mode="overwrite", batch_size=4)
    assert [n for n, _ in run.failed] == ["coffee.jpg"]
    assert "CUDA error" in run.failed[0][1]
    assert cf.read_caption(folder / "coffee.jpg") is None
    assert {n: cf.read_caption(folder / n) for n in run.written} == {
        k: v for k, v in expected.items() if k != "coffee.jpg"
    }


def test_skip_mode_does_not_load_captioned_images(folder):
    cf.write_caption(folder / "brick.jpg", "my brick", "overwrite")
    model = FakeModel()
    run = captioning.caption_folder(folder, model, mode="skip", batch_size=16)
    assert run.skipped == ["brick.jpg"]
    assert sum(model.calls) == len(NAMES) - 1
    assert cf.read_caption(folder / "brick.jpg") == "my brick"


def test_append_mode(folder):
    cf.write_caption(folder / "brick.jpg", "my brick", "overwrite")
    run = captioning.caption_folder(folder, FakeModel(), mode="append", batch_size=2)
    assert run.appended == ["brick.jpg"]
    assert cf.read_caption(folder / "brick.jpg").startswith("my brick, 96x80 rgb")


def test_deepbooru_tags_and_both(folder):
    model = FakeModel()
    captioning.caption_folder(folder, model, mode="overwrite", source="both", batch_size=8)
    assert cf.read_caption(folder / "grass.jpg").startswith("tag5, photo, 96x80 rgb")
    assert model.tag_calls == model.calls == [len(NAMES)]
    captioning.caption_folder(folder, model, mode="overwrite", source="deepbooru", batch_size=8)
    assert cf.read_caption(folder / "grass.jpg") == "tag5, photo"
    assert model.calls == [len(NAMES)]  # tags only: BLIP not asked again


def test_interrupt_keeps_captions_already_written(folder):
    progress = RecordingProgress(cancel_after=2)
    run = captioning.caption_folder(folder, FakeModel(), mode="overwrite", batch_size=2, progress=progress)
    assert run.interrupted
    assert len(run.written) == 2
    assert sorted(p.stem for p in folder.glob("*.txt")) == sorted(Path(n).stem for n in run.written)
    assert "interrupted" in run.summary()


def test_images_sharing_a_caption_file(tmp_path):
    d = tmp_path / "set"
    write_photos(d, ("astronaut",), size=(64, 64))
    write_photos(d, ("astronaut",), fmt="PNG", size=(64, 64))
    run = captioning.caption_folder(d, FakeModel(), mode="overwrite")
    assert run.written == ["astronaut.jpg"]
    assert run.failed[0][0] == "astronaut.png" and "shares astronaut.txt" in run.failed[0][1]


def test_wrong_number_of_captions_is_reported(folder):
    class Short(FakeModel):
        def caption_batch(self, images):
            return super().caption_batch(images)[:-1] if len(images) > 1 else []

    run = captioning.caption_folder(folder, Short(), mode="overwrite", batch_size=4)
    assert len(run.failed) == len(NAMES) and not run.written


def test_bad_arguments(folder, tmp_path):
    with pytest.raises(ValueError, match="unknown mode"):
        captioning.caption_folder(folder, FakeModel(), mode="merge")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        captioning.caption_folder(tmp_path / "empty", FakeModel())


class CaptionHost(BaseHost):
    def __init__(self, model):
        super().__init__(kind="test")
        self.model = model
        self.opened: list[str] = []
        self.closed = 0

    def feature(self, name):
        return (name == "caption"), f"{name}: not here"

    @contextmanager
    def captioner(self, source):
        self.opened.append(source)
        try:
            yield self.model
        finally:
            self.closed += 1


def test_run_captioning_loads_model_once_and_releases(folder):
    host = CaptionHost(FakeModel())
    run = captioning.captioning_job(host, folder, mode="overwrite", batch_size=3)(Progress())
    assert len(run.written) == len(NAMES)
    assert host.opened == ["blip"] and host.closed == 1
    with pytest.raises(Unavailable, match="deepbooru"):  # a host without DeepBooru: refused before loading
        captioning.captioning_job(host, folder, source="deepbooru")(Progress())
    with pytest.raises(Unavailable, match="standalone"):
        captioning.captioning_job(BaseHost(), folder)(Progress())
    with pytest.raises(ValueError, match="unknown mode"):
        captioning.captioning_job(host, folder, mode="merge")(Progress())
    assert host.opened == ["blip"] and host.closed == 1  # no model loaded for a refused request


class StoppingModel(FakeModel):
    """Presses Stop while its second batch is being captioned (as a user would mid-batch)."""

    def __init__(self, progress):
        super().__init__()
        self.progress = progress

    def caption_batch(self, images):
        if len(self.calls) == 1:
            self.progress.cancel()
        return super().caption_batch(images)


def test_stop_during_a_batch_keeps_earlier_captions_and_writes_no_more(folder):
    progress = RecordingProgress()
    run = captioning.caption_folder(
        folder, StoppingModel(progress), mode="overwrite", batch_size=3, progress=progress
    )
    assert run.interrupted
    assert len(run.written) == 3  # the first batch; the second was captioned after Stop: not written
    assert sorted(p.stem for p in folder.glob("*.txt")) == sorted(Path(n).stem for n in run.written)
    assert "interrupted" in run.summary()


def test_stop_between_deepbooru_and_blip_skips_blip(folder):
    progress = RecordingProgress()

    class StopAfterTags(FakeModel):
        def tag_batch(self, images):
            progress.cancel()
            return super().tag_batch(images)

    model = StopAfterTags()
    run = captioning.caption_folder(folder, model, mode="overwrite", source="both", progress=progress)
    assert run.interrupted and not run.written and model.calls == []
    assert not list(folder.glob("*.txt"))
