"""The op table: every op's primal, VJP and JVP side by side, one entry per op.

Elementwise ops are single lines of scalar formulas (partials in the input names and `y`, the
output). The rest are written with ad ops so that each rule is itself differentiable (higher
order through `create_graph`, forward-over-reverse Hessians). Tangents may carry leading
batch axes (k directions), which is why JVP rules reduce over *negative* axes.
"""
import builtins

import numpy as np

from .elementwise import AD_NS, Elementwise
from .registry import Op, Traced, defop, primal_of, register

# ---------------------------------------------------------------------------------------------
# Elementwise, one input:  name, primal formula, d y/d x, NumPy primal
_UNARY = [
    ("sin", "sin(x)", "cos(x)", np.sin),
    ("cos", "cos(x)", "-sin(x)", np.cos),
    ("tan", "tan(x)", "1.0 + y * y", np.tan),
    ("arcsin", "asin(x)", "1.0 / sqrt(1.0 - x * x)", np.arcsin),
    ("arccos", "acos(x)", "-1.0 / sqrt(1.0 - x * x)", np.arccos),
    ("arctan", "atan(x)", "1.0 / (1.0 + x * x)", np.arctan),
    ("sinh", "sinh(x)", "cosh(x)", np.sinh),
    ("cosh", "cosh(x)", "sinh(x)", np.cosh),
    ("tanh", "tanh(x)", "1.0 - y * y", np.tanh),
    ("exp", "exp(x)", "y", np.exp),
    ("exp2", "exp2(x)", "y * LN2", np.exp2),
    ("log", "log(x)", "1.0 / x", np.log),
    ("log2", "log2(x)", "1.0 / (x * LN2)", np.log2),
    ("log10", "log10(x)", "1.0 / (x * LN10)", np.log10),
    ("log1p", "log1p(x)", "1.0 / (1.0 + x)", np.log1p),
    ("expm1", "expm1(x)", "y + 1.0", np.expm1),
    ("sqrt", "sqrt(x)", "0.5 / y", np.sqrt),
    ("square", "x * x", "2.0 * x", np.square),
    ("abs", "abs(x)", "sign(x)", np.abs),
    ("sign", "sign(x)", "0", np.sign),
    ("sigmoid", "sigmoid(x)", "y * (1.0 - y)", lambda x: 0.5 * (1.0 + np.tanh(0.5 * x))),
    ("relu", "relu(x)", "step(x)", lambda x: np.maximum(x, 0.0)),
    ("softplus", "softplus(x)", "sigmoid(x)", lambda x: np.logaddexp(0.0, x)),
    ("erf", "erf(x)", "erf_d(x)", None),
    # helpers the formulas above use, so their own derivatives exist too
    ("step", "step(x)", "0", lambda x: np.heaviside(x, 0.0)),
    ("erf_d", "erf_d(x)", "-2.0 * x * y", lambda x: 1.1283791670955126 * np.exp(-np.square(x))),
    ("logpos", "logpos(x)", "step(x) / where(x > 0, x, 1.0)",
     lambda x: np.log(np.where(np.asarray(x) > 0, x, 1.0))),
]

# Elementwise, two broadcasting inputs a, b:  name, primal formula, d/da, d/db, NumPy primal
_BINARY = [
    ("add", "a + b", "1", "1", np.add),
    ("sub", "a - b", "1", "-1", np.subtract),
    ("mul", "a * b", "b", "a", np.multiply),
    ("div", "a / b", "1.0 / b", "-y / b", np.true_divide),
    # smul: b == 0 gives d/da = 0 also at a == 0 (where 0 * 0**-1 would be NaN), as PyTorch
    ("pow", "a ** b", "smul(b, a ** (b - 1.0))", "y * logpos(a)", np.power),
    # ties split the gradient evenly, as PyTorch does
    ("maximum", "max(a, b)", "where(a > b, 1.0, where(a == b, 0.5, 0.0))",
     "where(b > a, 1.0, where(a == b, 0.5, 0.0))", np.maximum),
    ("minimum", "min(a, b)", "where(a < b, 1.0, where(a == b, 0.5, 0.0))",
     "where(b < a, 1.0, where(a == b, 0.5, 0.0))", np.minimum),
]

for _n, _f, _d, _np in _UNARY:
    globals()[_n] = register(Elementwise(_n, ("x",), _f, (_d,), numpy=_np))
for _n, _f, _da, _db, _np in _BINARY:
    globals()[_n] = register(Elementwise(_n, ("a", "b"), _f, (_da, _db), numpy=_np))


# ---------------------------------------------------------------------------------------------
# helpers used inside rules (work on arrays, Tensors and duals alike)

def cond_of(v):
    """The innermost value for a mask or condition: like primal_of, but it stops at an ad.jit
    tracer, so comparisons on it are recorded and the mask is recomputed by the compiled kernel
    instead of being frozen at its traced value."""
    while isinstance(v, Traced) and not v._symbolic:
        v = v._raw()
    return v


def shape(v):
    return np.shape(v) if not isinstance(v, Traced) else v.shape


def ndim(v):
    return len(shape(v))


