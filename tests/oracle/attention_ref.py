"""PyTorch autograd references for every attention variant in the attnlab registry.

Each reference is written from the published formula (REFERENCE.md section 7), not from the C++
code: dense T x T matrices for score-based variants and naive token-by-token recurrences for
the linear family. For every case file the C++ test wrote (inputs, its outputs and gradients,
the canonical spec), this script recomputes out and dL/d(q, k, v, x, params) for
L = sum(out * dout) in float64, compares within --tol relative (max abs error over the
tensor's max magnitude, floor 1e-3), and runs torch.autograd.gradcheck on the reference.
It fails when a registered variant (--variants) has no reference here.
"""
import argparse
import glob
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)  # tiny tensors: threads only add overhead on a shared machine

# ---------------------------------------------------------------- spec strings


def parse_spec(spec):
    """'a(x=1)+b(y=2)' -> [('a', {'x': '1'}), ('b', {'y': '2'})]; '+' inside () is a value."""
    terms, depth, cur = [], 0, ""
    for ch in spec:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "+" and depth == 0:
            terms.append(cur)
            cur = ""
        else:
            cur += ch
    terms.append(cur)
    out = []
    for t in terms:
        t = t.strip()
        if "(" in t:
            name, inner = t[: t.index("(")], t[t.index("(") + 1: t.rindex(")")]
            args = dict(kv.split("=", 1) for kv in inner.split(",") if kv.strip())
        else:
            name, args = t, {}
        out.append((name.strip(), {k.strip(): v.strip() for k, v in args.items()}))
    return out


def as_bool(s):
    return s in ("true", "1")


def visibility(T, masks):
    """[T, T] bool: key j visible to query t."""
    t = torch.arange(T).view(T, 1)
    j = torch.arange(T).view(1, T)
    vis = j <= t
    for name, a in masks:
        if name == "window":
            w, s = int(a["size"]), int(a.get("sinks", 0))
            vis = vis & ((j < s) | (t - j < w))
        elif name == "block":
            b = int(a["size"])
            vis = vis & (torch.div(j, b, rounding_mode="floor") == torch.div(t, b, rounding_mode="floor"))
        elif name == "dilated":
            w, r, s = int(a["size"]), int(a.get("rate", 2)), int(a.get("sinks", 0))
            d = t - j
            vis = vis & ((j < s) | ((d % r == 0) & (torch.div(d, r, rounding_mode="floor") < w)))
        else:
            raise ValueError("unknown mask " + name)
    return vis


def scores(q, k):
    return q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])


NEG = float("-inf")

# ---------------------------------------------------------------- references
# Signature: f(q, k, v, x, P, args, masks, meta) -> out [B, H, T, Dh]; P maps parameter names
# (as the C++ variant names them) to tensors.

REF = {}


def ref(name):
    def deco(fn):
        REF[name] = fn
        return fn
    return deco


def masked_softmax(s, vis):
    return torch.softmax(s.masked_fill(~vis, NEG), dim=-1)


@ref("softmax")
def softmax_ref(q, k, v, x, P, args, masks, meta):
    return masked_softmax(scores(q, k), visibility(q.shape[2], masks)) @ v


@ref("window")
def window_ref(q, k, v, x, P, args, masks, meta):
    return softmax_ref(q, k, v, x, P, {}, [("window", args)] + masks, meta)


@ref("topk")
def topk_ref(q, k, v, x, P, args, masks, meta):
    kk = int(args["k"])
    s = scores(q, k).masked_fill(~visibility(q.shape[2], masks), NEG)
    keep = torch.zeros_like(s, dtype=torch.bool)
    idx = s.detach().topk(min(kk, s.shape[-1]), dim=-1).indices
    keep.scatter_(-1, idx, True)
    return torch.softmax(s.masked_fill(~keep, NEG), dim=-1) @ v


def alibi_slopes(H):
    # Press et al.: start = 2^(-8/n), slopes start^1..start^n for n a power of two; otherwise
    # the closest smaller power of two plus every other slope of the doubled series.
    def pow2(n):
        start = 2 ** (-8.0 / n)
        return [start ** (i + 1) for i in range(n)]
    if math.log2(H).is_integer():
        return pow2(H)
    p = 2 ** math.floor(math.log2(H))
    return pow2(p) + pow2(2 * p)[0::2][: H - p]


@ref("alibi")
def alibi_ref(q, k, v, x, P, args, masks, meta):
    B, H, T, _ = q.shape
    m = torch.tensor(alibi_slopes(H)).view(H, 1, 1)
    dist = (torch.arange(T).view(T, 1) - torch.arange(T).view(1, T)).double()
    return masked_softmax(scores(q, k) - m * dist, visibility(T, masks)) @ v


