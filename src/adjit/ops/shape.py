"""Shape, indexing and selection rows (reshape, broadcast_to, transpose, getitem and its
adjoint scatter_add, index_update, concatenate, stack, where, clip, tril) and sum, the linear
reduction they are adjoint to. Linear ops get their rules from themselves."""
import builtins
import math

import numpy as np

from ..core.domain import Sample
from ..core.registry import Traced, composite, defop, implements, primal_of
from .axes import (axis_arg, batch, cond_of, keep_shape, ndim, neg_axes, shape, shape_of_raw,
                   tr_axes)
from .elementwise import AD_NS

def expand(g, xshape, axis, keepdims):
    """A reduction's cotangent reshaped to broadcast against its input."""
    return g if keepdims else reshape(g, keep_shape(xshape, axis))


def unbroadcast(g, shp):
    """Sum a cotangent back to the shape of an input that was broadcast."""
    gs = shape(g)
    if gs == tuple(shp):
        return g
    lead = len(gs) - len(shp)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shp)
                                      if s == 1 and gs[i + lead] != 1)
    return reshape(sum_op(g, axis=axes, keepdims=True), shp) if axes else reshape(g, shp)


def mT(x):
    """Swap the last two axes (batch-friendly matrix transpose)."""
    if type(x) is np.ndarray and x.ndim >= 2:
        return x.swapaxes(-1, -2)   # a plain array (the rules'): NumPy's view, no op call
    nd = ndim(x)
    return transpose(x, axes=tuple(range(nd - 2)) + (nd - 1, nd - 2))


# ---------------------------------------------------------------------------------------------
# shape ops

def _reshape_vjp(g, y, x, shape):
    return (reshape(g, np.shape(primal_of(x))),)


# The primals below call ndarray methods when they can: np.reshape, np.transpose, np.sum and
# np.broadcast_to cost 0.5-3 us more per call through their Python wrappers, which is most of
# a small eager op.
def _reshape_primal(x, shape):
    return x.reshape(shape) if type(x) is np.ndarray else np.reshape(x, shape)


_reshape = defop("reshape", _reshape_primal, _reshape_vjp, linear=True,
                 batched=lambda p, lead, y, x: dict(p, shape=lead + shape_of_raw(y)),
                 saves_in=False, backward_name="ViewBackward", lower="ix", jit={"map": "reshape"},
                 domain=[Sample((3, 4), shape=(12,)), Sample((3, 4), shape=(2, -1, 2)),
                         Sample((), shape=(1, 1)), Sample((0, 3), shape=(3, 0))])


@_reshape.public
def reshape(x, *shape, **kw):
    """reshape(x, (2, 3)), reshape(x, 2, 3) or reshape(x, shape=(2, 3))."""
    if type(x) is np.ndarray and len(kw) == 1 and type(kw.get("shape")) is tuple:
        try:   # a plain array (the derivative rules' reshapes): NumPy's own, nothing to check
            return x.reshape(kw["shape"])
        except (ValueError, TypeError):
            pass   # the checked path raises adjit's error
    if "shape" in kw:
        shape = kw.pop("shape")
    elif len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    if kw:
        raise TypeError(f"adjit.reshape: unexpected keyword arguments {sorted(kw)}")
    if type(shape) is not tuple or any(type(s) is not int for s in shape):
        shape = (shape,) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
    return _reshape(x, shape=shape)


def _bcast_jvp(ts, y, x, shape):
    t = ts[0]
    lead = batch(t, x)
    t = reshape(t, lead + (1,) * (len(shape) - ndim(x)) + tuple(np.shape(primal_of(x))))
    return broadcast_to(t, lead + tuple(shape))


def _broadcast_primal(x, shape):
    if type(x) is np.ndarray and x.dtype.kind in "biufc" and math.prod(shape) <= SMALL_COPY:
        out = np.empty(shape, x.dtype)  # a small copy is cheaper than a broadcast view
        out[...] = x
        return out
    return np.broadcast_to(x, shape)


# Up to this many elements broadcast_to copies (0.6 us) instead of making a view (3 us)
SMALL_COPY = 4096

broadcast_to = defop("broadcast_to", _broadcast_primal,
                     lambda g, y, x, shape: (unbroadcast(g, shape_of_raw(x)),), _bcast_jvp,
                     saves_in=False, backward_name="ExpandBackward", export=False, lower="ix",
                     jit={"map": "broadcast"},
                     domain=[Sample((3, 1), shape=(2, 3, 4)), Sample((), shape=(2,)),
                             Sample((2, 1), shape=(2, 0))])



