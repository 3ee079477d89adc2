"""attnlab.train: callbacks, early stop, Ctrl-C, and the results store as DataFrames."""
import os
import signal
import subprocess

import numpy as np
import pytest

import attnlab

CONFIG = {
    "model": {"preset": "tiny", "n_layers": 1, "n_heads": 2, "n_kv_heads": 2, "context": 32},
    "task": {"name": "bigram_backcopy", "params": {"triggers": 3}},
    "train": {"steps": 30, "batch_size": 8, "seq_len": 32, "lr": 1e-2, "warmup": 5, "eval_every": 0},
}


def test_train_with_callback(tmp_path):
    seen = []
    r = attnlab.train(CONFIG, on_step=lambda s: seen.append(s["loss"]), out=tmp_path)
    assert len(seen) == 30 and r.steps == 30
    np.testing.assert_allclose(r.log["loss"].to_numpy(), np.array(seen, dtype=np.float32), rtol=1e-6)
    assert np.mean(seen[-5:]) < np.mean(seen[:5])
    assert (tmp_path / "model.safetensors").exists()
    assert r.model.config["n_layers"] == 1
    assert r.model.analyze(probe="sink", n=2, T=16).to_numpy("alpha1").shape == (1, 2)


def test_callback_stops_and_errors_propagate(tmp_path):
    r = attnlab.train(CONFIG, on_step=lambda s: s["step"] < 4, out=tmp_path / "a")
    assert r.steps == 4 and len(r.log) == 4

    def boom(s):
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        attnlab.train(CONFIG, on_step=boom, out=tmp_path / "b")


def test_ctrl_c_stops_cleanly(tmp_path):
    steps = []

    def interrupt_at_3(s):
        steps.append(s["step"])
        if s["step"] == 3:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        attnlab.train(CONFIG, on_step=interrupt_at_3, out=tmp_path)
    assert steps[-1] <= 4  # stopped at the next step boundary, not after 30
    assert (tmp_path / "train_state.safetensors").exists()


def test_bad_config(tmp_path):
    with pytest.raises(attnlab.Error, match="no_such_key"):
        attnlab.train({**CONFIG, "train": {"no_such_key": 1}}, out=tmp_path)
    with pytest.raises(attnlab.Error, match="dict"):
        attnlab.train("tiny")


def test_store_as_dataframes(tmp_path, cli):
    spec = tmp_path / "study.toml"
    spec.write_text('name = "pystore"\nseeds = [0, 1]\n'
                    '[model]\npreset = "tiny"\nn_layers = 1\nn_heads = 2\nn_kv_heads = 2\ncontext = 32\n'
                    '[task]\nname = "bigram_backcopy"\n'
                    '[train]\nsteps = 6\nbatch_size = 4\nseq_len = 32\neval_every = 0\n'
                    '[probes]\nevery = 3\nnames = ["attn_stats"]\n')
    subprocess.run([cli, "sweep", "run", str(spec), "--out", str(tmp_path / "out")], check=True,
                   capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    store = attnlab.open_store(tmp_path / "out" / "pystore.sqlite")
    runs = store.runs()
    assert len(runs) == 2 and set(runs["status"]) == {"done"}
    sc = store.scalars(name="loss")
    assert len(sc) == 12 and set(sc.columns) == {"run", "step", "name", "value"}
    hm = store.head_metrics(metric="entropy")
    assert len(hm) > 0 and set(hm["layer"]) == {0}


def test_continuous_model_forward(tmp_path, cli):
    # In-context regression: the model reads float features and predicts one number per position.
    # Study specs (attnlab.train) hold token tasks only, so the CLI trains this one.
    subprocess.run([cli, "train", "--preset", "tiny", "--model", '{"n_layers":1,"n_heads":2,"n_kv_heads":2}',
                    "--task", "linear_regression(dim=3,points=8,batch=4)", "--steps", "3", "--eval-every", "0",
                    "--out", str(tmp_path)], check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    m = attnlab.load(str(tmp_path / "model.safetensors"))
    x = attnlab.task("linear_regression(dim=3,points=8,batch=4)").batch()["features"]
    y = m.forward(x)
    assert y.shape == (4, 16, 1) and y.dtype == np.float32 and np.isfinite(y).all()
    np.testing.assert_array_equal(m.forward(x.astype(np.float64)), y)
    with pytest.raises(attnlab.Error, match="float"):
        m.forward(np.zeros((1, 16, 3), dtype=np.int32))
    with pytest.raises(attnlab.Error, match="features per position"):
        m.forward(np.zeros((1, 16, 4), dtype=np.float32))
    with pytest.raises(attnlab.Error, match="NaN"):
        m.forward(np.full((1, 16, 3), np.nan, dtype=np.float32))
