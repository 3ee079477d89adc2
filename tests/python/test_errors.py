"""Bad input raises attnlab.Error (a ValueError) with a clear message; nothing crashes."""
import numpy as np
import pytest

import attnlab


def test_error_is_value_error():
    assert issubclass(attnlab.Error, ValueError)


def test_load_errors(tmp_path):
    with pytest.raises(attnlab.Error, match="no_such_model"):
        attnlab.load(str(tmp_path / "no_such_model.gguf"))
    bad = tmp_path / "junk.safetensors"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(attnlab.Error):
        attnlab.load(str(bad))


@pytest.mark.parametrize(
    "tokens, message",
    [
        (np.zeros((1, 4), dtype=np.float32), "integer"),
        (np.zeros((1, 4), dtype=bool), "integer"),
        (np.zeros((1, 2, 4), dtype=np.int32), "rank 3"),
        (np.zeros((2, 8), dtype=np.int32)[:, ::2], "contiguous"),
        (np.array([[1, 512]], dtype=np.int32), "512 at \\[0, 1\\]"),
        (np.array([1, -1]), "-1"),
        (np.array([1, 2**40]), "outside"),
        (np.zeros((1, 0), dtype=np.int32), "empty"),
        (np.ones(513, dtype=np.int32), "context"),
        ([1, 2.5], "ints"),
        ({"a": 1}, "tokens must be"),
    ],
)
def test_bad_tokens_raise(stories, tokens, message):
    with pytest.raises(attnlab.Error, match=message):
        stories.forward(tokens)
    with pytest.raises(attnlab.Error, match=message):
        stories.run_with_cache(tokens)


def test_bad_cache_and_generate_arguments(stories):
    with pytest.raises(attnlab.Error, match="layer 7"):
        stories.run_with_cache([1, 2, 3], layers=[7])
    with pytest.raises(attnlab.Error, match="head -1"):
        stories.run_with_cache([1, 2, 3], heads=[-1])
    with pytest.raises(attnlab.Error, match="no activation named"):
        stories.run_with_cache([1, 2, 3], names=["attn_scores"])
    with pytest.raises(attnlab.Error, match="one prompt"):
        stories.generate(np.ones((2, 3), dtype=np.int32))
    with pytest.raises(attnlab.Error, match="outside the tokenizer"):
        stories.tokenizer.decode([1, 9999])


def test_threads_setting():
    n = attnlab.get_num_threads()
    attnlab.set_num_threads(1)
    assert attnlab.get_num_threads() == 1
    attnlab.set_num_threads(n)
    with pytest.raises(attnlab.Error):
        attnlab.set_num_threads(0)
