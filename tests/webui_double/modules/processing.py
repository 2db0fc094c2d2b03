"""modules/processing.py (v1.10.1) — the txt2img dataclass, ``Processed`` and ``process_images``.

Kept from the real module: every ``__init__`` field of ``StableDiffusionProcessing`` (:136-180) and
``StableDiffusionProcessingTxt2Img`` (:1165-1181) with its default, so an unknown keyword raises
``TypeError`` as the real dataclass does (``scheduler`` exists since 1.9; ``txt2img_class_before_1_9``
builds the older shape); ``setup_prompts`` (:418-438: a list prompt gives one image per entry);
the per-batch slicing by ``batch_size`` (:943-946: with ``n_iter=1`` only the first ``batch_size``
prompts are made); the embeddings reload unless ``do_not_reload_embeddings`` (:911-912);
Interrupt/"stop generating" checked before each batch (:938-939) while an Interrupt or Skip
*during* sampling still returns the half-sampled images (the sampler returns its last latent,
sd_samplers_common.py:272-281); samples and the grid saved unless ``do_not_save_*`` (:1010-1135:
the grid goes first in ``images`` with ``index_of_first_image = 1`` when "Show grid in gallery"
is on); infotexts in create_infotext's layout (:705-816) with "TI hashes" of the embeddings the
text encoder put into the batch's negative prompts and prompts, one forward pass per distinct
prompt (sd_hijack_clip.py:230-243, prompt_parser.py:157-200); the conditioning cache
(``cached_c``/``cached_uc``, class-wide lists shared by every ``p``, :188-189, :251-252), keyed by
the prompts and settings but not by the vectors behind a token (``cached_params``, :440-458;
``get_conds_with_caching``, :460-491), kept across generations while ``persistent_cond_cache`` is
on (:404-410): on a cache hit the text encoder does not run, so the old vectors are used and no
"TI hashes" are added (upstream issue #11993).

The "sampler" paints each image one colour from its conditioning (prompt and the vectors of the
embeddings in it when it was encoded), negative conditioning, seed and settings (so a different
checkpoint gives a different image); half-sampled images are grey. Double only: ``SAMPLE_HOOKS``
(callables run where the sampler runs, e.g. a user pressing Interrupt) and ``runs`` (every ``p``
given to ``process_images``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import zlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

from modules import shared

SAMPLE_HOOKS: list = []  # double only
runs: list = []  # double only
VERSION = "v1.10.1"


@dataclass(repr=False)
class StableDiffusionProcessing:  # :136-180 (the __init__ fields)
    sd_model: object = None
    outpath_samples: str = None
    outpath_grids: str = None
    prompt: str = ""
    prompt_for_display: str = None
    negative_prompt: str = ""
    styles: list = None
    seed: int = -1
    subseed: int = -1
    subseed_strength: float = 0
    seed_resize_from_h: int = -1
    seed_resize_from_w: int = -1
    seed_enable_extras: bool = True
    sampler_name: str = None
    scheduler: str = None
    batch_size: int = 1
    n_iter: int = 1
    steps: int = 50
    cfg_scale: float = 7.0
    width: int = 512
    height: int = 512
    restore_faces: bool = None
    tiling: bool = None
    do_not_save_samples: bool = False
    do_not_save_grid: bool = False
    extra_generation_params: dict = None
    overlay_images: list = None
    eta: float = None
    do_not_reload_embeddings: bool = False
    denoising_strength: float = None
    ddim_discretize: str = None
    s_min_uncond: float = None
    s_churn: float = None
    s_tmax: float = None
    s_tmin: float = None
    s_noise: float = None
    override_settings: dict = None
    override_settings_restore_afterwards: bool = True
    sampler_index: int = None
    refiner_checkpoint: str = None
    refiner_switch_at: float = None
    disable_extra_networks: bool = False
    firstpass_image: Any = None
    cached_uc: ClassVar[list] = [None, None]  # :188-189: class attributes, not fields
    cached_c: ClassVar[list] = [None, None]
    comments: dict = None

    def __post_init__(self):  # :229-249
        self.comments = {}
        if self.styles is None:
            self.styles = []
        self.extra_generation_params = self.extra_generation_params or {}
        self.override_settings = self.override_settings or {}
        self.scripts = None  # scripts_value (init=False); a caller sets p.scripts to run scripts
        if not self.seed_enable_extras:
            self.subseed, self.subseed_strength = -1, 0
            self.seed_resize_from_h = self.seed_resize_from_w = 0
        self.all_prompts = self.all_negative_prompts = self.all_seeds = self.all_subseeds = None
        self.prompts = self.negative_prompts = self.seeds = None
        self.c = self.uc = self.sampler = None
        self.cached_uc = StableDiffusionProcessing.cached_uc  # :251-252
        self.cached_c = StableDiffusionProcessing.cached_c
        self.closed = False  # double only

    @property
    def sd_model(self):  # noqa: F811  (:261-267: the loaded model; the field's value is ignored)
        return shared.sd_model

    @sd_model.setter
    def sd_model(self, value):
        pass

    def close(self):  # :404-410
        self.sampler = None
        self.c = None
        self.uc = None
        if not shared.opts.persistent_cond_cache:
            StableDiffusionProcessing.cached_c = [None, None]
            StableDiffusionProcessing.cached_uc = [None, None]
        self.closed = True  # double only

    def setup_prompts(self):  # :418-438 (styles not applied here)
        if isinstance(self.prompt, list):
            self.all_prompts = self.prompt
        elif isinstance(self.negative_prompt, list):
            self.all_prompts = [self.prompt] * len(self.negative_prompt)
        else:
            self.all_prompts = self.batch_size * self.n_iter * [self.prompt]
        if isinstance(self.negative_prompt, list):
            self.all_negative_prompts = self.negative_prompt
        else:
            self.all_negative_prompts = [self.negative_prompt] * len(self.all_prompts)
        if len(self.all_prompts) != len(self.all_negative_prompts):
            raise RuntimeError(
                f"Received a different number of prompts ({len(self.all_prompts)}) "
                f"and negative prompts ({len(self.all_negative_prompts)})"
            )
        self.main_prompt = self.all_prompts[0]
        self.main_negative_prompt = self.all_negative_prompts[0]

    def cached_params(
        self, required_prompts, steps, extra_network_data, hires_steps=None, use_old_scheduling=False
    ):
        """:440-458 (options the double does not model are left out): nothing about the vectors."""
        return (
            required_prompts,
            steps,
            hires_steps,
            use_old_scheduling,
            shared.sd_model.sd_checkpoint_info,
            extra_network_data,
            self.width,
            self.height,
        )

    def get_conds_with_caching(
        self, function, required_prompts, steps, caches, extra_network_data, hires_steps=None
    ):
        cached_params = self.cached_params(required_prompts, steps, extra_network_data, hires_steps, False)
        for cache in caches:  # :460-491
            if cache[0] is not None and cached_params == cache[0]:
                return cache[1]
        cache = caches[0]
        cache[1] = function(shared.sd_model, required_prompts, steps, hires_steps, False)
        cache[0] = cached_params
        return cache[1]

    def setup_conds(self):  # :493-503 (the sampler's step multiplier is 1 here)
        from modules import prompt_parser

        prompts = prompt_parser.SdConditioning(self.prompts, width=self.width, height=self.height)
        negative_prompts = prompt_parser.SdConditioning(
            self.negative_prompts, width=self.width, height=self.height, is_negative_prompt=True
        )
        self.uc = self.get_conds_with_caching(
            prompt_parser.get_learned_conditioning, negative_prompts, self.steps, [self.cached_uc], None
        )
        self.c = self.get_conds_with_caching(
            prompt_parser.get_multicond_learned_conditioning, prompts, self.steps, [self.cached_c], None
        )

    def save_samples(self):  # :511-513
        st = shared.state
        return (
            shared.opts.samples_save
            and not self.do_not_save_samples
            and (shared.opts.save_incomplete_images or (not st.interrupted and not st.skipped))
        )


@dataclass(repr=False)
class StableDiffusionProcessingTxt2Img(StableDiffusionProcessing):  # :1165-1181 (the __init__ fields)
    enable_hr: bool = False
    denoising_strength: float = 0.75
    firstphase_width: int = 0
    firstphase_height: int = 0
    hr_scale: float = 2.0
    hr_upscaler: str = None
    hr_second_pass_steps: int = 0
    hr_resize_x: int = 0
    hr_resize_y: int = 0
    hr_checkpoint_name: str = None
    hr_sampler_name: str = None
    hr_scheduler: str = None
    hr_prompt: str = ""
    hr_negative_prompt: str = ""
    force_task_id: str = None
    cached_hr_uc: ClassVar[list] = [None, None]  # :1183-1184
    cached_hr_c: ClassVar[list] = [None, None]

    def __post_init__(self):  # :1201-1211 (the old hires behaviour is not modelled)
        super().__post_init__()
        self.cached_hr_uc = StableDiffusionProcessingTxt2Img.cached_hr_uc
        self.cached_hr_c = StableDiffusionProcessingTxt2Img.cached_hr_c

    def close(self):  # :1466-1472
        super().close()
        self.hr_c = None
        self.hr_uc = None
        if not shared.opts.persistent_cond_cache:
            StableDiffusionProcessingTxt2Img.cached_hr_uc = [None, None]
            StableDiffusionProcessingTxt2Img.cached_hr_c = [None, None]


def txt2img_class_before_1_9():
    """Double only: ``StableDiffusionProcessingTxt2Img`` as webui 1.6-1.8 define it, without the
    ``scheduler`` and ``hr_scheduler`` fields (added in 1.9); same behaviour otherwise."""
    fields = [
        (f.name, f.type, field(default=None if f.name == "sd_model" else f.default))
        for f in dataclasses.fields(StableDiffusionProcessingTxt2Img)
        if f.init and f.name not in ("scheduler", "hr_scheduler")
    ]
    return dataclasses.make_dataclass(
        "StableDiffusionProcessingTxt2Img",
        fields,
        namespace={
            "__post_init__": StableDiffusionProcessing.__post_init__,
            "close": _close_before_1_9,
            "setup_prompts": StableDiffusionProcessing.setup_prompts,
            "cached_params": StableDiffusionProcessing.cached_params,
            "get_conds_with_caching": StableDiffusionProcessing.get_conds_with_caching,
            "setup_conds": StableDiffusionProcessing.setup_conds,
            "save_samples": StableDiffusionProcessing.save_samples,
        },
        repr=False,
    )


def _close_before_1_9(self):
    StableDiffusionProcessing.close(self)
    self.hr_c = self.hr_uc = None


class Processed:  # :516-568 (the attributes callers read)
    def __init__(
        self,
        p,
        images_list,
        seed=-1,
        info="",
        subseed=None,
        all_prompts=None,
        all_negative_prompts=None,
        all_seeds=None,
        all_subseeds=None,
        index_of_first_image=0,
        infotexts=None,
        comments="",
    ):
        self.images = images_list
        self.prompt = p.prompt[0] if isinstance(p.prompt, list) else p.prompt
        neg = p.negative_prompt
        self.negative_prompt = neg[0] if isinstance(neg, list) else neg
        self.seed = int(seed[0] if isinstance(seed, list) else seed) if seed is not None else -1
        self.subseed = subseed
        self.info = info
        self.width, self.height = p.width, p.height
        self.sampler_name = p.sampler_name
        self.cfg_scale = p.cfg_scale
        self.steps = p.steps
        self.batch_size = p.batch_size
        self.extra_generation_params = p.extra_generation_params
        self.index_of_first_image = index_of_first_image
        self.all_prompts = all_prompts or p.all_prompts or [self.prompt]
        self.all_negative_prompts = all_negative_prompts or p.all_negative_prompts or [self.negative_prompt]
        self.all_seeds = all_seeds or p.all_seeds or [self.seed]
        self.all_subseeds = all_subseeds or p.all_subseeds or [self.subseed]
        self.infotexts = infotexts or [info] * len(images_list)

    def infotext(self, p, index):  # :608-609
        return create_infotext(
            p,
            self.all_prompts,
            self.all_seeds,
            self.all_subseeds,
            comments=[],
            position_in_batch=index % self.batch_size,
            iteration=index // self.batch_size,
        )


def get_fixed_seed(seed):  # :675-687
    if seed == "" or seed is None:
        seed = -1
    elif isinstance(seed, str):
        try:
            seed = int(seed)
        except ValueError:
            seed = -1
    if seed == -1:
        return int(random.randrange(4294967294))
    return seed


def _quote(text):  # infotext_utils.py:56-60
    if "," not in str(text) and "\n" not in str(text) and ":" not in str(text):
        return text
    return json.dumps(text, ensure_ascii=False)


def create_infotext(
    p,
    all_prompts,
    all_seeds,
    all_subseeds,
    comments=None,
    iteration=0,
    position_in_batch=0,
    use_main_prompt=False,
    index=None,
    all_negative_prompts=None,
):  # :705-816 (the parameters a plain txt2img writes)
    if use_main_prompt:
        index = 0
    elif index is None:
        index = position_in_batch + iteration * p.batch_size
    if all_negative_prompts is None:
        all_negative_prompts = p.all_negative_prompts
    opts = shared.opts
    prompt_text = p.main_prompt if use_main_prompt else all_prompts[index]
    negative_prompt = p.main_negative_prompt if use_main_prompt else all_negative_prompts[index]
    params = {
        "Steps": p.steps,
        "Sampler": p.sampler_name,
        "Schedule type": getattr(p, "scheduler", None),  # absent before 1.9
        "CFG scale": p.cfg_scale,
        "Seed": p.all_seeds[0] if use_main_prompt else all_seeds[index],
        "Size": f"{p.width}x{p.height}",
        "Model hash": p.sd_model_hash if opts.add_model_hash_to_info else None,
        "Model": p.sd_model_name if opts.add_model_name_to_info else None,
        **p.extra_generation_params,
        "Version": VERSION if opts.add_version_to_infotext else None,
    }
    text = ", ".join(k if k == v else f"{k}: {_quote(v)}" for k, v in params.items() if v is not None)
    negative_text = f"\nNegative prompt: {negative_prompt}" if negative_prompt else ""
    return f"{prompt_text}{negative_text}\n{text}".strip()


def process_images(p):  # :819-860 (override_settings, token merging, scripts: not modelled)
    runs.append(p)
    return process_images_inner(p)


def process_images_inner(p):  # :863-1150
    from modules import images, sd_hijack

    state, opts = shared.state, shared.opts
    m = shared.sd_model_for_double()
    if isinstance(p.prompt, list):
        assert len(p.prompt) > 0
    else:
        assert p.prompt is not None
    seed, subseed = get_fixed_seed(p.seed), get_fixed_seed(p.subseed)
    p.sd_model_name = m.sd_checkpoint_info.name_for_extra
    p.sd_model_hash = m.sd_model_hash
    sd_hijack.model_hijack.clear_comments()
    p.setup_prompts()
    p.all_seeds = seed if isinstance(seed, list) else [int(seed) + x for x in range(len(p.all_prompts))]
    p.all_subseeds = (
        subseed if isinstance(subseed, list) else [int(subseed) + x for x in range(len(p.all_prompts))]
    )
    embeddings_dir = shared.cmd_opts.embeddings_dir
    if embeddings_dir and os.path.exists(embeddings_dir) and not p.do_not_reload_embeddings:  # :911-912
        sd_hijack.model_hijack.embedding_db.load_textual_inversion_embeddings()
    infotexts, output_images = [], []
    if state.job_count == -1:
        state.job_count = p.n_iter
    for n in range(p.n_iter):
        p.iteration = n
        if state.skipped:
            state.skipped = False
        if state.interrupted or state.stopping_generation:
            break
        bs = p.batch_size
        p.prompts = p.all_prompts[n * bs : (n + 1) * bs]
        p.negative_prompts = p.all_negative_prompts[n * bs : (n + 1) * bs]
        p.seeds = p.all_seeds[n * bs : (n + 1) * bs]
        p.subseeds = p.all_subseeds[n * bs : (n + 1) * bs]
        if len(p.prompts) == 0:
            break
        p.setup_conds()  # :966-968
        p.extra_generation_params.update(sd_hijack.model_hijack.extra_generation_params)
        batch = _sample(p)
        state.nextjob()

        def infotext(index=0, use_main_prompt=False):
            return create_infotext(
                p,
                p.prompts,
                p.seeds,
                p.subseeds,
                use_main_prompt=use_main_prompt,
                index=index,
                all_negative_prompts=p.negative_prompts,
            )

        save_samples = p.save_samples()
        for i, image in enumerate(batch):
            if save_samples:
                images.save_image(
                    image,
                    p.outpath_samples,
                    "",
                    p.seeds[i],
                    p.prompts[i],
                    opts.samples_format,
                    info=infotext(i),
                    p=p,
                )
            text = infotext(i)
            infotexts.append(text)
            if opts.enable_pnginfo:
                image.info["parameters"] = text
            output_images.append(image)
    if not infotexts:
        infotexts.append(Processed(p, []).infotext(p, 0))
    index_of_first_image = 0
    unwanted_grid = len(output_images) < 2 and opts.grid_only_if_multiple
    if (opts.return_grid or opts.grid_save) and not p.do_not_save_grid and not unwanted_grid:
        grid = images.image_grid(output_images, p.batch_size)
        if opts.return_grid:
            text = infotext(use_main_prompt=True)
            infotexts.insert(0, text)
            output_images.insert(0, grid)
            index_of_first_image = 1
        if opts.grid_save:
            images.save_image(
                grid,
                p.outpath_grids,
                "grid",
                p.all_seeds[0],
                p.all_prompts[0],
                opts.grid_format,
                info=infotext(use_main_prompt=True),
                short_filename=not opts.grid_extended_filename,
                p=p,
                grid=True,
            )
    return Processed(
        p,
        images_list=output_images,
        seed=p.all_seeds[0],
        info=infotexts[0],
        subseed=p.all_subseeds[0],
        index_of_first_image=index_of_first_image,
        infotexts=infotexts,
    )


def _sample(p):
    """Stands in for sample + decode (:975-1000): hooks run where sampling would, each image's colour
    comes from its conditioning (p.c, p.uc), seed and settings, and an Interrupt or Skip during
    sampling gives grey (half-sampled) images instead of none."""
    from PIL import Image

    for hook in SAMPLE_HOOKS:
        hook(p)
    half = shared.state.interrupted or shared.state.skipped
    out = []
    for c, uc, seed in zip(p.c, p.uc, p.seeds, strict=True):
        key = f"{c}|{uc}|{seed}|{p.steps}|{p.cfg_scale}|{p.sampler_name}"
        crc = zlib.crc32(key.encode())
        colour = (128, 128, 128) if half else (crc & 255, (crc >> 8) & 255, (crc >> 16) & 255)
        out.append(Image.new("RGB", (p.width, p.height), colour))
    return out
