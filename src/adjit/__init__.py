"""adjit: forward- and reverse-mode automatic differentiation with numba kernels.

`import adjit as ad` gives PyTorch-style tensors (reverse mode), dual numbers (forward mode)
and JAX-style transforms, all served by one op registry (see `ops.py`).
"""
from . import autograd, linalg  # noqa: F401
from . import methods as _methods  # noqa: F401  (attaches operators to Tensor and Dual)
from .autograd import gradcheck
from .creation import (arange, eye, full, linspace, manual_seed, ones, ones_like, rand, randn,
                       tensor, zeros, zeros_like)
from .dual import Dual, dual
from .functional import (grad, hessian, hvp, jacfwd, jacobian, jacrev, jvp, select_mode,
                         value_and_grad, vjp)
from ._jit import jit
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import (abs, add, arccos, arcsin, arctan, cat, cholesky, clip, concatenate, cos, cosh,
                  cumsum, det, div, dot, erf, exp, exp2, expand_dims, expm1, inv, log, log1p,
                  log2, log10, log_softmax, logdet, logsumexp, matmul, max, maximum, mean, min,
                  minimum, mul, norm, outer, pow, prod, relu, reshape, sigmoid, sign, sin, sinh,
                  slogdet, softmax, softplus, solve, sqrt, square, squeeze, stack, std, sub, sum,
                  tan, tanh, trace, transpose, var, where)
from .registry import OPS, custom_op
from .tensor import Tensor

__version__ = "0.1.0"
