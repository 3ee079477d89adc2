#!/usr/bin/env bash
# Training and forward throughput of attnlab vs PyTorch CPU on the same GPT-2-style model
# (6 layers, d=256, 8 heads, context 256, batch 16), both on the same number of threads and the
# same OpenBLAS settings (PyTorch on Debian calls libopenblas0-pthread; OPENBLAS_CORETYPE, where
# the environment sets one, holds for both). The two run interleaved, A B A B ... (PAIRS pairs of
# fresh processes, STEPS timed steps each after a warm-up), and the median ratio and its range are
# printed beside the machine's measured SGEMM rate. About 4 minutes on 2 cores with the defaults.
#   THREADS (default nproc), PAIRS (5), STEPS (5), BATCH (16), SEQ (256)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[[ -x build/bench/bench_train && -x build/bench/bench_gemm && -x build/experiments/attnlab ]] || bash scripts/build.sh
THREADS=${THREADS:-$(nproc)}
PAIRS=${PAIRS:-5}
STEPS=${STEPS:-5}
BATCH=${BATCH:-16}
SEQ=${SEQ:-256}
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
CFG=$(build/experiments/attnlab info --preset gpt2-bench --json)
echo "threads $THREADS, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(auto)}, $PAIRS pairs of $STEPS steps, batch $BATCH, seq $SEQ"
/usr/bin/python3 bench/sgemm_rate.py "$THREADS"
build/bench/bench_gemm 3 "$BATCH" "$SEQ"
/usr/bin/python3 bench/interleave.py --pairs "$PAIRS" \
  --a "build/bench/bench_train $STEPS $BATCH $SEQ" \
  --b "/usr/bin/python3 bench/torch_train.py $STEPS $BATCH $SEQ '$CFG'" \
  --metrics train_tokens_per_s,forward_tokens_per_s
# Again after the pairs: how far the machine drifted while they ran.
/usr/bin/python3 bench/sgemm_rate.py "$THREADS"
