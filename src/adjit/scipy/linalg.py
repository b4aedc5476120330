"""adjit.scipy.linalg: scipy.linalg's names and signatures for adjit's rows.

Every function works on arrays, Tensors, dual numbers and inside `ad.jit`, and differentiates
in every mode (SciPy is not imported; SciPy's own functions do not dispatch, so call these).
expm, solve_triangular, cho_factor / cho_solve and lu_factor / lu_solve are adjit's own
(`ops/matfuncs.py`, `ops/triangular.py`); solve, inv, det, cholesky, eigh, svd, qr and norm are
the ad.linalg rows under SciPy's signatures, e.g. cholesky(a, lower=False) returns the UPPER
factor, as SciPy's. `overwrite_*` and `check_finite` are accepted and ignored.
"""
import numpy as np

from .. import ops
from ..core import registry
from ..ops import solvers
from ..ops.matfuncs import expm
from ..ops.triangular import cho_factor, cho_solve, lu_factor, lu_solve, solve_triangular

__all__ = ["cho_factor", "cho_solve", "cholesky", "det", "eigh", "expm", "inv", "lstsq",
           "lu_factor", "lu_solve", "norm", "pinv", "qr", "solve", "solve_triangular", "svd"]

_GENERAL = (None, "gen", "general")
_SYMMETRIC = ("sym", "symmetric", "her", "hermitian", "pos", "positive definite")


def _wrapped(*xs):
    return any(isinstance(x, registry.Traced) for x in xs)


def _assumed(a, assume_a, lower, who):
    """a as the matrix SciPy's solver reads for assume_a: one triangle mirrored for the
    symmetric kinds, the diagonal or the three central diagonals; None for triangular ones."""
    if assume_a in _GENERAL:
        return a
    n = ops.shape(a)[-1]
    if assume_a in _SYMMETRIC:
        t = ops.tril(a) if lower else solvers.triu(a)
        return t + ops.mT(ops.tril(t, k=-1) if lower else solvers.triu(t, 1))
    if assume_a in ("diagonal", "tridiagonal"):
        i = np.arange(n)
        band = np.abs(i[:, None] - i[None, :]) <= (0 if assume_a == "diagonal" else 1)
        return ops.where(band, a, 0.0)
    raise NotImplementedError(f"adjit.scipy.linalg.{who}: assume_a={assume_a!r} is not "
                              "supported; use the default (a general matrix)")


def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
          assume_a=None, transposed=False):
    """Solve a x = b (a^T x = b with transposed=True), as scipy.linalg.solve; assume_a
    'sym' / 'pos' / 'her' read one triangle (lower=), 'lower triangular' / 'upper triangular'
    one triangle, 'diagonal' / 'tridiagonal' the band, as SciPy's solvers do.

    Examples
    --------
    >>> import adjit as ad
    >>> from adjit.scipy import linalg
    >>> linalg.solve(ad.tensor([[2.0, 0.0], [0.0, 4.0]]), ad.tensor([2.0, 2.0])).numpy()
    array([1. , 0.5])
    """
    if assume_a in ("lower triangular", "upper triangular"):
        return solve_triangular(a, b, trans=int(bool(transposed)),
                                lower=assume_a == "lower triangular")
    A = _assumed(a, assume_a, lower, "solve")
    return ops.solve(ops.mT(A) if transposed else A, b)


