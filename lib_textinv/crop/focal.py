"""Where the subject of a photo is: faces, corners/edges and entropy, weighted like the webui's
"Auto focal point crop" of Extras (its default weights: webui 1.10.1
extensions-builtin/postprocessing-for-training/scripts/postprocessing_focal_crop.py:14-16), and the
crop box Auto proposes.

Speed: every detector runs on a small grey copy (``ANALYSIS_SIDE`` px on the long side) made
from a JPEG draft decode, so a 12-MP photo costs a few tens of milliseconds, not a full decode.
Deterministic: no randomness, fixed parameters, results in fractions of the image.

Faces use OpenCV's Haar cascade that ships inside the opencv wheel (``cv2.data.haarcascades``);
nothing is downloaded. Where the wheel has none (OpenCV 5), faces are skipped and ``Focal.notes``
says why; corners and entropy still work.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from PIL import Image

from lib_textinv.crop import box as crop_box
from lib_textinv.crop.box import Box
from lib_textinv.dataset.upright import oriented_size
from lib_textinv.kit.images import Background, load_rgb

logger = logging.getLogger(__name__)

ANALYSIS_SIDE = 192  # long side of the grey copy the detectors see
FACE_CASCADE = "haarcascade_frontalface_default.xml"


@dataclass(frozen=True)
class FocalWeights:
    """Relative weights of the detectors (webui Extras defaults: face 0.9, edges 0.5, entropy 0.15)."""

    face: float = 0.9
    corners: float = 0.5
    entropy: float = 0.15

    @classmethod
    def from_dict(cls, d: dict | None) -> FocalWeights:
        d = d or {}
        vals = {k: float(d.get(k, getattr(cls(), k))) for k in ("face", "corners", "entropy")}
        for k, v in vals.items():
            if not 0.0 <= v <= 10.0:
                raise ValueError(f"focal weight {k} must be between 0 and 10, got {v}")
        return cls(**vals)

    def as_dict(self) -> dict:
        return {"face": self.face, "corners": self.corners, "entropy": self.entropy}


@dataclass(frozen=True)
class Focal:
    """A focal point in fractions of the image (0..1), the faces found (fractions too) and notes."""

    x: float = 0.5
    y: float = 0.5
    faces: tuple[tuple[float, float, float, float], ...] = ()
    found: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())


# -- face detection --------------------------------------------------------------------------

_local = threading.local()  # a CascadeClassifier is not safe to share between threads


def face_cascade_reason() -> str | None:
    """None when Haar face detection is available, else why not (shown to the user)."""
    try:
        import cv2
    except ImportError:
        return "faces skipped: OpenCV (cv2) is not installed"
    if not hasattr(cv2, "CascadeClassifier"):
        return "faces skipped: this OpenCV build has no Haar cascades (OpenCV 5 moved them to contrib)"
    folder = _cascade_dir()
    if not folder or not os.path.isfile(os.path.join(folder, FACE_CASCADE)):
        return f"faces skipped: {FACE_CASCADE} is not inside this OpenCV wheel"
    return None


def _cascade_dir() -> str:
    """The Haar cascade folder inside the opencv wheel ("" when this build has none)."""
    import cv2

    return str(getattr(getattr(cv2, "data", None), "haarcascades", "") or "")


def _cascade():
    c = getattr(_local, "cascade", None)
    if c is None:
        import cv2

        c = cv2.CascadeClassifier(os.path.join(_cascade_dir(), FACE_CASCADE))
        if c.empty():
            raise OSError(f"could not load {FACE_CASCADE}")
        _local.cascade = c
    return c


def detect_faces(grey) -> list[tuple[int, int, int, int]]:
    """Faces (x, y, w, h) in the grey copy's pixels, largest first."""
    import cv2

    h, w = grey.shape
    min_side = max(12, int(min(w, h) * 0.06))
    eq = cv2.equalizeHist(grey)
    found = _cascade().detectMultiScale(eq, scaleFactor=1.15, minNeighbors=5, minSize=(min_side, min_side))
    faces = [(int(x), int(y), int(fw), int(fh)) for x, y, fw, fh in found] if len(found) else []
    return sorted(faces, key=lambda f: (-f[2] * f[3], f[0], f[1]))


@contextlib.contextmanager
def opencv_threads(n: int) -> Iterator[None]:
    """Limit OpenCV's own thread pool while we run one worker per core over images (its threads
    would only oversubscribe the cores); restored afterwards. No-op without cv2."""
    try:
        import cv2
    except ImportError:
        yield
        return
    before = cv2.getNumThreads()
    cv2.setNumThreads(n)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


# -- corners and entropy ---------------------------------------------------------------------


def corners_centroid(grey) -> tuple[float, float] | None:
    """Centroid of strong corners (cv2.goodFeaturesToTrack), bottom 10 % ignored (watermarks)."""
    import cv2
    import numpy as np

    h, w = grey.shape
    g = grey.copy()
    g[int(h * 0.9) :, :] = 128
    pts = cv2.goodFeaturesToTrack(
        g, maxCorners=100, qualityLevel=0.04, minDistance=max(1.0, min(w, h) * 0.07)
    )
    if pts is None or len(pts) == 0:
        return None
    p = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    return float(p[:, 0].mean()), float(p[:, 1].mean())


