#!/usr/bin/env bash
# The recall engine's cost (issue 16): `attnlab analyze --probe sparsity` with 6 patterns x 4
# budgets (B) against the plain analysis pass, `--probe sink` (A), on the same random sequence of
# T tokens through a 12-layer, 12-head, d 768 model (the one bench_analyze.sh makes), fresh
# processes interleaved A B A B ..., wall time and peak memory. Prints every pair and the median
# ratio B/A with its range: how many times the plain pass's time and memory the recall run takes
# (the target: the engine adds at most 2x the plain pass, so B/A <= 3, and no T x T memory).
#   LENGTHS (default "4096"), PAIRS (5), THREADS (nproc), MODEL_DIR (/tmp/attnlab_bench_gpt2_12l)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x build/experiments/attnlab ]] || bash scripts/build.sh
LENGTHS=${LENGTHS:-4096}
PAIRS=${PAIRS:-5}
THREADS=${THREADS:-$(nproc)}
MODEL_DIR=${MODEL_DIR:-/tmp/attnlab_bench_gpt2_12l}
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS
source bench/gpt2_bench_model.sh  # MODEL
PATTERNS='topk(k=64);block_topk(k=4,block=64,score=mean);vertical_slash(v=32,s=32);window(size=60,sinks=4);quest(k=64,page=16);channel_topk(k=64,group=4)'
BUDGETS='64,256,10%,25%'
echo "threads $THREADS, $PAIRS pairs per length, model $MODEL"
/usr/bin/python3 bench/sgemm_rate.py "$THREADS"
for T in $LENGTHS; do
  COMMON="$MODEL --source random --bos none --n 1 --T $T --seed 1 --json /dev/null"
  echo "T = $T: A = analyze --probe sink, B = analyze --probe sparsity (6 patterns x 4 budgets)"
  /usr/bin/python3 bench/interleave.py --pairs "$PAIRS" --lower-is-better --names plain,recall \
    --a "/usr/bin/python3 bench/timed.py plain build/experiments/attnlab analyze $COMMON --probe sink" \
    --b "/usr/bin/python3 bench/timed.py recall build/experiments/attnlab analyze $COMMON --probe sparsity --patterns '$PATTERNS' --budgets '$BUDGETS'"
done
