"""Crop inside the real webui: the upscaler list is the webui's own, and a small image is enlarged
by the webui upscaler the user picked (not by our Lanczos fallback)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from tests.e2e.conftest import need
from tests.e2e.helpers import API, done_result


def webui_upscalers(client) -> list[str]:
    r = client.get("/sdapi/v1/upscalers")
    assert r.status_code == 200, r.text
    return [u["name"] for u in r.json()]


def component(client, elem_id: str) -> dict:
    """A component of the webui page's gradio config, by element id."""
    r = client.get("/config")
    assert r.status_code == 200, r.text
    found = [c for c in r.json()["components"] if c.get("props", {}).get("elem_id") == elem_id]
    assert len(found) == 1, f"{len(found)} components with elem_id {elem_id}"
    return found[0]["props"]


def checkerboard(path: Path, size: int = 32, square: int = 4) -> Path:
    """Two colours only: Nearest keeps exactly two, any smoothing filter makes more."""
    im = Image.new("RGB", (size, size), (20, 40, 200))
    for y in range(size):
        for x in range(size):
            if (x // square + y // square) % 2:
                im.putpixel((x, y), (240, 200, 30))
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, "PNG")
    return path


def test_upscaler_dropdown_lists_the_webuis_upscalers(client, status):
    need(status, "upscale")
    names = webui_upscalers(client)
    assert "Nearest" in names and "None" in names, names
    props = component(client, "textinv-crop-upscaler")
    # ours first ("Lanczos", the default), then the webui's in its order; "None" means plain Lanczos
    expected = ["Lanczos"] + [n for n in names if n not in ("None", "Lanczos")]
    assert props["choices"] == expected, (props["choices"], names)
    assert props["value"] == "Lanczos"


def test_small_image_is_enlarged_by_the_chosen_webui_upscaler(client, status, tmp_path):
    need(status, "upscale")
    src = tmp_path / "small"
    checkerboard(src / "board.png")
    colours = {}
    for upscaler in ("Nearest", "Lanczos"):
        dest = tmp_path / f"out-{upscaler}"
        req = {
            "folder": str(src),
            "width": 64,
            "height": 64,
            "destination": str(dest),
            "options": {"upscaler": upscaler, "captions": False},
        }
        r = client.post(f"{API}/crop", json=req)
        assert r.status_code == 200, r.text
        res = done_result(client, r.json()["job_id"], 120)
        assert res["upscaled"] == ["board.png"] and res["failed"] == [], res
        with Image.open(dest / "board.png") as out:
            assert out.size == (64, 64)
            colours[upscaler] = len(out.convert("RGB").getcolors(64 * 64))
    assert colours["Nearest"] == 2, colours  # the webui's Nearest upscaler did the enlarging
    assert colours["Lanczos"] > 2, colours

    r = client.post(
        f"{API}/crop",
        json={
            "folder": str(src),
            "width": 64,
            "height": 64,
            "destination": str(tmp_path / "x"),
            "options": {"upscaler": "No Such Upscaler"},
        },
    )
    assert r.status_code == 400, r.text
    assert "Nearest" in r.json()["detail"], r.text  # the message lists the webui's upscalers
