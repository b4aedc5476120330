"""Reduction and scan rows: mean, prod, max, min, the 2-norm, logsumexp, softmax,
log_softmax, cumsum, and the public NumPy/PyTorch-style signatures (axis=/dim=,
keepdims=/keepdim=) of every reduction including sum, var and std."""
import math

import numpy as np

from ..core.complexrule import is_complex
from ..core.domain import Sample
from ..core.registry import Traced, composite, defop, implements, primal_of
from .axes import axis_arg, batch, cond_of, keep_shape, ndim, neg_axes, shape, shape_of_raw
from .elementwise import astype, dtype_name
from .formulas import abs as abs_
from .formulas import exp
from .shape import (REDUCTION_DOMAIN, axes_batched, broadcast_to, expand, getitem, reshape,
                    sum_op, transpose, where)

def _weighted_reduction(name, primal, w, **row):
    """A reduction whose derivative is an elementwise weight w(x, y, axis, keepdims) of its
    input (y the output): VJP g * w, JVP sum(t * w)."""
    return defop(
        name, primal,
        lambda g, y, x, axis=None, keepdims=False:
            (expand(g, shape_of_raw(x), axis, keepdims) * w(x, y, axis, keepdims),),
        lambda ts, y, x, axis=None, keepdims=False:
            sum_op(ts[0] * w(x, y, axis, keepdims), axis=neg_axes(axis, ndim(x)),
                 keepdims=keepdims),
        saves_out=True, **row)


def _count(x, axis):
    s = shape_of_raw(x)
    return int(np.prod([s[a] for a in neg_axes(axis, len(s))])) if s else 1


_mean = defop(
    "mean", lambda x, axis=None, keepdims=False: np.mean(x, axis=axis, keepdims=keepdims),
    lambda g, y, x, axis=None, keepdims=False:
        (broadcast_to(expand(g, shape_of_raw(x), axis, keepdims) / _count(x, axis),
                      shape_of_raw(x)),),
    linear=True, batched=axes_batched, saves_in=False, lower="red",
    jit={"init": 0, "acc": "{a} + {t}", "post": "{a} / {n}", "pairwise": "sum"},
    domain=REDUCTION_DOMAIN)


