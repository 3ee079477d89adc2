#!/usr/bin/env bash
# Trains the induction model that tests/experiments/test_probes.cpp checks Olsson et al.'s
# ablation on (tests/data/induction_2l4h.safetensors): recipe R8's 2-layer configuration
# (attention-only, 4 heads, d 64, RoPE; induction(vocab=64, block=8, block_max=24, val_every=4,
# len=64, mask_repeats=true), periods 11, 15, 19, 23 held out), 800 steps, seed 0. About a
# minute on 2 cores. GEMM blocking may differ between machines, so a retrained model can differ
# from the committed one; the test states what any good fixture must show.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$here/build/induction-fixture}"
mkdir -p "$out"
sed -e 's/^seeds = .*/seeds = [0]/' -e 's/^"model.n_layers" = .*/"model.n_layers" = [2]/' \
  "$here/experiments/recipes/r8-induction-phase-change/study.toml" > "$out/study.toml"
"$here/build/experiments/attnlab" sweep run "$out/study.toml" --out "$out/runs"
model="$(ls "$out"/runs/runs/*/model.safetensors | head -1)"
cp "$model" "$here/tests/data/induction_2l4h.safetensors"
echo "wrote tests/data/induction_2l4h.safetensors from $model"
