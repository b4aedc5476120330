"""Diagonals, triangles and padding: diag, diagonal, diagflat, pad as compositions of the shape
rows (getitem, scatter_add, transpose, concatenate), the triu row (tril's twin) and the public
functions of both triangles."""
import builtins
import operator

import numpy as np

from ..core.domain import Sample
from ..core.registry import Traced, composite, defop, implements
from .axes import ndim, shape
from .casts import astype
from .rearrange import norm_axis, ravel, same
from .shape import broadcast_to, concatenate, getitem, scatter_add, transpose
from .shape import tril as tril_row

triu_row = defop("triu", lambda x, k=0: np.triu(x, k), lambda g, y, x, k=0: (triu_row(g, k=k),),
                 linear=True, saves_in=False, lower="pw",
                 jit={"pw": lambda a, p, idx: f"{a[0]} if {idx[-1]} - {idx[-2]} >= "
                                              f"{int(p.get('k', 0))} else 0.0"},
                 domain=[Sample((4, 4)), Sample((3, 4), k=-1), Sample((2, 3, 3), k=1),
                         Sample((3, 2), k=5)])


def _triangle(row, m, k, fname):
    m = m if isinstance(m, Traced) else np.asarray(m)
    if ndim(m) == 0:
        raise ValueError(f"adjit.{fname}: expected an array of at least 1 dimension, got a 0-d "
                         "value")
    if ndim(m) == 1:   # as NumPy: a vector is taken as every row of a square matrix
        m = broadcast_to(m, shape=shape(m) * 2)
    return row(m, k=operator.index(k))


@triu_row.public(numpy=(np.triu,), methods=("triu",))
def triu(m, k=0):
    """The upper triangle of the last two axes: entries below the k-th diagonal zeroed
    (``np.triu``; PyTorch's ``triu(diagonal=k)``). A vector is taken as every row of a square
    matrix, as NumPy does.

    Parameters
    ----------
    m : array_like
    k : int, optional
        The diagonal above which to zero (0 the main one, > 0 above it, < 0 below).

    Returns
    -------
    array or Tensor
        The array with the lower triangle zeroed.

    Examples
    --------
    >>> ad.triu(np.ones((2, 2)))
    array([[1., 1.],
           [0., 1.]])
    """
    return _triangle(triu_row, m, k, "triu")


# np.tril: this function replaces shape.py's adapter (a vector, as NumPy, and one spelling)
@tril_row.public(export=True, numpy=(np.tril,), methods=("tril",))
@implements(np.tril)
def tril(m, k=0):
    """The lower triangle of the last two axes: entries above the k-th diagonal zeroed
    (``np.tril``; PyTorch's ``tril(diagonal=k)``). A vector is taken as every row of a square
    matrix, as NumPy does.

    Parameters
    ----------
    m : array_like
    k : int, optional
        The diagonal above which to zero (0 the main one, > 0 above it, < 0 below).

    Returns
    -------
    array or Tensor
        The array with the upper triangle zeroed.

    Examples
    --------
    >>> ad.tril(np.ones((2, 2)))
    array([[1., 0.],
           [1., 1.]])
    """
    return _triangle(tril_row, m, k, "tril")


def _diag_index(n, m, k):
    """Row and column indices of the k-th diagonal of an n x m matrix."""
    i = np.arange(builtins.max(0, -k), builtins.max(0, builtins.min(n, m - k)))
    return i, i + k


@composite(methods=("diag",), numpy=(np.diag,),
           domain=[Sample((3,)), Sample((3,), k=1), Sample((2,), k=-2), Sample((3, 4)),
                   Sample((3, 4), k=2), Sample((4, 3), k=-1), Sample((0,))])
