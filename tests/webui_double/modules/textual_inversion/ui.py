"""modules/textual_inversion/ui.py:17-37 — the Train tab's function: refuses --lowvram (:19), runs
the trainer (without the cross-attention optimisations unless the option says so, :21-24, :35-37,
not modelled) and returns the message the Train tab shows (:28-32)."""

import html

from modules import shared
from modules.textual_inversion import textual_inversion


def train_embedding(*args):
    assert not shared.cmd_opts.lowvram, "Training models with lowvram not possible"
    embedding, filename = textual_inversion.train_embedding(*args)
    res = f"""
Training {"interrupted" if shared.state.interrupted else "finished"} at {embedding.step} steps.
Embedding saved to {html.escape(filename)}
"""
    return res, ""
