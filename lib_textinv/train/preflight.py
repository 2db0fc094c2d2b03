"""Pre-flight: everything that can be checked before training touches the GPU, each failure with
what to do.

Checks run on plain facts (the host's ``ModelFacts``, ``EmbeddingInfo``, templates, paths) and on
the files; nothing here loads a model. ``crop_copy_to_size`` is the "crop them" fix: it writes
centre-cropped copies into a new folder and never touches the user's images.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from lib_textinv.kit.folder_guard import BadFolder, Forbidden
from lib_textinv.kit.host import Host, ModelFacts
from lib_textinv.kit.progress import Progress
from lib_textinv.train.folders import checked_dataset_folder, checked_log_folder
from lib_textinv.train.loss_csv import FILENAME as LOSS_CSV
from lib_textinv.train.lr_schedule import ScheduleError, check_schedule
from lib_textinv.train.params import TrainArgs, out_of_bounds
from lib_textinv.train.preflight_own import (
    check_base_model,
    check_own_model,
    check_own_options,
    check_template_name,
    own_initial_step,
)
from lib_textinv.train.preflight_report import ERROR, OK, WARNING, Check, Level, PreflightReport
from lib_textinv.train.presets import DatasetFacts, is_folder, scan_dataset
from lib_textinv.train.run_files import own_checkpoint_steps, planned_checkpoint_steps, run_folder

logger = logging.getLogger(__name__)

DISK_MARGIN = 50 * 1024 * 1024  # keep this much free beyond the estimate

__all__ = ["ERROR", "OK", "WARNING", "Check", "Level", "PreflightReport", "run_preflight"]


# -- single checks -------------------------------------------------------------------------------


def check_folders(host: Host, args: TrainArgs, rep: PreflightReport) -> tuple[bool, bool]:
    """Whether the dataset and the log folder may be used at all: absolute paths, and allowed
    (``train.folders``); nothing is read from or written into a refused one."""
    allowed = []
    for key, check, text, fix in (
        ("dataset", checked_dataset_folder, args.data_root, "give the full path of the dataset folder"),
        ("log", checked_log_folder, args.log_directory, "give the full path of a log folder"),
    ):
        try:
            check(host, text)
        except Forbidden as e:
            rep.add(key, ERROR, str(e), "choose a folder inside the allowed folders")
            allowed.append(False)
        except BadFolder as e:
            rep.add(key, ERROR, str(e), fix)
            allowed.append(False)
        else:
            allowed.append(True)
    return allowed[0], allowed[1]


def check_numbers(args: TrainArgs, rep: PreflightReport, n_images: int) -> None:
    size = ("training_width", "training_height")
    bad = out_of_bounds(args, exclude=size if args.varsize else ())
    if not args.varsize:
        bad += [
            f"{n.replace('training_', '')} {getattr(args, n)} must be a multiple of 8"
            for n in size
            if getattr(args, n) % 8
        ]
    if bad:
        rep.add("numbers", ERROR, "; ".join(bad), "correct the values in the form")
    if n_images and args.batch_size > n_images:
        rep.add(
            "batch",
            WARNING,
            f"batch size {args.batch_size} is more than the {n_images} images",
            f"the webui uses {n_images}; set batch size to at most {n_images}",
        )
    if args.save_embedding_every == 0:
        rep.add(
            "no-checkpoints",
            WARNING,
            "no checkpoints will be saved (save embedding every = 0)",
            "set it to 50 or 100 to compare steps later",
        )


def check_dataset(
    args: TrainArgs, facts: DatasetFacts | None, rep: PreflightReport, template_path: str | None
) -> None:
    if facts is None:
        rep.add(
            "dataset",
            ERROR,
            f"dataset folder not found: {args.data_root}",
            "choose the folder Crop exported (or any folder of training-size images)",
        )
        return
    if not facts.images:
        rep.add(
            "dataset",
            ERROR,
            f"no images in {args.data_root}",
            "the webui reads images directly in that folder (not in sub-folders)",
        )
        return
    check_images(args, facts, rep)
    if _uses_filewords(args, template_path, rep):
        check_captions(args, facts, rep)


def check_images(args: TrainArgs, facts: DatasetFacts, rep: PreflightReport) -> None:
    """Images that cannot be read, and (unless "do not resize") images not at the training size."""
    unreadable = [i for i in facts.images if i.error]
    if unreadable:
        why = "; ".join(f"{i.path.name}: {i.error}" for i in unreadable[:3])
        more = f"; … and {len(unreadable) - 3} more" if len(unreadable) > 3 else ""
        rep.add(
            "unreadable",
            ERROR,
            f"{len(unreadable)} image(s) cannot be read ({why}{more})",
            "remove or replace them",
            [i.path for i in unreadable],
        )
    if args.varsize:
        return
    want = (args.training_width, args.training_height)
    wrong = [i for i in facts.readable if i.size != want]
    if wrong:
        sizes = sorted({f"{i.size[0]}×{i.size[1]}" for i in wrong if i.size})
        rep.add(
            "size",
            ERROR,
            f"{len(wrong)} of {len(facts.images)} images are not {want[0]}×{want[1]} "
            f"({', '.join(sizes[:5])})",
            "crop them to the training size (a copy; your images stay as they are), or change width/height",
            [i.path for i in wrong],
            action="crop",
        )
    elif facts.readable:
        rep.add("size", OK, f"all {len(facts.readable)} images are {want[0]}×{want[1]}")


def _uses_filewords(args: TrainArgs, template_path: str | None, rep: PreflightReport) -> bool:
    if not template_path:
        return False
    try:
        return "[filewords]" in Path(template_path).read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        rep.add(
            "template",
            ERROR,
            f"template {args.template_filename} cannot be read ({e})",
            "pick another template",
        )
        return False


def check_captions(args: TrainArgs, facts: DatasetFacts, rep: PreflightReport) -> None:
    """The template uses [filewords]: every image needs a caption file."""
    missing = [i.path for i in facts.images if not i.has_caption]
    empty = [i.path for i in facts.images if i.caption_empty]
    if missing:
        rep.add(
            "captions",
            ERROR,
            f"{len(missing)} image(s) have no caption file, but {args.template_filename} uses [filewords]",
            "write captions in the Captions section, or pick a template without [filewords] "
            "(the webui would use the file name as the caption)",
            missing,
        )
    if empty:
        rep.add(
            "captions-empty",
            WARNING,
            f"{len(empty)} caption file(s) are empty",
            "their prompts will have no description",
            empty,
        )
    if not missing:
        rep.add("captions", OK, "every image has a caption for [filewords]")


def check_model(host: Host, rep: PreflightReport) -> ModelFacts:
    """Whether the loaded model can be trained here."""
    facts = host.model_facts()
    if not facts.loaded:
        rep.add("model", ERROR, "no model is loaded", "load an SD1 or SD2 checkpoint in the webui")
    elif not facts.trainable:
        why = facts.reason or f"{facts.family} models cannot be trained"
        if facts.family == "SDXL":
            why = (
                "the webui can only train embeddings for SD1 and SD2 models; SDXL has two text encoders "
                "and its training code does not support them"
            )
        rep.add(
            "model",
            ERROR,
            f"{facts.name or 'the loaded model'} ({facts.family}) cannot be trained: {why}",
            "choose our trainer (it trains SD1, SD2 and SDXL), or load an SD1 or SD2 checkpoint",
        )
    else:
        rep.add("model", OK, f"{facts.name} ({facts.family}) can be trained")
    if host.is_lowvram():
        rep.add(
            "lowvram",
            ERROR,
            "the webui runs with --lowvram, where it refuses to train embeddings",
            "restart the webui with --medvram instead (training works there)",
        )
    return facts


def check_embedding(host: Host, args: TrainArgs, facts: ModelFacts, rep: PreflightReport) -> int:
    """Embedding presence and width; returns the embedding's current step."""
    name = args.embedding_name
    emb = {e.name: e for e in host.embeddings()}.get(name)
    if not name:
        rep.add(
            "embedding", ERROR, "no embedding selected", "create one in the Embedding section, then refresh"
        )
        return 0
    if emb is None:
        rep.add(
            "embedding",
            ERROR,
            f"the webui has no embedding named {name!r}",
            "create it in the Embedding section, or press refresh if the file was just added",
        )
        return 0
    if not emb.loaded:
        rep.add(
            "embedding",
            ERROR,
            f"the webui skipped {name!r} (its width {emb.width} does not fit the loaded model)",
            "load a model of the family it was made for, or create a new embedding",
        )
        return 0
    initial = emb.step or 0
    if facts.embedding_width and emb.width and emb.width != facts.embedding_width:
        rep.add(
            "width",
            ERROR,
            f"{name} is {emb.width} wide but the loaded model expects {facts.embedding_width}",
            "create a new embedding for this model",
        )
    return initial


