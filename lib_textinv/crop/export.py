"""Crop export: every image of a source folder → one training-size file in a destination folder.

Per image: decode (a JPEG draft just big enough that the box still has at least the target's
pixels), apply EXIF orientation and colour conversion (``images.load_rgb``), crop the box and
resize it with Lanczos in one step; a box smaller than the target is upscaled by the host's
upscaler (default Lanczos, done here). Options: PNG/JPEG/WebP, horizontal-flip copies, caption
``.txt`` carried along. Writes are atomic and a unit's files are written only after all of them
were encoded, so an interrupt leaves no partial file. ``crops.json`` records every box.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from PIL import Image

from lib_textinv.captions.files import caption_path
from lib_textinv.crop import box as crop_box
from lib_textinv.crop import sidecar as crop_sidecar
from lib_textinv.crop.box import Box
from lib_textinv.crop.focal import (
    FocalWeights,
    analyse_file,
    face_cascade_reason,
    opencv_threads,
    oriented_size,
)
from lib_textinv.crop.sidecar import CropEntry, Sidecar
from lib_textinv.dataset.scan import list_images
from lib_textinv.kit import files as fsio
from lib_textinv.kit.images import Background, load_rgb, open_guarded
from lib_textinv.kit.progress import Progress

logger = logging.getLogger(__name__)

FORMATS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}
LOCAL_UPSCALER = "Lanczos"
MIN_SIDE, MAX_SIDE = 64, 4096
FLIP_SUFFIX = "-flip"


class Upscaler(Protocol):
    """What export needs from the host to enlarge small crops (webui: ``shared.sd_upscalers``)."""

    def list_upscalers(self) -> list[str]: ...

    def upscale(self, image: Image.Image, width: int, height: int, name: str) -> Image.Image: ...


class LanczosUpscaler:
    """The standalone upscaler: plain Lanczos."""

    def list_upscalers(self) -> list[str]:
        return [LOCAL_UPSCALER]

    def upscale(self, image: Image.Image, width: int, height: int, name: str) -> Image.Image:
        return image.resize((width, height), Image.LANCZOS)


def upscaler_for(host) -> Upscaler:
    """The host's upscalers when it offers them (``feature("upscale")``), else local Lanczos."""
    if (
        host is not None
        and callable(getattr(host, "list_upscalers", None))
        and callable(getattr(host, "upscale", None))
        and host.feature("upscale")[0]
    ):
        return host
    return LanczosUpscaler()


@dataclass(frozen=True)
class ExportOptions:
    format: str = "PNG"
    quality: int = 95  # JPEG/WebP
    flip: bool = False
    captions: bool = True
    upscaler: str = LOCAL_UPSCALER
    background: str = "#ffffff"  # alpha is composited on this colour

    def validated(self) -> ExportOptions:
        fmt = str(self.format).upper().replace("JPG", "JPEG")
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {self.format!r}")
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
        )

    def as_dict(self) -> dict:
        return {
            "format": self.format,
            "quality": self.quality,
            "flip": self.flip,
            "captions": self.captions,
            "upscaler": self.upscaler,
            "background": self.background,
        }

    @classmethod
    def from_dict(cls, d: dict | None) -> ExportOptions:
        d = d or {}
        known = {k: d[k] for k in cls().as_dict() if k in d}
        return cls(**known).validated()


@dataclass
class ExportSummary:
    destination: str
    written: list[str] = field(default_factory=list)  # source names exported
    files: list[str] = field(default_factory=list)  # files written in the destination
    upscaled: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # stale outputs of an earlier export
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
            "notes": self.notes,
            "interrupted": self.interrupted,
        }

    def text(self) -> str:
        lines = [
            f"{'Interrupted: ' if self.interrupted else ''}{len(self.written)} written, "
            f"{len(self.upscaled)} upscaled, {len(self.excluded)} excluded, {len(self.failed)} failed "
            f"→ {self.destination}"
        ]
        if self.upscaled:
            lines.append("Upscaled (smaller than the box): " + ", ".join(self.upscaled))
        lines += [f"Failed: {n}: {r}" for n, r in self.failed]
        lines += self.notes
        return "\n".join(lines)


def cpu_cores() -> int:
    """Cores this process may use (its CPU affinity), for one worker thread per core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _one_thread_each(workers: int):
    """With one worker per core, OpenCV's own threads would only oversubscribe the cores."""
    return opencv_threads(1) if workers > 1 else contextlib.nullcontext()


def check_target(width: int, height: int) -> tuple[int, int]:
    w, h = int(width), int(height)
    for side in (w, h):
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise ValueError(f"target size must be between {MIN_SIDE} and {MAX_SIDE} px, got {w}×{h}")
    return w, h


