"""NumPy's views, for values that are not views.

In NumPy (and PyTorch) `b = y[1:]` is a view: a later `y[2] = 7` changes `b`, and `b[0] = 5`
changes `y`. Under adjit's wrappers (Tensor, dual numbers, ad.jit's tracers, ad.vmap's batched
values) every op makes a new value, so without this module `b` kept the old numbers and
`sum(b * b)` silently differed from NumPy's (value and gradient).

Basic indexing (ints, slices, None, Ellipsis) with an array result registers the result as a
view of its base (`note_view`); the in-place entry points of each wrapper call `written` after
they change a value: every live view of it that overlaps the written region is recomputed as
`base[idx]`, and a view written into writes itself back into its base
(`base[idx] = view`), which in turn refreshes the base's other views. Both steps are ordinary
recorded ops (getitem / index_update), so gradients follow NumPy's values in every mode.

Results of reshape, transpose (.T, swapaxes, moveaxis ...), broadcast_to, real and imag are
views in NumPy too, but not by an index adjit can write through: they are linked as "opaque"
views, and a write that NumPy would show through one (into it while its source lives, or into
its source while it lives) raises instead of giving a different number (`check_write`).

A wrapper class supplies `_become(fn, *args)`: rebind itself to fn(self, *args) without
calling `written` (the rebinding primitive under its own in-place operations). As NumPy, an
integer index of every axis gives a scalar, not a view; advanced indexing gives a copy.
"""
import weakref

import numpy as np

from .. import ops
from ..core.registry import OPS

_BASIC = {int, slice, type(None), type(Ellipsis)}


def _is_basic(idx):
    for i in idx:
        if type(i) not in _BASIC:
            return False
    return True