def _transpose_batched(p, lead, y, x):
    nb = len(lead)
    return dict(p, axes=tuple(range(nb)) + tuple(nb + a for a in tr_axes(ndim(x), p.get("axes"))))


_transpose = defop(
    "transpose",
    lambda x, axes=None: x.transpose(axes) if type(x) is np.ndarray else np.transpose(x, axes),
    lambda g, y, x, axes=None: (transpose(g, axes=tuple(np.argsort(tr_axes(ndim(x), axes)))),),
    linear=True, batched=_transpose_batched, saves_in=False, backward_name="PermuteBackward",
    lower="ix", jit={"map": "transpose"},
    domain=[Sample((2, 3, 4)), Sample((2, 3, 4), axes=(1, 0, 2)), Sample((3,)), Sample(()),
            Sample((0, 2))])


@_transpose.public
def transpose(x, *axes, **kw):
    """NumPy's transpose: reverse the axes, or permute them (transpose(x, (1, 0, 2)) or
    transpose(x, 1, 0, 2)). The Tensor method t.transpose(d0, d1) swaps two dims, as PyTorch."""
    if type(x) is np.ndarray and not axes and not kw:
        return x.transpose()   # a plain array reversed (the rules' .T): nothing to check
    if "axes" in kw:
        axes = kw.pop("axes")
    elif len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        axes = axes[0]
    elif not axes:
        axes = None
    if kw:
        raise TypeError(f"adjit.transpose: unexpected keyword arguments {sorted(kw)}")
    nd = ndim(x)
    if axes is not None:
        axes = tuple(int(a) for a in axes)
        if sorted(a % nd for a in axes) != list(range(nd)) or len(axes) != nd:
            raise ValueError(f"adjit.transpose: axes {axes} are not a permutation of the "
                             f"{nd} axes of an array of shape {shape(x)}")
    return _transpose(x, axes=axes if axes is None else tuple(a % nd for a in axes))


def _is_basic(idx):
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in idx)


def _scatter_primal(g, idx, shape):
    dt = g.dtype if type(g) is np.ndarray and g.dtype.kind == "f" else \
        np.result_type(np.asarray(g).dtype, np.float16)   # a float stays, f16 included
    z = np.zeros(shape, dtype=dt)
    if _is_basic(idx):
        z[idx] = g
    else:
        np.add.at(z, idx, g)
    return z


def adv_front(idx):
    """How many leading result axes NumPy builds from advanced indices that it moves to the
    front (they are not adjacent: x[[0, 1], :, [0, 2]] has shape (2, x.shape[1])), else 0."""
    if not any(isinstance(i, (np.ndarray, list)) for i in idx):
        return 0
    adv = [k for k, i in enumerate(idx) if isinstance(i, (np.ndarray, list, int, np.integer))
           and not isinstance(i, bool)]   # with an array, integers count as advanced too
    if adv == list(range(adv[0], adv[-1] + 1)):
        return 0
    shapes = []
    for k in adv:
        a = np.asarray(idx[k])
        shapes += [(int(np.count_nonzero(a)),)] * a.ndim if a.dtype == bool else [a.shape]
    return len(np.broadcast_shapes(*shapes))


def _lead_idx(lead, idx):
    """idx for a value with leading batch axes `lead` (a tangent's k directions), so that they
    stay the leading axes of the result: slices in front of idx, or, where NumPy would move
    idx's non-adjacent advanced axes in front of those slices, broadcast aranges (advanced
    indices themselves, so NumPy puts them first, followed by idx's advanced axes)."""
    idx = tuple(idx)
    na = adv_front(idx)
    if not na:
        return (slice(None),) * len(lead) + idx
    nb = len(lead)
    return tuple(np.arange(n).reshape((1,) * j + (n,) + (1,) * (nb - 1 - j + na))
                 for j, n in enumerate(lead)) + idx


_IDX = [(1,), (-1,), (slice(1, 3),), (slice(None, None, -2),), (Ellipsis, 1), (None, 1),
        (0, Ellipsis), (np.array([0, 2, 0, 0]),), (np.array([[0, 1], [2, 2]]),),
        (np.array([0, 2, 2]), np.array([1, 3, 3])), (np.array([True, False, True]),),
        (np.array([], dtype=int),)]

getitem = defop(
    "getitem", lambda x, idx: x[idx] if type(x) is np.ndarray else np.asarray(x)[idx],
    lambda g, y, x, idx: (scatter_add(g, idx=idx, shape=shape_of_raw(x)),),
    linear=True, batched=lambda p, lead, y, x: dict(p, idx=_lead_idx(lead, p["idx"])),
    saves_in=False, backward_name="IndexBackward", export=False, lower="ix",
    jit={"map": "getitem"}, domain=[Sample((3, 4), idx=i) for i in _IDX])

