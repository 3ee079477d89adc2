#!/usr/bin/env bash
# What calling attnlab from Python costs: `attnlab analyze` (A) against the same probe through
# Model.analyze (B), each a fresh process that loads stories260K and runs the sink probe, run
# interleaved A B A B ... so drift on a shared machine hits both alike. Prints each pair and the
# median B/A ratio with its range. PAIRS (default 5), THREADS (default 1) and MODEL override. About 3
# minutes on the shared 2-core machine (docs/python.md has the numbers).
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${PAIRS:-5}
THREADS=${THREADS:-1}
MODEL=${MODEL:-../shared/models/stories260K/stories260K.gguf}
[[ -x build/experiments/attnlab && -d build/python/attnlab ]] || bash scripts/build.sh
export OMP_NUM_THREADS=$THREADS PYTHONPATH=$PWD/build/python
/usr/bin/python3 bench/sgemm_rate.py "$THREADS"  # how loaded the machine is while the pairs run
/usr/bin/python3 - "$PAIRS" "$MODEL" <<'PY'
import statistics, subprocess, sys, time

pairs, model = int(sys.argv[1]), sys.argv[2]
cli = ["build/experiments/attnlab", "analyze", model, "--context", "512", "--probe", "sink", "--n", "100", "--T", "64",
       "--json", "/dev/null"]
py = ["/usr/bin/python3", "-c",
      f"import attnlab; attnlab.load({model!r}, context=512).analyze(probe='sink', n=100, T=64).to_json()"]

def wall(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t

wall(cli), wall(py)  # warm the page cache for both
ratios = []
for i in range(pairs):
    a, b = wall(cli), wall(py)
    ratios.append(b / a)
    print(f"pair {i + 1}: cli {a:.3f} s  python {b:.3f} s  ratio {b / a:.3f}")
print(f"python/cli wall time: median {statistics.median(ratios):.3f}x, range {min(ratios):.3f}-{max(ratios):.3f}x "
      f"over {pairs} interleaved pairs (each a fresh process: load + sink probe n=100 T=64)")
PY
