"""modules/sd_models.py:683-701 — ``model_data.sd_model`` holds the loaded model (None before)."""

import os
import types


class CheckpointInfo:  # :56-128 (fields we read)
    def __init__(self, filename, model_name, shorthash):
        self.filename = filename
        self.model_name = model_name
        self.name = model_name
        self.name_for_extra = os.path.splitext(os.path.basename(filename))[0]  # :88
        self.shorthash = shorthash
        self.title = f"{model_name} [{shorthash}]"


# SdModelData (:676-712); the double never loads a model on demand (get_sd_model would).
model_data = types.SimpleNamespace(sd_model=None)


def select_checkpoint():  # :218-240
    m = model_data.sd_model
    if m is None:
        raise FileNotFoundError("No checkpoints found")
    return m.sd_checkpoint_info


def make_model(family="SD1", name="tiny-sd1", shorthash="d10cce5e4d"):
    """Double only: a loaded, hijacked model stand-in (see _tiny_model) with the flags
    set_model_type sets (:379-402)."""
    from modules._tiny_model import TinyModel

    return TinyModel(family, CheckpointInfo(f"/models/{name}.safetensors", name, shorthash), shorthash)
