"""Crop export: every image of a source folder → one training-size file in a destination folder.

Per image (``resample.crop_to_target``): the box, cropped and resized in one step, upscaled by the
chosen upscaler when smaller than the target; written as PNG/JPEG/WebP (``formats``), with a
horizontally flipped copy and the caption ``.txt`` carried along when asked. Writes are atomic and
a unit's files are written only after all of them were encoded, so a Stop leaves no partial file
and keeps every file already written. ``crops.json`` records every box.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from lib_textinv.captions.files import caption_path
from lib_textinv.crop import box as crop_box
from lib_textinv.crop import formats, ledger
from lib_textinv.crop import sidecar as crop_sidecar
from lib_textinv.crop.focal import FocalWeights, analyse_file
from lib_textinv.crop.ledger import Kept
from lib_textinv.crop.plan import (
    check_destination,
    check_target,
    cpu_cores,
    default_destination,
    one_thread_each,
    output_stems,
    plan_entries,
)
from lib_textinv.crop.resample import crop_to_target
from lib_textinv.crop.sidecar import CropEntry, CropsRecord, Sidecar, WrittenFile, source_key
from lib_textinv.crop.upscalers import LOCAL_UPSCALER, LanczosUpscaler, check_name
from lib_textinv.dataset.reasons import reason_for
from lib_textinv.dataset.scan import list_images
from lib_textinv.dataset.upright import oriented_size
from lib_textinv.kit import files as fsio
from lib_textinv.kit.host import Upscaling
from lib_textinv.kit.images import Background
from lib_textinv.kit.progress import Progress

logger = logging.getLogger(__name__)

FLIP_SUFFIX = "-flip"


@dataclass(frozen=True)
class ExportOptions:
    format: str = formats.DEFAULT
    quality: int = 95  # JPEG/WebP
    flip: bool = False
    captions: bool = True
    upscaler: str = LOCAL_UPSCALER
    background: str = "#ffffff"  # alpha is composited on this colour
    overwrite_edited_captions: bool = False  # replace captions the user edited since the last export

    def validated(self) -> ExportOptions:
        fmt = formats.by_name(self.format).name
        q = int(self.quality)
        if not 1 <= q <= 100:
            raise ValueError(f"quality must be between 1 and 100, got {q}")
        Background.parse(self.background)
        return ExportOptions(
            fmt,
            q,
            bool(self.flip),
            bool(self.captions),
            str(self.upscaler or LOCAL_UPSCALER),
            str(self.background),
            bool(self.overwrite_edited_captions),
        )

    def as_dict(self) -> dict:
        return {
            "format": self.format,
            "quality": self.quality,
            "flip": self.flip,
            "captions": self.captions,
            "upscaler": self.upscaler,
            "background": self.background,
            "overwrite_edited_captions": self.overwrite_edited_captions,
        }


@dataclass
class ExportSummary:
    destination: str
    written: list[str] = field(default_factory=list)  # source names exported
    files: list[str] = field(default_factory=list)  # files written in the destination
    upscaled: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # stale outputs of an earlier export of this source
    kept: list[Kept] = field(default_factory=list)  # files left as they were (not ours, or changed)
    notes: list[str] = field(default_factory=list)
    interrupted: bool = False

    def as_dict(self) -> dict:
        return {
            "destination": self.destination,
            "written": self.written,
            "files": self.files,
            "upscaled": self.upscaled,
            "excluded": self.excluded,
            "failed": [{"name": n, "reason": r} for n, r in self.failed],
            "removed": self.removed,
            "kept": [{"name": k.name, "reason": k.reason} for k in self.kept],
            "notes": self.notes,
            "interrupted": self.interrupted,
        }


@dataclass(frozen=True)
class _Run:
    """What every image of one export shares."""

    dest: Path
    source: str  # sidecar.source_key of the source folder
    written: Mapping[str, WrittenFile]  # what earlier exports wrote here (crops.json)
    target: tuple[int, int]
    options: ExportOptions
    weights: FocalWeights
    upscaler: Upscaling
    sources: list[Path]
    progress: Progress
    upscale_lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _Unit:
    """The outcome of one source image (built in a worker, merged by the caller)."""

    name: str
    status: str  # written | kept | excluded | failed | skipped
    reason: str = ""
    upscaled: bool = False
    files: tuple[tuple[str, str], ...] = ()  # (name, sha256) of each file that now holds our output
    kept: tuple[Kept, ...] = ()


def _encode(path: Path, entry: CropEntry, stem: str, run: _Run) -> tuple[list[tuple[str, bytes]], bool]:
    """Every file this image becomes (name, bytes), and whether it was upscaled; nothing written."""
    background = Background.parse(run.options.background)
    size = entry.size or oriented_size(path)
    if entry.box is not None:
        entry.box = crop_box.clamp(entry.box, size[0], size[1], *run.target)
    auto = entry.auto
    if auto is None or not auto.inside(*size):
        auto = entry.auto = analyse_file(path, run.target[0], run.target[1], run.weights, background).box
    box = entry.box or auto
    image, upscaled = crop_to_target(
        path, box, size, run.target, run.upscaler, run.options.upscaler, background, run.upscale_lock
    )
    fmt = formats.by_name(run.options.format)
    files = [(stem + fmt.extension, fmt.encode(image, run.options.quality))]
    caption = caption_path(path)
    caption_bytes = caption.read_bytes() if run.options.captions and caption.is_file() else None
    if caption_bytes is not None:
        files.append((stem + ".txt", caption_bytes))
    if run.options.flip:
        flipped = fmt.encode(image.transpose(Image.FLIP_LEFT_RIGHT), run.options.quality)
        files.append((stem + FLIP_SUFFIX + fmt.extension, flipped))
        if caption_bytes is not None:
            files.append((stem + FLIP_SUFFIX + ".txt", caption_bytes))
    return files, upscaled


def _process(path: Path, entry: CropEntry, stem: str, run: _Run) -> _Unit:
    if run.progress.cancelled:
        return _Unit(path.name, "skipped")
    try:
        entry.size, entry.file_bytes = oriented_size(path), path.stat().st_size
        if entry.excluded:
            entry.outputs = ()
            return _Unit(path.name, "excluded")
        files, upscaled = _encode(path, entry, stem, run)
    except Exception as e:  # noqa: BLE001 - any decoder error of one bad file must not stop the batch; it is reported
        logger.warning("crop export: %s failed: %s", path, e)
        entry.outputs = ()
        return _Unit(path.name, "failed", reason=reason_for(e, path).message)
    for out_name, _ in files:
        if fsio.would_overwrite_source(run.dest / out_name, run.sources):
            return _Unit(path.name, "failed", reason=f"{out_name} would overwrite a source file")
    return _write_unit(path.name, files, upscaled, entry, run)


def _write_unit(
    name: str, files: list[tuple[str, bytes]], upscaled: bool, entry: CropEntry, run: _Run
) -> _Unit:
    """Write what ``crop.ledger`` allows; the rest is kept and said. The image file decides the
    unit's status: written (or already there), else kept."""
    overwrite = run.options.overwrite_edited_captions
    decisions = [(n, d, *ledger.decide(run.dest, n, d, run.source, run.written, overwrite)) for n, d in files]
    if run.progress.cancelled:  # encoded but not written: a Stop leaves nothing half done
        return _Unit(name, "skipped")
    ours, kept = [], []
    for out_name, data, decision, why in decisions:
        if decision is ledger.Decision.KEEP:
            kept.append(ledger.Kept(out_name, why))
            continue
        if decision is ledger.Decision.WRITE:
            fsio.atomic_write_bytes(run.dest / out_name, data)
        ours.append((out_name, ledger.sha256(data)))
    entry.outputs = tuple(n for n, _ in ours)
    image_kept = decisions[0][2] is ledger.Decision.KEEP
    return _Unit(name, "kept" if image_kept else "written", "", upscaled, tuple(ours), tuple(kept))


