"""NumPy's rearranging functions as compositions of the shape rows (transpose, getitem,
reshape, concatenate): swapaxes, moveaxis, rollaxis, flip, fliplr, flipud, rot90, roll, ravel, expand_dims, squeeze.
Being compositions of rows, they differentiate in every mode, to any order, and compile under
ad.jit (the functions that repeat entries: `tiling`)."""
import operator

import numpy as np

from ..core.domain import Sample
from ..core.registry import Traced, composite, implements
from .axes import ndim, shape
from .shape import concatenate, getitem, reshape, transpose


def norm_axis(axis, nd, fname):
    """axis as a non-negative int, or NumPy's AxisError naming the adjit function."""
    a = operator.index(axis)
    if not -nd <= a < nd:
        raise np.exceptions.AxisError(a, nd, f"adjit.{fname}")
    return a % nd


def norm_axes(axis, nd, fname):
    """An int or a sequence of ints as a tuple of distinct non-negative axes."""
    if isinstance(axis, (int, np.integer)):   # the usual case, without np.ndim's ~1 us
        return (norm_axis(axis, nd, fname),)
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    out = tuple(norm_axis(a, nd, fname) for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"adjit.{fname}: repeated axis in {axis}")
    return out


def same(x):
    """A copy of x as a new value (NumPy returns a copy where nothing moves). The getitem row
    itself, not x[...]: a reshape or an indexing method would link the copy as a view of x, so
    a write into it would raise or show in x (ops/views.py)."""
    return getitem(x, idx=(Ellipsis,))


def _arr(x):
    return x if isinstance(x, Traced) else np.asarray(x)


@composite(methods=("swapaxes",), numpy=(np.swapaxes,),
           domain=[Sample((2, 3, 4), axis1=0, axis2=2), Sample((3, 4), axis1=-1, axis2=0),
                   Sample((0, 2), axis1=0, axis2=1)])
def swapaxes(a, axis1, axis2):
    """Interchange two axes of an array (``np.swapaxes``).

    Parameters
    ----------
    a : array_like
    axis1, axis2 : int
        The axes to swap.

    Returns
    -------
    array or Tensor
        The array with the two axes swapped.

    Examples
    --------
    >>> ad.swapaxes(np.zeros((2, 3, 4)), 0, 2).shape
    (4, 3, 2)
    """
    a = _arr(a)
    nd = ndim(a)
    i, j = norm_axis(axis1, nd, "swapaxes"), norm_axis(axis2, nd, "swapaxes")
    axes = list(range(nd))
    axes[i], axes[j] = axes[j], axes[i]
    return transpose(a, axes=tuple(axes))


@composite(methods=("moveaxis",), numpy=(np.moveaxis,),
           domain=[Sample((2, 3, 4), source=0, destination=-1),
                   Sample((2, 3, 4), source=(0, 1), destination=(2, 0)), Sample((3,), source=0,
                                                                                destination=0)])
