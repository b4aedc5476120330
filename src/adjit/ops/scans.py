"""Scans and differences: cumprod, diff, ediff1d, gradient (np.gradient)."""
import math

import numpy as np

from ..core.domain import Sample
from ..core.registry import Traced, composite
from .axes import axis_arg, cond_of, ndim, shape
from .elementwise import astype, dtype_name
from .reductions import cumsum, prod
from .shape import broadcast_to, concatenate, getitem, reshape, where
from .sorting import any_true, check_axis, from_rows, lib_row, to_rows


def _flip_last(v):
    return getitem(v, idx=(Ellipsis, slice(None, None, -1)))


# ---------------------------------------------------------------------------------------------
# cumprod

def _nb_cumprod(x):
    m, n = x.shape
    out = np.empty((m, n), dtype=x.dtype)
    for i in range(m):
        a = x.dtype.type(1)
        for j in range(n):
            a = a * x[i, j]
            out[i, j] = a
    return out


# the cumulative product along the last axis of a 2-D x WITHOUT zeros (the rules divide by x;
# cumprod takes the exact path below where x has a zero)
cumprod_last = lib_row(
    "cumprod_last", lambda x: np.cumprod(x, axis=-1),
    lambda g, y, x: (_flip_last(cumsum(_flip_last(g * y), axis=-1)) / x,),
    lambda ts, y, x: y * cumsum(ts[0] / x, axis=-1),
    saves_out=True, numba=_nb_cumprod, core=2,
    domain=[Sample((3, 4), away=(0,), gap=0.3), Sample((1, 5), values=(0.5, 1.5)),
            Sample((0, 3))])


# rows up to this long take the triangle at once; longer ones go by blocks of ~sqrt(n)
_LEAF = 32


