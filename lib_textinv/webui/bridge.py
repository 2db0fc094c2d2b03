"""The host bridge: the ONLY module that imports the webui's ``modules.*``.

Everything the tab, the API and the core need from AUTOMATIC1111 goes through ``WebuiHost``
(a ``lib_textinv.kit.host.Host``), so the rest of the package stays pure and testable. Line numbers
cite v1.10.1 (see ../shared/webui-api.md). Forge loads the tab; features it removed (training,
creating embeddings) report why they are unavailable.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from modules import shared

from lib_textinv.kit.host import BaseHost, EmbeddingInfo, HostPaths, ModelFacts, Unavailable
from lib_textinv.kit.ids import SETTINGS_SECTION, TAB_ID, TAB_LABEL
from lib_textinv.kit.progress import ForwardingProgress, Progress

logger = logging.getLogger(__name__)
T = TypeVar("T")
MIN_VERSION = (1, 6, 0)
WIDTHS = {"SD1": 768, "SD2": 1024, "SD2-v": 1024, "SDXL": 2048}


def is_forge() -> bool:
    import importlib.util

    return importlib.util.find_spec("modules_forge") is not None


def webui_version() -> tuple[int, ...] | None:
    """(1, 10, 1) from the git tag, or None when unknown (a zip download has no tag)."""
    try:
        from modules import launch_utils

        tag = launch_utils.git_tag()
    except (ImportError, AttributeError, OSError) as e:
        logger.debug("webui version unknown: %s", e)
        return None
    m = re.match(r"v?(\d+)\.(\d+)\.?(\d+)?", str(tag or ""))
    return tuple(int(x or 0) for x in m.groups()) if m else None


def version_problem() -> str | None:
    v = webui_version()
    if v is not None and v < MIN_VERSION:
        return (
            f"sd-webui-textinv needs AUTOMATIC1111 webui 1.6 or newer; this is {'.'.join(map(str, v))}. "
            "Update the webui (git pull) and restart."
        )
    return None


def _loaded_model():
    """The loaded model or None, without triggering a (blocking) load (modules/sd_models.py:683-701)."""
    from modules import sd_models

    return getattr(sd_models.model_data, "sd_model", None)


def _family(m) -> str:
    if getattr(m, "is_sdxl", False):
        return "SDXL"
    if getattr(m, "is_sd3", False):
        return "SD3"
    if getattr(m, "is_sd2", False):
        return "SD2-v" if getattr(m, "parameterization", "eps") == "v" else "SD2"
    if getattr(m, "is_sd1", False):
        return "SD1"
    return "unknown"


class WebuiHost(BaseHost):
    def __init__(self) -> None:
        super().__init__(kind="forge" if is_forge() else "webui")
        self._active: Progress | None = None
        self._shadowed: dict[str, Any] = {}  # user embeddings hidden by a sweep token
        self._ours: set[str] = set()  # tokens registered by a sweep now

    # -- facts -------------------------------------------------------------------------------
    def paths(self) -> HostPaths:
        from modules import paths_internal

        opts, cmd = shared.opts, shared.cmd_opts
        return HostPaths(
            embeddings_dir=getattr(cmd, "embeddings_dir", None),
            # The Train tab's default log directory, relative to the process cwd (modules/ui.py:950).
            ti_log_dir=os.path.abspath("textual_inversion"),
            templates_dir=getattr(cmd, "textual_inversion_templates_dir", None),
            outdir_samples=getattr(opts, "outdir_samples", "")
            or getattr(opts, "outdir_txt2img_samples", None),
            outdir_grids=getattr(opts, "outdir_grids", "") or getattr(opts, "outdir_txt2img_grids", None),
            data_dir=paths_internal.data_path,
        )

    def model_facts(self) -> ModelFacts:
        m = _loaded_model()
        if m is None or getattr(m, "sd_checkpoint_info", None) is None:
            return ModelFacts(reason="no model is loaded yet (select a checkpoint at the top of the page)")
        family = _family(m)
        info = m.sd_checkpoint_info
        trainable, reason = family in ("SD1", "SD2", "SD2-v"), ""
        if self.kind == "forge":
            trainable, reason = False, "Forge removed Textual Inversion training; use AUTOMATIC1111 to train"
        elif family == "SDXL":
            reason = "the webui cannot create or train SDXL embeddings (SD1 and SD2 only)"
        elif not trainable:
            reason = f"the webui cannot train embeddings for {family} models (SD1 and SD2 only)"
        return ModelFacts(
            loaded=True,
            family=family,
            name=getattr(info, "model_name", "") or "",
            short_hash=getattr(info, "shorthash", "") or "",
            native_resolution=768 if family in ("SD2-v", "SDXL") else 512,
            embedding_width=WIDTHS.get(family),
            trainable=trainable,
            reason=reason,
        )

    def feature(self, name: str) -> tuple[bool, str]:
        if name in ("caption", "upscale"):
            return True, ""
        if name == "deepbooru":
            import importlib.util

            ok = importlib.util.find_spec("modules.deepbooru") is not None
            return ok, "" if ok else "DeepBooru is not part of this webui"
        if name == "clip":
            import importlib.util

            ok = importlib.util.find_spec("open_clip") is not None
            return ok, "" if ok else "open_clip is not installed"
        facts = self.model_facts()  # the rest need the model
        if not facts.loaded:
            return False, facts.reason
        if name in ("tokenizer", "generate"):
            if self.kind == "forge" and name == "tokenizer":
                return False, "token counts need the A1111 text encoder wrapper (not in Forge)"
            return True, ""
        if name in ("create", "train"):
            if not facts.trainable:
                return False, facts.reason
            if name == "train" and self.is_lowvram():
                return (
                    False,
                    "the webui refuses Textual Inversion training with --lowvram; restart without it",
                )
            return True, ""
        return False, f"{name}: not offered by this webui"

    def setting(self, key: str, default: Any = None) -> Any:
        key = key if key.startswith("textinv_") else f"textinv_{key}"
        return getattr(shared.opts, key, default)

    def is_lowvram(self) -> bool:
        return bool(getattr(shared.cmd_opts, "lowvram", False))

    def embeddings(self) -> list[EmbeddingInfo]:
        db = self._embedding_db()
        if db is None:
            return []
        out = []
        for loaded, table in ((True, db.word_embeddings), (False, db.skipped_embeddings)):
            for name, e in table.items():
                vec = getattr(e, "vec", None)
                width = getattr(e, "shape", None) or (int(vec.shape[-1]) if hasattr(vec, "shape") else None)
                out.append(
                    EmbeddingInfo(
                        name=name,
                        filename=getattr(e, "filename", None),
                        vectors=int(getattr(e, "vectors", 0) or 0),
                        width=width,
                        step=getattr(e, "step", None),
                        loaded=loaded,
                    )
                )
        return out

    def templates(self) -> dict[str, str]:
        try:
            from modules.textual_inversion import textual_inversion as ti
        except ImportError:
            return {}
        if not ti.textual_inversion_templates:
            ti.list_textual_inversion_templates()
        return {name: t.path for name, t in ti.textual_inversion_templates.items()}

    def state_file(self, name: str) -> str | None:
        from modules import paths_internal

        return os.path.join(paths_internal.data_path, "textinv", name)

    # -- work --------------------------------------------------------------------------------
    def run_job(self, title: str, fn: Callable[[Progress], T], progress: Progress | None = None) -> T:
        """Under the webui's queue lock (never beside a txt2img), with its job state, so the
        progress bar and Interrupt work (modules/call_queue.py:8-46, modules/progress.py:23-53)."""
        from modules import progress as webui_progress
        from modules.call_queue import queue_lock

        state = shared.state
        create = getattr(webui_progress, "create_task_id", None)
        task_id = create("textinv") if create else f"task(textinv-{uuid.uuid4().hex[:12]})"
        webui_progress.add_task_to_queue(task_id)

        def sync(p: Progress) -> None:
            state.job_count = max(1, p.total)
            state.job_no = min(p.done, max(0, p.total - 1)) if p.total else 0
            state.textinfo = p.text

        inner = progress or Progress(text=title)
        with queue_lock:
            state.begin(job=f"textinv: {title}")
            webui_progress.start_task(task_id)
            fp = ForwardingProgress(inner, on_update=sync, is_cancelled=lambda: _stop_requested(state))
            self._active = fp
            try:
                return fn(fp)
            finally:
                self._active = None
                webui_progress.finish_task(task_id)
                state.end()

    def interrupt(self) -> None:
        # Only our own job: never interrupt a txt2img that someone else is running.
        if self._active is not None:
            shared.state.interrupt()

    # -- embeddings (issue 6, 8) ------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        """Tokens as the loaded model's tokenizer counts them (sd_hijack_clip.py tokenize, §4.3)."""
        m = _loaded_model()
        cond = getattr(m, "cond_stage_model", None)
        if cond is None or not hasattr(cond, "tokenize"):
            raise Unavailable("no model with a text encoder is loaded")
        return len(cond.tokenize([text])[0])

    def tokenizer(self):
        """Prompt token counts as the txt2img counter shows them: embeddings count as their
        vectors (model_hijack.get_prompt_lengths, sd_hijack.py:324-333)."""
        if _loaded_model() is None:
            raise Unavailable("no model is loaded")
        return _PromptCounter()

    def create_embedding(self, name: str, nvpt: int, init_text: str, overwrite: bool) -> str:
        """textual_inversion.py:259-284 — note the order: nvpt second, init_text last. The caller
        holds the queue lock (create.py runs it inside run_job)."""
        from modules.textual_inversion import textual_inversion as ti

        return ti.create_embedding(name, int(nvpt), bool(overwrite), init_text=init_text)

    def reload_embeddings(self, force: bool = True) -> None:
        """A reload clears hand-registered entries (§3.4): never call it during a sweep."""
        db = self._embedding_db()
        if db is not None:
            db.load_textual_inversion_embeddings(force_reload=force)

    def webui_option(self, key: str, default: Any = None) -> Any:
        return getattr(shared.opts, key, default)

    def clip_cache_dirs(self) -> list[str]:
        from modules import paths_internal

        custom = getattr(shared.cmd_opts, "clip_models_path", None)
        return [custom] if custom else [os.path.join(paths_internal.models_path, "CLIP")]

    # -- training (issue 7) ------------------------------------------------------------------
    def train(self, args, progress: Progress, loss_csv_every: int | None = None):
        """Run the webui's own Train-tab function (textual_inversion/ui.py:17-37: the --lowvram
        refusal and the cross-attention optimisation swap) and record what it hides: it reports
        in-loop errors through errors.report and returns normally (§0.5, §3.8)."""
        import threading
        import traceback

        from modules import errors, sd_samplers
        from modules.textual_inversion import ui as ti_ui

        from lib_textinv.train.call import RawTrainResult

        result = RawTrainResult()
        version = webui_version()
        positional = args.to_positional(
            ".".join(map(str, version)) if version else None, [s.name for s in sd_samplers.samplers]
        )
        original_report = errors.report
        captured: list[str] = []

        def report(message, *a, exc_info=False, **kw):
            captured.append(str(message) + ("\n" + traceback.format_exc() if exc_info else ""))
            return original_report(message, *a, exc_info=exc_info, **kw)

        state, done = shared.state, threading.Event()

        def mirror() -> None:  # state → our Progress while the webui trains
            while not done.wait(0.5):
                for p in (progress, getattr(progress, "inner", None)):
                    if p is not None and state.job_count and state.job_count > 0:
                        p.total, p.done, p.text = state.job_count, state.job_no, _strip_html(state.textinfo)

        saved_csv_every = getattr(shared.opts, "training_write_csv_every", None)
        watcher = threading.Thread(target=mirror, name="textinv-train-progress", daemon=True)
        errors.report = report
        if loss_csv_every:
            shared.opts.training_write_csv_every = int(loss_csv_every)
        watcher.start()
        try:
            message, _ = ti_ui.train_embedding(*positional)
            result.message = str(message or "")
        # The webui raises anything before its loop (AssertionError, KeyError, schedule errors):
        # all are reported to the user as the run's outcome, not re-raised.
        except Exception as e:  # noqa: BLE001
            result.exception = f"{type(e).__name__}: {e}"
            captured.append(traceback.format_exc())
        finally:
            done.set()
            watcher.join(5)
            errors.report = original_report
            if loss_csv_every and saved_csv_every is not None:
                shared.opts.training_write_csv_every = saved_csv_every
        db = self._embedding_db()
        emb = db.word_embeddings.get(args.embedding_name) if db is not None else None
        result.final_step = getattr(emb, "step", None)
        result.interrupted = bool(state.interrupted)
        result.console_error = "\n".join(captured)
        if state.textinfo and not result.message:
            result.message = _strip_html(state.textinfo)
        # After a swallowed error the live object may be renamed <name>-<N> (§3.17.4).
        self.reload_embeddings(force=True)
        return result

    # -- step sweep (issue 8) ----------------------------------------------------------------
    def samplers(self) -> list[str]:
        from modules import sd_samplers

        return [s.name for s in sd_samplers.samplers]

    def txt2img_defaults(self) -> dict[str, Any]:
        """The txt2img tab's defaults as the user saved them in ui-config.json (§7.4)."""
        import json

        path = getattr(shared.cmd_opts, "ui_config_file", None)
        try:
            with open(path, encoding="utf-8") as f:
                cfg = json.load(f)
        except (OSError, TypeError, ValueError):
            return {}
        keys = {
            "sampler": "txt2img/Sampling method/value",
            "steps": "txt2img/Sampling steps/value",
            "cfg_scale": "txt2img/CFG Scale/value",
            "width": "txt2img/Width/value",
            "height": "txt2img/Height/value",
        }
        return {k: cfg[v] for k, v in keys.items() if v in cfg}

    def register_checkpoint(self, token: str, path: str) -> None:
        """In memory only, under ``token`` (§3.16, §3.18): emb.name == token (the stale-entry trap
        of register_embedding_by_name, textual_inversion.py:136) and a real filename (the Extra
        Networks page needs it)."""
        from modules.textual_inversion import textual_inversion as ti

        from lib_textinv.kit.embedding_file import load_embedding

        data = load_embedding(path)  # refuses unsafe pickles before the webui sees the file
        payload = {"string_to_param": {"*": data.vectors}, "name": token, "step": data.step}
        emb = ti.create_embedding_from_data(payload, token, filename=os.path.basename(path), filepath=path)
        emb.name, emb.filename = token, path
        db = self._embedding_db()
        # Hide (and later restore) the user's own embedding of this name, never an earlier
        # registration of ours (a re-registration after a reload must not be "restored").
        if token in db.word_embeddings and token not in self._shadowed and token not in self._ours:
            self._shadowed[token] = db.word_embeddings[token]
        db.register_embedding_by_name(emb, shared.sd_model, token)
        self._ours.add(token)

    def is_registered(self, token: str, path: str) -> bool:
        """Whether ``token`` is still our entry for ``path``: an Extra Networks refresh reloads the
        database without the queue lock (ui_extra_networks_textual_inversion.py:13,
        textual_inversion.py:212-224) and drops it mid-sweep."""
        db = self._embedding_db()
        emb = db.word_embeddings.get(token) if db is not None else None
        return emb is not None and getattr(emb, "filename", None) == path

    def unregister(self, token: str) -> None:
        db = self._embedding_db()
        db.register_embedding_by_name(None, shared.sd_model, token)
        self._ours.discard(token)
        previous = self._shadowed.pop(token, None)
        if previous is not None:
            db.register_embedding_by_name(previous, shared.sd_model, token)

    def generate(self, prompts: list[str], seeds: list[int], params) -> list[tuple[Any, str]]:
        """One txt2img batch, image i from prompts[i] and seeds[i] (§5.1, §5.7, §3.18). Runs inside
        run_job (the lock is held), without reloading the embedding database."""
        import dataclasses
        from contextlib import closing

        from modules import processing

        from lib_textinv.kit.progress import Cancelled

        n = len(prompts)
        fields = {f.name for f in dataclasses.fields(processing.StableDiffusionProcessingTxt2Img)}
        kwargs = {
            "prompt": list(prompts),
            "negative_prompt": [params.negative_prompt] * n,
            "seed": list(seeds),
            "sampler_name": params.sampler,
            "steps": int(params.steps),
            "cfg_scale": float(params.cfg_scale),
            "width": int(params.width),
            "height": int(params.height),
            "batch_size": n,
            "n_iter": 1,
            "do_not_save_samples": True,
            "do_not_save_grid": True,
        }
        if "scheduler" in fields:  # 1.9+
            kwargs["scheduler"] = params.scheduler
        p = processing.StableDiffusionProcessingTxt2Img(**kwargs)
        p.do_not_reload_embeddings = True
        with closing(p):
            processed = processing.process_images(p)
        # Interrupt and Skip stop the sampler early: the half-sampled batch that comes back is not
        # kept as finished cells. "Stop after the current image" (the Interrupt button once a job
        # counts more than one step, ui_toprow.py:105-110) lets a started batch finish, but one
        # not yet started comes back empty (processing.py:938-939); the sweep stops either way.
        state = shared.state
        if state.interrupted or getattr(state, "skipped", False):
            raise Cancelled("interrupted" if state.interrupted else "skipped")
        first = processed.index_of_first_image
        made = list(zip(processed.images[first:], processed.infotexts[first:], strict=False))
        if not made and _stop_requested(state):
            raise Cancelled("stopped")
        return made

    def save_image(self, image: Any, prompt: str, seed: int, infotext: str) -> str:
        from modules import images

        outdir = self.paths().outdir_samples
        path, _ = images.save_image(
            image, outdir, "", seed, prompt, shared.opts.samples_format, info=infotext
        )
        return path

    def save_grid(self, image: Any, prompt: str, seed: int, infotext: str) -> str:
        from modules import images

        outdir = self.paths().outdir_grids
        path, _ = images.save_image(
            image,
            outdir,
            "textinv-sweep",
            seed,
            prompt,
            getattr(shared.opts, "grid_format", "png"),
            info=infotext,
            grid=True,
        )
        return path

    def draw_grid(
        self, images_: list[Any], cols: int, rows: int, col_labels: list[str], row_labels: list[str]
    ) -> Any:
        """images.image_grid + draw_grid_annotations (modules/images.py:36-66, 151-236); fresh
        annotation lists each call because the webui re-wraps them in place."""
        from modules import images

        grid = images.image_grid(images_, rows=rows)
        w, h = images_[0].size
        hor = [[images.GridAnnotation(t)] for t in col_labels]
        ver = [[images.GridAnnotation(t)] for t in row_labels]
        return images.draw_grid_annotations(grid, w, h, hor, ver)

    # -- scores (issue 9) --------------------------------------------------------------------
    def loss_host(self):
        m = _loaded_model()
        if m is None or not hasattr(m, "p_losses"):
            raise Unavailable("the fixed-batch loss needs a loaded SD1/SD2 model")
        return _WebuiLossHost(self)

    def token_table(self):
        m = _loaded_model()
        cond = getattr(m, "cond_stage_model", None)
        if cond is None:
            raise Unavailable("no model with a text encoder is loaded")
        if not hasattr(cond, "wrapped"):  # SDXL's GeneralConditioner (sd_hijack.py:205-229)
            raise Unavailable("token norms need an SD1/SD2 text encoder; this model has several")
        return _WebuiTokenTable(cond)

    # -- captions (issue 5) ------------------------------------------------------------------
    @contextlib.contextmanager
    def captioner(self, source: str):
        model = _WebuiCaptioner(source)
        try:
            yield model
        finally:
            model.release()

    # -- crop (issue 4) ----------------------------------------------------------------------
    def list_upscalers(self) -> list[str]:
        """``shared.sd_upscalers`` by name, without "None": images.resize_image treats it as plain
        Lanczos (modules/images.py:269-270), which the Crop section already offers as "Lanczos"."""
        return [u.name for u in getattr(shared, "sd_upscalers", []) if u.name not in (None, "None")]

    def upscale(self, image: Any, width: int, height: int, name: str) -> Any:
        """images.resize_image "Just resize" with the chosen upscaler (modules/images.py:252-326)."""
        from modules import images

        return images.resize_image(0, image, int(width), int(height), upscaler_name=name)

    # -- internals ---------------------------------------------------------------------------
    @staticmethod
    def _embedding_db():
        from modules import sd_hijack

        return getattr(sd_hijack.model_hijack, "embedding_db", None)


