"""modules/prompt_parser.py (v1.10.1) — the two functions ``setup_conds`` calls.

Kept from the real module: ``get_learned_conditioning`` (:157-200) calls the model's text encoder
once per distinct prompt of the list (identical prompts share one result), so "TI hashes" grows one
prompt at a time (sd_hijack_clip.py:230-243); ``get_multicond_learned_conditioning`` (:252-267)
goes through it. The conditioning is a key naming the prompt and the vectors put into it (the
model's double-only ``conditioning_keys``), which the processing double's "sampler" paints from;
``model.get_learned_conditioning`` itself gives real tensors (an own training loop calls it).
Not modelled: prompt editing schedules (``[a:b:N]``) and ``AND`` (each prompt is one text for
every step).
"""

from __future__ import annotations


class SdConditioning(list):  # :139-153 (a list of prompts with the image size attached)
    def __init__(self, prompts, is_negative_prompt=False, width=None, height=None, copy_from=None):
        super().__init__()
        self.extend(prompts)
        if copy_from is None:
            copy_from = prompts
        self.is_negative_prompt = is_negative_prompt or getattr(copy_from, "is_negative_prompt", False)
        self.width = width or getattr(copy_from, "width", None)
        self.height = height or getattr(copy_from, "height", None)


def get_learned_conditioning(model, prompts, steps, hires_steps=None, use_old_scheduling=False):  # :157-200
    res, cache = [], {}
    for prompt in prompts:
        cached = cache.get(prompt)
        if cached is not None:
            res.append(cached)
            continue
        # :188 calls model.get_learned_conditioning; the double's "sampler" paints from keys instead
        (cond,) = model.conditioning_keys(SdConditioning([prompt], copy_from=prompts))
        cache[prompt] = cond
        res.append(cond)
    return res


def get_multicond_learned_conditioning(model, prompts, steps, hires_steps=None, use_old_scheduling=False):
    return get_learned_conditioning(model, prompts, steps, hires_steps, use_old_scheduling)  # :252-267
