"""Selecting by index and by condition (issue 11): take, take_along_axis, put_along_axis
(functional), select, choose and compress. Compositions of the getitem, index_update and where
rows with static integer (or boolean) index arrays: the indices are constants of the
derivative, the values differentiate in every mode and compile under ad.jit."""
import numpy as np

from ..core.domain import Sample
from ..core.registry import Traced, composite, implements
from .axes import cond_of, shape
from .joins import differentiated, norm_axis, static_ints
from .shape import broadcast_to, getitem, index_update, reshape, where


def _bounded(idx, n, mode, fn, axis, negative=True):
    """Indices into an axis of length n under NumPy's mode: 'raise' (negative ones count from
    the end where `negative`), 'wrap' (modulo n) or 'clip' (to [0, n - 1])."""
    if mode == "wrap":
        if n == 0 and idx.size:
            raise IndexError(f"adjit.{fn}: cannot take from an empty axis")
        return idx % n if idx.size else idx
    if mode == "clip":
        if n == 0 and idx.size:
            raise IndexError(f"adjit.{fn}: cannot take from an empty axis")
        return np.clip(idx, 0, n - 1)
    if mode != "raise":
        raise ValueError(f"adjit.{fn}: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    lo = -n if negative else 0
    bad = idx[(idx < lo) | (idx >= n)]
    if bad.size:
        raise IndexError(f"adjit.{fn}: index {int(bad.flat[0])} is out of bounds for axis "
                         f"{axis} with size {n}")
    return np.where(idx < 0, idx + n, idx)


_I2 = np.array([[0, 2], [3, 3]])


@composite(methods=("take",), numpy=(np.take,),
           domain=[Sample((3, 4), indices=_I2, axis=1), Sample((3, 4), indices=_I2),
                   Sample((3, 4), indices=np.array([2, -1, 0]), axis=-2),
                   Sample((3, 4), indices=np.array([5, -1, 1]), axis=0, mode="wrap"),
                   Sample((3, 4), indices=np.array([7, -2, 1]), axis=1, mode="clip"),
                   Sample((2, 3), indices=1, axis=1), Sample((3,), indices=np.array([], int))])
def take(a, indices, axis=None, mode="raise"):
    """Elements of `a` at the integer `indices` along `axis` (of the flattened array when
    axis is None), as ``np.take``. The indices are constants of the derivative.

    Parameters
    ----------
    a : array_like or Tensor
    indices : int or array of ints
    axis : int, optional
    mode : {'raise', 'wrap', 'clip'}
        Out-of-range indices raise IndexError, wrap around, or clip to the ends.

    Returns
    -------
    Tensor of shape ``a.shape[:axis] + indices.shape + a.shape[axis + 1:]``

    Examples
    --------
    >>> import adjit as ad
    >>> ad.take(ad.tensor([[1.0, 2.0], [3.0, 4.0]]), [1, 0], axis=1).tolist()
    [[2.0, 1.0], [4.0, 3.0]]
    """
    idx = static_ints(indices, "take")
    if axis is None:
        a, ax = reshape(a, (-1,)), 0
    else:
        ax = norm_axis(axis, len(shape(a)), "take")
    idx = _bounded(idx, shape(a)[ax], mode, "take", ax)
    key = int(idx) if idx.ndim == 0 else idx.astype(np.intp)
    return getitem(a, idx=(slice(None),) * ax + (key,))


def _along(arr, indices, axis, fn):
    """(arr, NumPy's fancy index of take_along_axis) with the indices checked and made
    non-negative; arr flattened for axis=None."""
    idx = static_ints(indices, fn)
    if axis is None:
        if idx.ndim != 1:
            raise ValueError(f"adjit.{fn}: when axis is None, the indices must have a single "
                             f"dimension, got shape {idx.shape}")
        arr, axis = reshape(arr, (-1,)), 0
    s = tuple(shape(arr))
    ax = norm_axis(axis, len(s), fn)
    if idx.ndim != len(s):
        raise ValueError(f"adjit.{fn}: the indices (shape {idx.shape}) and the array (shape "
                         f"{s}) must have the same number of dimensions")
    idx = _bounded(idx, s[ax], "raise", fn, ax).astype(np.intp)
    nd = len(s)
    key = tuple(idx if d == ax else np.arange(s[d]).reshape((1,) * d + (-1,) + (1,) * (nd - d - 1))
                for d in range(nd))
    try:
        np.broadcast_shapes(*(k.shape for k in key))
    except ValueError:
        raise ValueError(f"adjit.{fn}: the indices of shape {idx.shape} do not broadcast "
                         f"against the array of shape {s} along the axes other than {ax}") from None
    return arr, key


_J = np.array([[2, 0, 0], [1, 1, 3], [0, 2, 1]])
_J4 = np.array([[0, 2, 1, 1], [2, 2, 0, 1]])


@composite(numpy=(np.take_along_axis,),
           domain=[Sample((3, 4), indices=_J, axis=1), Sample((3, 4), indices=_J4, axis=0),
                   Sample((3, 4), indices=np.array([[0], [-1], [2]])),
                   Sample((2, 3), indices=np.array([5, 0, 0]), axis=None),
                   Sample((2, 3, 2), indices=np.array([[[1, 0]], [[0, 0]]]), axis=1)])
def take_along_axis(arr, indices, axis=-1):
    """Values of `arr` at `indices` along `axis`, matched with the other axes, as
    ``np.take_along_axis`` (the companion of argsort / argmax with keepdims). The indices
    are constants of the derivative.

    Examples
    --------
    >>> import adjit as ad
    >>> x = ad.tensor([[3.0, 1.0], [2.0, 5.0]])
    >>> ad.take_along_axis(x, [[1], [0]], axis=1).tolist()
    [[1.0], [2.0]]
    """
    arr, key = _along(arr, indices, axis, "take_along_axis")
    return getitem(arr, idx=key)


def _put_along(arr, indices, values, axis, fn):
    """(target, index, values) of put_along_axis's assignment without repeated targets: where
    an index repeats, NumPy's value is the last one written, and only that value may get a
    derivative."""
    flat, key = _along(arr, indices, axis, fn)
    s = tuple(shape(flat))
    sel = np.broadcast_shapes(*(k.shape for k in key))
    if not s or 0 in s or 0 in sel:
        return flat, key, values
    lin = np.ravel_multi_index(np.broadcast_arrays(*key), s).ravel()
    _, first_rev = np.unique(lin[::-1], return_index=True)
    if first_rev.size == lin.size:
        return flat, key, values
    keep = np.sort(lin.size - 1 - first_rev)   # the last write to each target, in order
    vals = getitem(reshape(broadcast_to(values, shape=sel), (-1,)), idx=(keep,))
    return flat, np.unravel_index(lin[keep], s), vals


def _put_call(op, arr, values, indices, axis):
    return op(arr, indices, values, axis)


_REP = np.array([[0, 2, 0], [1, 1, 1], [3, 0, 2]])


@composite(domain=[Sample((3, 4), (3, 3), indices=_J, axis=1, call=_put_call),
                   Sample((3, 4), (), indices=_J4[:1], axis=0, call=_put_call),
                   Sample((3, 4), (3, 1), indices=_REP, axis=1, call=_put_call),
                   Sample((2, 3), (2,), indices=np.array([4, -1]), axis=None,
                          call=_put_call)])
def put_along_axis(arr, indices, values, axis):
    """`arr` with `values` written at `indices` along `axis`, as ``np.put_along_axis`` but
    functional: a new array is returned and `arr` is unchanged (``np.put_along_axis`` on a
    Tensor, dual or ad.jit tracer writes into it in place, as ``t[i] = v`` does). Where an
    index repeats, the last value written wins and alone gets a derivative.

    Examples
    --------
    >>> import adjit as ad
    >>> ad.put_along_axis(ad.zeros((2, 2)), [[1], [0]], 5.0, axis=1).tolist()
    [[0.0, 5.0], [5.0, 0.0]]
    """
    flat, key, vals = _put_along(arr, indices, _as_dtype_of(values, arr), axis,
                                 "put_along_axis")
    out = index_update(flat, vals, idx=key)
    return reshape(out, shape(arr)) if axis is None else out


def _as_dtype_of(values, arr):
    """Plain values in a float arr's dtype, as NumPy writes them (5.0 into float32 stays
    float32); differentiated values keep theirs (index_update promotes)."""
    dt = np.dtype(arr.dtype) if isinstance(arr, Traced) else np.asarray(arr).dtype
    if isinstance(values, Traced) or dt.kind != "f":
        return values
    v = np.asarray(values)
    return v.astype(dt) if v.dtype.kind in "biuf" else v


def _level(v):
    return v._level if isinstance(v, Traced) else -1


@implements(np.put_along_axis)
def _np_put_along_axis(arr, indices, values, axis):
    """np.put_along_axis(t, ...) writes into t in place (t becomes the updated array, recorded
    as index_update, as t[i] = v); into a NumPy array a differentiated value cannot be
    written."""
    if not isinstance(arr, Traced):
        if not differentiated(values):   # constants (an ad.jit tracer is read: eager)
            return np.put_along_axis(arr, indices, np.asarray(values), axis)
        raise TypeError(
            "adjit: np.put_along_axis cannot write a differentiated value into a NumPy array "
            "(its derivative would be lost); use arr = ad.put_along_axis(arr, indices, values, "
            "axis), which returns the updated array, or make arr a Tensor")
    if _level(values) > arr._level and differentiated(values):
        # an in-place update of a Tensor made outside a transform (ad.zeros inside ad.grad)
        # with a value of that transform loses the derivative today: refuse it
        raise TypeError(
            f"adjit: np.put_along_axis cannot write a value of an inner transform (ad.grad, "
            f"ad.jvp ...) into a {type(arr).__name__} made outside it; use arr = "
            "ad.put_along_axis(arr, indices, values, axis), which returns the updated array")
    target, key, vals = _put_along(arr, indices, values, axis, "put_along_axis")
    if axis is None:   # arr seen flattened: write through its flat positions
        key = np.unravel_index(np.ravel_multi_index(key, shape(target)), shape(arr))
    arr[key] = vals


_C1 = np.array([[True, False, False], [False, True, False]])
_C2 = np.array([[True, True, False], [False, True, True]])


def _select_call(op, a, b, *default, conds=(_C1, _C2)):
    return op(list(conds), [a, b], *default)


@composite(numpy=(np.select,),
           domain=[Sample((2, 3), (2, 3), (2, 3), call=_select_call),
                   Sample((2, 3), (3,), call=_select_call),
                   Sample((2, 3), (), (1, 3), call=_select_call),
                   Sample((), (3,), call=_select_call, conds=(True, _C2[0]))])
def select(condlist, choicelist, default=0):
    """The element of the first choice whose condition holds, `default` where none does, as
    ``np.select``. The conditions are boolean arrays (constants of the derivative).

    Examples
    --------
    >>> import adjit as ad
    >>> x = ad.tensor([-1.0, 0.5, 3.0])
    >>> ad.select([x < 0, x > 1], [-x, x * 2], default=x).tolist()
    [1.0, 0.5, 6.0]
    """
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError(f"adjit.select: {len(condlist)} conditions and {len(choicelist)} "
                         "choices: the lists must have the same length")
    if not condlist:
        raise ValueError("adjit.select: select with an empty condition list is not possible")
    out = default
    for i in range(len(condlist) - 1, -1, -1):   # the first condition that holds wins
        c = cond_of(condlist[i])   # an ad.jit tracer stays: the kernel computes the mask
        dt = np.dtype(c.dtype) if isinstance(c, Traced) else np.asarray(c).dtype
        if dt.kind != "b":
            raise TypeError(f"adjit.select: invalid entry {i} in condlist: it should be a "
                            f"boolean array, got dtype {dt}")
        out = where(condlist[i], choicelist[i], out)
    return out


def _choose_call(op, *choices, a, mode="raise"):
    return op(a, list(choices), mode=mode)


_A = np.array([[0, 1, 2], [2, 0, 1]])


@composite(numpy=(np.choose,),
           domain=[Sample((2, 3), (2, 3), (2, 3), a=_A, call=_choose_call),
                   Sample((3,), (2, 1), a=np.array([0, 1, 1]), call=_choose_call),
                   Sample((2, 3), (), a=np.array([[3, 0, -1], [1, 2, 0]]), mode="wrap",
                          call=_choose_call),
                   Sample((2, 3), (2, 3), a=np.array([5, -1, 0]), mode="clip",
                          call=_choose_call)])
def choose(a, choices, mode="raise"):
    """``choices[a[i]][i]`` for every position (`a` and the choices broadcast together), as
    ``np.choose``; the integer array `a` is a constant of the derivative.

    Examples
    --------
    >>> import adjit as ad
    >>> ad.choose([1, 0, 1], [ad.zeros(3), ad.ones(3)]).tolist()
    [1.0, 0.0, 1.0]
    """
    idx = static_ints(a, "choose", "index array a")
    choices = list(choices)
    n = len(choices)
    if not n:
        raise ValueError("adjit.choose: need at least one choice")
    if mode == "raise" and idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"adjit.choose: invalid entry in the index array: values must be in "
                         f"[0, {n - 1}] for {n} choices (mode='wrap' or 'clip' to map others)")
    idx = _bounded(idx, n, mode, "choose", 0) if mode != "raise" else idx
    out = choices[n - 1]
    for k in range(n - 2, -1, -1):
        out = where(idx == k, choices[k], out)
    # the result has the broadcast shape of a and every choice (a single choice: a's too)
    full = np.broadcast_shapes(idx.shape, *(tuple(shape(c)) for c in choices))
    return out if tuple(shape(out)) == full else broadcast_to(out, shape=full)