def moveaxis(a, source, destination):
    """Move axes to new positions, the other axes keeping their order (``np.moveaxis``).

    Parameters
    ----------
    a : array_like
    source, destination : int or sequence of int
        Original and new positions of the axes moved.

    Returns
    -------
    array or Tensor
        The array with the axes moved.

    Examples
    --------
    >>> ad.moveaxis(np.zeros((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    a = _arr(a)
    nd = ndim(a)
    src = norm_axes(source, nd, "moveaxis")
    dst = norm_axes(destination, nd, "moveaxis")
    if len(src) != len(dst):
        raise ValueError("adjit.moveaxis: `source` and `destination` arguments must have the "
                         "same number of elements")
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(a, axes=tuple(order))


@composite(methods=("rollaxis",), numpy=(np.rollaxis,),
           domain=[Sample((2, 3, 4), axis=2), Sample((2, 3, 4), axis=0, start=3),
                   Sample((2, 3), axis=-1, start=-2)])
def rollaxis(a, axis, start=0):
    """Roll `axis` backwards until it lies before position `start` (``np.rollaxis``; prefer
    moveaxis).

    Parameters
    ----------
    a : array_like
    axis : int
        The axis to move.
    start : int, optional
        The position before which it ends up (0 <= start <= a.ndim after wrapping).

    Returns
    -------
    array or Tensor
        The array with the axis moved.

    Examples
    --------
    >>> ad.rollaxis(np.zeros((2, 3, 4)), 2).shape
    (4, 2, 3)
    """
    a = _arr(a)
    n = ndim(a)
    axis = norm_axis(axis, n, "rollaxis")
    start = operator.index(start)
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(f"adjit.rollaxis: 'start' arg requires {-n} <= start < "
                                      f"{n + 1}, but {start} was passed in")
    if axis < start:
        start -= 1
    axes = list(range(n))
    axes.remove(axis)
    axes.insert(start, axis)
    return transpose(a, axes=tuple(axes))


@composite(methods=("flip",), numpy=(np.flip,),
           domain=[Sample((2, 3, 4)), Sample((2, 3, 4), axis=-1), Sample((3, 4), axis=(0, 1)),
                   Sample(()), Sample((0, 2), axis=1)])
def flip(m, axis=None):
    """Reverse the order of elements along the given axes, all of them by default (``np.flip``).

    Parameters
    ----------
    m : array_like
    axis : None, int or tuple of int, optional

    Returns
    -------
    array or Tensor
        The array with the entries along `axis` reversed.

    Examples
    --------
    >>> ad.flip(np.array([1.0, 2.0, 3.0]))
    array([3., 2., 1.])
    """
    m = _arr(m)
    nd = ndim(m)
    axes = range(nd) if axis is None else norm_axes(axis, nd, "flip")
    rev = slice(None, None, -1)
    return getitem(m, idx=tuple(rev if i in axes else slice(None) for i in range(nd)))


@composite(methods=("fliplr",), numpy=(np.fliplr,), domain=[Sample((3, 4)), Sample((2, 3, 2))])
def fliplr(m):
    """Reverse the order of the columns, axis 1 (``np.fliplr``).

    Examples
    --------
    >>> ad.fliplr(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[2., 1.],
           [4., 3.]])
    """
    m = _arr(m)
    if ndim(m) < 2:
        raise ValueError("adjit.fliplr: input must be >= 2-d")
    return flip(m, 1)


@composite(methods=("flipud",), numpy=(np.flipud,), domain=[Sample((3, 4)), Sample((3,))])
def flipud(m):
    """Reverse the order of the rows, axis 0 (``np.flipud``).

    Examples
    --------
    >>> ad.flipud(np.array([1.0, 2.0]))
    array([2., 1.])
    """
    m = _arr(m)
    if ndim(m) < 1:
        raise ValueError("adjit.flipud: input must be >= 1-d")
    return flip(m, 0)


@composite(methods=("rot90",), numpy=(np.rot90,),
           domain=[Sample((3, 4)), Sample((3, 4), k=2), Sample((2, 3, 4), k=-1, axes=(2, 0)),
                   Sample((3, 4), k=4)])
def rot90(m, k=1, axes=(0, 1)):
    """Rotate by 90 degrees `k` times, from the first axis of `axes` towards the second
    (``np.rot90``).

    Parameters
    ----------
    m : array_like, at least 2-D
    k : int, optional
    axes : (int, int), optional

    Returns
    -------
    array or Tensor
        The rotated array.

    Examples
    --------
    >>> ad.rot90(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[2., 4.],
           [1., 3.]])
    """
    m = _arr(m)
    nd = ndim(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("adjit.rot90: len(axes) must be 2")
    a0, a1 = norm_axis(axes[0], nd, "rot90"), norm_axis(axes[1], nd, "rot90")
    if a0 == a1:
        raise ValueError("adjit.rot90: axes must be different")
    k = operator.index(k) % 4
    if k == 0:
        return same(m)
    if k == 2:
        return flip(m, (a0, a1))
    perm = list(range(nd))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return transpose(flip(m, a1), axes=tuple(perm))
    return flip(transpose(m, axes=tuple(perm)), a1)


def _roll1(x, s, ax):
    n = shape(x)[ax]
    if n == 0 or s % n == 0:
        return x
    s %= n
    pre = (slice(None),) * ax
    return concatenate([getitem(x, idx=pre + (slice(n - s, None),)),
                        getitem(x, idx=pre + (slice(None, n - s),))], axis=ax)


@composite(methods=("roll",), numpy=(np.roll,),
           domain=[Sample((3, 4), shift=1, axis=1), Sample((3, 4), shift=5),
                   Sample((2, 3, 4), shift=(1, -1, 2), axis=(0, 2, 0)),
                   Sample((3,), shift=-4, axis=0), Sample((0, 2), shift=1, axis=0)])
def roll(a, shift, axis=None):
    """Roll elements along axes: those shifted beyond the last position come back at the first
    (``np.roll``). Without `axis` the flattened array is rolled and the shape restored.

    Parameters
    ----------
    a : array_like
    shift : int or tuple of int
        Places to shift by; with a tuple, `axis` must be a tuple of the same length (or an
        int), and shifts of the same axis add up.
    axis : None, int or tuple of int, optional

    Returns
    -------
    array or Tensor
        The rolled array.

    Examples
    --------
    >>> ad.roll(np.array([1.0, 2.0, 3.0]), 1)
    array([3., 1., 2.])
    """
    a = _arr(a)
    if axis is None:
        return reshape(roll(reshape(a, (-1,)), shift, 0), shape(a))
    nd = ndim(a)
    if isinstance(shift, (int, np.integer)) and isinstance(axis, (int, np.integer)):
        out = _roll1(a, int(shift), norm_axis(axis, nd, "roll"))
        return same(a) if out is a else out
    shifts = np.broadcast_to(np.asarray(shift), np.broadcast_shapes(np.shape(shift),
                                                                    np.shape(axis)))
    axes = np.broadcast_to(np.asarray(axis), shifts.shape)
    total = [0] * nd
    for s, ax in zip(shifts.ravel(), axes.ravel()):
        total[norm_axis(ax, nd, "roll")] += operator.index(s)
    out = a
    for ax, s in enumerate(total):
        out = _roll1(out, s, ax)
    return same(a) if out is a else out


@composite(methods=("ravel",), numpy=(np.ravel,),
           domain=[Sample((2, 3)), Sample((2, 3, 2), order="F"), Sample(()), Sample((0, 3))])
def ravel(a, order="C"):
    """The array flattened to one axis, in row-major ("C") or column-major ("F") order
    (``np.ravel``).

    Examples
    --------
    >>> ad.ravel(np.array([[1.0, 2.0], [3.0, 4.0]]), order="F")
    array([1., 3., 2., 4.])
    """
    a = _arr(a)
    if order in ("C", None):
        return reshape(a, (-1,))
    if order == "F":
        return reshape(transpose(a), (-1,))
    raise ValueError(f"adjit.ravel: order={order!r} reads the memory layout, which adjit's "
                     "values do not expose; use order='C' (the default) or 'F'")


@composite
@implements(np.expand_dims)
def expand_dims(x, axis):
    """NumPy's expand_dims: an axis or a tuple of axes of the result."""
    s = shape(x)
    n = len(s) + (1 if np.ndim(axis) == 0 else len(axis))
    new = norm_axes(axis, n, "expand_dims")
    it = iter(s)
    return reshape(x, tuple(1 if i in new else next(it) for i in range(n)))


@composite
@implements(np.squeeze)
def squeeze(x, axis=None):
    """NumPy's squeeze: an axis named explicitly must have size 1 (Tensor.squeeze(dim) skips
    such an axis instead, as PyTorch)."""
    s = shape(x)
    if axis is None:
        return reshape(x, tuple(n for n in s if n != 1))
    axes = set()
    for a in ((axis,) if isinstance(axis, (int, np.integer)) else axis):
        if not -len(s) <= int(a) < len(s):
            raise np.exceptions.AxisError(int(a), len(s), "adjit.squeeze")
        if s[int(a) % len(s)] != 1:
            raise ValueError(f"adjit.squeeze: cannot squeeze axis {int(a)} of an array of shape "
                             f"{tuple(s)}: it has size {s[int(a) % len(s)]}, not 1")
        axes.add(int(a) % len(s))
    return reshape(x, tuple(n for i, n in enumerate(s) if i not in axes))