def pointwise(q, k, masks, fn, norm):
    vis = visibility(q.shape[2], masks)
    a = torch.where(vis, fn(scores(q, k), vis), torch.zeros(()))
    if norm:
        a = a / (a.sum(-1, keepdim=True) + 1e-8)
    return a


@ref("sigmoid")
def sigmoid_ref(q, k, v, x, P, args, masks, meta):
    T = q.shape[2]
    text = args.get("bias", "-log_n")
    norm = as_bool(args.get("norm", "false"))

    def fn(s, vis):
        sign = -1.0 if text.startswith("-") else 1.0
        body = text.lstrip("+-")
        if body == "log_n":
            b = sign * math.log(T)
        elif body == "log_t":
            b = sign * torch.log(vis.sum(-1, keepdim=True).double())
        else:
            b = float(text)
        return torch.sigmoid(s + b)
    return pointwise(q, k, masks, fn, norm) @ v


@ref("relu")
def relu_ref(q, k, v, x, P, args, masks, meta):
    return pointwise(q, k, masks, lambda s, vis: F.relu(s) / vis.sum(-1, keepdim=True), False) @ v


@ref("elu1")
def elu1_ref(q, k, v, x, P, args, masks, meta):
    return pointwise(q, k, masks, lambda s, vis: F.elu(s) + 1, as_bool(args.get("norm", "false"))) @ v


@ref("softpick")
def softpick_ref(q, k, v, x, P, args, masks, meta):
    eps = float(args.get("eps", "1e-8"))
    vis = visibility(q.shape[2], masks)
    u = torch.where(vis, torch.exp(scores(q, k)) - 1, torch.zeros(()))
    a = F.relu(u) / (u.abs().sum(-1, keepdim=True) + eps)
    return a @ v


def softmax_with_extra_logit(s, vis, extra):
    """Softmax over the visible keys plus one extra logit per row ([.., T, 1]) with value 0."""
    z = torch.cat([s.masked_fill(~vis, NEG), extra], dim=-1)
    return torch.softmax(z, dim=-1)


@ref("softmax1")
def softmax1_ref(q, k, v, x, P, args, masks, meta):
    s = scores(q, k)
    a = softmax_with_extra_logit(s, visibility(q.shape[2], masks), torch.zeros(s.shape[:-1] + (1,)))
    return a[..., :-1] @ v


@ref("sink_logit")
def sink_logit_ref(q, k, v, x, P, args, masks, meta):
    s = scores(q, k)
    B, H, T, _ = s.shape
    extra = P["sink"].view(1, H, 1, 1).expand(B, H, T, 1)
    a = softmax_with_extra_logit(s, visibility(T, masks), extra)
    return a[..., :-1] @ v


@ref("kv_bias")
def kv_bias_ref(q, k, v, x, P, args, masks, meta):
    B, H, T, Dh = q.shape
    kp = P["k"].view(1, H, 1, Dh).expand(B, H, 1, Dh)
    vp = P["v"].view(1, H, 1, Dh).expand(B, H, 1, Dh) if "v" in P else torch.zeros(B, H, 1, Dh)
    kk = torch.cat([kp, k], dim=2)
    vv = torch.cat([vp, v], dim=2)
    vis = torch.cat([torch.ones(T, 1, dtype=torch.bool), visibility(T, masks)], dim=1)
    return masked_softmax(scores(q, kk), vis) @ vv


@ref("fox")
def fox_ref(q, k, v, x, P, args, masks, meta):
    # Forgetting Transformer: s_tj + sum_{i=j+1..t} log f_i, f_t = sigmoid(w_h . x_t + b_h).
    B, H, T, _ = q.shape
    logf = F.logsigmoid(x @ P["forget.weight"].T + P["forget.bias"])  # [B, T, H]
    c = torch.cumsum(logf, dim=1).transpose(1, 2)  # [B, H, T]
    bias = c.unsqueeze(-1) - c.unsqueeze(-2)
    return masked_softmax(scores(q, k) + bias, visibility(T, masks)) @ v


@ref("gated")
def gated_ref(q, k, v, x, P, args, masks, meta):
    # Qiu et al.: Y * sigmoid(x W^T + b) after SDPA, per element or per head.
    B, H, T, Dh = q.shape
    y = softmax_ref(q, k, v, x, P, {}, masks, meta)
    g = torch.sigmoid(x @ P["gate.weight"].T + P["gate.bias"])  # [B, T, H*Dh] or [B, T, H]
    if args.get("mode", "elementwise") == "elementwise":
        g = g.view(B, T, H, Dh).transpose(1, 2)
    else:
        g = g.view(B, T, H, 1).transpose(1, 2)
    return y * g


