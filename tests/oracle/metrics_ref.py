"""Every per-head metric of the analysis engine, computed in float64 on materialized attention
maps, for the known-answer test (tests/analysis/test_metric_known_answers.cpp).

usage: metrics_ref.py IN.safetensors OUT.safetensors
IN: "maps" [C, S, T, T] (case, sequence, query, key; only j <= t is read), "tokens" [C, S, T];
metadata "cases": JSON list of {"spec": attention spec, "normalized": bool}.
OUT per case c: "m.<metric>" [C] (mean over sequences), "ci.<metric>" [C] (95 % t-interval
half-width over sequences), "c.<metric>" [C] (the same metric for uniform attention over the
visible keys: the chance level), "alpha" / "alpha_visible" / "alpha_chance" [C, T],
"sink_k1_pct" [C]. Definitions: docs/analysis.md; masks re-implemented from their spec here."""
import json
import math
import re
import sys

import torch

import st_io

EPS, P_COV, TAUS = 0.3, 0.9, (0.1, 0.01)
# t_{0.975, df}: the 95 % two-sided quantile of Student's t (df = sequences - 1).
T975 = {1: 12.706204736174707, 2: 4.302652729749464, 3: 3.182446305284263, 4: 2.7764451051977934,
        5: 2.570581835636314, 6: 2.4469118511449692, 7: 2.3646242510102993}


