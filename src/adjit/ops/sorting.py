"""Functions of the values' order: sort, argsort, partition, argmax, argmin (median, quantile
and percentile, from the sorted values, are in quantiles.py).

The order of the values must never be frozen into the derivative or into ad.jit's kernel: the
permutation is the output of a row (`argsort_last`, no derivative) whose primal computes it,
lowered under ad.jit to numba code of its own ("lib"), so the compiled kernel sorts each call's
data. The sorted values are `gather_last(x, perm)`, linear in x, whose VJP is
`scatter_last(g, perm)` (and the other way round), lowered the same way. These rows work on 2-D
arrays along the last axis; the public functions move their axes there (`to_rows`) and back.
"""
import hashlib
import math

import numpy as np

from ..core.domain import Sample
from ..core.registry import Traced, composite, defop
from .axes import axis_arg, cond_of, ndim, shape
from .shape import reshape, sum_op, transpose


def lib_row(name, primal, vjp=None, jvp=None, *, numba, core, **flags):
    """A row that ad.jit compiles by calling `numba` (a Python function numba compiles, on the
    rows' 2-D arrays) through jit/oplib.py; `core`: the output's trailing dims per call (the
    leading ones, if any, are a batch: one call per element). The code's digest goes into the
    kernel's text, so a kernel cached with an older implementation is not reused."""
    code = numba.__code__
    digest = hashlib.sha1(code.co_code + repr(code.co_consts).encode()).hexdigest()[:12]
    args = ", ".join(f"{{{i}}}" for i in range(code.co_argcount))
    row = defop(name, primal, vjp, jvp, lower="lib", export=False,
                jit={"call": f"oplib.{name}({args})  # numba code {digest}", "core": core},
                **flags)
    row.numba = numba
    return row


def check_axis(axis, nd, who):
    """axis as a non-negative int, or NumPy's AxisError."""
    a = int(axis)
    if not -nd <= a < nd:
        raise np.exceptions.AxisError(f"adjit.{who}: axis {a} is out of bounds for an array of "
                                      f"dimension {nd}")
    return a % nd


def any_true(mask):
    """Whether any entry of a mask holds; under ad.jit a guard (the kernel re-checks it)."""
    if isinstance(mask, Traced):
        return bool(sum_op(mask))
    return bool(np.any(mask))


def to_rows(x, axes):
    """x with `axes` moved last and merged into one, the others merged in front: the 2-D
    value and what from_rows needs to undo it (the permutation, kept and moved shapes)."""
    nd, s = ndim(x), shape(x)
    keep = [d for d in range(nd) if d not in axes]
    perm = tuple(keep) + tuple(axes)
    if perm != tuple(range(nd)):
        x = transpose(x, axes=perm)
    outer, inner = tuple(s[d] for d in keep), tuple(s[d] for d in axes)
    return reshape(x, (math.prod(outer), math.prod(inner))), (perm, outer, inner)


def from_rows(y, layout):
    """The inverse of to_rows (y's last axis holding the moved axes again)."""
    perm, outer, inner = layout
    y = reshape(y, outer + inner)
    if perm != tuple(range(len(perm))):
        y = transpose(y, axes=tuple(int(i) for i in np.argsort(perm)))
    return y


# ---------------------------------------------------------------------------------------------
# the rows (numba code: plain loops over the rows of 2-D arrays)

def _nb_argsort(x):
    m, n = x.shape
    out = np.empty((m, n), dtype=np.intp)
    for i in range(m):
        out[i] = np.argsort(x[i], kind="mergesort")   # stable, NaN last: as NumPy's
    return out


def _nb_gather(x, p):
    m, n = p.shape
    out = np.empty((m, n), dtype=x.dtype)
    for i in range(m):
        for j in range(n):
            out[i, j] = x[i, p[i, j]]
    return out


def _nb_scatter(g, p):
    m, n = p.shape
    out = np.zeros((m, n), dtype=g.dtype)
    for i in range(m):
        for j in range(n):
            out[i, p[i, j]] += g[i, j]
    return out


def _nb_argmax(x):
    m, n = x.shape
    out = np.zeros(m, dtype=np.intp)
    for i in range(m):
        b = x[i, 0]
        for j in range(1, n):
            if b != b:    # NaN wins, first one: as NumPy's
                break
            if x[i, j] > b or x[i, j] != x[i, j]:
                b = x[i, j]
                out[i] = j
    return out


