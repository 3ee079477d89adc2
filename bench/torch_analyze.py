"""PyTorch eager peer of `attnlab analyze MODEL --prompt TEXT` (bench/bench_analyze.sh): loads the
same checkpoint, runs the forward on the prompt's tokens (the checkpoint's char vocabulary) and computes, per layer and head,
the metrics the analysis benchmark compares: the attention pattern (materialized, T x T per
layer), row entropy, alpha_1 (Gu et al.: column 0's sum over T), previous-token mass and
coverage k_0.9 / n (sorted rows, as REFERENCE 5 defines it). Float32, plain eager code, one layer's
patterns at a time.
    python3 bench/torch_analyze.py MODEL.safetensors PROMPT_FILE"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "oracle"))
import model_ref  # noqa: E402
import st_io  # noqa: E402

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
tensors, meta = st_io.load(sys.argv[1])
cfg = json.loads(meta["attnlab.config"])
vocab = {c: i for i, c in enumerate(json.loads(meta["attnlab.vocab"]))}  # the checkpoint's char tokenizer
p = {k: torch.from_numpy(v) for k, v in tensors.items()}
tokens = torch.tensor([vocab[c] for c in open(sys.argv[2]).read()], dtype=torch.long)[None, :]
T = tokens.shape[1]
L, H, D = cfg["n_layers"], cfg["n_heads"], cfg["d_model"]
Dh = D // H
causal = torch.ones(T, T, dtype=torch.bool).tril()
n = torch.arange(1, T + 1, dtype=torch.float32)
metrics = {k: torch.zeros(L, H) for k in ["entropy", "alpha1", "prev_token", "cover_mean"]}
with torch.no_grad():
    x = p["tok_emb.weight"][tokens] + p["pos_emb.weight"][:T]
    for l in range(L):
        pre = f"layers.{l}."
        h = model_ref.norm(cfg, x, p[pre + "attn_norm.weight"], p[pre + "attn_norm.bias"])
        q, k, v = (model_ref.lin(p, pre + "attn." + w, h).view(1, T, H, Dh).transpose(1, 2) for w in ["wq", "wk", "wv"])
        s = (q @ k.transpose(-1, -2))[0] / math.sqrt(Dh)
        A = torch.softmax(s.masked_fill(~causal, float("-inf")), dim=-1)  # [H, T, T]
        del s
        for hd in range(H):
            a = A[hd]
            metrics["entropy"][l, hd] = -(a * torch.log(a.clamp_min(1e-38))).sum(1).mean()
            metrics["alpha1"][l, hd] = a[:, 0].sum() / T
            metrics["prev_token"][l, hd] = torch.diagonal(a, -1).mean()
            d = torch.sort(a, dim=1, descending=True).values
            k_p = ((torch.cumsum(d, 1) <= 0.9 + 1e-6).sum(1) + 1).float().clamp_max(n)
            metrics["cover_mean"][l, hd] = (k_p / n)[1:].mean()
            del d
        o = (A @ v[0]).transpose(0, 1).reshape(1, T, D)
        del A
        x = x + model_ref.lin(p, pre + "attn.wo", o)
        h = model_ref.norm(cfg, x, p[pre + "mlp_norm.weight"], p[pre + "mlp_norm.bias"])
        x = x + model_ref.mlp(cfg, p, l, h)
print(" ".join(f"{k}={float(v.mean()):.4f}" for k, v in metrics.items()))