def _stop_requested(state) -> bool:
    """The webui's Interrupt: at once (``interrupted``) or after the current image
    (``stopping_generation``, 1.8+; shared_state.py)."""
    return bool(state.interrupted or getattr(state, "stopping_generation", False))


def _strip_html(text: Any) -> str:
    return re.sub(r"<[^>]+>", " ", str(text or "")).strip()


class _PromptCounter:
    def count_tokens(self, text: str) -> int:
        from modules import sd_hijack

        return int(sd_hijack.model_hijack.get_prompt_lengths(text)[0])


class _WebuiTokenTable:
    """The raw token matrix and id → text of SD1/SD2 text encoders (§4.3)."""

    def __init__(self, cond) -> None:
        self.cond = cond

    def matrix(self):
        w = self.cond.wrapped
        if hasattr(w, "transformer"):  # SD1: FrozenCLIPEmbedder
            return w.transformer.text_model.embeddings.token_embedding.wrapped.weight
        return w.model.token_embedding.wrapped.weight  # SD2: open_clip

    def id_to_token(self, ids: list[int]) -> list[str]:
        tok = getattr(self.cond, "tokenizer", None)
        if tok is not None:
            return list(tok.convert_ids_to_tokens([int(i) for i in ids]))
        import open_clip

        return [open_clip.tokenizer._tokenizer.decoder[int(i)] for i in ids]


