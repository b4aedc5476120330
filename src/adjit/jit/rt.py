"""Runtime namespace of the kernels `ad.jit` generates (`from adjit.jit.rt import *`).

The scalar functions are the ones the registry's elementwise formulas use, imported by the same
lines as the elementwise kernels' module (`kernels.header()`), so an op's primal formula string
means the same thing in a generated loop. exp, tanh and sigmoid are vecmath.py's: the same
functions, whose float64 code (unlike libm's) loops vectorise.
"""
import math  # noqa: F401
from math import nan  # noqa: F401

import numpy as np  # noqa: F401

from ..kernels import blasload, header

blasload.preload()   # before numba starts (kernels/blasload.py)
from numba import njit, objmode, prange  # noqa: E402,F401

from . import oplib  # noqa: F401  (the rows' own numba code: oplib.<op name>)
from .blas import dot, vdot  # noqa: F401  (np.dot(a, b[, out]) that compiles nothing)
from .alloc import empty, zeros  # noqa: F401  (np.empty/np.zeros that compile nothing)
from . import fftlower  # noqa: F401  (ad.fft in kernels: NumPy's FFT in object mode)
from .trace import GuardFailure  # noqa: F401
from .cxscalar import (cx_cosh, cx_div, cx_exp, cx_exp2, cx_expm1, cx_pow,  # noqa: F401
                       cx_recip, cx_sinh, cx_tanh)

exec(header())  # noqa: S102 - adjit's own import lines: sin, cos, ..., sign, step, smul ...
from .vecmath import exp, sigmoid, tanh  # noqa: E402,F401,F811  (float64 ones that vectorise)


def load_consts(module_file):
    import os
    path = module_file[:-3] + ".npz"
    if not os.path.exists(path):
        return []
    with np.load(path) as z:
        return [z[f"c{k}"] for k in range(len(z.files))]