def check_steps(args: TrainArgs, initial: int, rep: PreflightReport) -> None:
    """The webui's trainer starts from the embedding's stored step (ours: ``own_initial_step``)."""
    if initial >= args.steps:
        rep.add(
            "steps",
            ERROR,
            f"{args.embedding_name} already has {initial} steps and max steps is {args.steps}: "
            "the webui would return at once",
            f"max steps counts from zero: set it above {initial}",
        )
    elif initial:
        rep.add("resume", OK, f"continues from step {initial} (max steps {args.steps} includes them)")


def check_schedules(args: TrainArgs, initial: int, rep: PreflightReport) -> int:
    """Learning rate and clip-grad schedules; returns the step a complete run ends at."""
    final = args.steps
    try:
        sched = check_schedule(args.learn_rate, args.steps, min(initial, args.steps - 1))
        final = sched.final_step
        rep.schedule_text = sched.explain()
        rep.add("learn_rate", OK, rep.schedule_text)
        for w in sched.warnings:
            rep.add("learn_rate", WARNING, w, "check the learning-rate schedule")
    except ScheduleError as e:
        rep.add("learn_rate", ERROR, f"learning rate: {e}", "write a number like 0.005 or 0.005:500, 0.001")
    if args.clip_grad_mode != "disabled":
        try:
            clip = check_schedule(
                args.clip_grad_value, args.steps, min(initial, args.steps - 1), "clip value"
            )
            rep.add("clip", OK, "gradient clipping: " + clip.explain("clip value", keeps_last=True))
        except ScheduleError as e:
            rep.add("clip", ERROR, f"clip value: {e}", "write a number like 0.1, or disable clipping")
    return final


