"""adjit: forward- and reverse-mode automatic differentiation with numba kernels.

`import adjit as ad` gives PyTorch-style tensors (reverse mode), dual numbers (forward mode)
and JAX-style transforms, all served by one op registry (see ARCHITECTURE.md).
"""
from . import autograd, linalg  # noqa: F401
from .core.custom import custom_op
from .core.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .core.registry import OPS
from .forward.dual import Dual, dual
from .jit import jit
from .jit.loops import fori_loop, scan
from .ops import *  # noqa: F401,F403  (the rows' public functions: ops.__all__)
from .reverse import engine as _engine  # noqa: F401  (attaches Tensor.backward)
from .reverse import tensor_docs as _tensor_docs  # noqa: F401  (documents Tensor's members)
from .reverse.creation import (arange, as_tensor, eye, from_numpy, full, linspace, ones,
                               ones_like, tensor, zeros, zeros_like)
from .reverse.random import manual_seed, normal, rand, rand_like, randint, randn, randn_like
from .reverse.tensor import Tensor
from .testing.gradcheck import gradcheck
from .transforms.jacobians import jacfwd, jacrev, jvp
from .transforms.reverse_mode import grad, value_and_grad, vjp
from .transforms.selector import hessian, hvp, jacobian, select_mode
from .transforms.vmap import vmap
from . import fft  # noqa: E402,F401  (ad.fft; after the rows it uses)

__version__ = "0.1.0"
