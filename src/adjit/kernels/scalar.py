"""Scalar helpers the generated kernels call (numba-compiled, lazily, cached on disk).

Each has a NumPy twin in `elementwise.NP_NS` (the formulas' NumPy namespace), so one formula string means the same
in a numba kernel, on NumPy arrays and on Tensors. Only what `math` lacks lives here:
`kernels.header()` imports every name the formulas use from here or from `math`.
"""
import math

import numpy as np

from . import blasload

blasload.preload()   # before numba starts (blasload.py)
from numba import njit  # noqa: E402

_jit = njit(cache=True, inline="always")

LN2 = math.log(2.0)
LN10 = math.log(10.0)

# formula names served by a helper of another name (`abs` would shadow the builtin here)
FORMULA_NAMES = {"abs": "absolute"}


@_jit
def sign(x):
    return 1.0 if x > 0 else (-1.0 if x < 0 else (0.0 if x == 0 else x))


@_jit
def step(x):
    return 1.0 if x > 0 else 0.0


@_jit
def where(c, a, b):
    return a if c else b


@_jit
def sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@_jit
def softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


@_jit
def relu(x):
    return x if x > 0 else 0.0 * x


@_jit
def logpos(x):
    # log for the exponent's derivative of a**b: 0 where a <= 0 (b's gradient is taken as 0 there)
    return math.log(x) if x > 0 else 0.0


@_jit
def exp2(x):
    return math.exp(x * LN2)


@_jit
def log2(x):
    return math.log(x) / LN2


@_jit
def log10(x):
    return math.log(x) / LN10


@_jit
def absolute(x):
    return abs(x)


@_jit
def erf_d(x):
    return 1.1283791670955126 * math.exp(-x * x)


@_jit
def smul(a, b):
    # a * b, with a zero a giving 0 even where b is inf or NaN ("strong zero")
    return 0.0 if a == 0 else a * b


# numba's math.floor/ceil/trunc return ints (wrong for NaN and inf); its np.* scalars stay float
@_jit
def floor(x):
    return np.floor(x)


@_jit
def ceil(x):
    return np.ceil(x)


@_jit
def trunc(x):
    return np.trunc(x)


@_jit
def rint(x):
    return np.rint(x)


@_jit
def cbrt(x):
    return np.cbrt(x)


@_jit
def sinc(x):
    return np.sinc(x)


@_jit
def sinc_d(x):
    # d sinc / dx = (cos(pi x) - sinc(x)) / x; its Taylor series near 0, where that cancels
    if abs(x) < 1e-4:
        return -(math.pi ** 2) * x / 3.0 + (math.pi ** 4) * x ** 3 / 30.0
    return (math.cos(math.pi * x) - np.sinc(x)) / x


@_jit
def fmod(a, b):
    return np.fmod(a, b)


@_jit
def remainder(a, b):
    return np.remainder(a, b)


@_jit
def fmax(a, b):
    return np.fmax(a, b)


@_jit
def fmin(a, b):
    return np.fmin(a, b)


@_jit
def logaddexp(a, b):
    return np.logaddexp(a, b)


@_jit
def logaddexp2(a, b):
    return np.logaddexp2(a, b)


@_jit
def heaviside(a, b):
    if a != a:
        return a
    return 0.0 if a < 0 else (1.0 if a > 0 else b)


# the special functions (scipy.special's rows) live in their own module
from .special_scalar import (bessel_i0, bessel_i0e, bessel_i1, bessel_i1e,  # noqa: E402,F401
                             betaln, digamma, erfinv, log_ndtr, logit, ndtr, ndtri, polygamma,
                             xlog1py, xlogy)
