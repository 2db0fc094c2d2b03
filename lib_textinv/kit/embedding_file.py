"""Reading and writing embedding files in the webui's layouts, safely.

Layouts (webui textual_inversion.py:287-323, create_embedding_from_data):
1. A1111 / original TI ``.pt``/``.bin``: ``{"string_to_param": {"*": Tensor[n, dim]}, "name", "step", ...}``
2. SDXL ``{"clip_l": [n, 768], "clip_g": [n, 1280]}`` (usually ``.safetensors``)
3. one-key dict of a tensor (kohya ``{"emb_params": [n, dim]}``, diffusers ``{"<tok>": [dim]}``)

``.pt``/``.bin`` are loaded with ``torch.load(weights_only=True)``: a pickle that would run code
is refused (the webui has its own restricted unpickler for the same reason, modules/safe.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EMBEDDING_EXTENSIONS = (".pt", ".bin", ".safetensors")
META_KEYS = ("name", "step", "sd_checkpoint", "sd_checkpoint_name")
SDXL_PARTS = ("clip_l", "clip_g")


class EmbeddingFileError(ValueError):
    """The file is not a usable embedding; the message names file and reason."""


@dataclass
class EmbeddingData:
    path: Path
    vectors: Any  # torch.Tensor [n, dim] (float32, CPU); for SDXL a dict of two tensors
    stored_name: str | None
    step: int | None
    sd_checkpoint: str | None = None
    sd_checkpoint_name: str | None = None

    @property
    def n_vectors(self) -> int:
        v = self.vectors
        return int(v["clip_g"].shape[0]) if isinstance(v, dict) else int(v.shape[0])

    @property
    def width(self) -> int:
        v = self.vectors
        if isinstance(v, dict):
            return int(v["clip_g"].shape[-1] + v["clip_l"].shape[-1])
        return int(v.shape[-1])


def _load_raw(path: Path) -> dict:
    import torch

    ext = path.suffix.lower()
    if ext == ".safetensors":
        from safetensors.torch import load_file

        try:
            tensors: dict[str, Any] = load_file(str(path), device="cpu")
            meta = _safetensors_metadata(path)
        except Exception as e:  # safetensors raises its own error types for corrupt headers
            raise EmbeddingFileError(f"{path.name}: not a readable safetensors file ({e})") from e
        # Our step and checkpoint facts travel as metadata strings (the webui ignores them).
        return {**tensors, **{k: v for k, v in meta.items() if k in META_KEYS}}
    if ext in (".pt", ".bin"):
        try:
            data = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as e:  # UnpicklingError, RuntimeError, EOFError… all mean: refuse it
            msg = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
            if "weights_only" in str(e) or "Unsupported" in str(e) or "global" in str(e).lower():
                raise EmbeddingFileError(
                    f"{path.name}: refused — the file contains code or objects that are not plain "
                    "tensors (unsafe pickle)"
                ) from e
            raise EmbeddingFileError(f"{path.name}: not a readable embedding file ({msg})") from e
        if not isinstance(data, dict):
            raise EmbeddingFileError(f"{path.name}: not an embedding (top level is {type(data).__name__})")
        return data
    raise EmbeddingFileError(f"{path.name}: not an embedding file type ({ext or 'no extension'})")


def _safetensors_metadata(path: Path) -> dict[str, str]:
    from safetensors import safe_open

    opened: Any = safe_open(str(path), framework="pt", device="cpu")  # its stubs lack metadata()
    return dict(opened.metadata() or {})


def _as_vectors(data: dict, path: Path):
    import torch

    if "string_to_param" in data:
        params = data["string_to_param"]
        params = getattr(params, "_parameters", params)
        if not isinstance(params, dict) or len(params) != 1:
            raise EmbeddingFileError(f"{path.name}: expected exactly one vector set in string_to_param")
        vec = next(iter(params.values()))
    elif "clip_g" in data and "clip_l" in data:
        return {k: v.detach().float().cpu() for k, v in data.items() if isinstance(v, torch.Tensor)}
    elif len(tensors := [v for v in data.values() if isinstance(v, torch.Tensor)]) == 1 and (
        len(data) == 1 or path.suffix.lower() == ".safetensors"
    ):
        vec = tensors[0]
    else:
        raise EmbeddingFileError(f"{path.name}: unknown embedding layout (keys: {', '.join(list(data)[:5])})")
    if not isinstance(vec, torch.Tensor):
        raise EmbeddingFileError(f"{path.name}: the vectors are not a tensor")
    vec = vec.detach().float().cpu()
    if vec.dim() == 1:
        vec = vec.unsqueeze(0)
    if vec.dim() != 2:
        raise EmbeddingFileError(f"{path.name}: vectors have shape {tuple(vec.shape)}, expected [n, width]")
    return vec


def load_embedding(path: str | os.PathLike) -> EmbeddingData:
    """Load and validate one embedding file. Raises ``EmbeddingFileError`` with the reason."""
    path = Path(path)
    if not path.is_file():
        raise EmbeddingFileError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise EmbeddingFileError(f"{path.name}: empty file")
    data = _load_raw(path)
    vec = _as_vectors(data, path)

    def _int(v):
        try:
            return int(v) if v is not None else None
        except (TypeError, ValueError):
            return None

    return EmbeddingData(
        path=path,
        vectors=vec,
        stored_name=data.get("name") if isinstance(data.get("name"), str) else None,
        step=_int(data.get("step")),
        sd_checkpoint=data.get("sd_checkpoint") if isinstance(data.get("sd_checkpoint"), str) else None,
        sd_checkpoint_name=data.get("sd_checkpoint_name")
        if isinstance(data.get("sd_checkpoint_name"), str)
        else None,
    )


def check_width(emb: EmbeddingData, expected_width: int | None) -> str | None:
    """None when the embedding fits the loaded model, else the reason in words."""
    if expected_width is None:
        return None
    if emb.width != expected_width:
        return (
            f"{emb.path.name}: vectors are {emb.width} wide but the loaded model expects {expected_width} "
            f"(trained for another model family)"
        )
    return None


# -- writing -----------------------------------------------------------------------------------


def as_parts(vectors: Any) -> dict[str, Any]:
    """Vectors as a dict part → tensor: ``{"*": t}`` for one text encoder, SDXL's dict as it is."""
    return dict(vectors) if isinstance(vectors, dict) else {"*": vectors}


