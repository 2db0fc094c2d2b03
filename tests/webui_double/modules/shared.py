"""modules/shared.py — opts, cmd_opts, state, the upscalers and the lazy ``sd_model`` property
(shared_items.py:163-184: the module's class is swapped for one with an ``sd_model`` property)."""

import sys
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
    no_half=False,
    listen=False,
    share=False,
    ngrok=None,
    server_name=None,
    enable_insecure_extension_access=False,
    # shared_cmd_options.py:17-18: derived once from the flags above at start-up
    webui_is_non_local=False,
    disable_extension_access=False,
)
# Defaults of shared_options.py (v1.10.1) for the options the double's modules read.
opts = options.Options(
    {
        "outdir_samples": "",
        "outdir_txt2img_samples": "outputs/txt2img-images",
        "outdir_grids": "",
        "outdir_txt2img_grids": "outputs/txt2img-grids",
        "samples_save": True,  # :35
        "samples_format": "png",  # :36
        "samples_filename_pattern": "",  # :37
        "save_images_add_number": True,  # :38
        "grid_save": True,  # :40
        "grid_format": "png",  # :41
        "grid_extended_filename": False,  # :42
        "grid_only_if_multiple": True,  # :43
        "grid_prevent_empty_spots": False,  # :44
        "n_rows": -1,  # :46
        "font": "",  # :47
        "grid_text_active_color": "#000000",  # :48
        "grid_text_inactive_color": "#999999",  # :49
        "grid_background_color": "#ffffff",  # :50
        "save_to_dirs": True,  # :92
        "grid_save_to_dirs": True,  # :93
        "directories_filename_pattern": "[date]",  # :95
        "upscaler_for_img2img": None,  # :106
        "interrogate_keep_models_in_memory": False,  # :260
        "interrogate_clip_num_beams": 1,  # :262
        "interrogate_clip_min_length": 24,  # :263
        "interrogate_clip_max_length": 48,  # :264
        "return_grid": True,  # :307
        "interrupt_after_current": True,  # :328
        "enable_pnginfo": True,  # :352
        "add_model_hash_to_info": True,  # :356
        "add_model_name_to_info": True,  # :355
        "add_version_to_infotext": True,  # :360
        "textual_inversion_add_hashes_to_infotext": True,  # :292
        "persistent_cond_cache": True,  # :241
        "save_incomplete_images": False,  # :73
        "save_training_settings_to_txt": True,  # :159
        "training_write_csv_every": 500,  # :163
        "training_xattention_optimizations": False,  # :164
        "sdxl_crop_top": 0,  # :189
        "sdxl_crop_left": 0,  # :190
        "sdxl_refiner_low_aesthetic_score": 2.5,  # :191
        "sdxl_refiner_high_aesthetic_score": 6.0,  # :192
    }
)
state = shared_state.State()
parallel_processing_allowed = True
interrogator = None  # set at start-up (shared_init.py:52), below
sd_upscalers = []  # :64; filled at start-up by modelloader.load_upscalers (modelloader.py:136)


def sd_model_for_double():
    """Double only: the loaded model stand-in (sd_models.model_data.sd_model)."""
    from modules import sd_models

    m = sd_models.model_data.sd_model
    if m is None:
        raise RuntimeError("no model loaded (double)")
    return m


class Shared(sys.modules[__name__].__class__):  # shared_items.py:163-181
    @property
    def sd_model(self):
        from modules import sd_models

        return sd_models.model_data.sd_model  # the real get_sd_model() loads one if none is

    @sd_model.setter
    def sd_model(self, value):
        from modules import sd_models

        sd_models.model_data.sd_model = value


sys.modules[__name__].__class__ = Shared  # shared_items.py:184


def _start_up():
    """Double only: what the webui's start-up does to these globals (initialize.py/shared_init.py)."""
    global interrogator
    from modules import interrogate, modelloader

    interrogator = interrogate.InterrogateModels("interrogate")
    modelloader.load_upscalers()


_start_up()
