"""Hand-written analytic `@njit` baselines for benchmarks/bench_jit.py (what `ad.jit` is
measured against: no AD, the derivative formulas written out by hand)."""
import math

import numpy as np
from numba import njit


@njit(cache=True)
def f_xy(x, y):
    """f(x, y) = x log x + sin(x y)."""
    return x * math.log(x) + math.sin(x * y)


@njit(cache=True)
def grad_f_xy(x, y):
    c = math.cos(x * y)
    return math.log(x) + 1.0 + y * c, x * c


@njit(cache=True)
def rosenbrock(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        a = x[i + 1] - x[i] * x[i]
        b = 1.0 - x[i]
        s += 100.0 * a * a + b * b
    return s


@njit(cache=True)
def grad_rosenbrock(x):
    n = x.shape[0]
    g = np.zeros(n)
    for i in range(n - 1):
        a = x[i + 1] - x[i] * x[i]
        g[i] += -400.0 * a * x[i] - 2.0 * (1.0 - x[i])
        g[i + 1] += 200.0 * a
    return g


@njit(cache=True)
def hessian_rosenbrock(x):
    n = x.shape[0]
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0
        h[i, i + 1] += -400.0 * x[i]
        h[i + 1, i] += -400.0 * x[i]
        h[i + 1, i + 1] += 200.0
    return h


@njit(cache=True)
def jac_tanh_wx(W, x):
    """d tanh(W x) / dx = diag(1 - tanh(W x)^2) W."""
    m, n = W.shape
    J = np.empty((m, n))
    for i in range(m):
        s = 0.0
        for j in range(n):
            s += W[i, j] * x[j]
        d = 1.0 - math.tanh(s) ** 2
        for j in range(n):
            J[i, j] = d * W[i, j]
    return J


@njit(cache=True)
def grad_mlp(W1, b1, W2, x, y):
    """Gradient of mean((tanh(x @ W1 + b1) @ W2 - y) ** 2) in W1, b1, W2 (bench_compile.py)."""
    h = np.tanh(x @ W1 + b1)
    g = (h @ W2 - y) * (2.0 / y.size)
    gz = (g @ W2.T) * (1.0 - h * h)
    return x.T @ gz, gz.sum(axis=0), h.T @ g