_M = np.array([True, False, True])


@composite(numpy=(np.compress,),
           domain=[Sample((3, 2), condition=_M, axis=0, call=lambda op, x, **p: op(a=x, **p)),
                   Sample((2, 3), condition=_M[:2], axis=-1,
                          call=lambda op, x, **p: op(a=x, **p)),
                   Sample((2, 2), condition=np.array([False, True, True]),
                          call=lambda op, x, **p: op(a=x, **p))])
def compress(condition, a, axis=None):
    """The slices of `a` along `axis` (of the flattened array when axis is None) where the
    1-D boolean `condition` is True, as ``np.compress``; a condition shorter than the axis
    selects from its first entries. The condition is a constant of the derivative.

    Examples
    --------
    >>> import adjit as ad
    >>> ad.compress([True, False, True], ad.tensor([1.0, 2.0, 3.0])).tolist()
    [1.0, 3.0]
    """
    c = cond_of(condition)
    if isinstance(c, Traced):   # an ad.jit tracer: the result's shape depends on its values
        c = c.index_value()     # (ad.jit runs the function eagerly and says why)
    c = np.asarray(c)
    if c.ndim != 1:
        raise ValueError(f"adjit.compress: the condition must be a 1-d array, got shape "
                         f"{c.shape}")
    if axis is None:
        a, ax = reshape(a, (-1,)), 0
    else:
        ax = norm_axis(axis, len(shape(a)), "compress")
    n = shape(a)[ax]
    pos = np.flatnonzero(c)
    if pos.size and pos[-1] >= n:
        raise IndexError(f"adjit.compress: the condition selects index {int(pos[-1])}, out of "
                         f"bounds for axis {ax} with size {n}")
    return getitem(a, idx=(slice(None),) * ax + (pos,))
