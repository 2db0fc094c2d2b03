"""CLIP image/text embeddings through open_clip: the one loader for the dataset's variety
(Embedding) and the CLIP scores (Scores).

Features get the model the settings name, searched for in one list of folders (``search_dirs``:
the ``clip_cache_dir`` setting, the host's own CLIP folder such as the webui's
``--clip-models-path``, open_clip's ``~/.cache/clip``, then the Hugging Face cache), in one of two
ways:

* ``clip_for_job(host)``, a context manager: the model for one job, released when the job ends
  (ViT-L-14 is about 1.7 GB of float32 weights: a one-off job such as a recommendation must not
  leave the webui's process that much larger for good). When the kept model below is the one the
  settings name, it is lent instead of loading a second copy.
* ``clip_from_settings(host)``: loaded once and kept for the next call, for a feature the user
  repeats in a row (Scores: every Score click measures CLIP-I/CLIP-T again). At most ONE model is
  kept (the last one asked for); ``forget_kept()`` releases it.

Nothing is ever downloaded: weights missing from disk raise ``Unavailable`` naming the places
looked at. torch and open_clip are imported inside functions so that importing lib_textinv stays
cheap.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import pickle
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from lib_textinv.kit.host import Facts, Unavailable

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "ViT-L-14"  # SD1's text encoder is OpenAI CLIP ViT-L/14: same family
DEFAULT_PRETRAINED = "openai"


class ClipEmbedder:
    """An open_clip model with its image transform and tokenizer; outputs are L2-normalised numpy
    arrays ``[n, d]`` (float32), so a dot product is the cosine similarity."""

    def __init__(self, model: Any, preprocess: Callable, tokenizer: Callable, device: str = "cpu") -> None:
        self.model = model.eval()
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.device = device

    def to(self, device: str) -> ClipEmbedder:
        """Move the model (e.g. back to the CPU after a GPU batch, to leave VRAM to the webui)."""
        if device != self.device:
            self.model.to(device)
            self.device = device
        return self

    def drop(self) -> None:
        """Let go of the model: whoever still holds this embedder (a finished job's frame, a
        traceback) no longer keeps its weights alive. Using it afterwards raises."""
        self.model = self.preprocess = self.tokenizer = _Dropped()

    @property
    def dim(self) -> int:
        return int(self.model.text_projection.shape[1])

    def embed_images(self, images: list, batch_size: int = 16):
        """PIL images → ``[n, d]``; images are converted to RGB first (CLIP expects three channels)."""
        import numpy as np
        import torch

        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        batch_size = max(1, int(batch_size))
        out = []
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                chunk = images[start : start + batch_size]
                x = torch.stack([self.preprocess(im.convert("RGB")) for im in chunk]).to(self.device)
                x = x.to(next(self.model.parameters()).dtype)
                feats = self.model.encode_image(x).float()
                out.append(torch.nn.functional.normalize(feats, dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)

    def embed_texts(self, texts: list[str]):
        import numpy as np
        import torch

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with torch.no_grad():
            tokens = self.tokenizer(list(texts)).to(self.device)
            feats = self.model.encode_text(tokens).float()
            return torch.nn.functional.normalize(feats, dim=-1).cpu().numpy().astype(np.float32)


class _Dropped:
    """Stands in for a dropped model: any use says why instead of a confusing AttributeError."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("this CLIP model was released at the end of its job")

    def __call__(self, *a: Any, **k: Any) -> Any:
        raise RuntimeError("this CLIP model was released at the end of its job")


def default_cache_dirs() -> list[str]:
    """Where open_clip (and the ``clip`` package the webui's interrogator uses) keep URL downloads."""
    return [os.path.expanduser("~/.cache/clip")]


def hf_cache_dir() -> str | None:
    """The Hugging Face hub cache (``HF_HUB_CACHE``), searched last for hub-hosted weights."""
    try:
        from huggingface_hub import constants
    except ImportError:
        return None
    return str(constants.HF_HUB_CACHE)


