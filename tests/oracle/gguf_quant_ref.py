"""Writes a GGUF v3 file holding one tensor of every ggml type we dequantize, built from random
integer codes and scales packed the way ggml's reference quantize_row_*_ref functions pack them,
plus the values those codes stand for (computed directly from the codes, never by unpacking).

    gguf_quant_ref.py OUT.gguf EXPECTED.safetensors
"""
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

rng = np.random.default_rng(7)
ROWS = 3


def f16(x):
    return np.float16(x).tobytes(), float(np.float16(x))


def blocks_q4_0(nb):
    raw, vals = b"", []
    for _ in range(nb):
        L = rng.integers(0, 16, 32)
        hb, d = f16(rng.uniform(0.01, 0.1))
        qs = bytes(int(L[j] | (L[j + 16] << 4)) for j in range(16))
        raw += hb + qs
        vals += list((L - 8) * d)
    return raw, vals


def blocks_q4_1(nb):
    raw, vals = b"", []
    for _ in range(nb):
        L = rng.integers(0, 16, 32)
        hd, d = f16(rng.uniform(0.01, 0.1))
        hm, m = f16(rng.uniform(-0.5, 0.5))
        raw += hd + hm + bytes(int(L[j] | (L[j + 16] << 4)) for j in range(16))
        vals += list(L * d + m)
    return raw, vals


def blocks_q5(nb, with_min):
    raw, vals = b"", []
    for _ in range(nb):
        L = rng.integers(0, 32, 32)
        hd, d = f16(rng.uniform(0.01, 0.1))
        qh = 0
        for j in range(16):
            qh |= int((L[j] & 0x10) >> 4) << j
            qh |= int((L[j + 16] & 0x10) >> 4) << (j + 16)
        qs = bytes(int((L[j] & 0xF) | ((L[j + 16] & 0xF) << 4)) for j in range(16))
        if with_min:
            hm, m = f16(rng.uniform(-0.5, 0.5))
            raw += hd + hm + struct.pack("<I", qh) + qs
            vals += list(L * d + m)
        else:
            raw += hd + struct.pack("<I", qh) + qs
            vals += list((L - 16) * d)
    return raw, vals


def blocks_q8_0(nb):
    raw, vals = b"", []
    for _ in range(nb):
        q = rng.integers(-127, 128, 32)
        hd, d = f16(rng.uniform(0.001, 0.01))
        raw += hd + q.astype(np.int8).tobytes()
        vals += list(q * d)
    return raw, vals


