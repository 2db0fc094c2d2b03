"""Batched captioning of a folder: images go to the caption model a batch at a time, each batch's
captions are written as soon as it is done (an Interrupt keeps them), and one bad image is
reported without stopping the rest.

The model is the host's (BLIP / DeepBooru inside the webui); this module only needs the
``CaptionModel`` protocol below, so it is tested with a fake and benchmarked with a stand-in.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from lib_textinv.captions import files as capfiles
from lib_textinv.kit.host import Unavailable
from lib_textinv.kit.images import ImageRefused, load_rgb
from lib_textinv.kit.progress import Cancelled, Progress

logger = logging.getLogger(__name__)

SOURCES = ("blip", "deepbooru", "both")
DEFAULT_BATCH_SIZE = 8
MAX_BATCH_SIZE = 64
# BLIP looks at 384 px; let JPEG decoding scale down in the DCT but stay well above that.
DECODE_AT_LEAST = (768, 768)


@runtime_checkable
class CaptionModel(Protocol):
    """A loaded caption model. ``caption_batch`` returns one caption per image, in order
    (greedy BLIP: the same caption as one image at a time)."""

    def caption_batch(self, images: list[Any]) -> list[str]: ...


@runtime_checkable
class TagModel(Protocol):
    """Optional: DeepBooru-style tags, one ``"tag, tag"`` string per image."""

    def tag_batch(self, images: list[Any]) -> list[str]: ...


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


def _load(path: Path) -> tuple[Path, Any, str | None]:
    try:
        return path, load_rgb(path, draft=DECODE_AT_LEAST), None
    except (ImageRefused, OSError, ValueError) as e:  # broken/refused file: reported, batch goes on
        return path, None, f"cannot read the image: {e}"


def _batches(items: Sequence[Path], size: int) -> Iterator[list[Path]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def _run_model(fn, images: list[Any]) -> list[str | Exception]:
    """One call for the whole batch; if it fails, image by image so a single bad image only
    costs its own caption. Each entry is a caption or the exception for that image."""
    try:
        out = list(fn(images))
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


def _combine(parts: list[str | Exception | None]) -> str | Exception:
    """Join the sources' outputs (DeepBooru tags first, then BLIP, like the webui's Extras)."""
    for p in parts:
        if isinstance(p, Exception):
            return p
    return ", ".join(p.strip() for p in parts if p and p.strip())


def caption_images(
    images: Sequence[str | os.PathLike],
    model: Any,
    *,
    mode: str = "skip",
    batch_size: int = DEFAULT_BATCH_SIZE,
    source: str = "blip",
    progress: Progress | None = None,
) -> CaptionRun:
    """Caption ``images`` in batches and write ``<stem>.txt`` beside each as each batch finishes.

    ``source``: ``blip`` (``model.caption_batch``), ``deepbooru`` (``model.tag_batch``) or
    ``both``. ``mode``: ``skip`` (images with a caption are not even loaded), ``overwrite``,
    ``append``. Images sharing one caption file (``a.jpg`` + ``a.png``) are captioned once and
    the others reported. Interrupting keeps everything written so far.
    """
    if mode not in capfiles.MODES:
        raise ValueError(f"unknown mode {mode!r}: choose one of {', '.join(capfiles.MODES)}")
    if source not in SOURCES:
        raise ValueError(f"unknown caption source {source!r}: choose one of {', '.join(SOURCES)}")
    if source in ("deepbooru", "both") and not callable(getattr(model, "tag_batch", None)):
        raise Unavailable("DeepBooru tags are not available from this caption model")
    if source in ("blip", "both") and not callable(getattr(model, "caption_batch", None)):
        raise Unavailable("BLIP captions are not available from this caption model")
    batch_size = max(1, min(MAX_BATCH_SIZE, int(batch_size)))
    progress = progress or Progress()
    run = CaptionRun()

    paths = [Path(p) for p in images]
    shared = capfiles.shared_caption_files(paths)
    todo: list[Path] = []
    for p in paths:
        group = shared.get(capfiles.caption_path(p))
        if group and group[0] != p:
            run.failed.append(
                (p.name, f"shares {capfiles.caption_path(p).name} with {group[0].name}; rename one of them")
            )
        elif mode == "skip" and capfiles.has_caption(p):
            run.skipped.append(p.name)
            run.captions[p.name] = capfiles.read_caption(p) or ""
        else:
            todo.append(p)
    run.total = len(todo)
    progress.begin(len(todo), "captioning")

    batches = list(_batches(todo, batch_size))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="textinv-caption-load") as pool:
        # Decode the next batch while the model works on this one.
        pending: Future | None = pool.submit(lambda b=batches[0]: [_load(p) for p in b]) if batches else None
        try:
            for i in range(len(batches)):
                progress.check()
                loaded = pending.result() if pending is not None else []
                pending = (
                    pool.submit(lambda b=batches[i + 1]: [_load(p) for p in b])
                    if i + 1 < len(batches)
                    else None
                )
                _caption_one_batch(loaded, model, source, mode, run)
                progress.step(len(loaded), text=f"captioned {progress.done + len(loaded)}/{progress.total}")
        except Cancelled:
            run.interrupted = True
        finally:
            if pending is not None:
                pending.cancel()
    if progress.cancelled:
        run.interrupted = True
    return run


def _caption_one_batch(
    loaded: list[tuple[Path, Any, str | None]], model: Any, source: str, mode: str, run: CaptionRun
) -> None:
    good = [(p, im) for p, im, err in loaded if err is None]
    for p, _im, err in loaded:
        if err is not None:
            run.failed.append((p.name, err))
    if not good:
        return
    ims = [im for _p, im in good]
    tagged = _run_model(model.tag_batch, ims) if source in ("deepbooru", "both") else [None] * len(ims)
    blipped = _run_model(model.caption_batch, ims) if source in ("blip", "both") else [None] * len(ims)
    for (p, im), t, b in zip(good, tagged, blipped, strict=True):
        im.close()
        text = _combine([t, b])
        if isinstance(text, Exception):
            run.failed.append((p.name, f"the caption model failed: {type(text).__name__}: {text}"))
            continue
        if not text:
            run.failed.append((p.name, "the caption model returned an empty caption"))
            continue
        try:
            res = capfiles.write_caption(p, text, mode)  # type: ignore[arg-type]
        except OSError as e:
            run.failed.append((p.name, f"cannot write {capfiles.caption_path(p).name}: {e}"))
            continue
        {
            "written": run.written,
            "appended": run.appended,
            "skipped": run.skipped,
            "unchanged": run.unchanged,
        }[res.action].append(p.name)
        run.captions[p.name] = res.text


def caption_folder(folder: str | os.PathLike, model: Any, **kwargs) -> CaptionRun:
    """Caption the images directly in ``folder`` (the prepared folder the trainer reads)."""
    from lib_textinv.dataset.scan import list_images
    from lib_textinv.kit.files import resolve_existing_dir

    root = resolve_existing_dir(folder)
    images = list_images(root)
    if not images:
        raise ValueError(f"no images in {folder}")
    return caption_images(images, model, **kwargs)


class CaptionerHost(Protocol):
    """What the host must offer for captioning (implemented by the webui bridge)."""

    def feature(self, name: str) -> tuple[bool, str]: ...

    def captioner(self, source: str) -> AbstractContextManager[Any]:
        """Load the caption model(s) once for ``source`` (blip | deepbooru | both), yield an
        object with ``caption_batch``/``tag_batch``, release them on exit as the webui's
        "keep models in memory" setting says."""
        ...


def run_captioning(
    host: Any,
    folder: str | os.PathLike,
    *,
    source: str = "blip",
    mode: str = "skip",
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> CaptionRun:
    """Caption a folder with the host's model (raises ``Unavailable`` with the reason outside the
    webui or when DeepBooru is missing)."""
    host.require("caption")
    if source in ("deepbooru", "both"):
        host.require("deepbooru")
    opener = getattr(host, "captioner", None)
    if opener is None:
        raise Unavailable("this host has no caption model")
    from lib_textinv.dataset.scan import list_images
    from lib_textinv.kit.files import resolve_existing_dir

    images = list_images(resolve_existing_dir(folder))
    if not images:  # before loading any model
        raise ValueError(f"no images in {folder}")
    with opener(source) as model:
        return caption_images(
            images, model, mode=mode, batch_size=batch_size, source=source, progress=progress
        )