def search_dirs(host: Facts) -> list[str]:
    """The folders searched for URL-hosted weights, in order, for every feature alike: the
    ``clip_cache_dir`` setting, the host's CLIP folders, open_clip's own cache."""
    dirs = [str(host.setting("clip_cache_dir", "") or "").strip()]
    try:
        dirs += host.clip_cache_dirs()
    except Unavailable as e:  # a host without CLIP folders still has the others
        logger.debug("no host CLIP folders: %s", e)
    dirs += default_cache_dirs()
    return list(dict.fromkeys(d for d in dirs if d))


def find_cached_weights(
    model_name: str, pretrained: str, cache_dirs: Sequence[str] = ()
) -> tuple[str | None, str]:
    """The local file holding ``model_name``/``pretrained`` weights, or ``(None, where-we-looked)``.

    Looks only on disk. ``pretrained`` may also be a path to a checkpoint file.
    """
    from open_clip import pretrained as oc_pretrained

    if pretrained and os.path.isfile(pretrained):
        return pretrained, pretrained
    cfg = oc_pretrained.get_pretrained_cfg(model_name, pretrained)
    if not cfg:
        tags = oc_pretrained.list_pretrained_tags_by_model(model_name)
        raise Unavailable(
            f"open_clip has no pretrained tag {pretrained!r} for model {model_name!r}"
            + (f" (known tags: {', '.join(tags)})" if tags else " (unknown model name)")
        )
    dirs = list(dict.fromkeys(d for d in [*cache_dirs, *default_cache_dirs()] if d))
    url = cfg.get("url", "")
    if url:
        filename = os.path.basename(url)
        for d in dirs:
            candidate = os.path.join(os.path.expanduser(d), filename)
            if os.path.isfile(candidate) and os.path.getsize(candidate) > 0:
                return candidate, candidate
        where = " or ".join(os.path.join(d, filename) for d in dirs)
        return None, where
    hub = cfg.get("hf_hub", "")
    if hub:
        repo_id, filename = os.path.split(hub)
        filename = filename or "open_clip_pytorch_model.bin"
        try:
            from huggingface_hub import try_to_load_from_cache
        except ImportError:
            return None, f"the Hugging Face cache (huggingface_hub is not installed) for {repo_id}/{filename}"
        hub_dirs = [d for d in [*cache_dirs, hf_cache_dir()] if d]
        for d in hub_dirs:
            found = try_to_load_from_cache(repo_id, filename, cache_dir=d)
            if isinstance(found, str) and os.path.isfile(found):
                return found, found
        return None, f"the Hugging Face cache entry {repo_id}/{filename} in {' or '.join(hub_dirs)}"
    return None, f"nowhere (open_clip lists no source for {model_name}/{pretrained})"


def load_clip(
    model_name: str = DEFAULT_MODEL,
    pretrained: str = DEFAULT_PRETRAINED,
    device: str = "cpu",
    cache_dirs: Sequence[str] = (),
) -> ClipEmbedder:
    """Build the embedder from weights already on disk; raises ``Unavailable`` (never downloads)."""
    try:
        import open_clip
        import torch  # noqa: F401  (open_clip needs it; a clear message if missing)
    except ImportError as e:
        raise Unavailable(
            f"open_clip is not installed ({e}); the recommendation uses the image count only"
        ) from e

    path, where = find_cached_weights(model_name, pretrained, cache_dirs)
    if path is None:
        raise Unavailable(
            f"open_clip weights {model_name}/{pretrained} are not in the cache at {where}; "
            "no download at run time"
        )
    logger.info("loading open_clip %s/%s from %s on %s", model_name, pretrained, path, device)
    try:
        if pretrained == "openai":
            # A JIT or state-dict file from OpenAI; load_openai_model takes a file path without
            # touching the network (the same file the webui's interrogator uses).
            model = open_clip.load_openai_model(path, precision="fp32", device=device)
            mean, std = open_clip.OPENAI_DATASET_MEAN, open_clip.OPENAI_DATASET_STD
        else:
            from open_clip import pretrained as oc_pretrained

            model = open_clip.create_model(model_name, pretrained=path, device=device)
            cfg = oc_pretrained.get_pretrained_cfg(model_name, pretrained) or {}
            mean = cfg.get("mean") or open_clip.OPENAI_DATASET_MEAN
            std = cfg.get("std") or open_clip.OPENAI_DATASET_STD
    except (RuntimeError, OSError, KeyError, ValueError, EOFError, pickle.UnpicklingError) as e:
        # a corrupt or foreign file, or CUDA out of memory (a RuntimeError)
        raise Unavailable(
            f"open_clip weights {model_name}/{pretrained} at {path} could not be loaded: {e}"
        ) from e
    preprocess = open_clip.image_transform(model.visual.image_size, is_train=False, mean=mean, std=std)
    tokenizer = open_clip.get_tokenizer(model_name)
    return ClipEmbedder(model, preprocess, tokenizer, device=device)