def file_suffix(parts: dict[str, Any]) -> str:
    """SDXL embeddings are ``.safetensors`` (the layout kohya's and diffusers' SDXL scripts write);
    SD1/SD2 ones ``.pt`` in the webui's own layout (its ``Embedding.save``)."""
    return ".safetensors" if set(parts) == set(SDXL_PARTS) else ".pt"


def embedding_bytes(
    parts: dict[str, Any],
    *,
    name: str,
    step: int | None = 0,
    sd_checkpoint: str | None = None,
    sd_checkpoint_name: str | None = None,
) -> bytes:
    """The file's bytes for ``parts`` (``file_suffix`` says which format)."""
    import io

    import torch

    tensors = {k: v.detach().float().cpu().contiguous() for k, v in parts.items()}
    facts = {
        "name": name,
        "step": step,
        "sd_checkpoint": sd_checkpoint,
        "sd_checkpoint_name": sd_checkpoint_name,
    }
    if file_suffix(parts) == ".safetensors":
        from safetensors.torch import save

        meta = {k: str(v) for k, v in facts.items() if v is not None}
        return bytes(save(tensors, metadata=meta))
    if set(tensors) != {"*"}:
        raise ValueError(f"an SD1/SD2 embedding has one vector set, got {', '.join(tensors)}")
    buf = io.BytesIO()
    # modules/textual_inversion/textual_inversion.py:54-71 (Embedding.save): the layout every
    # webui and Forge load; 265 is the "*" token id the webui writes.
    torch.save({"string_to_token": {"*": 265}, "string_to_param": {"*": tensors["*"]}, **facts}, buf)
    return buf.getvalue()


