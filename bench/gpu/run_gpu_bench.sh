#!/usr/bin/env bash
# Runs the GPU benchmarks of the CUDA backend against PyTorch in the same run and prints ratios.
#   bench/gpu/run_gpu_bench.sh [build-dir]      (default: build)
# Needs: a CUDA GPU, bench_gpu_gpt2 built in the build dir (ninja bench_gpu_gpt2), and a
# python3 with PyTorch >= 2.0 built for CUDA (set PYTHON=... to choose it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-build}"
py="${PYTHON:-python3}"
bin="$(find "$build" -name bench_gpu_gpt2 -type f -perm -u+x | head -1)"
[ -n "$bin" ] || { echo "bench_gpu_gpt2 not found under $build (ninja -C $build bench_gpu_gpt2)"; exit 1; }
out="$(mktemp -d)"
steps="${STEPS:-20}"

echo "== training throughput, GPT-2 small, B=8 T=1024 =="
"$bin" train --batch 8 --seq 1024 --steps "$steps" --tf32 1 | tee "$out/ours_train.txt"
"$bin" model --batch 8 --seq 1024 --steps "$steps" | tee "$out/ours_model.txt"
"$py" "$here/torch_gpt2.py" train --batch 8 --seq 1024 --steps "$steps" --tf32 1 | tee "$out/torch_train.txt"
echo "== all-heads streaming statistics, T=16384 =="
"$bin" stats --seq 16384 | tee "$out/ours_stats.txt"
"$py" "$here/torch_gpt2.py" stats --seq 16384 | tee "$out/torch_stats.txt" || true

"$py" - "$out" <<'PY'
import json, pathlib, sys
d = pathlib.Path(sys.argv[1])
rows = [json.loads(l) for f in sorted(d.glob("*.txt")) for l in f.read_text().splitlines() if l.startswith("{")]
get = lambda b, impl: next((r for r in rows if r["bench"] == b and r["impl"] == impl), None)
torch_ = get("gpt2_train", "torch")
for impl, what in (("attnlab", "kernels, fused qkv"), ("attnlab_model", "DeviceTransformer")):
    ours = get("gpt2_train", impl)
    if ours and torch_:
        print(f"training throughput ratio {impl} ({what}) / torch-SDPA = "
              f"{ours['tokens_per_s'] / torch_['tokens_per_s']:.3f}x "
              f"({ours['tokens_per_s']:.0f} vs {torch_['tokens_per_s']:.0f} tokens/s; goal >= 1.0x)")
s = get("stats", "attnlab")
for impl in ("torch_eager_output_attentions", "torch_eager_per_layer"):
    t = get("stats", impl)
    if s and t:
        if t.get("oom"):
            print(f"statistics T=16384: {impl} ran OUT OF MEMORY (peak {t['mem_gib']:.1f} GiB); attnlab "
                  f"{s['seconds']:.3f} s, {s['mem_gib']:.2f} GiB")
        else:
            print(f"statistics T=16384: speed ratio {impl}/attnlab = {t['seconds'] / s['seconds']:.2f}x "
                  f"({t['seconds']:.3f} s vs {s['seconds']:.3f} s), memory {t['mem_gib']:.2f} vs {s['mem_gib']:.2f} GiB")
PY