def estimate_bytes(
    args: TrainArgs, n_vectors: int, width: int, initial: int, final: int, save_optimizer: bool
) -> int:
    """Disk a run needs: checkpoints (+ .optim), previews, image embeddings, final file, logs."""
    vec = n_vectors * width * 4 + 2048
    per_ckpt = vec + (2 * vec + 2048 if save_optimizer else 0)
    n_ckpt = len(planned_checkpoint_steps(initial, final, args.save_embedding_every)) + 1  # + final save
    img = args.training_width * args.training_height * 3 + 4096  # PNG of noise-like previews: ~raw size
    n_img = len(planned_checkpoint_steps(initial, final, args.create_image_every))
    images = n_img * img * (2 if args.save_image_with_stored_embedding else 1)
    return n_ckpt * per_ckpt + images + 1024 * 1024


def _existing_parent(path: Path) -> Path:
    p = path.resolve()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_log_folder(args: TrainArgs, rep: PreflightReport) -> Path | None:
    """The existing folder the run folder will be made in (None, with an error, when there is none).
    The folder itself was allowed by ``check_folders``."""
    try:
        base = _existing_parent(Path(args.log_directory))
    except (OSError, ValueError) as e:  # a NUL byte, a name longer than the file system allows
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        rep.add("log", ERROR, f"the log folder is not a usable path ({why})", "choose another log folder")
        return None
    if not os.access(base, os.W_OK):
        rep.add("log", ERROR, f"cannot write into {base}", "choose a log folder you can write to")
        return None
    return base


