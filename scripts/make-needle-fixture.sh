#!/usr/bin/env bash
# Trains the needle model that tests/experiments/test_probes.cpp checks Wu et al.'s retrieval-head
# finding on (tests/data/needle_2l8h.safetensors): 2 layers x 8 heads, d 128, on
# needle(vocab=64, key_len=2, value_len=4) at T = 32, 3000 steps, seed 3 (seeds 0-3 were tried:
# seed 0 made all 8 second-layer heads retrieval heads, seed 3 four of them, seeds 1 and 2 none).
# About 3 minutes on 2 cores. GEMM blocking may differ between machines, so a retrained model
# can differ from the committed one; the test states what any good fixture must show.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$here/build/needle-fixture}"
mkdir -p "$out"
cat > "$out/study.toml" <<'TOML'
name = "needle-fixture"
description = "the retrieval-head test fixture"
seeds = [3]

[model]
preset = "tiny"
n_layers = 2
n_heads = 8
d_model = 128
context = 32

[task]
name = "needle"
[task.params]
vocab = 64
key_len = 2
value_len = 4
distractors = 0

[train]
steps = 3000
batch_size = 32
seq_len = 32
lr = 3e-3
warmup = 100
eval_every = 500
eval_batches = 2
checkpoint_every = 1000

[probes]
every = 1000
names = ["retrieval"]
attention_maps = false
[probes.params]
retrieval_trials = 32
ablate_draws = 5
TOML
"$here/build/experiments/attnlab" sweep run "$out/study.toml" --out "$out/runs"
model="$(ls "$out"/runs/runs/*/model.safetensors | head -1)"
cp "$model" "$here/tests/data/needle_2l8h.safetensors"
echo "wrote tests/data/needle_2l8h.safetensors from $model"
