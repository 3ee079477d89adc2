"""PyTorch autograd references for the layers of core/layers/.

usage: layers_ref.py IN.safetensors OUT.safetensors
IN holds the inputs of one layer and the upstream gradient "dy"; metadata "layer" names it.
OUT holds "y" and the gradient of sum(y * dy) with respect to every input ("d<name>").
Each reference is also checked with torch.autograd.gradcheck in float64 (central finite
differences), so the C++ layers are tied to finite differences through it."""
import json
import math
import sys

import torch

import st_io


def linear(t, m):
    return t["x"] @ t["W"].T + (t["b"] if "b" in t else 0)


def layernorm(t, m):
    return torch.nn.functional.layer_norm(t["x"], t["x"].shape[-1:], t["w"], t["b"], float(m["eps"]))


def rmsnorm(t, m):
    x = t["x"]
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + float(m["eps"])) * t["w"]


def gelu(t, m):
    return torch.nn.functional.gelu(t["x"], approximate="tanh" if m["tanh"] == "1" else "none")


def swiglu(t, m):
    return torch.nn.functional.silu(t["gate"]) * t["up"]


def rope(t, m):
    x = t["x"]  # [B, H, T, Dh]
    T, Dh = x.shape[2], x.shape[3]
    rot, theta = int(m["rot"]), float(m["theta"])
    half = rot // 2
    i = torch.arange(half, dtype=x.dtype)
    freq = theta ** (-2.0 * i / rot)
    ang = torch.arange(T, dtype=x.dtype)[:, None] * freq[None, :]
    cos, sin = torch.cos(ang), torch.sin(ang)
    if m["style"] == "interleaved":
        a, b = x[..., 0:rot:2], x[..., 1:rot:2]
    else:
        a, b = x[..., :half], x[..., half:rot]
    ra, rb = a * cos - b * sin, a * sin + b * cos
    if m["style"] == "interleaved":
        out = torch.stack([ra, rb], dim=-1).flatten(-2)
    else:
        out = torch.cat([ra, rb], dim=-1)
    return torch.cat([out, x[..., rot:]], dim=-1)


def cross_entropy(t, m):
    logits, targets, mask = t["logits"], t["targets"].long(), t["mask"]
    nll = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
    return ((nll * mask).sum() / mask.sum()).reshape(1)


REFS = {f.__name__: f for f in [linear, layernorm, rmsnorm, gelu, swiglu, rope, cross_entropy]}
NO_GRAD = {"targets", "mask", "dy"}


def run(tensors, meta, dtype):
    f = REFS[meta["layer"]]
    t = {k: torch.tensor(v, dtype=dtype, requires_grad=k not in NO_GRAD) for k, v in tensors.items()}
    y = f(t, meta)
    (y * t["dy"]).sum().backward()
    return t, y


def main():
    tensors, meta = st_io.load(sys.argv[1])
    t, y = run(tensors, meta, torch.float32)
    out = {"y": y.detach().numpy()}
    for k, v in t.items():
        if v.requires_grad:
            out["d" + k] = v.grad.numpy()
    # Finite-difference check of the reference itself, in double precision on a slice.
    f = REFS[meta["layer"]]
    names = [k for k in tensors if k not in NO_GRAD]
    fixed = {k: torch.tensor(tensors[k], dtype=torch.float64) for k in tensors if k in NO_GRAD}

    def fn(*args):
        d = dict(zip(names, args))
        d.update(fixed)
        return f(d, meta)

    args = tuple(torch.tensor(tensors[k], dtype=torch.float64, requires_grad=True) for k in names)
    assert torch.autograd.gradcheck(fn, args, eps=1e-6, atol=1e-5), "gradcheck failed"
    st_io.save(sys.argv[2], out)


if __name__ == "__main__":
    main()
