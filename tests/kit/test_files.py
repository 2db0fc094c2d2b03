"""Safe file output: atomic, never partial, and with the permissions the user's umask gives."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
from PIL import Image

from lib_textinv.kit.files import atomic_open, atomic_save_image, atomic_write_bytes, atomic_write_text


def mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_outputs_get_the_umask_permissions(tmp_path, umask):
    """Run in a child process: the umask is process-wide, so a test must not change ours."""
    code = (
        "import os, sys; from PIL import Image; "
        "from lib_textinv.kit.files import atomic_write_text, atomic_save_image; "
        f"os.umask({umask}); d = sys.argv[1]; "
        "atomic_write_text(os.path.join(d, 'a.txt'), 'x'); "
        "atomic_save_image(Image.new('RGB', (4, 4)), os.path.join(d, 'b.png'))"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, cwd=os.getcwd())
    assert mode(tmp_path / "a.txt") == 0o666 & ~umask
    assert mode(tmp_path / "b.png") == 0o666 & ~umask


def test_replaces_in_one_step_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "cap.txt"
    atomic_write_text(target, "old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cap.txt"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temp(tmp_path):
    target = tmp_path / "cap.txt"
    atomic_write_text(target, "kept")
    with pytest.raises(RuntimeError), atomic_open(target, "w", encoding="utf-8") as f:
        f.write("half")
        raise RuntimeError("disk gone")
    assert target.read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cap.txt"]


def test_image_format_from_the_extension(tmp_path):
    atomic_save_image(Image.new("RGB", (4, 4), "red"), tmp_path / "x.jpg")
    with Image.open(tmp_path / "x.jpg") as im:
        assert im.format == "JPEG"