def neg_axes(axis, nd):
    """Axes as negative numbers (so leading batch axes of tangents are left alone)."""
    if axis is None:
        return tuple(range(-nd, 0))
    if isinstance(axis, (tuple, list)):
        return tuple(int(a) % nd - nd for a in axis) if nd else ()
    return (int(axis) % nd - nd,) if nd else ()


def keep_shape(xshape, axis):
    """Shape of a reduction's result with keepdims=True."""
    nd = len(xshape)
    axes = {a % nd for a in (neg_axes(axis, nd))} if nd else set()
    return tuple(1 if i in axes else s for i, s in enumerate(xshape))


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
    return reshape(sum(g, axis=axes, keepdims=True), shp) if axes else reshape(g, shp)


def batch(t, x):
    """The leading batch shape a tangent t carries relative to primal x."""
    return shape(t)[:ndim(t) - ndim(x)]


def mT(x):
    """Swap the last two axes (batch-friendly matrix transpose)."""
    nd = ndim(x)
    return transpose(x, axes=tuple(range(nd - 2)) + (nd - 1, nd - 2))


def zeros_for(x, ref_t):
    return np.zeros(batch(ref_t, x) + shape(x))


# ---------------------------------------------------------------------------------------------
# shape ops

def _reshape_vjp(g, y, x, shape):
    return (reshape(g, np.shape(primal_of(x))),)


def _reshape_jvp(ts, y, x, shape):
    t = ts[0]
    return reshape(t, batch(t, x) + np.shape(primal_of(y)))


_reshape = defop("reshape", lambda x, shape: np.reshape(x, shape), _reshape_vjp, _reshape_jvp,
                 saves_in=False, backward_name="ViewBackward")


def reshape(x, *shape, **kw):
    """reshape(x, (2, 3)), reshape(x, 2, 3) or reshape(x, shape=(2, 3))."""
    if "shape" in kw:
        shape = kw.pop("shape")
    elif len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    if kw:
        raise TypeError(f"adjit.reshape: unexpected keyword arguments {sorted(kw)}")
    shape = (shape,) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
    return _reshape(x, shape=shape)


def _bcast_jvp(ts, y, x, shape):
    t = ts[0]
    lead = batch(t, x)
    t = reshape(t, lead + (1,) * (len(shape) - ndim(x)) + tuple(np.shape(primal_of(x))))
    return broadcast_to(t, lead + tuple(shape))


broadcast_to = defop("broadcast_to", lambda x, shape: np.broadcast_to(x, shape),
                     lambda g, y, x, shape: (unbroadcast(g, shape_of_raw(x)),), _bcast_jvp,
                     saves_in=False, backward_name="ExpandBackward")


def shape_of_raw(x):
    return np.shape(primal_of(x))


def _tr_axes(nd, axes):
    return tuple(range(nd))[::-1] if axes is None else tuple(int(a) % nd for a in axes)


def _transpose_jvp(ts, y, x, axes=None):
    t = ts[0]
    nb, nd = ndim(t) - ndim(x), ndim(x)
    return transpose(t, axes=tuple(range(nb)) + tuple(nb + a for a in _tr_axes(nd, axes)))


_transpose = defop(
    "transpose", lambda x, axes=None: np.transpose(x, axes),
    lambda g, y, x, axes=None: (transpose(g, axes=tuple(np.argsort(_tr_axes(ndim(x), axes)))),),
    _transpose_jvp, saves_in=False, backward_name="PermuteBackward")


def transpose(x, *axes, **kw):
    """NumPy's transpose: reverse the axes, or permute them (transpose(x, (1, 0, 2)) or
    transpose(x, 1, 0, 2)). The Tensor method t.transpose(d0, d1) swaps two dims, as PyTorch."""
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
    z = np.zeros(shape, dtype=np.result_type(np.asarray(g).dtype, np.float32))
    if _is_basic(idx):
        z[idx] = g
    else:
        np.add.at(z, idx, g)
    return z


def _prefix(t, x, idx):
    # batch axes of t stay in front (also with an Ellipsis in idx: x[0, ...] must not index
    # the batch axis)
    nb = ndim(t) - ndim(x)
    if nb == 0:
        return idx
    return (slice(None),) * nb + idx


getitem = defop(
    "getitem", lambda x, idx: np.asarray(x)[idx],
    lambda g, y, x, idx: (scatter_add(g, idx=idx, shape=shape_of_raw(x)),),
    lambda ts, y, x, idx: getitem(ts[0], idx=_prefix(ts[0], x, idx)),
    saves_in=False, backward_name="IndexBackward")

# Adjoint of indexing: g scattered into zeros with np.add.at semantics (repeated indices add).
scatter_add = defop(
    "scatter_add", _scatter_primal,
    lambda g, y, x, idx, shape: (getitem(g, idx=idx),),
    lambda ts, y, x, idx, shape: scatter_add(ts[0], idx=_prefix(ts[0], x, idx),
                                             shape=batch(ts[0], x) + tuple(shape)),
    saves_in=False, backward_name="IndexPutBackward")


def _index_update_primal(x, v, idx):
    z = np.array(x, dtype=np.result_type(np.asarray(x).dtype, np.asarray(v).dtype), copy=True)
    z[idx] = v
    return z


