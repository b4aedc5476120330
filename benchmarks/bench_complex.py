"""Complex values under ad.jit (issue 13): compile time and run time of a complex example
against eager, one run.

    python benchmarks/bench_complex.py

The example: JAX's gradient of a real loss of complex z (n = 10,000): elementwise complex
functions, a complex matrix product and an FFT (NumPy's, called from the kernel in object
mode), and the same without the FFT. Compile time: the first call in a fresh cache directory
(trace, code generation, numba); run time: medians of interleaved batches of the compiled and
the eager gradient in the same run (a load change on the shared machine hits both alike);
the load average is printed.
"""
import os
import statistics
import sys
import tempfile
import time
import timeit

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ["ADJIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="adjit-bench-complex-")

import numpy as np  # noqa: E402

import adjit as ad  # noqa: E402

N = 10_000
M = (np.random.default_rng(1).normal(size=(8, 8)) + 1j * np.eye(8)) / 3.0


def loss(z):
    y = ad.exp(0.1 * z) * ad.sin(z) / (z * z + 2.0) + ad.sqrt(z + 3.0) * ad.conj(z)
    y = ad.reshape(ad.reshape(y, (-1, 8)) @ M, (-1,))
    return ad.sum(ad.abs(y) ** 2) + ad.real(ad.sum(ad.log(y + 5.0) * (0.5 - 1j)))


def loss_fft(z):
    return loss(z) + ad.sum(ad.abs(ad.fft.fft(ad.tanh(z))) ** 2) * 1e-4


def main():
    rng = np.random.default_rng(0)
    z = rng.normal(size=N) + 1j * rng.normal(size=N)
    print(f"adjit complex under ad.jit, n = {N}, load {os.getloadavg()[0]:.1f}")
    for name, f in (("grad (elementwise + matmul)", loss), ("grad (+ fft)", loss_fft)):
        eager = ad.grad(f)
        jitted = ad.jit(eager)
        t0 = time.perf_counter()
        got = jitted(z)
        compile_s = time.perf_counter() - t0
        want = eager(z)
        err = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
        je, ee = [], []
        for _ in range(7):
            je.append(min(timeit.repeat(lambda: jitted(z), number=5, repeat=1)) / 5)
            ee.append(min(timeit.repeat(lambda: eager(z), number=5, repeat=1)) / 5)
        j, e = statistics.median(je), statistics.median(ee)
        print(f"{name}: first call (trace + compile) {compile_s:.2f} s; per call: jit "
              f"{j * 1e3:.2f} ms, eager {e * 1e3:.2f} ms ({e / j:.1f}x); max rel. diff "
              f"{err:.1e}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
