"""Least squares and related linear algebra, as public compositions of rows (so they
differentiate in every mode, to any order, and compile under ad.jit): pinv, lstsq,
matrix_rank (no derivative), cond, tensorsolve, tensorinv, vector_norm / matrix_norm (the
sweep of every norm order), and SciPy's triangular and Cholesky solves.

Rank. pinv and lstsq treat singular values at most rcond times the largest as zero, as NumPy
does. A full-rank matrix (the usual case) takes a QR path whose derivatives are the classical
ones (exact at repeated singular values, e.g. at an orthogonal matrix); a rank-deficient one the
truncated SVD, whose derivatives are those of the truncated pseudo-inverse (the rank held
fixed: pinv jumps where a singular value crosses the cutoff, and has no derivative there).
Under ad.jit the rank is a guard: a kernel retraces when it changes.
"""
import numpy as np

from ..core.complexrule import is_complex
from ..core.domain import Sample
from ..core.registry import Traced, composite, implements
from .axes import cond_of, keep_shape, ndim, shape
from .complex_rows import conj, real
from .decompositions import qr, svd, svdvals
from .linalg import inv, matmul, solve
from .norms import norm
from .reductions import max as max_red
from .reductions import min as min_red
from .shape import concatenate, getitem, mT, reshape, sum_op, transpose, tril, where

__all__ = ["cond", "lstsq", "matrix_norm", "matrix_rank", "pinv", "tensorinv", "tensorsolve",
           "vector_norm"]
_UNSET = object()   # NumPy's "not given" (pinv's rtol: None and absent mean different things)


def triu(x, k=0):
    """The upper triangle of the last two axes (zeros below diagonal k), through tril."""
    return mT(tril(mT(x), k=-k))


def _adj(x):
    """The conjugate transpose (the transpose of real values, with no conj node)."""
    return conj(mT(x)) if is_complex(x) else mT(x)


def _sq(r):
    return real(r * conj(r)) if is_complex(r) else r * r


def _col(v):
    return getitem(v, idx=(Ellipsis, None))


def _eps(x):
    dt = np.dtype(x.dtype if isinstance(x, Traced) else np.asarray(x).dtype)
    return float(np.finfo(dt if dt.kind == "f" else np.float64).eps)


def _large(s, rel, atol=0.0):
    """Which singular values count (above atol + rel times the largest), on s's innermost
    values: under ad.jit a traced mask, recomputed by the kernel."""
    sc = cond_of(s)
    return sc > atol + np.asarray(rel)[..., None] * max_red(sc, axis=-1, keepdims=True)


def _full_rank(a, rel, atol):
    """Whether every matrix of a keeps all its singular values (a guard under ad.jit; not
    asked inside ad.vmap, where each element may differ: pinv_tol's _pinv_each)."""
    big = _large(svdvals(cond_of(a)), rel, atol)
    if isinstance(big, Traced):
        return bool(min_red(where(big, 1.0, 0.0)) > 0.5)
    return bool(np.all(big))


def _pinv_full(a):
    # a = q r (m >= n): pinv(a) = r^-1 q^H; a wide matrix through its transpose
    m, n = shape(a)[-2:]
    if m < n:
        return mT(_pinv_full(mT(a)))
    q, r = qr(a)
    return solve(r, _adj(q))


def _pinv_svd(a, rel, atol):
    u, s, vh = svd(a, full_matrices=False)
    big = _large(s, rel, atol)
    sinv = 1.0 / where(big, s, 1.0)
    # the discarded vectors are masked out of both factors (a product with 0 would keep the
    # NaN tangents forward mode gives vectors of repeated zero singular values)
    return matmul(where(getitem(big, idx=(Ellipsis, None, slice(None))), _adj(vh), 0.0),
                  where(_col(big), _col(sinv) * _adj(u), 0.0))


def pinv_tol(a, rel, atol=0.0):
    """The pseudo-inverse of a wrapped a (..., m, n) keeping the singular values above
    atol + rel times the largest (NumPy's rcond is rel, SciPy's pinv takes both)."""
    m, n = shape(a)[-2:]
    if m == 0 or n == 0:
        return mT(a)   # empty, as NumPy's
    ac = cond_of(a)
    if isinstance(ac, Traced) and not ac._branches:   # ad.vmap: each element its own rank
        return _pinv_each(a, rel, atol)
    if _full_rank(a, rel, atol):
        return _pinv_full(a)
    return _pinv_svd(a, rel, atol)


