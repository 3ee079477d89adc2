"""The sparse-attention recall engine's reference (analysis/sparse/, docs/sparse.md): every
pattern's key set built explicitly as a T x T mask from the dense float64 map and the raw q, k, then
per row mass recall R, oracle top-|S| recall R*, set recall H and the relative output error E of
the renormalized sparse output.

usage: sparse_ref.py IN.safetensors OUT.safetensors
IN: "q", "k", "v" [H, T, Dh] (one sequence, after RoPE), "cq", "ck" [H, Tc, Dh] (the calibration
input of channel_topk); metadata "attention" (the attention spec whose mask modifiers apply, scale
1/sqrt(Dh) softmax), "patterns" (JSON list of [spec, budget] with budget "" for none).
OUT: "R", "Rstar", "H", "E", "m" [P, H, T] (m = |S_t|)."""
import json
import math
import re
import sys

import torch

import st_io
from metrics_ref import visible


def parse(spec):
    name, args = re.fullmatch(r"(\w+)(?:\((.*)\))?", spec).groups()
    a = {}
    for kv in (args or "").split(","):
        if kv:
            k, v = kv.split("=")
            a[k] = v
    return name, a


def budget_keys(budget, n, block=64):
    """Keys a per-row pattern keeps (analysis/sparse/budget.h)."""
    kind, val = budget
    k = {"tokens": val, "fraction": math.ceil(val * n - 1e-9), "blocks": val * block}[kind]
    return max(1, min(int(k), n))


def parse_budget(s):
    if s.endswith("%"):
        return ("fraction", float(s[:-1]) / 100)
    if s.endswith("b"):
        return ("blocks", float(s[:-1]))
    if "." in s:
        return ("fraction", float(s))
    return ("tokens", float(s))


def top(scores, cand, k):
    """The k best of the candidate indices by score, ties to the smaller index."""
    order = sorted(cand, key=lambda j: (-scores[j], j))
    return set(order[:k])