def _cumprod_exact(x2):
    """cumprod along the last axis of a 2-D x from products of rows of triangles of x (1 above
    the diagonal): prod's rules are exact where x has zeros, to every order, and nothing
    divides. A long row is cut into blocks of about sqrt(n): the products within each block,
    times the product of all the blocks before it (the same function on the block totals), so
    the triangles hold O(n * _LEAF) values instead of n^2."""
    m, n = shape(x2)
    if n <= _LEAF:
        tri = np.tril(np.ones((n, n), dtype=bool))
        return prod(where(tri, reshape(x2, (m, 1, n)), 1), axis=-1)
    b = math.isqrt(n - 1) + 1
    nb = -(-n // b)
    ones = np.ones((m, nb * b - n), dtype=dtype_name(x2))
    xp = concatenate([x2, ones], axis=1) if nb * b > n else x2
    within = reshape(_cumprod_exact(reshape(xp, (m * nb, b))), (m, nb, b))
    totals = getitem(within, idx=(slice(None), slice(None), b - 1))
    before = concatenate([np.ones((m, 1), dtype=dtype_name(x2)),
                          getitem(_cumprod_exact(totals), idx=(slice(None), slice(0, nb - 1)))],
                         axis=1)
    y = reshape(within * reshape(before, (m, nb, 1)), (m, nb * b))
    return getitem(y, idx=(slice(None), slice(0, n)))


def _has_zero(x2):
    if np.dtype(dtype_name(x2)).kind not in "fc":   # integers: no derivative, NumPy's dtype
        return False
    xc = cond_of(x2)
    if isinstance(xc, Traced) and not xc._branches:   # ad.vmap: zeros in some elements only
        return True
    return any_true(xc == 0)


@composite(methods=("cumprod",), numpy=(np.cumprod,),
           domain=[Sample((3, 4), away=(0,), gap=0.3, axis=1), Sample((2, 3, 4), axis=0,
                                                                      away=(0,), gap=0.3),
                   Sample((2, 3), values=(0.5, 1.5)), Sample((4,), kind="with_zero", axis=0),
                   Sample((40,), kind="with_zero", values=(0.7, 1.4), second=False),
                   Sample((2, 3), kind="with_zero", axis=-1), Sample((0, 2), axis=0)])
def cumprod(a, axis=None, *, dim=None):
    """Cumulative product along an axis (None: of the flattened array). The derivative is
    exact where the values hold zeros too.

    Parameters
    ----------
    a : array_like
    axis (or dim) : int or None (the flattened array)

    Returns
    -------
    The running products, of a's shape (1-D for axis=None).

    Examples
    --------
    >>> import adjit as ad
    >>> ad.grad(lambda x: ad.cumprod(x)[-1])(ad.tensor([2.0, 0.0, 3.0]))
    tensor([0., 6., 0.])
    """
    axis = axis_arg(axis, dim)
    if axis is None:
        a, axis = reshape(a, (math.prod(shape(a)),)), 0
    ax = check_axis(axis, ndim(a), "cumprod")
    x2, layout = to_rows(a, (ax,))
    return from_rows(_cumprod_exact(x2) if _has_zero(x2) else cumprod_last(x2), layout)


# ---------------------------------------------------------------------------------------------
# differences

def _take(x, ax, sl):
    return getitem(x, idx=(slice(None),) * ax + (sl,))


def _edge(v, x, ax):
    """prepend= / append= as NumPy takes it: a scalar broadcast to x's shape with one entry
    along the axis, or an array."""
    if ndim(v) == 0:
        s = list(shape(x))
        s[ax] = 1
        return broadcast_to(v, tuple(s)) if isinstance(v, Traced) else np.broadcast_to(v, s)
    return v


@composite(numpy=(np.diff,),
           domain=[Sample((3, 4)), Sample((3, 4), axis=0, n=2), Sample((5,), n=3),
                   Sample((2, 3), prepend=np.array([[0.5], [-1.0]])),
                   Sample((3, 2), axis=0, append=1.5),
                   Sample((2, 1))])
def diff(a, n=1, axis=-1, prepend=None, append=None):
    """n-th differences along an axis, a[i+1] - a[i] (prepend= / append= values first).

    Parameters
    ----------
    a : array_like, at least 1-D
    n : int, default 1 (how many times to take differences)
    axis : int, default -1
    prepend, append : scalar or array_like, joined to a along the axis first

    Returns
    -------
    The differences: the axis n shorter than a (with prepend/append joined).

    Examples
    --------
    >>> import adjit as ad
    >>> ad.diff(ad.tensor([1.0, 4.0, 9.0]))
    tensor([3., 5.])
    """
    if n == 0:
        return a
    if n < 0:
        raise ValueError(f"adjit.diff: order must be non-negative but got {n!r}")
    nd = ndim(a)
    if nd == 0:
        raise ValueError("adjit.diff: diff requires input that is at least one dimensional")
    ax = check_axis(axis, nd, "diff")
    if prepend is not None or append is not None:
        parts = [_edge(v, a, ax) for v in (prepend,) if v is not None] + [a] + \
            [_edge(v, a, ax) for v in (append,) if v is not None]
        a = concatenate(parts, axis=ax)
    for _ in range(int(n)):
        a = _take(a, ax, slice(1, None)) - _take(a, ax, slice(None, -1))
    return a


@composite(numpy=(np.ediff1d,),
           domain=[Sample((2, 3)), Sample((4,), to_begin=np.array([0.5, 1.0])),
                   Sample((3,), to_end=np.array([1.0, 2.0]), to_begin=-1.0)])
def ediff1d(ary, to_end=None, to_begin=None):
    """Differences of consecutive elements of the flattened array, with values before and
    after.

    Parameters
    ----------
    ary : array_like
    to_end, to_begin : array_like, optional (flattened; differentiable too)

    Returns
    -------
    1-D: to_begin, the differences, to_end.

    Examples
    --------
    >>> import adjit as ad
    >>> ad.ediff1d(ad.tensor([[1.0, 2.0], [4.0, 7.0]]), to_begin=0.0)
    tensor([0., 1., 2., 3.])
    """
    flat = reshape(ary, (math.prod(shape(ary)),))
    parts = [reshape(v, (math.prod(shape(v)),)) if isinstance(v, Traced)
             else np.ravel(v).astype(dtype_name(ary)) for v in (to_begin,) if v is not None]
    parts.append(diff(flat))
    parts += [reshape(v, (math.prod(shape(v)),)) if isinstance(v, Traced)
              else np.ravel(v).astype(dtype_name(ary)) for v in (to_end,) if v is not None]
    return parts[0] if len(parts) == 1 else concatenate(parts, axis=0)


def _gradient_axis(f, ax, h, edge_order):
    n = shape(f)[ax]
    if n < edge_order + 1:
        raise ValueError("adjit.gradient: shape of array too small to calculate a numerical "
                         f"gradient, at least (edge_order + 1) = {edge_order + 1} elements are "
                         "required")
    inner = (_take(f, ax, slice(2, None)) - _take(f, ax, slice(None, -2))) / (2.0 * h)
    if edge_order == 1:
        first = (_take(f, ax, slice(1, 2)) - _take(f, ax, slice(0, 1))) / h
        last = (_take(f, ax, slice(-1, None)) - _take(f, ax, slice(-2, -1))) / h
    else:   # NumPy's second-order one-sided differences (uniform spacing)
        first = (-1.5 / h) * _take(f, ax, slice(0, 1)) + (2.0 / h) * _take(f, ax, slice(1, 2)) \
            + (-0.5 / h) * _take(f, ax, slice(2, 3))
        last = (0.5 / h) * _take(f, ax, slice(-3, -2)) + (-2.0 / h) * _take(f, ax, slice(-2, -1)) \
            + (1.5 / h) * _take(f, ax, slice(-1, None))
    return concatenate([first, inner, last], axis=ax)


@composite(numpy=(np.gradient,),
           domain=[Sample((5,)), Sample((4, 3), axis=0), Sample((3, 4), axis=-1, edge_order=2),
                   Sample((2, 3), axis=(1,))])
def gradient(f, *varargs, axis=None, edge_order=1):
    """np.gradient with uniform spacing: central differences inside, one-sided ones (first or
    second order, edge_order) at the ends. One array per axis (a tuple for several, as NumPy).

    Parameters
    ----------
    f : array_like
    *varargs : scalar spacings, one for all axes or one per axis (default 1)
    axis : int, tuple of ints or None (all)
    edge_order : 1 or 2

    Examples
    --------
    >>> import adjit as ad
    >>> ad.gradient(ad.tensor([1.0, 4.0, 9.0, 16.0]))
    tensor([3., 4., 6., 7.])
    """
    nd = ndim(f)
    axes = tuple(range(nd)) if axis is None else tuple(
        check_axis(a, nd, "gradient") for a in (axis if isinstance(axis, (tuple, list))
                                                 else (axis,)))
    if edge_order not in (1, 2):
        raise ValueError("adjit.gradient: 'edge_order' greater than 2 not supported")
    if len(varargs) == 0:
        hs = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        hs = [varargs[0]] * len(axes)
    elif len(varargs) == len(axes):
        hs = list(varargs)
    else:
        raise TypeError("adjit.gradient: invalid number of arguments (one spacing for all "
                        "axes or one per axis)")
    if any(isinstance(h, Traced) or np.ndim(h) != 0 for h in hs):
        raise NotImplementedError("adjit.gradient: only constant scalar spacings are supported "
                                  "(not coordinate arrays or differentiated spacings)")
    if not axes:
        raise ValueError("adjit.gradient: the array must have at least one dimension")
    if np.dtype(dtype_name(f)).kind in "iub":
        f = astype(f, dtype="float64")   # NumPy differentiates integers in float64
    out = tuple(_gradient_axis(f, ax, float(h), edge_order) for ax, h in zip(axes, hs))
    return out[0] if len(out) == 1 else out
