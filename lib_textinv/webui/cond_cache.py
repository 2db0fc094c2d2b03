"""Forget the webui's cached prompt conditioning whenever we change what a token stands for.

txt2img keeps the last conditioning in class-wide lists shared by every generation
(``cached_c``/``cached_uc``, and ``cached_hr_c``/``cached_hr_uc`` for hires;
modules/processing.py:188-189, :1183-1184) and reuses it when the prompts and settings are the
same (``cached_params``, :440-458; ``get_conds_with_caching``, :460-491). The key says nothing about
the vectors behind a token, so after Promote replaces an embedding file in place, or a sweep
registers other vectors under a token, the next generation with the same prompt would use the old
vectors (upstream issue #11993; docs/webui-contract.md §16 "conditioning cache"). The webui itself
empties these lists by binding new ones (``close`` when the cache is not persistent, :404-410,
:1466-1472); we do the same, so a generation already holding the old lists is not disturbed.
"""

from __future__ import annotations

# The class → its cache attributes (the hires ones exist on txt2img only).
CACHES = (
    ("StableDiffusionProcessing", ("cached_c", "cached_uc")),
    ("StableDiffusionProcessingTxt2Img", ("cached_hr_c", "cached_hr_uc")),
)


def forget() -> None:
    from modules import processing

    for class_name, attributes in CACHES:
        cls = getattr(processing, class_name, None)
        for attribute in attributes:
            if cls is not None and attribute in vars(cls):
                setattr(cls, attribute, [None, None])
