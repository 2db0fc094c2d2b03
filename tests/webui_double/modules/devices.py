"""modules/devices.py — the devices and dtypes the bridge moves tensors to, on CPU in float32.

The real module picks CUDA/MPS and float16 at start-up (:115-128); the double runs on CPU, where
the real ``autocast`` (:210-232) returns a null context for float32.
"""

import contextlib

import torch

cpu = torch.device("cpu")  # :115
device = cpu  # :120 (set by initialize in the real webui)
device_interrogate = cpu  # :121
dtype = torch.float32  # :125 (float16 on a GPU)
dtype_vae = torch.float32  # :126
dtype_unet = torch.float32  # :127
dtype_inference = torch.float32  # :128
unet_needs_upcast = False  # :129
force_fp16 = False  # :119


def cond_cast_unet(input):  # :132-135
    if force_fp16:
        return input.to(torch.float16)
    return input.to(dtype_unet) if unet_needs_upcast else input


def autocast(disable=False):  # :210 — float32: no casting
    return contextlib.nullcontext()


def torch_gc():  # :77
    pass
