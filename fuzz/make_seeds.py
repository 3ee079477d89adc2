#!/usr/bin/env python3
"""Writes the small hand-made seed inputs under fuzz/seeds/<target>/ (committed; rerun to
regenerate). Each seed is a tiny but valid file, so the fuzzer starts from inputs that get past
the first checks. The large real files (stories260K.gguf/.bin, tok512.bin, GPT-NeoX's
tokenizer.json) stay in ../shared: fuzz/run.sh adds them to a target's seeds by path.

    python3 fuzz/make_seeds.py
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "seeds")


def put(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def floats(n, scale=0.01):
    return [scale * ((i * 7) % 11 - 5) for i in range(n)]


def f32(values):
    return struct.pack(f"<{len(values)}f", *values)


# --- llama2.c: a legacy checkpoint (dim 8, hidden 16, 1 layer, 2 heads, vocab 12, seq_len 4) ---
def llama2c_model(shared_classifier=True, with_rope=False):
    dim, hidden, L, H, KV, V, seq = 8, 16, 1, 2, 2, 12, 4
    hs = dim // H
    header = struct.pack("<7i", dim, hidden, L, H, KV, V if shared_classifier else -V, seq)
    n = V * dim + L * dim + 4 * L * dim * dim + L * dim + 3 * L * hidden * dim + dim
    if with_rope:
        n += 2 * seq * hs // 2
    if not shared_classifier:
        n += V * dim
    return header + f32(floats(n))


# --- llama2.c tokenizer (tok512.bin format): max_token_length, then {score, len, bytes} ---
def llama2c_tokenizer(pieces):
    out = struct.pack("<i", max(len(p.encode()) for p in pieces))
    for i, p in enumerate(pieces):
        b = p.encode()
        out += struct.pack("<fi", -float(i), len(b)) + b
    return out


TOKENS = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(3)] + [" ", "a", "b", " a", "ab", " ab"]


# --- GGUF v3: a llama model (the llama2.c model above, F32 and one Q8_0 matrix) + tokenizer ---
def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, type_id, payload):
    return gguf_str(key) + struct.pack("<I", type_id) + payload


def gguf_model():
    dim, hidden, V, seq = 32, 16, len(TOKENS), 4
    kvs = [
        kv("general.architecture", 8, gguf_str("llama")),
        kv("llama.context_length", 4, struct.pack("<I", seq)),
        kv("llama.embedding_length", 4, struct.pack("<I", dim)),
        kv("llama.feed_forward_length", 4, struct.pack("<I", hidden)),
        kv("llama.attention.head_count", 4, struct.pack("<I", 2)),
        kv("llama.attention.head_count_kv", 4, struct.pack("<I", 2)),
        kv("llama.block_count", 4, struct.pack("<I", 1)),
        kv("llama.attention.layer_norm_rms_epsilon", 6, struct.pack("<f", 1e-5)),
        kv("tokenizer.ggml.model", 8, gguf_str("llama")),
        # arrays: element type, count, elements
        kv("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, V) + b"".join(gguf_str(t) for t in TOKENS)),
        kv("tokenizer.ggml.scores", 9, struct.pack("<IQ", 6, V) + f32([-float(i) for i in range(V)])),
        kv("tokenizer.ggml.token_type", 9,
           struct.pack("<IQ", 5, V) + struct.pack(f"<{V}i", 2, 3, 3, 6, 6, 6, *([1] * (V - 6)))),
        kv("tokenizer.ggml.bos_token_id", 4, struct.pack("<I", 1)),
        kv("tokenizer.ggml.eos_token_id", 4, struct.pack("<I", 2)),
    ]

    def q8_0(n):  # n / 32 blocks of {f16 scale, 32 int8}
        return b"".join(struct.pack("<e", 0.01) + bytes((i * 5) % 256 for i in range(32)) for _ in range(n // 32))

    # (name, ggml ne (innermost first), type, data)
    tensors = [("token_embd.weight", [dim, V], 8, q8_0(dim * V)), ("output_norm.weight", [dim], 0, f32(floats(dim)))]
    p = "blk.0."
    tensors += [(p + "attn_norm.weight", [dim], 0, f32(floats(dim))), (p + "ffn_norm.weight", [dim], 0, f32(floats(dim)))]
    for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
        tensors.append((p + name + ".weight", [dim, dim], 0, f32(floats(dim * dim))))
    tensors += [(p + "ffn_gate.weight", [dim, hidden], 0, f32(floats(dim * hidden))),
                (p + "ffn_up.weight", [dim, hidden], 0, f32(floats(dim * hidden))),
                (p + "ffn_down.weight", [hidden, dim], 0, f32(floats(dim * hidden)))]
    infos, blobs = b"", b""
    for name, ne, tid, data in tensors:
        infos += gguf_str(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne)
        infos += struct.pack("<IQ", tid, len(blobs))
        blobs += data + b"\0" * ((-len(data)) % 32)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)) + b"".join(kvs) + infos
    head += b"\0" * ((-len(head)) % 32)
    return head + blobs


# --- safetensors: 8-byte header length, JSON header, data ---
def safetensors(tensors, metadata=None):
    """tensors: [(name, dtype, shape, raw bytes)]"""
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((-len(h)) % 8)
    return struct.pack("<Q", len(h)) + h + data


def attnlab_checkpoint():
    # pos learned, layernorm, GELU MLP with biases, tied embeddings: tok_emb serves as lm_head.
    D, F, V, C = 4, 8, 8, 8
    config = {"family": "custom", "vocab_size": V, "context": C, "d_model": D, "n_layers": 1, "n_heads": 2,
              "n_kv_heads": 2, "d_ff": F, "pos": "learned", "rope_style": "interleaved", "rope_theta": 10000.0,
              "rotary_pct": 1.0, "norm": "layernorm", "norm_eps": 1e-5, "mlp": "gelu", "bias": True,
              "parallel_residual": False, "tied_embeddings": True, "attention": ["softmax"], "input_dim": 0,
              "bos_token": -1, "bos_policy": "none"}
    shapes = {"tok_emb.weight": [V, D], "pos_emb.weight": [C, D], "final_norm.weight": [D], "final_norm.bias": [D]}
    for n in ("attn_norm", "mlp_norm"):
        shapes[f"layers.0.{n}.weight"] = [D]
        shapes[f"layers.0.{n}.bias"] = [D]
    for n in ("wq", "wk", "wv", "wo"):
        shapes[f"layers.0.attn.{n}.weight"] = [D, D]
        shapes[f"layers.0.attn.{n}.bias"] = [D]
    shapes.update({"layers.0.mlp.w1.weight": [F, D], "layers.0.mlp.w1.bias": [F], "layers.0.mlp.w2.weight": [D, F],
                   "layers.0.mlp.w2.bias": [D]})
    tensors = []
    for name, shape in sorted(shapes.items()):
        n = 1
        for d in shape:
            n *= d
        tensors.append((name, "F32", shape, f32(floats(n))))
    meta = {"attnlab.config": json.dumps(config), "format": "pt", "attnlab.task": "copy",
            "attnlab.vocab": json.dumps([chr(ord("a") + i) for i in range(V)])}
    return safetensors(tensors, meta)


def main():
    put("llama2c", "shared.bin", llama2c_model())
    put("llama2c", "unshared_rope.bin", llama2c_model(shared_classifier=False, with_rope=True))
    put("llama2c_tokenizer", "tiny.bin", llama2c_tokenizer(TOKENS))
    put("gguf", "tiny_llama.gguf", gguf_model())

    put("safetensors", "dtypes.safetensors", safetensors([
        ("a", "F32", [2, 2], f32([1, 2, 3, 4])), ("b", "F16", [3], struct.pack("<3e", 1, -2, 0.5)),
        ("c", "BF16", [2], struct.pack("<2H", 0x3F80, 0xC000)), ("d", "F64", [1], struct.pack("<d", 3.0)),
        ("e", "F32", [0, 4], b"")], {"format": "pt"}))
    put("checkpoint", "tiny.safetensors", attnlab_checkpoint())

    # Matches the fixed model.safetensors fuzz_hf_config.cpp writes (the target's comment).
    gpt2 = {"model_type": "gpt2", "n_embd": 4, "n_layer": 1, "n_head": 2, "n_inner": 16, "n_positions": 8,
            "vocab_size": 16, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"}
    put("hf_config", "gpt2.json", json.dumps(gpt2, indent=1))
    put("hf_config", "llama.json", json.dumps({
        "model_type": "llama", "hidden_size": 4, "num_hidden_layers": 1, "num_attention_heads": 2,
        "num_key_value_heads": 1, "intermediate_size": 16, "max_position_embeddings": 8, "vocab_size": 16,
        "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": True}, indent=1))
    put("hf_config", "neox.json", json.dumps({
        "model_type": "gpt_neox", "hidden_size": 4, "num_hidden_layers": 1, "num_attention_heads": 2,
        "intermediate_size": 16, "max_position_embeddings": 8, "vocab_size": 16, "rotary_pct": 0.5,
        "use_parallel_residual": True, "hidden_act": "gelu"}, indent=1))

    # A byte-level BPE (GPT-2 style) and a metaspace one (converted SentencePiece).
    # GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest map past U+0100.
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    extra = [b for b in range(256) if b not in printable]
    byte_chars = [chr(b) for b in printable] + [chr(256 + i) for i in range(len(extra))]
    byte_vocab = {c: i for i, c in enumerate(byte_chars)}
    byte_vocab.update({"\u0120": len(byte_vocab), "\u0120w": len(byte_vocab) + 1, "or": len(byte_vocab) + 2,
                       "<|endoftext|>": len(byte_vocab) + 3})
    put("hf_tokenizer", "byte_level.json", json.dumps({
        "version": "1.0",
        "added_tokens": [{"id": byte_vocab["<|endoftext|>"], "content": "<|endoftext|>", "special": True,
                          "single_word": False, "lstrip": False, "rstrip": False, "normalized": False}],
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": byte_vocab, "merges": ["\u0120 w", "o r"]}}, indent=1))
    meta_vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    meta_vocab.update({f"<0x{b:02X}>": 3 + b for b in range(256)})
    for piece in ["\u2581", "H", "e", "l", "o", "\u2581H", "el", "lo", "\u2581Hel"]:
        meta_vocab[piece] = len(meta_vocab)
    put("hf_tokenizer", "metaspace.json", json.dumps({
        "version": "1.0",
        "added_tokens": [{"id": 0, "content": "<unk>", "special": True},
                         {"id": 1, "content": "<s>", "special": True}, {"id": 2, "content": "</s>", "special": True}],
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                                                             {"type": "Replace", "pattern": {"String": " "},
                                                              "content": "\u2581"}]},
        "pre_tokenizer": None,
        "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                                                    {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"},
                                                      "content": " "}, {"type": "ByteFallback"}]},
        "model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": True, "fuse_unk": True,
                  "vocab": meta_vocab, "merges": ["\u2581 H", "e l", "l o", "\u2581H el"]}}, indent=1))

    put("study_spec", "minimal.toml", 'name = "fuzz"\nseeds = [0]\n[model]\npreset = "tiny"\nattention = "softmax"\n'
        '[task]\nname = "mqar"\n[task.params]\nkv = 2\n[train]\nsteps = 1\nbatch_size = 2\n')
    put("study_spec", "sweep.toml", 'name = "sweep"\nseeds = [0, 1]\n[model]\npreset = "tiny"\nn_layers = 2\n'
        'attention = ["softmax", "sigmoid(bias=-log_n)"]\n[task]\nname = "copy"\n[train]\nsteps = 2\nlr = 1e-3\n'
        '[probes]\nevery = 1\nnames = ["attn_stats"]\n[sweep.grid]\n"model.attention" = ["softmax", '
        '"window(size=3,sinks=1)"]\n[[sweep.zip]]\n"train.lr" = [1e-3, 3e-4]\n"train.warmup" = [1, 2]\n')

    for i, spec in enumerate(["softmax", "softmax+window(size=3,sinks=1)+block(size=2)", "sigmoid(bias=-log_t,norm=true)",
                              "linear(feature=relu,norm=false,chunk=4)", "diff(lambda_init=0.5)+dilated(size=3,rate=2)",
                              "gated(mode=headwise)", "topk(k=3)", "kv_bias(v=zero)", "softpick(eps=1e-6)"]):
        put("attention_spec", f"spec{i}", spec)
    for i, spec in enumerate(["mqar(len=16,kv=2,vocab=32,batch=2)", "copy", "induction(len=12)",
                              "needle(len=32)", "selective_copy", "bigram_backcopy(triggers=3)",
                              "linear_regression"]):
        put("task_spec", f"spec{i}", spec)


if __name__ == "__main__":
    main()
