"""Random-weight Hugging Face checkpoints and their reference forward pass.

    hf_arch_ref.py FAMILY OUTDIR

FAMILY: gpt2 | gpt_neox | gpt_neox_seq | llama | qwen2. Writes OUTDIR/config.json and
OUTDIR/model.safetensors in the HF tensor naming and layout (GPT-2 Conv1D weights [in, out];
NeoX query_key_value rows grouped per head; Llama q/k in HF's rotate-half order), and
OUTDIR/ref.safetensors with the token ids, the logits [T, V] and every head's attention
[L, H, T, T], computed here in float64 the way the transformers modeling code does it.
"""
import json
import math
import os
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


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope_cos_sin(rot, base):
    inv_freq = 1.0 / (base ** (torch.arange(0, rot, 2, dtype=torch.float64) / rot))
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def causal_softmax(q, k):
    """q [H, T, Dh], k [H, T, Dh] -> [H, T, T]"""
    s = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    return torch.softmax(s.masked_fill(mask, float("-inf")), dim=-1)


def gpt2():
    V, C, D, L, H, F = 37, 16, 16, 2, 4, 40
    cfg = {"model_type": "gpt2", "vocab_size": V, "n_positions": C, "n_embd": D, "n_layer": L, "n_head": H,
           "n_inner": F, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "bos_token_id": 0,
           "eos_token_id": 0, "tie_word_embeddings": True}
    w = {"transformer.wte.weight": rnd(V, D), "transformer.wpe.weight": rnd(C, D)}
    for l in range(L):
        p = f"transformer.h.{l}."
        w[p + "ln_1.weight"] = 1 + rnd(D, scale=0.1)
        w[p + "ln_1.bias"] = rnd(D, scale=0.1)
        w[p + "attn.c_attn.weight"] = rnd(D, 3 * D)   # Conv1D: [in, out]
        w[p + "attn.c_attn.bias"] = rnd(3 * D, scale=0.1)
        w[p + "attn.c_proj.weight"] = rnd(D, D)
        w[p + "attn.c_proj.bias"] = rnd(D, scale=0.1)
        w[p + "ln_2.weight"] = 1 + rnd(D, scale=0.1)
        w[p + "ln_2.bias"] = rnd(D, scale=0.1)
        w[p + "mlp.c_fc.weight"] = rnd(D, F)
        w[p + "mlp.c_fc.bias"] = rnd(F, scale=0.1)
        w[p + "mlp.c_proj.weight"] = rnd(F, D)
        w[p + "mlp.c_proj.bias"] = rnd(D, scale=0.1)
    w["transformer.ln_f.weight"] = 1 + rnd(D, scale=0.1)
    w["transformer.ln_f.bias"] = rnd(D, scale=0.1)
    # Old GPT-2 saves carry the causal-mask buffer; the loader must ignore it.
    w["transformer.h.0.attn.bias"] = torch.tril(torch.ones(C, C, dtype=torch.float64)).view(1, 1, C, C)
    tok = torch.randint(0, V, (T,))

    def forward():
        h = w["transformer.wte.weight"][tok] + w["transformer.wpe.weight"][:T]
        attns = []
        for l in range(L):
            p = f"transformer.h.{l}."
            a = layer_norm(h, w[p + "ln_1.weight"], w[p + "ln_1.bias"], 1e-5)
            qkv = a @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
            q, k, v = qkv.split(D, dim=-1)
            q, k, v = (x.view(T, H, D // H).transpose(0, 1) for x in (q, k, v))
            att = causal_softmax(q, k)
            attns.append(att)
            y = (att @ v).transpose(0, 1).reshape(T, D)
            h = h + y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
            m = layer_norm(h, w[p + "ln_2.weight"], w[p + "ln_2.bias"], 1e-5)
            m = gelu_tanh(m @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
            h = h + m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
        h = layer_norm(h, w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], 1e-5)
        return h @ w["transformer.wte.weight"].T, torch.stack(attns)

    return cfg, w, tok, forward


def gpt_neox(parallel=True):
    V, C, D, L, H, F = 41, 32, 32, 2, 4, 48
    Dh = D // H
    pct = 0.5
    rot = int(Dh * pct)
    cfg = {"model_type": "gpt_neox", "vocab_size": V, "max_position_embeddings": C, "hidden_size": D,
           "num_hidden_layers": L, "num_attention_heads": H, "intermediate_size": F, "rotary_pct": pct,
           "rotary_emb_base": 10000, "layer_norm_eps": 1e-5, "hidden_act": "gelu",
           "use_parallel_residual": parallel, "tie_word_embeddings": False, "bos_token_id": 0, "eos_token_id": 0}
    w = {"gpt_neox.embed_in.weight": rnd(V, D)}
    for l in range(L):
        p = f"gpt_neox.layers.{l}."
        w[p + "input_layernorm.weight"] = 1 + rnd(D, scale=0.1)
        w[p + "input_layernorm.bias"] = rnd(D, scale=0.1)
        w[p + "post_attention_layernorm.weight"] = 1 + rnd(D, scale=0.1)
        w[p + "post_attention_layernorm.bias"] = rnd(D, scale=0.1)
        w[p + "attention.query_key_value.weight"] = rnd(3 * D, D)
        w[p + "attention.query_key_value.bias"] = rnd(3 * D, scale=0.1)
        w[p + "attention.dense.weight"] = rnd(D, D)
        w[p + "attention.dense.bias"] = rnd(D, scale=0.1)
        w[p + "mlp.dense_h_to_4h.weight"] = rnd(F, D)
        w[p + "mlp.dense_h_to_4h.bias"] = rnd(F, scale=0.1)
        w[p + "mlp.dense_4h_to_h.weight"] = rnd(D, F)
        w[p + "mlp.dense_4h_to_h.bias"] = rnd(D, scale=0.1)
        w[p + "attention.rotary_emb.inv_freq"] = 1.0 / (10000 ** (torch.arange(0, rot, 2, dtype=torch.float64) / rot))
    w["gpt_neox.final_layer_norm.weight"] = 1 + rnd(D, scale=0.1)
    w["gpt_neox.final_layer_norm.bias"] = rnd(D, scale=0.1)
    w["embed_out.weight"] = rnd(V, D)
    tok = torch.randint(0, V, (T,))
    cos, sin = rope_cos_sin(rot, 10000.0)

    def rope(x):
        xr, xp = x[..., :rot], x[..., rot:]
        return torch.cat((xr * cos + rotate_half(xr) * sin, xp), dim=-1)

    def forward():
        h = w["gpt_neox.embed_in.weight"][tok]
        attns = []
        for l in range(L):
            p = f"gpt_neox.layers.{l}."
            a = layer_norm(h, w[p + "input_layernorm.weight"], w[p + "input_layernorm.bias"], 1e-5)
            qkv = a @ w[p + "attention.query_key_value.weight"].T + w[p + "attention.query_key_value.bias"]
            qkv = qkv.view(T, H, 3 * Dh).transpose(0, 1)  # [H, T, 3*Dh]
            q, k, v = qkv[..., :Dh], qkv[..., Dh:2 * Dh], qkv[..., 2 * Dh:]
            q, k = rope(q), rope(k)
            att = causal_softmax(q, k)
            attns.append(att)
            y = (att @ v).transpose(0, 1).reshape(T, D)
            attn_out = y @ w[p + "attention.dense.weight"].T + w[p + "attention.dense.bias"]

            def mlp(x):
                m = layer_norm(x, w[p + "post_attention_layernorm.weight"], w[p + "post_attention_layernorm.bias"], 1e-5)
                m = gelu_erf(m @ w[p + "mlp.dense_h_to_4h.weight"].T + w[p + "mlp.dense_h_to_4h.bias"])
                return m @ w[p + "mlp.dense_4h_to_h.weight"].T + w[p + "mlp.dense_4h_to_h.bias"]

            if parallel:
                h = h + attn_out + mlp(h)
            else:
                h = h + attn_out
                h = h + mlp(h)
        h = layer_norm(h, w["gpt_neox.final_layer_norm.weight"], w["gpt_neox.final_layer_norm.bias"], 1e-5)
        return h @ w["embed_out.weight"].T, torch.stack(attns)

    return cfg, w, tok, forward


def llama(qwen=False):
    V, C, D, L, H, KV, F = 43, 32, 32, 2, 4, 2, 56
    Dh = D // H
    theta = 10000.0 if not qwen else 1000000.0
    cfg = {"model_type": "qwen2" if qwen else "llama", "vocab_size": V, "max_position_embeddings": C,
           "hidden_size": D, "num_hidden_layers": L, "num_attention_heads": H, "num_key_value_heads": KV,
           "intermediate_size": F, "rms_norm_eps": 1e-6, "rope_theta": theta, "hidden_act": "silu",
           "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2, "rope_scaling": None,
           "attention_bias": False}
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
    tok = torch.randint(0, V, (T,))
    cos, sin = rope_cos_sin(Dh, theta)

    def lin(x, name):
        y = x @ w[name + ".weight"].T
        return y + w[name + ".bias"] if name + ".bias" in w else y

    def forward():
        h = w["model.embed_tokens.weight"][tok]
        attns = []
        for l in range(L):
            p = f"model.layers.{l}."
            a = rms_norm(h, w[p + "input_layernorm.weight"], 1e-6)
            q = lin(a, p + "self_attn.q_proj").view(T, H, Dh).transpose(0, 1)
            k = lin(a, p + "self_attn.k_proj").view(T, KV, Dh).transpose(0, 1)
            v = lin(a, p + "self_attn.v_proj").view(T, KV, Dh).transpose(0, 1)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k = k.repeat_interleave(H // KV, dim=0)
            v = v.repeat_interleave(H // KV, dim=0)
            att = causal_softmax(q, k)
            attns.append(att)
            y = (att @ v).transpose(0, 1).reshape(T, D)
            h = h + y @ w[p + "self_attn.o_proj.weight"].T
            m = rms_norm(h, w[p + "post_attention_layernorm.weight"], 1e-6)
            m = torch.nn.functional.silu(m @ w[p + "mlp.gate_proj.weight"].T) * (m @ w[p + "mlp.up_proj.weight"].T)
            h = h + m @ w[p + "mlp.down_proj.weight"].T
        h = rms_norm(h, w["model.norm.weight"], 1e-6)
        return h @ w["lm_head.weight"].T, torch.stack(attns)

    return cfg, w, tok, forward


def main():
    family, out = sys.argv[1], sys.argv[2]
    builders = {"gpt2": gpt2, "gpt_neox": gpt_neox, "gpt_neox_seq": lambda: gpt_neox(parallel=False),
                "llama": llama, "qwen2": lambda: llama(qwen=True)}
    cfg, w, tok, forward = builders[family]()
    for k in w:  # the file holds float32: compute the reference from exactly those values
        w[k] = w[k].float().double()
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    st_io.save(os.path.join(out, "model.safetensors"), {k: v.numpy() for k, v in w.items()})
    with torch.no_grad():
        logits, attn = forward()
    st_io.save(os.path.join(out, "ref.safetensors"),
               {"tokens": tok.double().numpy(), "logits": logits.numpy(), "attn": attn.numpy()})


if __name__ == "__main__":
    main()
