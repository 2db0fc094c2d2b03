"""Embedding name validation table: good and bad names, collisions, case."""

from __future__ import annotations

import pytest

from lib_textinv.embedding.init_text import ClipBpeCounter
from lib_textinv.embedding.names import check_name, webui_sanitise
from lib_textinv.kit.host import EmbeddingInfo

COUNTER = ClipBpeCounter()


@pytest.mark.parametrize(
    "name",
    ["xyzzy-style", "my_subject_v2", "zq-charcoal", "sks.dog.v1", "Ölgemälde-ti", "a" * 100, "two words-ti"],
)
def test_good_names(name):
    c = check_name(name, [], counter=COUNTER)
    assert c.ok, c.errors
    assert not c.warnings, c.warnings
    assert webui_sanitise(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("sub/name", "path separator"),
        ("..\\evil", "path separator"),
        ("../up", "path separator"),
        ("what?", "Windows does not allow"),
        ("a:b", "Windows does not allow"),
        ('say"hi"', "Windows does not allow"),
        ("star*", "Windows does not allow"),
        ("tab\tname", "control characters"),
        ("(weighted)", "webui removes ( )"),
        ("name!", "webui removes !"),
        ("emoji😀", "webui removes"),
        ("name ", "starts or ends with a space"),
        (" name", "starts or ends with a space"),
        ("name.", "ends with a dot"),
        (".hidden", "starts with a dot"),
        ("..", "starts with a dot"),
        ("CON", "reserved device name"),
        ("nul", "reserved device name"),
        ("com1.style", "reserved device name"),
        ("LPT9", "reserved device name"),
        ("a" * 101, "101 characters"),
    ],
)
def test_bad_names(name, reason):
    c = check_name(name, [], counter=COUNTER)
    assert not c.ok
    assert any(reason in e for e in c.errors), c.errors


def test_windows_reserved_only_as_whole_stem():
    assert check_name("console-ti", []).ok
    assert check_name("com10-ti", []).ok


EXISTING = [
    EmbeddingInfo(name="mystyle", filename="/emb/mystyle.pt", vectors=2, width=768),
    EmbeddingInfo(name="kohya", filename="/emb/sub/kohya.safetensors", vectors=4, width=768),
]


def test_existing_name_refused_without_overwrite():
    c = check_name("mystyle", EXISTING, overwrite=False, embeddings_dir="/emb")
    assert not c.ok and c.exists
    assert "already exists" in c.errors[0] and "Overwrite" in c.errors[0]


def test_existing_name_allowed_with_explicit_overwrite():
    c = check_name("mystyle", EXISTING, overwrite=True, embeddings_dir="/emb")
    assert c.ok and c.replaces == "/emb/mystyle.pt"
    assert any("will be replaced" in w for w in c.warnings)


def test_overwrite_cannot_replace_an_embedding_in_another_file():
    c = check_name("kohya", EXISTING, overwrite=True, embeddings_dir="/emb")
    assert not c.ok
    assert "compete for the same token" in c.errors[0]


def test_file_on_disk_counts_even_when_not_loaded(tmp_path):
    (tmp_path / "skipped.pt").write_bytes(b"x")
    c = check_name("skipped", [], embeddings_dir=str(tmp_path))
    assert not c.ok and c.exists and str(tmp_path / "skipped.pt") in c.errors[0]


def test_plain_names_work_as_existing():
    assert not check_name("taken-ti", ["taken-ti"]).ok


@pytest.mark.parametrize("name", ["MyStyle", "MYSTYLE", "myStyle"])
def test_case_only_difference_warns(name):
    c = check_name(name, EXISTING)
    assert c.ok
    assert any("differs only in case" in w and "“mystyle”" in w for w in c.warnings), c.warnings


@pytest.mark.parametrize("name", ["style", "cat", "Portrait", "the", "my style"])
def test_ordinary_words_warn(name):
    c = check_name(name, [], counter=COUNTER)
    assert c.ok
    assert any("ordinary word" in w for w in c.warnings), c.warnings


@pytest.mark.parametrize("name", ["lamborghini", "butterfly", "sunset"])
def test_single_known_token_warns(name):
    c = check_name(name, [], counter=COUNTER)
    assert c.ok
    assert any("single token" in w or "ordinary word" in w for w in c.warnings), c.warnings


def test_without_tokenizer_only_the_word_list_warns():
    assert check_name("lamborghini", [], counter=None).warnings == []
    assert check_name("cat", [], counter=None).warnings


def test_message_lists_errors_then_warnings():
    c = check_name("MyStyle", EXISTING, counter=COUNTER)
    assert c.message().startswith("⚠")
    c2 = check_name("a/b", [])
    assert c2.message().startswith("✗")