def inv(a, overwrite_a=False, check_finite=True, *, assume_a=None, lower=False):
    """The inverse of a, as scipy.linalg.inv (assume_a as in solve).

    Examples
    --------
    >>> import adjit as ad
    >>> from adjit.scipy import linalg
    >>> linalg.inv(ad.tensor([[2.0, 0.0], [0.0, 4.0]])).numpy()
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    if assume_a in ("lower triangular", "upper triangular"):
        a = ops.tril(a) if assume_a == "lower triangular" else solvers.triu(a)
        assume_a = None
    return ops.inv(_assumed(a, assume_a, lower, "inv"))


def det(a, overwrite_a=False, check_finite=True):
    """The determinant of a, as scipy.linalg.det.

    Examples
    --------
    >>> import adjit as ad
    >>> from adjit.scipy import linalg
    >>> round(float(linalg.det(ad.tensor([[2.0, 1.0], [1.0, 3.0]]))), 12)
    5.0
    """
    return ops.det(a)


def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """The Cholesky factor of a symmetric positive definite a, as scipy.linalg.cholesky: the
    UPPER factor U (a = U^T U, reading a's upper triangle) by default, the lower one with
    lower=True. The derivative is the symmetric one (as ad.cholesky's).

    Examples
    --------
    >>> import adjit as ad
    >>> from adjit.scipy import linalg
    >>> linalg.cholesky(ad.tensor([[4.0, 2.0], [2.0, 5.0]])).numpy()
    array([[2., 1.],
           [0., 2.]])
    """
    if lower:
        return ops.cholesky(a)
    return ops.mT(ops.cholesky(ops.mT(a)))


def eigh(a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False,
         type=1, check_finite=True, subset_by_index=None, subset_by_value=None,  # noqa: A002
         driver=None):
    """(w, v) of a symmetric a, eigenvalues ascending, as scipy.linalg.eigh (w alone with
    eigvals_only=True); reads the lower triangle (the upper with lower=False).
    subset_by_index=(lo, hi) keeps eigenpairs lo..hi. The generalized problem (b) and
    subset_by_value are not supported yet.

    Examples
    --------
    >>> import adjit as ad
    >>> from adjit.scipy import linalg
    >>> linalg.eigh(ad.tensor([[2.0, 0.0], [0.0, 1.0]]), eigvals_only=True).numpy()
    array([1., 2.])
    """
    if b is not None or subset_by_value is not None:
        what = "the generalized problem (b=)" if b is not None else "subset_by_value"
        raise NotImplementedError(f"adjit.scipy.linalg.eigh: {what} is not supported yet (for "
                                  "plain arrays call scipy.linalg.eigh); for b, reduce to a "
                                  "standard problem with the Cholesky factor of b "
                                  "(L^-1 a L^-T)")
    w, v = ops.eigh(a, UPLO="L" if lower else "U")
    if subset_by_index is not None:
        lo, hi = (int(i) for i in subset_by_index)
        w = ops.getitem(w, idx=(Ellipsis, slice(lo, hi + 1)))
        v = ops.getitem(v, idx=(Ellipsis, slice(lo, hi + 1)))
    return w if eigvals_only else (w, v)


def svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
        lapack_driver="gesdd"):
    """(u, s, vh) as scipy.linalg.svd (s alone with compute_uv=False); differentiable with
    full_matrices=False or a square a (ad.linalg.svd).

    Examples
    --------
    >>> import adjit as ad
    >>> from adjit.scipy import linalg
    >>> linalg.svd(ad.tensor([[3.0, 0.0], [0.0, -4.0]]), compute_uv=False).numpy()
    array([4., 3.])
    """
    return ops.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)


def qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    """(q, r) as scipy.linalg.qr: mode 'full' (differentiable for m <= n, where it is the
    reduced one, and m == n), 'economic' (differentiable for m >= n) or 'r' ((r,)); pivoting
    and mode 'raw' are not supported.

    Examples
    --------
    >>> import adjit as ad
    >>> from adjit.scipy import linalg
    >>> q, r = linalg.qr(ad.tensor([[3.0, 1.0], [4.0, 2.0]]))
    >>> r.numpy().round(6)
    array([[-5. , -2.2],
           [ 0. ,  0.4]])
    """
    if mode not in ("full", "economic", "r", "raw"):
        raise ValueError(f"adjit.scipy.linalg.qr: mode must be 'full', 'r', 'economic' or "
                         f"'raw', got {mode!r}")
    m, n = ops.shape(a)[-2:]
    if pivoting or mode == "raw":
        raise NotImplementedError("adjit.scipy.linalg.qr: pivoting=True and mode='raw' are not "
                                  "supported (for plain arrays call scipy.linalg.qr); use "
                                  "mode='economic' without pivoting")
    if not _wrapped(a):
        q, r = np.linalg.qr(np.asarray(a),
                            mode="complete" if mode in ("full", "r") else "reduced")
        return (r,) if mode == "r" else (q, r)
    if mode == "r":
        r = ops.qr(a)[1]
        if m > n:   # the full r: zero rows below the reduced one
            r = ops.concatenate([r, np.zeros(tuple(ops.shape(a)[:-2]) + (m - n, n),
                                             dtype=r.dtype)], axis=-2)
        return (r,)
    if mode == "full" and m > n:
        raise NotImplementedError(
            f"adjit.scipy.linalg.qr: mode='full' of a {m}x{n} matrix is not differentiable "
            "(its last m - n columns of q are not unique); use mode='economic'")
    return ops.qr(a)


def norm(a, ord=None, axis=None, keepdims=False, check_finite=True):  # noqa: A002
    """The matrix or vector norm, as scipy.linalg.norm (np.linalg.norm's orders).

    Examples
    --------
    >>> import adjit as ad
    >>> from adjit.scipy import linalg
    >>> float(linalg.norm(ad.tensor([[1.0, 2.0], [3.0, 4.0]]), 1))
    6.0
    """
    return ops.norm(a, ord, axis, keepdims)


def pinv(a, *, atol=None, rtol=None, return_rank=False, check_finite=True):
    """The pseudo-inverse of a (..., m, n), as scipy.linalg.pinv: singular values above
    atol + rtol * (the largest) are kept (atol 0 and rtol max(m, n) * eps by default).
    Differentiable as ad.linalg.pinv (full rank: everywhere; else with the rank held fixed);
    the rank (return_rank=True) is an integer.

    Examples
    --------
    >>> import adjit as ad
    >>> from adjit.scipy import linalg
    >>> linalg.pinv(ad.tensor([[2.0, 0.0], [0.0, 0.0]]), return_rank=True)[1]
    1
    """
    m, n = ops.shape(a)[-2:]
    eps = float(np.finfo(np.result_type(np.float32, ops.dtype_name(a))).eps)
    atol = 0.0 if atol is None else float(atol)
    rtol = max(m, n) * eps if rtol is None else float(rtol)
    if atol < 0.0 or rtol < 0.0:
        raise ValueError("adjit.scipy.linalg.pinv: atol and rtol values must be positive.")
    if not _wrapped(a):
        s = np.linalg.svd(a, compute_uv=False)
        big = s > atol + rtol * np.max(s, axis=-1, keepdims=True, initial=0.0)
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        sinv = np.where(big, 1.0 / np.where(big, s, 1.0), 0.0)
        b = np.swapaxes(vh, -1, -2) @ (sinv[..., None] * np.swapaxes(u, -1, -2))
    else:
        b = solvers.pinv_tol(a, rtol, atol)
    if not return_rank:
        return b
    # the rank: an integer without derivative (traced under ad.jit)
    s = ops.svdvals(ops.cond_of(a))
    rank = ops.sum(ops.where(s > atol + rtol * ops.max(s, axis=-1, keepdims=True), 1, 0),
                   axis=-1)
    return b, (int(rank) if not _wrapped(rank) and np.ndim(rank) == 0 else rank)


def lstsq(a, b, cond=None, overwrite_a=False, overwrite_b=False, check_finite=True,
          lapack_driver=None):
    """(x, residues, rank, s) as scipy.linalg.lstsq: ad.linalg.lstsq with singular values at
    most cond times the largest counted as zero (machine eps by default), and the residue of a
    1-D b as a scalar.

    Examples
    --------
    >>> import adjit as ad
    >>> from adjit.scipy import linalg
    >>> x, res, rank, s = linalg.lstsq(ad.tensor([[1.0], [1.0]]), ad.tensor([1.0, 3.0]))
    >>> x.numpy(), float(res), rank
    (array([2.]), 2.0, 1)
    """
    eps = float(np.finfo(np.result_type(np.float32, ops.dtype_name(a), ops.dtype_name(b))).eps)
    x, res, rank, s = solvers.lstsq(a, b, rcond=eps if cond is None else cond)
    if ops.ndim(b) == 1 and ops.shape(res) == (1,):
        res = ops.getitem(res, idx=(0,)) if _wrapped(res) else res[0]
    return x, res, rank, s