class _WebuiLossHost:
    """Denoising loss on a fixed batch through the loaded model (§3.18 recipe: p_losses)."""

    TOKEN = "textinv-fixed-batch-probe"

    def __init__(self, host: WebuiHost) -> None:
        self.host = host

    def encode_latents(self, images: list[Any]):
        import numpy as np
        import torch
        from modules import devices

        m = shared.sd_model
        x = torch.stack(
            [
                torch.from_numpy(np.asarray(im.convert("RGB"), dtype=np.float32) / 127.5 - 1.0).permute(
                    2, 0, 1
                )
                for im in images
            ]
        ).to(devices.device, dtype=devices.dtype_vae)
        with torch.no_grad(), devices.autocast():
            posterior = m.encode_first_stage(x)
            # The posterior's mode, not a sample: the same latents every time ("deterministic").
            z = posterior.mode() if hasattr(posterior, "mode") else posterior
            return (z * m.scale_factor).float().cpu()

    def denoise_loss(self, latents, prompts: list[str], timesteps, noise, embedding) -> float:
        import torch
        from modules import devices
        from modules.textual_inversion import textual_inversion as ti

        token, vectors = embedding
        m = shared.sd_model
        db = self.host._embedding_db()
        emb = ti.create_embedding_from_data({"string_to_param": {"*": vectors}}, self.TOKEN, filepath=None)
        emb.name, emb.filename = self.TOKEN, os.path.join(shared.cmd_opts.embeddings_dir or "", f"{token}.pt")
        db.register_embedding_by_name(emb, m, self.TOKEN)
        try:
            texts = [p.replace(token, self.TOKEN) for p in prompts]
            with torch.no_grad(), devices.autocast():
                c = m.cond_stage_model(texts)
                loss, _ = m.p_losses(
                    latents.to(devices.device),
                    c,
                    timesteps.to(devices.device),
                    noise=noise.to(devices.device),
                )
            return float(loss.item() if hasattr(loss, "item") else loss)
        finally:
            db.register_embedding_by_name(None, m, self.TOKEN)


