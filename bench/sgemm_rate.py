"""The machine's SGEMM rate as PyTorch sees it: the best GFLOP/s of a 1024^3 float32 torch.mm on
the given threads (PyTorch on Debian calls OpenBLAS). bench/*.sh print it beside their results so
a reader sees the distance to the limit; bench_gemm prints attnlab's own rate next to it.
    python3 bench/sgemm_rate.py THREADS"""
import ctypes
import sys
import time

import torch

torch.set_num_threads(int(sys.argv[1]))
n = 1024
a, b = torch.randn(n, n), torch.randn(n, n)
torch.mm(a, b)
best = 0.0
for _ in range(5):
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 0.2:
        torch.mm(a, b)
        reps += 1
    best = max(best, 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9)
try:  # which OpenBLAS kernels PyTorch runs (Debian's libblas.so.3 is OpenBLAS)
    core = ctypes.CDLL("libblas.so.3").openblas_get_corename
    core.restype = ctypes.c_char_p
    kernels = f" (OpenBLAS {core().decode()} kernels, {torch.get_num_threads()} threads)"
except (OSError, AttributeError):
    kernels = ""
print(f"torch sgemm_1024_gflops {best:.1f}{kernels}")