def check_disk(
    args: TrainArgs, host: Host, initial: int, final: int, base: Path, rep: PreflightReport
) -> None:
    emb = {e.name: e for e in host.embeddings()}.get(args.embedding_name)
    n_vec, width = (emb.vectors or 1, emb.width or 768) if emb else (1, 768)
    need = estimate_bytes(
        args, n_vec, width, initial, final, bool(host.webui_option("save_optimizer_state", False))
    )
    free = shutil.disk_usage(base).free
    if free < need + DISK_MARGIN:
        rep.add(
            "disk",
            ERROR,
            f"{free / 2**20:.0f} MB free in {base}; this run needs about {need / 2**20:.0f} MB "
            f"plus {DISK_MARGIN // 2**20} MB to spare",
            "free some space, save less often or choose another folder",
        )
    else:
        rep.add("disk", OK, f"about {need / 2**20:.1f} MB needed, {free / 2**30:.1f} GB free")


def check_run_folder(
    args: TrainArgs, initial: int, final: int, rep: PreflightReport, now: _dt.datetime
) -> None:
    """An earlier run of the same name and day: checkpoints it would overwrite, a CSV it appends to."""
    folder = run_folder(args.log_directory, args.embedding_name, now)
    rep.run_folder = str(folder)
    planned = (own_checkpoint_steps if args.trainer == "own" else planned_checkpoint_steps)(
        initial, final, args.save_embedding_every
    )
    clashes = [
        p
        for n in planned
        for ext in (".pt", ".safetensors")
        if (p := folder / "embeddings" / f"{args.embedding_name}-{n}{ext}").exists()
    ]
    if clashes:
        rep.add(
            "collision",
            ERROR,
            f"{len(clashes)} checkpoint(s) from an earlier run today would be overwritten in {folder}",
            "move them away, rename the embedding, or choose another log folder",
            clashes,
        )
    if (folder / LOSS_CSV).exists():
        rep.add(
            "csv",
            WARNING,
            "an earlier run today already wrote a loss CSV there; this run appends to it",
            "the plot shows only the newest run",
        )
    rep.add("folder", OK, f"the run's log folder {folder} is created before the webui starts")