class _Held:
    """A strong link called like a weak reference (base_of calls link[0]())."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __call__(self):
        return self.value


def note_view(base, view, idx):
    """`view = base[idx]` (idx normalised to a tuple): remember it when NumPy would return a
    view. (On every basic index of the eager path: kept to a few attribute operations.)"""
    scalar = True
    for i in idx:
        t = type(i)
        if t is not int:
            if t not in _BASIC:
                return   # advanced indexing: a copy
            scalar = False
    if scalar and len(idx) >= base.ndim:
        return   # every axis by an integer: NumPy returns a scalar (a copy)
    try:
        # the view holds its base, as NumPy's .base: a write into a view of a temporary view
        # (b[1:][::2][0] = v, b.reshape(2, 3)[0][1] = v) must reach b (or raise), not vanish
        # with the temporary
        view._view_of = (_Held(base), idx)
    except (AttributeError, TypeError):
        return   # not a wrapper (getitem gave a plain value)
    view._views = None   # set on both sides: `linked` is one attribute test
    views = getattr(base, "_views", None)
    if views is None:
        views = base._views = []
    n = len(views)
    if n >= 8 and not n & (n - 1):
        views[:] = [v for v in views if v[0]() is not None]   # dead views, now and then
    views.append((weakref.ref(view), idx))


def _note_opaque(base, out):
    # a reshape/transpose/... of base (Op.view_hook): linked with no index
    if out is base or not hasattr(base, "_level"):
        return
    try:
        out._view_of = (weakref.ref(base), None)
    except (AttributeError, TypeError):
        return
    out._views = None
    views = getattr(base, "_views", None)
    if views is None:
        views = base._views = []
    views.append((weakref.ref(out), None))


for _name in ("reshape", "transpose", "broadcast_to", "real", "imag"):
    OPS[_name].view_hook = _note_opaque


def _opaque_error(what):
    return ValueError(
        f"adjit: in-place write {what}. In NumPy both are views of one buffer, so the write "
        "would change the other; adjit's reshape/transpose/broadcast_to/real/imag results are "
        "copies, so it cannot show there. Copy explicitly before writing (b = a.T.copy(), or "
        "ad.reshape(a, s) * 1), or write into the source through an index (a[:, 0] = v).")


def linked(value):
    """Whether value is a view or has had views taken (else a write needs no work here)."""
    return hasattr(value, "_views")


def check_write(value, idx=None):
    """Raise before a write into `value` that NumPy would show through an opaque view."""
    if not hasattr(value, "_views"):
        return
    base, bidx = base_of(value)
    if base is not None:
        if bidx is None:
            raise _opaque_error("into the result of a reshape/transpose/... of an array that "
                                "is still in use")
        _check_down(base, bidx, value)
        if getattr(base, "_view_of", None) is not None:
            check_write(base, bidx)
    _check_down(value, idx, None)


def _check_down(value, idx, skip):
    shape = None
    for ref, vidx in getattr(value, "_views", None) or ():
        v = ref()
        if v is None or v is skip:
            continue
        if vidx is None:
            raise _opaque_error("into an array while a reshape/transpose/... of it is still "
                                "in use")
        if shape is None:
            shape = tuple(value.shape)
        if overlaps(shape, vidx, idx):
            _check_down(v, None, None)


def base_of(value):
    """The live value `value` is a view of, and its index, or (None, None)."""
    link = getattr(value, "_view_of", None)
    if link is None:
        return None, None
    return link[0](), link[1]


def written(value, idx=None, _skip=None):
    """`value` was changed in place (at `idx`, a normalised index, or everywhere): refresh its
    views and write it back into its base."""
    if not hasattr(value, "_views"):
        return
    if value._views:
        _refresh(value, idx, _skip)
    base, bidx = base_of(value)
    if base is not None and bidx is not None:
        base._become(lambda b, v: ops.index_update(b, v, idx=bidx), value)
        written(base, bidx, value)


def _refresh(value, idx, skip):
    shape = tuple(value.shape)
    live = []
    for ref, vidx in value._views:
        v = ref()
        if v is None:
            continue
        live.append((ref, vidx))
        if v is skip or vidx is None or not overlaps(shape, vidx, idx):
            continue
        v._become(lambda _, b, i=vidx: ops.getitem(b, idx=i), value)
        if getattr(v, "_views", None):
            _refresh(v, None, None)
    value._views = live


def _ranges(shape, idx):
    """Per axis of `shape`, the (lo, hi) bounds idx reaches, or None when it cannot say (an
    advanced index) — an empty selection gives an empty range."""
    if idx is None:
        return [(0, n) for n in shape]
    if not _is_basic(idx):
        return None
    used = sum(1 for i in idx if i is not None and i is not Ellipsis)
    out, ax = [], 0
    for i in idx:
        if i is None:
            continue
        if i is Ellipsis:
            for _ in range(len(shape) - used):
                out.append((0, shape[ax]))
                ax += 1
            continue
        if ax >= len(shape):
            return None
        n = shape[ax]
        if isinstance(i, slice):
            r = range(*i.indices(n))
            out.append((min(r[0], r[-1]), max(r[0], r[-1]) + 1) if len(r) else (0, 0))
        else:
            k = i + n if i < 0 else i
            out.append((k, k + 1))
        ax += 1
    out += [(0, n) for n in shape[ax:]]
    return out


def overlaps(shape, a, b):
    """Whether the regions idx a and idx b select from an array of `shape` may share an element
    (bounding boxes: a false 'yes' only costs a recomputed view)."""
    ra, rb = _ranges(shape, a), _ranges(shape, b)
    if ra is None or rb is None:
        return True
    return all(lo1 < hi2 and lo2 < hi1 and lo1 < hi1 and lo2 < hi2
               for (lo1, hi1), (lo2, hi2) in zip(ra, rb))


def _iop(op):
    def method(self, other):
        if self.ndim == 0 and not hasattr(self, "_views"):
            # a scalar: `s += v` makes a new one, as for NumPy's scalars (a 0-d view, y[..., 0],
            # is an array in NumPy: changed in place like the others)
            return NotImplemented
        check_write(self)
        self._become(lambda s, o: _kept(s, op(s, o)), other)
        written(self)
        return self
    return method


def _kept(old, new):
    # as NumPy's in-place operators: the array keeps its shape and dtype
    if tuple(new.shape) != tuple(old.shape):
        raise ValueError(
            f"adjit: in-place operation on an array of shape {tuple(old.shape)}: the result has "
            f"the broadcast shape {tuple(new.shape)}, which does not fit (NumPy raises too). "
            "Write `a = a + b` to get the larger result as a new array.")
    if new.dtype != old.dtype:
        if not np.can_cast(new.dtype, old.dtype, casting="same_kind"):
            raise TypeError(
                f"adjit: in-place operation on an array of dtype {old.dtype}: the result has "
                f"dtype {new.dtype}, which cannot be stored in it (NumPy raises too). Write "
                "`a = a + b`.")
        new = ops.astype(new, old.dtype)
    return new


def inplace_operators(cls):
    """`a += b` and friends change `a` itself (and its views), as NumPy's in-place operators
    do, for a wrapper class with `_become` (dual numbers, tracers, batched values; Tensor has
    its own, recorded in its graph)."""
    for name, op in (("iadd", ops.add), ("isub", ops.sub), ("imul", ops.mul),
                     ("itruediv", ops.div)):
        setattr(cls, f"__{name}__", _iop(op))