def _run_units(
    images: list[Path], entries: dict[str, CropEntry], run: _Run, workers: int
) -> dict[str, _Unit]:
    """Every image through ``_process`` on ``workers`` threads; once stopped, no new image starts."""
    stems = output_stems([p.name for p in images])
    units: dict[str, _Unit] = {}
    with one_thread_each(workers), ThreadPoolExecutor(workers, "textinv-crop") as ex:
        futures: list[Future[_Unit]] = [
            ex.submit(_process, p, entries[p.name], stems[p.name], run) for p in images
        ]
        for fut in as_completed(futures):
            if fut.cancelled():
                continue
            unit = fut.result()
            units[unit.name] = unit
            if unit.status != "skipped":
                run.progress.step(text=unit.name)
            if run.progress.cancelled:
                for f in futures:
                    f.cancel()
    return units


def _summarise(summary: ExportSummary, images: list[Path], units: dict[str, _Unit]) -> None:
    """Report in folder order, whatever order the workers finished in."""
    for p in images:
        unit = units.get(p.name)
        if unit is None or unit.status == "skipped":
            continue
        summary.files.extend(n for n, _ in unit.files)
        summary.kept.extend(unit.kept)
        if unit.status == "written":
            summary.written.append(p.name)
            if unit.upscaled:
                summary.upscaled.append(p.name)
        elif unit.status == "excluded":
            summary.excluded.append(p.name)
        elif unit.status == "failed":
            summary.failed.append((p.name, unit.reason))


