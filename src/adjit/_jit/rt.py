"""Runtime namespace of the kernels `ad.jit` generates (`from adjit._jit.rt import *`).

The scalar functions are the ones the registry's elementwise formulas use (the same names as in
`kernels._HEADER`), so an op's primal formula string means the same thing in a generated loop.
"""
import math  # noqa: F401
from math import (acos, asin, atan, cos, cosh, erf, exp, expm1, inf, log, log1p,  # noqa: F401
                  nan, pi, sin, sinh, sqrt, tan, tanh)

import numpy as np  # noqa: F401
from numba import njit  # noqa: F401

from .._scalar import (arccos, arcsin, arctan, erf_d, exp2, log2, log10, logpos,  # noqa: F401
                       relu, sigmoid, sign, softplus, square, step, where)
from .._scalar import absolute as abs  # noqa: F401,A001
from .trace import GuardFailure  # noqa: F401


def _load_consts(module_file):
    import os
    path = module_file[:-3] + ".npz"
    if not os.path.exists(path):
        return []
    with np.load(path) as z:
        return [z[f"c{k}"] for k in range(len(z.files))]
