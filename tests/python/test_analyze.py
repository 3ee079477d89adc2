"""Model.analyze gives exactly the numbers `attnlab analyze --json` writes."""
import json
import subprocess

import numpy as np
import pytest

import attnlab


def cli_table(cli, model_path, tmp_path, *args):
    out = tmp_path / "table.json"
    subprocess.run([cli, "analyze", model_path, "--context", "512", "--json", str(out), *args], check=True,
                   capture_output=True, text=True)
    return json.loads(out.read_text())


@pytest.mark.parametrize(
    "cli_args, kwargs",
    [
        (["--probe", "sink", "--n", "6", "--T", "48"], dict(probe="sink", n=6, T=48)),
        (["--probe", "sink", "--source", "random", "--bos", "none", "--n", "4", "--T", "32", "--seed", "3"],
         dict(probe="sink", source="random", bos="none", n=4, T=32, seed=3)),
        (["--probe", "induction"], dict(probe="induction")),
        (["--prompt", "Once upon a time, there was a little girl named Lily."],
         dict(prompt="Once upon a time, there was a little girl named Lily.")),
        (["--probe", "sink", "--n", "4", "--T", "32", "--ablate", "L0H1,L2H3", "--ablate-mode", "mean"],
         dict(probe="sink", n=4, T=32, ablate=[(0, 1), (2, 3)], ablate_mode="mean")),
        (["--probe", "all", "--n", "4", "--T", "32", "--haystack", "100", "--depths", "0.5", "--corpus",
          "corpora/tinyshakespeare/input.txt"],
         dict(probe="all", n=4, T=32, haystack=[100], depths=[0.5], corpus="corpora/tinyshakespeare/input.txt")),
        (["--probe", "sparsity", "--n", "3", "--T", "48", "--patterns", "topk(k=8);window(size=6,sinks=2)",
          "--budgets", "25%,8", "--classify", "8"],
         dict(probe="sparsity", n=3, T=48, patterns=["topk(k=8)", "window(size=6,sinks=2)"], budgets="25%,8",
              classify="8")),
    ],
    ids=["sink", "sink-random-nobos", "induction", "prompt", "ablate-mean", "all-probes", "sparsity"],
)
def test_same_numbers_as_cli(stories, stories_gguf, cli, tmp_path, cli_args, kwargs):
    want = cli_table(cli, stories_gguf, tmp_path, *cli_args)
    got = stories.analyze(**kwargs)
    assert got.to_dict() == want  # every value, ci95, chance, scalar and meta, exactly


def test_head_table_views(stories):
    t = stories.analyze(probe="sink", n=4, T=32)
    a = t.to_numpy("alpha1")
    assert a.shape == (5, 8) and a.dtype == np.float64
    df = t.to_pandas()
    assert len(df) == 40 and list(df.columns[:2]) == ["layer", "head"]
    np.testing.assert_array_equal(df["alpha1"].to_numpy(), a.ravel())
    assert "alpha1_chance" in df.columns
    assert t.meta["probe"] == "sink"
    assert all(isinstance(v, float) for v in t.scalars.values())
    back = attnlab.HeadTable.from_json(t.to_json())
    np.testing.assert_array_equal(back.to_numpy("alpha1"), a)
    assert "alpha1" in str(t)


def test_analyze_errors(stories):
    with pytest.raises(attnlab.Error, match="probe"):
        stories.analyze(probe="nonsense")
    with pytest.raises(attnlab.Error, match="unknown option 'nn'"):
        stories.analyze(probe="sink", nn=3)
    with pytest.raises(attnlab.Error, match="L9H0"):
        stories.analyze(probe="sink", n=2, T=16, ablate="L9H0")
    with pytest.raises(attnlab.Error, match="pass --corpus"):
        stories.analyze(probe="retrieval")  # the GGUF records no training corpus to draw haystacks from
    with pytest.raises(attnlab.Error, match="no metric"):
        stories.analyze(probe="sink", n=2, T=16).to_numpy("no_such_metric")


def test_cli_notes_become_warnings(stories_bin, tmp_path):
    # Without its tokenizer the llama2.c file has no text to hide a needle in: the CLI notes that it
    # skips the retrieval probe; Python warns the same.
    import shutil

    shutil.copy(stories_bin, tmp_path / "alone.bin")
    m = attnlab.load(str(tmp_path / "alone.bin"))
    assert m.tokenizer is None
    with pytest.warns(UserWarning, match="skipping the retrieval probe"):
        t = m.analyze(probe="all", n=2, T=16, samples=2, loss_batch=1, census_block=20)
    assert "sink.alpha1" in t.metrics and not any(x.startswith("retrieval.") for x in t.metrics)
