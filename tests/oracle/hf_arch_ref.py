"""Hugging Face checkpoints and their reference forward pass, computed in float64 the way the
transformers modeling code does it (GPT-2 Conv1D weights [in, out]; NeoX query_key_value rows
grouped per head, partial rotate-half RoPE, parallel residual; Llama/Qwen2 rotate-half RoPE, GQA).

    hf_arch_ref.py make FAMILY OUTDIR [FAMILY OUTDIR ...]
                                        random weights in HF naming/layout -> OUTDIR/config.json,
                                        OUTDIR/model.safetensors, then as `ref`; FAMILY: gpt2 |
                                        gpt_neox | gpt_neox_seq | llama | qwen2, optionally
                                        with :F16 or :BF16 to store the weights in that dtype
    hf_arch_ref.py ref OUTDIR [OUTDIR ...]
                                        reads OUTDIR/config.json + model.safetensors (+ tokens from
                                        OUTDIR/tokens.safetensors, else random) and writes
                                        OUTDIR/ref.safetensors: tokens, logits [T, V],
                                        attn [L, H, T, T]
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

torch.manual_seed(1234)
T = 11


def rnd(*shape, scale=0.3):
    return torch.randn(*shape, dtype=torch.float64) * scale


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w


ACT = {
    "gelu_new": lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3))),
    "gelu": lambda x: 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0))),
    "silu": torch.nn.functional.silu,
}


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope_cos_sin(rot, base, n):
    inv_freq = 1.0 / (base ** (torch.arange(0, rot, 2, dtype=torch.float64) / rot))
    freqs = torch.outer(torch.arange(n, dtype=torch.float64), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def causal_softmax(q, k):
    n = q.shape[-2]
    s = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    mask = torch.triu(torch.ones(n, n, dtype=torch.bool), 1)
    return torch.softmax(s.masked_fill(mask, float("-inf")), dim=-1)


# ----------------------------------------------------------------------------- forward passes

def gpt2_forward(cfg, w, tok):
    n, D, H, L = len(tok), cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
    eps, act = cfg.get("layer_norm_epsilon", 1e-5), ACT[cfg.get("activation_function", "gelu_new")]
    p0 = "transformer." if "transformer.wte.weight" in w else ""
    h = w[p0 + "wte.weight"][tok] + w[p0 + "wpe.weight"][:n]
    attns = []
    for l in range(L):
        p = f"{p0}h.{l}."
        a = layer_norm(h, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = a @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = (x.view(n, H, D // H).transpose(0, 1) for x in qkv.split(D, dim=-1))
        att = causal_softmax(q, k)
        attns.append(att)
        y = (att @ v).transpose(0, 1).reshape(n, D)
        h = h + y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        m = layer_norm(h, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        m = act(m @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        h = h + m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    h = layer_norm(h, w[p0 + "ln_f.weight"], w[p0 + "ln_f.bias"], eps)
    head = w.get("lm_head.weight", w[p0 + "wte.weight"]) if not cfg.get("tie_word_embeddings", True) else w[p0 + "wte.weight"]
    return h @ head.T, torch.stack(attns)


def neox_forward(cfg, w, tok):
    n, D, H, L = len(tok), cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    Dh = D // H
    rot = int(Dh * cfg.get("rotary_pct", 1.0))
    eps, act = cfg.get("layer_norm_eps", 1e-5), ACT[cfg.get("hidden_act", "gelu")]
    cos, sin = rope_cos_sin(rot, float(cfg.get("rope_theta", cfg.get("rotary_emb_base", 10000))), n)

    def rope(x):
        xr, xp = x[..., :rot], x[..., rot:]
        return torch.cat((xr * cos + rotate_half(xr) * sin, xp), dim=-1)

    h = w["gpt_neox.embed_in.weight"][tok]
    attns = []
    for l in range(L):
        p = f"gpt_neox.layers.{l}."
        a = layer_norm(h, w[p + "input_layernorm.weight"], w[p + "input_layernorm.bias"], eps)
        qkv = a @ w[p + "attention.query_key_value.weight"].T + w[p + "attention.query_key_value.bias"]
        qkv = qkv.view(n, H, 3 * Dh).transpose(0, 1)
        q, k, v = qkv[..., :Dh], qkv[..., Dh:2 * Dh], qkv[..., 2 * Dh:]
        att = causal_softmax(rope(q), rope(k))
        attns.append(att)
        y = (att @ v).transpose(0, 1).reshape(n, D)
        attn_out = y @ w[p + "attention.dense.weight"].T + w[p + "attention.dense.bias"]

        def mlp(x):
            m = layer_norm(x, w[p + "post_attention_layernorm.weight"], w[p + "post_attention_layernorm.bias"], eps)
            m = act(m @ w[p + "mlp.dense_h_to_4h.weight"].T + w[p + "mlp.dense_h_to_4h.bias"])
            return m @ w[p + "mlp.dense_4h_to_h.weight"].T + w[p + "mlp.dense_4h_to_h.bias"]

        if cfg.get("use_parallel_residual", True):
            h = h + attn_out + mlp(h)
        else:
            h = h + attn_out
            h = h + mlp(h)
    h = layer_norm(h, w["gpt_neox.final_layer_norm.weight"], w["gpt_neox.final_layer_norm.bias"], eps)
    head = w["gpt_neox.embed_in.weight"] if cfg.get("tie_word_embeddings", False) else w["embed_out.weight"]
    return h @ head.T, torch.stack(attns)


def llama_forward(cfg, w, tok):
    n, D, H, L = len(tok), cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    KV = cfg.get("num_key_value_heads", H)
    Dh = D // H
    eps = cfg.get("rms_norm_eps", 1e-6)
    cos, sin = rope_cos_sin(Dh, float(cfg.get("rope_theta", 10000.0)), n)

    def lin(x, name):
        y = x @ w[name + ".weight"].T
        return y + w[name + ".bias"] if name + ".bias" in w else y

    h = w["model.embed_tokens.weight"][tok]
    attns = []
    for l in range(L):
        p = f"model.layers.{l}."
        a = rms_norm(h, w[p + "input_layernorm.weight"], eps)
        q = lin(a, p + "self_attn.q_proj").view(n, H, Dh).transpose(0, 1)
        k = lin(a, p + "self_attn.k_proj").view(n, KV, Dh).transpose(0, 1)
        v = lin(a, p + "self_attn.v_proj").view(n, KV, Dh).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=0)
        v = v.repeat_interleave(H // KV, dim=0)
        att = causal_softmax(q, k)
        attns.append(att)
        y = (att @ v).transpose(0, 1).reshape(n, D)
        h = h + lin(y, p + "self_attn.o_proj")
        m = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        m = torch.nn.functional.silu(lin(m, p + "mlp.gate_proj")) * lin(m, p + "mlp.up_proj")
        h = h + lin(m, p + "mlp.down_proj")
    h = rms_norm(h, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else w["lm_head.weight"]
    return h @ head.T, torch.stack(attns)


FORWARD = {"gpt2": gpt2_forward, "gpt_neox": neox_forward, "llama": llama_forward, "mistral": llama_forward,
           "qwen2": llama_forward}


# ----------------------------------------------------------------------------- random checkpoints

def make_gpt2():
    V, C, D, L, H, F = 37, 16, 16, 2, 4, 40
    cfg = {"model_type": "gpt2", "vocab_size": V, "n_positions": C, "n_embd": D, "n_layer": L, "n_head": H,
           "n_inner": F, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "bos_token_id": 0,
           "eos_token_id": 0, "tie_word_embeddings": True}
    w = {"transformer.wte.weight": rnd(V, D), "transformer.wpe.weight": rnd(C, D)}
    for l in range(L):
        p = f"transformer.h.{l}."
        w[p + "ln_1.weight"], w[p + "ln_1.bias"] = 1 + rnd(D, scale=0.1), rnd(D, scale=0.1)
        w[p + "attn.c_attn.weight"], w[p + "attn.c_attn.bias"] = rnd(D, 3 * D), rnd(3 * D, scale=0.1)  # Conv1D [in, out]
        w[p + "attn.c_proj.weight"], w[p + "attn.c_proj.bias"] = rnd(D, D), rnd(D, scale=0.1)
        w[p + "ln_2.weight"], w[p + "ln_2.bias"] = 1 + rnd(D, scale=0.1), rnd(D, scale=0.1)
        w[p + "mlp.c_fc.weight"], w[p + "mlp.c_fc.bias"] = rnd(D, F), rnd(F, scale=0.1)
        w[p + "mlp.c_proj.weight"], w[p + "mlp.c_proj.bias"] = rnd(F, D), rnd(D, scale=0.1)
    w["transformer.ln_f.weight"], w["transformer.ln_f.bias"] = 1 + rnd(D, scale=0.1), rnd(D, scale=0.1)
    # Old GPT-2 saves carry the causal-mask buffer; the loader must ignore it.
    w["transformer.h.0.attn.bias"] = torch.tril(torch.ones(C, C, dtype=torch.float64)).view(1, 1, C, C)
    return cfg, w


def make_neox(parallel=True):
    V, C, D, L, H, F = 41, 32, 32, 2, 4, 48
    rot = int(D // H * 0.5)
    cfg = {"model_type": "gpt_neox", "vocab_size": V, "max_position_embeddings": C, "hidden_size": D,
           "num_hidden_layers": L, "num_attention_heads": H, "intermediate_size": F, "rotary_pct": 0.5,
           "rotary_emb_base": 10000, "layer_norm_eps": 1e-5, "hidden_act": "gelu",
           "use_parallel_residual": parallel, "tie_word_embeddings": False, "bos_token_id": 0, "eos_token_id": 0}
    w = {"gpt_neox.embed_in.weight": rnd(V, D)}
    for l in range(L):
        p = f"gpt_neox.layers.{l}."
        for ln in ("input_layernorm", "post_attention_layernorm"):
            w[p + ln + ".weight"], w[p + ln + ".bias"] = 1 + rnd(D, scale=0.1), rnd(D, scale=0.1)
        w[p + "attention.query_key_value.weight"] = rnd(3 * D, D)
        w[p + "attention.query_key_value.bias"] = rnd(3 * D, scale=0.1)
        w[p + "attention.dense.weight"], w[p + "attention.dense.bias"] = rnd(D, D), rnd(D, scale=0.1)
        w[p + "mlp.dense_h_to_4h.weight"], w[p + "mlp.dense_h_to_4h.bias"] = rnd(F, D), rnd(F, scale=0.1)
        w[p + "mlp.dense_4h_to_h.weight"], w[p + "mlp.dense_4h_to_h.bias"] = rnd(D, F), rnd(D, scale=0.1)
        w[p + "attention.rotary_emb.inv_freq"] = 1.0 / (10000 ** (torch.arange(0, rot, 2, dtype=torch.float64) / rot))
    w["gpt_neox.final_layer_norm.weight"] = 1 + rnd(D, scale=0.1)
    w["gpt_neox.final_layer_norm.bias"] = rnd(D, scale=0.1)
    w["embed_out.weight"] = rnd(V, D)
    return cfg, w


def make_llama(qwen=False):
    V, C, D, L, H, KV, F = 43, 32, 32, 2, 4, 2, 56
    Dh = D // H
    cfg = {"model_type": "qwen2" if qwen else "llama", "vocab_size": V, "max_position_embeddings": C,
           "hidden_size": D, "num_hidden_layers": L, "num_attention_heads": H, "num_key_value_heads": KV,
           "intermediate_size": F, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0 if qwen else 10000.0,
           "hidden_act": "silu", "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2,
           "rope_scaling": None, "attention_bias": False}
    w = {"model.embed_tokens.weight": rnd(V, D)}
    for l in range(L):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = 1 + rnd(D, scale=0.1)
        w[p + "post_attention_layernorm.weight"] = 1 + rnd(D, scale=0.1)
        w[p + "self_attn.q_proj.weight"] = rnd(D, D)
        w[p + "self_attn.k_proj.weight"] = rnd(KV * Dh, D)
        w[p + "self_attn.v_proj.weight"] = rnd(KV * Dh, D)
        w[p + "self_attn.o_proj.weight"] = rnd(D, D)
        if qwen:
            w[p + "self_attn.q_proj.bias"] = rnd(D, scale=0.1)
            w[p + "self_attn.k_proj.bias"] = rnd(KV * Dh, scale=0.1)
            w[p + "self_attn.v_proj.bias"] = rnd(KV * Dh, scale=0.1)
        w[p + "mlp.gate_proj.weight"] = rnd(F, D)
        w[p + "mlp.up_proj.weight"] = rnd(F, D)
        w[p + "mlp.down_proj.weight"] = rnd(D, F)
    w["model.norm.weight"] = 1 + rnd(D, scale=0.1)
    w["lm_head.weight"] = rnd(V, D)
    return cfg, w


MAKE = {"gpt2": make_gpt2, "gpt_neox": make_neox, "gpt_neox_seq": lambda: make_neox(parallel=False),
        "llama": make_llama, "qwen2": lambda: make_llama(qwen=True)}


def save_half(path, tensors, dtype):
    """safetensors with F16 or BF16 data (st_io writes F32 only); returns the stored values."""
    header, blobs, stored, offset = {}, [], {}, 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name].numpy().astype(np.float32))
        if dtype == "F16":
            h = a.astype(np.float16)
            b, back = h.tobytes(), h.astype(np.float64)
        else:  # BF16, round to nearest even
            u = a.view(np.uint32).astype(np.uint64)
            u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
            b, back = u.tobytes(), (u.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        stored[name] = back
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    return stored


def run(mode, family, out):
    stored = None
    if mode == "make":
        dtype = "F32"
        if ":" in family:  # e.g. llama:BF16 stores the weights as bfloat16
            family, dtype = family.split(":")
        cfg, w = MAKE[family]()
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "config.json"), "w") as f:
            json.dump(cfg, f, indent=1)
        if dtype == "F32":
            st_io.save(os.path.join(out, "model.safetensors"), {k: v.numpy() for k, v in w.items()})
        else:
            stored = save_half(os.path.join(out, "model.safetensors"), w, dtype)
    with open(os.path.join(out, "config.json")) as f:
        cfg = json.load(f)
    if stored is None:
        stored = load_any(os.path.join(out, "model.safetensors"))
    w = {k: torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, v in stored.items()}
    tok_path = os.path.join(out, "tokens.safetensors")
    if os.path.exists(tok_path):
        tok = torch.from_numpy(st_io.load(tok_path)[0]["tokens"].astype(np.int64))
    else:
        tok = torch.randint(0, cfg["vocab_size"], (T,))
    with torch.no_grad():
        logits, attn = FORWARD[cfg["model_type"]](cfg, w, tok)
    st_io.save(os.path.join(out, "ref.safetensors"),
               {"tokens": tok.double().numpy(), "logits": logits.numpy(), "attn": attn.numpy()})


def load_any(path):
    """safetensors with F32, F16 or BF16 tensors -> {name: float64 array}."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data, out = raw[8 + n:], {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        buf = data[b:end]
        if e["dtype"] == "BF16":
            a = (np.frombuffer(buf, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(buf, dtype={"F32": np.float32, "F16": np.float16, "F64": np.float64}[e["dtype"]])
        out[name] = a.astype(np.float64).reshape(e["shape"])
    return out


def main():
    # One process for many checkpoints: importing torch dominates a call's cost.
    mode, rest = sys.argv[1], sys.argv[2:]
    if mode == "make":
        for i in range(0, len(rest), 2):
            torch.manual_seed(1234)
            run(mode, rest[i], rest[i + 1])
    else:
        for out in rest:
            torch.manual_seed(1234)
            run(mode, None, out)


if __name__ == "__main__":
    main()
