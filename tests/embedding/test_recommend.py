"""The vectors-per-token recommendation: the tutorial's rule, monotonicity, cap, explanation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lib_textinv.embedding.diversity import diversity_word, mean_pairwise_distance
from lib_textinv.embedding.recommend import MAX_VECTORS, recommend

MODERATE = (0.15, 0.2, 0.25, 0.3, 0.35, None)  # None = not measured: the count rule alone


@pytest.mark.parametrize("diversity", MODERATE)
def test_tutorial_rule_at_10_and_25_images(diversity):
    r10 = recommend(10, diversity)
    assert (r10.low, r10.high) == (2, 3) and r10.vectors == 2 and r10.range_text == "2-3"
    r25 = recommend(25, diversity)
    assert (r25.low, r25.high) == (5, 6) and r25.vectors == 5 and r25.range_text == "5-6"


@pytest.mark.parametrize("n", range(1, 11))
def test_up_to_ten_images_is_two_to_three(n):
    assert recommend(n, 0.25).range_text == "2-3"


def test_variety_moves_the_number_the_right_way():
    assert recommend(25, 0.02).vectors < recommend(25, 0.25).vectors < recommend(25, 0.6).vectors
    assert recommend(10, 0.0).vectors == 1


# Where the recommendation moves: up to 10 images it is flat, above ~80 (fewer when diverse) every
# count gives the cap, and the variety factor changes only below 0.15 and between 0.35 and 0.55;
# wider ranges would make most examples compare two capped or two equal values.
counts = st.integers(min_value=5, max_value=90)
moving = st.one_of(st.floats(0.0, 0.15), st.floats(0.35, 0.56))
distances = st.one_of(st.none(), moving)
any_count = st.integers(min_value=0, max_value=100_000)
any_distance = st.one_of(st.none(), st.floats(min_value=0.0, max_value=2.0, allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(counts, counts, distances)
def test_monotonic_in_image_count(a, b, d):
    lo, hi = sorted((a, b))
    r1, r2 = recommend(lo, d), recommend(hi, d)
    assert r1.raw <= r2.raw and r1.vectors <= r2.vectors and r1.high <= r2.high


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=5, max_value=60), moving, moving)
def test_monotonic_in_diversity(n, a, b):
    lo, hi = sorted((a, b))
    r1, r2 = recommend(n, lo), recommend(n, hi)
    assert r1.raw <= r2.raw and r1.vectors <= r2.vectors and r1.high <= r2.high


@settings(max_examples=200, deadline=None)
@given(any_count, any_distance)
def test_always_within_bounds(n, d):
    r = recommend(n, d)
    assert 1 <= r.low <= r.vectors <= r.high <= MAX_VECTORS
    assert r.tokens_left == 75 - r.vectors


def test_capped():
    r = recommend(100_000, 1.0)
    assert r.vectors == r.high == MAX_VECTORS
    assert f"Capped at {MAX_VECTORS}" in r.explanation


def test_explanation_mentions_each_factor():
    r = recommend(25, 0.27, "SD1")
    text = r.explanation
    assert "25 usable images" in text  # the image count
    assert "0.27" in text and "moderate" in text  # the variety, number and word
    assert "leave 70 of the prompt's 75 tokens" in text  # the prompt budget
    assert "SD1" in text and "768" in text  # the model family and width
    sd2 = recommend(10, 0.5, "SD2").explanation
    assert "SD2" in sd2 and "1024" in sd2 and "diverse" in sd2 and "leave 72" in sd2
    similar = recommend(10, 0.05, "SD1").explanation
    assert "very similar" in similar and "fewer vectors" in similar


def test_sdxl_counts_both_encoders_widths_and_one_token_per_vector():
    r = recommend(25, 0.25, "SDXL")
    assert r.trainable and r.width == 2048 and r.range_text == "5-6" and r.tokens_left == 70
    assert "768 numbers for CLIP-L and 1280 numbers for OpenCLIP-G" in r.explanation
    assert "one prompt token in both" in r.explanation


def test_a_family_we_cannot_create_for_says_so():
    r = recommend(25, 0.25, "SD3")
    assert not r.trainable and "SD1, SD2 and SDXL only" in r.explanation


def test_fallback_without_clip_says_why():
    reason = "open_clip weights ViT-L-14/openai are not in the cache at /x; no download at run time"
    r = recommend(25, None, "SD1", clip_reason=reason)
    assert r.range_text == "5-6"
    assert reason in r.explanation and "image count only" in r.explanation
    assert r.diversity is None and r.diversity_word is None


def test_no_model_and_no_images():
    r = recommend(0, None, "none")
    assert r.vectors == 2 and "No usable images" in r.explanation and "No model is loaded" in r.explanation


def test_range_text():
    r = recommend(12, 0.2)
    assert r.range_text == "2-3" and r.vectors == 2
    assert recommend(100_000, 1.0).range_text == str(MAX_VECTORS)  # capped: one number


@pytest.mark.parametrize(
    ("value", "word"),
    [
        (0.0, "very similar"),
        (0.149, "very similar"),
        (0.15, "moderate"),
        (0.35, "moderate"),
        (0.351, "diverse"),
        (0.9, "diverse"),
    ],
)
def test_diversity_words(value, word):
    assert diversity_word(value) == word


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 12), st.integers(1, 8), st.integers(0, 10_000))
def test_mean_pairwise_distance_matches_brute_force(n, d, seed):
    e = np.random.default_rng(seed).normal(size=(n, d))
    assume(np.all(np.linalg.norm(e, axis=1) > 1e-6))  # a zero row has no direction
    u = e / np.linalg.norm(e, axis=1, keepdims=True)
    brute = np.mean([1 - u[i] @ u[j] for i in range(n) for j in range(i + 1, n)])
    assert mean_pairwise_distance(e) == pytest.approx(brute, abs=1e-9)


def test_mean_pairwise_distance_edges():
    assert mean_pairwise_distance(np.zeros((0, 4))) == 0.0
    assert mean_pairwise_distance(np.ones((1, 4))) == 0.0
    assert mean_pairwise_distance(np.ones((5, 4))) == pytest.approx(0.0)
    assert mean_pairwise_distance(np.array([[1.0, 0], [-1.0, 0]])) == pytest.approx(2.0)