def _index_update_vjp(g, y, x, v, idx):
    keep = np.ones(np.shape(primal_of(x)))
    keep[idx] = 0.0
    return g * keep, unbroadcast(getitem(g, idx=idx), shape_of_raw(v))


def _index_update_jvp(ts, y, x, v, idx):
    tx, tv = ts
    lead = batch(tx, x) if tx is not None else batch(tv, v)
    if tv is None:
        tv = np.zeros(())
    else:
        # v broadcasts into x[idx]: put unit axes between tv's batch axes and v's own axes
        vb = batch(tv, v)
        nsel = len(np.shape(np.asarray(primal_of(x))[idx]))
        tv = reshape(tv, vb + (1,) * builtins.max(0, nsel - ndim(v)) + shape_of_raw(v))
        if len(vb) > len(lead):
            lead = vb
    if tx is None:
        tx = np.zeros(lead + shape_of_raw(x))
    elif len(batch(tx, x)) < len(lead):
        tx = broadcast_to(tx, lead + shape_of_raw(x))
    return index_update(tx, tv, idx=_prefix(tx, x, idx))


# t[idx] = v as a value: x with the indexed entries replaced by v
index_update = defop("index_update", _index_update_primal, _index_update_vjp, _index_update_jvp,
                     saves_in=False, backward_name="CopySlices")


def _concat_vjp(g, y, *xs, axis=0):
    nd = ndim(xs[0])
    ax = int(axis) % nd
    out, start = [], 0
    for x in xs:
        n = shape_of_raw(x)[ax]
        out.append(getitem(g, idx=(slice(None),) * ax + (slice(start, start + n),)))
        start += n
    return tuple(out)


def _concat_jvp(ts, y, *xs, axis=0):
    ref = next(t for t in ts if t is not None)
    ts = [zeros_for(x, ref) if t is None else t for t, x in zip(ts, xs)]
    return _concatenate(*ts, axis=int(axis) % ndim(xs[0]) - ndim(xs[0]))


_concatenate = defop("concatenate", lambda *xs, axis=0: np.concatenate(xs, axis=axis),
                     _concat_vjp, _concat_jvp, saves_in=False, backward_name="CatBackward")


def _stack_vjp(g, y, *xs, axis=0):
    ax = int(axis) % ndim(y)
    return tuple(getitem(g, idx=(slice(None),) * ax + (i,)) for i in range(len(xs)))


def _stack_jvp(ts, y, *xs, axis=0):
    ref = next(t for t in ts if t is not None)
    ts = [zeros_for(x, ref) if t is None else t for t, x in zip(ts, xs)]
    return _stack(*ts, axis=int(axis) % ndim(y) - ndim(y))


_stack = defop("stack", lambda *xs, axis=0: np.stack(xs, axis=axis), _stack_vjp, _stack_jvp,
               saves_in=False)


def _where_vjp(g, y, a, b, cond):
    return where(cond, g, 0.0), where(cond, 0.0, g)


def _where_jvp(ts, y, a, b, cond):
    ta, tb = ts
    return _where(0.0 if ta is None else ta, 0.0 if tb is None else tb, cond=cond)


_where = defop("where", lambda a, b, cond: np.where(cond, a, b), _where_vjp, _where_jvp,
               broadcast=True, saves_in=False)


def _clip_mask(x, lo, hi):
    x = cond_of(x)
    if isinstance(x, Traced):  # ad.jit: the mask is part of the traced computation
        ml = None if lo is None else x >= lo
        mh = None if hi is None else x <= hi
        return mh if ml is None else ml if mh is None else where(ml, mh, False)
    m = np.ones(np.shape(x), dtype=bool)
    if lo is not None:
        m &= x >= lo
    if hi is not None:
        m &= x <= hi
    return m


_clip = defop("clip", lambda x, lo, hi: np.clip(x, lo, hi),
              lambda g, y, x, lo, hi: (where(_clip_mask(x, lo, hi), g, 0.0),),
              lambda ts, y, x, lo, hi: where(_clip_mask(x, lo, hi), ts[0], 0.0))


def _tril_primal(x, k=0):
    return np.tril(x, k)


tril = defop("tril", _tril_primal, lambda g, y, x, k=0: (tril(g, k=k),),
             lambda ts, y, x, k=0: tril(ts[0], k=k), saves_in=False)

# ---------------------------------------------------------------------------------------------
# reductions


def _np_sum(x, axis=None, keepdims=False):
    return np.sum(x, axis=axis, keepdims=keepdims)


_sum = defop(
    "sum", _np_sum,
    lambda g, y, x, axis=None, keepdims=False:
        (broadcast_to(expand(g, shape_of_raw(x), axis, keepdims), shape_of_raw(x)),),
    lambda ts, y, x, axis=None, keepdims=False:
        _sum(ts[0], axis=neg_axes(axis, ndim(x)), keepdims=keepdims),
    saves_in=False)


def _weighted_reduction(name, primal, w):
    """A reduction whose derivative is an elementwise weight w(x, y, axis, keepdims) of its
    input (y the output): VJP g * w, JVP sum(t * w)."""
    return defop(
        name, primal,
        lambda g, y, x, axis=None, keepdims=False:
            (expand(g, shape_of_raw(x), axis, keepdims) * w(x, y, axis, keepdims),),
        lambda ts, y, x, axis=None, keepdims=False:
            _sum(ts[0] * w(x, y, axis, keepdims), axis=neg_axes(axis, ndim(x)),
                 keepdims=keepdims),
        saves_out=True)


