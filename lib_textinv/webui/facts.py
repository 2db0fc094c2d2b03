"""What the webui around us is: its version, Forge or AUTOMATIC1111, the loaded model's family and
what it allows, the folders it uses and its options. Reads only; never loads a model.
(docs/webui-contract.md §1 version and Forge, §8 model and folders, §22 what Forge lacks.)"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
from typing import Any

from modules import shared

from lib_textinv.kit.folder_guard import FileAccess, parse_roots
from lib_textinv.kit.host import HostPaths, ModelFacts

logger = logging.getLogger(__name__)

MIN_VERSION = (1, 6, 0)
# Token-embedding width per family (what an embedding for it must have).
WIDTHS = {"SD1": 768, "SD2": 1024, "SD2-v": 1024, "SDXL": 2048}
TRAINABLE = ("SD1", "SD2", "SD2-v")
FORGE_NO_TRAINING = "Forge removed Textual Inversion training; use AUTOMATIC1111 to train"
FORGE_NO_TOKENIZER = "token counts need the A1111 text encoder wrapper (not in Forge)"
LOWVRAM_NO_TRAINING = "the webui refuses Textual Inversion training with --lowvram; restart without it"


def is_forge() -> bool:
    """Forge ships a top-level ``modules_forge`` package next to ``modules``."""
    return importlib.util.find_spec("modules_forge") is not None


def host_kind() -> str:
    return "forge" if is_forge() else "webui"


def webui_version() -> tuple[int, ...] | None:
    """(1, 10, 1) from the git tag, or None when unknown (a zip download has no tag)."""
    try:
        from modules import launch_utils

        tag = launch_utils.git_tag()
    except (ImportError, AttributeError, OSError) as e:
        logger.debug("webui version unknown: %s", e)
        return None
    m = re.match(r"v?(\d+)\.(\d+)\.?(\d+)?", str(tag or ""))
    return tuple(int(x or 0) for x in m.groups()) if m else None


def version_text() -> str | None:
    v = webui_version()
    return ".".join(map(str, v)) if v else None


def version_problem() -> str | None:
    """The message the tab shows instead of itself on a webui older than ``MIN_VERSION``."""
    v = webui_version()
    if v is not None and v < MIN_VERSION:
        return (
            f"sd-webui-textinv needs AUTOMATIC1111 webui 1.6 or newer; this is {'.'.join(map(str, v))}. "
            "Update the webui (git pull) and restart."
        )
    return None


def loaded_model() -> Any:
    """The loaded model or None, without triggering a (blocking) load (modules/sd_models.py:683-701)."""
    from modules import sd_models

    return getattr(sd_models.model_data, "sd_model", None)


def family(m: Any) -> str:
    if getattr(m, "is_sdxl", False):
        return "SDXL"
    if getattr(m, "is_sd3", False):
        return "SD3"
    if getattr(m, "is_sd2", False):
        return "SD2-v" if getattr(m, "parameterization", "eps") == "v" else "SD2"
    if getattr(m, "is_sd1", False):
        return "SD1"
    return "unknown"


def paths() -> HostPaths:
    from modules import paths_internal

    opts, cmd = shared.opts, shared.cmd_opts
    return HostPaths(
        embeddings_dir=getattr(cmd, "embeddings_dir", None),
        # The Train tab's default log directory, relative to the process cwd (modules/ui.py:962).
        ti_log_dir=os.path.abspath("textual_inversion"),
        templates_dir=getattr(cmd, "textual_inversion_templates_dir", None),
        outdir_samples=getattr(opts, "outdir_samples", "") or getattr(opts, "outdir_txt2img_samples", None),
        outdir_grids=getattr(opts, "outdir_grids", "") or getattr(opts, "outdir_txt2img_grids", None),
        data_dir=paths_internal.data_path,
    )


def model_facts(kind: str) -> ModelFacts:
    m = loaded_model()
    if m is None or getattr(m, "sd_checkpoint_info", None) is None:
        return ModelFacts(reason="no model is loaded yet (select a checkpoint at the top of the page)")
    fam = family(m)
    info = m.sd_checkpoint_info
    trainable, reason = fam in TRAINABLE, ""
    if kind == "forge":
        trainable, reason = False, FORGE_NO_TRAINING
    elif fam == "SDXL":
        reason = "the webui's own trainer handles SD1 and SD2 only (our trainer trains SDXL)"
    elif not trainable:
        reason = f"the webui cannot train embeddings for {fam} models (SD1 and SD2 only)"
    return ModelFacts(
        loaded=True,
        family=fam,
        name=getattr(info, "model_name", "") or "",
        short_hash=getattr(info, "shorthash", "") or "",
        native_resolution=768 if fam in ("SD2-v", "SDXL") else 512,
        embedding_width=WIDTHS.get(fam),
        trainable=trainable,
        reason=reason,
    )


def feature(kind: str, name: str) -> tuple[bool, str]:
    """(available, why not) for one of ``kit.host.FEATURES``; reads the model only when needed."""
    if name in ("caption", "upscale"):
        return True, ""
    if name == "deepbooru":
        ok = importlib.util.find_spec("modules.deepbooru") is not None
        return ok, "" if ok else "DeepBooru is not part of this webui"
    if name == "clip":
        ok = importlib.util.find_spec("open_clip") is not None
        return ok, "" if ok else "open_clip is not installed"
    facts = model_facts(kind)
    if not facts.loaded:
        return False, facts.reason
    if name == "tokenizer":
        return (False, FORGE_NO_TOKENIZER) if kind == "forge" else (True, "")
    if name == "generate":
        return True, ""
    if name == "create" and facts.family == "SDXL" and kind != "forge":
        return True, ""  # we write SDXL embeddings ourselves (docs/webui-contract.md §25 SDXL embeddings)
    if name in ("create", "train"):
        if not facts.trainable:
            return False, facts.reason
        if name == "train" and is_lowvram():
            return False, LOWVRAM_NO_TRAINING
        return True, ""
    return False, f"{name}: not offered by this webui"


def setting(key: str, default: Any = None) -> Any:
    key = key if key.startswith("textinv_") else f"textinv_{key}"
    return getattr(shared.opts, key, default)


def webui_option(key: str, default: Any = None) -> Any:
    return getattr(shared.opts, key, default)


def is_lowvram() -> bool:
    return bool(getattr(shared.cmd_opts, "lowvram", False))


def state_file(name: str) -> str | None:
    from modules import paths_internal

    return os.path.join(paths_internal.data_path, "textinv", name)


def clip_cache_dirs() -> list[str]:
    from modules import paths_internal

    custom = getattr(shared.cmd_opts, "clip_models_path", None)
    return [custom] if custom else [os.path.join(paths_internal.models_path, "CLIP")]


def file_access() -> FileAccess:
    """A webui reachable from other machines limits the folders users may name, as it limits
    installing extensions (docs/webui-contract.md §23)."""
    cmd = shared.cmd_opts
    if not getattr(cmd, "disable_extension_access", False):
        return FileAccess()
    from modules import paths_internal

    given = [f for f in ("listen", "share", "ngrok", "server_name") if getattr(cmd, f, None)]
    flags = " ".join(f"--{f.replace('_', '-')}" for f in given) or "remote access"
    own = paths()  # the webui's own folders: its data, embeddings and training-log folders
    webui_folders = [paths_internal.data_path, own.embeddings_dir, own.ti_log_dir]
    roots = [r for r in webui_folders if r] + parse_roots(str(setting("allowed_folders", "") or ""))
    return FileAccess(
        restricted=True,
        roots=tuple(dict.fromkeys(roots)),
        why=f"the webui runs with {flags} and without --enable-insecure-extension-access",
    )