def _pinv_each(a, rel, atol):
    """Inside ad.vmap (no branch on values): the QR pseudo-inverse where an element has full
    rank, the truncated SVD's where not. Each path runs on a stand-in at the other's elements
    (the identity for QR; distinct singular values for the SVD), so neither path's derivative
    where it does not serve (a singular r; the SVD's at repeated singular values, e.g. at the
    identity: NaN) reaches the result (the double-where rule)."""
    m, n = shape(a)[-2:]
    big = _large(svdvals(cond_of(a)), rel, atol)
    full = getitem(min_red(where(big, 1.0, 0.0), axis=-1) > 0.5, idx=(Ellipsis, None, None))
    one = np.eye(m, n, dtype=a.dtype)
    spread = one * np.arange(1, n + 1, dtype=one.real.dtype)
    return where(full, _pinv_full(where(full, a, one)),
                 _pinv_svd(where(full, spread, a), rel, atol))


def _rank_deficient(a):
    """A rank-2 matrix made from a (a test domain's input)."""
    return a[:, :1] @ a[:1, :] / 3.0 + a[:, 1:2] @ a[1:2, :] / 4.0


@composite(export=False,
           domain=[Sample((4, 3)), Sample((3, 4)), Sample((2, 3, 3), kind="wellcond"),
                   Sample((3, 3), kind="wellcond", hermitian=False, rtol=1e-12),
                   # second=False: second derivatives at a rank-deficient matrix go through
                   # the vectors of its repeated zero singular values: NaN (decompositions)
                   Sample((4, 4), rcond=1e-5, second=False,
                          call=lambda op, a, **p: op(_rank_deficient(a), **p))])
@implements(np.linalg.pinv)   # not numpy=: samples use call=
def pinv(a, rcond=None, hermitian=False, *, rtol=_UNSET):
    """The Moore-Penrose pseudo-inverse of a (..., m, n), as np.linalg.pinv.

    Parameters
    ----------
    a : array_like (..., m, n)
    rcond, rtol : float or array_like, optional
        Singular values at most this times the largest count as zero (NumPy's defaults).
    hermitian : bool
        Accepted for NumPy's signature (the general SVD gives the same result).

    Returns
    -------
    (..., n, m) array. Full-rank matrices differentiate everywhere, to any order; at a
    rank-deficient matrix the first derivative is that of the truncated pseudo-inverse (rank
    held fixed) and second derivatives are NaN (they need the vectors of the repeated zero
    singular values).

    Examples
    --------
    >>> import adjit as ad
    >>> ad.linalg.pinv(ad.tensor([[2.0, 0.0], [0.0, 4.0], [0.0, 0.0]])).numpy() + 0.0
    array([[0.5 , 0.  , 0.  ],
           [0.  , 0.25, 0.  ]])
    """
    if rcond is None:
        rcond = 1e-15 if rtol is _UNSET else (
            max(shape(a)[-2:]) * _eps(a) if rtol is None else rtol)
    elif rtol is not _UNSET:
        raise ValueError("adjit.linalg.pinv: `rtol` and `rcond` can't be both set.")
    if not isinstance(a, Traced):
        return np.linalg.pinv(a, rcond=rcond, hermitian=hermitian)
    if ndim(a) < 2:
        raise np.linalg.LinAlgError(f"{ndim(a)}-dimensional array given. Array must be at "
                                    "least two-dimensional")
    return pinv_tol(a, rcond)


def _lstsq_call(op, a, b, **p):
    # the op-info sweep checks one array: the solution, residuals and singular values packed
    x, res, _, s = op(a, b, **p)
    return concatenate([reshape(x, (-1,)), reshape(res, (-1,)), s])


