"""ad.jit on matrix-heavy code (issue 12): stacked matrix products and their gradients, and
ad.jit(ad.vmap(f)) of a matrix-vector product, against hand-written NumPy (BLAS) versions and
eager adjit; the square Jacobian rows are in bench_jit.py.

    python benchmarks/bench_matrix.py

Medians of interleaved batches of calls (bench_jit.median_times), ratios in the same run; on
this shared machine look at the load average printed first. One BLAS thread unless set.
"""
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

import adjit as ad  # noqa: E402
from bench_jit import median_times  # noqa: E402

rng = np.random.default_rng(0)
A, Bm = rng.normal(size=(64, 32, 32)) / 6, rng.normal(size=(64, 32, 32)) / 6
B2 = rng.normal(size=(32, 32)) / 6
W, X = rng.normal(size=(64, 64)) / 8, rng.normal(size=(512, 64))


# sqrt rather than tanh around the products: numba's scalar tanh (libm) costs ~10x NumPy's
# vectorized one per element, which would measure that instead of the matrix code
def loss(a, b):
    return ad.sum(ad.sqrt(1.0 + (a @ b) ** 2))


def hand_grad(a, b):
    """d/da, d/db of sum(sqrt(1 + (a @ b)^2)) by hand, NumPy's BLAS matmul."""
    c = a @ b
    g = c / np.sqrt(1.0 + c * c)
    ga = g @ np.swapaxes(b, -1, -2)
    gb = np.swapaxes(a, -1, -2) @ g
    if b.ndim == 2:   # b broadcast over a's batch: its gradient sums over it
        gb = gb.sum(axis=0)
    return ga, gb


def hand_vmap(X):
    return np.sqrt(1.0 + (X @ W.T) ** 2)


def main():
    print(f"load average {os.getloadavg()}")
    grad = ad.grad(loss, argnums=(0, 1))
    jgrad = ad.jit(grad)
    jbmm = ad.jit(lambda a, b: a @ b)
    vm = ad.vmap(lambda x: ad.sqrt(1.0 + (W @ x) ** 2))
    jvm = ad.jit(vm, threads=1)
    rows = []
    for name, b in (("(64,32,32) @ (64,32,32)", Bm), ("(64,32,32) @ (32,32)", B2)):
        t0 = time.perf_counter()
        jgrad(A, b)
        tc = time.perf_counter() - t0
        for got, want in zip(jgrad(A, b), hand_grad(A, b)):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(jbmm(A, b), A @ b, rtol=1e-12, atol=1e-14)
        tj, th, te, tp, tnp = median_times([(jgrad, (A, b)), (hand_grad, (A, b)), (grad, (A, b)),
                                            (jbmm, (A, b)), (np.matmul, (A, b))])
        rows += [(f"grad sum(sqrt(1 + (a @ b)^2)) {name}  ad.jit", tj, th, "hand NumPy"),
                 (f"grad sum(sqrt(1 + (a @ b)^2)) {name}  eager adjit", te, th, "hand NumPy"),
                 (f"grad sum(sqrt(1 + (a @ b)^2)) {name}  hand NumPy", th, None, ""),
                 (f"a @ b {name}  ad.jit", tp, tnp, "np.matmul"),
                 (f"   (first call: trace + compile or cache load {tc:.2f} s)", None, None, "")]
    np.testing.assert_allclose(jvm(X), hand_vmap(X), rtol=1e-12)
    tj, th, te = median_times([(jvm, (X,)), (hand_vmap, (X,)), (vm, (X,))])
    rows += [("vmap(sqrt(1 + (W @ x)^2)) W (64,64), batch 512  ad.jit", tj, th, "hand NumPy"),
             ("vmap(sqrt(1 + (W @ x)^2)) W (64,64), batch 512  eager adjit", te, th, "hand NumPy"),
             ("vmap(sqrt(1 + (W @ x)^2)) W (64,64), batch 512  hand NumPy", th, None, "")]
    w = max(len(r[0]) for r in rows)
    for name, t, ref, rn in rows:
        if t is None:
            print(name)
            continue
        ratio = f"{t / ref:6.2f}x {rn}" if ref else ""
        print(f"{name:{w}}  {t * 1e6:10.1f} us  {ratio}")


if __name__ == "__main__":
    main()
