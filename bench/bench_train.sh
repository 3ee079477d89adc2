#!/usr/bin/env bash
# Training and forward throughput of attnlab vs PyTorch CPU on the same GPT-2-style model
# (6 layers, d=256, 8 heads, context 256, batch 16), both on the same number of threads.
# PyTorch is given OpenBLAS (libopenblas0-pthread) so the peer runs at its best.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[[ -x build/bench/bench_train ]] || bash scripts/build.sh
THREADS=${THREADS:-$(nproc)}
STEPS=${STEPS:-5}
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
CFG=$(build/experiments/attnlab info --preset gpt2-bench --json 2>/dev/null || true)
if [[ -z "$CFG" ]]; then
  CFG='{"family":"gpt2","vocab_size":256,"context":256,"d_model":256,"n_layers":6,"n_heads":8,"n_kv_heads":8,"d_ff":1024,"pos":"learned","rope_style":"interleaved","rope_theta":10000,"rotary_pct":1,"norm":"layernorm","norm_eps":1e-5,"mlp":"gelu_tanh","bias":true,"parallel_residual":false,"tied_embeddings":true,"attention":["softmax"]}'
fi
ours=$(build/bench/bench_train "$STEPS" 16 256)
peer=$(/usr/bin/python3 -c "import torch; torch.set_num_threads($THREADS); import runpy, sys; sys.argv=['torch_train.py','$STEPS','16','256','$CFG']; runpy.run_path('bench/torch_train.py', run_name='__main__')")
echo "$ours"
echo "$peer"
for kind in train forward; do
  a=$(echo "$ours" | awk -v k="${kind}_tokens_per_s" '$2==k {print $3}')
  b=$(echo "$peer" | awk -v k="${kind}_tokens_per_s" '$2==k {print $3}')
  echo "$kind: attnlab $a tok/s, PyTorch $b tok/s, ratio $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", a/b}')x (threads=$THREADS)"
done