@ref("diff")
def diff_ref(q, k, v, x, P, args, masks, meta):
    # Ye et al. 2024: (softmax(Q1 K1^T/sqrt(d)) - lambda softmax(Q2 K2^T/sqrt(d))) V with
    # d = Dh/2, then RMSNorm over Dh (eps 1e-5, learnable gain) and * (1 - lambda_init).
    B, H, T, Dh = q.shape
    d = Dh // 2
    layer = int(meta["layer"])
    lam_init = float(args["lambda_init"]) if "lambda_init" in args else 0.8 - 0.6 * math.exp(-0.3 * layer)
    vis = visibility(T, masks)
    a1 = masked_softmax(scores(q[..., :d], k[..., :d]), vis)
    a2 = masked_softmax(scores(q[..., d:], k[..., d:]), vis)
    lam = (torch.exp((P["lambda_q1"] * P["lambda_k1"]).sum()) -
           torch.exp((P["lambda_q2"] * P["lambda_k2"]).sum()) + lam_init)
    o = (a1 - lam * a2) @ v
    o = o * torch.rsqrt(o.pow(2).mean(-1, keepdim=True) + 1e-5) * P["subln.weight"]
    return o * (1 - lam_init)

# ---------------------------------------------------------------- linear / recurrent family
# Naive token-by-token recurrences (fla ops/*/naive.py, REFERENCE.md 7.1): state S [F, Dv],
# o_t = S_t^T qf_t; q is scaled by 1/sqrt(Dh) except in based.


def recurrence(qf, kf, v, log_alpha=None, channel=False, beta=None, norm=None):
    B, H, T, Fd = qf.shape
    if norm:
        v = torch.cat([v, torch.ones(v.shape[:-1] + (1,))], dim=-1)
    S = torch.zeros(B, H, Fd, v.shape[-1])
    outs = []
    for t in range(T):
        if log_alpha is not None:
            a = torch.exp(log_alpha[:, :, t])
            S = S * (a[..., :, None] if channel else a[..., None, None])
        k, vt = kf[:, :, t], v[:, :, t]
        if beta is None:
            S = S + k[..., :, None] * vt[..., None, :]
        else:
            w = torch.einsum("bhf,bhfd->bhd", k, S)
            u = beta[:, :, t, None] * (vt - w)
            S = S + k[..., :, None] * u[..., None, :]
        outs.append(torch.einsum("bhf,bhfd->bhd", qf[:, :, t], S))
    o = torch.stack(outs, dim=2)
    if norm == "sum":
        return o[..., :-1] / o[..., -1:]
    if norm == "safe":
        return o[..., :-1] / torch.clamp(o[..., -1:].abs(), min=1.0)
    return o


def heads(y, H):
    """[B, T, H*X] -> [B, H, T, X]."""
    B, T, _ = y.shape
    return y.view(B, T, H, -1).transpose(1, 2)


@ref("linear")
def linear_ref(q, k, v, x, P, args, masks, meta):
    f = args.get("feature", "elu1")
    phi = {"elu1": lambda z: F.elu(z) + 1, "relu": F.relu, "identity": lambda z: z}[f]
    norm = None
    if as_bool(args.get("norm", "true")):
        norm = "sum" if f == "elu1" else "safe"
    return recurrence(phi(q) / math.sqrt(q.shape[-1]), phi(k), v, norm=norm)


@ref("retnet")
def retnet_ref(q, k, v, x, P, args, masks, meta):
    B, H, T, Dh = q.shape
    gamma = torch.tensor([1 - 2.0 ** (-5 - h) for h in range(H)])
    la = torch.log(gamma).view(1, H, 1).expand(B, H, T)
    return recurrence(q / math.sqrt(Dh), k, v, log_alpha=la)


@ref("gla")
def gla_ref(q, k, v, x, P, args, masks, meta):
    B, H, T, Dh = q.shape
    la = heads(F.logsigmoid(x @ P["gate.weight"].T + P["gate.bias"]) / 16, H)
    return recurrence(q / math.sqrt(Dh), k, v, log_alpha=la, channel=True)


def l2norm(z):
    return z * torch.rsqrt((z * z).sum(-1, keepdim=True) + 1e-6)


@ref("deltanet")
def deltanet_ref(q, k, v, x, P, args, masks, meta):
    B, H, T, Dh = q.shape
    beta = torch.sigmoid(x @ P["beta.weight"].T + P["beta.bias"]).transpose(1, 2)
    return recurrence(l2norm(q) / math.sqrt(Dh), l2norm(k), v, beta=beta)