def _count(x, axis):
    s = shape_of_raw(x)
    return int(np.prod([s[a] for a in neg_axes(axis, len(s))])) if s else 1


_mean = defop(
    "mean", lambda x, axis=None, keepdims=False: np.mean(x, axis=axis, keepdims=keepdims),
    lambda g, y, x, axis=None, keepdims=False:
        (broadcast_to(expand(g, shape_of_raw(x), axis, keepdims) / _count(x, axis),
                      shape_of_raw(x)),),
    lambda ts, y, x, axis=None, keepdims=False:
        _sum(ts[0], axis=neg_axes(axis, ndim(x)), keepdims=keepdims) / _count(x, axis),
    saves_in=False)


def _prod_others(x, axis):
    """prod of all other elements along axis, exact also where x has zeros."""
    x = np.asarray(primal_of(x), dtype=float)
    if axis is None:
        return _prod_others(x.reshape(-1), 0).reshape(x.shape)
    ax = neg_axes(axis, x.ndim)
    if len(ax) != 1:
        moved = np.moveaxis(x, ax, tuple(range(-len(ax), 0)))
        flat = moved.reshape(moved.shape[:x.ndim - len(ax)] + (-1,))
        r = _prod_others(flat, -1).reshape(moved.shape)
        return np.moveaxis(r, tuple(range(-len(ax), 0)), ax)
    a = ax[0]
    ones = np.ones_like(np.take(x, [0], axis=a))
    left = np.cumprod(np.concatenate([ones, x], axis=a), axis=a)
    left = np.take(left, range(x.shape[a]), axis=a)
    xr = np.flip(x, axis=a)
    right = np.flip(np.take(np.cumprod(np.concatenate([ones, xr], axis=a), axis=a),
                            range(x.shape[a]), axis=a), axis=a)
    return left * right


def _prod_others_ad(x, axis):
    """_prod_others with ad ops, so its own derivatives are exact where x has zeros (used when
    the rule is differentiated: create_graph, forward-over-reverse). O(n^2) in the reduced
    size: row i of an n x n matrix holds x with its i-th element replaced by 1."""
    nd = ndim(x)
    red = sorted(a % nd for a in neg_axes(axis, nd))
    perm = tuple(i for i in range(nd) if i not in red) + tuple(red)
    xt = transpose(x, axes=perm)
    st = shape(xt)
    n = int(np.prod(st[nd - len(red):]))
    xf = reshape(xt, st[:nd - len(red)] + (1, n))
    o = _prod(where(np.eye(n, dtype=bool), 1.0, xf), axis=-1)
    return transpose(reshape(o, st), axes=tuple(np.argsort(perm)))


def _prod_d(x, y, axis, keepdims):
    xr = primal_of(x)
    xc = cond_of(x)
    nz = bool(_min(xc != 0)) if isinstance(xc, Traced) else np.all(xr != 0)  # ad.jit: a guard
    if nz:
        return expand(y, shape_of_raw(x), axis, keepdims) / x
    if isinstance(x, Traced):
        return _prod_others_ad(x, axis)
    return _prod_others(xr, axis)


_prod = _weighted_reduction(
    "prod", lambda x, axis=None, keepdims=False: np.prod(x, axis=axis, keepdims=keepdims),
    _prod_d)


def _extreme(npf):
    def mask(x, y, axis, keepdims):
        xr, yr = cond_of(x), cond_of(y)
        if isinstance(xr, Traced):  # ad.jit: the mask is part of the traced computation
            m = xr == reshape(yr, keep_shape(shape(xr), axis))
            return m, _sum(m, axis=axis, keepdims=True)
        m = xr == np.reshape(yr, keep_shape(np.shape(xr), axis))
        return m, np.sum(m, axis=axis, keepdims=True)

    def vjp(g, y, x, axis=None, keepdims=False):
        m, cnt = mask(x, y, axis, keepdims)
        return (where(m, expand(g, shape_of_raw(x), axis, keepdims) / cnt, 0.0),)

    def jvp(ts, y, x, axis=None, keepdims=False):
        m, cnt = mask(x, y, axis, keepdims)
        return _sum(where(m, ts[0], 0.0) / cnt, axis=neg_axes(axis, ndim(x)), keepdims=keepdims)

    return (lambda x, axis=None, keepdims=False: npf(x, axis=axis, keepdims=keepdims)), vjp, jvp


_max = defop("max", *_extreme(np.max), saves_out=True)
_min = defop("min", *_extreme(np.min), saves_out=True)


def _norm_primal(x, axis=None, keepdims=False):
    return np.sqrt(np.sum(np.square(x), axis=axis, keepdims=keepdims))


def _safe_recip(y):
    # 1/y, with 0 where y == 0: the norm's subgradient at the zero vector is 0, as in PyTorch
    return 1.0 / where(cond_of(y) == 0, np.inf, y)


