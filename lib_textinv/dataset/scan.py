"""Dataset intake: check every file of a folder before anything is cropped, captioned or trained.

One ``FileReport`` per file: what it is, what will happen to it, every problem found. The scan
never stops at a bad file, never writes anything, and never decodes an image above the pixel
limit (decompression-bomb guard): dimensions are read from the header first.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

from lib_textinv.dataset.entries import OtherEntry, other_entries
from lib_textinv.dataset.fingerprint import fingerprint
from lib_textinv.dataset.reasons import reason_for
from lib_textinv.dataset.upright import upright_size
from lib_textinv.kit.images import (
    DEFAULT_MAX_PIXELS,
    WHITE,
    Background,
    TooLarge,
    exif_orientation,
    identify,
    is_image_name,
    load_rgb,
    read_image_bytes,
)
from lib_textinv.kit.progress import Progress

logger = logging.getLogger(__name__)

OK, WARNING, REFUSED = "ok", "warning", "refused"
NEAR_DUPLICATE_BITS = 6  # ≤ 6 of 64 bits differ → the same picture (re-encoded, resized, tweaked)


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files directly in ``folder`` (not recursive, like the webui's trainer), sorted by name;
    hidden and temp files skipped."""
    folder = Path(folder)
    return sorted(
        (
            p
            for p in folder.iterdir()
            if not p.name.startswith(".") and is_image_name(p.name) and (p.is_file() or p.is_symlink())
        ),
        key=lambda p: p.name.lower(),
    )


@dataclass
class Problem:
    code: str  # machine-readable kind, e.g. "truncated", "cmyk", "near_duplicate"
    severity: str  # WARNING or REFUSED
    message: str  # what is wrong and what we will do, in words


@dataclass
class FileReport:
    name: str
    path: str
    size_bytes: int = 0
    format: str = ""
    width: int = 0
    height: int = 0
    mode: str = ""
    frames: int = 1
    problems: list[Problem] = field(default_factory=list)
    dhash: int | None = None

    @property
    def status(self) -> str:
        if any(p.severity == REFUSED for p in self.problems):
            return REFUSED
        return WARNING if self.problems else OK

    @property
    def usable(self) -> bool:
        return self.status != REFUSED

    @property
    def action(self) -> str:
        if not self.usable:
            return "skipped: " + "; ".join(p.message for p in self.problems if p.severity == REFUSED)
        steps = [p.code for p in self.problems]
        words = {
            "exif_rotation": "rotate",
            "cmyk": "to RGB",
            "16bit": "to 8-bit",
            "palette": "to RGB",
            "alpha": "flatten alpha",
            "greyscale": "to RGB",
            "animated": "first frame",
            "too_small": "upscale",
        }
        todo = [words[s] for s in steps if s in words]
        return "use" + (" (" + ", ".join(dict.fromkeys(todo)) + ")" if todo else "")

    def add(self, code: str, severity: str, message: str) -> None:
        self.problems.append(Problem(code, severity, message))

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("dhash")
        d.update(status=self.status, action=self.action)
        return d


class Outcome(str, Enum):
    """How a scan went as a whole: what the summary's colour says."""

    OK = "ok"  # every image usable (some perhaps with warnings)
    SOME_REFUSED = "some refused"  # at least half usable
    MOST_REFUSED = "most refused"  # more than half refused, or no image at all


@dataclass
class ScanOptions:
    width: int = 512
    height: int = 512
    max_pixels: int = DEFAULT_MAX_PIXELS
    background: Background = field(default_factory=Background)
    workers: int = 0  # 0 = one per core


@dataclass
class ScanReport:
    folder: str
    files: list[FileReport]
    others: list[OtherEntry]  # every other entry of the folder: captions, sub-folders, hidden files…
    options: ScanOptions
    cancelled: bool = False

    @property
    def counts(self) -> dict[str, int]:
        c = {OK: 0, WARNING: 0, REFUSED: 0}
        for f in self.files:
            c[f.status] += 1
        return c

    @property
    def outcome(self) -> Outcome:
        """OK when nothing is refused; SOME_REFUSED while at least half is usable; else MOST_REFUSED
        (no image at all counts as nothing usable)."""
        refused, total = self.counts[REFUSED], len(self.files)
        if total == 0 or refused * 2 > total:
            return Outcome.MOST_REFUSED
        return Outcome.SOME_REFUSED if refused else Outcome.OK

    @property
    def summary(self) -> str:
        c = self.counts
        usable = c[OK] + c[WARNING]
        s = f"{usable} usable, {c[WARNING]} with warnings, {c[REFUSED]} refused"
        if self.others:
            kinds = Counter(e.kind.value for e in self.others)
            n = len(self.others)
            s += (
                f"; {n} other entr{'y' if n == 1 else 'ies'} ("
                + ", ".join(f"{c} {k}" for k, c in kinds.items())
                + ")"
            )
        if self.cancelled:
            s += " — scan interrupted, report incomplete"
        return s

    def to_dict(self) -> dict:
        return {
            "folder": self.folder,
            "summary": self.summary,
            "counts": self.counts,
            "outcome": self.outcome.value,
            "cancelled": self.cancelled,
            "others": [e.to_dict() for e in self.others],
            "files": [f.to_dict() for f in self.files],
        }


