"""modules/images.py (v1.10.1) — grids, grid labels, resizing and saving, with the real signatures.

Kept: ``image_grid`` (:36-66: ``rows`` given or from ``opts.n_rows``, cells pasted row-major,
background from ``opts.grid_background_color``); ``draw_grid_annotations`` (:151-236: asserts one
label list per column/row, re-wraps the ``GridAnnotation`` lists *in place*, a left margin of ¾ of
a cell when any row label has text, a top margin as tall as the tallest column label plus two
line spacings when any column label has text); ``resize_image`` mode 0 (:252-281: "None" or an
"L" image → plain Lanczos; scale > 1 → the named upscaler, or the first one (``None``) with a
message when the name is unknown; then an exact resize); ``save_image`` (:624-767: the folder
made, ``[date]`` sub-folder when ``opts.save_to_dirs``/``opts.grid_save_to_dirs`` says so for
``grid``, ``<number>-<seed>…`` names, the infotext in the PNG's "parameters" chunk; returns
``(fullfn, txt_fullfn)``). Not modelled: modes 1/2 of ``resize_image``, the filename-pattern tags
other than ``[seed]``, ``[date]``, ``[prompt_spaces]``, ``[prompt_words]``, the JPG copies for 4chan,
``save_txt``, callbacks; labels use PIL's default font when ``opts.font`` is empty (the real one
uses the bundled Roboto), so label heights differ from the webui's.
"""

from __future__ import annotations

import datetime
import math
import os
import re

from modules import shared

saved: list = []  # double only: (fullfn, grid) of every save_image call


def _lanczos():
    from PIL import Image

    return Image.Resampling.LANCZOS if hasattr(Image, "Resampling") else Image.LANCZOS


def get_font(fontsize):  # :29-33
    from PIL import ImageFont

    if shared.opts.font:
        return ImageFont.truetype(shared.opts.font, fontsize)
    return ImageFont.load_default()


def image_grid(imgs, batch_size=1, rows=None):  # :36-66
    from PIL import Image, ImageColor

    opts = shared.opts
    if rows is None:
        if opts.n_rows > 0:
            rows = opts.n_rows
        elif opts.n_rows == 0:
            rows = batch_size
        elif opts.grid_prevent_empty_spots:
            rows = math.floor(math.sqrt(len(imgs)))
            while len(imgs) % rows != 0:
                rows -= 1
        else:
            rows = round(math.sqrt(len(imgs)))
    rows = min(rows, len(imgs))
    cols = math.ceil(len(imgs) / rows)
    w, h = map(max, zip(*(im.size for im in imgs), strict=True))
    background = ImageColor.getcolor(opts.grid_background_color, "RGB")
    grid = Image.new("RGB", size=(cols * w, rows * h), color=background)
    for i, im in enumerate(imgs):
        dx = (w - im.width) // 2
        dy = (h - im.height) // 2
        grid.paste(im, box=(i % cols * w + dx, i // cols * h + dy))
    return grid


class GridAnnotation:  # :144-148
    def __init__(self, text="", is_active=True):
        self.text = text
        self.is_active = is_active
        self.size = None


def draw_grid_annotations(im, width, height, hor_texts, ver_texts, margin=0):  # :151-236
    from PIL import Image, ImageColor, ImageDraw

    opts = shared.opts
    active = ImageColor.getcolor(opts.grid_text_active_color, "RGB")
    inactive = ImageColor.getcolor(opts.grid_text_inactive_color, "RGB")
    background = ImageColor.getcolor(opts.grid_background_color, "RGB")
    fontsize = (width + height) // 25
    spacing = fontsize // 2
    font = get_font(fontsize)
    has_row_text = any(line.text for lines in ver_texts for line in lines)
    pad_left = width * 3 // 4 if has_row_text else 0
    cols, rows = im.width // width, im.height // height
    assert cols == len(hor_texts), f"bad number of horizontal texts: {len(hor_texts)}; must be {cols}"
    assert rows == len(ver_texts), f"bad number of vertical texts: {len(ver_texts)}; must be {rows}"
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1), background))

    def wrap(text, limit):
        lines = [""]
        for word in text.split():
            joined = f"{lines[-1]} {word}".strip()
            if measure.textlength(joined, font=font) <= limit:
                lines[-1] = joined
            else:
                lines.append(word)
        return lines

    for texts, limit in zip(hor_texts + ver_texts, [width] * len(hor_texts) + [pad_left] * len(ver_texts)):
        original = list(texts)
        texts.clear()  # in place, as the webui does: a caller's lists come back re-wrapped
        for line in original:
            texts += [GridAnnotation(x, line.is_active) for x in wrap(line.text, limit)]
        for line in texts:
            # with the webui's TrueType font an empty label measures 0×0; PIL's bitmap default does not
            box = measure.multiline_textbbox((0, 0), line.text, font=font) if line.text else (0, 0, 0, 0)
            line.size = (box[2] - box[0], box[3] - box[1])
            line.allowed_width = limit
    hor_heights = [sum(line.size[1] + spacing for line in lines) - spacing for lines in hor_texts]
    pad_top = 0 if sum(hor_heights) == 0 else max(hor_heights) + spacing * 2
    size = (im.width + pad_left + margin * (cols - 1), im.height + pad_top + margin * (rows - 1))
    result = Image.new("RGB", size, background)
    for row in range(rows):
        for col in range(cols):
            cell = im.crop((width * col, height * row, width * (col + 1), height * (row + 1)))
            result.paste(cell, (pad_left + (width + margin) * col, pad_top + (height + margin) * row))
    draw = ImageDraw.Draw(result)

    def draw_lines(x, y, lines):
        for line in lines:
            colour = active if line.is_active else inactive
            draw.multiline_text((x, y + line.size[1] / 2), line.text, font=font, fill=colour, anchor="mm")
            y += line.size[1] + spacing

    for col in range(cols):
        x = pad_left + (width + margin) * col + width / 2
        draw_lines(x, pad_top / 2 - hor_heights[col] / 2, hor_texts[col])
    for row in range(rows):
        text_height = sum(line.size[1] for line in ver_texts[row])
        y = pad_top + (height + margin) * row + height / 2 - text_height / 2
        draw_lines(pad_left / 2, y, ver_texts[row])
    return result


