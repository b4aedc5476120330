"""NumPy's functions that repeat or add axes, as compositions of the shape rows (reshape,
broadcast_to, getitem): repeat, tile, atleast_1d/2d/3d, and broadcast_to's public function.
Their derivatives sum over the copies."""
import operator

import numpy as np

from ..core.domain import Sample
from ..core.registry import Traced, composite
from .axes import ndim, shape
from .rearrange import norm_axis
from .shape import broadcast_to as broadcast_row
from .shape import getitem, reshape


def _arr(x):
    return x if isinstance(x, Traced) else np.asarray(x)


@composite(methods=("repeat",), numpy=(np.repeat,),
           domain=[Sample((2, 3), repeats=2), Sample((2, 3), repeats=2, axis=-1),
                   Sample((2, 3), repeats=(1, 0, 3), axis=1), Sample((), repeats=3),
                   Sample((2, 3), repeats=(2,), axis=0)])
def repeat(a, repeats, axis=None):
    """Repeat each element `repeats` times along `axis` (``np.repeat``; PyTorch's
    repeat_interleave). Without `axis` the flattened array is used. The method ``t.repeat``
    is NumPy's too (``ndarray.repeat``); PyTorch's ``Tensor.repeat`` is ``ad.tile``.

    Parameters
    ----------
    a : array_like
    repeats : int or sequence of int
        Repetitions of every element, or one count per element along `axis`.
    axis : int, optional

    Returns
    -------
    array or Tensor
        The array with repeated elements.

    Examples
    --------
    >>> ad.repeat(np.array([1.0, 2.0]), 2)
    array([1., 1., 2., 2.])
    """
    a = _arr(a)
    if axis is None or ndim(a) == 0:   # NumPy takes a 0-d value as a vector of one
        a, axis = reshape(a, (-1,)), 0 if axis is None else axis
    s = shape(a)
    try:
        ax = norm_axis(axis, len(s), "repeat")
    except np.exceptions.AxisError as e:   # PyTorch's t.repeat(2, 3) lands here
        raise np.exceptions.AxisError(
            f"{e}; repeat is NumPy's repeat(repeats, axis) (ndarray.repeat too, and t.repeat): "
            "PyTorch's Tensor.repeat(*sizes) is ad.tile(t, sizes) / t.tile(sizes)") from None
    reps = np.asarray(repeats)
    if reps.dtype.kind not in "iub":
        raise TypeError(f"adjit.repeat: repeats must be integers, got {reps.dtype}")
    if reps.size == 1 and reps.ndim <= 1:
        r = int(reps.reshape(()))
        if r < 0:
            raise ValueError("adjit.repeat: negative repeats are not allowed")
        # x[..., i, None, ...] broadcast along the new axis: the cotangent is a sum
        wide = broadcast_row(reshape(a, s[:ax + 1] + (1,) + s[ax + 1:]),
                             shape=s[:ax + 1] + (r,) + s[ax + 1:])
        return reshape(wide, s[:ax] + (s[ax] * r,) + s[ax + 1:])
    if reps.shape != (s[ax],):
        raise ValueError(f"adjit.repeat: {reps.size} repeats for an axis of length {s[ax]}")
    if np.any(reps < 0):
        raise ValueError("adjit.repeat: negative repeats are not allowed")
    return getitem(a, idx=(slice(None),) * ax + (np.repeat(np.arange(s[ax]), reps),))


@composite(methods=("tile",), numpy=(np.tile,),
           domain=[Sample((2, 3), reps=2), Sample((2, 3), reps=(2, 1, 3)),
                   Sample((3,), reps=(2, 2)), Sample((), reps=(3,)), Sample((2, 3), reps=(1, 0))])
