"""Matrix decompositions with several outputs (rows of `multi.defop_multi`): slogdet, eigh,
eigvalsh, svd (reduced; svdvals), qr (reduced). Last two axes are the matrix; the rules are
written in ad ops, so they differentiate again.

Degenerate spectra. The eigenvector (singular vector) rules divide by gaps w_j - w_i
(s_j^2 - s_i^2). A pair whose gap is at most DEGENERATE_RTOL times the largest |w| (s) is
treated as degenerate: there the vectors are not differentiable (any rotation of the eigenspace
is as good), and the rules put 0 where the pair's coupling term is exactly zero (nothing used
the vectors' choice of basis, e.g. a function of the eigenvalues alone, or an unused output) and
NaN where it is not (the derivative does not exist, or needs more than the decomposition: a
spectral function written as V diag(f(w)) V^T has one, but only its eigenvalue form f(w) gives it
here). So functions of the eigenvalues (sum, norms, log-det of an SPD matrix ...) differentiate
correctly at any degeneracy, and nothing returns a finite wrong number there.
Like cholesky, eigh reads the lower triangle but its derivative is the symmetric one (PyTorch's,
JAX's): perturbations are symmetrized.
"""
import numpy as np

from ..core.registry import Traced
from .axes import cond_of, ndim, shape
from .linalg import inv, matmul, solve
from .multi import call_multi, defop_multi
from .reductions import max as ad_max
from .shape import getitem, mT, sum_op, tril, where

DEGENERATE_RTOL = 1e-10


def _row(v):
    return getitem(v, idx=(Ellipsis, None, slice(None)))


def _col(v):
    return getitem(v, idx=(Ellipsis, slice(None), None))


def _diag(m):
    return sum_op(m * np.eye(shape(m)[-1]), axis=-1)


def _diag_embed(v):
    return _col(v) * np.eye(shape(v)[-1])


def _gap_product(w, P, square=False):
    """F * P with F_ij = 1 / (w_j - w_i) off the diagonal (1 / (w_j^2 - w_i^2) if square) and
    0 on it; at degenerate pairs 0 where P_ij == 0 exactly and NaN elsewhere (module
    docstring). The masks are computed on the innermost values (recomputed by ad.jit kernels)."""
    wc, Pc = cond_of(w), cond_of(P)
    if square:
        w, wc = w * w, wc * wc
    gap = _row(wc) - _col(wc)
    scale = _col(ad_max(abs(wc), axis=-1, keepdims=True))
    deg = abs(gap) <= DEGENERATE_RTOL * scale
    F = 1.0 / where(deg, 1.0, _row(w) - _col(w))
    n = shape(w)[-1]
    undefined = where(np.eye(n, dtype=bool), 0.0, where(Pc != 0, np.nan, 0.0))
    return where(deg, undefined, F * P)


# ---------------------------------------------------------------------------------------------
# slogdet: (sign, log|det|); the sign is piecewise constant (no derivative)

def _slogdet_vjp(gs, outs, x):
    gl = gs[1]
    if not isinstance(gl, Traced) and not np.any(gl):
        return (None,)     # only the sign was used: nothing to pull (and no inverse needed)
    return (getitem(gl, idx=(Ellipsis, None, None)) * mT(inv(x)),)


def _slogdet_jvp(ts, outs, x):
    return None, sum_op(_diag(solve(x, ts[0])), axis=-1)


def _slogdet_nb(a):
    s, l = np.linalg.slogdet(a)
    out = np.empty(2, dtype=np.float64)
    out[0] = s
    out[1] = l
    return out


_slogdet = defop_multi("slogdet", np.linalg.slogdet, _slogdet_vjp, _slogdet_jvp,
                       cores=lambda xs: ((), ()), numba=_slogdet_nb,
                       backward_name="LinalgSlogdetBackward")


def slogdet(x):
    """(sign, log|det|) of x (..., n, n), as np.linalg.slogdet; the sign has no derivative."""
    return call_multi(_slogdet, x)


# ---------------------------------------------------------------------------------------------
# eigh: eigenvalues ascending, eigenvectors in columns

def _eigh_vjp(gs, outs, x):
    gw, gV = gs
    w, V = outs
    K = matmul(mT(V), gV)
    inner = _diag_embed(gw) + _gap_product(w, 0.5 * (K - mT(K)))
    return (matmul(V, matmul(inner, mT(V))),)


def _eigh_jvp(ts, outs, x):
    w, V = outs
    t = ts[0]
    P = matmul(mT(V), matmul(0.5 * (t + mT(t)), V))
    return _diag(P), matmul(V, _gap_product(w, P))


def _eigh_nb(a):
    w, v = np.linalg.eigh(a)
    n = w.shape[0]
    out = np.empty(n + n * n, dtype=np.float64)
    out[:n] = w
    for i in range(n):
        for j in range(n):
            out[n + i * n + j] = v[i, j]
    return out


_eigh = defop_multi("eigh", np.linalg.eigh, _eigh_vjp, _eigh_jvp,
                    cores=lambda xs: ((xs[-1],), (xs[-1], xs[-1])), numba=_eigh_nb,
                    backward_name="LinalgEighBackward")


def eigh(x):
    """(w, V) of a symmetric x (..., n, n), eigenvalues ascending, as np.linalg.eigh (reads the
    lower triangle). See the module docstring for degenerate eigenvalues."""
    return call_multi(_eigh, x)


def eigvalsh(x):
    """The eigenvalues of a symmetric x, ascending (np.linalg.eigvalsh)."""
    if not isinstance(x, Traced):
        return np.linalg.eigvalsh(x)
    return eigh(x)[0]
