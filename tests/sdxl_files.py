"""SDXL embedding files as kohya's and diffusers' SDXL scripts write them (and the webui loads,
textual_inversion.py:296-299): a ``.safetensors`` of ``{"clip_l": [n, 768], "clip_g": [n, 1280]}``;
the step is in the metadata when our trainer wrote it."""

from __future__ import annotations

from pathlib import Path


def sdxl_vectors(n: int = 2, seed: int = 0, scale: float = 0.02) -> dict:
    import torch

    g = torch.Generator().manual_seed(seed)
    return {
        "clip_l": torch.randn(n, 768, generator=g) * scale,
        "clip_g": torch.randn(n, 1280, generator=g) * scale,
    }


def write_sdxl(path: Path, vectors: dict | None = None, step: int | None = None, n: int = 2) -> Path:
    from safetensors.torch import save_file

    vectors = vectors if vectors is not None else sdxl_vectors(n)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"step": str(step)} if step is not None else None
    save_file({k: v.contiguous() for k, v in vectors.items()}, str(path), metadata=meta)
    return path


def write_sdxl_run(
    log_dir: Path, name: str, steps=(5, 10), n: int = 2, date: str = "2026-11-25", seed: int = 0
) -> Path:
    """``<log>/<date>/<name>/embeddings/<name>-<N>.safetensors`` (step N-1 stored, as our trainer's
    checkpoints follow the webui's naming, docs/webui-contract.md §14); returns the run folder."""
    folder = log_dir / date / name
    for i, n_step in enumerate(steps):
        write_sdxl(
            folder / "embeddings" / f"{name}-{n_step}.safetensors", sdxl_vectors(n, seed + i), n_step - 1
        )
    return folder
