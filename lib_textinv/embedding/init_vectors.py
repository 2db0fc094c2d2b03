"""A new embedding's starting vectors from its initialization text, through each text encoder's own
token table: what the webui's ``create_embedding`` does for SD1 (textual_inversion.py:266-272,
sd_hijack_clip.py:362-367), done here for the models it cannot create for (SDXL: clip_l and
clip_g each from their own table, docs/webui-contract.md §25 SDXL embeddings).

The rule: the text's first ``n`` token ids (``n`` = vectors per token), their rows of the table,
spread over the ``n`` vectors (vector ``i`` = row ``i * rows // n``; fewer tokens than vectors are
repeated). An empty text gives zero vectors.
"""

from __future__ import annotations

from typing import Any

from lib_textinv.kit.host import Host, TokenTable


def spread(rows: Any, vectors: int) -> Any:
    """``[t, w]`` token rows → ``[vectors, w]``: row ``i * t // vectors`` for vector ``i``."""
    t = int(rows.shape[0])
    return rows[[i * t // vectors for i in range(vectors)]]


def init_vectors(table: TokenTable, text: str, vectors: int) -> Any:
    """``[vectors, width]`` float32 on the CPU from ``text`` under one encoder's table."""
    import torch

    matrix = table.matrix()
    width = int(matrix.shape[1])
    ids = table.encode(text)[:vectors] if text else []
    if not ids:
        return torch.zeros(vectors, width)
    with torch.no_grad():
        rows = matrix[torch.tensor(ids, device=matrix.device)].detach().float().cpu()
    return spread(rows, vectors).clone()


def init_parts(host: Host, parts: list[str], text: str, vectors: int) -> dict[str, Any]:
    """Part → starting vectors, each part through the loaded model's table for it
    (``host.token_table(part)``; raises ``Unavailable`` when the model has no such encoder)."""
    return {part: init_vectors(host.token_table(part), text, vectors) for part in parts}