def resize_image(resize_mode, im, width, height, upscaler_name=None):  # :252-326 (mode 0 only)
    if resize_mode != 0:
        raise NotImplementedError("the double models resize mode 0 (Just resize) only")
    upscaler_name = upscaler_name or shared.opts.upscaler_for_img2img
    if upscaler_name is None or upscaler_name == "None" or im.mode == "L":
        return im.resize((width, height), resample=_lanczos())
    scale = max(width / im.width, height / im.height)
    if scale > 1.0:
        matches = [x for x in shared.sd_upscalers if x.name == upscaler_name]
        if matches:
            chosen = matches[0]
        else:
            chosen = shared.sd_upscalers[0]
            name = upscaler_name or "<empty string>"
            print(f"could not find upscaler named {name}, using {chosen.name} as a fallback")
        im = chosen.scaler.upscale(im, scale, chosen.data_path)
    if im.width != width or im.height != height:
        im = im.resize((width, height), resample=_lanczos())
    return im


def _sanitize(text):  # sanitize_filename_part (:342-378): invalid characters, length
    text = re.sub(r'[#<>:"/\\|?*\n\r\t]', "_", text).strip(" .")
    return text[:128]


def _apply_pattern(pattern, seed, prompt):  # FilenameGenerator.apply (:381-540), four tags
    words = [w for w in re.split(r"[\s,]+", prompt or "") if w][:8] or ["empty"]
    values = {
        "seed": str(seed),
        "date": datetime.date.today().isoformat(),
        "prompt_spaces": _sanitize(prompt or ""),
        "prompt_words": _sanitize(" ".join(words)),
    }
    return re.sub(r"\[(\w+)\]", lambda m: values.get(m.group(1), m.group(0)), pattern)


def get_next_sequence_number(path, basename):  # :543-562
    result = -1
    prefix = f"{basename}-" if basename != "" else ""
    for name in os.listdir(path):
        if name.startswith(prefix):
            head = os.path.splitext(name[len(prefix) :])[0].split("-")[0]
            if head.isdigit():
                result = max(int(head), result)
    return result + 1


def save_image(
    image,
    path,
    basename,
    seed=None,
    prompt=None,
    extension="png",
    info=None,
    short_filename=False,
    no_prompt=False,
    grid=False,
    pnginfo_section_name="parameters",
    p=None,
    existing_info=None,
    forced_filename=None,
    suffix="",
    save_to_dirs=None,
):  # :624-767
    from PIL import PngImagePlugin

    opts = shared.opts
    if save_to_dirs is None:
        save_to_dirs = (grid and opts.grid_save_to_dirs) or (not grid and opts.save_to_dirs and not no_prompt)
    if save_to_dirs:
        sub = _apply_pattern(opts.directories_filename_pattern or "[prompt_words]", seed, prompt)
        path = os.path.join(path, sub.lstrip(" ").rstrip("\\ /"))
    os.makedirs(path, exist_ok=True)
    if forced_filename is None:
        if short_filename or seed is None:
            decoration = ""
        elif opts.save_to_dirs:
            decoration = opts.samples_filename_pattern or "[seed]"
        else:
            decoration = opts.samples_filename_pattern or "[seed]-[prompt_spaces]"
        decoration = _apply_pattern(decoration, seed, prompt) + suffix
        add_number = opts.save_images_add_number or decoration == ""
        if decoration != "" and add_number:
            decoration = f"-{decoration}"
        if add_number:
            count = get_next_sequence_number(path, basename)
            fullfn = None
            for i in range(500):
                fn = f"{count + i:05}" if basename == "" else f"{basename}-{count + i:04}"
                fullfn = os.path.join(path, f"{fn}{decoration}.{extension}")
                if not os.path.exists(fullfn):
                    break
        else:
            fullfn = os.path.join(path, f"{decoration}.{extension}")
    else:
        fullfn = os.path.join(path, f"{forced_filename}.{extension}")
    pnginfo = dict(existing_info or {})
    if info is not None:
        pnginfo[pnginfo_section_name] = info
    if extension.lower() == "png":
        chunk = PngImagePlugin.PngInfo()
        if opts.enable_pnginfo:
            for k, v in pnginfo.items():
                chunk.add_text(k, str(v))
        image.save(fullfn, format="PNG", pnginfo=chunk)
    else:
        image.convert("RGB").save(fullfn)
    image.already_saved_as = fullfn
    saved.append((fullfn, grid))
    return fullfn, None
