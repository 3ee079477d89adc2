#!/usr/bin/env python3
"""PyTorch peer for bench_gpu_gpt2 (same model, same shapes, same run script).

  torch_gpt2.py train --batch 8 --seq 1024 --steps 20 --tf32 1
      GPT-2 small training steps with fused SDPA attention (F.scaled_dot_product_attention,
      is_causal=True), fused AdamW when available. Prints tokens/s.
  torch_gpt2.py stats --seq 16384
      Eager attention with output_attentions semantics: every layer's [1, H, T, T] map is
      materialized and kept, then the same streaming metrics are computed from the maps.
      If that runs out of memory (expected at T=16384: 12 x 12.9 GB), it is reported and the
      per-layer variant (materialize, measure, free) is timed instead.
Ends with one JSON line per measurement.
"""
import argparse, json, math, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.H = H
        self.ln1, self.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.qkv, self.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.fc, self.fcproj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def attn_inputs(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        sh = lambda t: t.view(B, T, self.H, C // self.H).transpose(1, 2)
        return sh(q), sh(k), sh(v)

    def rest(self, x, y):
        B, H, T, Dh = y.shape
        x = x + self.proj(y.transpose(1, 2).reshape(B, T, H * Dh))
        return x + self.fcproj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))

    def forward(self, x):
        q, k, v = self.attn_inputs(x)
        return self.rest(x, F.scaled_dot_product_attention(q, k, v, is_causal=True))


class GPT(nn.Module):
    def __init__(self, V=50257, C=768, L=12, H=12, maxT=1024):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(maxT, C)
        self.blocks = nn.ModuleList(Block(C, H) for _ in range(L))
        self.lnf = nn.LayerNorm(C)
        for n, p in self.named_parameters():
            if p.dim() == 2:
                sd = 0.02 / math.sqrt(2 * L) if n.endswith("proj.weight") else 0.02
                nn.init.normal_(p, 0.0, sd)

    def embed(self, idx):
        return self.wte(idx) + self.wpe(torch.arange(idx.shape[1], device=idx.device))

    def forward(self, idx, targets):
        x = self.embed(idx)
        for b in self.blocks:
            x = b(x)
        logits = self.lnf(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def train(a):
    torch.backends.cuda.matmul.allow_tf32 = bool(a.tf32)
    torch.backends.cudnn.allow_tf32 = bool(a.tf32)
    dev = "cuda"
    torch.manual_seed(0)
    model = GPT(maxT=a.seq).to(dev)
    decay = [p for p in model.parameters() if p.dim() == 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}]
    try:
        opt = torch.optim.AdamW(groups, lr=3e-4, betas=(0.9, 0.95), eps=1e-8, fused=True)
    except (TypeError, RuntimeError):
        opt = torch.optim.AdamW(groups, lr=3e-4, betas=(0.9, 0.95), eps=1e-8)
    idx = torch.randint(0, 50257, (a.batch, a.seq), device=dev)
    tgt = torch.roll(idx, -1, dims=1)
    if a.compile:
        model = torch.compile(model)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(idx, tgt)
        loss.backward()
        opt.step()
        return loss.item()

    first = step()
    step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        last = step()
    torch.cuda.synchronize()
    sec = time.perf_counter() - t0
    tps = a.batch * a.seq * a.steps / sec
    mem = torch.cuda.max_memory_allocated() / 2**30
    print(f"torch {torch.__version__} {torch.cuda.get_device_name()}: step {1e3 * sec / a.steps:.1f} ms, "
          f"{tps:.0f} tokens/s, loss {first:.4f} -> {last:.4f}, peak {mem:.2f} GiB"
          + (" (torch.compile)" if a.compile else ""))
    print(json.dumps({"bench": "gpt2_train", "impl": "torch" + ("_compile" if a.compile else ""), "B": a.batch,
                      "T": a.seq, "tokens_per_s": tps, "loss_first": first, "loss_last": last, "mem_gib": mem}))


def metrics_from_map(A):
    """The streamed metrics of attnlab, from a materialized [H, T, T] map."""
    col = A.sum(dim=1)
    ent = -(A * torch.log(A.clamp_min(1e-30))).sum(dim=-1)
    prev = torch.diagonal(A, offset=-1, dim1=1, dim2=2)
    rmax = A.amax(dim=-1)
    return col, ent, prev, rmax


@torch.no_grad()
def stats(a):
    torch.backends.cuda.matmul.allow_tf32 = True
    dev = "cuda"
    torch.manual_seed(0)
    model = GPT(maxT=a.seq).to(dev).eval()
    idx = torch.randint(0, 50257, (1, a.seq), device=dev)
    T = a.seq
    mask = torch.ones(T, T, device=dev, dtype=torch.bool).tril_()

    def eager_attention(b, x):
        q, k, v = b.attn_inputs(x)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
        A = torch.softmax(s.masked_fill(~mask, float("-inf")), dim=-1)
        del s
        return A, A @ v

    def run(keep_all):
        x = model.embed(idx)
        maps, out = [], []
        for b in model.blocks:
            A, y = eager_attention(b, x)
            if keep_all:
                maps.append(A)  # output_attentions=True: every map lives until the end
            else:
                out.append([m.cpu() for m in metrics_from_map(A[0])])
                del A
            x = b.rest(x, y)
        if keep_all:
            out = [[m.cpu() for m in metrics_from_map(A[0])] for A in maps]
        torch.cuda.synchronize()
        return out

    results = []
    for keep_all, label in ((True, "eager_output_attentions"), (False, "eager_per_layer")):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        try:
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            run(keep_all)
            sec = time.perf_counter() - t0
            mem = torch.cuda.max_memory_allocated() / 2**30
            print(f"{label}: {sec:.3f} s, peak {mem:.2f} GiB")
            results.append({"bench": "stats", "impl": "torch_" + label, "T": T, "seconds": sec, "mem_gib": mem})
        except torch.cuda.OutOfMemoryError as e:
            mem = torch.cuda.max_memory_allocated() / 2**30
            print(f"{label}: OUT OF MEMORY (peak before failing {mem:.2f} GiB): {str(e).splitlines()[0]}")
            results.append({"bench": "stats", "impl": "torch_" + label, "T": T, "oom": True, "mem_gib": mem})
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["train", "stats"])
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=None)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--tf32", type=int, default=1)
    p.add_argument("--compile", type=int, default=0)
    a = p.parse_args()
    if a.seq is None:
        a.seq = 1024 if a.mode == "train" else 16384
    if not torch.cuda.is_available():
        sys.exit("torch_gpt2.py: PyTorch sees no CUDA device")
    (train if a.mode == "train" else stats)(a)
