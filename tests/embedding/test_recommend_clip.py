"""Image variety on real photos: one texture in ten crops vs ten unrelated photos, measured with a
tiny random open_clip model built locally and (slow, skipped when absent) with real weights."""

from __future__ import annotations

import os
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest

from lib_textinv.embedding.diversity import diversity_word, mean_pairwise_distance, measure_images
from lib_textinv.embedding.folder_advice import advise
from lib_textinv.kit.host import StandaloneHost, Unavailable
from lib_textinv.kit.progress import Cancelled, RecordingProgress
from tests.photos import ALL, TEXTURES, photo
from tests.tinyclip import tiny_clip

UNRELATED = ALL[:10]  # astronaut, chelsea, coffee, rocket, brick, grass, gravel, camera, coins, moon


def spread(embeddings) -> float:
    """The variety of a set of embeddings (mean pairwise cosine distance)."""
    return mean_pairwise_distance(embeddings)


def texture_crops(name: str, n: int = 10, frac: float = 0.7, seed: int = 0):
    """``n`` slightly different square crops (70 % of the short side, random offsets) of one photo."""
    im = photo(name)
    w, h = im.size
    s = int(min(w, h) * frac)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x, y = int(rng.integers(0, w - s + 1)), int(rng.integers(0, h - s + 1))
        out.append(im.crop((x, y, x + s, y + s)))
    return out


def write(folder: Path, images) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, im in enumerate(images):
        im.save(folder / f"{i:02d}.png")
    return folder


@pytest.fixture(scope="module")
def tiny():
    return tiny_clip(0)


@pytest.fixture(scope="module")
def unrelated_value(tiny):
    return spread(tiny.embed_images([photo(n) for n in UNRELATED]))


@pytest.mark.parametrize("texture", TEXTURES)
def test_crops_of_one_texture_score_lower_than_unrelated_photos(tiny, unrelated_value, texture):
    crops = spread(tiny.embed_images(texture_crops(texture)))
    # Random weights give small absolute numbers; the ordering is what must hold (by a wide margin:
    # seeds 0-7 all give ratios of 10× or more).
    assert crops * 3 < unrelated_value, (texture, crops, unrelated_value)


@pytest.mark.parametrize("seed", [1, 2])
def test_ordering_holds_for_other_seeds(seed):
    emb = tiny_clip(seed)
    crops = spread(emb.embed_images(texture_crops("brick", seed=seed)))
    unrelated = spread(emb.embed_images([photo(n) for n in UNRELATED]))
    assert crops < unrelated


def test_measure_folder_reads_files_and_skips_broken_ones(tmp_path, tiny, checksums):
    folder = write(tmp_path / "brick", texture_crops("brick"))
    (folder / "broken.png").write_bytes(b"not a png")
    before = checksums(folder)
    from lib_textinv.dataset.scan import list_images

    progress = RecordingProgress()
    d = measure_images(list_images(folder), tiny, batch_size=4, progress=progress)
    assert d.images == 10 and len(d.skipped) == 1 and "broken.png" in d.skipped[0]
    assert progress.done == 11
    assert checksums(folder) == before  # read-only


def test_measure_is_cancellable(tmp_path, tiny):
    folder = write(tmp_path / "brick", texture_crops("brick"))
    from lib_textinv.dataset.scan import list_images

    with pytest.raises(Cancelled):
        measure_images(list_images(folder), tiny, batch_size=2, progress=RecordingProgress(cancel_after=2))


def test_advise_with_tiny_clip_and_captions(tmp_path, tiny):
    folder = write(tmp_path / "set", texture_crops("gravel", n=12))
    for i in range(12):
        (folder / f"{i:02d}.txt").write_text(
            f"a close up of a gravel path with {('rocks', 'stones', 'pebbles')[i % 3]}"
        )
    advice = advise(StandaloneHost(), str(folder), loader=lambda host: nullcontext((tiny, 4)))
    d = advice.to_dict()
    assert d["images"] == 12 and d["diversity"]["word"] == "very similar"
    assert d["vectors"] == advice.recommendation.vectors
    assert d["init_text"] == "gravel path"
    assert d["init_text_tokens"] == 2  # CLIP BPE fallback: no model in standalone
    assert "12 usable images" in d["explanation"] and "very similar" in d["explanation"]


def test_advise_falls_back_to_count_rule_when_clip_is_unavailable(photo_dir):
    def no_clip(host):
        raise Unavailable("open_clip weights ViT-L-14/openai are not in the cache at /nowhere; no download")

    advice = advise(StandaloneHost(), str(photo_dir), loader=no_clip)
    assert advice.diversity is None and advice.recommendation.range_text == "2-3"
    assert "not in the cache at /nowhere" in advice.recommendation.explanation
    assert advice.recommendation.images == 4


@pytest.mark.parametrize("clip", ["tiny", "none"])
def test_skipped_images_get_the_dataset_reports_reasons(photo_dir, tiny, clip):
    """With CLIP or without, a skipped file is named with the Dataset report's plain reason."""
    (photo_dir / "page.png").write_text("<!DOCTYPE html><html>a saved web page</html>", encoding="utf-8")

    def no_clip(host):
        raise Unavailable("no CLIP here")

    loader = (lambda host: nullcontext((tiny, 2))) if clip == "tiny" else no_clip
    advice = advise(StandaloneHost(), str(photo_dir), loader=loader)
    assert advice.skipped == ["page.png: not an image: the content looks like an HTML page"]
    assert advice.recommendation.images == 4


def test_advise_refuses_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="folder not found"):
        advise(StandaloneHost(), str(tmp_path / "nope"))


@pytest.mark.slow
def test_real_weights_if_cached():
    """Real ViT-L-14/openai from the user's cache (or folders in TEXTINV_CLIP_DIRS); skipped when absent."""
    from lib_textinv.kit.clip_loader import load_clip

    dirs = [d for d in os.environ.get("TEXTINV_CLIP_DIRS", "").split(os.pathsep) if d]
    try:
        emb = load_clip("ViT-L-14", "openai", cache_dirs=dirs)
    except Unavailable as e:
        pytest.skip(str(e))
    if emb.dim != 768:
        pytest.skip(f"the cached ViT-L-14.pt is not the real model (embedding width {emb.dim})")
    unrelated = spread(emb.embed_images([photo(n) for n in UNRELATED]))
    for texture in TEXTURES:
        crops = spread(emb.embed_images(texture_crops(texture)))
        assert crops < unrelated
        assert diversity_word(crops) != "diverse"
    assert diversity_word(unrelated) != "very similar"