def prod_others(x, axis):
    """prod of all other elements along axis, exact also where x has zeros."""
    x = np.asarray(primal_of(x))
    x = x.astype(np.result_type(x, float), copy=False)   # complex stays complex
    if axis is None:
        return prod_others(x.reshape(-1), 0).reshape(x.shape)
    ax = neg_axes(axis, x.ndim)
    if len(ax) != 1:
        moved = np.moveaxis(x, ax, tuple(range(-len(ax), 0)))
        flat = moved.reshape(moved.shape[:x.ndim - len(ax)] + (-1,))
        r = prod_others(flat, -1).reshape(moved.shape)
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
    """prod_others with ad ops, so its own derivatives are exact where x has zeros (used when
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
    if isinstance(xc, Traced) and not xc._branches:   # ad.vmap: zeros in some elements only
        return _prod_others_ad(x, axis)
    # ad.jit: a guard (counting zeros, which also works for an empty x)
    nz = not bool(sum_op(xc == 0)) if isinstance(xc, Traced) else np.all(xr != 0)
    if nz:
        return expand(y, shape_of_raw(x), axis, keepdims) / x
    if isinstance(x, Traced):
        return _prod_others_ad(x, axis)
    return prod_others(xr, axis)


_prod = _weighted_reduction(
    "prod", lambda x, axis=None, keepdims=False: np.prod(x, axis=axis, keepdims=keepdims),
    _prod_d, lower="red", jit={"init": 1, "acc": "{a} * {t}"},
    domain=[Sample(*s.shapes, values=(0.5, 1.5), **s.params) for s in REDUCTION_DOMAIN]
    + [Sample((0, 3)), Sample((0, 3), axis=0),
       # an exact zero: the rule's other branch (exact first derivative; prod is multilinear,
       # so central differences are exact there too)
       Sample((3, 2), kind="with_zero", axis=0, second=False)])


def _fill(nan_slice, x):
    # NaN on NaN slices, else 0, in x's dtype (a float64 fill would upcast float32 cotangents)
    return astype(where(nan_slice, np.nan, 0.0), dtype=dtype_name(x))


def _extreme(npf):
    def mask(x, y, axis, keepdims):
        xr, yr = cond_of(x), cond_of(y)
        if isinstance(xr, Traced):  # ad.jit: the mask is part of the traced computation
            m = xr == reshape(yr, keep_shape(shape(xr), axis))
            # the count of ties in x's dtype: an int64 count would upcast float32 cotangents
            return m, astype(sum_op(m, axis=axis, keepdims=True), dtype=dtype_name(x))
        m = xr == np.reshape(yr, keep_shape(np.shape(xr), axis))
        return m, np.sum(m, axis=axis, keepdims=True, dtype=dtype_name(x))

    # Ties share the derivative evenly. A slice whose extreme is NaN matches no element
    # (cnt == 0): its derivative is NaN throughout, as PyTorch's and JAX's for a NaN result.
    def vjp(g, y, x, axis=None, keepdims=False):
        m, cnt = mask(x, y, axis, keepdims)
        nan_slice = cnt == 0
        return (where(m, expand(g, shape_of_raw(x), axis, keepdims) / where(nan_slice, 1, cnt),
                      _fill(nan_slice, x)),)

    def jvp(ts, y, x, axis=None, keepdims=False):
        m, cnt = mask(x, y, axis, keepdims)
        nan_slice = cnt == 0
        return sum_op(where(m, ts[0], _fill(nan_slice, x)) / where(nan_slice, 1, cnt),
                      axis=neg_axes(axis, ndim(x)), keepdims=keepdims)

    return (lambda x, axis=None, keepdims=False: npf(x, axis=axis, keepdims=keepdims)), vjp, jvp


# distinct values: no ties within the difference step
_EXTREME_DOMAIN = [Sample(*s.shapes, kind="distinct", **s.params) for s in REDUCTION_DOMAIN
                   if 0 not in s.shapes[0]]
_max = defop("max", *_extreme(np.max), saves_out=True, lower="red",
             jit={"init": -np.inf, "acc": "{t} if ({t} > {a} or {t} != {t}) else {a}"},
             domain=_EXTREME_DOMAIN)
_min = defop("min", *_extreme(np.min), saves_out=True, lower="red",
             jit={"init": np.inf, "acc": "{t} if ({t} < {a} or {t} != {t}) else {a}"},
             domain=_EXTREME_DOMAIN)


def _norm_primal(x, axis=None, keepdims=False):
    if is_complex(x):   # NumPy's value (its derivative raises: the public norm takes |x| first)
        x = np.abs(x)
    return np.sqrt(np.sum(np.square(x), axis=axis, keepdims=keepdims))


def _safe_recip(y):
    # 1/y, with 0 where y == 0: the norm's subgradient at the zero vector is 0, as in PyTorch
    return 1.0 / where(cond_of(y) == 0, np.inf, y)


norm2 = defop(
    "norm", _norm_primal,
    lambda g, y, x, axis=None, keepdims=False:
        (x * expand(g * _safe_recip(y), shape_of_raw(x), axis, keepdims),),
    lambda ts, y, x, axis=None, keepdims=False:
        sum_op(ts[0] * x, axis=neg_axes(axis, ndim(x)), keepdims=keepdims) * _safe_recip(y),
    saves_out=True, lower="red",
    jit={"init": 0, "acc": "{a} + {t} * {t}", "post": "sqrt({a})", "pairwise": "square"},
    domain=[Sample(*s.shapes, away=(0,), gap=0.1, **s.params) for s in REDUCTION_DOMAIN
            if 0 not in s.shapes[0]])


def _lse_primal(x, axis=None, keepdims=False):
    x = np.asarray(x)
    # complex x: shift by the largest real part (SciPy's), so that the imaginary part of the
    # result is the principal one, in (-pi, pi]
    xs = x.real if x.dtype.kind == "c" else x
    m = np.max(xs, axis=axis, keepdims=True) if x.size else np.zeros(keep_shape(x.shape, axis), xs.dtype)
    m = np.where(np.isfinite(m), m, 0.0)
    r = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return r if keepdims else np.reshape(r, np.shape(np.sum(x, axis=axis)))


def _lse_w(x, y, axis, keepdims):
    return exp(x - expand(y, shape_of_raw(x), axis, keepdims))


_logsumexp = _weighted_reduction(
    "logsumexp", _lse_primal, _lse_w, lower="axis",
    jit={"axis": None, "reduce": "log({s}) + {m}"},
    domain=[s for s in REDUCTION_DOMAIN if 0 not in s.shapes[0]]
    + [Sample((3,), values=(1000.0, 1001.0))])


def _softmax_primal(x, axis=-1):
    x = np.asarray(x)
    if x.size == 0:   # an empty axis (or an empty batch): the empty result, as NumPy's ufuncs
        return np.exp(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax_primal(x, axis=-1):
    x = np.asarray(x)
    if x.size == 0:
        return x - np.zeros((), dtype=np.result_type(x, np.float32))
    if x.dtype.kind == "c":   # SciPy's: shifted by the (lexicographic) largest x, no 2 pi i wrap
        m = np.max(x, axis=axis, keepdims=True)
        t = x - np.where(np.isfinite(m), m, 0.0)
        return t - np.log(np.sum(np.exp(t), axis=axis, keepdims=True))
    return x - _lse_primal(x, axis=axis, keepdims=True)


_AXIS_DOMAIN = [Sample((2, 3, 4)), Sample((2, 3, 4), axis=0), Sample((2, 3), axis=-2),
                Sample((4,)), Sample((3,), values=(1000.0, 1001.0))]

_softmax = defop(
    "softmax", _softmax_primal,
    lambda g, y, x, axis=-1: (y * (g - sum_op(g * y, axis=axis, keepdims=True)),),
    lambda ts, y, x, axis=-1: y * (ts[0] - sum_op(ts[0] * y, axis=neg_axes(axis, ndim(x)),
                                                keepdims=True)),
    saves_in=False, saves_out=True, lower="axis",
    jit={"axis": -1, "each": "exp({t} - {m}) / {s}"}, domain=_AXIS_DOMAIN)

_log_softmax = defop(
    "log_softmax", _log_softmax_primal,
    lambda g, y, x, axis=-1: (g - exp(y) * sum_op(g, axis=axis, keepdims=True),),
    lambda ts, y, x, axis=-1: ts[0] - sum_op(exp(y) * ts[0], axis=neg_axes(axis, ndim(x)),
                                           keepdims=True),
    saves_in=False, saves_out=True, lower="axis",
    jit={"axis": -1, "pre": "log({s}) + {m}", "each": "{t} - {s}"}, domain=_AXIS_DOMAIN)


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
                saves_in=False, lower="scan",
                domain=[Sample((3, 4)), Sample((3, 4), axis=0), Sample((2, 3, 4), axis=-2),
                        Sample(()), Sample((0, 2), axis=1)])

def _reduction(op):
    """The public form of a reduction: NumPy's axis=/keepdims= or PyTorch's dim=/keepdim=."""
    def reduce(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return op(x, axis=axis_arg(axis, dim), keepdims=bool(keepdims or keepdim))
    reduce.__name__ = reduce.__qualname__ = op.name
    return reduce


sum, mean, prod, max, min, logsumexp = (  # noqa: A001
    _op.public(_reduction(_op), methods=(_op.name,), numpy=_np)
    for _op, _np in ((sum_op, (np.sum,)), (_mean, (np.mean,)), (_prod, (np.prod,)),
                     (_max, (np.max, np.amax)), (_min, (np.min, np.amin)), (_logsumexp, ())))
_max.aliases, _min.aliases = ("amax",), ("amin",)   # NumPy's other names, same signature


@_softmax.public(methods=("softmax",))
def softmax(x, axis=-1, *, dim=None):
    return _softmax(x, axis=axis_arg(None, dim) if dim is not None else axis)


@_log_softmax.public(methods=("log_softmax",))
def log_softmax(x, axis=-1, *, dim=None):
    return _log_softmax(x, axis=axis_arg(None, dim) if dim is not None else axis)


@_cumsum.public(methods=("cumsum",), numpy=(np.cumsum,))
def cumsum(x, axis=None, *, dim=None):
    return _cumsum(x, axis=axis_arg(axis, dim))


def _deviations(x, axis, ddof, correction, unbiased):
    """x minus its mean along axis, and the divisor n - ddof (ddof also as PyTorch's
    correction= or unbiased=)."""
    if correction is not None:
        ddof = correction
    if unbiased is not None:
        ddof = 1 if unbiased else 0
    # as NumPy: ddof >= n divides by 0 (inf, or NaN for constant data), never by a negative n
    n = _count(x, axis) - ddof
    d = x - mean(x, axis=axis, keepdims=True)
    # complex data: NumPy's var is the mean of |d|^2 (real), not of d^2
    return (abs_(d) if is_complex(d) else d), n if n > 0 else 0


@composite(methods=("var",), numpy=(np.var,),
           domain=[Sample((2, 3)), Sample((2, 3), axis=-1, ddof=1), Sample((4,), keepdims=True)])
def var(x, axis=None, keepdims=False, *, dim=None, keepdim=None, ddof=0, correction=None,
        unbiased=None):
    """Variance; ddof=0 as NumPy/JAX (PyTorch's default is unbiased: pass ddof=1)."""
    axis, keepdims = axis_arg(axis, dim), bool(keepdims or keepdim)
    d, n = _deviations(x, axis, ddof, correction, unbiased)
    return sum(d * d, axis=axis, keepdims=keepdims) / n


@composite(methods=("std",), numpy=(np.std,),
           domain=[Sample((2, 3)), Sample((3, 2), axis=0, ddof=1)])
def std(x, axis=None, keepdims=False, *, dim=None, keepdim=None, ddof=0, correction=None,
        unbiased=None):
    """Standard deviation, as norm(x - mean) / sqrt(n - ddof): the norm's rule gives the
    gradient 0 where the data are constant (std == 0), as PyTorch, instead of inf * 0 = NaN."""
    axis, keepdims = axis_arg(axis, dim), bool(keepdims or keepdim)
    d, n = _deviations(x, axis, ddof, correction, unbiased)
    return norm2(d, axis=axis, keepdims=keepdims) / math.sqrt(n)   # weak: float32 stays

