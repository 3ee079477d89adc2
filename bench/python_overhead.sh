#!/usr/bin/env bash
# What calling attnlab from Python costs, in two workloads, each run interleaved A B A B ... so drift
# on a shared machine hits both alike:
#   analyze: `attnlab analyze` (A) against Model.analyze (B), each a fresh process that loads
#            stories260K and runs the sink probe;
#   train:   `attnlab train --config spec.toml` (A) against attnlab.train(same dict, on_step=callback)
#            (B), 200 steps of the tiny preset on bigram_backcopy, the callback touching every step.
# Prints each pair and the median B/A ratio with its range. PAIRS (default 5), THREADS (default 1),
# MODEL and WORKLOADS ("analyze train") override. About 6 minutes on the shared 2-core machine
# (docs/python.md has the numbers).
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${PAIRS:-5}
THREADS=${THREADS:-1}
MODEL=${MODEL:-../shared/models/stories260K/stories260K.gguf}
[[ -x build/experiments/attnlab && -d build/python/attnlab ]] || bash scripts/build.sh
export OMP_NUM_THREADS=$THREADS PYTHONPATH=$PWD/build/python
WORKLOADS=${WORKLOADS:-analyze train}
/usr/bin/python3 bench/sgemm_rate.py "$THREADS"  # how loaded the machine is while the pairs run
/usr/bin/python3 - "$PAIRS" "$MODEL" "$WORKLOADS" <<'PY'
import os, shutil, statistics, subprocess, sys, tempfile, time

pairs, model, workloads = int(sys.argv[1]), sys.argv[2], sys.argv[3].split()
tmp = tempfile.mkdtemp(prefix="attnlab-pybench-")
spec = os.path.join(tmp, "spec.toml")
with open(spec, "w") as f:
    f.write('name = "bench"\nseeds = [0]\n[model]\npreset = "tiny"\n[task]\nname = "bigram_backcopy"\n'
            '[train]\nsteps = 200\nbatch_size = 16\nseq_len = 64\nlr = 1e-2\n')
train_dict = ('{"name": "bench", "seeds": [0], "model": {"preset": "tiny"}, "task": {"name": "bigram_backcopy"}, '
              '"train": {"steps": 200, "batch_size": 16, "seq_len": 64, "lr": 1e-2}}')
commands = {
    "analyze": (["build/experiments/attnlab", "analyze", model, "--context", "512", "--probe", "sink", "--n", "100",
                 "--T", "64", "--json", "/dev/null"],
                ["/usr/bin/python3", "-c",
                 f"import attnlab; attnlab.load({model!r}, context=512).analyze(probe='sink', n=100, T=64).to_json()"],
                "each a fresh process: load + sink probe n=100 T=64"),
    "train": (["build/experiments/attnlab", "train", "--config", spec, "--out", os.path.join(tmp, "cli")],
              ["/usr/bin/python3", "-c",
               "import attnlab; losses = []; "
               f"attnlab.train({train_dict}, on_step=lambda s: losses.append(s['loss']), out={os.path.join(tmp, 'py')!r})"],
              "each a fresh process: 200 training steps of the tiny preset, a Python callback per step"),
}

def wall(cmd):
    for out in ("cli", "py"):  # a fresh run each time, not a resume of the last one
        shutil.rmtree(os.path.join(tmp, out), ignore_errors=True)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t

for name in workloads:
    cli, py, what = commands[name]
    wall(cli), wall(py)  # warm the page cache for both
    ratios = []
    for i in range(pairs):
        a, b = wall(cli), wall(py)
        ratios.append(b / a)
        print(f"{name} pair {i + 1}: cli {a:.3f} s  python {b:.3f} s  ratio {b / a:.3f}")
    print(f"{name}: python/cli wall time: median {statistics.median(ratios):.3f}x, "
          f"range {min(ratios):.3f}-{max(ratios):.3f}x over {pairs} interleaved pairs ({what})")
PY
