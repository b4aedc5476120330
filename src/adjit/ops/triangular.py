"""SciPy's factor-and-solve functions (served as adjit.scipy.linalg.<name>): solve_triangular,
cho_factor / cho_solve, lu_factor / lu_solve. Last two axes are the matrix.

solve_triangular is a composition of rows (the triangle read, then solve), so it and the
solves built on it differentiate in every mode, to any order, and compile under ad.jit. The
LU factorisation with partial pivoting is a row with two outputs (the packed factors and the
pivots, which carry no derivative: the permutation is locally constant) whose rules are the
classical ones for A = P L U (P held fixed), and whose code is one plain function NumPy runs
eagerly and numba compiles for ad.jit; the row permutations of the pivots are two rows of
their own (each the other's VJP), so traced pivots work under ad.jit.
"""
import hashlib

import numpy as np

from ..core.complexrule import is_complex
from ..core.domain import Sample
from ..core.registry import Traced, composite, defop
from .axes import batch, cond_of, ndim, shape, shape_of_raw
from .complex_rows import conj, real
from .elementwise import astype, dtype_name
from .linalg import cholesky, matmul, solve
from .multi import call_multi, defop_multi
from .shape import getitem, mT, reshape, tril, unbroadcast, where
from .solvers import triu

__all__ = []   # served as adjit.scipy.linalg.<name>


def _digest(f):
    code = f.__code__
    return hashlib.sha1(code.co_code + repr(code.co_consts).encode()).hexdigest()[:12]


def _square(a, who):
    if ndim(a) < 2 or shape(a)[-1] != shape(a)[-2]:
        raise ValueError(f"adjit.scipy.linalg.{who}: expected a square matrix (or a stack of "
                         f"them, ..., n, n), got shape {tuple(shape(a))}")


def _sym(a):
    return 0.5 * (a + (conj(mT(a)) if is_complex(a) else mT(a)))   # Hermitian if complex


# ---------------------------------------------------------------------------------------------
# solve_triangular

@composite(export=False,
           domain=[Sample((3, 3), (3,), kind=("wellcond", None)),
                   Sample((3, 3), (3, 2), kind=("wellcond", None), lower=True),
                   Sample((2, 3, 3), (2, 3, 2), kind=("wellcond", None), trans=1),
                   Sample((3, 3), (3,), kind=("wellcond", None), lower=True, trans="T",
                          unit_diagonal=True),
                   Sample((2, 3, 3), (3,), kind=("wellcond", None), trans=2)])
def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    """Solve a x = b for a triangular a, as scipy.linalg.solve_triangular: only the lower
    (lower=True) or upper triangle of a is read, its diagonal taken as ones with
    unit_diagonal=True, trans=1 / 'T' solves a^T x = b and 2 / 'C' a^H x = b (the same for
    real a).
    Differentiable in a (its read triangle) and b.

    Examples
    --------
    >>> import adjit as ad
    >>> from adjit.scipy import linalg
    >>> linalg.solve_triangular(ad.tensor([[2.0, 0.0], [1.0, 1.0]]), ad.tensor([2.0, 3.0]),
    ...                         lower=True).numpy()
    array([1., 2.])
    """
    if trans not in (0, 1, 2, "N", "T", "C"):
        raise ValueError(f"adjit.scipy.linalg.solve_triangular: trans must be 0, 1, 2, 'N', "
                         f"'T' or 'C', got {trans!r}")
    _square(a, "solve_triangular")
    t = tril(a) if lower else triu(a)
    if unit_diagonal:
        t = where(np.eye(shape(a)[-1], dtype=bool), 1.0, t)
    if trans not in (0, "N"):
        t = conj(mT(t)) if trans in (2, "C") and is_complex(t) else mT(t)
    return solve(t, b)


# ---------------------------------------------------------------------------------------------
# Cholesky: the factor in one triangle of c, a's entries left in the other (as LAPACK's potrf)

def _cho_call(op, a, **p):
    return op(_sym(a), **p)[0]


@composite(export=False,
           domain=[Sample((3, 3), kind="spd", call=_cho_call),
                   Sample((3, 3), kind="spd", call=_cho_call, lower=True),
                   Sample((2, 3, 3), kind="spd", call=_cho_call)])
def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """(c, lower) as scipy.linalg.cho_factor: the Cholesky factor of a symmetric positive
    definite a in the lower (lower=True) or upper triangle of c, a's own entries in the
    other. The factor reads that triangle of a; its derivative is the symmetric one (as
    ad.cholesky's).

    Examples
    --------
    >>> import adjit as ad
    >>> from adjit.scipy import linalg
    >>> c, low = linalg.cho_factor(ad.tensor([[4.0, 2.0], [2.0, 5.0]]))
    >>> c.numpy(), low
    (array([[2., 1.],
           [2., 2.]]), False)
    """
    _square(a, "cho_factor")
    if lower:
        return cholesky(a) + triu(a, 1), lower
    return mT(cholesky(mT(a))) + tril(a, k=-1), lower


