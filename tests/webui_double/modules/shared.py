"""modules/shared.py — opts, cmd_opts, state and the lazy ``sd_model`` (shared_items.py:163-184)."""

import types

from modules import options, shared_state
from modules.options import OptionInfo  # noqa: F401  (re-exported like the real module)

cmd_opts = types.SimpleNamespace(
    embeddings_dir=None,
    textual_inversion_templates_dir=None,
    lowvram=False,
    medvram=False,
    api_auth=None,
    data_dir=None,
    disable_safe_unpickle=False,
)
opts = options.Options(
    {
        "outdir_samples": "",
        "outdir_txt2img_samples": "outputs/txt2img-images",
        "outdir_grids": "",
        "outdir_txt2img_grids": "outputs/txt2img-grids",
        "samples_format": "png",
    }
)
state = shared_state.State()
parallel_processing_allowed = True
interrogator = None


def sd_model_for_double():
    """Double only: the loaded model stand-in (sd_models.model_data.sd_model)."""
    from modules import sd_models

    m = sd_models.model_data.sd_model
    if m is None:
        raise RuntimeError("no model loaded (double)")
    return m