def diag(v, k=0):
    """A diagonal: of a vector, the square matrix with v on its k-th diagonal; of a matrix,
    its k-th diagonal as a vector (``np.diag``).

    Parameters
    ----------
    v : array_like, 1-D or 2-D
    k : int, optional
        The diagonal (0 the main one, > 0 above it, < 0 below).

    Returns
    -------
    array or Tensor
        The matrix (from a vector) or the diagonal (from a matrix).

    Examples
    --------
    >>> ad.diag(np.array([1.0, 2.0]))
    array([[1., 0.],
           [0., 2.]])
    >>> ad.diag(np.array([[1.0, 2.0], [3.0, 4.0]]), k=1)
    array([2.])
    """
    k = operator.index(k)
    if not isinstance(v, Traced):
        return np.diag(v, k)
    s = shape(v)
    if len(s) == 1:
        n = s[0] + abs(k)
        i = np.arange(s[0])
        idx = (i + builtins.max(0, -k), i + builtins.max(0, k))
        out = scatter_add(v, idx=idx, shape=(n, n))   # a float scatter: cast back as NumPy
        return out if v.dtype == out.dtype else astype(out, v.dtype)
    if len(s) == 2:
        return getitem(v, idx=_diag_index(s[0], s[1], k))
    raise ValueError(f"adjit.diag: input must be 1-d or 2-d, got shape {s}")


@composite(methods=("diagflat",), numpy=(np.diagflat,),
           domain=[Sample((2, 2)), Sample((3,), k=-1)])
def diagflat(v, k=0):
    """The square matrix with the flattened input on its k-th diagonal (``np.diagflat``).

    Examples
    --------
    >>> ad.diagflat(np.array([[1.0, 2.0]]))
    array([[1., 0.],
           [0., 2.]])
    """
    if not isinstance(v, Traced):
        return np.diagflat(v, k)
    return diag(ravel(v), k)


@composite(methods=("diagonal",), numpy=(np.diagonal,),
           domain=[Sample((3, 4)), Sample((3, 4), offset=-1), Sample((2, 3, 4), offset=1,
                                                                     axis1=2, axis2=0),
                   Sample((2, 3, 3), axis1=-2, axis2=-1), Sample((2, 3), offset=5)])
def diagonal(a, offset=0, axis1=0, axis2=1):
    """The offset diagonal of the 2-D slices over (axis1, axis2), as the last axis after the
    others (``np.diagonal``; PyTorch's ``diagonal(offset, dim1, dim2)``).

    Parameters
    ----------
    a : array_like, at least 2-D
    offset : int, optional
        The diagonal (0 the main one, > 0 above it, < 0 below).
    axis1, axis2 : int, optional
        The axes of the 2-D slices.

    Returns
    -------
    array or Tensor
        The diagonals, of shape (other axes..., length of the diagonal).

    Examples
    --------
    >>> ad.diagonal(np.arange(6.0).reshape(2, 3), offset=1)
    array([1., 5.])
    """
    a = a if isinstance(a, Traced) else np.asarray(a)
    nd = ndim(a)
    if nd < 2:
        raise ValueError(f"adjit.diagonal: expected an array of at least 2 dimensions, got "
                         f"shape {shape(a)}")
    a1, a2 = norm_axis(axis1, nd, "diagonal"), norm_axis(axis2, nd, "diagonal")
    if a1 == a2:
        raise ValueError("adjit.diagonal: axis1 and axis2 cannot be the same")
    perm = tuple(i for i in range(nd) if i not in (a1, a2)) + (a1, a2)
    if perm != tuple(range(nd)):
        a = transpose(a, axes=perm)
    s = shape(a)
    return getitem(a, idx=(Ellipsis,) + _diag_index(s[-2], s[-1], operator.index(offset)))


def _pairs(x, nd, what):
    """NumPy's (before, after) per axis from a scalar, a pair or one pair per axis."""
    a = np.asarray(x)
    if what == "pad_width":
        if a.dtype.kind not in "iu":
            raise TypeError(f"adjit.pad: pad_width must be integers, got {a.dtype}")
        if a.size and a.min() < 0:
            raise ValueError("adjit.pad: pad_width can't contain negative values")
    if a.ndim < 3 and a.size == 1:
        return [(a.ravel()[0],) * 2] * nd
    if a.ndim < 3 and a.size == 2 and a.shape != (2, 1):
        return [tuple(a.ravel())] * nd
    try:
        return [tuple(p) for p in np.broadcast_to(a, (nd, 2))]
    except ValueError:
        raise ValueError(f"adjit.pad: {what} of shape {a.shape} does not fit an array of "
                         f"{nd} dimensions (give one (before, after) pair per axis)") from None