@composite(export=False,
           domain=[Sample((3, 3), (3,), kind=("wellcond", None),
                          call=lambda op, c, b: op((c, False), b)),
                   Sample((3, 3), (3, 2), kind=("wellcond", None),
                          call=lambda op, c, b: op((c, True), b)),
                   Sample((2, 3, 3), (3,), kind=("wellcond", None),
                          call=lambda op, c, b: op((c, False), b))])
def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """Solve a x = b from a's Cholesky factor, as scipy.linalg.cho_solve((c, lower), b).
    Differentiable in the factor (its triangle) and b.

    Examples
    --------
    >>> import adjit as ad
    >>> from adjit.scipy import linalg
    >>> a = ad.tensor([[4.0, 2.0], [2.0, 5.0]])
    >>> linalg.cho_solve(linalg.cho_factor(a), ad.tensor([6.0, 7.0])).numpy()
    array([1., 1.])
    """
    c, lower = c_and_lower
    vec = ndim(b) == 1   # one column through both solves (a batch of c makes y a matrix)
    bm = reshape(b, tuple(shape(b)) + (1,)) if vec else b
    if lower:   # a = L L^H
        x = solve_triangular(c, solve_triangular(c, bm, lower=True), lower=True, trans=2)
    else:       # a = U^H U
        x = solve_triangular(c, solve_triangular(c, bm, trans=2))
    return getitem(x, idx=(Ellipsis, 0)) if vec else x


# ---------------------------------------------------------------------------------------------
# LU with partial pivoting: a = P L U, L unit lower, packed with U into one matrix; piv[i]:
# row i was interchanged with row piv[i] (LAPACK's getrf, 0-based as SciPy's)

def lu_matrix(a):
    """LU of one square matrix: lu (n * n, row-major) then the pivots, packed in a's dtype.
    Plain NumPy that numba also compiles; the right-looking elimination LAPACK does."""
    n = a.shape[0]
    lu = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            lu[i, j] = a[i, j]
    out = np.empty(n * n + n, dtype=a.dtype)
    for k in range(n):
        p = k
        m = abs(lu[k, k])
        for i in range(k + 1, n):
            if abs(lu[i, k]) > m:
                m = abs(lu[i, k])
                p = i
        out[n * n + k] = p
        if p != k:
            for j in range(n):
                t = lu[k, j]
                lu[k, j] = lu[p, j]
                lu[p, j] = t
        if lu[k, k] != 0.0:
            for i in range(k + 1, n):
                lu[i, k] = lu[i, k] / lu[k, k]
        for i in range(k + 1, n):
            for j in range(k + 1, n):
                lu[i, j] = lu[i, j] - lu[i, k] * lu[k, j]
    for i in range(n):
        for j in range(n):
            out[i * n + j] = lu[i, j]
    return out


