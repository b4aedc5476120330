"""pytest configuration for the benchmarks (pytest-benchmark).

OpenBLAS is made single-threaded before NumPy is first imported: on a small shared machine
its worker threads wait for busy cores (a 1024x1024 matrix-vector product took 8 ms instead
of 0.1 ms), which would measure the scheduler rather than adjit. Set OPENBLAS_NUM_THREADS
yourself to override.
"""
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
if "numpy" in sys.modules and os.environ.get("OPENBLAS_NUM_THREADS") == "1":
    sys.stderr.write("benchmarks/conftest.py: NumPy was imported before OPENBLAS_NUM_THREADS "
                     "was set; BLAS may run multi-threaded\n")
