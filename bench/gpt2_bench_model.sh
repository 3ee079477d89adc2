# Sourced by the analysis benchmarks: sets MODEL to a 12-layer, 12-head, d 768 GPT-2-shaped model
# (d_ff 3072, tinyshakespeare's vocabulary, random weights after one training step) whose context
# is the longest of $LENGTHS, made once under $MODEL_DIR with `attnlab train`.
MAX_T=0
for T in $LENGTHS; do ((T > MAX_T)) && MAX_T=$T; done
if [[ ! -f $MODEL_DIR/model.safetensors ]]; then
  build/experiments/attnlab train --preset gpt2-bench \
    --model "{\"d_model\":768,\"n_layers\":12,\"n_heads\":12,\"n_kv_heads\":12,\"d_ff\":3072,\"context\":$MAX_T}" \
    --steps 1 --batch 1 --len 16 --warmup 0 --eval-every 0 --out "$MODEL_DIR" > /dev/null
fi
MODEL=$MODEL_DIR/model.safetensors
