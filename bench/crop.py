"""Crop export speed: our auto focal crop + export vs the naive pipeline, in one run.

Makes 25 twelve-megapixel JPEGs from real scikit-image photos (upscaled keeping their aspect) in a
temp folder, then measures images/s for
  (a) naive: full decode + centre crop + Lanczos + PNG, and
  (b) ours: Auto (focal point per image) followed by the export (draft decoding, PNG),
both with one worker thread per core. The last line printed is the ratio (b)/(a).

    /work/venv/bin/python bench/crop.py [--images 25] [--size 512] [--repeats 3] [--workers N]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageOps

from lib_textinv.crop import box as crop_box
from lib_textinv.crop import formats
from lib_textinv.crop.auto import propose_boxes
from lib_textinv.crop.export import export_folder
from lib_textinv.crop.plan import cpu_cores
from lib_textinv.dataset.scan import list_images
from tests.photos import photo

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera", "coins", "immunohistochemistry")
MEGAPIXELS = 12e6


def make_folder(folder: Path, count: int) -> list[Path]:
    """``count`` 12-MP JPEGs; each photo is rendered once (and mirrored once) and then copied."""
    folder.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    rendered: dict[tuple[str, bool], Path] = {}
    for i in range(count):
        name, mirror = PHOTOS[i % len(PHOTOS)], (i // len(PHOTOS)) % 2 == 1
        path = folder / f"{i:02d}_{name}{'_m' if mirror else ''}.jpg"
        if (name, mirror) in rendered:
            shutil.copyfile(rendered[(name, mirror)], path)
        else:
            im = photo(name)
            aspect = im.width / im.height
            h = round(math.sqrt(MEGAPIXELS / aspect))
            big = im.resize((round(h * aspect), h), Image.BICUBIC)
            if mirror:
                big = big.transpose(Image.FLIP_LEFT_RIGHT)
            big.save(path, "JPEG", quality=92)
            rendered[(name, mirror)] = path
        made.append(path)
    return made


def naive_one(path: Path, out: Path, size: int) -> None:
    with Image.open(path) as f:
        im = ImageOps.exif_transpose(f).convert("RGB")
    w, h = crop_box.largest_size(im.width, im.height, size, size)
    box = crop_box.centred_on(im.width, im.height, size, size, im.width / 2, im.height / 2)
    assert (box.w, box.h) == (w, h)
    out_im = im.crop(box.pil_box()).resize((size, size), Image.LANCZOS)
    # The same PNG encoder settings as ours: the comparison is about decoding and detection.
    (out / (path.stem + ".png")).write_bytes(formats.by_name("PNG").encode(out_im, 95))


def run_naive(src: Path, dest: Path, size: int, workers: int) -> float:
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    files = list_images(src)
    t, c = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(max_workers=workers) as ex:
        list(ex.map(lambda p: naive_one(p, dest, size), files))
    return len(files) / (time.perf_counter() - t), len(files) / (time.process_time() - c)


def run_ours(src: Path, dest: Path, size: int, workers: int) -> float:
    shutil.rmtree(dest, ignore_errors=True)
    files = list_images(src)
    t, c = time.perf_counter(), time.process_time()
    proposals, _ = propose_boxes(src, (size, size), dest, workers=workers)
    boxes = {p.name: {"box": (p.box or p.auto).as_list()} for p in proposals}
    summary = export_folder(src, (size, size), dest, boxes=boxes, workers=workers)
    rates = len(files) / (time.perf_counter() - t), len(files) / (time.process_time() - c)
    assert len(summary.written) == len(files), summary.failed
    return rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=25)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--workers", type=int, default=0, help="worker threads (default: one per usable core)")
    ap.add_argument("--repeats", type=int, default=3, help="best of N runs of each pipeline, interleaved")
    args = ap.parse_args()
    workers = args.workers or cpu_cores()
    with tempfile.TemporaryDirectory(prefix="textinv-bench-crop-") as tmp:
        src = Path(tmp) / "photos"
        t = time.perf_counter()
        files = make_folder(src, args.images)
        mb = sum(p.stat().st_size for p in files) / 1e6
        with Image.open(files[0]) as im:
            example = im.size
        made = time.perf_counter() - t
        print(f"{len(files)} JPEGs, {mb:.0f} MB, e.g. {example[0]}×{example[1]} (made in {made:.1f} s)")
        print(f"target {args.size}×{args.size}, {workers} worker threads (one per core)")
        naive, ours = (0.0, 0.0), (0.0, 0.0)
        for _ in range(args.repeats):  # best of N, interleaved, so a busy moment hurts both alike
            naive = max(naive, run_naive(src, Path(tmp) / "naive", args.size, workers))
            ours = max(ours, run_ours(src, Path(tmp) / "ours", args.size, workers))
        print(f"(a) naive decode + centre crop + Lanczos: {naive[0]:.2f} images/s ({naive[1]:.2f} per CPU-s)")
        print(f"(b) auto focal crop + export:             {ours[0]:.2f} images/s ({ours[1]:.2f} per CPU-s)")
        print(f"CPU-time ratio (b)/(a), less sensitive to other load: {ours[1] / naive[1]:.2f}x")
        print(f"load average during the run: {os.getloadavg()[0]:.1f}")
        print(f"ratio (b)/(a): {ours[0] / naive[0]:.2f}x")


if __name__ == "__main__":
    main()
