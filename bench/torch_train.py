"""PyTorch peer of bench_train: the same GPT-2-style model (tests/oracle/model_ref.py), same
shapes, same thread count (OMP_NUM_THREADS), AdamW step included. Prints tokens/s for training and forward."""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "oracle"))
import model_ref  # noqa: E402

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
steps, B, T = (int(a) for a in sys.argv[1:4])
cfg = json.loads(sys.argv[4])
torch.manual_seed(0)
D, V, F, L = cfg["d_model"], cfg["vocab_size"], cfg["d_ff"], cfg["n_layers"]
p = {"tok_emb.weight": torch.randn(V, D) * 0.02, "pos_emb.weight": torch.randn(cfg["context"], D) * 0.02,
     "final_norm.weight": torch.ones(D), "final_norm.bias": torch.zeros(D)}
for l in range(L):
    pre = f"layers.{l}."
    for n in ["attn_norm", "mlp_norm"]:
        p[pre + n + ".weight"], p[pre + n + ".bias"] = torch.ones(D), torch.zeros(D)
    for n, shape in [("attn.wq", (D, D)), ("attn.wk", (D, D)), ("attn.wv", (D, D)), ("attn.wo", (D, D)),
                     ("mlp.w1", (F, D)), ("mlp.w2", (D, F))]:
        p[pre + n + ".weight"] = torch.randn(*shape) * 0.02
        p[pre + n + ".bias"] = torch.zeros(shape[0])
for v in p.values():
    v.requires_grad_(True)
opt = torch.optim.AdamW(p.values(), lr=1e-4)
tokens = torch.randint(0, V, (B, T))
targets = torch.randint(0, V, (B, T))


def train_step():
    opt.zero_grad()
    logits = model_ref.forward(cfg, p, tokens)
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
    loss.backward()
    torch.nn.utils.clip_grad_norm_(p.values(), 1.0)
    opt.step()


def fwd():
    with torch.no_grad():
        model_ref.forward(cfg, p, tokens)


for name, fn in [("train", train_step), ("forward", fwd)]:
    fn()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    dt = (time.perf_counter() - t0) / steps
    print(f"torch {name}_tokens_per_s {B * T / dt:.1f}")
