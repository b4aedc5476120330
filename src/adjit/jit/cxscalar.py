"""Complex scalar functions for `ad.jit` kernels where numba's own complex functions differ
from NumPy's beyond rounding (or raise) (names `cx_*`, imported into the kernels' namespace by rt.py).

Measured against NumPy 2 on random points, branch cuts (signed zeros) and overflow: numba's
np.exp gives inf + nan j at exp(1e300 + 0j) (NumPy: inf + 0j); its np.tanh gives NaN for a
large real part and +0j where NumPy keeps the sign of a zero imaginary part (np.sinh and
np.cosh give inf + nan j where NumPy gives inf + 0j); its np.expm1
loses all precision at small |z| (it is exp(z) - 1); its `**` skips NumPy's exact integer
powers. These follow NumPy's own algorithms (npy_math_complex.c.src: nc_expm1, npy_cpow;
ctanh as FreeBSD's msun, which glibc's agrees with to rounding). The other complex functions
numba's np.* provide (log, sqrt, sin, ...) agree with NumPy to an ulp or two at finite values,
branch cuts included (tests/test_jit_complex.py).
"""
import math

import numpy as np
from numba import njit

_jit = njit(cache=True, inline="always", error_model="numpy")

_LN2 = math.log(2.0)


@_jit
def cx_exp(z):
    if z.imag == 0.0:   # exp of a real value: keep the signed zero, never inf * 0
        return complex(math.exp(z.real), z.imag)
    return np.exp(z)


@_jit
def cx_exp2(z):
    return cx_exp(complex(z.real * _LN2, z.imag * _LN2))   # NumPy's nc_exp2


@_jit
def cx_sinh(z):
    if z.imag == 0.0:   # as exp: never inf * 0 where the real part overflows
        return complex(math.sinh(z.real), z.imag)
    return np.sinh(z)


@_jit
def cx_cosh(z):
    if z.imag == 0.0:   # sinh(x) sin(+-0): a zero of sign sign(x) sign(y)
        return complex(math.cosh(z.real), z.imag * math.copysign(1.0, z.real))
    return np.cosh(z)


@_jit
def cx_expm1(z):
    x, y = z.real, z.imag
    a = math.sin(y / 2)
    return complex(math.expm1(x) * math.cos(y) - 2 * a * a, math.exp(x) * math.sin(y))


@_jit
def cx_tanh(z):
    x, y = z.real, z.imag
    if not math.isfinite(x):
        if math.isnan(x):
            return complex(x, y if y == 0 else x * y)
        return complex(math.copysign(1.0, x),
                       math.copysign(0.0, y if math.isinf(y) else math.sin(y) * math.cos(y)))
    if not math.isfinite(y):
        return complex(x, y - y) if x == 0.0 else complex(y - y, y - y)
    if abs(x) >= 22.0:   # tanh(x) is +-1 to double precision
        e = math.exp(-abs(x))
        return complex(math.copysign(1.0, x), 4.0 * math.sin(y) * math.cos(y) * e * e)
    t = math.tan(y)
    beta = 1.0 + t * t
    s = math.sinh(x)
    rho = math.sqrt(1.0 + s * s)
    d = 1.0 + beta * s * s
    return complex(beta * rho * s / d, t / d)


@_jit
def cx_div(a, b):
    # NumPy's complex division (Smith's, as its loops write it); numba's raises
    # ZeroDivisionError at b == 0 where NumPy gives inf / nan, and differs by an ulp elsewhere
    a, b = complex(a), complex(b)   # (numba's .imag of an int literal is the int itself)
    ar, ai, br, bi = a.real, a.imag, b.real, b.imag
    abr, abi = abs(br), abs(bi)
    if abr >= abi:
        if abr == 0.0 and abi == 0.0:
            return complex(ar / abr, ai / abr)
        rat = bi / br
        scl = 1.0 / (br + bi * rat)
        return complex((ar + ai * rat) * scl, (ai - ar * rat) * scl)
    rat = br / bi
    scl = 1.0 / (bi + br * rat)
    return complex((ar * rat + ai) * scl, (ai * rat - ar) * scl)


@_jit
def cx_recip(z):
    # NumPy's np.reciprocal of a complex value
    zr, zi = z.real, z.imag
    if abs(zi) <= abs(zr):
        r = zi / zr
        d = zr + zi * r
        return complex(1.0 / d, -r / d)
    r = zr / zi
    d = zr * r + zi
    return complex(r / d, -1.0 / d)


@_jit
def cx_pow(a, b):
    # NumPy's npy_cpow: exact products for integer exponents below 100, else glibc's cpow
    a, b = complex(a), complex(b)   # (numba's .imag of an int literal is the int itself)
    ar, ai, br, bi = a.real, a.imag, b.real, b.imag
    if br == 0.0 and bi == 0.0:
        return complex(1.0, 0.0)
    if ar == 0.0 and ai == 0.0:
        if br > 0.0:
            return complex(0.0, 0.0)
        return complex(math.nan, math.nan)
    p = complex(ar, ai)
    if bi == 0.0 and abs(br) < 100.0 and math.floor(br) == br:
        n = int(br)
        if n == 1:
            return p
        if n == 2:
            return p * p
        if n == 3:
            return p * (p * p)
        m = abs(n)
        acc = complex(1.0, 0.0)
        for _ in range(8):   # m < 128: at most 7 bits
            if m & 1:
                acc = acc * p
            m >>= 1
            if m == 0:
                break
            p = p * p
        return cx_div(1.0, acc) if n < 0 else acc
    # glibc's cpow: cexp(b * clog(a))
    return cx_exp(complex(br, bi) * np.log(p))
