#!/usr/bin/env bash
# The README's main job: installs dependencies, builds, trains a small char-level model on Tiny
# Shakespeare (experiments/recipes/main-job/study.toml) with per-head probes logged during
# training, analyses the trained model (sink, induction and echo/induction census probes), and
# writes a report with figures (PDF, SVG, PNG + CSV) to runs/demo/.
# Re-running resumes an interrupted training run and redoes the analysis.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh

ATTNLAB=build/experiments/attnlab
OUT=${OUT:-runs/demo}
THREADS=${THREADS:-$(nproc)}
FIG=$OUT/figures
mkdir -p "$FIG"

echo "== training (experiments/recipes/main-job/study.toml) =="
"$ATTNLAB" sweep run experiments/recipes/main-job/study.toml --out "$OUT" --threads "$THREADS"
STORE=$OUT/main-job.sqlite
MODEL=$(find "$OUT" -name model.safetensors | head -n1)
[[ -n "$MODEL" ]] || { echo "main job: no trained model found under $OUT" >&2; exit 1; }

echo "== figures =="
"$ATTNLAB" plot "$STORE" --kind line --metric loss --title "training loss" -o "$FIG/loss.pdf" --formats svg png
"$ATTNLAB" plot "$STORE" --kind line --metric eval_loss --title "validation loss" -o "$FIG/eval_loss.pdf" --formats svg png
"$ATTNLAB" plot "$STORE" --kind line --metric sink_alpha1 --reduce max --title "largest first-token attention (alpha_1) over heads" -o "$FIG/sink_over_steps.pdf" --formats svg png
"$ATTNLAB" plot "$STORE" --kind heatmap --metric sink_alpha1 --title "alpha_1 per head (final)" -o "$FIG/sink_heads.pdf" --formats svg png
"$ATTNLAB" plot "$STORE" --kind attention --layer 0 --head 0 --title "layer 0 head 0" -o "$FIG/attention_L0H0.pdf" --formats svg png

echo "== analysis =="
"$ATTNLAB" analyze "$MODEL" --probe sink --json "$OUT/sink.json" --csv "$OUT/sink.csv" | tee "$OUT/sink.txt"
"$ATTNLAB" analyze "$MODEL" --probe induction --json "$OUT/induction.json" --csv "$OUT/induction.csv" | tee "$OUT/induction.txt"
"$ATTNLAB" generate "$MODEL" --prompt "ROMEO:" --max-new 200 --temperature 0.8 --seed 1 > "$OUT/sample.txt"

{
  echo "# attnlab main job report"
  echo
  echo "Model: $MODEL ($("$ATTNLAB" info "$MODEL" | grep parameters | tr -s ' '))"
  echo
  echo "## Training"
  echo
  "$ATTNLAB" results "$STORE" --final 2>/dev/null | sed 's/^/    /' || true
  echo
  echo "![loss]($(basename "$FIG")/loss.png) ![eval loss]($(basename "$FIG")/eval_loss.png)"
  echo
  echo "## Attention sinks (Gu et al. protocol, eps = 0.3)"
  echo
  echo "![sink over steps]($(basename "$FIG")/sink_over_steps.png) ![sink per head]($(basename "$FIG")/sink_heads.png)"
  echo
  sed 's/^/    /' "$OUT/sink.txt"
  echo
  echo "## Induction (Anthropic prefix matching, 25 tokens x 4 repeats + BOS)"
  echo
  sed 's/^/    /' "$OUT/induction.txt"
  echo
  echo "## Attention map"
  echo
  echo "![layer 0 head 0]($(basename "$FIG")/attention_L0H0.png)"
  echo
  echo "## Sample (temperature 0.8)"
  echo
  sed 's/^/    /' "$OUT/sample.txt"
} > "$OUT/REPORT.md"
echo "report: $OUT/REPORT.md, figures in $FIG"
