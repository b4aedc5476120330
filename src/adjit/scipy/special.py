"""adjit.scipy.special: scipy.special's names and signatures for adjit's rows.

Every function here works on arrays, Tensors, dual numbers and inside `ad.jit`, differentiates
in every mode and to every order, and gives SciPy's values (the scalar functions are adjit's own
numba code; SciPy is not imported). SciPy's ufuncs among them (gammaln, psi, erf..., not
polygamma, logsumexp or softmax, which are Python functions that convert their arguments) also
run these rows when called on adjit's values: `scipy.special.gammaln(t)` works as written.

Conventions where SciPy defines a value but the derivative needs a choice:
- xlogy(x, y), xlog1py(x, y): 0 where x == 0; d/dx is log(y) (log1p(y)) also at x == 0, as
  JAX (PyTorch gives 0 there); d/dy is 0 at x == 0 (f(0, y) = 0 for every y; JAX and PyTorch
  give NaN at x == y == 0).
- i0e, i1e (exp(-|x|) I(x)): at x == 0 the kink's subgradient is taken from sign(0) = 0, as
  PyTorch's.
- polygamma(n, x): n is a static integer order; the derivative in x is polygamma(n + 1, x).
- logsumexp(..., return_sign=True): the sign carries no derivative.
"""
from ..ops.formulas import erf
from ..ops.formulas import sigmoid as expit
from ..ops.special import (betaln, digamma, entr, erfc, erfinv, gamma, i0, i0e, i1, i1e, kl_div,
                           log_expit, log_ndtr, logit, multigammaln, ndtr, ndtri, polygamma,
                           rel_entr, xlog1py, xlogy)
from ..ops.special import lgamma as gammaln
from ..ops.special import scipy_log_softmax as log_softmax
from ..ops.special import scipy_logsumexp as logsumexp
from ..ops.special import scipy_softmax as softmax

psi = digamma

__all__ = ["betaln", "digamma", "entr", "erf", "erfc", "erfinv", "expit", "gamma", "gammaln",
           "i0", "i0e", "i1", "i1e", "kl_div", "log_expit", "log_ndtr", "log_softmax", "logit",
           "logsumexp", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "rel_entr",
           "softmax", "xlog1py", "xlogy"]
