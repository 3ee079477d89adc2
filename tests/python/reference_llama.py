"""An independent float64 NumPy forward of a llama2.c checkpoint (the stories260K.bin layout of
karpathy/llama2.c export.py, legacy version 0): what attnlab's patterns and logits are checked
against. Written from llama2.c's run.c, sharing nothing with attnlab's loaders or kernels."""
import numpy as np


def read_llama2c(path):
    raw = open(path, "rb").read()
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len = np.frombuffer(raw[:28], dtype=np.int32)
    shared = vocab > 0
    vocab = abs(vocab)
    w = np.frombuffer(raw[28:], dtype=np.float32).astype(np.float64)
    head = dim // n_heads
    kv_dim = n_kv * head
    off = 0

    def take(*shape):
        nonlocal off
        n = int(np.prod(shape))
        a = w[off:off + n].reshape(shape)
        off += n
        return a

    p = {"dim": int(dim), "n_layers": int(n_layers), "n_heads": int(n_heads), "n_kv": int(n_kv), "vocab": int(vocab)}
    p["emb"] = take(vocab, dim)
    p["rms_att"] = take(n_layers, dim)
    p["wq"] = take(n_layers, dim, dim)
    p["wk"] = take(n_layers, kv_dim, dim)
    p["wv"] = take(n_layers, kv_dim, dim)
    p["wo"] = take(n_layers, dim, dim)
    p["rms_ffn"] = take(n_layers, dim)
    p["w1"] = take(n_layers, hidden, dim)
    p["w2"] = take(n_layers, dim, hidden)
    p["w3"] = take(n_layers, hidden, dim)
    p["rms_final"] = take(dim)
    take(seq_len, head // 2)  # freq_cis_real, freq_cis_imag: recomputed below as run.c does
    take(seq_len, head // 2)
    p["wcls"] = p["emb"] if shared else take(vocab, dim)
    return p


def _rmsnorm(x, w, eps=1e-5):
    return x * w / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)


def _rope(x, head):
    # run.c: pairs (i, i+1) within each head rotate by pos / 10000^((i % head) / head).
    T = x.shape[0]
    i = np.arange(0, x.shape[1], 2)
    freq = 1.0 / 10000.0 ** ((i % head) / head)
    ang = np.arange(T)[:, None] * freq[None, :]
    c, s = np.cos(ang), np.sin(ang)
    out = x.copy()
    out[:, 0::2] = x[:, 0::2] * c - x[:, 1::2] * s
    out[:, 1::2] = x[:, 0::2] * s + x[:, 1::2] * c
    return out


def forward(p, tokens):
    """tokens: 1-D ids. Returns (logits [T, vocab], patterns: list per layer of [head, T, T])."""
    D, H, Hkv = p["dim"], p["n_heads"], p["n_kv"]
    head = D // H
    T = len(tokens)
    x = p["emb"][np.asarray(tokens)]
    mask = np.triu(np.ones((T, T), dtype=bool), 1)
    patterns = []
    for l in range(p["n_layers"]):
        xn = _rmsnorm(x, p["rms_att"][l])
        q = _rope(xn @ p["wq"][l].T, head).reshape(T, H, head)
        k = _rope(xn @ p["wk"][l].T, head).reshape(T, Hkv, head)
        v = (xn @ p["wv"][l].T).reshape(T, Hkv, head)
        att = np.empty((H, T, T))
        out = np.empty((T, H, head))
        for h in range(H):
            kh = h // (H // Hkv)
            s = q[:, h, :] @ k[:, kh, :].T / np.sqrt(head)
            s[mask] = -np.inf
            s = np.exp(s - s.max(axis=1, keepdims=True))
            att[h] = s / s.sum(axis=1, keepdims=True)
            out[:, h, :] = att[h] @ v[:, kh, :]
        patterns.append(att)
        x = x + out.reshape(T, D) @ p["wo"][l].T
        xn = _rmsnorm(x, p["rms_ffn"][l])
        a = xn @ p["w1"][l].T
        x = x + ((a / (1.0 + np.exp(-a))) * (xn @ p["w3"][l].T)) @ p["w2"][l].T
    logits = _rmsnorm(x, p["rms_final"]) @ p["wcls"].T
    return logits, patterns
