"""A PyTorch reimplementation of attnlab's Transformer (core/model/) for one training step.

usage: model_ref.py IN.safetensors OUT.safetensors
IN: every parameter under its attnlab name, plus "batch.tokens", "batch.targets", "batch.mask"
([B, T] as floats); metadata "config" is the model config JSON. Attention must be "softmax".
OUT: "loss" [1], "logits" [B, T, V] and "grad.<param>" for every parameter."""
import json
import math
import sys

import torch
import torch.nn.functional as F

import st_io


def norm(cfg, x, w, b):
    if cfg["norm"] == "layernorm":
        return F.layer_norm(x, x.shape[-1:], w, b, cfg["norm_eps"])
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + cfg["norm_eps"]) * w


def rope(cfg, x):  # x [B, H, T, Dh]
    Dh = x.shape[-1]
    rot = int(Dh * cfg["rotary_pct"] + 0.5)
    rot -= rot % 2
    half = rot // 2
    i = torch.arange(half, dtype=torch.float64)
    freq = cfg["rope_theta"] ** (-2.0 * i / rot)
    ang = torch.arange(x.shape[2], dtype=torch.float64)[:, None] * freq[None, :]
    cos, sin = torch.cos(ang).to(x.dtype), torch.sin(ang).to(x.dtype)
    if cfg["rope_style"] == "interleaved":
        a, b = x[..., 0:rot:2], x[..., 1:rot:2]
        out = torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2)
    else:
        a, b = x[..., :half], x[..., half:rot]
        out = torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)
    return torch.cat([out, x[..., rot:]], dim=-1)


def lin(p, name, x):
    y = x @ p[name + ".weight"].T
    if name + ".bias" in p:
        y = y + p[name + ".bias"]
    return y


def attention(cfg, p, l, x):
    B, T, D = x.shape
    H, Hkv = cfg["n_heads"], cfg["n_kv_heads"]
    Dh = D // H
    pre = f"layers.{l}.attn."
    q = lin(p, pre + "wq", x).view(B, T, H, Dh).transpose(1, 2)
    k = lin(p, pre + "wk", x).view(B, T, Hkv, Dh).transpose(1, 2)
    v = lin(p, pre + "wv", x).view(B, T, Hkv, Dh).transpose(1, 2)
    k = k.repeat_interleave(H // Hkv, dim=1)
    v = v.repeat_interleave(H // Hkv, dim=1)
    if cfg["pos"] == "rope":
        q, k = rope(cfg, q), rope(cfg, k)
    s = q @ k.transpose(-1, -2) / math.sqrt(Dh)
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    s = s.masked_fill(~mask, float("-inf"))
    o = torch.softmax(s, dim=-1) @ v
    return lin(p, pre + "wo", o.transpose(1, 2).reshape(B, T, H * Dh))


def mlp(cfg, p, l, x):
    pre = f"layers.{l}.mlp."
    h = lin(p, pre + "w1", x)
    if cfg["mlp"] == "swiglu":
        h = F.silu(h) * lin(p, pre + "w3", x)
    else:
        h = F.gelu(h, approximate="tanh" if cfg["mlp"] == "gelu_tanh" else "none")
    return lin(p, pre + "w2", h)


def forward(cfg, p, tokens):
    B, T = tokens.shape
    x = p["tok_emb.weight"][tokens]
    if cfg["pos"] == "learned":
        x = x + p["pos_emb.weight"][:T]
    for l in range(cfg["n_layers"]):
        n1 = norm(cfg, x, p[f"layers.{l}.attn_norm.weight"], p.get(f"layers.{l}.attn_norm.bias"))
        a = attention(cfg, p, l, n1)
        if cfg["mlp"] == "none":  # attention-only blocks
            x = x + a
        elif cfg["parallel_residual"]:
            n2 = norm(cfg, x, p[f"layers.{l}.mlp_norm.weight"], p.get(f"layers.{l}.mlp_norm.bias"))
            x = x + a + mlp(cfg, p, l, n2)
        else:
            x = x + a
            n2 = norm(cfg, x, p[f"layers.{l}.mlp_norm.weight"], p.get(f"layers.{l}.mlp_norm.bias"))
            x = x + mlp(cfg, p, l, n2)
    x = norm(cfg, x, p["final_norm.weight"], p.get("final_norm.bias"))
    head = p["tok_emb.weight"] if cfg["tied_embeddings"] else p["lm_head.weight"]
    return x @ head.T


def main():
    tensors, meta = st_io.load(sys.argv[1])
    cfg = json.loads(meta["config"])
    assert all(a == "softmax" for a in cfg["attention"]), "model_ref supports softmax attention"
    tokens = torch.tensor(tensors.pop("batch.tokens")).long()
    targets = torch.tensor(tensors.pop("batch.targets")).long()
    mask = torch.tensor(tensors.pop("batch.mask"))
    p = {k: torch.tensor(v, requires_grad=True) for k, v in tensors.items()}
    logits = forward(cfg, p, tokens)
    nll = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="none")
    loss = (nll * mask.flatten()).sum() / mask.sum()
    loss.backward()
    out = {"loss": loss.detach().reshape(1).numpy(), "logits": logits.detach().numpy()}
    for k, v in p.items():
        out["grad." + k] = v.grad.numpy()
    st_io.save(sys.argv[2], out)


if __name__ == "__main__":
    main()