@ref("gated_deltanet")
def gated_deltanet_ref(q, k, v, x, P, args, masks, meta):
    B, H, T, Dh = q.shape
    beta = torch.sigmoid(x @ P["beta.weight"].T + P["beta.bias"]).transpose(1, 2)
    g = -torch.exp(P["A_log"]) * F.softplus(x @ P["a.weight"].T + P["dt_bias"])
    return recurrence(l2norm(q) / math.sqrt(Dh), l2norm(k), v, log_alpha=g.transpose(1, 2), beta=beta)


@ref("based")
def based_ref(q, k, v, x, P, args, masks, meta):
    Dh = q.shape[-1]

    def taylor(z):
        outer = (z[..., :, None] * z[..., None, :]).flatten(-2)
        return torch.cat([torch.ones(z.shape[:-1] + (1,)), z / Dh ** 0.25,
                          outer / (math.sqrt(2) * math.sqrt(Dh))], dim=-1)
    norm = "sum" if as_bool(args.get("norm", "true")) else None
    return recurrence(taylor(q), taylor(k), v, norm=norm)

# ---------------------------------------------------------------- driver


def rel_err(got, want):
    scale = max(want.abs().max().item() if want.numel() else 0.0, 1e-3)
    return (got - want).abs().max().item() / scale if want.numel() else 0.0


def check_case(path, tol, do_gradcheck, fast):
    t, meta = st_io.load(path)
    spec = meta["spec"]
    terms = parse_spec(spec)
    name, args = terms[0]
    masks = terms[1:]
    if name not in REF:
        return [f"{spec}: no reference for variant '{name}' in attention_ref.py"]
    fn = REF[name]
    pnames = sorted(n[len("param."):] for n in t if n.startswith("param."))
    leaves = {n: torch.tensor(t[n], dtype=torch.float64, requires_grad=True) for n in ("q", "k", "v", "x")}
    params = {p: torch.tensor(t["param." + p], dtype=torch.float64, requires_grad=True) for p in pnames}
    out = fn(leaves["q"], leaves["k"], leaves["v"], leaves["x"], params, args, masks, meta)
    (out * torch.tensor(t["dout"], dtype=torch.float64)).sum().backward()
    errs = {"out": rel_err(torch.tensor(t["out"], dtype=torch.float64), out.detach())}
    for n in ("q", "k", "v", "x"):
        g = leaves[n].grad if leaves[n].grad is not None else torch.zeros_like(leaves[n])
        errs["d" + n] = rel_err(torch.tensor(t["d" + n], dtype=torch.float64), g)
    for p in pnames:
        g = params[p].grad if params[p].grad is not None else torch.zeros_like(params[p])
        errs["grad." + p] = rel_err(torch.tensor(t["grad." + p], dtype=torch.float64), g)
    worst = max(errs.values())
    print(f"{spec:55s} worst rel err {worst:.2e}  " + " ".join(f"{k}={v:.1e}" for k, v in errs.items()))
    fails = [f"{spec}: {k} rel err {v:.3e} > {tol}" for k, v in errs.items() if not v <= tol]
    if do_gradcheck:
        names = list(leaves) + pnames
        vals = [leaves[n].detach().clone().requires_grad_(True) for n in leaves] + \
               [params[p].detach().clone().requires_grad_(True) for p in pnames]

        def f(*xs):
            P = dict(zip(pnames, xs[4:]))
            return fn(xs[0], xs[1], xs[2], xs[3], P, args, masks, meta)
        try:
            ok = torch.autograd.gradcheck(f, tuple(vals), eps=1e-6, atol=1e-5, rtol=1e-4, fast_mode=fast)
        except RuntimeError as e:
            ok = False
            print(f"gradcheck {spec}: {str(e)[:400]}")
        if not ok:
            fails.append(f"{spec}: torch.autograd.gradcheck failed on the reference ({names})")
    return fails


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--variants", default="")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--no-gradcheck", action="store_true")
    ap.add_argument("--full-gradcheck", action="store_true",
                    help="full Jacobians instead of gradcheck's random-projection fast mode")
    a = ap.parse_args()
    fails = [f"registered variant '{v}' has no reference in attention_ref.py"
             for v in a.variants.split(",") if v and v not in REF]
    files = sorted(glob.glob(os.path.join(a.dir, "*.safetensors")))
    if not files:
        fails.append("no case files in " + a.dir)
    for path in files:
        fails += check_case(path, a.tol, not a.no_gradcheck, not a.full_gradcheck)
    for f in fails:
        print("FAIL:", f)
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