def visible(spec, T):
    t = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    vis = j <= t
    for name, args in re.findall(r"(window|block|dilated)\(([^)]*)\)", spec):
        a = {k: int(v) for k, v in (kv.split("=") for kv in args.split(","))}
        s = a.get("sinks", 0)
        if name == "window":
            vis = vis & ((j < s) | (t - j < a["size"]))
        elif name == "block":
            vis = vis & (j // a["size"] == t // a["size"])
        else:
            r = a.get("rate", 1)
            vis = vis & ((j < s) | (((t - j) % r == 0) & ((t - j) // r < a["size"])))
    return vis


def sequence_metrics(A, vis, tok, normalized):
    """One sequence: A [T, T] raw weights (float64), vis [T, T], tok [T]. None = no value."""
    T = A.shape[0]
    R = torch.where(vis, A, torch.zeros_like(A))
    mass = R.sum(1)
    absmass = R.abs().sum(1)
    empty = absmass == 0
    if normalized:
        P = R
    else:
        P = torch.where(empty[:, None], torch.zeros_like(R), R.abs() / absmass.clamp_min(1e-300)[:, None])
    n = vis.sum(1)
    col = P.sum(0)
    out = {"alpha": col / (T - torch.arange(T)).double(),
           "alpha_visible": torch.where(vis.sum(0) > 0, col / vis.sum(0).clamp_min(1), torch.zeros_like(col))}
    out["alpha1"] = float(out["alpha"][0])
    out["alpha1_visible"] = float(out["alpha_visible"][0])
    out["sink1_frac"] = float(out["alpha"][0] > EPS)
    out["sink_mass"] = float(P[:, 0].mean())
    out["sink_mass_raw"] = float(R[:, 0].mean())
    out["prev_token"] = float(torch.stack([P[t, t - 1] for t in range(1, T)]).mean()) if T > 1 else None
    ent, nent, cov, gini, gfree, hoy, span = [], [], [], [], [], [], []
    zeros = entries = 0
    below = [0, 0]
    for t in range(T):
        if empty[t]:
            continue
        a = P[t][vis[t]]
        m = a.numel()
        e = float(-(torch.where(a > 0, a * torch.log(a), torch.zeros_like(a))).sum())
        ent.append(e)
        entries += m
        zeros += int((a == 0).sum())
        for i, tau in enumerate(TAUS):
            below[i] += int((a < tau / m).sum())
        if m < 2:
            continue
        nent.append(e / math.log(m))
        d = torch.sort(a, descending=True).values
        k = int((torch.cumsum(d, 0) <= P_COV + 1e-6).sum()) + 1  # ties within rounding count (row_metrics.h)
        cov.append(min(k, m) / m)
        if m >= max(2, T // 8):  # span growth: log k_p against log n_t (head_stats.h)
            span.append((math.log(m), math.log(min(k, m))))
        asc = torch.flip(d, [0])
        i = torch.arange(1, m + 1, dtype=torch.float64)
        g = float(((2 * i - m - 1) * asc).sum() / (m * asc.sum()))
        gini.append(g)
        gfree.append(g * m / (m - 1))
        hoy.append((math.sqrt(m) - float(a.abs().sum() / a.norm())) / (math.sqrt(m) - 1))
    mean = lambda v: sum(v) / len(v) if v else None
    out["span_growth"] = None
    if len(span) >= 3:
        xs = torch.tensor([x for x, _ in span], dtype=torch.float64)
        ys = torch.tensor([y for _, y in span], dtype=torch.float64)
        sxx = float(((xs - xs.mean()) ** 2).sum())
        if sxx > 1e-9:
            out["span_growth"] = float(((xs - xs.mean()) * (ys - ys.mean())).sum()) / sxx
    out.update(entropy=mean(ent), norm_entropy=mean(nent), cover_mean=mean(cov), gini=mean(gini),
               gini_free=mean(gfree), hoyer=mean(hoy), cover_list=cov)
    out["zero_frac"] = zeros / entries if entries else None
    out["below_0.1"] = below[0] / entries if entries else None
    out["below_0.01"] = below[1] / entries if entries else None
    # TransformerLens head_detector patterns (head_detector.py), and Anthropic prefix matching /
    # echo over the rows that have a match.
    eq = (tok[None, :] == tok[:, None]).double()
    eq.fill_diagonal_(0)
    dup = torch.tril(eq)
    ind = torch.roll(dup, shifts=1, dims=1)
    ind[:, 0] = 0
    ind = torch.tril(ind)
    total = float(P.sum())
    out["tl_duplicate"] = float((P * dup).sum()) / total if total > 0 else None
    out["tl_induction"] = float((P * ind).sum()) / total if total > 0 else None
    pm, ec = [], []
    for t in range(T):
        keys = [j for j in range(1, t) if tok[j - 1] == tok[t]]
        if keys:
            pm.append(float(P[t, keys].sum()))
        ekeys = [j for j in range(t) if tok[j] == tok[t]]
        if ekeys:
            ec.append(float(P[t, ekeys].sum()))
    out["prefix_matching"] = mean(pm)
    out["echo"] = mean(ec)
    out["row_mass"] = float(mass.mean())
    out["empty_row_frac"] = float(empty.double().mean())
    out["mass_list"] = mass.tolist()
    return out


SCALARS = ["alpha1", "alpha1_visible", "sink1_frac", "sink_mass", "sink_mass_raw", "entropy", "norm_entropy", "cover_mean",
           "span_growth",
           "gini", "gini_free", "hoyer", "zero_frac", "below_0.1", "below_0.01", "prev_token", "prefix_matching",
           "echo", "tl_induction", "tl_duplicate", "row_mass", "empty_row_frac"]


def over_sequences(per):
    """Mean and 95 % interval over the sequences that have a value; NaN where none / one."""
    out = {}
    for name in SCALARS:
        v = [p[name] for p in per if p[name] is not None]
        n = len(v)
        m = sum(v) / n if n else float("nan")
        ci = float("nan")
        if n >= 2:
            sd = math.sqrt(max(0.0, sum((x - m) ** 2 for x in v) / (n - 1)))
            ci = T975[n - 1] * sd / math.sqrt(n)
        out[name] = (m, ci)
    cov = sorted(c for p in per for c in p["cover_list"])
    k = len(cov)
    out["cover_median"] = ((cov[k // 2] if k % 2 else 0.5 * (cov[k // 2 - 1] + cov[k // 2])) if k else float("nan"),
                           float("nan"))
    masses = sorted(x for p in per for x in p["mass_list"])
    for q, name in ((0.1, "row_mass_p10"), (0.5, "row_mass_p50"), (0.9, "row_mass_p90")):
        out[name] = (masses[min(len(masses) - 1, int(q * len(masses)))], float("nan"))
    out["alpha"] = torch.stack([p["alpha"] for p in per]).mean(0)
    out["alpha_visible"] = torch.stack([p["alpha_visible"] for p in per]).mean(0)
    return out


def main():
    tensors, meta = st_io.load(sys.argv[1])
    cases = json.loads(meta["cases"])
    maps = torch.tensor(tensors["maps"]).double()
    tokens = torch.tensor(tensors["tokens"]).long()
    C, S, T, _ = maps.shape
    res = {}
    for c, case in enumerate(cases):
        vis = visible(case["spec"], T)
        uni = torch.where(vis, 1.0 / vis.sum(1, keepdim=True).double(), torch.zeros(T, T, dtype=torch.float64))
        got = over_sequences([sequence_metrics(maps[c, s], vis, tokens[c, s], case["normalized"]) for s in range(S)])
        chance = over_sequences([sequence_metrics(uni, vis, tokens[c, s], True) for s in range(S)])
        for name in SCALARS + ["cover_median", "row_mass_p10", "row_mass_p50", "row_mass_p90"]:
            res.setdefault("m." + name, []).append(got[name][0])
            res.setdefault("ci." + name, []).append(got[name][1])
            res.setdefault("c." + name, []).append(chance[name][0])
        res.setdefault("alpha", []).append(got["alpha"].numpy())
        res.setdefault("alpha_visible", []).append(got["alpha_visible"].numpy())
        res.setdefault("alpha_chance", []).append(chance["alpha"].numpy())
        res.setdefault("sink_k1_pct", []).append(100.0 * got["sink1_frac"][0])
    st_io.save(sys.argv[2], res)


if __name__ == "__main__":
    main()
