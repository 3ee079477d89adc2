"""attnlab.load / Model / Tokenizer against the CLI and the model author's own greedy sample."""
import subprocess

import numpy as np

import attnlab


def test_load_formats_agree(stories, stories_bin, stories_tok):
    # GGUF and llama2.c hold the same weights: same config shape, same logits.
    m2 = attnlab.load(stories_bin, tokenizer=stories_tok)
    assert stories.format == "gguf" and m2.format == "llama2c"
    for k in ("n_layers", "n_heads", "n_kv_heads", "d_model", "vocab_size"):
        assert stories.config[k] == m2.config[k]
    ids = stories.tokenizer.encode("Once upon a time")
    np.testing.assert_allclose(stories.forward(ids), m2.forward(ids), atol=1e-5)


def test_config_matches_cli_info(stories_gguf, cli):
    import json

    out = subprocess.run([cli, "info", stories_gguf, "--json"], check=True, capture_output=True, text=True).stdout
    cfg = json.loads(out)
    mine = attnlab.load(stories_gguf).config
    assert mine == cfg
    assert (cfg["n_layers"], cfg["n_heads"], cfg["n_kv_heads"], cfg["d_model"]) == (5, 8, 4, 64)


def test_tokenizer_round_trip(stories):
    tok = stories.tokenizer
    ids = tok.encode("Once upon a time, there was a cat.")
    assert ids[0] == tok.bos_id and tok.bos_policy == "prepend"
    assert tok.decode(ids) == "Once upon a time, there was a cat."
    assert tok.encode("cat", bos=False)[0] != tok.bos_id
    assert "".join(tok.token_strs(ids)[1:]).strip() == "Once upon a time, there was a cat."


def test_forward_shape_dtype_batch(stories):
    ids = np.array([stories.tokenizer.encode("Lily saw a ball")] * 2, dtype=np.int64)
    logits = stories.forward(ids)
    assert logits.dtype == np.float32 and logits.shape == (2, ids.shape[1], 512)
    # The same sequence twice in one batch: equal up to float32 rounding, not bit for bit, since a
    # BLAS GEMM may block the two copies' rows differently (core/layers/gemm.h).
    np.testing.assert_allclose(logits[0], logits[1], rtol=1e-5, atol=1e-4)
    # A 1-D input is a batch of one (the GEMMs block differently: float32 rounding apart); text is
    # encoded with the model's BOS policy.
    one = stories.forward(ids[0])
    assert one.shape == (1, ids.shape[1], 512)
    np.testing.assert_allclose(one[0], logits[0], atol=1e-4)
    np.testing.assert_array_equal(stories.forward("Lily saw a ball"), one)


def test_generate_reproduces_author_sample(stories_bin, stories_tok, cli):
    # stories260K.md: greedy from BOS gives "Once upon a time, there was a little girl named Lily."
    m = attnlab.load(stories_bin, tokenizer=stories_tok)
    text = m.generate("", max_new=40)
    assert text.startswith("Once upon a time, there was a little girl named Lily.")
    out = subprocess.run([cli, "generate", stories_bin, "--tokenizer", stories_tok, "--max-new", "40"], check=True,
                         capture_output=True, text=True).stdout
    assert text == out.rstrip("\n")
    ids = m.generate(np.array(m.tokenizer.encode("Once"), dtype=np.int32), max_new=5)
    assert ids.dtype == np.int32 and len(ids) == len(m.tokenizer.encode("Once")) + 5


def test_hf_folder_and_attnlab_checkpoint(stories_bin, stories_tok, cli, tmp_path):
    # `attnlab export` writes a Hugging Face folder; it opens with the same logits as the source, to
    # float32 rounding (HF folders store RoPE pairs in halves: the model applies them differently).
    subprocess.run([cli, "export", stories_bin, "--tokenizer", stories_tok, "--out", str(tmp_path / "hf")], check=True,
                   capture_output=True)
    src = attnlab.load(stories_bin, tokenizer=stories_tok)
    hf = attnlab.load(str(tmp_path / "hf"))
    assert hf.format == "hf"
    ids = src.tokenizer.encode("Lily and Tom")
    np.testing.assert_allclose(hf.forward(ids), src.forward(ids), atol=1e-4)


def test_long_calls_release_the_gil(stories):
    # While analyze runs in a thread, this thread keeps running Python: the GIL is released.
    import threading

    done = threading.Event()
    worker = threading.Thread(target=lambda: (stories.analyze(probe="induction"), done.set()))
    ticks = 0
    worker.start()
    while not done.is_set():
        ticks += 1
    worker.join()
    assert ticks > 1000
