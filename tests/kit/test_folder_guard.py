"""Folders named by users: absolute only; inside the allowed roots when the webui is exposed."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_textinv.kit.folder_guard import BadFolder, FileAccess, Forbidden, checked_folder, parse_roots

LOCAL = FileAccess()


def exposed(*roots) -> FileAccess:
    return FileAccess(restricted=True, roots=tuple(str(r) for r in roots), why="the webui runs with --listen")


def test_local_webui_accepts_any_absolute_folder(tmp_path):
    assert checked_folder(str(tmp_path), LOCAL) == tmp_path.resolve()
    assert str(checked_folder("/etc", LOCAL)) == os.path.realpath("/etc")


@pytest.mark.parametrize("text", ["", "   ", "photos", "./photos", "../x", "a/b"])
def test_relative_or_empty_is_refused_with_the_reason(text):
    with pytest.raises(BadFolder, match=r"absolute path|no folder"):
        checked_folder(text, LOCAL)


def test_nul_is_refused():
    with pytest.raises(BadFolder, match="NUL"):
        checked_folder("/tmp/a\x00b", LOCAL)


def test_exposed_webui_refuses_folders_outside_the_roots(tmp_path):
    root = tmp_path / "data"
    (root / "in").mkdir(parents=True)
    access = exposed(root)
    assert checked_folder(str(root / "in"), access) == (root / "in").resolve()
    assert checked_folder(str(root / "new" / "deeper"), access) == (root / "new" / "deeper").resolve()
    for outside in ("/etc", "/", str(tmp_path), str(root) + "-sibling", str(root / ".." / "x")):
        with pytest.raises(Forbidden, match="outside the allowed folders") as e:
            checked_folder(outside, access)
        assert "--listen" in str(e.value)
        assert isinstance(e.value, PermissionError)  # answered 403 by kit.http_errors


def test_a_symlink_out_of_a_root_is_outside(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    (root / "escape").symlink_to("/etc")
    with pytest.raises(Forbidden):
        checked_folder(str(root / "escape"), exposed(root))


def test_roots_setting_text():
    assert parse_roots("/a\n /b ; /c\n\n;") == ["/a", "/b", "/c"]
    assert parse_roots("") == []


@given(st.text(alphabet=st.sampled_from(list("/.ab_-~ ")), max_size=20))
def test_any_text_is_inside_the_roots_or_refused(text):
    access = exposed("/srv/data")
    try:
        p = checked_folder(text, access)
    except (BadFolder, Forbidden):
        return
    assert p == p.resolve() and (p == p.__class__("/srv/data") or p.is_relative_to("/srv/data"))
