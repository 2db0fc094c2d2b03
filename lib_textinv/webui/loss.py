"""The fixed-batch denoising loss through the loaded SD1, SD2 or SDXL model (Scores): the posterior
mean of the training images' latents, then the train model's per-sample loss under ``no_grad``
with the checkpoint's vectors registered under a probe token (docs/webui-contract.md §19
fixed-batch loss, §24 own training loop)."""

from __future__ import annotations

from typing import Any

from lib_textinv.webui import trainer_model


class WebuiLossHost:
    TOKEN = "textinv-fixed-batch-probe"

    def __init__(self, model: trainer_model.WebuiTrainModel) -> None:
        self.model = model

    def encode_latents(self, images: list[Any]) -> Any:
        """The posterior's mean, scaled: the same latents every time ("deterministic")."""
        mean, _std = self.model.encode_latents(images)
        return mean

    def denoise_loss(
        self, latents: Any, prompts: list[str], timesteps: Any, noise: Any, embedding: tuple[str, Any]
    ) -> float:
        import torch

        token, vectors = embedding
        parts = vectors if isinstance(vectors, dict) else {"*": vectors}
        texts = [p.replace(token, self.TOKEN) for p in prompts]
        # SDXL's size conditioning says the training size (latents are 1/8 of the pixels)
        width, height = int(latents.shape[-1]) * 8, int(latents.shape[-2]) * 8
        with torch.no_grad(), self.model.registered(self.TOKEN, _float_parts(parts)):
            cond = self.model.conditioning(texts, width, height)
            return float(self.model.loss(latents, cond, timesteps, noise).mean())


def _float_parts(parts: dict[str, Any]) -> dict[str, Any]:
    import torch
    from modules import devices

    return {k: torch.as_tensor(v).detach().to(devices.device, dtype=torch.float32) for k, v in parts.items()}


def loss_host() -> WebuiLossHost:
    return WebuiLossHost(trainer_model.loaded_train_model())
