"""Independent per-head attention statistics from materialized attention (PyTorch), for the
analysis engine's oracle test (tests/analysis/test_analysis_oracle.cpp).

usage: analysis_ref.py IN.safetensors OUT.safetensors [--float64]
IN: every parameter under its attnlab name plus "batch.tokens" [B, T] (floats); metadata
"config" is the model config JSON. Attention: "softmax" or "softmax+window(size=W,sinks=S)".
OUT: "m.<metric>" [L*H] per-head metrics, "alpha" [L*H, T], "sink_k1_pct" [1],
"resid_norm" [L+1, T], "resid_top1" [L+1], "resid_median" [L+1], "value_norm" [L*H, T].
Definitions are those of shared/REFERENCE.md, computed here on full T x T matrices."""
import json
import math
import re
import sys

import torch

import model_ref
import st_io

CAP = []  # per layer: (A [B,H,T,T], v [B,H,T,Dh], visible [T,T])


def parse_mask(spec, T):
    vis = torch.ones(T, T, dtype=torch.bool).tril()
    m = re.search(r"window\(size=(\d+)(?:,sinks=(\d+))?\)", spec)
    if m:
        w, s = int(m.group(1)), int(m.group(2) or 0)
        t = torch.arange(T)[:, None]
        j = torch.arange(T)[None, :]
        vis = vis & ((j < s) | (t - j < w))
    return vis


