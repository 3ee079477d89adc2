"""Converts a legacy llama2.c checkpoint to a GGUF v3 llama model whose matrices are Q8_0
(d = max|x| / 127 per 32 values, q = round(x / d), as ggml's quantize_row_q8_0_ref) and whose
norms stay F32. Used to test quantized GGUF models end to end.

    llama2c_to_gguf_q8.py MODEL.bin OUT.gguf
"""
import struct
import sys

import numpy as np


def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def kv_u32(k, v):
    return gguf_str(k) + struct.pack("<II", 4, v)


def kv_f32(k, v):
    return gguf_str(k) + struct.pack("<If", 6, v)


def q8_0(x):
    x = x.astype(np.float32).reshape(-1, 32)
    amax = np.abs(x).max(axis=1)
    d = (amax / 127.0).astype(np.float32)
    inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1), 0).astype(np.float32)
    q = np.round(x * inv[:, None]).astype(np.int8)
    out = bytearray()
    for i in range(x.shape[0]):
        out += np.float16(d[i]).tobytes() + q[i].tobytes()
    return bytes(out)


def main():
    src, out = sys.argv[1], sys.argv[2]
    raw = open(src, "rb").read()
    dim, hidden, L, H, KV, V, seq = struct.unpack("<7i", raw[:28])
    V = abs(V)
    hs = dim // H
    f = np.frombuffer(raw[28:], dtype=np.float32)
    pos = 0

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        a = f[pos:pos + n].reshape(shape)
        pos += n
        return a

    emb = take(V, dim)
    att_norm = take(L, dim)
    wq, wk, wv, wo = take(L, dim, dim), take(L, KV * hs, dim), take(L, KV * hs, dim), take(L, dim, dim)
    ffn_norm = take(L, dim)
    w1, w2, w3 = take(L, hidden, dim), take(L, dim, hidden), take(L, hidden, dim)
    final = take(dim)
    tensors = [("token_embd.weight", emb), ("output_norm.weight", final)]
    for l in range(L):
        p = f"blk.{l}."
        tensors += [(p + "attn_norm.weight", att_norm[l]), (p + "attn_q.weight", wq[l]), (p + "attn_k.weight", wk[l]),
                    (p + "attn_v.weight", wv[l]), (p + "attn_output.weight", wo[l]), (p + "ffn_norm.weight", ffn_norm[l]),
                    (p + "ffn_gate.weight", w1[l]), (p + "ffn_down.weight", w2[l]), (p + "ffn_up.weight", w3[l])]
    kv = [gguf_str("general.architecture") + struct.pack("<I", 8) + gguf_str("llama"),
          kv_u32("llama.context_length", seq), kv_u32("llama.embedding_length", dim),
          kv_u32("llama.feed_forward_length", hidden), kv_u32("llama.attention.head_count", H),
          kv_u32("llama.attention.head_count_kv", KV), kv_u32("llama.block_count", L),
          kv_u32("llama.rope.dimension_count", hs), kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5)]
    infos, blobs, offset = b"", b"", 0
    for name, a in tensors:
        if a.ndim == 2 and a.shape[1] % 32 == 0:
            data, tid = q8_0(a), 8
        else:
            data, tid = a.astype(np.float32).tobytes(), 0
        ne = list(reversed(a.shape))
        infos += gguf_str(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne)
        infos += struct.pack("<IQ", tid, offset)
        pad = (-len(data)) % 32
        blobs += data + b"\0" * pad
        offset += len(data) + pad
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv)) + b"".join(kv) + infos
    head += b"\0" * ((-len(head)) % 32)
    with open(out, "wb") as fo:
        fo.write(head + blobs)


if __name__ == "__main__":
    main()