# -- one file ----------------------------------------------------------------------------------


def _refuse(rep: FileReport, error: BaseException, data: bytes | None = None) -> None:
    reason = reason_for(error, rep.path, data)
    rep.add(reason.code, REFUSED, reason.message)


def _read_file(path: Path, rep: FileReport) -> bytes | None:
    """The whole file (decoded from memory: ``kit.images``), or None with the reason recorded."""
    try:
        data = read_image_bytes(path)
    except OSError as e:
        _refuse(rep, e)
        return None
    rep.size_bytes = len(data)
    return data


def _open(data: bytes, rep: FileReport):
    """The opened (not yet decoded) image, or None with the reason recorded."""
    try:
        return identify(data)
    except (OSError, SyntaxError, ValueError, EOFError) as e:  # UnidentifiedImageError is an OSError
        _refuse(rep, e, data)
    return None


# What each image extension promises (a .jpg holding a PNG is worth a warning).
EXTENSION_FORMATS = {
    "jpg": "JPEG",
    "jpeg": "JPEG",
    "png": "PNG",
    "webp": "WEBP",
    "gif": "GIF",
    "bmp": "BMP",
    "tif": "TIFF",
    "tiff": "TIFF",
}


def _raw_mode(im) -> str:
    """The decoder's raw mode: PIL opens 16-bit grey PNGs as mode "I", the raw mode says I;16."""
    raw = im.tile[0][3] if im.tile and len(im.tile[0]) > 3 else None
    raw = raw[0] if isinstance(raw, tuple) else raw
    if im.mode == "I" and isinstance(raw, str) and raw.startswith("I;16"):
        return "I;16"
    return im.mode


def _decode(im, rep: FileReport, opts: ScanOptions) -> tuple[str, int] | None:
    """Header facts, then decode every byte (a JPEG at 1/8 scale): (mode, EXIF orientation), or
    None with the reason recorded."""
    import warnings

    rep.format, rep.mode = im.format or "", im.mode
    rep.width, rep.height = im.size
    rep.frames = int(getattr(im, "n_frames", 1) or 1)
    mode = _raw_mode(im)
    if rep.width * rep.height > opts.max_pixels:
        _refuse(rep, TooLarge(im.size, opts.max_pixels))
        return None
    ext = Path(rep.name).suffix.lower().lstrip(".")
    expected = EXTENSION_FORMATS.get(ext)
    if expected and rep.format and expected != rep.format:
        rep.add("wrong_extension", WARNING, f"named .{ext} but the content is {rep.format}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if im.format == "JPEG":
                im.draft("RGB", (256, 256))  # DCT scaling: decodes every byte, ~8× fewer pixels
            im.load()
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as e:
        _refuse(rep, e)
        return None
    # After load(): PNG's getexif() loads the image itself and would hide a decode error.
    return mode, exif_orientation(im)


def scan_file(path: Path, opts: ScanOptions) -> FileReport:
    """Inspect one file; every failure becomes a Problem, nothing is raised."""
    rep = FileReport(name=path.name, path=str(path))
    data = _read_file(path, rep)
    if data is None:
        return rep
    im = _open(data, rep)
    if im is None:
        return rep
    with im:
        decoded = _decode(im, rep, opts)
        if decoded is None:
            return rep
        rep.dhash = fingerprint(im, opts.background)
        transparent = "transparency" in im.info
    mode, orientation = decoded
    _conversion_notes(rep, mode, orientation, transparent, opts)
    _size_notes(rep, upright_size((rep.width, rep.height), orientation), opts)
    return rep


def _conversion_notes(
    rep: FileReport, mode: str, orientation: int, transparent: bool, opts: ScanOptions
) -> None:
    if orientation not in (1, 0):
        rep.add(
            "exif_rotation", WARNING, f"EXIF orientation {orientation}: the picture will be rotated upright"
        )
    if mode == "CMYK":
        rep.add("cmyk", WARNING, "CMYK colour: converted to RGB")
    if mode in ("I;16", "I;16B", "I;16L", "I", "F") or mode.endswith(";16"):
        rep.add(
            "16bit", WARNING, f"{'16' if '16' in mode else '32'}-bit ({mode}): reduced to 8 bits per channel"
        )
    if mode == "P":
        rep.add("palette", WARNING, "palette colours: converted to RGB")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode == "P" and rep.format in ("PNG", "GIF") and transparent
    ):
        bg = opts.background
        rep.add("alpha", WARNING, f"has transparency: composited on #{bg.r:02x}{bg.g:02x}{bg.b:02x}")
    if mode in ("L", "1"):
        rep.add("greyscale", WARNING, "greyscale: converted to RGB (training sees a grey picture)")
    if rep.frames > 1:
        rep.add("animated", WARNING, f"animated ({rep.frames} frames): the first frame is used")