def pack_2bit(L):  # 256 codes in 0..3 -> qs[64], as quantize_row_q2_K_ref / q3_K
    qs = bytearray(64)
    for j in range(0, 256, 128):
        for l in range(32):
            qs[j // 4 + l] = int(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6))
    return bytes(qs)


def blocks_q2_k(nb):
    raw, vals = b"", []
    for _ in range(nb):
        L = rng.integers(0, 4, 256)
        sc = rng.integers(0, 16, 16)
        mn = rng.integers(0, 16, 16)
        hd, d = f16(rng.uniform(0.01, 0.1))
        hm, dmin = f16(rng.uniform(0.01, 0.1))
        scales = bytes(int(sc[j] | (mn[j] << 4)) for j in range(16))
        raw += scales + pack_2bit(L) + hd + hm
        vals += [d * sc[i // 16] * L[i] - dmin * mn[i // 16] for i in range(256)]
    return raw, vals


def blocks_q3_k(nb):
    raw, vals = b"", []
    for _ in range(nb):
        L = rng.integers(0, 8, 256)
        sc = rng.integers(0, 64, 16)
        hd, d = f16(rng.uniform(0.01, 0.1))
        scales = bytearray(12)
        for j in range(16):
            l = int(sc[j])
            if j < 8:
                scales[j] = l & 0xF
            else:
                scales[j - 8] |= (l & 0xF) << 4
            scales[j % 4 + 8] |= (l >> 4) << (2 * (j // 4))
        hmask = bytearray(32)
        low = L.copy()
        for j in range(256):
            if low[j] > 3:
                hmask[j % 32] |= 1 << (j // 32)
                low[j] -= 4
        raw += bytes(hmask) + pack_2bit(low) + bytes(scales) + hd
        vals += [d * (sc[i // 16] - 32) * (L[i] - 4) for i in range(256)]
    return raw, vals


def pack_k_scales(sc, mn):  # 8 six-bit scales and mins -> 12 bytes, as quantize_row_q4_K_ref
    s = bytearray(12)
    for j in range(8):
        ls, lm = int(sc[j]), int(mn[j])
        if j < 4:
            s[j] = ls
            s[j + 4] = lm
        else:
            s[j + 4] = (ls & 0xF) | ((lm & 0xF) << 4)
            s[j - 4] |= (ls >> 4) << 6
            s[j] |= (lm >> 4) << 6
    return bytes(s)


def blocks_q4_k(nb):
    raw, vals = b"", []
    for _ in range(nb):
        L = rng.integers(0, 16, 256)
        sc, mn = rng.integers(0, 64, 8), rng.integers(0, 64, 8)
        hd, d = f16(rng.uniform(0.001, 0.01))
        hm, dmin = f16(rng.uniform(0.001, 0.01))
        qs = bytearray()
        for j in range(0, 256, 64):
            qs += bytes(int(L[j + l] | (L[j + l + 32] << 4)) for l in range(32))
        raw += hd + hm + pack_k_scales(sc, mn) + bytes(qs)
        vals += [d * sc[i // 32] * L[i] - dmin * mn[i // 32] for i in range(256)]
    return raw, vals


def blocks_q5_k(nb):
    raw, vals = b"", []
    for _ in range(nb):
        L = rng.integers(0, 32, 256)
        sc, mn = rng.integers(0, 64, 8), rng.integers(0, 64, 8)
        hd, d = f16(rng.uniform(0.001, 0.01))
        hm, dmin = f16(rng.uniform(0.001, 0.01))
        qh, ql = bytearray(32), bytearray()
        m1, m2 = 1, 2
        for n in range(0, 256, 64):
            for j in range(32):
                l1, l2 = int(L[n + j]), int(L[n + j + 32])
                if l1 > 15:
                    l1 -= 16
                    qh[j] |= m1
                if l2 > 15:
                    l2 -= 16
                    qh[j] |= m2
                ql.append(l1 | (l2 << 4))
            m1 <<= 2
            m2 <<= 2
        raw += hd + hm + pack_k_scales(sc, mn) + bytes(qh) + bytes(ql)
        vals += [d * sc[i // 32] * L[i] - dmin * mn[i // 32] for i in range(256)]
    return raw, vals


def blocks_q6_k(nb):
    raw, vals = b"", []
    for _ in range(nb):
        L = rng.integers(0, 64, 256)
        sc = rng.integers(-128, 128, 16)
        hd, d = f16(rng.uniform(0.0001, 0.001))
        ql, qh = bytearray(128), bytearray(64)
        for j in range(0, 256, 128):
            o, oh = j // 2, j // 4
            for l in range(32):
                q1, q2, q3, q4 = (int(L[j + l + k]) & 0xF for k in (0, 32, 64, 96))
                ql[o + l] = q1 | (q3 << 4)
                ql[o + l + 32] = q2 | (q4 << 4)
                qh[oh + l] = (int(L[j + l]) >> 4) | ((int(L[j + l + 32]) >> 4) << 2) | \
                             ((int(L[j + l + 64]) >> 4) << 4) | ((int(L[j + l + 96]) >> 4) << 6)
        raw += bytes(ql) + bytes(qh) + sc.astype(np.int8).tobytes() + hd
        vals += [d * sc[i // 16] * (L[i] - 32) for i in range(256)]
    return raw, vals


def plain(kind, n):
    x = rng.standard_normal(n).astype(np.float32)
    if kind == "F32":
        return x.tobytes(), list(x.astype(np.float64))
    if kind == "F16":
        h = x.astype(np.float16)
        return h.tobytes(), list(h.astype(np.float64))
    bits = (x.view(np.uint32) >> 16).astype(np.uint16)  # truncated bf16: exactly representable
    return bits.tobytes(), list((bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64))


# name -> (ggml type id, elements per block, builder)
TYPES = {
    "F32": (0, 1, lambda nb: plain("F32", nb)), "F16": (1, 1, lambda nb: plain("F16", nb)),
    "BF16": (30, 1, lambda nb: plain("BF16", nb)),
    "Q4_0": (2, 32, blocks_q4_0), "Q4_1": (3, 32, blocks_q4_1),
    "Q5_0": (6, 32, lambda nb: blocks_q5(nb, False)), "Q5_1": (7, 32, lambda nb: blocks_q5(nb, True)),
    "Q8_0": (8, 32, blocks_q8_0), "Q2_K": (10, 256, blocks_q2_k), "Q3_K": (11, 256, blocks_q3_k),
    "Q4_K": (12, 256, blocks_q4_k), "Q5_K": (13, 256, blocks_q5_k), "Q6_K": (14, 256, blocks_q6_k),
}


def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def main():
    out, expected_path = sys.argv[1], sys.argv[2]
    cols = 512
    tensors, expected = [], {}
    for name, (tid, bs, build) in TYPES.items():
        raw, vals = build(ROWS * cols // bs)
        tensors.append((f"t.{name}", tid, raw))
        expected[f"t.{name}"] = np.array(vals, dtype=np.float64).reshape(ROWS, cols)
    kv = [
        gguf_str("general.architecture") + struct.pack("<I", 8) + gguf_str("test"),
        gguf_str("test.u32") + struct.pack("<II", 4, 4000000000),
        gguf_str("test.i8") + struct.pack("<Ib", 1, -5),
        gguf_str("test.f32") + struct.pack("<If", 6, 0.5),
        gguf_str("test.bool") + struct.pack("<I?", 7, True),
        gguf_str("test.i64") + struct.pack("<Iq", 11, -(1 << 40)),
        gguf_str("test.f64") + struct.pack("<Id", 12, 0.25),
        gguf_str("test.strs") + struct.pack("<IIQ", 9, 8, 2) + gguf_str("a") + gguf_str("\u2581b"),
        gguf_str("test.nested") + struct.pack("<IIQ", 9, 9, 1) + struct.pack("<IQ", 5, 2) + struct.pack("<ii", -1, 2),
        gguf_str("general.alignment") + struct.pack("<II", 4, 64),
    ]
    header = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv)) + b"".join(kv)
    offset = 0
    infos, datas = b"", b""
    for name, tid, raw in tensors:
        infos += gguf_str(name) + struct.pack("<I", 2) + struct.pack("<QQ", cols, ROWS) + struct.pack("<IQ", tid, offset)
        pad = (-len(raw)) % 64
        datas += raw + b"\0" * pad
        offset += len(raw) + pad
    head = header + infos
    head += b"\0" * ((-len(head)) % 64)
    with open(out, "wb") as f:
        f.write(head + datas)
    st_io.save(expected_path, expected)


if __name__ == "__main__":
    main()
