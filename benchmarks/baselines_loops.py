"""Hand-written `@njit` baselines for benchmarks/bench_loops.py: the energy of a chain of
springs and its gradient, the derivative written out by hand (what `ad.jit` of a Python loop is
measured against)."""
import numpy as np
from numba import njit

K, L = 2.0, 0.5


@njit(cache=True)
def spring_energy(x):
    """E(x) = sum_i K (x[i+1] - x[i] - L)^2."""
    e = 0.0
    for i in range(x.shape[0] - 1):
        d = x[i + 1] - x[i] - L
        e += K * d * d
    return e


@njit(cache=True)
def grad_spring_energy(x):
    n = x.shape[0]
    g = np.zeros(n)
    for i in range(n - 1):
        d = 2.0 * K * (x[i + 1] - x[i] - L)
        g[i] -= d
        g[i + 1] += d
    return g
