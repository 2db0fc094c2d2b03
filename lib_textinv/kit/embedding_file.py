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
            return load_file(str(path), device="cpu")
        except Exception as e:  # safetensors raises its own error types for corrupt headers
            raise EmbeddingFileError(f"{path.name}: not a readable safetensors file ({e})") from e
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
    elif len(data) == 1 and isinstance(next(iter(data.values())), torch.Tensor):
        vec = next(iter(data.values()))
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
