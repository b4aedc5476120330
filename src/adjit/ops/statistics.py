"""Statistics: median, quantile and percentile (NumPy's linear interpolation) from the sorted
values (sorting.py's rows, so ad.jit sorts each call's data), and the reductions built from
rows: average (weights), ptp, nansum, nanmean, nanmax, nanmin."""
import builtins
import math

import numpy as np

from ..core.domain import Sample
from ..core.registry import Traced, composite
from .axes import cond_of, ndim, shape
from .elementwise import astype, dtype_name
from .reductions import max, mean, min, sum  # noqa: A004
from .shape import broadcast_to, getitem, reshape, transpose, where
from .sorting import any_true, check_axis, sorted_rows


def _reduced_axes(a, axis, who):
    nd = ndim(a)
    if axis is None:
        return tuple(range(nd))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    axes = tuple(check_axis(ax, nd, who) for ax in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"adjit.{who}: repeated axis in {axis}")
    return tuple(sorted(axes))


def _nan_rows(y2, r):
    """NaN where a row holds a NaN (sorted last), as NumPy's median and quantile."""
    last = cond_of(getitem(y2, idx=(slice(None), -1)))
    isnan = last != last
    return where(reshape(isnan, shape(isnan) + (1,) * (ndim(r) - 1)), np.nan, r)


def _positions(a, q, axis, keepdims, who, pick):
    """pick(sorted rows (m, n)) -> (m, k) values; the result shaped as NumPy's: q's shape in
    front (k = its size), then the kept axes (keepdims: ones in the reduced places)."""
    axes = _reduced_axes(a, axis, who)
    s = shape(a)
    y2, (perm, outer, inner) = sorted_rows(a, axes)
    n = math.prod(inner)
    if n == 0 and who == "median":   # NumPy: NaN (with a warning), of the result's shape
        r = np.full((shape(y2)[0], 1), np.nan, dtype=_result_dtype(a, 0.5))
    else:
        r = _nan_rows(y2, pick(y2, n))
    kept = tuple(1 if d in axes else s[d] for d in range(len(s))) if keepdims else outer
    qs = np.shape(q)
    r = transpose(r, axes=(1, 0))
    return reshape(r, qs + kept)


def _q_value(q, who):
    """q's values (the positions of the values depend on them); a differentiated q (a Tensor,
    a dual) differentiates through the interpolation weights, but under ad.jit / ad.vmap its
    values would be frozen into the positions, so there q must be a constant."""
    if isinstance(cond_of(q), Traced):
        raise TypeError(f"adjit.{who}: under ad.jit or ad.vmap q must be a constant (a number or "
                        "a NumPy array): the positions of the values depend on it. Pass q from "
                        "outside the jitted (or mapped) function, e.g. through a closure")
    qa = np.asarray(cond_of(q), dtype=float)
    if not np.all((qa >= 0) & (qa <= 1)):
        raise ValueError(f"adjit.{who}: quantiles must be in the range [0, 1]")
    return qa


def _lerp_pick(q, qa, dtype):
    def pick(y2, n):
        if n == 0:
            raise IndexError("adjit.quantile: cannot take a quantile of no values (an empty "
                             "array or axis)")
        pos = qa.ravel() * (n - 1)
        lo = np.floor(pos).astype(np.intp)
        hi = np.minimum(lo + 1, n - 1)
        # a differentiated q: the weights as ad values (d/dq = (n - 1) (b - a))
        t = reshape(q, (qa.size,)) * (n - 1) - lo if isinstance(q, Traced) else \
            (pos - lo).astype(dtype)
        a, b = getitem(y2, idx=(slice(None), lo)), getitem(y2, idx=(slice(None), hi))
        d = b - a
        # NumPy's _lerp: from the nearer end, so q = 1 gives the largest value exactly
        return where(pos - lo >= 0.5, b - d * (1 - t), a + d * t)
    return pick