@composite(export=False, domain=[
    Sample((5, 3), (5,), call=_lstsq_call), Sample((5, 3), (5, 2), call=_lstsq_call),
    Sample((3, 3), (3, 2), kind=("wellcond", None), call=_lstsq_call),
    Sample((3, 5), (3,), call=_lstsq_call),
    Sample((4, 4), (4,), rcond=1e-5, second=False,   # as pinv's
           call=lambda op, a, b, **p: _lstsq_call(op, _rank_deficient(a), b, **p))])
@implements(np.linalg.lstsq)
def lstsq(a, b, rcond=None):
    """The least-squares solution of a x = b, as np.linalg.lstsq: (x, residuals, rank, s).

    Parameters
    ----------
    a : (m, n) array_like
    b : (m,) or (m, k) array_like
    rcond : float, optional
        Singular values at most rcond times the largest count as zero (default: eps * max(m, n)).

    Returns
    -------
    x : (n,) or (n, k), differentiable (minimum-norm solution where a is rank-deficient;
        there the rank is held fixed).
    residuals : (1,) or (k,) squared residual norms if rank == n < m, else empty;
        differentiable.
    rank : int (no derivative).
    s : (min(m, n),) singular values, differentiable (through svdvals).
    Inside ad.vmap the rank is a batched integer and the residuals are NaN for the
    rank-deficient matrices of the batch (NumPy gives none for them).

    Examples
    --------
    >>> import adjit as ad
    >>> x, res, rank, s = ad.linalg.lstsq(ad.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]),
    ...                                   ad.tensor([1.0, 2.0, 3.0]))
    >>> x.numpy(), res.numpy(), rank
    (array([1., 2.]), array([9.]), 2)
    """
    if not isinstance(a, Traced) and not isinstance(b, Traced):
        return np.linalg.lstsq(a, b, rcond=rcond)
    if ndim(a) != 2 or ndim(b) not in (1, 2):
        raise np.linalg.LinAlgError(f"adjit.linalg.lstsq: a must be 2-D and b 1-D or 2-D, got "
                                    f"shapes {shape(a)} and {shape(b)}")
    (m, n), vec = shape(a), ndim(b) == 1
    if shape(b)[0] != m:
        raise np.linalg.LinAlgError("Incompatible dimensions")
    eps = max(_eps(a), _eps(b))
    rel = eps * max(m, n) if rcond is None else rcond
    s = svdvals(a)
    dt = np.result_type(np.float32, *(
        (v.dtype if isinstance(v, Traced) else np.asarray(v).dtype) for v in (a, b)))
    dt = np.finfo(dt).dtype   # residuals are real (NumPy's), also of complex a and b
    ac = cond_of(a)
    if isinstance(ac, Traced) and not ac._branches and m and n:
        # ad.vmap: each matrix may have its own rank. The truncated SVD serves every rank, the
        # rank is a batched integer, and the residuals (NumPy: none where rank < n) are NaN
        # for the rank-deficient matrices (shapes cannot differ within a batch).
        rank = sum_op(where(_large(s, rel), 1, 0), axis=-1)
        x = matmul(pinv_tol(a, rel), b)
        if m <= n:
            return x, np.zeros((0,), dtype=dt), rank, s
        r = b - matmul(a, x)
        res = where(rank == n, sum_op(_sq(r), axis=0), np.array(np.nan, dtype=dt))
        return x, reshape(res, (1,)) if vec else res, rank, s
    rank = int(sum_op(where(_large(s, rel), 1, 0))) if m and n else 0
    if rank == min(m, n) and m and n:
        if m >= n:
            q, r = qr(a)
            x = solve(r, matmul(_adj(q), b))
        else:
            q, r = qr(_adj(a))
            x = matmul(q, solve(_adj(r), b))
    else:
        x = matmul(pinv_tol(a, rel), b)
    if rank == n and m > n:
        r = b - matmul(a, x)
        res = sum_op(_sq(r), axis=0)
        res = reshape(res, (1,)) if vec else res
    else:
        res = np.zeros((0,), dtype=dt)
    return x, res, rank, s