_norm2 = defop(
    "norm", _norm_primal,
    lambda g, y, x, axis=None, keepdims=False:
        (x * expand(g * _safe_recip(y), shape_of_raw(x), axis, keepdims),),
    lambda ts, y, x, axis=None, keepdims=False:
        _sum(ts[0] * x, axis=neg_axes(axis, ndim(x)), keepdims=keepdims) * _safe_recip(y),
    saves_out=True)


def _lse_primal(x, axis=None, keepdims=False):
    x = np.asarray(x)
    m = np.max(x, axis=axis, keepdims=True) if x.size else np.zeros(keep_shape(x.shape, axis))
    m = np.where(np.isfinite(m), m, 0.0)
    r = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return r if keepdims else np.reshape(r, np.shape(np.sum(x, axis=axis)))


def _lse_w(x, y, axis, keepdims):
    return exp(x - expand(y, shape_of_raw(x), axis, keepdims))


_logsumexp = _weighted_reduction("logsumexp", _lse_primal, _lse_w)


def _softmax_primal(x, axis=-1):
    x = np.asarray(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax_primal(x, axis=-1):
    return np.asarray(x) - _lse_primal(x, axis=axis, keepdims=True)


_softmax = defop(
    "softmax", _softmax_primal,
    lambda g, y, x, axis=-1: (y * (g - _sum(g * y, axis=axis, keepdims=True)),),
    lambda ts, y, x, axis=-1: y * (ts[0] - _sum(ts[0] * y, axis=neg_axes(axis, ndim(x)),
                                                keepdims=True)),
    saves_in=False, saves_out=True)

_log_softmax = defop(
    "log_softmax", _log_softmax_primal,
    lambda g, y, x, axis=-1: (g - exp(y) * _sum(g, axis=axis, keepdims=True),),
    lambda ts, y, x, axis=-1: ts[0] - _sum(exp(y) * ts[0], axis=neg_axes(axis, ndim(x)),
                                           keepdims=True),
    saves_in=False, saves_out=True)


def _flip(v, axis):
    return getitem(v, idx=(Ellipsis, slice(None, None, -1)) + (slice(None),) * (-axis - 1))


def _cumsum_vjp(g, y, x, axis=None):
    if axis is None:
        return (reshape(_flip(_cumsum(_flip(g, -1), axis=-1), -1), shape_of_raw(x)),)
    a = neg_axes(axis, ndim(x))[0]
    return (_flip(_cumsum(_flip(g, a), axis=a), a),)


def _cumsum_jvp(ts, y, x, axis=None):
    t = ts[0]
    if axis is None:
        return _cumsum(reshape(t, batch(t, x) + (int(np.prod(shape_of_raw(x))),)), axis=-1)
    return _cumsum(t, axis=neg_axes(axis, ndim(x))[0])


_cumsum = defop("cumsum", lambda x, axis=None: np.cumsum(x, axis=axis), _cumsum_vjp, _cumsum_jvp,
                saves_in=False)

# ---------------------------------------------------------------------------------------------
# linear algebra (last two axes are the matrix; rules never divide by det)


def _matmul_vjp(g, y, a, b, _needs=(True, True)):
    # _needs: skip the cotangent of a constant factor (for W @ x with a constant W, the outer
    # product g x^T would cost more than the rest of the backward pass)
    na, nb_ = ndim(a), ndim(b)
    ga = gb = None
    if na == 1 and nb_ == 1:
        return (g * b if _needs[0] else None), (g * a if _needs[1] else None)
    if nb_ == 1:
        if _needs[0]:
            ga = getitem(g, idx=(Ellipsis, None)) * b
        if _needs[1]:
            gb = getitem(matmul(getitem(g, idx=(Ellipsis, None, slice(None))), a),
                         idx=(Ellipsis, 0, slice(None)))
    elif na == 1:
        if _needs[0]:
            ga = getitem(matmul(b, getitem(g, idx=(Ellipsis, slice(None), None))),
                         idx=(Ellipsis, slice(None), 0))
        if _needs[1]:
            gb = (getitem(a, idx=(slice(None), None)) *
                  getitem(g, idx=(Ellipsis, None, slice(None))))
    else:
        if _needs[0]:
            ga = matmul(g, mT(b))
        if _needs[1]:
            gb = matmul(mT(a), g)
    return (None if ga is None else unbroadcast(ga, shape_of_raw(a)),
            None if gb is None else unbroadcast(gb, shape_of_raw(b)))


def _matmul_jvp(ts, y, a, b):
    # In matrix form (a vector a as a row, a vector b as a column), with the tangent's batch
    # axes in front and unit axes padding its matrix-batch axes to the output's, so that
    # NumPy's broadcasting of the other (unbatched) factor lines up.
    sa, sb = shape_of_raw(a), shape_of_raw(b)
    am = sa if len(sa) > 1 else (1,) + sa
    bm = sb if len(sb) > 1 else sb + (1,)
    nd = builtins.max(len(am), len(bm))
    ys = shape_of_raw(y)
    ta, tb = ts
    out = None
    if ta is not None:
        lead = batch(ta, a)
        if len(sb) == 1:
            out = matmul(ta, b)       # batch axes fit in front: (lead, ..., m, n) @ (n,)
        elif len(sb) == 2:
            # one matrix b: fold every other axis of ta into rows, one GEMM for k directions
            rows = int(np.prod(shape(ta)[:-1]))
            out = reshape(matmul(reshape(ta, (rows, sa[-1])), b), lead + ys)
        else:
            t = reshape(ta, lead + (1,) * (nd - len(am)) + am)
            out = reshape(matmul(t, b if len(sb) > 1 else reshape(b, bm)), lead + ys)
    if tb is not None:
        lead = batch(tb, b)
        if len(sb) == 1:
            if len(sa) == 1:
                c = matmul(tb, a)
            elif len(sa) == 2:
                c = matmul(tb, mT(a))    # (lead, n) @ (n, m): one GEMM for k directions
            else:
                t = reshape(tb, lead + (1,) * (nd - len(bm)) + bm)
                c = reshape(matmul(a, t), lead + ys)
        else:
            t = reshape(tb, lead + (1,) * (nd - len(bm)) + bm)
            c = reshape(matmul(a if len(sa) > 1 else reshape(a, am), t), lead + ys)
        out = c if out is None else out + c
    return out


matmul = defop("matmul", np.matmul, _matmul_vjp, _matmul_jvp, backward_name="MmBackward",
               vjp_needs=True)


def _diag_sum(m):
    n = shape(m)[-1]
    r = np.arange(n)
    return _sum(getitem(m, idx=(Ellipsis, r, r)), axis=-1)


def _col(v):
    return getitem(v, idx=(Ellipsis, None, None))


def _vec_solve(A, v):
    return getitem(solve(A, getitem(v, idx=(Ellipsis, None))), idx=(Ellipsis, 0))


# det's derivative is the cofactor matrix C = det(x) inv(x)^T. Where x is well conditioned the
# rules use that product, through the registered inv when x is wrapped, so they can be
# differentiated again to any order. Near and at singular matrices (where inv raises, and where
# differentiating det * inv cancels catastrophically) C comes from the SVD x = U S Vh instead:
# C = det(U) det(Vh) U diag(prod_{j != i} s_j) Vh, exact at any rank, and its own derivative
# (det's Hessian) from the same SVD, so first and second derivatives exist everywhere; third
# and higher ones at such matrices raise NotImplementedError. Inside ad.jit the choice is made
# on the traced values (a kernel traced at a regular matrix keeps the inverse; one whose inv
# raises runs eagerly), and a trace at an ill-conditioned matrix runs eagerly.
DET_COND_MAX = 1e8   # 1-norm condition number above which det's rules use the SVD


def _det_inv(x):
    """inv(x) if every matrix of x is well conditioned (finite x with a 1-norm condition number
    below DET_COND_MAX), else None. A wrapped x gets the registered op."""
    xr = np.asarray(primal_of(x))
    try:
        xi = np.linalg.inv(xr)
    except np.linalg.LinAlgError:
        return None
    c = (np.abs(xr).sum(axis=-2).max(axis=-1, initial=0.0)
         * np.abs(xi).sum(axis=-2).max(axis=-1, initial=0.0))
    if np.any(c >= DET_COND_MAX) and np.all(np.isfinite(xr)):
        return None
    return inv(x) if isinstance(x, Traced) else xi


def _det_svd(x):
    """(det(U) det(Vh), U, singular values, Vh) of x = U S Vh, det(U) det(Vh) with axes for
    broadcasting against matrices."""
    U, s, Vh = np.linalg.svd(x)
    return (np.linalg.det(U) * np.linalg.det(Vh))[..., None, None], U, s, Vh


def _cofactor_primal(x):
    sign, U, s, Vh = _det_svd(x)
    return sign * ((U * _prod_others(s, -1)[..., None, :]) @ Vh)


def _det_hessian_primal(t, x):
    """det's second derivative at x applied to t (d C[t]; t may carry leading batch axes): in
    the SVD's bases E = U^T t Vh^T, d C = diag(Q diag(E)) - E^T * Q with Q_ij the product of
    the singular values other than s_i and s_j (Q_ii = 0)."""
    sign, U, s, Vh = _det_svd(x)
    n = s.shape[-1]
    eye = np.eye(n, dtype=bool)
    Q = np.where(eye, 0.0, _prod_others(np.where(eye, 1.0, s[..., None, :]), -1))
    E = np.swapaxes(U, -1, -2) @ t @ np.swapaxes(Vh, -1, -2)
    d = np.sum(Q * np.diagonal(E, axis1=-2, axis2=-1)[..., None, :], axis=-1)
    return sign * (U @ (d[..., None] * np.eye(n) - np.swapaxes(E, -1, -2) * Q) @ Vh)


def _det_third():
    return NotImplementedError(
        "adjit.det: third and higher derivatives at an ill-conditioned or singular matrix (1-norm "
        f"condition number above {DET_COND_MAX:.0e}) are not available; the first and second "
        "derivatives are")


def _det_hessian_vjp(g, y, t, x, _needs=(True, True)):
    if _needs[1]:
        raise _det_third()
    return _det_hessian(g, x), None   # the Hessian is symmetric


def _det_hessian_jvp(ts, y, t, x):
    if ts[1] is not None:
        raise _det_third()
    return _det_hessian(ts[0], x)


# internal ops (not in OPS, and unknown to ad.jit's compiler, which then runs eagerly)
_cofactor = Op("det_cofactor", _cofactor_primal,
               lambda g, y, x: (_det_hessian(g, x),),
               lambda ts, y, x: _det_hessian(ts[0], x))
_det_hessian = Op("det_hessian", _det_hessian_primal, _det_hessian_vjp, _det_hessian_jvp,
                  vjp_needs=True)


def _det_vjp(g, y, x):
    xi = _det_inv(x)
    if xi is None:
        return (_col(g) * _cofactor(x),)
    return (_col(g * y) * mT(xi),)


def _det_jvp(ts, y, x):
    xi = _det_inv(x)
    return (y * _sum(mT(xi) * ts[0], axis=(-2, -1)) if xi is not None
            else _sum(_cofactor(x) * ts[0], axis=(-2, -1)))


det = defop("det", np.linalg.det, _det_vjp, _det_jvp, saves_out=True)


def _logabsdet_primal(x):
    return np.linalg.slogdet(x)[1]


logabsdet = defop("logabsdet", _logabsdet_primal,
                  lambda g, y, x: (_col(g) * mT(inv(x)),),
                  lambda ts, y, x: _diag_sum(solve(x, ts[0])), backward_name="LogdetBackward")

inv = defop("inv", np.linalg.inv,
            lambda g, y, x: (-matmul(mT(y), matmul(g, mT(y))),),
            lambda ts, y, x: -matmul(y, matmul(ts[0], y)), saves_in=False, saves_out=True,
            backward_name="LinalgInvBackward")


def _solve_primal(A, b):
    if np.ndim(b) == 1:
        return np.linalg.solve(A, np.asarray(b)[..., None])[..., 0]
    return np.linalg.solve(A, b)


def _solve_vjp(g, y, A, b):
    if ndim(b) == 1:
        gb = _vec_solve(mT(A), g)
        gA = -(getitem(gb, idx=(Ellipsis, slice(None), None)) *
               getitem(y, idx=(Ellipsis, None, slice(None))))
    else:
        gb = solve(mT(A), g)
        gA = -matmul(gb, mT(y))
    return unbroadcast(gA, shape_of_raw(A)), unbroadcast(gb, shape_of_raw(b))


def _pad_batch(t, x, nd):
    """Unit axes between tangent t's batch axes and x's own axes, so t lines up with nd-dim
    values under NumPy broadcasting (x broadcast against a batched partner)."""
    k = nd - ndim(x)
    return t if t is None or k <= 0 else reshape(t, batch(t, x) + (1,) * k + shape_of_raw(x))


def _solve_jvp(ts, y, A, b):
    nd = ndim(y)
    tA, tb = _pad_batch(ts[0], A, nd), _pad_batch(ts[1], b, nd)
    r = tb
    if tA is not None:
        ty = (getitem(matmul(tA, getitem(y, idx=(Ellipsis, None))), idx=(Ellipsis, 0))
              if ndim(b) == 1 else matmul(tA, y))
        r = -ty if r is None else r - ty
    return _vec_solve(A, r) if ndim(b) == 1 else solve(A, r)


solve = defop("solve", _solve_primal, _solve_vjp, _solve_jvp, saves_out=True,
              backward_name="LinalgSolveBackward")


def _phi(X):
    n = shape(X)[-1]
    return tril(X) * (1.0 - 0.5 * np.eye(n))


def _chol_vjp(g, L, A):
    # Murray (2016): A_bar = sym(L^-T Phi(L^T G) L^-1), with triangular solves, no inverse
    P = _phi(matmul(mT(L), g))
    Z = solve(mT(L), P)
    S = mT(solve(mT(L), mT(Z)))
    return (0.5 * (S + mT(S)),)


def _chol_jvp(ts, L, A):
    X = solve(L, ts[0])
    X = mT(solve(L, mT(X)))
    return matmul(L, _phi(X))


cholesky = defop("cholesky", np.linalg.cholesky, _chol_vjp, _chol_jvp, saves_in=False,
                 saves_out=True, backward_name="LinalgCholeskyBackward")


# ---------------------------------------------------------------------------------------------
# comparisons: no derivative; on wrappers they compare the innermost values

def _cmp(name, f):
    return defop(name, f, nondiff=True)


greater = _cmp("greater", np.greater)
greater_equal = _cmp("greater_equal", np.greater_equal)
less = _cmp("less", np.less)
less_equal = _cmp("less_equal", np.less_equal)
equal = _cmp("equal", np.equal)
not_equal = _cmp("not_equal", np.not_equal)


# ---------------------------------------------------------------------------------------------
# public signatures (NumPy/PyTorch style) over the table's entries

def _axis(axis, dim):
    if dim is not None:
        if axis is not None:
            raise TypeError("adjit: pass either axis= or its alias dim=, not both")
        return tuple(dim) if isinstance(dim, list) else dim
    return tuple(axis) if isinstance(axis, list) else axis


def _reduction(op):
    """The public form of a reduction: NumPy's axis=/keepdims= or PyTorch's dim=/keepdim=."""
    def reduce(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return op(x, axis=_axis(axis, dim), keepdims=bool(keepdims or keepdim))
    reduce.__name__ = reduce.__qualname__ = op.name
    return reduce


sum, mean, prod, max, min, logsumexp = (  # noqa: A001
    _reduction(op) for op in (_sum, _mean, _prod, _max, _min, _logsumexp))


def softmax(x, axis=-1, *, dim=None):
    return _softmax(x, axis=_axis(None, dim) if dim is not None else axis)


def log_softmax(x, axis=-1, *, dim=None):
    return _log_softmax(x, axis=_axis(None, dim) if dim is not None else axis)


def cumsum(x, axis=None, *, dim=None):
    return _cumsum(x, axis=_axis(axis, dim))


def norm(x, ord=None, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axis, keepdims = _axis(axis, dim), bool(keepdims or keepdim)
    if ord in (None, 2, "fro"):
        return _norm2(x, axis=axis, keepdims=keepdims)
    if ord == 1:
        return sum(abs(x), axis=axis, keepdims=keepdims)
    if ord in (np.inf, float("inf")):
        return max(abs(x), axis=axis, keepdims=keepdims)
    return sum(abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _deviations(x, axis, ddof, correction, unbiased):
    """x minus its mean along axis, and the divisor n - ddof (ddof also as PyTorch's
    correction= or unbiased=)."""
    if correction is not None:
        ddof = correction
    if unbiased is not None:
        ddof = 1 if unbiased else 0
    return x - mean(x, axis=axis, keepdims=True), _count(x, axis) - ddof


def var(x, axis=None, keepdims=False, *, dim=None, keepdim=None, ddof=0, correction=None,
        unbiased=None):
    """Variance; ddof=0 as NumPy/JAX (PyTorch's default is unbiased: pass ddof=1)."""
    axis, keepdims = _axis(axis, dim), bool(keepdims or keepdim)
    d, n = _deviations(x, axis, ddof, correction, unbiased)
    return sum(d * d, axis=axis, keepdims=keepdims) / n


def std(x, axis=None, keepdims=False, *, dim=None, keepdim=None, ddof=0, correction=None,
        unbiased=None):
    """Standard deviation, as norm(x - mean) / sqrt(n - ddof): the norm's rule gives the
    gradient 0 where the data are constant (std == 0), as PyTorch, instead of inf * 0 = NaN."""
    axis, keepdims = _axis(axis, dim), bool(keepdims or keepdim)
    d, n = _deviations(x, axis, ddof, correction, unbiased)
    return _norm2(d, axis=axis, keepdims=keepdims) / np.sqrt(n)


def where(cond, a, b):
    c = cond_of(cond)
    if isinstance(c, Traced):  # ad.jit: the condition is traced (a param holding a tracer)
        if not (isinstance(a, Traced) or isinstance(b, Traced)):
            return type(c)._apply(_where, (a, b), {"cond": c}, c._level)
        return _where(a, b, cond=c)
    return _where(a, b, cond=np.asarray(c, dtype=bool))


def clip(x, a_min=None, a_max=None, *, min=None, max=None):  # noqa: A002
    lo = primal_of(min if a_min is None else a_min)
    hi = primal_of(max if a_max is None else a_max)
    return _clip(x, lo=lo, hi=hi)


def dot(a, b):
    if ndim(a) == 0 or ndim(b) == 0:
        return mul(a, b)
    return matmul(a, b)


def outer(a, b):
    return mul(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def trace(x):
    if ndim(x) != 2:
        raise ValueError(f"adjit.trace: expected a 2-D matrix, got shape {shape(x)}")
    return _diag_sum(x)


def concatenate(tensors, axis=0, *, dim=None):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("adjit.concatenate: expected a non-empty sequence of arrays")
    return _concatenate(*tensors, axis=_axis(None, dim) if dim is not None else axis)


cat = concatenate


def stack(tensors, axis=0, *, dim=None):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("adjit.stack: expected a non-empty sequence of arrays")
    return _stack(*tensors, axis=_axis(None, dim) if dim is not None else axis)


def logdet(x):
    """log det x; NaN where det < 0 and -inf where det == 0, as PyTorch."""
    sgn = np.linalg.slogdet(primal_of(x))[0]
    if np.all(sgn > 0):
        return logabsdet(x)  # the usual case: one op, grad_fn LogdetBackward as in PyTorch
    with np.errstate(divide="ignore", invalid="ignore"):
        return logabsdet(x) + np.log(np.where(sgn < 0, np.nan, sgn))


def slogdet(x):
    """(sign, log|det|); the sign is a constant."""
    return np.linalg.slogdet(primal_of(x))[0], logabsdet(x)


def expand_dims(x, axis):
    s = list(shape(x))
    s.insert(int(axis) % (len(s) + 1), 1)
    return reshape(x, tuple(s))


def squeeze(x, axis=None):
    s = shape(x)
    if axis is None:
        return reshape(x, tuple(n for n in s if n != 1))
    axes = {a % len(s) for a in ((axis,) if isinstance(axis, int) else axis)}
    return reshape(x, tuple(n for i, n in enumerate(s) if i not in axes))


# the names the elementwise formulas use, as ad ops (so rules differentiate their own terms)
AD_NS.update({n: globals()[n] for n, *_ in _UNARY}, where=where)
