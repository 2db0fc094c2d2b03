"""What Python and the box editor (javascript/textinv_crop.js) say to each other, through two
hidden textboxes of JSON:
  ``#textinv-crop-state``  Python → JS: target, every image's size, Auto's box, the box in use
                           (restored from crops.json), exclusion and a preview (data URL);
  ``#textinv-crop-boxes``  JS → Python: {"target": [W, H], "images": {name: {"box": [...],
                           "excluded": bool}}}, set by the editor after each edit."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Sequence

from lib_textinv.crop.auto import Proposal


def data_url(image) -> str:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=82)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def state_json(
    source: str, size: tuple[int, int], dest: str, proposals: Sequence[Proposal], notes: list[str]
) -> str:
    images = []
    for p in proposals:
        d = p.as_dict()
        if p.preview is not None:
            d["preview"] = data_url(p.preview)
            d["preview_size"] = list(p.preview.size)
        images.append(d)
    return json.dumps(
        {"source": source, "target": list(size), "destination": dest, "images": images, "notes": notes},
        ensure_ascii=False,
    )


def parse_boxes(boxes_json: str | None, size: tuple[int, int]) -> tuple[dict | None, str | None]:
    """The editor's boxes, or (None, why) when there are none or they were drawn for another size."""
    if not boxes_json or not boxes_json.strip():
        return None, None
    try:
        data = json.loads(boxes_json)
    except json.JSONDecodeError as e:
        return None, f"ignored the editor's boxes: not JSON ({e})"
    if not isinstance(data, dict) or not isinstance(data.get("images"), dict):
        return None, "ignored the editor's boxes: unexpected layout"
    if list(data.get("target") or []) != list(size):
        return None, "the boxes were drawn for another size: press Auto again to edit them for this one"
    return data["images"], None
