"""The fixed-batch denoising loss through the loaded SD1/SD2 model (Scores): VAE latents of the
training images, then ``p_losses`` with the embedding's vectors registered under a probe token
(docs/webui-contract.md §19 fixed-batch loss)."""

from __future__ import annotations

import os
from typing import Any

from modules import shared

from lib_textinv.kit.host import Unavailable
from lib_textinv.webui.embeddings import embedding_db
from lib_textinv.webui.facts import loaded_model


class WebuiLossHost:
    TOKEN = "textinv-fixed-batch-probe"

    def encode_latents(self, images: list[Any]) -> Any:
        import numpy as np
        import torch
        from modules import devices

        m = shared.sd_model
        pixels = [np.asarray(im.convert("RGB"), dtype=np.float32) / 127.5 - 1.0 for im in images]
        x = torch.stack([torch.from_numpy(a).permute(2, 0, 1) for a in pixels])
        x = x.to(devices.device, dtype=devices.dtype_vae)
        with torch.no_grad(), devices.autocast():
            posterior = m.encode_first_stage(x)
            # The posterior's mode, not a sample: the same latents every time ("deterministic").
            z = posterior.mode() if hasattr(posterior, "mode") else posterior
            return (z * m.scale_factor).float().cpu()

    def denoise_loss(
        self, latents: Any, prompts: list[str], timesteps: Any, noise: Any, embedding: tuple[str, Any]
    ) -> float:
        import torch
        from modules import devices
        from modules.textual_inversion import textual_inversion as ti

        token, vectors = embedding
        m = shared.sd_model
        db = embedding_db()
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


def loss_host() -> WebuiLossHost:
    m = loaded_model()
    if m is None or not hasattr(m, "p_losses"):
        raise Unavailable("the fixed-batch loss needs a loaded SD1/SD2 model")
    return WebuiLossHost()