def check_loss_csv_period(host: Host, final: int, override: int | None, rep: PreflightReport) -> None:
    every = override or int(host.webui_option("training_write_csv_every", 500) or 0)
    if every <= 0:
        rep.add(
            "csv-period",
            WARNING,
            "the webui's loss CSV is off (Settings → Training), so there is no loss plot",
            "set the loss-plot period in this section, or enable the CSV in the webui's settings",
        )
    elif every > max(1, final // 10):
        rep.add(
            "csv-period",
            WARNING,
            f"the loss CSV gets a row every {every} steps: only {final // every} points",
            "lower the loss-plot period (this section) for a useful plot",
        )
    else:
        rep.add("csv-period", OK, f"loss plotted every {every} steps")


# -- the whole pre-flight -----------------------------------------------------------------------


def run_preflight(
    host: Host,
    args: TrainArgs,
    now: _dt.datetime | None = None,
    facts: DatasetFacts | None = None,
) -> PreflightReport:
    """All checks; ``report.ok`` is False when any check failed (then do not start)."""
    now = now or _dt.datetime.now()
    rep = PreflightReport()
    try:
        args.check_types()
    except TypeError as e:
        rep.add("types", ERROR, str(e), "correct the value in the form")
        return rep
    data_ok, log_ok = check_folders(host, args, rep)
    if facts is None and data_ok and is_folder(args.data_root):
        facts = scan_dataset(args.data_root)
    templates = host.templates()
    tpath = templates.get(args.template_filename)
    if not tpath:
        rep.add(
            "template",
            ERROR,
            f"the webui has no prompt template {args.template_filename!r}",
            f"pick one of: {', '.join(sorted(templates)) or '(none found)'}",
        )
    if data_ok:
        check_dataset(args, facts, rep, tpath)
    check_numbers(args, rep, len(facts.readable) if facts else 0)
    check_template_name(args, tpath, rep)
    model = check_own_model(host, rep) if args.trainer == "own" else check_model(host, rep)
    initial = check_embedding(host, args, model, rep)
    if args.trainer == "own":
        check_own_options(args, rep)
        initial = own_initial_step(host, args, rep) or initial
    else:
        check_steps(args, initial, rep)
    check_base_model(host, args, model, rep)
    rep.initial_step = initial
    final = check_schedules(args, initial, rep) if args.steps > initial else args.steps
    rep.final_step = final
    check_loss_csv_period(host, final, args.loss_csv_every or None, rep)
    base = check_log_folder(args, rep) if log_ok else None
    if base is not None:
        check_disk(args, host, initial, final, base, rep)
        check_run_folder(args, initial, final, rep, now)
    return rep


# -- the "crop them" fix ---------------------------------------------------------------------------


def crop_copy_to_size(
    folder: str | os.PathLike,
    width: int,
    height: int,
    progress: Progress | None = None,
    dest: str | os.PathLike | None = None,
) -> tuple[Path, list[str]]:
    """Copy every image of ``folder`` into a new folder at exactly ``width``×``height``: images
    of another size are centre-cropped to the aspect ratio and resized (Lanczos); right-sized ones
    and caption files are copied as they are. Returns the new folder and per-file problems. The
    user's folder is never written to."""
    from lib_textinv.dataset.scan import list_images
    from lib_textinv.kit.files import check_output_dir
    from lib_textinv.kit.images import ImageRefused

    src = Path(folder)
    dst = check_output_dir(src, dest if dest is not None else free_crop_folder(src, width, height))
    dst.mkdir(parents=True, exist_ok=True)
    files = list_images(src)
    progress = progress or Progress()
    progress.begin(len(files), "cropping to the training size")
    problems = []
    for p in files:
        progress.check()
        try:
            _crop_copy_one(p, dst, width, height)
        except (ImageRefused, OSError, ValueError) as e:
            problems.append(f"{p.name}: {e}")
            logger.warning("crop copy: %s: %s", p.name, e)
        progress.step(text=p.name)
    return dst, problems


def free_crop_folder(src: Path, width: int, height: int) -> Path:
    """``<src>-<w>x<h>`` beside the source, or ``-2``, ``-3``… when that one has files."""
    dest = src.parent / f"{src.name}-{width}x{height}"
    i = 2
    while dest.exists() and any(dest.iterdir()):
        dest = src.parent / f"{src.name}-{width}x{height}-{i}"
        i += 1
    return dest


def _crop_copy_one(p: Path, dst: Path, width: int, height: int) -> None:
    from PIL import Image

    from lib_textinv.captions.files import caption_path
    from lib_textinv.kit.files import atomic_save_image, atomic_write_bytes
    from lib_textinv.kit.images import load_rgb  # from memory, as every step reads images

    out = dst / p.name
    if out.exists():
        raise FileExistsError(f"{out} already exists; not overwritten")
    im = load_rgb(p)
    if im.size == (width, height):
        atomic_write_bytes(out, p.read_bytes())
    else:
        scale = max(width / im.width, height / im.height)
        cw, ch = round(width / scale), round(height / scale)
        left, top = (im.width - cw) // 2, (im.height - ch) // 2
        im = im.crop((left, top, left + cw, top + ch)).resize((width, height), Image.Resampling.LANCZOS)
        suffix = p.suffix.lower()
        params: dict[str, Any] = {"quality": 95} if suffix in (".jpg", ".jpeg", ".webp") else {}
        if suffix not in (".jpg", ".jpeg", ".png", ".webp"):  # gif/tiff/bmp: PIL writes PNG more reliably
            out = out.with_suffix(".png")
        atomic_save_image(im, out, **params)
    cap = caption_path(p)
    if cap.is_file():
        atomic_write_bytes(caption_path(out), cap.read_bytes())
