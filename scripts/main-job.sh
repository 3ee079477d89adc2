#!/usr/bin/env bash
# The README's main job: installs dependencies, builds, and shows two attention phenomena forming
# in models it trains, each judged by checks computed from the results (experiments/main-job/):
#   sink       softmax vs softpick on Bigram-Backcopy: a first-token sink forms in one, not the other
#   induction  a 2-layer attention-only model: an induction head forms in a phase change
# then analyses the trained models (sink and induction probes, with chance levels) and writes
# runs/demo/REPORT.md with figures (PDF, SVG, PNG + CSV). About 5 minutes on 2 cores; re-running
# resumes or skips finished training.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh

ATTNLAB=build/experiments/attnlab
OUT=${OUT:-runs/demo}
FIG=$OUT/figures
mkdir -p "$FIG"

echo "== training and checks (experiments/main-job/) =="
"$ATTNLAB" reproduce --all --recipes experiments/main-job --scale full --jobs "$(nproc)" --out "$OUT"
SINK_STORE=$OUT/runs/main-sink/main-sink.sqlite
IND_STORE=$OUT/runs/main-induction/main-induction.sqlite

# run_of STORE FILTER...: the seed-0 run of a group; best_head STORE RUN METRIC: "layer head value"
# of the run's head with the largest final value of a per-head metric.
run_of() {
  local store=$1
  shift
  "$ATTNLAB" results "$store" --filter seed=0 "${@/#/--filter=}" | awk 'NR == 2 { print $1 }'
}
best_head() {
  "$ATTNLAB" results "$1" --metric "$3" --final --csv "$OUT/.best_head.csv" >/dev/null
  awk -F, -v run="$2" -v m="$3" '
    NR == 1 { for (i = 1; i <= NF; ++i) col[$i] = i; next }
    $1 == run && $col["metric"] == m && (!seen || $col["value"] + 0 > best) {
      best = $col["value"] + 0; l = $col["layer"]; h = $col["head"]; seen = 1 }
    END { printf "%s %s %.2f\n", l, h, best }' "$OUT/.best_head.csv"
}

echo "== attention maps =="
SOFTMAX_RUN=$(run_of "$SINK_STORE" model.attention=softmax)
SOFTPICK_RUN=$(run_of "$SINK_STORE" model.attention=softpick)
IND_RUN=$(run_of "$IND_STORE")
read -r SL SH SV < <(best_head "$SINK_STORE" "$SOFTMAX_RUN" sink_alpha1)
read -r PL PH PV < <(best_head "$SINK_STORE" "$SOFTPICK_RUN" sink_alpha1)
read -r IL IH IV < <(best_head "$IND_STORE" "$IND_RUN" prefix_match)
plot_map() {  # STORE RUN LAYER HEAD NAME TITLE
  "$ATTNLAB" plot "$1" --kind attention --run "$2" --layer "$3" --head "$4" --title "$6" \
    -o "$FIG/$5.pdf" --formats svg png >/dev/null
}
plot_map "$SINK_STORE" "$SOFTMAX_RUN" "$SL" "$SH" map_softmax "softmax L${SL}H${SH} (largest alpha_1, $SV)"
plot_map "$SINK_STORE" "$SOFTPICK_RUN" "$PL" "$PH" map_softpick "softpick L${PL}H${PH} (largest alpha_1, $PV)"
plot_map "$IND_STORE" "$IND_RUN" "$IL" "$IH" map_induction "induction L${IL}H${IH} (prefix matching $IV)"

echo "== analysis of the trained models =="
SOFTMAX_MODEL=$OUT/runs/main-sink/runs/$SOFTMAX_RUN/model.safetensors
IND_MODEL=$OUT/runs/main-induction/runs/$IND_RUN/model.safetensors
"$ATTNLAB" analyze "$SOFTMAX_MODEL" --probe sink --source random --columns alpha1,sink_mass,norm_entropy \
  --json "$OUT/sink.json" --csv "$OUT/sink.csv" > "$OUT/sink.txt"
"$ATTNLAB" analyze "$IND_MODEL" --probe induction --columns prev_token,prefix_matching,tl_induction \
  --json "$OUT/induction.json" --csv "$OUT/induction.csv" > "$OUT/induction.txt"

{
  echo "# attnlab main job report"
  echo
  echo "Two findings of the attention literature, reproduced in models trained here; every verdict"
  echo "below is computed from the results store by \`attnlab reproduce\` (experiments/main-job/)."
  echo
  echo '```'
  sed -n '/^```$/,/^```$/{/^```$/d;p}' "$OUT/REPORT.md" | head -n 20
  echo '```'
  echo
  echo "## Attention maps (seed 0, final step, tokens of a held-out sequence)"
  echo
  echo "![softmax](figures/map_softmax.png) ![softpick](figures/map_softpick.png) ![induction](figures/map_induction.png)"
  echo
  echo "## The trained softmax model, sink probe (random tokens after BOS; chance rows beside)"
  echo
  sed 's/^/    /' "$OUT/sink.txt"
  echo
  echo "## The trained induction model, induction probe"
  echo
  sed 's/^/    /' "$OUT/induction.txt"
  echo
  echo "## Checks, numbers and figures"
  echo
  sed '1,/^```$/d' "$OUT/REPORT.md" | sed '1,/^```$/d'
} > "$OUT/MAIN.md"
mv "$OUT/MAIN.md" "$OUT/REPORT.md.new"
mv "$OUT/REPORT.md.new" "$OUT/REPORT.md"
echo "report: $OUT/REPORT.md, figures in $FIG and $OUT/*/figures"
