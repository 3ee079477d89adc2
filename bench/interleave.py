"""Runs two benchmark commands interleaved, A B A B ..., so that drift on a shared machine hits
both alike, and prints every pair, the median ratio A/B and its range per metric.

Each command prints lines `<who> <metric> <value>` (bench_train, torch_train.py, ...); a metric
present in both outputs is compared. With --lower-is-better (times, memory) the ratio is B/A, so
above 1 always means A is ahead.
    python3 bench/interleave.py --pairs 5 --a "cmd A" --b "cmd B" [--metrics m1,m2] [--lower-is-better]
"""
import argparse
import shlex
import statistics
import subprocess
import sys


def run(cmd):
    out = subprocess.run(cmd, shell=True, check=True, capture_output=True, text=True).stdout
    values = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            try:
                values[parts[1]] = float(parts[2])
            except ValueError:
                pass
    return values


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--names", default="attnlab,torch")
    ap.add_argument("--metrics", default="")
    ap.add_argument("--lower-is-better", action="store_true")
    args = ap.parse_args()
    name_a, name_b = args.names.split(",")
    ratios = {}
    for i in range(args.pairs):
        a, b = run(args.a), run(args.b)
        metrics = args.metrics.split(",") if args.metrics else sorted(set(a) & set(b))
        for m in metrics:
            if m not in a or m not in b:
                sys.exit(f"metric {m} missing: {shlex.quote(args.a)} gave {sorted(a)}, the other {sorted(b)}")
            r = b[m] / a[m] if args.lower_is_better else a[m] / b[m]
            ratios.setdefault(m, []).append(r)
            print(f"pair {i + 1} {m}: {name_a} {a[m]:.1f}  {name_b} {b[m]:.1f}  ratio {r:.2f}", flush=True)
    for m, rs in ratios.items():
        print(f"{m}: {name_a}/{name_b} median {statistics.median(rs):.2f}x, range {min(rs):.2f}-{max(rs):.2f}x "
              f"over {len(rs)} interleaved pairs")


if __name__ == "__main__":
    main()