def _block(x, shp, value, dtype):
    """A constant block of the padding: a wrapped value broadcast, or a plain one filled in
    x's dtype (as NumPy casts constant_values)."""
    if isinstance(value, Traced):
        return broadcast_to(value, shape=shp)
    return np.full(shp, value, dtype=dtype)


_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


@composite(numpy=(np.pad,),
           domain=[Sample((3, 4), pad_width=1), Sample((3, 4), pad_width=((1, 2), (0, 3)),
                                                       constant_values=((0.5, -1.0), (2.0, 3.0))),
                   Sample((3, 4), pad_width=(2, 1), mode="edge"),
                   Sample((4, 3), pad_width=((2, 3), (1, 0)), mode="reflect"),
                   Sample((3,), pad_width=(4, 5), mode="reflect"),
                   Sample((2, 3), pad_width=2, mode="symmetric"),
                   Sample((2, 3), pad_width=((1, 0), (2, 4)), mode="wrap"),
                   Sample((), pad_width=2)])
def pad(array, pad_width, mode="constant", *, constant_values=0, reflect_type="even"):
    """The array padded at both ends of every axis (``np.pad``): with constants, the edge
    values, or the array reflected or wrapped around.

    Parameters
    ----------
    array : array_like
    pad_width : int, (before, after) or ((before_0, after_0), ...)
        Entries added before and after each axis.
    mode : {'constant', 'edge', 'reflect', 'symmetric', 'wrap'}, optional
        What the new entries hold: constant_values; the edge entries; the array mirrored
        without ('reflect') or with ('symmetric') the edge entries repeated; the array wrapped.
    constant_values : scalar or pairs as pad_width, optional
        For mode 'constant'; a differentiated scalar differentiates too.
    reflect_type : {'even'}, optional

    Returns
    -------
    array or Tensor
        The padded array, of the input's dtype.

    Examples
    --------
    >>> ad.pad(np.array([1.0, 2.0]), (1, 2), mode="edge")
    array([1., 1., 2., 2., 2.])
    """
    array = array if isinstance(array, Traced) else np.asarray(array)
    nd = ndim(array)
    if mode not in _MODES:
        raise NotImplementedError(f"adjit.pad: mode={mode!r} is not supported; the modes are "
                                  f"{', '.join(_MODES)}")
    if reflect_type != "even":
        raise NotImplementedError("adjit.pad: reflect_type='odd' is not supported yet")
    widths = [tuple(operator.index(w) for w in p) for p in _pairs(pad_width, nd, "pad_width")]
    if mode == "constant":
        values = ([(constant_values,) * 2] * nd if isinstance(constant_values, Traced)
                  else _pairs(constant_values, nd, "constant_values"))
    dtype = array.dtype if isinstance(array, Traced) else np.asarray(array).dtype
    out = array
    # axis by axis, each block spanning the axes padded before it: the corners hold the
    # values of the last axis, as NumPy's
    for ax, (before, after) in enumerate(widths):
        if not before and not after:
            continue
        s = shape(out)
        if mode == "constant":
            parts = [out]
            if before:
                parts.insert(0, _block(out, s[:ax] + (before,) + s[ax + 1:], values[ax][0], dtype))
            if after:
                parts.append(_block(out, s[:ax] + (after,) + s[ax + 1:], values[ax][1], dtype))
            out = concatenate(parts, axis=ax)
        else:
            if s[ax] == 0:
                raise ValueError(f"adjit.pad: can't extend the empty axis {ax} with mode "
                                 f"{mode!r}; use mode='constant'")
            src = np.pad(np.arange(s[ax]), (before, after), mode=mode)
            out = getitem(out, idx=(slice(None),) * ax + (src,))
    return same(array) if out is array else out