class _WebuiCaptioner:
    """BLIP in batches (§3.18: one blip_model.generate on a stacked batch with the webui's own
    384-px transform gives the captions of generate_caption) and DeepBooru tags (§6.2)."""

    BLIP_SIZE = 384  # modules/interrogate.py blip_image_eval_size

    def __init__(self, source: str) -> None:
        self.source = source
        self.blip = source in ("blip", "both")
        self.booru = source in ("deepbooru", "both")
        if self.blip:
            shared.interrogator.load()
        if self.booru:
            from modules import deepbooru

            try:
                deepbooru.model.start()
            except BaseException:
                if self.blip:  # nobody will call release(): do not leave BLIP on the GPU
                    shared.interrogator.unload()
                raise

    def caption_batch(self, images: list[Any]) -> list[str]:
        import torch
        from modules import devices
        from torchvision import transforms
        from torchvision.transforms.functional import InterpolationMode

        it = shared.interrogator
        tf = transforms.Compose(
            [
                transforms.Resize((self.BLIP_SIZE, self.BLIP_SIZE), interpolation=InterpolationMode.BICUBIC),
                transforms.ToTensor(),
                transforms.Normalize(
                    (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
                ),
            ]
        )
        batch = (
            torch.stack([tf(im.convert("RGB")) for im in images])
            .type(it.dtype)
            .to(devices.device_interrogate)
        )
        o = shared.opts
        with torch.no_grad():
            return list(
                it.blip_model.generate(
                    batch,
                    sample=False,
                    num_beams=o.interrogate_clip_num_beams,
                    min_length=o.interrogate_clip_min_length,
                    max_length=o.interrogate_clip_max_length,
                )
            )

    def tag_batch(self, images: list[Any]) -> list[str]:
        from modules import deepbooru

        return [deepbooru.model.tag_multi(im) for im in images]

    def release(self) -> None:
        if self.blip:
            shared.interrogator.unload()  # keeps them if "keep models in memory" is on
        if self.booru:
            from modules import deepbooru

            deepbooru.model.stop()


HOST: WebuiHost | None = None


def host() -> WebuiHost:
    global HOST
    if HOST is None:
        HOST = WebuiHost()
    return HOST


# -- registration (scripts/textinv.py calls these through script_callbacks) --------------------


def on_ui_tabs():
    import gradio as gr

    problem = version_problem()
    if problem:
        logger.error(problem)
        with gr.Blocks(analytics_enabled=False) as blocks:
            gr.HTML(f"<p>{problem}</p>", elem_id=f"{TAB_ID}-version-error")
        return [(blocks, TAB_LABEL, TAB_ID)]
    from lib_textinv.tab import build_tab

    return [(build_tab(host()), TAB_LABEL, TAB_ID)]


def on_ui_settings() -> None:
    import gradio as gr

    from lib_textinv.kit.settings import SETTINGS

    components = {
        "slider": gr.Slider,
        "radio": gr.Radio,
        "checkbox": gr.Checkbox,
        "dropdown": gr.Dropdown,
        "number": gr.Number,
        "textbox": None,
    }
    # OptionInfo.section must be the 2-tuple (id, title): ui_settings.py:141 unpacks it; the category
    # is a separate attribute (options.py:68-76 splits a 3-tuple the same way; absent before 1.7).
    for s in SETTINGS:
        info = shared.OptionInfo(
            s.default, s.label, components[s.component], dict(s.args), section=tuple(SETTINGS_SECTION)
        )
        info.category_id = "training"
        if s.info:
            info = info.info(s.info)
        shared.opts.add_option(s.key, info)


def on_app_started(_demo, app) -> None:
    from lib_textinv import routes as api

    api.mount(app, host(), getattr(shared.cmd_opts, "api_auth", None))


# BRIDGE-COMPLETE