# Adjoint of indexing: g scattered into zeros with np.add.at semantics (repeated indices add).
scatter_add = defop(
    "scatter_add", _scatter_primal,
    lambda g, y, x, idx, shape: (getitem(g, idx=idx),),
    linear=True, batched=lambda p, lead, y, x: dict(p, idx=_lead_idx(lead, p["idx"]),
                                                     shape=lead + tuple(p["shape"])),
    saves_in=False, backward_name="IndexPutBackward", export=False, lower="ix",
    jit={"map": "scatter", "advanced": "scat"},
    domain=[Sample((4, 4), idx=(np.array([0, 2, 0, 1]),), shape=(3, 4)),
            Sample((3,), idx=(slice(None), 1), shape=(3, 4)),
            Sample((2, 2), idx=(slice(0, 2), slice(1, 3)), shape=(3, 4))])


def _index_update_primal(x, v, idx):
    z = np.array(x, dtype=np.result_type(np.asarray(x).dtype, np.asarray(v).dtype), copy=True)
    z[idx] = v
    return z


def _last_writes(xshape, idx):
    """Where x[idx] = v writes an entry twice (a repeated integer index), NumPy keeps the last
    write: a bool mask over x[idx]'s shape marking the writes that stay; None without repeats."""
    if _is_basic(idx):
        return None
    order = np.full(xshape, -1, dtype=np.intp)
    ids = np.arange(order.size).reshape(xshape)[idx]
    order[idx] = np.arange(ids.size).reshape(ids.shape)
    win = order.ravel()[ids] == np.arange(ids.size).reshape(ids.shape)
    return None if win.all() else win


def _index_update_vjp(g, y, x, v, idx):
    keep = np.ones(np.shape(primal_of(x)), dtype=bool)   # a bool mask keeps g's dtype
    keep[idx] = False
    gv = getitem(g, idx=idx)
    win = _last_writes(keep.shape, idx)
    if win is not None:   # an overwritten entry of v does not reach y
        gv = gv * win
    return g * keep, unbroadcast(gv, shape_of_raw(v))


def _index_update_jvp(ts, y, x, v, idx):
    tx, tv = ts
    lead = batch(tx, x) if tx is not None else batch(tv, v)
    if tv is not None and len(batch(tv, v)) > len(lead):
        lead = batch(tv, v)
    if tx is None:
        tx = np.zeros(lead + shape_of_raw(x), dtype=tv.dtype)   # float32 tangents stay
    elif len(batch(tx, x)) < len(lead):
        tx = broadcast_to(tx, lead + shape_of_raw(x))
    if tv is None:
        tv = np.zeros((), dtype=tx.dtype)
    else:
        # v broadcasts into x[idx]: put unit axes between tv's batch axes and v's own axes
        vb = batch(tv, v)
        # the selection's rank from the shape alone (no read of x's values, which ad.jit traces)
        nsel = np.ndim(np.broadcast_to(np.False_, shape_of_raw(x))[idx])
        tv = reshape(tv, vb + (1,) * builtins.max(0, nsel - ndim(v)) + shape_of_raw(v))
    return index_update(tx, tv, idx=_lead_idx(lead, idx))


# t[idx] = v as a value: x with the indexed entries replaced by v
index_update = defop("index_update", _index_update_primal, _index_update_vjp, _index_update_jvp,
                     saves_in=False, backward_name="CopySlices", export=False, lower="update",
                     domain=[Sample((3, 4), (2,), idx=(slice(0, 2), 1)),
                             Sample((3, 4), (), idx=(1,)),
                             Sample((3, 4), (2, 1), idx=(np.array([0, 2]),))])


def _concat_vjp(g, y, *xs, axis=0):
    nd = ndim(xs[0])
    ax = int(axis) % nd
    out, start = [], 0
    for x in xs:
        n = shape_of_raw(x)[ax]
        out.append(getitem(g, idx=(slice(None),) * ax + (slice(start, start + n),)))
        start += n
    return tuple(out)


_concatenate = defop(
    "concatenate", lambda *xs, axis=0: np.concatenate(xs, axis=axis), _concat_vjp, linear=True,
    batched=lambda p, lead, y, *xs: dict(p, axis=int(p.get("axis", 0)) % ndim(xs[0]) - ndim(xs[0])),
    saves_in=False, backward_name="CatBackward", aliases=("cat",), lower="cat",
    domain=[Sample((3, 2), (3, 4), axis=1), Sample((1, 4), (3, 4), (2, 4)),
            Sample((2, 0), (2, 3), axis=-1), Sample((2,))])


