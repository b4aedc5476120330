"""Matrix functions: expm (scipy.linalg.expm), one row over the last two axes.

The value is Higham's scaling and squaring with Pade approximants (2005; the algorithm SciPy
used before its 2009 refinement: the same values to rounding), one plain function of a 2-D
array that NumPy runs eagerly and numba compiles for ad.jit (`jit/oplib.py` reads the row's
`numba`). The derivatives are the Frechet derivative L(A, E) = d/dt expm(A + t E), the upper
right block of expm([[A, E], [0, A]]) (Mathias 1996): the JVP is L(A, tangent) and the VJP
L(A^T, cotangent). Both call the row itself, so they differentiate again (each order doubles
the matrix) and compile under ad.jit.
"""
import hashlib

import numpy as np

from ..core.domain import Sample
from ..core.registry import Traced, defop
from .axes import ndim, shape
from .elementwise import dtype_name
from .shape import broadcast_to, concatenate, getitem, mT

__all__ = []   # served as adjit.scipy.linalg.expm and ad.linalg.expm

# Pade coefficients b_0..b_m (Higham 2005, table 2.3), padded with zeros to one table, and the
# largest 1-norms theta_m for which degree m is accurate to double precision
_PADE = np.zeros((5, 14))
for _i, _b in enumerate([
        (120.0, 60.0, 12.0, 1.0),
        (30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0),
        (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0),
        (17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0, 2162160.0,
         110880.0, 3960.0, 90.0, 1.0),
        (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
         129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
         40840800.0, 960960.0, 16380.0, 182.0, 1.0)]):
    _PADE[_i, :len(_b)] = _b
_DEGREES = np.array([3, 5, 7, 9, 13])
_THETA = np.array([1.495585217958292e-2, 2.539398330063230e-1, 9.504178996162932e-1,
                   2.097847961257068e0, 5.371920351148152e0])


def expm_matrix(a):
    """exp of one square matrix (2-D), computed in float64 and returned in a's float dtype.
    Plain NumPy that numba also compiles (no Python objects, no calls to other functions)."""
    n = a.shape[0]
    out = np.empty((n, n), dtype=a.dtype)
    if n == 0:
        return out
    A = np.empty((n, n))   # a contiguous float64 copy (numba's '@' wants contiguous arrays)
    for i in range(n):
        for j in range(n):
            A[i, j] = a[i, j]
    ident = np.eye(n)
    nrm = 0.0
    for j in range(n):
        c = 0.0
        for i in range(n):
            c += abs(A[i, j])
        nrm = max(nrm, c)
    k = 4
    for i in range(4):
        if nrm <= _THETA[i]:
            k = i
            break
    s = 0
    if k == 4 and nrm > _THETA[4]:
        s = int(np.ceil(np.log2(nrm / _THETA[4])))
        A = A / 2.0 ** s
    b = _PADE[k]
    A2 = A @ A
    if k < 4:
        u = b[1] * ident
        v = b[0] * ident
        p = ident
        for j in range(1, _DEGREES[k] // 2 + 1):
            p = p @ A2
            u = u + b[2 * j + 1] * p
            v = v + b[2 * j] * p
        u = A @ u
    else:
        A4 = A2 @ A2
        A6 = A4 @ A2
        u = A @ (A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 + b[5] * A4
                 + b[3] * A2 + b[1] * ident)
        v = (A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2
             + b[0] * ident)
    r = np.empty((n, n))   # C order: numba's solve returns Fortran order
    r[:, :] = np.linalg.solve(v - u, v + u)
    for _ in range(s):
        r = r @ r
    for i in range(n):
        for j in range(n):
            out[i, j] = r[i, j]
    return out


def _expm_primal(x):
    x = np.asarray(x)
    if x.dtype.kind == "c":
        return _expm_complex(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    out = np.empty(x.shape, dtype=x.dtype)
    for i in np.ndindex(x.shape[:-2]):
        out[i] = expm_matrix(x[i])
    return out


def _expm_complex(x):
    """exp of complex matrices through the real ones: X = A + iB acts on (Re, Im) as
    [[A, -B], [B, A]], whose exponential is [[Re e^X, -Im e^X], [Im e^X, Re e^X]] (the same
    Pade code, which numba compiles for real values)."""
    n = x.shape[-1]
    out = np.empty(x.shape, dtype=x.dtype)
    rdt = np.finfo(x.dtype).dtype
    for i in np.ndindex(x.shape[:-2]):
        a, b = x[i].real, x[i].imag
        e = expm_matrix(np.block([[a, -b], [b, a]]).astype(rdt))
        out[i] = e[:n, :n] + 1j * e[n:, :n]
    return out


def frechet(A, E):
    """The Frechet derivative of expm at A (..., n, n) in direction E (which may carry leading
    batch axes): the upper right block of expm([[A, E], [0, A]])."""
    n = shape(A)[-1]
    Ab = A if tuple(shape(A)) == tuple(shape(E)) else broadcast_to(A, shape=tuple(shape(E)))
    Z = np.zeros(tuple(shape(E)), dtype=dtype_name(E))
    block = concatenate([concatenate([Ab, E], axis=-1), concatenate([Z, Ab], axis=-1)], axis=-2)
    return getitem(expm_op(block), idx=(Ellipsis, slice(0, n), slice(n, 2 * n)))


_code = expm_matrix.__code__
_DIGEST = hashlib.sha1(_code.co_code + repr(_code.co_consts).encode()).hexdigest()[:12]

expm_op = defop("expm", _expm_primal, lambda g, y, x: (frechet(mT(x), g),),
                lambda ts, y, x: frechet(x, ts[0]), export=False, backward_name="MatrixExpBackward",
                lower="lib", jit={"call": f"oplib.expm({{0}})  # numba code {_DIGEST}", "core": 2},
                domain=[Sample((3, 3), values=(-1.0, 1.0)), Sample((2, 3, 3)),
                        Sample((1, 1)), Sample((4, 4), values=(-0.05, 0.05)),   # low degree
                        Sample((4, 4), values=(-3.0, 3.0))])                    # squarings
expm_op.numba = expm_matrix   # ad.jit: one compiled call per matrix (jit/oplib.py)
expm_op.vmap = "leading"      # ad.vmap: the primal maps over leading axes


@expm_op.public
def expm(A):  # noqa: N803 (SciPy's name)
    """The matrix exponential of A (..., n, n), as scipy.linalg.expm.

    Parameters
    ----------
    A : array_like (..., n, n)

    Returns
    -------
    exp(A), differentiable to any order (through the Frechet derivative) and compiled by
    ad.jit.

    Examples
    --------
    >>> import adjit as ad
    >>> ad.linalg.expm(ad.tensor([[0.0, 1.0], [0.0, 0.0]])).numpy()
    array([[1., 1.],
           [0., 1.]])
    """
    if ndim(A) < 2 or shape(A)[-1] != shape(A)[-2]:
        raise ValueError(f"adjit.scipy.linalg.expm: expected a square matrix (or a stack of "
                         f"them, ..., n, n), got shape {tuple(shape(A))}")
    if not isinstance(A, Traced):
        return _expm_primal(A)
    return expm_op(A)