def write_embedding(
    path: str | os.PathLike,
    vectors: Any,
    *,
    name: str,
    step: int | None = 0,
    sd_checkpoint: str | None = None,
    sd_checkpoint_name: str | None = None,
) -> Path:
    """Write an embedding atomically (a reader never sees half a file). ``path``'s suffix must be
    the one ``file_suffix`` gives for the vectors."""
    from lib_textinv.kit.files import atomic_write_bytes

    parts, path = as_parts(vectors), Path(path)
    if path.suffix.lower() != file_suffix(parts):
        raise ValueError(f"{path.name}: these vectors are written as {file_suffix(parts)}")
    data = embedding_bytes(
        parts, name=name, step=step, sd_checkpoint=sd_checkpoint, sd_checkpoint_name=sd_checkpoint_name
    )
    atomic_write_bytes(path, data)
    return path


def vectors_digest(parts: dict[str, Any]) -> str:
    """A short digest of the vectors: an optimizer state belongs to exactly these vectors."""
    import hashlib

    h = hashlib.sha256()
    for k in sorted(parts):
        h.update(k.encode())
        h.update(parts[k].detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def webui_checksum(vec: Any) -> str:
    """The webui's ``Embedding.checksum()`` (modules/textual_inversion/textual_inversion.py:73-84):
    4 hex digits of a hash of ``int(v * 100)`` over the vectors, which tags its ``.optim`` files."""
    import torch

    r = 0
    for v in (vec.detach().float().cpu().reshape(-1) * 100).to(torch.int64).tolist():  # int(): truncates
        r = (r * 281 ^ v * 997) & 0xFFFFFFFF
    return f"{r & 0xFFFF:04x}"


def write_optimizer_state(path: str | os.PathLike, parts: dict[str, Any], state: dict) -> Path:
    """``<embedding file>.optim`` next to it, as the webui keeps it (its ``Embedding.save``), tagged
    with the digest of the vectors it was saved with, and for SD1/SD2 also with the webui's own
    checksum, so the webui's trainer resumes from it too (both optimizers are AdamW on one tensor)."""
    import io

    import torch

    from lib_textinv.kit.files import atomic_write_bytes

    out = Path(f"{os.fspath(path)}.optim")
    buf = io.BytesIO()
    tags: dict[str, Any] = {"textinv_digest": vectors_digest(parts)}
    if set(parts) == {"*"}:
        tags["hash"] = webui_checksum(parts["*"])
    torch.save({**tags, "optimizer_state_dict": state}, buf)
    atomic_write_bytes(out, buf.getvalue())
    return out


def read_optimizer_state(path: str | os.PathLike, parts: dict[str, Any]) -> dict | None:
    """The optimizer state saved with exactly these vectors, else None (missing, unreadable, or
    saved with other vectors: an optimizer state never moves to different vectors)."""
    import torch

    sidecar = Path(f"{os.fspath(path)}.optim")
    if not sidecar.is_file():
        return None
    try:
        data = torch.load(str(sidecar), map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - any unreadable sidecar only means "start a fresh optimizer"
        return None
    if not isinstance(data, dict):
        return None
    ours = data.get("textinv_digest") == vectors_digest(parts)
    # One the webui's trainer saved: tagged with its checksum only (textinv_digest absent).
    theirs = (
        "textinv_digest" not in data
        and set(parts) == {"*"}
        and data.get("hash") == webui_checksum(parts["*"])
    )
    if not (ours or theirs):
        return None
    state = data.get("optimizer_state_dict")
    return state if isinstance(state, dict) else None
