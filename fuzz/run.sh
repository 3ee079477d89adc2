#!/usr/bin/env bash
# Fuzzes one target for a while: fuzz/run.sh TARGET SECONDS [libFuzzer flags...]
# TARGET is a name from fuzz/CMakeLists.txt (gguf, safetensors, ..., or fuzz_gguf). Builds it in
# build-fuzz/ (clang, ATTNLAB_FUZZ=ON) when needed. New interesting inputs go to
# fuzz/corpus/TARGET/ (not committed); crashes, timeouts and OOMs to fuzz/findings/TARGET/.
# Seeds: fuzz/seeds/TARGET/, fuzz/regressions/TARGET/, and the real files in ../shared that fit.
set -euo pipefail
cd "$(dirname "$0")/.."
if (($# < 2)); then
  echo "usage: fuzz/run.sh TARGET SECONDS [libFuzzer flags...]" >&2
  exit 2
fi
target=${1#fuzz_}
seconds=$2
shift 2
build=${ATTNLAB_FUZZ_BUILD:-build-fuzz}
shared=${ATTNLAB_SHARED_DIR:-../shared}

bash scripts/install-deps.sh clang-14 libfuzzer-14-dev libomp-14-dev  # the fuzzing toolchain
if [[ ! -f $build/build.ninja ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DATTNLAB_FUZZ=ON
fi
ninja -C "$build" "fuzz_$target"

# The large real files are referenced from ../shared rather than committed; libFuzzer reads
# seeds from folders, so they are linked into one.
declare -A shared_seeds=(
  [gguf]=models/stories260K/stories260K.gguf
  [llama2c]=models/stories260K/stories260K.bin
  [llama2c_tokenizer]=models/stories260K/tok512.bin
  [hf_tokenizer]=tokenizers/gpt-neox/tokenizer.json
)
corpus=fuzz/corpus/$target
findings=fuzz/findings/$target
mkdir -p "$corpus" "$findings"
seed_dirs=(fuzz/seeds/"$target")
[[ -d fuzz/regressions/$target ]] && seed_dirs+=(fuzz/regressions/"$target")
if [[ -n ${shared_seeds[$target]:-} && -f $shared/${shared_seeds[$target]} ]]; then
  mkdir -p "fuzz/corpus/$target-shared"
  ln -sf "$(realpath "$shared/${shared_seeds[$target]}")" "fuzz/corpus/$target-shared/"
  seed_dirs+=(fuzz/corpus/"$target"-shared)
fi

# -rss_limit_mb: a hostile size field that makes a loader allocate gigabytes is a finding.
# -timeout: no input of these sizes should take seconds.
OMP_NUM_THREADS=1 "$build/fuzz/fuzz_$target" "$corpus" "${seed_dirs[@]}" \
  -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$findings/" "$@"
