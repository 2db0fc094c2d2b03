"""modules/sd_samplers.py — ``samplers``, the list of ``SamplerData(name, constructor, aliases,
options)`` (:18; the namedtuple of sd_samplers_common.py:11-14) that ``set_samplers()`` fills at
import (:47-58, :132), and ``samplers_map`` (lower-cased names and aliases → name). The names and
aliases are v1.10.1's: k-diffusion (sd_samplers_kdiffusion.py:11-27), timesteps
(sd_samplers_timesteps.py:11-16), LCM (sd_samplers_lcm.py:100). No constructors: the double's
"sampler" lives in processing.py."""

from collections import namedtuple

SamplerData = namedtuple("SamplerData", ["name", "constructor", "aliases", "options"])

_NAMES = [
    ("DPM++ 2M", ["k_dpmpp_2m"]),
    ("DPM++ SDE", ["k_dpmpp_sde"]),
    ("DPM++ 2M SDE", ["k_dpmpp_2m_sde"]),
    ("DPM++ 2M SDE Heun", ["k_dpmpp_2m_sde_heun"]),
    ("DPM++ 2S a", ["k_dpmpp_2s_a"]),
    ("DPM++ 3M SDE", ["k_dpmpp_3m_sde"]),
    ("Euler a", ["k_euler_a", "k_euler_ancestral"]),
    ("Euler", ["k_euler"]),
    ("LMS", ["k_lms"]),
    ("Heun", ["k_heun"]),
    ("DPM2", ["k_dpm_2"]),
    ("DPM2 a", ["k_dpm_2_a"]),
    ("DPM fast", ["k_dpm_fast"]),
    ("DPM adaptive", ["k_dpm_ad"]),
    ("Restart", ["restart"]),
    ("DDIM", ["ddim"]),
    ("DDIM CFG++", ["ddim_cfgpp"]),
    ("PLMS", ["plms"]),
    ("UniPC", ["unipc"]),
    ("LCM", ["k_lcm"]),
]
all_samplers = [SamplerData(name, None, aliases, {}) for name, aliases in _NAMES]  # :11-15

samplers: list = []  # :18
samplers_for_img2img: list = []  # :19
samplers_map: dict = {}  # :20


def set_samplers():  # :47-58 (hide_samplers is not modelled)
    global samplers, samplers_for_img2img
    samplers = all_samplers
    samplers_for_img2img = all_samplers
    samplers_map.clear()
    for sampler in all_samplers:
        samplers_map[sampler.name.lower()] = sampler.name
        for alias in sampler.aliases:
            samplers_map[alias.lower()] = sampler.name


set_samplers()  # :132