def attention(cfg, p, l, x):
    B, T, D = x.shape
    H, Hkv = cfg["n_heads"], cfg["n_kv_heads"]
    Dh = D // H
    pre = f"layers.{l}.attn."
    q = model_ref.lin(p, pre + "wq", x).view(B, T, H, Dh).transpose(1, 2)
    k = model_ref.lin(p, pre + "wk", x).view(B, T, Hkv, Dh).transpose(1, 2)
    v = model_ref.lin(p, pre + "wv", x).view(B, T, Hkv, Dh).transpose(1, 2)
    k = k.repeat_interleave(H // Hkv, dim=1)
    v = v.repeat_interleave(H // Hkv, dim=1)
    if cfg["pos"] == "rope":
        q, k = model_ref.rope(cfg, q), model_ref.rope(cfg, k)
    s = (q @ k.transpose(-1, -2) / math.sqrt(Dh)).double()
    spec = cfg["attention"][l] if len(cfg["attention"]) > 1 else cfg["attention"][0]
    vis = parse_mask(spec, T)
    A = torch.softmax(s.masked_fill(~vis, float("-inf")), dim=-1)
    CAP.append((A, v.double(), vis))
    o = A.to(v.dtype) @ v
    return model_ref.lin(p, pre + "wo", o.transpose(1, 2).reshape(B, T, H * Dh))


def forward_residuals(cfg, p, tokens):
    res = []
    x = p["tok_emb.weight"][tokens]
    if cfg["pos"] == "learned":
        x = x + p["pos_emb.weight"][: tokens.shape[1]]
    res.append(x)
    for l in range(cfg["n_layers"]):
        n1 = model_ref.norm(cfg, x, p[f"layers.{l}.attn_norm.weight"], p.get(f"layers.{l}.attn_norm.bias"))
        x = x + attention(cfg, p, l, n1)
        if cfg["mlp"] == "none":
            res.append(x)
            continue
        n2 = model_ref.norm(cfg, x, p[f"layers.{l}.mlp_norm.weight"], p.get(f"layers.{l}.mlp_norm.bias"))
        x = x + model_ref.mlp(cfg, p, l, n2)
        res.append(x)
    return res


def head_metrics(A, vis, tok, eps=0.3, p_cov=0.9):
    """A [T, T] one head and sequence (float64), vis [T, T], tok [T] ints."""
    T = A.shape[0]
    out = {}
    n = vis.sum(1).double()  # visible keys per query
    # Gu et al. (eval_sink_pretrain.py): column sum over T - k (0-based k) under every mask.
    alpha = A.sum(0) / (T - torch.arange(T)).double()
    out["alpha"] = alpha
    out["sink"] = float(alpha[0] > eps)
    out["sink_mass"] = A[:, 0].mean()
    ent = -(torch.where(A > 0, A * torch.log(A), torch.zeros_like(A))).sum(1)
    out["entropy"] = ent.mean()
    rows = n >= 2
    out["norm_entropy"] = (ent[rows] / torch.log(n[rows])).mean()
    cov, gini, gfree, hoy, span = [], [], [], [], []
    zeros = below1 = below01 = entries = 0
    for t in range(T):
        a = A[t][vis[t]]
        m = a.numel()
        entries += m
        zeros += int((a == 0).sum())
        below1 += int((a < 0.1 / m).sum())
        below01 += int((a < 0.01 / m).sum())
        if m < 2:
            continue
        d = torch.sort(a, descending=True).values
        k = int((torch.cumsum(d, 0) <= p_cov + 1e-6).sum()) + 1  # ties within rounding count (row_metrics.h)
        cov.append(min(k, m) / m)
        if m >= max(2, T // 8):  # span growth: log k_p against log n_t (head_stats.h)
            span.append((math.log(m), math.log(min(k, m))))
        asc = torch.flip(d, [0])
        i = torch.arange(1, m + 1, dtype=torch.float64)
        g = float(((2 * i - m - 1) * asc).sum() / (m * asc.sum()))
        gini.append(g)
        gfree.append(g * m / (m - 1))
        hoy.append((math.sqrt(m) - float(a.abs().sum() / a.norm())) / (math.sqrt(m) - 1))
    out["cover_mean"] = sum(cov) / len(cov)
    out["span_growth"] = (0.0, False)
    if len(span) >= 3:
        xs = torch.tensor([x for x, _ in span], dtype=torch.float64)
        ys = torch.tensor([y for _, y in span], dtype=torch.float64)
        sxx = float(((xs - xs.mean()) ** 2).sum())
        if sxx > 1e-9:
            out["span_growth"] = (float(((xs - xs.mean()) * (ys - ys.mean())).sum()) / sxx, True)
    out["cover_list"] = cov
    out["gini"] = sum(gini) / len(gini)
    out["gini_free"] = sum(gfree) / len(gfree)
    out["hoyer"] = sum(hoy) / len(hoy)
    out["zero_frac"] = zeros / entries
    out["below_0.1"] = below1 / entries
    out["below_0.01"] = below01 / entries
    out["prev_token"] = torch.stack([A[t, t - 1] for t in range(1, T)]).mean()
    # TransformerLens head_detector patterns, built as in head_detector.py.
    eq = (tok[None, :] == tok[:, None]).double()
    eq.fill_diagonal_(0)
    dup = torch.tril(eq)
    ind = torch.roll(dup, shifts=1, dims=1)
    ind[:, 0] = 0
    ind = torch.tril(ind)
    out["tl_duplicate"] = (A * dup).sum() / A.sum()
    out["tl_induction"] = (A * ind).sum() / A.sum()
    # Anthropic prefix matching / echo: mean over rows with a match of the mass on matches.
    pm, ec = [], []
    for t in range(T):
        keys = [j for j in range(1, t) if tok[j - 1] == tok[t]]
        if keys:
            pm.append(float(A[t, keys].sum()))
        ekeys = [j for j in range(t) if tok[j] == tok[t]]
        if ekeys:
            ec.append(float(A[t, ekeys].sum()))
    out["prefix_matching"] = (sum(pm) / len(pm), bool(pm))
    out["echo"] = (sum(ec) / len(ec), bool(ec))
    return out


def main():
    tensors, meta = st_io.load(sys.argv[1])
    cfg = json.loads(meta["config"])
    tokens = torch.tensor(tensors.pop("batch.tokens")).long()
    # --float64: the whole forward in double precision (an independent reference for a real model).
    dtype = torch.float64 if "--float64" in sys.argv else torch.float32
    p = {k: torch.tensor(v).to(dtype) for k, v in tensors.items()}
    with torch.no_grad():
        res = forward_residuals(cfg, p, tokens)
    B, T = tokens.shape
    L, H = cfg["n_layers"], cfg["n_heads"]
    names = ["sink_mass", "entropy", "norm_entropy", "cover_mean", "gini", "gini_free",
             "hoyer", "zero_frac", "below_0.1", "below_0.01", "prev_token", "tl_duplicate", "tl_induction"]
    out = {"m." + n: [] for n in names + ["cover_median", "alpha1", "sink1_frac", "prefix_matching", "echo", "value_norm1",
                                         "span_growth"]}
    alphas, vnorms = [], []
    sinks = 0.0
    for l in range(L):
        A, v, vis = CAP[l]
        for h in range(H):
            per = [head_metrics(A[b, h], vis, tokens[b]) for b in range(B)]
            alpha = torch.stack([x["alpha"] for x in per]).mean(0)
            alphas.append(alpha.numpy())
            out["m.alpha1"].append(float(alpha[0]))
            frac = sum(x["sink"] for x in per) / B
            out["m.sink1_frac"].append(frac)
            sinks += frac
            # Row-averaged metrics pool rows over sequences (equal lengths: mean of means).
            for n in names:
                out["m." + n].append(sum(float(x[n]) for x in per) / B)
            # The coverage median pools the rows of every sequence.
            cov = sorted(c for x in per for c in x["cover_list"])
            m = len(cov)
            out["m.cover_median"].append(cov[m // 2] if m % 2 else 0.5 * (cov[m // 2 - 1] + cov[m // 2]))
            for n in ["prefix_matching", "echo", "span_growth"]:
                vals = [x[n][0] for x in per if x[n][1]]
                out["m." + n].append(sum(vals) / len(vals) if vals else 0.0)
            vn = v[:, h].norm(dim=-1).mean(0)
            vnorms.append(vn.numpy())
            out["m.value_norm1"].append(float(vn[0]))
    out["alpha"] = alphas
    out["value_norm"] = vnorms
    out["sink_k1_pct"] = [100.0 * sinks / (L * H)]
    out["resid_norm"] = [r.double().norm(dim=-1).mean(0).numpy() for r in res]
    out["resid_top1"] = [float(r.abs().max()) for r in res]
    out["resid_median"] = [float(torch.stack([r[b].abs().flatten().double().sort().values[
        (r[b].numel() - 1) // 2: r[b].numel() // 2 + 1].mean() for b in range(B)]).mean()) for r in res]
    st_io.save(sys.argv[2], out)


if __name__ == "__main__":
    main()