def pattern_mask(name, a, budget, A, q, k, vis_t, chan_order):
    """The pattern's T x T key mask, built one entry at a time (plain lists: fast enough)."""
    T, Dh = q.shape
    vis = vis_t.tolist()
    Al = A.tolist()
    M = [[False] * T for _ in range(T)]
    if name == "topk":
        b = budget or ("tokens", float(a.get("k", 64)))
        for t in range(T):
            cand = [j for j in range(t + 1) if vis[t][j]]
            for j in top(Al[t], cand, budget_keys(b, len(cand))):
                M[t][j] = True
    elif name == "channel_topk":
        b = budget or ("tokens", float(a.get("k", 64)))
        C = chan_order[: max(1, Dh // int(a.get("group", 4)))]
        s = q[:, C] @ k[:, C].T
        for t in range(T):
            cand = [j for j in range(t + 1) if vis[t][j]]
            for j in top(s[t].tolist(), cand, budget_keys(b, len(cand))):
                M[t][j] = True
    elif name == "window":
        sinks = int(a.get("sinks", 4))
        for t in range(T):
            n = sum(vis[t])
            if budget:
                kk = budget_keys(budget, n)
                s_, w = min(sinks, kk), kk - min(sinks, kk)
            else:
                s_, w = sinks, int(a.get("size", 60))
            cand = [j for j in range(t + 1) if vis[t][j]]
            for i, j in enumerate(cand):
                M[t][j] = i < s_ or i >= n - w
    elif name == "block_topk":
        B = int(a.get("block", 64))
        nb = (T + B - 1) // B
        if a.get("score", "mean") == "oracle":
            u = torch.zeros(nb, nb, dtype=torch.float64)
            for I in range(nb):
                for J in range(I + 1):
                    u[I, J] = A[I * B:(I + 1) * B, J * B:(J + 1) * B].sum()
        else:
            qm = torch.stack([q[I * B:(I + 1) * B].mean(0) for I in range(nb)])
            km = torch.stack([k[J * B:(J + 1) * B].mean(0) for J in range(nb)])
            u = qm @ km.T
        for I in range(nb):
            if budget is None:
                K = int(a.get("k", 4))
            elif budget[0] == "blocks":
                K = int(budget[1])
            elif budget[0] == "tokens":
                K = math.ceil(budget[1] / B)
            else:
                K = math.ceil(budget[1] * (I + 1) - 1e-9)
            keep = top(u[I].tolist(), list(range(I + 1)), max(1, min(K, I + 1)))
            for t in range(I * B, min(T, (I + 1) * B)):
                for j in range(t + 1):
                    M[t][j] = vis[t][j] and (j // B) in keep
    elif name == "vertical_slash":
        last_q = int(a.get("last_q", 64))
        fv, fs = int(a.get("force_v", 4)), int(a.get("force_s", 64))
        nv, ns = int(a.get("v", 32)), int(a.get("s", 32))
        if budget:
            tok = {"tokens": budget[1], "blocks": budget[1] * 64,
                   "fraction": math.ceil(budget[1] * T - 1e-9)}[budget[0]]
            nv = max(1, int(tok) // 2)
            ns = max(1, int(tok) - nv)
        rows = range(max(0, T - last_q), T)
        col = [0.0] * T
        diag = [0.0] * T
        for r in rows:
            for j in range(r + 1):
                col[j] += Al[r][j]
                diag[r - j] += Al[r][j]
        for j in range(min(fv, T)):
            col[j] = math.inf
        for d in range(min(fs, T)):
            diag[d] = math.inf
        V = top(col, list(range(T)), nv)
        S = top(diag, list(range(T)), ns)
        for t in range(T):
            for j in range(t + 1):
                M[t][j] = vis[t][j] and (j in V or (t - j) in S)
    elif name == "snapkv":
        # The Sparse Frontier's SnapKVCompression.kv_compress, one head, no GQA group.
        obs, ker = int(a.get("obs", 256)), int(a.get("kernel", 21))
        loc, pre = int(a.get("local", 128)), int(a.get("prefix", 4))
        cap = int(a.get("k", 1024))
        if budget:
            cap = int({"tokens": budget[1], "blocks": budget[1] * 64,
                       "fraction": math.ceil(budget[1] * T - 1e-9)}[budget[0]])
        cap = min(cap, T)
        imp = A[max(0, T - obs):].sum(0)
        pooled = torch.nn.functional.avg_pool1d(imp[None, None], ker, stride=1, padding=ker // 2)[0, 0]
        if loc > 0:
            pooled[-loc:] = math.inf
        pooled[:pre] = math.inf
        keep = top(pooled.tolist(), list(range(T)), cap)
        for t in range(T):
            for j in range(t + 1):
                M[t][j] = vis[t][j] and j in keep
    elif name == "quest":
        P = int(a.get("page", 16))
        b = budget or ("tokens", float(a.get("k", 64)))
        np_ = (T + P - 1) // P
        lo = torch.stack([k[p * P:(p + 1) * P].min(0).values for p in range(np_)])
        hi = torch.stack([k[p * P:(p + 1) * P].max(0).values for p in range(np_)])
        for t in range(T):
            cur = t // P
            if b[0] == "tokens":
                pages = int(b[1]) // P
            elif b[0] == "blocks":
                pages = int(b[1])
            else:
                pages = math.ceil(b[1] * len({j // P for j in range(t + 1) if vis[t][j]}) - 1e-9)
            pages = max(pages, 1)
            U = torch.maximum(q[t] * lo, q[t] * hi).sum(1).tolist()
            cand = sorted({j // P for j in range(cur * P) if vis[t][j]})
            keep = top(U, cand, pages - 1) | {cur}
            for j in range(t + 1):
                M[t][j] = vis[t][j] and (j // P) in keep
    else:
        raise SystemExit("unknown pattern " + name)
    return torch.tensor(M, dtype=torch.bool)


def row_metrics(A, M, v):
    T = A.shape[0]
    R = (A * M).sum(1)
    m = M.sum(1)
    srt = torch.sort(A, dim=1, descending=True, stable=True)
    cum = torch.cat([torch.zeros(T, 1, dtype=torch.float64), srt.values.cumsum(1)], 1)
    Rstar = cum[torch.arange(T), m]
    H = torch.ones(T, dtype=torch.float64)
    for t in range(T):
        if m[t] > 0:
            topset = set(srt.indices[t, : int(m[t])].tolist())
            H[t] = len(topset & set(torch.nonzero(M[t]).flatten().tolist())) / int(m[t])
    o = A @ v
    oS = ((A * M) @ v) / R.clamp_min(1e-300)[:, None]
    oS[R == 0] = 0
    E = (oS - o).norm(dim=1) / o.norm(dim=1)
    return R, Rstar, H, E, m


def main(inp, out):
    t, meta = st_io.load(inp)
    q, k, v = (torch.tensor(t[n], dtype=torch.float64) for n in ("q", "k", "v"))
    cq, ck = (torch.tensor(t[n], dtype=torch.float64) for n in ("cq", "ck"))
    H, T, Dh = q.shape
    vis = visible(meta["attention"], T)
    patterns = json.loads(meta["patterns"])
    res = {n: torch.zeros(len(patterns), H, T, dtype=torch.float64) for n in ("R", "Rstar", "H", "E", "m")}
    for h in range(H):
        s = (q[h] @ k[h].T) / math.sqrt(Dh)
        s = s.masked_fill(~vis, -math.inf)
        A = torch.softmax(s, dim=1)
        stat = (cq[h] * ck[h]).abs().mean(0).tolist()
        chan_order = sorted(range(Dh), key=lambda c: (-stat[c], c))
        for p, (spec, budget) in enumerate(patterns):
            name, a = parse(spec)
            M = pattern_mask(name, a, parse_budget(budget) if budget else None, A, q[h], k[h], vis, chan_order)
            for n, x in zip(("R", "Rstar", "H", "E", "m"), row_metrics(A, M, v[h])):
                res[n][p, h] = x
    st_io.save(out, {n: x.numpy() for n, x in res.items()})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
