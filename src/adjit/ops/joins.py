"""Joining and splitting (issue 11): split, array_split, hsplit, vsplit, dsplit (lists of
pieces), hstack, vstack (row_stack), dstack, column_stack, append, and the index-expression
objects r_ and c_. All are compositions of the getitem, reshape, transpose and concatenate rows,
so they differentiate in every mode, to every order, and compile under ad.jit."""
import numpy as np

from ..core.domain import Sample
from ..core.registry import COMPOSITES, Traced, composite, implements
from .axes import cond_of, shape
from .elementwise import astype
from .shape import concatenate, getitem, reshape, transpose


def norm_axis(axis, nd, fn):
    """axis as a non-negative int, or NumPy's AxisError naming the adjit function."""
    a = int(axis)
    if not -nd <= a < nd:
        raise np.exceptions.AxisError(a, nd, f"adjit.{fn}")
    return a % nd


def differentiated(v):
    """Whether v carries a derivative (a Tensor that requires grad, a dual) at any level."""
    while isinstance(v, Traced):
        if v._carries_derivative():
            return True
        v = v._raw()
    return False


def static_ints(v, fn, what="indices"):
    """An integer argument (indices, split points) as a concrete array. It is a constant of
    the derivative: a differentiated value there has no meaning and is refused; an ad.jit
    tracer cannot be one: ad.jit runs the function eagerly, with a warning saying why."""
    if any(differentiated(w) for w in (v if isinstance(v, (list, tuple)) else (v,))):
        raise TypeError(
            f"adjit.{fn}: the {what} must be a constant integer array, got a differentiated "
            "value (a derivative with respect to an index does not exist); pass plain integers "
            "or an integer array (.detach() a tensor)")
    w = cond_of(v)
    if isinstance(w, Traced):   # an ad.jit tracer is no concrete index (it says why)
        return w.index_value()
    a = np.asarray(w)
    if a.dtype.kind not in "iu":
        if a.size == 0:   # [] reads as float64: an empty index
            return a.astype(np.intp)
        raise TypeError(f"adjit.{fn}: the {what} must be integers, got an array of dtype "
                        f"{a.dtype}")
    return a


# ---------------------------------------------------------------------------------------------
# splitting: the pieces are getitem slices along the axis


def _pieces(x, indices_or_sections, axis, fn, equal):
    nd = len(shape(x))
    if nd == 0:
        raise ValueError(f"adjit.{fn}: cannot split a 0-d array")
    ax = norm_axis(axis, nd, fn)
    n = shape(x)[ax]
    sec = static_ints(indices_or_sections, fn, "indices or sections")
    if sec.ndim == 0:
        k = int(sec)
        if k <= 0:
            raise ValueError(f"adjit.{fn}: the number of sections must be larger than 0, got {k}")
        if equal and n % k:
            raise ValueError(f"adjit.{fn}: an axis of length {n} does not split into {k} equal "
                             "sections; use array_split for unequal ones")
        q, r = divmod(n, k)
        bounds = np.cumsum([0] + [q + 1] * r + [q] * (k - r)).tolist()
    else:   # split points, read as Python slices (out of range: empty pieces, as NumPy)
        bounds = [0] + [int(i) for i in sec.ravel()] + [n]
    lead = (slice(None),) * ax
    return [getitem(x, idx=lead + (slice(a, b),)) for a, b in zip(bounds[:-1], bounds[1:])]


def _weighted(fn, axis=0):
    """A Sample's call: the pieces scaled by 1, 2, 3 ... and joined again, so the op-info
    sweep checks where each piece starts and ends."""
    def call(op, x, **p):
        ps = op(x, **p)
        return concatenate([q * (k + 1.0) for k, q in enumerate(ps)], axis=axis)
    return call


@composite(numpy=(np.split,),
           domain=[Sample((6, 3), indices_or_sections=3, call=_weighted("split")),
                   Sample((2, 5), indices_or_sections=[1, 3], axis=-1,
                          call=_weighted("split", -1)),
                   Sample((4,), indices_or_sections=[-1, 9], call=_weighted("split")),
                   Sample((0, 2), indices_or_sections=2, call=_weighted("split"))])
