"""Runs a command and prints its wall time and peak resident memory in the `<who> <metric> <value>`
lines bench/interleave.py reads (a fresh process each time, so the peak is that command's).
    python3 bench/timed.py WHO CMD [ARGS...]"""
import resource
import subprocess
import sys
import time

who, cmd = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
wall = time.perf_counter() - t0
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"{who} wall_s {wall:.2f}")
print(f"{who} peak_mb {peak_kb / 1024:.0f}")
