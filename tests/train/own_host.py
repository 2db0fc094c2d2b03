"""A host for the own trainer's tests: the toy TrainModel, one embedding file, a template, real
photos with captions."""

from __future__ import annotations

from pathlib import Path

import torch

from lib_textinv.kit.embedding_file import write_embedding
from lib_textinv.kit.host import BaseHost, EmbeddingInfo, HostPaths, ModelFacts
from lib_textinv.train.params import TrainArgs
from tests.photos import write_photos
from tests.train.toy_model import ToyTrainModel


class OwnTrainHost(BaseHost):
    def __init__(self, tmp: Path, model: ToyTrainModel) -> None:
        super().__init__(kind="webui")
        self.tmp, self.model = tmp, model
        self.emb_dir = tmp / "embeddings"
        self.emb_dir.mkdir(exist_ok=True)
        self.tdir = tmp / "templates"
        self.tdir.mkdir(exist_ok=True)
        (self.tdir / "style_filewords.txt").write_text(
            "a painting of [filewords], art by [name]\n", encoding="utf-8"
        )
        self.infos: dict[str, EmbeddingInfo] = {}

    def add_embedding(self, name: str, n: int = 2, step: int = 0) -> Path:
        g = torch.Generator().manual_seed(5)
        parts = {k: torch.randn(n, w, generator=g) * 0.02 for k, w in self.model.parts().items()}
        suffix = ".safetensors" if self.model.family == "SDXL" else ".pt"
        path = write_embedding(self.emb_dir / f"{name}{suffix}", parts, name=name, step=step)
        self.infos[name] = EmbeddingInfo(name, str(path), n, sum(self.model.parts().values()), step)
        return path

    def paths(self) -> HostPaths:
        return HostPaths(embeddings_dir=str(self.emb_dir), ti_log_dir=str(self.tmp / "logs"))

    def model_facts(self) -> ModelFacts:
        fam = self.model.family
        width = sum(self.model.parts().values())
        return ModelFacts(True, fam, f"toy-{fam.lower()}", "0123456789", 512, width, fam != "SDXL", "")

    def embeddings(self) -> list[EmbeddingInfo]:
        return list(self.infos.values())

    def templates(self) -> dict[str, str]:
        return {"style_filewords.txt": str(self.tdir / "style_filewords.txt")}

    def train_model(self) -> ToyTrainModel:  # type: ignore[override]
        return self.model


def own_setup(tmp_path: Path, family: str = "SD1", **over) -> tuple[OwnTrainHost, TrainArgs]:
    data = tmp_path / "data"
    write_photos(data, ("astronaut", "chelsea", "coffee", "rocket"), fmt="PNG", size=(64, 64))
    for p in data.glob("*.png"):
        p.with_suffix(".txt").write_text(f"a photo of {p.stem}, tag one, tag two", encoding="utf-8")
    host = OwnTrainHost(tmp_path, ToyTrainModel(family))
    host.add_embedding("toy")
    values = {"embedding_name": "toy", "data_root": str(data), "log_directory": str(tmp_path / "logs")}
    values.update(training_width=64, training_height=64, steps=20, save_embedding_every=5, learn_rate="0.05")
    values.update(eval_every=2, batch_size=2, trainer="own")
    values.update(over)
    return host, TrainArgs(**values)