def tile(A, reps):
    """Repeat the whole array `reps` times along each axis (``np.tile``, PyTorch's
    ``Tensor.repeat``).

    Parameters
    ----------
    A : array_like
    reps : int or sequence of int
        Repetitions per axis; the shorter of A.shape and reps is padded with leading ones.

    Returns
    -------
    array or Tensor
        The tiled array, of A.ndim or len(reps) axes, whichever is larger.

    Examples
    --------
    >>> ad.tile(np.array([1.0, 2.0]), 2)
    array([1., 2., 1., 2.])
    """
    A = _arr(A)
    reps = tuple(operator.index(r) for r in ((reps,) if isinstance(reps, (int, np.integer))
                                             or np.ndim(reps) == 0 else reps))
    if any(r < 0 for r in reps):
        raise ValueError(f"adjit.tile: negative repetitions in {reps}")
    s = shape(A)
    n = max(len(s), len(reps))
    s, reps = (1,) * (n - len(s)) + tuple(s), (1,) * (n - len(reps)) + reps
    # A with a unit axis before each of its axes, broadcast to (r0, s0, r1, s1, ...)
    inter = tuple(v for p in zip((1,) * n, s) for v in p)
    wide = broadcast_row(reshape(A, inter), shape=tuple(v for p in zip(reps, s) for v in p))
    return reshape(wide, tuple(r * m for r, m in zip(reps, s)))


def _atleast(arys, fn):
    res = [fn(_arr(a)) for a in arys]
    return res[0] if len(res) == 1 else tuple(res)


@composite(numpy=(np.atleast_1d,), domain=[Sample(()), Sample((3,)), Sample((2, 3))])
def atleast_1d(*arys):
    """Each input as an array of at least one axis (a 0-d one becomes shape (1,))
    (``np.atleast_1d``); several inputs give a tuple.

    Examples
    --------
    >>> ad.atleast_1d(1.0)
    array([1.])
    """
    return _atleast(arys, lambda a: reshape(a, (1,)) if ndim(a) == 0 else a)


def _2d(a):
    nd = ndim(a)
    return reshape(a, (1, 1)) if nd == 0 else reshape(a, (1,) + shape(a)) if nd == 1 else a


def _3d(a):
    nd = ndim(a)
    if nd == 0:
        return reshape(a, (1, 1, 1))
    if nd == 1:
        return reshape(a, (1,) + shape(a) + (1,))
    return reshape(a, shape(a) + (1,)) if nd == 2 else a


@composite(numpy=(np.atleast_2d,), domain=[Sample(()), Sample((3,)), Sample((2, 3, 1))])
def atleast_2d(*arys):
    """Each input as an array of at least two axes: a vector becomes a row (1, n)
    (``np.atleast_2d``); several inputs give a tuple.

    Examples
    --------
    >>> ad.atleast_2d(np.array([1.0, 2.0])).shape
    (1, 2)
    """
    return _atleast(arys, _2d)


@composite(numpy=(np.atleast_3d,), domain=[Sample(()), Sample((3,)), Sample((2, 3)),
                                           Sample((2, 1, 3, 1))])
def atleast_3d(*arys):
    """Each input as an array of at least three axes: (n,) becomes (1, n, 1) and (m, n) becomes
    (m, n, 1) (``np.atleast_3d``); several inputs give a tuple.

    Examples
    --------
    >>> ad.atleast_3d(np.zeros((2, 3))).shape
    (2, 3, 1)
    """
    return _atleast(arys, _3d)


@broadcast_row.public(export=True, methods=("broadcast_to",))
def broadcast_to(array, shape):
    """The array broadcast to `shape` (``np.broadcast_to``; PyTorch's ``expand``). Its
    derivative sums over the broadcast axes.

    Parameters
    ----------
    array : array_like
    shape : int or tuple of int

    Returns
    -------
    array or Tensor
        The broadcast array.

    Examples
    --------
    >>> ad.broadcast_to(np.array([1.0, 2.0]), (2, 2))
    array([[1., 2.],
           [1., 2.]])
    """
    if type(shape) is not tuple:   # tuples pass straight on: forward mode calls this per op
        shape = (operator.index(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
    return broadcast_row(array, shape=shape)