def _result_dtype(a, q):
    dt = np.dtype(dtype_name(a))
    if dt.kind not in "fc":
        dt = np.dtype(np.float64)
    # a Python number q keeps a's float dtype (NumPy's weak scalars); an array q promotes
    return dt if type(q) in (int, float) else np.result_type(dt, np.dtype(dtype_name(q)))


_Q_DOMAIN = [Sample((3, 5), kind="distinct", q=0.3, axis=1),
             Sample((4, 3), kind="distinct", q=np.array([0.0, 0.25, 0.5, 1.0]), axis=0),
             Sample((2, 3, 4), kind="distinct", q=0.7, axis=(0, 2), keepdims=True),
             Sample((6,), kind="distinct", q=0.5)]


@composite(numpy=(np.quantile,), domain=_Q_DOMAIN)
def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False):
    """Quantiles by linear interpolation between the sorted values (NumPy's default method).

    Parameters
    ----------
    a : array_like
    q : float or array of floats in [0, 1] (a constant under ad.jit and ad.vmap)
    axis : int, tuple of ints or None (all)
    keepdims : bool

    Returns
    -------
    q's shape followed by the shape of the kept axes. NaN where the values hold a NaN.

    Examples
    --------
    >>> import adjit as ad
    >>> ad.quantile(ad.tensor([1.0, 2.0, 4.0]), 0.75)
    tensor(3.)
    """
    if out is not None:
        raise TypeError("adjit.quantile: out= is not supported; use the returned value")
    if method != "linear":
        raise NotImplementedError(f"adjit.quantile: method={method!r} is not supported "
                                  "(only 'linear', NumPy's default)")
    qa = _q_value(q, "quantile")
    return _positions(a, qa, axis, keepdims, "quantile",
                      _lerp_pick(q, qa, _result_dtype(a, q)))


@composite(numpy=(np.percentile,),
           domain=[Sample((3, 5), kind="distinct", q=30.0, axis=-1),
                   Sample((5,), kind="distinct", q=np.array([10.0, 90.0]))])
def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False):
    """Percentiles: quantile(a, q / 100).

    Parameters
    ----------
    a : array_like
    q : float or array of floats in [0, 100] (a constant under ad.jit and ad.vmap)
    axis : int, tuple of ints or None (all)
    keepdims : bool

    Returns
    -------
    q's shape followed by the shape of the kept axes.

    Examples
    --------
    >>> import adjit as ad
    >>> ad.percentile(ad.tensor([1.0, 2.0, 4.0]), 50)
    tensor(2.)
    """
    qa = q / 100 if type(q) in (int, float) or isinstance(q, Traced) else np.true_divide(q, 100)
    return quantile(a, qa, axis=axis, out=out,
                    method=method, keepdims=keepdims)


def _median_pick(y2, n):
    k = n // 2
    if n % 2:
        return getitem(y2, idx=(slice(None), slice(k, k + 1)))
    return (getitem(y2, idx=(slice(None), slice(k - 1, k))) +
            getitem(y2, idx=(slice(None), slice(k, k + 1)))) / 2


@composite(numpy=(np.median,),
           domain=[Sample((3, 5), kind="distinct", axis=1), Sample((4, 3), kind="distinct",
                                                                    axis=0, keepdims=True),
                   Sample((2, 3, 4), kind="distinct"), Sample((2, 4), kind="distinct", axis=-1)])
