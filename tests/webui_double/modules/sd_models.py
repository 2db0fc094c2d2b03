"""modules/sd_models.py:683-701 — ``model_data.sd_model`` holds the loaded model (None before)."""

import types


class CheckpointInfo:  # :56-128 (fields we read)
    def __init__(self, filename, model_name, shorthash):
        self.filename = filename
        self.model_name = model_name
        self.name = model_name
        self.shorthash = shorthash
        self.title = f"{model_name} [{shorthash}]"


model_data = types.SimpleNamespace(sd_model=None)


def select_checkpoint():  # :218-240
    m = model_data.sd_model
    if m is None:
        raise FileNotFoundError("No checkpoints found")
    return m.sd_checkpoint_info


def make_model(family="SD1", name="tiny-sd1", shorthash="d10cce5e4d"):
    """Double only: a loaded-model stand-in with the flags set_model_type sets (:379-402)."""
    return types.SimpleNamespace(
        is_sd1=family == "SD1",
        is_sd2=family in ("SD2", "SD2-v"),
        is_sdxl=family == "SDXL",
        is_sd3=False,
        parameterization="v" if family == "SD2-v" else "eps",
        embedding_width={"SD1": 768, "SD2": 1024, "SD2-v": 1024, "SDXL": 2048}[family],
        sd_checkpoint_info=CheckpointInfo(f"/models/{name}.safetensors", name, shorthash),
    )