def default_destination(source: str | os.PathLike, width: int, height: int) -> Path:
    return Path(source) / f"{width}x{height}"


def output_stems(names: list[str]) -> dict[str, str]:
    """Output stem per source name: the source stem, or ``stem-ext`` when two sources share a stem
    (``a.jpg`` and ``a.png`` would both become ``a.png``)."""
    stems: dict[str, list[str]] = {}
    for n in names:
        stems.setdefault(Path(n).stem.lower(), []).append(n)
    out = {}
    for n in names:
        p = Path(n)
        clash = len(stems[p.stem.lower()]) > 1
        out[n] = f"{p.stem}-{p.suffix.lstrip('.').lower()}" if clash else p.stem
    return out


def draft_for(box: Box, target: tuple[int, int], stored_size: tuple[int, int]) -> tuple[int, int] | None:
    """The draft request for ``images.load_rgb`` that keeps at least the target's pixels inside
    the box: JPEG DCT scaling divides by 1, 2, 4 or 8 up to ``min(side)//request``, so asking for
    ``ceil(min side / ratio)`` never reduces by more than ``ratio`` (source px per output px)."""
    ratio = crop_box.scale_factor(box, *target)
    if ratio < 2:
        return None
    side = math.ceil(min(stored_size) / ratio)
    return (side, side)


def render(
    path: str | os.PathLike,
    box: Box,
    full_size: tuple[int, int],
    target: tuple[int, int],
    upscaler: Upscaler,
    upscaler_name: str,
    background: Background,
    upscale_lock: threading.Lock | None = None,
) -> tuple[Image.Image, bool]:
    """The cropped, resized RGB image of exactly ``target`` size, and whether it was upscaled."""
    with open_guarded(path) as im:
        stored = im.size
    image = load_rgb(path, background=background, draft=draft_for(box, target, stored))
    sx, sy = image.width / full_size[0], image.height / full_size[1]
    region = (box.x * sx, box.y * sy, min(image.width, box.right * sx), min(image.height, box.bottom * sy))
    if crop_box.scale_factor(box, *target) >= 1:
        return image.resize(target, Image.LANCZOS, box=region), False
    crop = image.crop(tuple(round(v) for v in region))
    if upscaler_name == LOCAL_UPSCALER or isinstance(upscaler, LanczosUpscaler):
        out = crop.resize(target, Image.LANCZOS)
    else:
        with upscale_lock or threading.Lock():  # GPU upscalers are not thread-safe
            out = upscaler.upscale(crop, target[0], target[1], upscaler_name)
        out = out.convert("RGB")
        if out.size != target:
            out = out.resize(target, Image.LANCZOS)
    return out, True


def encode(image: Image.Image, options: ExportOptions) -> bytes:
    import io

    buf = io.BytesIO()
    if options.format == "PNG":
        # Level 3: a third of the default's time for ~8 % larger files (training sets are small).
        image.save(buf, "PNG", compress_level=3)
    elif options.format == "JPEG":
        image.save(buf, "JPEG", quality=options.quality, subsampling=0 if options.quality >= 90 else 2)
    else:
        image.save(buf, "WEBP", quality=options.quality, method=4)
    return buf.getvalue()


@dataclass
class _Unit:
    """The outcome of one source image (built in a worker, merged by the caller)."""

    name: str
    entry: CropEntry
    status: str  # written | excluded | failed | skipped
    reason: str = ""
    upscaled: bool = False
    files: tuple[str, ...] = ()