@composite(export=False, integer=True)
@implements(np.linalg.matrix_rank)
def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):  # noqa: N803 (NumPy's name)
    """The number of singular values above the tolerance, as np.linalg.matrix_rank: an integer,
    with no derivative (a traced integer under ad.jit).

    Examples
    --------
    >>> import adjit as ad
    >>> int(ad.linalg.matrix_rank(ad.tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)))
    1
    """
    if rtol is not None and tol is not None:
        raise ValueError("adjit.linalg.matrix_rank: `tol` and `rtol` can't be both set.")
    ac = cond_of(A)
    if not isinstance(ac, Traced):
        return np.linalg.matrix_rank(ac, tol=tol, hermitian=hermitian, rtol=rtol)
    if ndim(ac) < 2:
        return where(sum_op(where(ac != 0, 1, 0)) > 0, 1, 0)
    s = svdvals(ac)
    if tol is None:
        rel = max(shape(ac)[-2:]) * _eps(ac) if rtol is None else rtol
        big = _large(s, rel)
    else:
        big = s > np.asarray(tol)[..., None]
    return sum_op(where(big, 1, 0), axis=-1)



@composite(numpy=(np.linalg.cond,), export=False,
           domain=[Sample((3, 3), kind="wellcond"), Sample((4, 3)), Sample((3, 4), p=-2),
                   Sample((2, 3, 3), kind="wellcond", p=2),
                   Sample((3, 3), kind="wellcond", p="fro"),
                   Sample((3, 3), kind="wellcond", p=1),
                   Sample((3, 3), kind="wellcond", p=-1),
                   Sample((2, 3, 3), kind="wellcond", p=np.inf),
                   Sample((3, 3), kind="wellcond", p=-np.inf),
                   Sample((3, 3), kind="wellcond", p="nuc")])
def cond(x, p=None):
    """The condition number of x (..., m, n) in norm p, as np.linalg.cond: the ratio of the
    extreme singular values for p = None, 2, -2; else norm(x, p) * norm(inv(x), p).

    Examples
    --------
    >>> import adjit as ad
    >>> float(ad.linalg.cond(ad.tensor([[2.0, 0.0], [0.0, 0.5]])))
    4.0
    """
    if not isinstance(x, Traced):
        return np.linalg.cond(x, p)
    if p in (None, 2, -2):
        s = svdvals(x)
        hi, lo = getitem(s, idx=(Ellipsis, 0)), getitem(s, idx=(Ellipsis, -1))
        return lo / hi if p == -2 else hi / lo
    return norm(x, ord=p, axis=(-2, -1)) * norm(inv(x), ord=p, axis=(-2, -1))


def _as_tensor_of(shape_):
    return lambda op, a, b, **p: op(reshape(a, shape_), b, **p)


@composite(export=False,
           domain=[Sample((6, 6), (2, 3), kind=("wellcond", None), call=_as_tensor_of((2, 3, 6))),
                   Sample((6, 6), (6,), kind=("wellcond", None),
                          call=_as_tensor_of((6, 2, 3))),
                   # a (2, 6, 3) whose axis 1, moved last, makes the well-conditioned (6, 6)
                   Sample((6, 6), (2, 3), kind=("wellcond", None), axes=(1,),
                          call=lambda op, a, b, **p: op(transpose(reshape(a, (2, 3, 6)),
                                                                  axes=(0, 2, 1)), b, **p))])
@implements(np.linalg.tensorsolve)   # not numpy=: samples use call=
def tensorsolve(a, b, axes=None):
    """Solve tensordot(a, x, axes=b.ndim) = b for x, as np.linalg.tensorsolve.

    Examples
    --------
    >>> import adjit as ad
    >>> ad.linalg.tensorsolve(ad.tensor(2.0 * np.eye(4).reshape(2, 2, 4)),
    ...                       ad.tensor([[1.0, 2.0], [3.0, 4.0]])).numpy()
    array([0.5, 1. , 1.5, 2. ])
    """
    an = ndim(a)
    if axes is not None:
        allaxes = list(range(an))
        for k in axes:
            allaxes.remove(k)
            allaxes.insert(an, k)
        a = transpose(a, axes=tuple(allaxes))
    oldshape = tuple(shape(a)[-(an - ndim(b)):])
    prod = int(np.prod(oldshape))
    if int(np.prod(shape(a))) != prod ** 2:
        raise np.linalg.LinAlgError(
            "Input arrays must satisfy the requirement prod(a.shape[b.ndim:]) == "
            "prod(a.shape[:b.ndim])")
    return reshape(solve(reshape(a, (prod, prod)), reshape(b, (-1,))), oldshape)