def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The median (the mean of the two middle values for an even count) along axes.

    Parameters
    ----------
    a : array_like
    axis : int, tuple of ints or None (all)
    keepdims : bool

    Returns
    -------
    The medians, of the kept axes' shape; NaN where the values hold a NaN.

    Examples
    --------
    >>> import adjit as ad
    >>> ad.median(ad.tensor([4.0, 1.0, 3.0, 2.0]))
    tensor(2.5000)
    """
    if out is not None:
        raise TypeError("adjit.median: out= is not supported; use the returned value")
    return _positions(a, np.float64(0.5), axis, keepdims, "median", _median_pick)


# ---------------------------------------------------------------------------------------------
# reductions built from rows

def _weights_for(a, w, axis):
    """weights shaped to broadcast against a (NumPy: the same shape, or 1-D along one axis)."""
    sa, sw = shape(a), shape(w)
    if sw == sa:
        return w
    if axis is None:
        raise TypeError("adjit.average: axis must be specified when shapes of a and weights "
                        "differ")
    if len(sw) != 1 or not isinstance(axis, (int, np.integer)):
        raise TypeError("adjit.average: 1D weights expected when shapes of a and weights "
                        "differ")
    ax = check_axis(axis, len(sa), "average")
    if sw[0] != sa[ax]:
        raise ValueError("adjit.average: length of weights not compatible with specified axis")
    return reshape(w, tuple(sa[ax] if d == ax else 1 for d in range(len(sa))))


_W4 = np.array([0.5, 1.0, 2.0, 1.5])


@composite(numpy=(np.average,),
           domain=[Sample((3, 4), axis=1), Sample((3, 4), weights=np.tile(_W4, (3, 1)), axis=1),
                   Sample((3, 4), axis=1, weights=_W4), Sample((2, 4), axis=0, keepdims=True),
                   Sample((3, 4), weights=np.tile(_W4, (3, 1)), keepdims=True)])
def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """Weighted average along axes (weights differentiate too); returned=True also gives the
    sum of the weights.

    Parameters
    ----------
    a : array_like
    axis : int, tuple of ints or None (all)
    weights : array_like, optional: a's shape, or 1-D along an int axis
    returned : bool
    keepdims : bool

    Returns
    -------
    The average, and with returned=True the tuple (average, sum of weights as its shape).

    Examples
    --------
    >>> import adjit as ad
    >>> ad.average(ad.tensor([1.0, 2.0, 4.0]), weights=ad.tensor([1.0, 1.0, 2.0]))
    tensor(2.7500)
    """
    axis = tuple(axis) if isinstance(axis, list) else axis
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keepdims)
        n = math.prod(shape(a)) // builtins.max(math.prod(shape(avg)), 1)
        scl = np.full(shape(avg), n, dtype=dtype_name(avg))
    else:
        # as NumPy: 1-D weights are reshaped along the axis, their sum keeps unit axes
        w = _weights_for(a, weights, axis)
        scl = sum(w, axis=axis, keepdims=keepdims)
        if any_true(cond_of(scl) == 0):
            raise ZeroDivisionError("adjit.average: weights sum to zero, can't be normalized")
        avg = sum(a * w, axis=axis, keepdims=keepdims) / scl
    if returned:
        if shape(scl) != shape(avg):
            scl = broadcast_to(scl, shape(avg)) if isinstance(scl, Traced) else \
                np.broadcast_to(scl, shape(avg)).copy()
        return avg, scl
    return avg


@composite(numpy=(np.ptp,),
           domain=[Sample((3, 4), kind="distinct"), Sample((3, 4), kind="distinct", axis=0),
                   Sample((2, 3, 4), kind="distinct", axis=(0, 2), keepdims=True)])
def ptp(a, axis=None, out=None, keepdims=False):
    """Range of the values (max - min) along axes.

    Parameters
    ----------
    a : array_like
    axis : int, tuple of ints or None (all)
    keepdims : bool

    Returns
    -------
    max - min (ties share the derivative as max's and min's).

    Examples
    --------
    >>> import adjit as ad
    >>> ad.ptp(ad.tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1)
    tensor([4., 5.])
    """
    if out is not None:
        raise TypeError("adjit.ptp: out= is not supported; use the returned value")
    return max(a, axis=axis, keepdims=keepdims) - min(a, axis=axis, keepdims=keepdims)


def _nan_mask(a):
    c = cond_of(a)
    return c != c


def _count(a, axis, keepdims):
    """How many non-NaN values each slice holds, in a's float dtype."""
    c = cond_of(a)
    return astype(sum(c == c, axis=axis, keepdims=keepdims), dtype=dtype_name(a))