def _process(
    path: Path,
    entry: CropEntry,
    stem: str,
    dest: Path,
    target: tuple[int, int],
    options: ExportOptions,
    weights: FocalWeights,
    upscaler: Upscaler,
    upscale_lock: threading.Lock,
    sources: list[Path],
    progress: Progress,
) -> _Unit:
    name = path.name
    if progress.cancelled:
        return _Unit(name, entry, "skipped")
    background = Background.parse(options.background)
    try:
        size = oriented_size(path)
        entry.size, entry.file_bytes = size, path.stat().st_size
        if entry.excluded:
            entry.outputs = ()
            return _Unit(name, entry, "excluded")
        if entry.box is not None:
            entry.box = crop_box.clamp(entry.box, size[0], size[1], *target)
        if entry.auto is None or not entry.auto.inside(*size):
            entry.auto = analyse_file(path, target[0], target[1], weights, background).box
        box = entry.effective_box()
        image, upscaled = render(
            path, box, size, target, upscaler, options.upscaler, background, upscale_lock
        )
        ext = FORMATS[options.format]
        files: list[tuple[str, bytes]] = [(stem + ext, encode(image, options))]
        caption = caption_path(path)
        caption_bytes = caption.read_bytes() if options.captions and caption.is_file() else None
        if caption_bytes is not None:
            files.append((stem + ".txt", caption_bytes))
        if options.flip:
            files.append((stem + FLIP_SUFFIX + ext, encode(image.transpose(Image.FLIP_LEFT_RIGHT), options)))
            if caption_bytes is not None:
                files.append((stem + FLIP_SUFFIX + ".txt", caption_bytes))
    except Exception as e:  # noqa: BLE001 - any decoder error of one bad file must not stop the batch; it is reported
        logger.warning("crop export: %s failed: %s", path, e)
        entry.outputs = ()
        return _Unit(name, entry, "failed", reason=f"{type(e).__name__}: {e}")
    for out_name, _ in files:
        if fsio.would_overwrite_source(dest / out_name, sources):
            return _Unit(name, entry, "failed", reason=f"{out_name} would overwrite a source file")
    if progress.cancelled:  # encoded but not written: an interrupt leaves nothing half done
        return _Unit(name, entry, "skipped")
    for out_name, data in files:
        fsio.atomic_write_bytes(dest / out_name, data)
    entry.outputs = tuple(n for n, _ in files)
    return _Unit(name, entry, "written", upscaled=upscaled, files=entry.outputs)


def plan_entries(
    images: list[Path], target: tuple[int, int], boxes: dict | None, old: Sidecar | None
) -> dict[str, CropEntry]:
    """Per image: the caller's box/exclusion first, else the sidecar's (same file, same target)."""
    boxes = boxes or {}
    entries: dict[str, CropEntry] = {}
    for p in images:
        entry = CropEntry(name=p.name)
        prev = old.images.get(p.name) if old else None
        if prev is not None:
            try:
                same_file = crop_sidecar.restorable(prev, oriented_size(p), p.stat().st_size)
            except Exception:  # noqa: BLE001 - unreadable now: the worker reports the reason
                same_file = False
            if same_file:
                entry.excluded, entry.outputs = prev.excluded, prev.outputs
                if old.target == target:
                    entry.auto, entry.box = prev.auto, prev.box
        given = boxes.get(p.name)
        if given is not None:
            if not isinstance(given, dict):
                raise ValueError(f"boxes[{p.name!r}] must be an object with 'box' and/or 'excluded'")
            if given.get("box") is not None:
                entry.box = Box.from_list(given["box"])
            if "excluded" in given:
                entry.excluded = bool(given["excluded"])
        entries[p.name] = entry
    return entries


def check_destination(source: Path, dest: Path, images: list[Path]) -> Path:
    """Resolve and vet the destination (raises fsio.UnsafeDestination)."""
    dest = fsio.check_output_dir(source, dest, images)
    if dest.exists() and not dest.is_dir():
        raise fsio.UnsafeDestination(f"the destination {dest} exists and is not a folder")
    return dest


