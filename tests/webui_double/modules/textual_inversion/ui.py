"""modules/textual_inversion/ui.py:17-37 — the Train tab's wrapper: refuses --lowvram."""

from modules import shared
from modules.textual_inversion import textual_inversion


def train_embedding(*args):
    assert not shared.cmd_opts.lowvram, "Training models with lowvram not possible"
    embedding, filename = textual_inversion.train_embedding(*args)
    res = (
        f"Training {'interrupted' if shared.state.interrupted else 'finished'} at {embedding.step} steps.\n"
        f"Embedding saved to {filename}"
    )
    return res, ""