def _entropy(a) -> float:
    import numpy as np

    hist = np.bincount(a.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    if total <= 0:
        return 0.0
    p = hist[hist > 0] / total
    return float(-(p * np.log2(p)).sum())


def entropy_centre(grey, target_w: int, target_h: int, steps: int = 12) -> tuple[float, float] | None:
    """Centre of the highest-entropy window of the target aspect slid along the long free side
    (None when the window covers the whole image, like the webui's)."""
    h, w = grey.shape
    bw, bh = crop_box.largest_size(w, h, target_w, target_h)
    free_x, free_y = w - bw, h - bh
    if free_x <= 0 and free_y <= 0:
        return None
    best, best_pos = -1.0, (0, 0)
    for i in range(steps + 1):
        x = round(free_x * i / steps) if free_x > 0 else 0
        y = round(free_y * i / steps) if free_y > 0 else 0
        e = _entropy(grey[y : y + bh, x : x + bw])
        if e > best + 1e-9:  # first maximum wins: deterministic
            best, best_pos = e, (x, y)
    return best_pos[0] + bw / 2, best_pos[1] + bh / 2


# -- the focal point ---------------------------------------------------------------------------


def small_grey(image: Image.Image, side: int = ANALYSIS_SIDE):
    """A grey numpy copy with long side ``side`` (never enlarged)."""
    import numpy as np

    im = image.convert("L")
    scale = side / max(im.size)
    if scale < 1:
        im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.BOX)
    return np.ascontiguousarray(np.asarray(im, dtype=np.uint8))


def focal_point(grey, target_w: int, target_h: int, weights: FocalWeights = FocalWeights()) -> Focal:
    """Weighted average of the detectors that found something (weights renormalised over them)."""
    h, w = grey.shape
    points: list[tuple[float, float, float]] = []
    found, notes = [], []
    faces: list[tuple[int, int, int, int]] = []
    if weights.face > 0:
        why = face_cascade_reason()
        if why:
            notes.append(why)
        else:
            faces = detect_faces(grey)
            if faces:
                # Area-weighted centre of the faces: the main face dominates.
                area = sum(f[2] * f[3] for f in faces)
                fx = sum((f[0] + f[2] / 2) * f[2] * f[3] for f in faces) / area
                fy = sum((f[1] + f[3] / 2) * f[2] * f[3] for f in faces) / area
                points.append((fx, fy, weights.face))
                found.append("face")
    if weights.corners > 0:
        c = corners_centroid(grey)
        if c:
            points.append((c[0], c[1], weights.corners))
            found.append("corners")
    if weights.entropy > 0:
        e = entropy_centre(grey, target_w, target_h)
        if e:
            points.append((e[0], e[1], weights.entropy))
            found.append("entropy")
    total = sum(p[2] for p in points)
    if total <= 0:
        return Focal(notes=tuple(notes))
    x = sum(p[0] * p[2] for p in points) / total
    y = sum(p[1] * p[2] for p in points) / total
    return Focal(
        x=round(x / w, 6),
        y=round(y / h, 6),
        faces=tuple((f[0] / w, f[1] / h, f[2] / w, f[3] / h) for f in faces),
        found=tuple(found),
        notes=tuple(notes),
    )


def _region(faces, img_w: int, img_h: int) -> Box:
    """The rectangle around ``faces`` (fractions) in image pixels."""
    x0 = int(min(f[0] for f in faces) * img_w)
    y0 = int(min(f[1] for f in faces) * img_h)
    x1 = math.ceil(max(f[0] + f[2] for f in faces) * img_w)
    y1 = math.ceil(max(f[1] + f[3] for f in faces) * img_h)
    return Box(x0, y0, max(1, min(img_w, x1) - x0), max(1, min(img_h, y1) - y0))


def propose_box(img_w: int, img_h: int, target_w: int, target_h: int, focal: Focal) -> Box:
    """The largest box of the target aspect centred on the focal point, shifted to keep all faces
    when they fit, else the largest face."""
    keep = None
    if focal.faces:
        w, h = crop_box.largest_size(img_w, img_h, target_w, target_h)
        for faces in (focal.faces, focal.faces[:1]):
            region = _region(faces, img_w, img_h)
            if region.w <= w and region.h <= h:
                keep = region
                break
    return crop_box.centred_on(img_w, img_h, target_w, target_h, focal.x * img_w, focal.y * img_h, keep=keep)


# -- files -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Analysis:
    size: tuple[int, int]
    focal: Focal
    box: Box
    preview: Image.Image | None = None


def analyse_file(
    path: str | os.PathLike,
    target_w: int,
    target_h: int,
    weights: FocalWeights | None = None,
    background: Background | None = None,
    preview_side: int = 0,
) -> Analysis:
    """Auto box for one file. Decodes a JPEG draft just big enough for the detectors (and for a
    ``preview_side`` preview when asked). Raises like ``images.load_rgb`` for broken files."""
    weights, background = weights or FocalWeights(), background or Background()
    size = oriented_size(path)
    side = max(ANALYSIS_SIDE, preview_side)
    image = load_rgb(path, background=background, draft=(side, side))
    focal = focal_point(small_grey(image), target_w, target_h, weights)
    box = propose_box(size[0], size[1], target_w, target_h, focal)
    preview = None
    if preview_side:
        preview = image.copy()
        preview.thumbnail((preview_side, preview_side), Image.LANCZOS)
    return Analysis(size=size, focal=focal, box=box, preview=preview)