def _lu_primal(a):
    a = np.asarray(a)
    if a.dtype.kind not in "fc":
        a = a.astype(np.float64)
    if a.dtype == np.float16:   # as NumPy's linalg (the rules solve with the factors)
        raise TypeError("array type float16 is unsupported in linalg")
    n = a.shape[-1]
    # the same elimination as lu_matrix, vectorised; complex pivots by |Re| + |Im| (LAPACK's)
    lu = np.array(a, dtype=np.result_type(a, np.float64))
    piv = np.zeros(a.shape[:-1], dtype=np.float64)
    lu2 = lu.reshape(-1, n, n)
    piv2 = piv.reshape(-1, n)
    for k in range(n):
        col = lu2[:, k:, k]
        p = k + np.argmax(np.abs(col.real) + np.abs(col.imag) if col.dtype.kind == "c"
                          else np.abs(col), axis=1)
        piv2[:, k] = p
        rows = np.arange(lu2.shape[0])
        lu2[rows, k], lu2[rows, p] = lu2[rows, p].copy(), lu2[rows, k].copy()
        d = lu2[:, k, k][:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            lu2[:, k + 1:, k] = np.where(d != 0, lu2[:, k + 1:, k] / np.where(d != 0, d, 1.0),
                                         lu2[:, k + 1:, k])
        lu2[:, k + 1:, k + 1:] -= lu2[:, k + 1:, k, None] * lu2[:, k, None, k + 1:]
    return lu2.reshape(a.shape).astype(a.dtype), piv2.reshape(a.shape[:-1]).astype(a.dtype)


def _pcol(piv):
    return getitem(piv, idx=(Ellipsis, slice(None), None))


def _factors(lu):
    eye = np.eye(shape(lu)[-1], dtype=dtype_name(lu))
    return tril(lu, k=-1) + eye, triu(lu)


def _singular_lu():
    return np.linalg.LinAlgError(
        "adjit.scipy.linalg.lu_factor: the LU factors of a singular matrix (U has a zero "
        "pivot) have no derivative; differentiate at a regular matrix (e.g. a + eps * I)")


def _lu_vjp(gs, outs, a):
    g = gs[0]
    lu, piv = outs
    L, U = _factors(lu)
    M = tril(matmul(mT(L), tril(g, k=-1)), k=-1) + triu(matmul(triu(g), mT(U)))
    try:
        W = mT(solve(U, mT(solve(mT(L), M))))   # L^-T M U^-T
    except np.linalg.LinAlgError:
        raise _singular_lu() from None
    return (lu_unswap(W, _pcol(piv)),)          # P (L^-T M U^-T)


def _lu_jvp(ts, outs, a):
    lu, piv = outs
    L, U = _factors(lu)
    X = solve(L, lu_swap(ts[0], _pcol(piv)))   # L^-1 P^T dA U^-1
    try:
        X = mT(solve(mT(U), mT(X)))
    except np.linalg.LinAlgError:
        raise _singular_lu() from None
    return matmul(L, tril(X, k=-1)) + matmul(triu(X), U), None


def _permuted(op, a):   # rows out of order: the pivots move them back
    return op(getitem(a, idx=(Ellipsis, np.array([2, 0, 1]), slice(None))))


_lu = defop_multi("lu_factor", _lu_primal, _lu_vjp, _lu_jvp,
                  cores=lambda xs: ((xs[-1], xs[-1]), (xs[-1],)), numba=lu_matrix,
                  export=False, backward_name="LinalgLuFactorBackward",
                  domain=[Sample((3, 3), kind="wellcond", call=_permuted), Sample((4, 4)),
                          Sample((2, 3, 3), kind="wellcond"), Sample((1, 1), kind="wellcond")])


@_lu.public
def lu_factor(a, overwrite_a=False, check_finite=True):
    """(lu, piv) as scipy.linalg.lu_factor for square a (..., n, n): L (unit diagonal, below)
    and U packed into lu, differentiable; piv (int32, no derivative): row i was interchanged
    with row piv[i].

    Examples
    --------
    >>> import adjit as ad
    >>> from adjit.scipy import linalg
    >>> lu, piv = linalg.lu_factor(ad.tensor([[1.0, 2.0], [4.0, 2.0]]))
    >>> lu.numpy(), piv
    (array([[4.  , 2.  ],
           [0.25, 1.5 ]]), array([1, 1], dtype=int32))
    """
    _square(a, "lu_factor")
    lu, piv = call_multi(_lu, a)
    pc = cond_of(piv)
    pc = real(pc) if is_complex(pc) else pc   # packed with complex factors
    if isinstance(pc, Traced):   # ad.jit: the pivots the kernel computes
        return lu, astype(pc, dtype="int32")
    return lu, np.asarray(pc).astype(np.int32)


# The row permutation of the pivots, on (..., n, k) values with the pivots as (..., n, 1)
# (two core axes each, as ad.jit's per-matrix calls want): swap applies P^T (b[perm]),
# unswap applies P; each is the other's VJP. The pivots are an input without a derivative.

def lu_swap_matrix(b, piv):
    n, k = b.shape
    perm = np.arange(n)
    for i in range(n):
        j = int(piv[i, 0])
        t = perm[i]
        perm[i] = perm[j]
        perm[j] = t
    out = np.empty((n, k), dtype=b.dtype)
    for i in range(n):
        for c in range(k):
            out[i, c] = b[perm[i], c]
    return out


def lu_unswap_matrix(b, piv):
    n, k = b.shape
    perm = np.arange(n)
    for i in range(n):
        j = int(piv[i, 0])
        t = perm[i]
        perm[i] = perm[j]
        perm[j] = t
    out = np.empty((n, k), dtype=b.dtype)
    for i in range(n):
        for c in range(k):
            out[perm[i], c] = b[i, c]
    return out


def _perm(b, piv):
    """b and the permutation of the pivots (rows b[perm] = P^T b), broadcast to one batch."""
    b, p = np.asarray(b), np.real(np.asarray(piv)[..., 0]).astype(np.intp)   # complex: packed
    n = p.shape[-1]
    bs = np.broadcast_shapes(b.shape[:-2], p.shape[:-1])
    p = np.broadcast_to(p, bs + (n,)).reshape(-1, n)
    perm = np.broadcast_to(np.arange(n), p.shape).copy()
    rows = np.arange(p.shape[0])
    for i in range(n):
        j = p[:, i]
        perm[rows, i], perm[rows, j] = perm[rows, j].copy(), perm[rows, i].copy()
    return np.broadcast_to(b, bs + b.shape[-2:]), perm.reshape(bs + (n,))


def _swap_primal(b, piv):
    b, perm = _perm(b, piv)
    return np.take_along_axis(b, perm[..., None], axis=-2)


def _unswap_primal(b, piv):
    b, perm = _perm(b, piv)
    return np.take_along_axis(b, np.argsort(perm, axis=-1)[..., None], axis=-2)


def _lined_up(t, b, y):
    """Tangent t of b with unit axes between its batch axes and b's own, so that it
    broadcasts against the pivots' batch as b did (b broadcast to the output y)."""
    k = ndim(y) - ndim(b)
    return t if k <= 0 else reshape(t, tuple(batch(t, b)) + (1,) * k + tuple(shape_of_raw(b)))


_PIV = np.array([[2.0], [2.0], [2.0]])   # rows (0 2), then (1 2)


def _swap_samples():
    return [Sample((3, 2), call=lambda op, b: op(b, _PIV)),
            Sample((2, 3, 4), call=lambda op, b: op(b, np.array([[[1], [1], [2]],
                                                                 [[2], [2], [2]]])))]


lu_swap = defop("lu_swap", _swap_primal,
                lambda g, y, b, piv: (unbroadcast(lu_unswap(g, piv), shape_of_raw(b)), None),
                lambda ts, y, b, piv: None if ts[0] is None else lu_swap(_lined_up(ts[0], b, y), piv),
                export=False, reads=lambda needs: ((1,), False), lower="lib",
                jit={"call": f"oplib.lu_swap({{0}}, {{1}})  # numba code "
                             f"{_digest(lu_swap_matrix)}", "core": 2},
                domain=_swap_samples())
lu_swap.numba = lu_swap_matrix
lu_unswap = defop("lu_unswap", _unswap_primal,
                  lambda g, y, b, piv: (unbroadcast(lu_swap(g, piv), shape_of_raw(b)), None),
                  lambda ts, y, b, piv: None if ts[0] is None else lu_unswap(_lined_up(ts[0], b, y), piv),
                  export=False, reads=lambda needs: ((1,), False), lower="lib",
                  jit={"call": f"oplib.lu_unswap({{0}}, {{1}})  # numba code "
                               f"{_digest(lu_unswap_matrix)}", "core": 2},
                  domain=_swap_samples())
lu_unswap.numba = lu_unswap_matrix
# ad.vmap: b's and the pivots' leading axes broadcast against each other (as the primals do)
lu_swap.vmap = lu_unswap.vmap = "broadcast"


def _lu_call(op, a, b, **p):
    return op(lu_factor(_permuted(lambda x: x, a)), b, **p)


@composite(export=False,
           domain=[Sample((3, 3), (3,), kind=("wellcond", None), call=_lu_call),
                   Sample((3, 3), (3, 2), kind=("wellcond", None), trans=1, call=_lu_call),
                   Sample((4, 4), (4, 2), call=lambda op, a, b, **p: op(lu_factor(a), b, **p)),
                   Sample((2, 3, 3), (3,), kind=("wellcond", None), call=_lu_call)])
def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """Solve a x = b (trans=1 or 2: a^T x = b) from lu_factor(a), as
    scipy.linalg.lu_solve((lu, piv), b). Differentiable in lu and b (the pivots are integers).

    Examples
    --------
    >>> import adjit as ad
    >>> from adjit.scipy import linalg
    >>> a = ad.tensor([[1.0, 2.0], [4.0, 2.0]])
    >>> linalg.lu_solve(linalg.lu_factor(a), ad.tensor([3.0, 6.0])).numpy()
    array([1., 1.])
    """
    if trans not in (0, 1, 2):
        raise ValueError(f"adjit.scipy.linalg.lu_solve: trans must be 0, 1 or 2, got {trans!r}")
    lu, piv = lu_and_piv
    _square(lu, "lu_solve")
    vec = ndim(b) == 1
    bm = reshape(b, tuple(shape(b)) + (1,)) if vec else b
    p = _pcol(piv)
    if trans == 0:   # x = U^-1 L^-1 P^T b
        y = solve_triangular(lu, lu_swap(bm, p), lower=True, unit_diagonal=True)
        x = solve_triangular(lu, y)
    else:            # a^T = U^T L^T P^T: x = P L^-T U^-T b (2: the conjugate transposes)
        y = solve_triangular(lu, bm, trans=trans)
        x = lu_unswap(solve_triangular(lu, y, lower=True, unit_diagonal=True, trans=trans), p)
    return getitem(x, idx=(Ellipsis, 0)) if vec else x
