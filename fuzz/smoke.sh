#!/usr/bin/env bash
# Runs every fuzz target for a few seconds from its committed seeds and regressions, with a fixed
# libFuzzer seed, and fails on the first finding: fuzz/smoke.sh [SECONDS_PER_TARGET]
# Builds the targets in build-fuzz/ (clang, ATTNLAB_FUZZ=ON) when needed. ctest runs it as the
# fuzz_smoke test (tests/CMakeLists.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-3}
build=${ATTNLAB_FUZZ_BUILD:-build-fuzz}
targets=(gguf safetensors llama2c llama2c_tokenizer hf_tokenizer hf_config checkpoint
         study_spec attention_spec task_spec)

bash scripts/install-deps.sh clang-14 libfuzzer-14-dev libomp-14-dev  # the fuzzing toolchain
if [[ ! -f $build/build.ninja ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DATTNLAB_FUZZ=ON
fi
ninja -C "$build" "${targets[@]/#/fuzz_}"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=()
for t in "${targets[@]}"; do
  # New inputs go to a scratch folder: a smoke run leaves the checkout as it was.
  mkdir -p "$scratch/$t"
  dirs=(fuzz/seeds/"$t")
  [[ -d fuzz/regressions/$t ]] && dirs+=(fuzz/regressions/"$t")
  echo "== $t"
  if ! OMP_NUM_THREADS=1 "$build/fuzz/fuzz_$t" "$scratch/$t" "${dirs[@]}" -seed=1 \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$scratch/$t-" \
      >"$scratch/$t.log" 2>&1; then
    tail -n 40 "$scratch/$t.log"
    mkdir -p fuzz/findings/"$t"
    cp "$scratch/$t"-* fuzz/findings/"$t"/ 2>/dev/null || true
    failed+=("$t")
  else
    grep -E "^Done|stat::number_of_executed_units" "$scratch/$t.log" | tail -n 1
  fi
done
if ((${#failed[@]})); then
  echo "fuzz smoke: findings in ${failed[*]} (inputs copied to fuzz/findings/)" >&2
  exit 1
fi
echo "fuzz smoke: ${#targets[@]} targets, no findings"