def export_folder(
    source: str | os.PathLike,
    target: tuple[int, int],
    dest: str | os.PathLike | None = None,
    boxes: dict | None = None,
    options: ExportOptions = ExportOptions(),
    weights: FocalWeights | None = None,
    progress: Progress | None = None,
    upscaler: Upscaler | None = None,
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
    if options.upscaler != LOCAL_UPSCALER and options.upscaler not in upscaler.list_upscalers():
        raise ValueError(
            f"unknown upscaler {options.upscaler!r}; available: {', '.join(upscaler.list_upscalers())}"
        )
    src = fsio.resolve_existing_dir(source)
    images = list_images(src)
    dest_path = check_destination(src, Path(dest) if dest else default_destination(src, *target), images)
    old, note = crop_sidecar.load_quietly(dest_path) if dest_path.is_dir() else (None, None)
    entries = plan_entries(images, target, boxes, old)
    stems = output_stems([p.name for p in images])
    summary = ExportSummary(destination=str(dest_path), notes=[note] if note else [])
    dest_path.mkdir(parents=True, exist_ok=True)

    progress.begin(len(images), f"Cropping {len(images)} images to {target[0]}×{target[1]}")
    lock = threading.Lock()
    units: dict[str, _Unit] = {}
    workers = workers or cpu_cores()
    with _one_thread_each(workers), ThreadPoolExecutor(workers, "textinv-crop") as ex:
        futures = [
            ex.submit(
                _process,
                p,
                entries[p.name],
                stems[p.name],
                dest_path,
                target,
                options,
                weights,
                upscaler,
                lock,
                images,
                progress,
            )
            for p in images
        ]
        for fut in as_completed(futures):
            if fut.cancelled():
                continue
            unit = fut.result()
            units[unit.name] = unit
            if unit.status != "skipped":
                progress.step(text=unit.name)
            if progress.cancelled:
                for f in futures:
                    f.cancel()
    summary.interrupted = progress.cancelled
    for p in images:  # report in folder order, whatever order the workers finished in
        unit = units.get(p.name)
        if unit is None or unit.status == "skipped":
            continue
        if unit.status == "written":
            summary.written.append(p.name)
            summary.files.extend(unit.files)
            if unit.upscaled:
                summary.upscaled.append(p.name)
        elif unit.status == "excluded":
            summary.excluded.append(p.name)
        else:
            summary.failed.append((p.name, unit.reason))
    if not summary.interrupted:
        summary.removed = _remove_stale(dest_path, old, entries, images)
    crop_sidecar.save(
        dest_path,
        Sidecar(target=target, options=options.as_dict(), weights=weights.as_dict(), images=entries),
    )
    return summary


def _remove_stale(
    dest: Path, old: Sidecar | None, entries: dict[str, CropEntry], sources: list[Path]
) -> list[str]:
    """Files an earlier export wrote that this one did not (an image excluded since, a format
    changed): left behind they would be trained on. Only files the old sidecar lists are touched."""
    if old is None:
        return []
    keep = {o for e in entries.values() for o in e.outputs}
    removed = []
    for e in old.images.values():
        for o in e.outputs:
            p = dest / o
            if o in keep or Path(o).name != o or o == crop_sidecar.SIDECAR_NAME:
                continue
            if p.is_file() and not fsio.would_overwrite_source(p, sources):
                p.unlink()
                removed.append(o)
    return sorted(set(removed))


@dataclass
class Proposal:
    """What the editor shows for one image: Auto's box, the box in use (restored edit) and a preview."""

    name: str
    size: tuple[int, int] | None = None
    auto: Box | None = None
    box: Box | None = None
    excluded: bool = False
    found: tuple[str, ...] = ()
    error: str | None = None
    preview: Image.Image | None = None

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "size": list(self.size) if self.size else None,
            "auto": self.auto.as_list() if self.auto else None,
            "box": (self.box or self.auto).as_list() if (self.box or self.auto) else None,
            "edited": self.box is not None and self.box != self.auto,
            "excluded": self.excluded,
            "found": list(self.found),
            "error": self.error,
        }


def propose_boxes(
    source: str | os.PathLike,
    target: tuple[int, int],
    dest: str | os.PathLike | None = None,
    weights: FocalWeights | None = None,
    progress: Progress | None = None,
    preview_side: int = 0,
    workers: int | None = None,
) -> tuple[list[Proposal], list[str]]:
    """Auto for a folder: every image's proposed box, with the edits of ``dest``'s sidecar restored
    (same file, same target). Returns (proposals in folder order, notes)."""
    progress = progress or Progress()
    weights = weights or FocalWeights()
    target = check_target(*target)
    src = fsio.resolve_existing_dir(source)
    images = list_images(src)
    dest_path = Path(dest) if dest else default_destination(src, *target)
    old, note = crop_sidecar.load_quietly(dest_path) if dest_path.is_dir() else (None, None)
    entries = plan_entries(images, target, None, old)
    notes = [note] if note else []

    def one(p: Path) -> Proposal:
        entry = entries[p.name]
        if progress.cancelled:
            return Proposal(p.name, error="interrupted")
        try:
            a = analyse_file(p, target[0], target[1], weights, preview_side=preview_side)
        except Exception as e:  # noqa: BLE001 - a bad file is shown in the editor, the rest go on
            return Proposal(p.name, excluded=True, error=f"{type(e).__name__}: {e}")
        box = crop_box.clamp(entry.box, *a.size, *target) if entry.box else None
        return Proposal(p.name, a.size, a.box, box, entry.excluded, a.focal.found, preview=a.preview)

    progress.begin(len(images), f"Finding focal points in {len(images)} images")
    out: dict[str, Proposal] = {}
    workers = workers or cpu_cores()
    with _one_thread_each(workers), ThreadPoolExecutor(workers, "textinv-auto") as ex:
        futures = {ex.submit(one, p): p for p in images}
        for fut in as_completed(futures):
            prop = fut.result()
            out[prop.name] = prop
            progress.step(text=prop.name)
    progress.check()
    face_note = face_cascade_reason() if weights.face > 0 else None
    if face_note:
        notes.append(face_note)
    return [out[p.name] for p in images], notes
