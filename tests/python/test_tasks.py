"""Variants, tasks and task batches as NumPy arrays."""
import numpy as np
import pytest

import attnlab


def test_variants_and_tasks_listed():
    names = [v["name"] for v in attnlab.variants()]
    assert "softmax" in names and "sigmoid" in names
    tasks = {t["name"]: t for t in attnlab.tasks()}
    assert "mqar" in tasks and "bigram_backcopy" in tasks
    assert any(p["name"] == "len" for p in tasks["mqar"]["params"])


def test_task_batch_arrays():
    t = attnlab.task("mqar(vocab=256,len=64)")
    b = t.batch()
    assert b["tokens"].dtype == np.int32 and b["tokens"].shape == (t.batch_size, 64)
    assert b["targets"].shape == b["tokens"].shape and b["mask"].dtype == np.float32
    assert b["tokens"].max() < 256 and len(b["meta"]) == t.batch_size
    assert b["meta"][0]["query_positions"]
    # Batches are a deterministic stream: the same index gives the same batch, another seed another.
    np.testing.assert_array_equal(attnlab.task("mqar(vocab=256,len=64)").batch()["tokens"], b["tokens"])
    assert not np.array_equal(t.batch(1)["tokens"], b["tokens"])
    assert not np.array_equal(attnlab.task("mqar(vocab=256,len=64)", seed=1).batch()["tokens"], b["tokens"])
    assert attnlab.task("mqar", len=32, vocab=256).batch()["tokens"].shape[1] == 32
    assert "mqar" in t.describe() and t.render()


def test_task_errors():
    with pytest.raises(attnlab.Error, match="mqar"):
        attnlab.task("no_such_task")
    with pytest.raises(attnlab.Error):
        attnlab.task("mqar", no_such_param=3)
    with pytest.raises(attnlab.Error, match="index"):
        attnlab.task("mqar").batch(-1)