def _size_notes(rep: FileReport, size: tuple[int, int], opts: ScanOptions) -> None:
    """Size warnings against the training size, for the picture as the user sees it (``size``:
    upright, see ``dataset.upright``)."""
    w, h = size
    tw, th = opts.width, opts.height
    # The largest crop of the target aspect that fits, then whether it must be enlarged.
    scale_needed = max(tw / w, th / h) if w and h else 1.0
    if scale_needed > 1.0:
        rep.add(
            "too_small",
            WARNING,
            f"{w}×{h} is smaller than the {tw}×{th} training size: needs upscaling ×{scale_needed:.2f}",
        )
    ar_img, ar_t = w / h, tw / th
    kept = min(ar_img, ar_t) / max(ar_img, ar_t)
    if kept < 0.5:
        rep.add(
            "extreme_aspect",
            WARNING,
            f"aspect ratio {w}:{h}: a {tw}×{th} crop keeps only {kept:.0%} of the picture",
        )


# -- the folder --------------------------------------------------------------------------------


def _hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def mark_near_duplicates(files: Iterable[FileReport], max_bits: int = NEAR_DUPLICATE_BITS) -> None:
    """Flag pairs whose perceptual hashes differ in ≤ ``max_bits`` bits, naming the pair. The later
    file of a pair gets the warning (both stay usable: the user decides)."""
    hashed = [(f, f.dhash) for f in files if f.dhash is not None]
    for i, (a, ha) in enumerate(hashed):
        for b, hb in hashed[:i]:
            d = _hamming(ha, hb)
            if d <= max_bits:
                what = "identical picture" if d == 0 else f"near-duplicate ({d} of 64 hash bits differ)"
                a.add("near_duplicate", WARNING, f"{what} of {b.name}")
                break


def scan_folder(
    folder: str | os.PathLike, opts: ScanOptions | None = None, progress: Progress | None = None
) -> ScanReport:
    """Scan every image file of ``folder`` (non-recursive). Never raises for a bad file; raises
    ``ValueError`` only when the folder itself is unusable."""
    from lib_textinv.kit.files import resolve_existing_dir

    opts = opts or ScanOptions()
    root = resolve_existing_dir(folder)
    progress = progress or Progress()
    paths = list_images(root)
    others = other_entries(root, paths)
    progress.begin(len(paths), f"scanning {root}")
    workers = opts.workers or max(1, os.cpu_count() or 1)
    results: list[FileReport] = []
    cancelled = False
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="textinv-scan") as pool:
        futures = [pool.submit(scan_file, p, opts) for p in paths]
        for fut in futures:
            if progress.cancelled:
                cancelled = True
                for f in futures:
                    f.cancel()
                break
            rep = fut.result()
            results.append(rep)
            progress.step(1, rep.name)
    mark_near_duplicates(results)
    logger.info("scanned %s: %d files", root, len(results))
    return ScanReport(folder=str(root), files=results, others=others, options=opts, cancelled=cancelled)


def thumbnail(path: str | os.PathLike, size: int = 160, background: Background = WHITE):
    """A small RGB preview for the gallery (draft-decoded); None when the file cannot be shown."""
    from lib_textinv.kit.images import ImageRefused

    try:
        im = load_rgb(path, background=background, draft=(size, size))
    except (ImageRefused, OSError, ValueError, SyntaxError, EOFError):
        return None
    im.thumbnail((size, size))
    return im