def _stack_vjp(g, y, *xs, axis=0):
    ax = int(axis) % ndim(y)
    return tuple(getitem(g, idx=(slice(None),) * ax + (i,)) for i in range(len(xs)))


_stack = defop(
    "stack", lambda *xs, axis=0: np.stack(xs, axis=axis), _stack_vjp, linear=True,
    batched=lambda p, lead, y, *xs: dict(p, axis=int(p.get("axis", 0)) % ndim(y) - ndim(y)),
    saves_in=False, lower="cat", jit={"new_axis": True},
    domain=[Sample((3, 4), (3, 4), axis=1), Sample((3, 4), (3, 4), axis=-1),
            Sample((), (), ()), Sample((0, 2), (0, 2))])


def _where_vjp(g, y, a, b, cond):
    return where(cond, g, 0.0), where(cond, 0.0, g)


def _where_jvp(ts, y, a, b, cond):
    ta, tb = ts
    # through the public where: with a constant branch both tangents can be plain arrays
    # while cond is an ad.jit tracer, which must then be the op's traced input
    return where(cond, 0.0 if ta is None else ta, 0.0 if tb is None else tb)


_COND = np.array([[True, False, True], [False, False, True]])
_where = defop("where", lambda a, b, cond: np.where(cond, a, b), _where_vjp, _where_jvp,
               broadcast=True, saves_in=False, lower="pw",
               jit={"pw": lambda a, p, idx: f"{a[0]} if {p['cond']} else {a[1]}",
                    "arrays": ("cond",)},
               domain=[Sample((2, 3), (2, 3), cond=_COND), Sample((3,), (), cond=_COND),
                       Sample((), (2, 1), cond=_COND[0]), Sample((0, 3), (3,), cond=True)])


def _clip_primal(x, *bounds, lo=False, hi=False):
    b = iter(bounds)
    return np.clip(x, next(b) if lo else None, next(b) if hi else None)


def _clip_masks(x, bounds, lo, hi):
    """Where clip's gradient goes, as PyTorch's clamp: to x where lo <= x <= hi, to lo where
    x < lo (and lo < hi), to hi where x > hi or hi < lo. Computed with ad ops on cond_of
    values, so under ad.jit the kernel recomputes them instead of keeping their traced value."""
    x = cond_of(x)
    b = iter(cond_of(v) for v in bounds)
    lv = next(b) if lo else None
    hv = next(b) if hi else None
    ml = None if lv is None else x >= lv
    mh = None if hv is None else x <= hv
    # no bounds at all (np.clip(x) in NumPy 2): the identity, gradient 1 everywhere
    out = [np.True_ if ml is None and mh is None else mh if ml is None else ml if mh is None
           else where(ml, mh, False)]
    if lo:
        out.append(x < lv if hv is None else where(x < lv, lv < hv, False))
    if hi:
        out.append(x > hv if lv is None else where(x > hv, True, hv < lv))
    return out


def _clip_vjp(g, y, x, *bounds, lo=False, hi=False, _needs=None):
    masks = _clip_masks(x, bounds, lo, hi)
    needs = _needs or (True,) * len(masks)
    return tuple(where(m, g, 0.0) if n else None for m, n in zip(masks, needs))


def _clip_jvp(ts, y, x, *bounds, lo=False, hi=False):
    out = None
    for m, t in zip(_clip_masks(x, bounds, lo, hi), ts):
        if t is not None:
            c = where(m, t, 0.0)
            out = c if out is None else out + c
    return out


def _clip_src(a, p, idx):
    e, b = a[0], iter(a[1:])
    if p.get("lo"):
        e = f"max({e}, {next(b)})"
    if p.get("hi"):
        e = f"min({e}, {next(b)})"
    return e


# clip(x, *bounds): the bounds present (lo=True / hi=True say which) are differentiable inputs
_clip = defop("clip", _clip_primal, _clip_vjp, _clip_jvp, broadcast=True, vjp_needs=True,
              backward_name="ClampBackward", methods=("clip",), lower="pw",
              jit={"pw": _clip_src},
              domain=[Sample((3, 4), (), (), lo=True, hi=True),
                      Sample((3,), (3,), lo=False, hi=True), Sample((), (), lo=True, hi=False),
                      Sample((2, 3), lo=False, hi=False)])


def _tril_primal(x, k=0):
    return np.tril(x, k)


