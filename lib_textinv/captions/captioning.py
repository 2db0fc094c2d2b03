"""Batched captioning of a folder: images go to the caption model a batch at a time, each batch's
captions are written as soon as it is done (a Stop keeps them), and one bad image is reported
without stopping the rest.

The model is the host's (``Host.captioner``: BLIP / DeepBooru inside the webui); this module only
needs the contract's ``CaptionModel``, so it is tested with a fake and benchmarked with a stand-in.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from lib_textinv.captions import files as capfiles
from lib_textinv.captions.folder import captions_folder
from lib_textinv.dataset.reasons import reason_for
from lib_textinv.dataset.scan import list_images
from lib_textinv.kit.files import resolve_existing_dir
from lib_textinv.kit.host import CaptionModel, Host
from lib_textinv.kit.images import ImageRefused, load_rgb
from lib_textinv.kit.progress import Cancelled, Progress

logger = logging.getLogger(__name__)

SOURCES = ("blip", "deepbooru", "both")
DEFAULT_BATCH_SIZE = 8
MAX_BATCH_SIZE = 64
# BLIP looks at 384 px; let JPEG decoding scale down in the DCT but stay well above that.
DECODE_AT_LEAST = (768, 768)
Loaded = tuple[Path, Any, "str | None"]  # (image, decoded picture or None, why it could not be read)


@dataclass
class CaptionRun:
    """What a captioning run did, by image file name."""

    written: list[str] = field(default_factory=list)
    appended: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    captions: dict[str, str] = field(default_factory=dict)  # name → caption now in the file
    interrupted: bool = False
    total: int = 0

    def summary(self) -> str:
        parts = [f"{len(self.written)} written"]
        if self.appended:
            parts.append(f"{len(self.appended)} appended")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped (already captioned)")
        if self.unchanged:
            parts.append(f"{len(self.unchanged)} unchanged")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        text = ", ".join(parts)
        if self.interrupted:
            text = "interrupted — the captions written so far are kept: " + text
        lines = [text] + [f"  {name}: {why}" for name, why in self.failed]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "written": self.written,
            "appended": self.appended,
            "skipped": self.skipped,
            "unchanged": self.unchanged,
            "failed": [{"file": n, "reason": r} for n, r in self.failed],
            "interrupted": self.interrupted,
            "total": self.total,
        }


def _load(path: Path) -> Loaded:
    try:
        return path, load_rgb(path, draft=DECODE_AT_LEAST), None
    except (ImageRefused, OSError, ValueError, SyntaxError, EOFError) as e:  # reported, batch goes on
        return path, None, reason_for(e, path).message


def _load_batch(paths: list[Path]) -> list[Loaded]:
    return [_load(p) for p in paths]


def _batches(items: Sequence[Path], size: int) -> Iterator[list[Path]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def _run_model(fn: Callable[[list[Any]], list[str]], images: list[Any]) -> list[str | Exception]:
    """One call for the whole batch; if it fails, image by image so a single bad image only
    costs its own caption. Each entry is a caption or the exception for that image."""
    try:
        out: list[str | Exception] = list(fn(images))
        if len(out) != len(images):
            raise RuntimeError(f"the model returned {len(out)} captions for {len(images)} images")
        return out
    except Exception as e:  # noqa: BLE001 — any model error: isolate the image that causes it
        if len(images) == 1:
            return [e]
        logger.warning("batch of %d failed (%s); retrying one image at a time", len(images), e)
    results: list[str | Exception] = []
    for im in images:
        try:
            one = list(fn([im]))
            results.append(one[0] if len(one) == 1 else RuntimeError(f"{len(one)} captions for 1 image"))
        except Exception as e:  # noqa: BLE001 — reported for this image only, the rest go on
            results.append(e)
    return results


def _combine(parts: Sequence[str | Exception | None]) -> str | Exception:
    """Join the sources' outputs (DeepBooru tags first, then BLIP, like the webui's Extras)."""
    texts: list[str] = []
    for p in parts:
        if isinstance(p, Exception):
            return p
        if p and p.strip():
            texts.append(p.strip())
    return ", ".join(texts)


def check_request(mode: str, source: str) -> None:
    if mode not in capfiles.MODES:
        raise ValueError(f"unknown mode {mode!r}: choose one of {', '.join(capfiles.MODES)}")
    if source not in SOURCES:
        raise ValueError(f"unknown caption source {source!r}: choose one of {', '.join(SOURCES)}")


def _select(paths: list[Path], mode: str, run: CaptionRun) -> list[Path]:
    """The images to caption; the rest recorded in ``run`` (skipped, or sharing a caption file:
    ``a.jpg`` + ``a.png`` both read ``a.txt``, so only the first is captioned)."""
    shared = capfiles.shared_caption_files(paths)
    todo: list[Path] = []
    for p in paths:
        group = shared.get(capfiles.caption_path(p))
        if group and group[0] != p:
            why = f"shares {capfiles.caption_path(p).name} with {group[0].name}; rename one of them"
            run.failed.append((p.name, why))
        elif mode == "skip" and capfiles.has_caption(p):
            run.skipped.append(p.name)
            run.captions[p.name] = capfiles.read_caption(p) or ""
        else:
            todo.append(p)
    return todo


def caption_images(
    images: Sequence[str | os.PathLike],
    model: CaptionModel,
    *,
    mode: str = "skip",
    batch_size: int = DEFAULT_BATCH_SIZE,
    source: str = "blip",
    progress: Progress | None = None,
) -> CaptionRun:
    """Caption ``images`` in batches and write ``<stem>.txt`` beside each as each batch finishes.

    ``source``: ``blip`` (``model.caption_batch``), ``deepbooru`` (``model.tag_batch``) or
    ``both``. ``mode``: ``skip`` (images with a caption are not even loaded), ``overwrite``,
    ``append``. A Stop ends the run when the model call in progress returns (one image when the
    batch size is 1): every caption file written before it is kept, none is written after it.
    """
    check_request(mode, source)
    batch_size = max(1, min(MAX_BATCH_SIZE, int(batch_size)))
    progress = progress or Progress()
    run = CaptionRun()
    todo = _select([Path(p) for p in images], mode, run)
    run.total = len(todo)
    progress.begin(len(todo), "captioning")
    batches = list(_batches(todo, batch_size))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="textinv-caption-load") as pool:
        # Decode the next batch while the model works on this one.
        def prefetch(i: int) -> Future[list[Loaded]] | None:
            return pool.submit(_load_batch, batches[i]) if i < len(batches) else None

        pending = prefetch(0)
        try:
            for i in range(len(batches)):
                progress.check()
                loaded = pending.result() if pending is not None else []
                pending = prefetch(i + 1)
                _caption_one_batch(loaded, model, source, mode, run, progress)
                progress.step(len(loaded), text=f"captioned {progress.done + len(loaded)}/{progress.total}")
        except Cancelled:
            run.interrupted = True
        finally:
            if pending is not None:
                pending.cancel()
    run.interrupted = run.interrupted or progress.cancelled
    return run


def _caption_one_batch(
    loaded: list[Loaded], model: CaptionModel, source: str, mode: str, run: CaptionRun, progress: Progress
) -> None:
    good = [(p, im) for p, im, err in loaded if err is None]
    for p, _im, err in loaded:
        if err is not None:
            run.failed.append((p.name, err))
    if not good:
        return
    ims = [im for _p, im in good]
    none: list[str | Exception | None] = [None] * len(ims)
    tagged = _run_model(model.tag_batch, ims) if source in ("deepbooru", "both") else none
    if source == "both":
        progress.check()  # a Stop between the two models: the second is not even started
    blipped = _run_model(model.caption_batch, ims) if source in ("blip", "both") else none
    for _p, im in good:
        im.close()
    for (p, _im), t, b in zip(good, tagged, blipped, strict=True):
        progress.check()  # after a Stop no further caption file is written, not even this batch's
        _write_one(p, _combine([t, b]), mode, run)


def _write_one(image: Path, text: str | Exception, mode: str, run: CaptionRun) -> None:
    if isinstance(text, Exception):
        run.failed.append((image.name, f"the caption model failed: {type(text).__name__}: {text}"))
        return
    if not text:
        run.failed.append((image.name, "the caption model returned an empty caption"))
        return
    try:
        res = capfiles.write_caption(image, text, cast(capfiles.CaptionMode, mode))  # checked: check_request
    except OSError as e:
        run.failed.append((image.name, f"cannot write {capfiles.caption_path(image).name}: {e}"))
        return
    outcome = {"written": run.written, "appended": run.appended, "skipped": run.skipped}
    outcome.get(res.action, run.unchanged).append(image.name)
    run.captions[image.name] = res.text


def folder_images(folder: str | os.PathLike) -> list[Path]:
    """The images directly in ``folder`` (the prepared folder the trainer reads); ValueError when
    the folder is unusable or holds none."""
    images = list_images(resolve_existing_dir(folder))
    if not images:
        raise ValueError(f"no images in {folder}")
    return images


def caption_folder(folder: str | os.PathLike, model: CaptionModel, **kwargs: Any) -> CaptionRun:
    """Caption the images directly in ``folder`` with a loaded ``model``."""
    return caption_images(folder_images(folder), model, **kwargs)


def captioning_job(
    host: Host,
    folder: str | os.PathLike,
    *,
    source: str = "blip",
    mode: str = "skip",
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Callable[[Progress], CaptionRun]:
    """Check a request now (``Unavailable`` outside the webui or without DeepBooru, ``ValueError``
    for a bad mode/source or a folder without images), before any model loads; returns the work:
    load the host's model once, caption, release it."""
    host.require("caption")
    if source in ("deepbooru", "both"):
        host.require("deepbooru")
    check_request(mode, source)
    images = folder_images(captions_folder(host, folder))

    def work(progress: Progress) -> CaptionRun:
        with host.captioner(source) as model:
            return caption_images(
                images, model, mode=mode, batch_size=batch_size, source=source, progress=progress
            )

    return work
