#!/usr/bin/env bash
# Analysis time and peak memory: `attnlab analyze MODEL --prompt TEXT` (A) against a PyTorch eager
# script computing attention, entropy, alpha_1, previous-token mass and coverage on the same
# checkpoint and prompt (bench/torch_analyze.py, B), interleaved A B A B ... per length, fresh
# processes, wall time including the model load. Prints each pair and the median ratios (B/A:
# above 1 means attnlab is faster / smaller) with their ranges, beside the machine's SGEMM rate.
# The model is a 12-layer, 12-head, d 768 GPT-2 shape (d_ff 3072, tinyshakespeare's 65-char
# vocabulary, context = the longest length) with random weights after one training step, made once with `attnlab train` under MODEL_DIR.
#   LENGTHS (default "1024 2048 4096"), PAIRS (5), THREADS (nproc), TORCH_MAX_T (4096: longer
#   lengths run attnlab alone), MODEL_DIR (/tmp/attnlab_bench_gpt2_12l)
# At T = 1024 one pair takes about a minute on the shared 2-core machine; 4096 about ten.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x build/experiments/attnlab ]] || bash scripts/build.sh
LENGTHS=${LENGTHS:-1024 2048 4096}
PAIRS=${PAIRS:-5}
THREADS=${THREADS:-$(nproc)}
TORCH_MAX_T=${TORCH_MAX_T:-4096}
MODEL_DIR=${MODEL_DIR:-/tmp/attnlab_bench_gpt2_12l}
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
source bench/gpt2_bench_model.sh  # MODEL
echo "threads $THREADS, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(auto)}, $PAIRS pairs per length, model $MODEL"
/usr/bin/python3 bench/sgemm_rate.py "$THREADS"
CORPUS=../shared/corpora/tinyshakespeare/input.txt
for T in $LENGTHS; do
  PROMPT=$MODEL_DIR/prompt_$T.txt
  head -c "$T" "$CORPUS" > "$PROMPT"
  A="/usr/bin/python3 bench/timed.py attnlab build/experiments/attnlab analyze $MODEL --prompt \"\$(cat $PROMPT)\""
  echo "T = $T"
  if ((T <= TORCH_MAX_T)); then
    /usr/bin/python3 bench/interleave.py --pairs "$PAIRS" --lower-is-better --a "$A" \
      --b "/usr/bin/python3 bench/timed.py torch /usr/bin/python3 bench/torch_analyze.py $MODEL $PROMPT"
  else
    for ((i = 1; i <= PAIRS; i++)); do eval "$A" | tr '\n' ' '; echo; done
  fi
done
/usr/bin/python3 bench/sgemm_rate.py "$THREADS"