def _ledger_after(record: CropsRecord | None, source: str, units: dict[str, _Unit]) -> dict[str, WrittenFile]:
    """Every file written here: the earlier record, with this export's files (re)recorded."""
    files = dict(record.files) if record else {}
    for unit in units.values():
        for name, digest in unit.files:
            prev = files.get(name)
            if prev is not None and prev.source != source and prev.sha256 == digest:
                continue  # the very bytes another source's export wrote: still theirs
            files[name] = WrittenFile(source, digest)
    return files


def export_folder(
    source: str | os.PathLike,
    target: tuple[int, int],
    dest: str | os.PathLike | None = None,
    boxes: dict | None = None,
    options: ExportOptions = ExportOptions(),
    weights: FocalWeights | None = None,
    progress: Progress | None = None,
    upscaler: Upscaling | None = None,
    workers: int | None = None,
) -> ExportSummary:
    """Export every image of ``source`` (``boxes``: name → {"box": [x, y, w, h], "excluded": bool};
    images without one use the sidecar's box, else Auto's). Raises ValueError/UnsafeDestination
    before writing anything when the request is unusable."""
    progress = progress or Progress()
    weights = weights or FocalWeights()
    target = check_target(*target)
    options = options.validated()
    upscaler = upscaler or LanczosUpscaler()
    check_name(options.upscaler, upscaler)
    src = fsio.resolve_existing_dir(source)
    images = list_images(src)
    dest_path = check_destination(src, Path(dest) if dest else default_destination(src, *target), images)
    record = crop_sidecar.load_for_export(dest_path)
    key = source_key(src)
    entries = plan_entries(images, target, boxes, record.for_source(src) if record else None)
    summary = ExportSummary(destination=str(dest_path))
    dest_path.mkdir(parents=True, exist_ok=True)

    progress.begin(len(images), f"Cropping {len(images)} images to {target[0]}×{target[1]}")
    written = record.files if record else {}
    run = _Run(dest_path, key, written, target, options, weights, upscaler, images, progress)
    units = _run_units(images, entries, run, workers or cpu_cores())
    _summarise(summary, images, units)
    summary.interrupted = progress.cancelled
    files = _ledger_after(record, key, units)
    if not summary.interrupted:
        produced = summary.files + [k.name for k in summary.kept]  # kept ones are not stale either
        summary.removed, stale_kept = ledger.remove_stale(dest_path, key, files, produced, images)
        summary.kept.extend(stale_kept)
        for name in summary.removed:
            del files[name]
    exports = dict(record.exports) if record else {}
    exports.pop(crop_sidecar.LEGACY_SOURCE, None)  # now recorded under its source
    exports[key] = Sidecar(
        target=target, options=options.as_dict(), weights=weights.as_dict(), images=entries
    )
    crop_sidecar.save(dest_path, CropsRecord(exports, files))
    return summary