def split(ary, indices_or_sections, axis=0):
    """Split an array into equal sections or at the given indices, as ``np.split``.

    Parameters
    ----------
    ary : array_like or Tensor
    indices_or_sections : int or 1-D sequence of ints
        The number of equal sections, or the points along `axis` where to split.
    axis : int, optional

    Returns
    -------
    list of Tensors (views of `ary` in the derivative: their cotangents add up)

    Examples
    --------
    >>> import adjit as ad
    >>> [p.tolist() for p in ad.split(ad.arange(6.0), [2, 3])]
    [[0.0, 1.0], [2.0], [3.0, 4.0, 5.0]]
    """
    return _pieces(ary, indices_or_sections, axis, "split", True)


@composite(numpy=(np.array_split,),
           domain=[Sample((5, 2), indices_or_sections=3, call=_weighted("array_split")),
                   Sample((2, 7), indices_or_sections=4, axis=1,
                          call=_weighted("array_split", 1)),
                   Sample((3,), indices_or_sections=[2], call=_weighted("array_split"))])
def array_split(ary, indices_or_sections, axis=0):
    """Split into sections that need not be equal, as ``np.array_split``: the first
    ``n % k`` pieces have one element more.

    Examples
    --------
    >>> import adjit as ad
    >>> [p.tolist() for p in ad.array_split(ad.arange(5.0), 3)]
    [[0.0, 1.0], [2.0, 3.0], [4.0]]
    """
    return _pieces(ary, indices_or_sections, axis, "array_split", False)


def _split_at(ary, indices_or_sections, fn, min_nd, axis):
    if len(shape(ary)) < min_nd:
        raise ValueError(f"adjit.{fn}: only works on arrays of {min_nd} or more dimensions, "
                         f"got shape {tuple(shape(ary))}")
    return _pieces(ary, indices_or_sections, axis, fn, True)


@composite(numpy=(np.hsplit,),
           domain=[Sample((2, 6), indices_or_sections=3, call=_weighted("hsplit", 1)),
                   Sample((4,), indices_or_sections=[1], call=_weighted("hsplit"))])
def hsplit(ary, indices_or_sections):
    """Split along the second axis (the first for 1-D arrays), as ``np.hsplit``.

    Examples
    --------
    >>> import adjit as ad
    >>> [p.shape for p in ad.hsplit(ad.ones((2, 4)), 2)]
    [(2, 2), (2, 2)]
    """
    return _split_at(ary, indices_or_sections, "hsplit", 1, 1 if len(shape(ary)) > 1 else 0)


@composite(numpy=(np.vsplit,),
           domain=[Sample((4, 3), indices_or_sections=2, call=_weighted("vsplit")),
                   Sample((3, 2, 2), indices_or_sections=[1], call=_weighted("vsplit"))])
def vsplit(ary, indices_or_sections):
    """Split along the first axis of an array of 2 or more dimensions, as ``np.vsplit``.

    Examples
    --------
    >>> import adjit as ad
    >>> [p.shape for p in ad.vsplit(ad.ones((4, 3)), [1])]
    [(1, 3), (3, 3)]
    """
    return _split_at(ary, indices_or_sections, "vsplit", 2, 0)


@composite(numpy=(np.dsplit,),
           domain=[Sample((2, 1, 4), indices_or_sections=2, call=_weighted("dsplit", 2)),
                   Sample((1, 2, 3), indices_or_sections=[1, 2], call=_weighted("dsplit", 2))])
def dsplit(ary, indices_or_sections):
    """Split along the third axis of an array of 3 or more dimensions, as ``np.dsplit``.

    Examples
    --------
    >>> import adjit as ad
    >>> [p.shape for p in ad.dsplit(ad.ones((1, 2, 4)), 2)]
    [(1, 2, 2), (1, 2, 2)]
    """
    return _split_at(ary, indices_or_sections, "dsplit", 3, 2)


# ---------------------------------------------------------------------------------------------
# stacking: concatenate after NumPy's atleast_Nd


def _at_least(x, n, where):
    """x with unit axes added until it has n dimensions: NumPy's atleast_2d / atleast_3d
    (`where` maps the old ndim to the new shape)."""
    s = tuple(shape(x))
    return x if len(s) >= n else reshape(x, where(s))


def _atleast_1d(x):
    return _at_least(x, 1, lambda s: (1,))


def _atleast_2d(x):
    return _at_least(x, 2, lambda s: (1,) + s + (1,) * (1 - len(s)))


def _atleast_3d(x):
    # NumPy: () -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1)
    return _at_least(x, 3, lambda s: {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)])


