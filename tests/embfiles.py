"""Real embedding files in the webui's layout (textual_inversion.py:54-71, Embedding.save).

Used by tests of checkpoints, promotion, drift and sweeps: files are written with torch.save /
safetensors exactly as the webui writes or reads them.
"""

from __future__ import annotations

from pathlib import Path


def webui_pt_payload(
    vec,
    name: str,
    step: int | None = None,
    checkpoint: str | None = "abcdef0123",
    checkpoint_name: str | None = "tiny-sd1",
):
    """The dict ``Embedding.save`` writes (textual_inversion.py:54-71)."""
    return {
        "string_to_token": {"*": 265},
        "string_to_param": {"*": vec},
        "name": name,
        "step": step,
        "sd_checkpoint": checkpoint,
        "sd_checkpoint_name": checkpoint_name,
    }


def write_pt(path: Path, vec, name: str | None = None, step: int | None = None) -> Path:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(webui_pt_payload(vec, name or path.stem, step), path)
    return path


def write_safetensors(path: Path, vec, key: str = "emb_params") -> Path:
    """kohya-style SD1/SD2 safetensors embedding (create_embedding_from_data layout 3)."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({key: vec.contiguous()}, str(path))
    return path


def write_training_run(
    log_dir: Path,
    name: str,
    steps=(5, 10, 15, 20),
    n_vectors: int = 2,
    width: int = 768,
    date: str = "2026-11-25",
    seed: int = 0,
) -> Path:
    """``<log>/<date>/<name>/embeddings/<name>-<N>.pt`` as train_embedding writes them: the
    file named -N stores step N-1 (docs/webui-contract.md §14)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    run = log_dir / date / name
    vec = torch.randn(n_vectors, width, generator=g) * 0.01
    for n in steps:
        vec = vec + torch.randn(n_vectors, width, generator=g) * 0.01
        write_pt(run / "embeddings" / f"{name}-{n}.pt", vec.clone(), name=f"{name}-{n}", step=n - 1)
    return run


class MaliciousPayload:
    """Pickling this runs ``os.system`` on load; a safe loader must refuse it."""

    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > /dev/null",))


def write_malicious_pt(path: Path) -> Path:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"string_to_param": {"*": MaliciousPayload()}, "name": path.stem}, path)
    return path