# (NaN inputs: tests/test_scans_sorting.py; the sweep's samples have none)
_NAN_DOMAIN = [Sample((3, 4)), Sample((3, 4), axis=0), Sample((2, 3, 4), axis=(0, 2),
                                                              keepdims=True),
               Sample((3,), axis=-1)]


@composite(numpy=(np.nansum,), domain=_NAN_DOMAIN)
def nansum(a, axis=None, dtype=None, out=None, keepdims=False):
    """Sum with NaN counted as zero (NaN entries get a zero derivative).

    Parameters
    ----------
    a : array_like
    axis : int, tuple of ints or None (all)
    keepdims : bool

    Returns
    -------
    The sums.

    Examples
    --------
    >>> import adjit as ad
    >>> ad.nansum(ad.tensor([1.0, float("nan"), 2.0]))
    tensor(3.)
    """
    if out is not None or dtype is not None:
        raise TypeError("adjit.nansum: out= and dtype= are not supported")
    return sum(where(_nan_mask(a), 0.0, a), axis=axis, keepdims=keepdims)


@composite(numpy=(np.nanmean,), domain=_NAN_DOMAIN)
def nanmean(a, axis=None, dtype=None, out=None, keepdims=False):
    """Mean of the non-NaN values (NaN entries get a zero derivative; NaN for a slice of
    NaNs only).

    Parameters
    ----------
    a : array_like
    axis : int, tuple of ints or None (all)
    keepdims : bool

    Returns
    -------
    The means.

    Examples
    --------
    >>> import adjit as ad
    >>> ad.nanmean(ad.tensor([1.0, float("nan"), 2.0]))
    tensor(1.5000)
    """
    if out is not None or dtype is not None:
        raise TypeError("adjit.nanmean: out= and dtype= are not supported")
    return nansum(a, axis=axis, keepdims=keepdims) / _count(a, axis, keepdims)


def _nan_extreme(red, fill, who):
    def fn(a, axis=None, out=None, keepdims=False):
        if out is not None:
            raise TypeError(f"adjit.{who}: out= is not supported; use the returned value")
        axis = tuple(axis) if isinstance(axis, list) else axis
        r = red(where(_nan_mask(a), fill, a), axis=axis, keepdims=keepdims)
        # a slice of NaNs only: NaN, as NumPy's (which also warns)
        return where(cond_of(_count(a, axis, keepdims)) == 0, np.nan, r)
    fn.__name__ = fn.__qualname__ = who
    return fn


_EXT_DOMAIN = [Sample(*s.shapes, kind="distinct", **s.params) for s in _NAN_DOMAIN]
nanmax = composite(_nan_extreme(max, -np.inf, "nanmax"), numpy=(np.nanmax,), domain=_EXT_DOMAIN)
nanmax.__doc__ = """Largest value ignoring NaNs (NaN entries get a zero derivative; ties share
it as max's).

Parameters
----------
a : array_like
axis : int, tuple of ints or None (all)
keepdims : bool

Returns
-------
The extremes; NaN for a slice of NaNs only.

Examples
--------
>>> import adjit as ad
>>> ad.nanmax(ad.tensor([1.0, float("nan"), 2.0]))
tensor(2.)
"""
nanmin = composite(_nan_extreme(min, np.inf, "nanmin"), numpy=(np.nanmin,), domain=_EXT_DOMAIN)
nanmin.__doc__ = """Smallest value ignoring NaNs (NaN entries get a zero derivative; ties share
it as min's).

Parameters
----------
a : array_like
axis : int, tuple of ints or None (all)
keepdims : bool

Returns
-------
The extremes; NaN for a slice of NaNs only.

Examples
--------
>>> import adjit as ad
>>> ad.nanmin(ad.tensor([1.0, float("nan"), 2.0]))
tensor(1.)
"""