def resolve_device(device: str | None) -> str:
    """``auto`` → ``cuda`` when torch sees a GPU, else ``cpu``."""
    device = (device or "auto").strip().lower()
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


# The kept model (``clip_from_settings``): one entry at most, keyed by (model, tag, search folders).
_cache: dict[tuple, ClipEmbedder] = {}
_cache_lock = threading.Lock()


def cached_clip(
    model_name: str, pretrained: str, device: str = "cpu", cache_dirs: Sequence[str] = ()
) -> ClipEmbedder:
    """``load_clip`` once per (model, tag, search folders); only the last one is kept in memory. The
    embedder is moved to ``device`` on each call."""
    key = (model_name, pretrained, tuple(cache_dirs))
    with _cache_lock:
        emb = _cache.get(key)
        if emb is None:
            if _cache:
                _cache.clear()  # not dropped: a job still using the old model finishes with it
                release_memory()
            emb = load_clip(model_name, pretrained, device=device, cache_dirs=cache_dirs)
            _cache[key] = emb
        return emb.to(device)


def forget_kept() -> None:
    """Stop keeping the kept model, if any (it is freed once no running job uses it)."""
    with _cache_lock:
        had = bool(_cache)
        _cache.clear()
    if had:
        release_memory()


def _configured(host: Facts) -> tuple[str, str, str, int]:
    """(model, pretrained tag, device, batch size) from the ``textinv_clip_*`` settings."""
    model_name = str(host.setting("clip_model", DEFAULT_MODEL) or DEFAULT_MODEL).strip()
    pretrained = str(host.setting("clip_pretrained", DEFAULT_PRETRAINED) or DEFAULT_PRETRAINED).strip()
    batch = max(1, int(host.setting("clip_batch_size", 16) or 16))
    try:
        device = resolve_device(host.setting("clip_device", "auto"))
    except ImportError as e:
        raise Unavailable(f"torch is not installed ({e})") from e
    return model_name, pretrained, device, batch


def clip_from_settings(host: Facts) -> tuple[ClipEmbedder, int]:
    """The embedder the user configured (``textinv_clip_model``, ``_pretrained``, ``_device``) from
    ``search_dirs(host)``, loaded once and KEPT, and the ``_batch_size``; raises ``Unavailable``.
    For one-off jobs use ``clip_for_job``."""
    model_name, pretrained, device, batch = _configured(host)
    return cached_clip(model_name, pretrained, device, search_dirs(host)), batch


@contextlib.contextmanager
def clip_for_job(host: Facts) -> Iterator[tuple[ClipEmbedder, int]]:
    """The configured embedder and batch size for the duration of one job; raises ``Unavailable``.

    Loaded for this job alone and released at its end (dropped, garbage collected, the freed
    memory handed back to the system), unless it is the kept model of ``clip_from_settings``,
    which is lent and only moved back to the CPU."""
    model_name, pretrained, device, batch = _configured(host)
    dirs = search_dirs(host)
    with _cache_lock:
        kept = _cache.get((model_name, pretrained, tuple(dirs)))
    embedder = kept if kept is not None else load_clip(model_name, pretrained, device=device, cache_dirs=dirs)
    try:
        yield embedder.to(device), batch
    finally:
        if kept is not None:
            kept.to("cpu")  # the VRAM goes back to the webui between uses
        else:
            embedder.drop()
            del embedder
            release_memory()


def release_memory() -> None:
    """Hand freed model memory back: collect (a model may sit in reference cycles), empty torch's
    CUDA cache, and on glibc trim the heap (freed weights otherwise stay in the process's RSS)."""
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # musl or another libc: nothing to trim
            ctypes.CDLL("libc.so.6").malloc_trim(0)