def _nb_argmin(x):
    m, n = x.shape
    out = np.zeros(m, dtype=np.intp)
    for i in range(m):
        b = x[i, 0]
        for j in range(1, n):
            if b != b:
                break
            if x[i, j] < b or x[i, j] != x[i, j]:
                b = x[i, j]
                out[i] = j
    return out


def _rows_of(p):
    return np.arange(np.shape(p)[0])[:, None]


def _argsort_primal(x):
    # NumPy's default sort is several times faster than its stable one, and gives the same
    # permutation where no two values tie (NaNs tie with each other)
    if x.dtype.kind == "f":
        p = np.argsort(x, axis=-1)
        s = np.take_along_axis(x, p, axis=-1)
        a, b = s[:, 1:], s[:, :-1]
        if not np.any((a == b) | ((a != a) & (b != b))):
            return p
    return np.argsort(x, axis=-1, kind="stable")


argsort_last = lib_row("argsort_last", _argsort_primal, numba=_nb_argsort, core=2,
                       nondiff=True)
argmax_last = lib_row("argmax_last", lambda x: np.argmax(x, axis=-1), numba=_nb_argmax,
                      core=1, nondiff=True)
argmin_last = lib_row("argmin_last", lambda x: np.argmin(x, axis=-1), numba=_nb_argmin,
                      core=1, nondiff=True)

# a fixed permutation of each row for the rows' test domains
_P34 = np.array([[2, 0, 3, 1], [0, 1, 2, 3], [3, 2, 1, 0]])


def _perm_domain():
    return [Sample((3, 4), call=lambda op, x: op(x, _P34)),
            Sample((2, 3, 4), call=lambda op, x: op(x, _P34)),   # a batch in front (tangents)
            Sample((0, 3), call=lambda op, x: op(x, np.zeros((0, 3), dtype=np.intp)))]


def _gather_primal(x, p):
    return x[..., _rows_of(p), p]


def _scatter_primal(g, p):
    out = np.zeros(np.shape(g), dtype=np.asarray(g).dtype)
    out[..., _rows_of(p), p] = g     # p permutes each row: no index repeats
    return out


# x[..., i, p[i, j]]: the values in the order p gives (p: (m, n), x: (..., m, n))
gather_last = lib_row(
    "gather_last", _gather_primal,
    lambda g, y, x, p: (scatter_last(g, p), None),
    lambda ts, y, x, p: gather_last(ts[0], p),
    saves_in=False, numba=_nb_gather, core=2, domain=_perm_domain())

# its adjoint: out[..., i, p[i, j]] = g[..., i, j]
scatter_last = lib_row(
    "scatter_last", _scatter_primal,
    lambda g, y, x, p: (gather_last(g, p), None),
    lambda ts, y, x, p: scatter_last(ts[0], p),
    saves_in=False, numba=_nb_scatter, core=2, domain=_perm_domain())


def sorted_rows(x, axes):
    """x's values along `axes` (merged), sorted, as 2-D rows, and the layout."""
    x2, layout = to_rows(x, axes)
    return gather_last(x2, argsort_last(cond_of(x2))), layout


def _flat(x):
    return reshape(x, (math.prod(shape(x)),))


def _one_axis(x, axis, who):
    """(x, its axis) for functions of one axis; axis=None: of the flattened x."""
    if axis is None:
        return _flat(x), 0
    return x, check_axis(axis, ndim(x), who)


# ---------------------------------------------------------------------------------------------
# public functions

_SORT_DOMAIN = [Sample((3, 4), kind="distinct"), Sample((2, 3, 4), kind="distinct", axis=0),
                Sample((2, 3), kind="distinct", axis=None), Sample((5,), kind="distinct"),
                Sample((0, 3), axis=-1)]


@composite(numpy=(np.sort,), domain=_SORT_DOMAIN)
def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """Sorted values along an axis (stable: of equal values, the derivative goes to the
    element the sort puts in each place).

    Parameters
    ----------
    a : array_like
    axis : int or None, default -1 (None: the flattened array)
    kind, stable : accepted for NumPy's signature; the sort is always stable.

    Returns
    -------
    The sorted values, of a's shape (1-D for axis=None).

    Examples
    --------
    >>> import adjit as ad
    >>> ad.grad(lambda x: ad.sort(x)[0] * 2.0)(ad.tensor([3.0, 1.0, 2.0]))
    array([0., 2., 0.])
    """
    if order is not None:
        raise TypeError("adjit.sort: order= (structured arrays) is not supported")
    a, ax = _one_axis(a, axis, "sort")
    y2, layout = sorted_rows(a, (ax,))
    return from_rows(y2, layout)


