"""Which token counter the Embedding step uses: the loaded model's tokenizer through the host, else
the CLIP BPE shipped in open_clip (the same vocabulary as SD1's, SD2's and SDXL's), else none. On
SDXL the model's count is CLIP-L's, the tokenizer the webui counts prompts with
(docs/webui-contract.md §25 SDXL embeddings)."""

from __future__ import annotations

import logging

from lib_textinv.embedding.init_text import ClipBpeCounter, TokenCounter
from lib_textinv.kit.host import Host, Unavailable

logger = logging.getLogger(__name__)


def host_counter(host: Host) -> TokenCounter | None:
    """The host itself when its tokenizer answers now (a model is loaded), else None."""
    try:
        host.count_tokens("a")
    except Unavailable as e:
        logger.debug("host tokenizer unavailable: %s", e)
        return None
    return host


def token_counter(host: Host) -> tuple[TokenCounter | None, str]:
    """(counter, how it counts, in words) — the model's tokenizer, the CLIP BPE, or none."""
    counter = host_counter(host)
    if counter is not None:
        return counter, "the model's tokenizer"
    try:
        bpe = ClipBpeCounter()
        bpe.count_tokens("a")
    except ImportError:
        return None, ""
    return bpe, "the CLIP tokenizer (no model loaded)"
