"""run_with_cache: patterns and logits against an independent float64 NumPy forward."""
import numpy as np
import pytest

import attnlab
from reference_llama import forward, read_llama2c

PROMPT = "Once upon a time, there was a little girl named Lily. She loved to play outside."


@pytest.fixture(scope="module")
def reference(stories_bin):
    return read_llama2c(stories_bin)


def test_patterns_and_logits_match_numpy_reference(stories, reference):
    ids = stories.tokenizer.encode(PROMPT)
    logits, cache = stories.run_with_cache(ids)
    ref_logits, ref_patterns = forward(reference, ids)
    T = len(ids)
    assert logits.shape == (1, T, 512)
    np.testing.assert_allclose(logits[0], ref_logits, atol=1e-4, rtol=1e-4)
    for l in range(5):
        p = cache["pattern", l]
        assert p.dtype == np.float32 and p.shape == (1, 8, T, T)
        np.testing.assert_allclose(p[0], ref_patterns[l], atol=1e-5)
    np.testing.assert_array_equal(cache["pattern", 2], cache["blocks.2.attn.hook_pattern"])
    np.testing.assert_array_equal(cache["pattern", -1], cache["pattern", 4])


def test_layer_head_selection_and_other_activations(stories):
    ids = stories.tokenizer.encode(PROMPT)
    _, full = stories.run_with_cache(ids)
    logits, cache = stories.run_with_cache(ids, layers=[1, 3], heads=[5, 2])
    np.testing.assert_array_equal(cache["pattern", 3][:, 0], full["pattern", 3][:, 5])
    np.testing.assert_array_equal(cache["pattern", 3][:, 1], full["pattern", 3][:, 2])
    assert ("pattern", 0) not in cache
    with pytest.raises(KeyError):
        cache["pattern", 0]
    T = len(ids)
    assert cache["q", 1].shape == (1, T, 2, 8) and cache["z", 1].shape == (1, T, 2, 8)
    assert cache["resid_post", 1].shape == (1, T, 64)
    # The residual stream after block 0 is the one before block 1.
    np.testing.assert_array_equal(full["resid_post", 0], full["resid_pre", 1])
    # z is the pattern times v, per head (softmax reproduces its output exactly).
    z = np.einsum("bhqk,bkhd->bqhd", full["pattern", 2].astype(np.float64), full["v", 2].astype(np.float64))
    np.testing.assert_allclose(full["z", 2], z, atol=1e-5)
    # -1 is the model's last layer, as in TransformerLens, whichever layers were captured.
    _, last = stories.run_with_cache(ids, layers=[4], names=["pattern"])
    np.testing.assert_array_equal(last["pattern", -1], full["pattern", 4])
    _, only = stories.run_with_cache(ids, names=["pattern"])
    assert {n for n, _ in only.keys()} == {"pattern"}