@composite(export=False,
           domain=[Sample((6, 6), kind="wellcond",
                          call=lambda op, a, **p: op(reshape(a, (2, 3, 6)), **p)),
                   Sample((6, 6), kind="wellcond", ind=1,
                          call=lambda op, a, **p: op(reshape(a, (6, 2, 3)), **p))])
@implements(np.linalg.tensorinv)   # not numpy=: samples use call=
def tensorinv(a, ind=2):
    """The inverse of a with respect to tensordot(., ., ind), as np.linalg.tensorinv.

    Examples
    --------
    >>> import adjit as ad
    >>> ad.linalg.tensorinv(ad.tensor(4.0 * np.eye(4).reshape(4, 2, 2)), ind=1).shape
    (2, 2, 4)
    """
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    old = tuple(shape(a))
    prod = int(np.prod(old[:ind]))
    return reshape(inv(reshape(a, (prod, -1))), old[ind:] + old[:ind])


# ---------------------------------------------------------------------------------------------
# NumPy 2's vector_norm and matrix_norm: norm over given axes; their domains sweep every order

_AWAY = dict(away=(0.0,), gap=0.1)


@composite(numpy=(np.linalg.vector_norm,), export=False,
           domain=[Sample((3, 4), **_AWAY), Sample((3, 4), ord=1, axis=-1, **_AWAY),
                   Sample((3, 4), ord=np.inf, axis=0, keepdims=True, **_AWAY),
                   Sample((2, 3, 4), ord=-np.inf, axis=(0, 2), **_AWAY),
                   Sample((5,), ord=3, **_AWAY), Sample((5,), ord=0.5, **_AWAY),
                   Sample((5,), ord=-1, **_AWAY), Sample((2, 5), ord=0, axis=1, **_AWAY),
                   Sample((2, 3), ord=2, axis=(0, 1), keepdims=True, **_AWAY),
                   Sample((), ord=1, **_AWAY)])
def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """The vector norm of x over `axis` (all axes by default, flattened), as
    np.linalg.vector_norm.

    Examples
    --------
    >>> import adjit as ad
    >>> float(ad.linalg.vector_norm(ad.tensor([[3.0, -4.0], [0.0, 0.0]]), ord=1))
    7.0
    """
    nd = ndim(x)
    axes = tuple(range(nd)) if axis is None else (
        tuple(axis) if isinstance(axis, (tuple, list)) else (axis,))
    axes = tuple(int(a) % nd for a in axes) if nd else ()
    if len(axes) == 1:
        return norm(x, ord=ord, axis=axes[0], keepdims=keepdims)
    rest = tuple(i for i in range(nd) if i not in axes)
    sx = shape(x)
    flat = reshape(transpose(x, axes=rest + axes) if nd else x,
                   tuple(sx[i] for i in rest) + (int(np.prod([sx[i] for i in axes])),))
    r = norm(flat, ord=ord, axis=-1)
    return reshape(r, keep_shape(sx, axes)) if keepdims else r


@composite(numpy=(np.linalg.matrix_norm,), export=False,
           domain=[Sample((3, 4)), Sample((3, 4), ord=1, **_AWAY),
                   Sample((2, 3, 4), ord=-1, **_AWAY), Sample((4, 3), ord=np.inf, **_AWAY),
                   Sample((4, 3), ord=-np.inf, keepdims=True, **_AWAY),
                   Sample((3, 4), ord=2), Sample((2, 3, 3), ord=-2), Sample((4, 3), ord="nuc"),
                   Sample((2, 3), ord="fro", keepdims=True)])
def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """The matrix norm of the last two axes of x, as np.linalg.matrix_norm (ord 'fro', 'nuc',
    1, -1, 2, -2, inf, -inf).

    Examples
    --------
    >>> import adjit as ad
    >>> float(ad.linalg.matrix_norm(ad.tensor([[1.0, 2.0], [3.0, 4.0]]), ord=1))
    6.0
    """
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)
