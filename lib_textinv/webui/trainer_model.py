"""The loaded model for our own training loop (``kit.host.TrainModel``), SD1, SD2 and SDXL
(docs/webui-contract.md §24 own training loop)."""

from __future__ import annotations

from lib_textinv.kit.host import TrainModel, Unavailable


def train_model() -> TrainModel:
    raise Unavailable("our own trainer is not wired to the webui yet")
