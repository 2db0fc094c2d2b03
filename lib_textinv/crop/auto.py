"""Auto: the box the editor proposes for every image of a folder (its focal point, the largest box
of the target aspect around it), with the edits of the destination's ``crops.json`` restored when
they belong to the same file and size. One image at a time per worker; Stop ends it within one."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from lib_textinv.crop import box as crop_box
from lib_textinv.crop import sidecar as crop_sidecar
from lib_textinv.crop.box import Box
from lib_textinv.crop.focal import FocalWeights, analyse_file, face_cascade_reason
from lib_textinv.crop.plan import (
    check_target,
    cpu_cores,
    default_destination,
    one_thread_each,
    plan_entries,
)
from lib_textinv.crop.sidecar import CropEntry
from lib_textinv.dataset.reasons import reason_for
from lib_textinv.dataset.scan import list_images
from lib_textinv.kit import files as fsio
from lib_textinv.kit.progress import Progress


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

    @property
    def edited(self) -> bool:
        """A restored edit: a box moved away from Auto's (an exclusion counts separately)."""
        return self.box is not None and self.box != self.auto

    def as_dict(self) -> dict:
        shown = self.box or self.auto
        return {
            "name": self.name,
            "size": list(self.size) if self.size else None,
            "auto": self.auto.as_list() if self.auto else None,
            "box": shown.as_list() if shown else None,
            "edited": self.edited,
            "excluded": self.excluded,
            "found": list(self.found),
            "error": self.error,
        }


def _propose(
    path: Path,
    entry: CropEntry,
    target: tuple[int, int],
    weights: FocalWeights,
    preview_side: int,
    progress: Progress,
) -> Proposal:
    if progress.cancelled:
        return Proposal(path.name, error="interrupted")
    try:
        a = analyse_file(path, target[0], target[1], weights, preview_side=preview_side)
    except Exception as e:  # noqa: BLE001 - a bad file is shown in the editor, the rest go on
        return Proposal(path.name, excluded=True, error=reason_for(e, path).message)
    box = crop_box.clamp(entry.box, *a.size, *target) if entry.box else None
    return Proposal(path.name, a.size, a.box, box, entry.excluded, a.focal.found, preview=a.preview)


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
    (same file, same target). Returns (proposals in folder order, notes); raises ``Cancelled``
    when stopped."""
    progress = progress or Progress()
    weights = weights or FocalWeights()
    target = check_target(*target)
    src = fsio.resolve_existing_dir(source)
    images = list_images(src)
    dest_path = Path(dest) if dest else default_destination(src, *target)
    record, note = crop_sidecar.load_quietly(dest_path) if dest_path.is_dir() else (None, None)
    entries = plan_entries(images, target, None, record.for_source(src) if record else None)
    notes = [note] if note else []

    progress.begin(len(images), f"Finding focal points in {len(images)} images")
    out: dict[str, Proposal] = {}
    workers = workers or cpu_cores()
    with one_thread_each(workers), ThreadPoolExecutor(workers, "textinv-auto") as ex:
        futures = [
            ex.submit(_propose, p, entries[p.name], target, weights, preview_side, progress) for p in images
        ]
        for fut in as_completed(futures):
            prop = fut.result()
            out[prop.name] = prop
            progress.step(text=prop.name)
    progress.check()
    face_note = face_cascade_reason() if weights.face > 0 else None
    if face_note:
        notes.append(face_note)
    return [out[p.name] for p in images], notes