def _seq(tup, fn):
    if isinstance(tup, Traced) or isinstance(tup, np.ndarray):
        return list(tup)   # NumPy iterates an array's first axis
    items = list(tup)
    if not items:
        raise ValueError(f"adjit.{fn}: need at least one array to concatenate")
    return items


def _two(op, *xs, **p):
    return op(list(xs), **p)


@composite(numpy=(np.hstack,), domain=[
    Sample((3,), (2,), call=_two), Sample((2, 3), (2, 1), call=_two),
    Sample((), (2,), call=_two), Sample((2, 1, 2), (2, 3, 2), call=_two)])
def hstack(tup):
    """Join arrays horizontally: along the second axis (the first for 1-D), as ``np.hstack``.

    Examples
    --------
    >>> import adjit as ad
    >>> ad.hstack([ad.ones(2), ad.zeros(1)]).tolist()
    [1.0, 1.0, 0.0]
    """
    arrs = [_atleast_1d(x) for x in _seq(tup, "hstack")]
    return concatenate(arrs, axis=0 if len(shape(arrs[0])) == 1 else 1)


@composite(numpy=(np.vstack,), aliases=("row_stack",), domain=[
    Sample((2, 3), (1, 3), call=_two), Sample((3,), (3,), call=_two), Sample((), (), call=_two),
    Sample((2, 1, 2), (1, 1, 2), call=_two)])
def vstack(tup):
    """Join arrays vertically (along the first axis, 1-D arrays as rows), as ``np.vstack``;
    ``ad.row_stack`` is the same function.

    Examples
    --------
    >>> import adjit as ad
    >>> ad.vstack([ad.ones(2), ad.zeros(2)]).shape
    (2, 2)
    """
    return concatenate([_atleast_2d(x) for x in _seq(tup, "vstack")], axis=0)


if hasattr(np, "row_stack"):   # deprecated in NumPy 2.0 (it warns), gone in later versions
    implements(np.row_stack)(vstack)


@composite(numpy=(np.dstack,), domain=[Sample((2, 3), (2, 3), call=_two),
                                       Sample((3,), (3,), call=_two),
                                       Sample((2, 2, 1), (2, 2, 2), call=_two)])
def dstack(tup):
    """Join arrays along the third axis (depth), as ``np.dstack``.

    Examples
    --------
    >>> import adjit as ad
    >>> ad.dstack([ad.ones((2, 3)), ad.zeros((2, 3))]).shape
    (2, 3, 2)
    """
    return concatenate([_atleast_3d(x) for x in _seq(tup, "dstack")], axis=2)


def _column(x):
    s = tuple(shape(x))
    return x if len(s) >= 2 else reshape(x, (-1, 1) if s else (1, 1))


@composite(numpy=(np.column_stack,), domain=[Sample((3,), (3,), call=_two),
                                             Sample((3,), (3, 2), call=_two),
                                             Sample((), (1,), call=_two)])
def column_stack(tup):
    """Join 1-D arrays as the columns of a 2-D array (2-D arrays as they are), as
    ``np.column_stack``.

    Examples
    --------
    >>> import adjit as ad
    >>> ad.column_stack([ad.ones(3), ad.zeros(3)]).shape
    (3, 2)
    """
    return concatenate([_column(x) for x in _seq(tup, "column_stack")], axis=1)


@composite(numpy=(np.append,),
           domain=[Sample((2, 2), (3,)), Sample((2, 3), (1, 3), axis=0),
                   Sample((2, 1), (2, 2), axis=-1), Sample((), ())])
def append(arr, values, axis=None):
    """``arr`` with ``values`` appended, as ``np.append``: both flattened when axis is None,
    else joined along `axis` (same number of dimensions required).

    Examples
    --------
    >>> import adjit as ad
    >>> ad.append(ad.ones((2, 2)), [0.0]).tolist()
    [1.0, 1.0, 1.0, 1.0, 0.0]
    """
    if axis is None:
        return concatenate([reshape(arr, (-1,)), reshape(values, (-1,))], axis=0)
    return concatenate([arr, values], axis=axis)


# ---------------------------------------------------------------------------------------------
# r_ and c_: NumPy's index expressions (numpy.lib._index_tricks_impl.AxisConcatenator) on ad ops