tril = defop("tril", _tril_primal, lambda g, y, x, k=0: (tril(g, k=k),), linear=True,
             saves_in=False, export=False, lower="pw",
             jit={"pw": lambda a, p, idx: f"{a[0]} if {idx[-1]} - {idx[-2]} <= "
                                          f"{int(p.get('k', 0))} else 0.0"},
             domain=[Sample((4, 4)), Sample((3, 4), k=-1), Sample((2, 3, 3), k=1)])

# ---------------------------------------------------------------------------------------------
# reductions


def _np_sum(x, axis=None, keepdims=False):
    if type(x) is np.ndarray:  # the method skips np.sum's Python wrapper
        return x.sum(axis=axis, keepdims=keepdims)
    return np.sum(x, axis=axis, keepdims=keepdims)


def axes_batched(p, lead, y, x):
    """A reduction's params for tangents with leading batch axes: its axes as negative ones."""
    return dict(p, axis=neg_axes(p.get("axis"), ndim(x)))


# the domain of the reductions: all axes, one, several (negative), keepdims, 0-d, size 0
REDUCTION_DOMAIN = [Sample((2, 3, 4)), Sample((2, 3, 4), axis=0),
                    Sample((2, 3, 4), axis=(-1, 0), keepdims=True), Sample((3,), axis=-1),
                    Sample(()), Sample((0, 3), axis=1)]


def _sum_vjp(g, y, x, axis=None, keepdims=False):
    xs = shape_of_raw(x)
    if axis is None and (type(g) is np.ndarray or type(g) is np.float64) \
            and g.ndim == (len(xs) if keepdims else 0) and math.prod(xs) <= SMALL_COPY \
            and g.dtype.kind in "biufc":
        out = np.empty(xs, g.dtype)   # the whole sum of a small plain array: g everywhere
        out[...] = g
        return (out,)
    return (broadcast_to(expand(g, xs, axis, keepdims), xs),)


sum_op = defop(
    "sum", _np_sum, _sum_vjp,
    linear=True, batched=axes_batched, saves_in=False, lower="red",
    jit={"init": 0, "acc": "{a} + {t}", "pairwise": "sum"},
    domain=REDUCTION_DOMAIN + [Sample((0, 3)), Sample((0, 3), axis=0)])


@_where.public
def where(cond, a, b):
    c = cond_of(cond)
    if isinstance(c, Traced):  # ad.jit: the condition is traced (a param holding a tracer)
        if not (isinstance(a, Traced) or isinstance(b, Traced)):
            return type(c)._apply(_where, (a, b), {"cond": c}, c._level)
        return _where(a, b, cond=c)
    return _where(a, b, cond=np.asarray(c, dtype=bool))


@_clip.public(numpy=(np.clip,))
def clip(x, a_min=None, a_max=None, *, min=None, max=None):  # noqa: A002
    lo = min if a_min is None else a_min
    hi = max if a_max is None else a_max
    bounds = tuple(b for b in (lo, hi) if b is not None)
    return _clip(x, *bounds, lo=lo is not None, hi=hi is not None)


@_concatenate.public(numpy=(np.concatenate, np.concat))
def concatenate(tensors, axis=0, *, dim=None):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("adjit.concatenate: expected a non-empty sequence of arrays")
    axis = axis_arg(None, dim) if dim is not None else axis
    if axis is None:  # as NumPy: the arrays flattened
        return _concatenate(*[reshape(t, (-1,)) for t in tensors], axis=0)
    return _concatenate(*tensors, axis=axis)



@_stack.public(numpy=(np.stack,))
def stack(tensors, axis=0, *, dim=None):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("adjit.stack: expected a non-empty sequence of arrays")
    return _stack(*tensors, axis=axis_arg(None, dim) if dim is not None else axis)


# NumPy's spellings whose signatures differ from the ad function's

@implements(np.where)
def _np_where(condition, x=None, y=None):
    if x is None and y is None:  # np.where(cond) is np.nonzero(cond): indices, no derivative
        return np.nonzero(condition)
    return where(condition, x, y)


@implements(np.reshape)
def _np_reshape(a, shape):
    return reshape(a, shape)


@implements(np.transpose, np.permute_dims)
def _np_transpose(a, axes=None):
    return transpose(a, axes=axes)


@implements(np.broadcast_to)
def _np_broadcast_to(array, shape):
    return broadcast_to(array, shape=(int(shape),) if np.ndim(shape) == 0 else tuple(shape))


# the names the elementwise formulas use, as ad ops (so rules differentiate their own terms)


AD_NS["where"] = where