@composite(methods=("argsort",), numpy=(np.argsort,), integer=True)
def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    """Indices that sort along an axis (stable); an integer array, no derivative.

    Parameters
    ----------
    a : array_like
    axis : int or None, default -1 (None: the flattened array)
    kind, stable : accepted for NumPy's signature; the sort is always stable.

    Returns
    -------
    ndarray of int (a traced integer array under ad.jit), of a's shape.

    Examples
    --------
    >>> import adjit as ad
    >>> ad.argsort(ad.tensor([3.0, 1.0, 2.0]))
    array([1, 2, 0])
    """
    if order is not None:
        raise TypeError("adjit.argsort: order= (structured arrays) is not supported")
    a, ax = _one_axis(cond_of(a), axis, "argsort")
    x2, layout = to_rows(a, (ax,))
    return from_rows(argsort_last(x2), layout)


_PART_DOMAIN = [Sample((3, 5), kind="distinct", kth=2), Sample((4, 3), kind="distinct", kth=1,
                                                                  axis=0),
                Sample((6,), kind="distinct", kth=(1, 4)), Sample((5,), kind="distinct", kth=-1)]


@composite(numpy=(np.partition,), domain=_PART_DOMAIN)
def partition(a, kth, axis=-1, kind="introselect", order=None):
    """The values with those at positions kth in their sorted place, the smaller before them
    and the larger after. NumPy leaves the order within the parts unspecified; adjit's are
    sorted (and the derivative follows the values: stable for ties).

    Parameters
    ----------
    a : array_like
    kth : int or sequence of ints (positions, negative from the end)
    axis : int or None, default -1 (None: the flattened array)

    Returns
    -------
    The values along the axis, in sorted order (a valid partition for every kth).

    Examples
    --------
    >>> import adjit as ad
    >>> ad.partition(ad.tensor([3.0, 1.0, 2.0, 0.0]), 1)
    tensor([0., 1., 2., 3.])
    """
    a, ax = _one_axis(a, axis, "partition")
    n = shape(a)[ax]
    for k in np.ravel(kth):
        if not -n <= int(k) < n:
            raise ValueError(f"adjit.partition: kth(={int(k)}) out of bounds ({n})")
    return sort(a, axis=ax)


def _index_function(last, who):
    def fn(a, axis=None, out=None, *, keepdims=False, dim=None, keepdim=None):
        if out is not None:
            raise TypeError(f"adjit.{who}: out= is not supported; use the returned value")
        axis, keepdims = axis_arg(axis, dim), bool(keepdims or keepdim)
        x = cond_of(a)
        nd = ndim(x)
        if 0 in shape(x) and (axis is None or shape(x)[check_axis(axis, nd, who)] == 0):
            raise ValueError(f"adjit.{who}: attempt to get {who} of an empty sequence")
        if axis is None:
            r = reshape(last(reshape(x, (1, math.prod(shape(x))))), ())
            return reshape(r, (1,) * nd) if keepdims else r
        ax = check_axis(axis, nd, who)
        x2, (perm, outer, inner) = to_rows(x, (ax,))
        r = reshape(last(x2), outer)
        if keepdims:
            r = reshape(r, shape(x)[:ax] + (1,) + shape(x)[ax + 1:])
        return r
    fn.__name__ = fn.__qualname__ = who
    return fn


argmax = composite(_index_function(argmax_last, "argmax"), methods=("argmax",),
                   numpy=(np.argmax,), integer=True)
argmax.__doc__ = """Index of the largest value (the first one, or the first NaN), along an axis
or of the flattened array; an integer array, no derivative.

Parameters
----------
a : array_like
axis (or dim) : int or None (the flattened array)
keepdims (or keepdim) : bool

Returns
-------
ndarray of int (0-d for axis=None).

Examples
--------
>>> import adjit as ad
>>> ad.argmax(ad.tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1)
array([1, 0])
"""
argmin = composite(_index_function(argmin_last, "argmin"), methods=("argmin",),
                   numpy=(np.argmin,), integer=True)
argmin.__doc__ = """Index of the smallest value (the first one, or the first NaN), along an
axis or of the flattened array; an integer array, no derivative.

Parameters
----------
a : array_like
axis (or dim) : int or None (the flattened array)
keepdims (or keepdim) : bool

Returns
-------
ndarray of int (0-d for axis=None).

Examples
--------
>>> import adjit as ad
>>> ad.argmin(ad.tensor([[1.0, 5.0], [7.0, 2.0]]), axis=0)
array([0, 1])
"""