class AxisConcatenator:
    """``ad.r_[...]`` / ``ad.c_[...]``: arrays, Tensors, scalars and slices (``1:4`` is
    ``arange(1, 4)``, ``0:1:5j`` is ``linspace(0, 1, 5)``) joined along an axis, as
    ``np.r_`` / ``np.c_``, differentiable in every Tensor, dual or ad.jit tracer among them.
    A leading string sets the axis (``'0'``), the minimum dimensions (``'0,2'``) and where a
    lower-dimensional item's axes go (``'0,2,0'``). ``np.r_`` itself cannot dispatch: on a
    differentiated value it raises adjit's error; use ``ad.r_``.

    Examples
    --------
    >>> import adjit as ad
    >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> ad.r_[x, 0.0, 5:7]
    tensor([1., 2., 0., 5., 6.], grad_fn=<CatBackward>)
    >>> ad.c_[x, x * 2].shape
    (2, 2)
    """

    def __init__(self, axis=0, ndmin=1, trans1d=-1):
        self.axis, self.ndmin, self.trans1d = axis, ndmin, trans1d

    def __getitem__(self, key):
        if isinstance(key, str) or not isinstance(key, tuple):
            key = (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        objs, kinds = [], []
        for k, item in enumerate(key):
            if isinstance(item, str):
                if k != 0:
                    raise ValueError("adjit.r_: special directives must be the first entry")
                axis, ndmin, trans1d = _directive(item, axis, ndmin, trans1d)
                continue
            if isinstance(item, slice):
                obj = _slice_values(item)
                if ndmin > 1:
                    obj = np.array(obj, ndmin=ndmin)
                    if trans1d != -1:
                        obj = obj.swapaxes(-1, trans1d)
                kinds.append(obj.dtype)
            elif type(item) in (bool, int, float, complex):
                obj = item
                kinds.append(item)   # Python scalars are weak in the result dtype, as NumPy's
            else:
                obj = item if isinstance(item, Traced) else np.asarray(item)
                obj = _with_ndmin(obj, ndmin, trans1d)
                kinds.append(np.dtype(obj.dtype))
            objs.append(obj)
        if not objs:
            raise ValueError("adjit.r_: need at least one array to concatenate")
        final = np.result_type(*kinds)
        objs = [_cast(o, final, ndmin) for o in objs]
        return concatenate(objs, axis=axis)

    def __len__(self):
        return 0


def _directive(item, axis, ndmin, trans1d):
    if item in ("r", "c"):
        raise NotImplementedError("adjit.r_: the 'r' and 'c' directives build np.matrix "
                                  "objects, which adjit does not support; use ad.r_ / ad.c_ "
                                  "without them and reshape")
    try:
        vals = [int(v) for v in item.split(",")]
    except ValueError:
        raise ValueError(f"adjit.r_: unknown special directive {item!r}") from None
    if len(vals) > 3:
        raise ValueError(f"adjit.r_: unknown special directive {item!r}")
    if len(vals) == 1:
        return vals[0], ndmin, trans1d
    return vals[0], vals[1], vals[2] if len(vals) == 3 else trans1d


def _slice_values(item):
    start = 0 if item.start is None else item.start
    step = 1 if item.step is None else item.step
    if isinstance(step, (complex, np.complexfloating)):
        return np.linspace(start, item.stop, num=int(abs(step)))
    return np.arange(start, item.stop, step)


def _with_ndmin(obj, ndmin, trans1d):
    """NumPy's array(item, ndmin=ndmin) and its trans1d transpose, on ad ops."""
    s = tuple(shape(obj))
    if len(s) >= ndmin:
        return obj
    obj = reshape(obj, (1,) * (ndmin - len(s)) + s)
    if trans1d != -1:
        k2 = ndmin - len(s)
        k1 = trans1d + k2 + 1 if trans1d < 0 else trans1d
        d = list(range(ndmin))
        obj = transpose(obj, axes=tuple(d[:k1] + d[k2:] + d[k1:k2]))
    return obj


def _cast(obj, dtype, ndmin):
    if isinstance(obj, Traced):
        dt = np.dtype(obj.dtype)
        if dt != dtype and dtype.kind in "fc" and dt.kind in "fc":
            return astype(obj, dtype=dtype.name)   # a float cast is differentiable
        return obj   # concatenate promotes the rest
    return np.array(obj, dtype=dtype, ndmin=ndmin)


r_ = AxisConcatenator(0)
c_ = AxisConcatenator(-1, ndmin=2, trans1d=0)
# exported under adjit's op names (ops.__all__) next to the composites
COMPOSITES["r_"] = (r_, ())
COMPOSITES["c_"] = (c_, ())

