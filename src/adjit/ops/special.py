"""Special-function rows (issue 11, scipy.special): log-gamma and the polygamma family, the
normal distribution's ndtr / log_ndtr / ndtri, erfc, erfinv, logit, xlogy / xlog1py and the
modified Bessel functions I0, I1 (and their exponentially scaled forms), as elementwise formulas
whose scalar functions are adjit's own numba code (`kernels/special_scalar.py`; SciPy is never
imported). Each partial is written with other rows (digamma's is polygamma(1, x), i0's is i1),
so every order differentiates. `adjit.scipy.special` gives them SciPy's names and signatures;
the PyTorch names (lgamma, digamma, polygamma, erfc, erfinv, logit, xlogy, i0) are also adjit's.
"""
import math

import numpy as np

from .. import kernels
from ..core.domain import Sample
from ..core.registry import SCIPY_UFUNCS, Traced, composite, defop, register
from .axes import cond_of, ndim, neg_axes, shape
from .elementwise import AD_NS, NP_NS, Elementwise, strong_mul
from .formulas import abs as abs_
from .formulas import erf, exp, log, sigmoid, sign, softplus
from .reductions import log_softmax as _log_softmax
from .reductions import logsumexp as _logsumexp
from .reductions import max as max_
from .reductions import softmax as _softmax
from .reductions import sum as sum_
from .shape import broadcast_to, clip, reshape, transpose, where

_HIDDEN = dict(export=False, methods=())   # reached through adjit.scipy.special only

# name, inputs, primal formula, partials, row flags. The primal formulas name the numba scalars
# (special_scalar.py, or math's lgamma and erfc); `y` is the output.
_ROWS = [
    ("lgamma", ("x",), "lgamma(x)", ("digamma(x)",),
     dict(methods=("lgamma",), domain=(0.2, 4.0))),
    ("digamma", ("x",), "digamma(x)", ("polygamma(1, x)",),
     dict(methods=("digamma",), domain=(0.2, 4.0))),
    ("erfc", ("x",), "erfc(x)", ("-erf_d(x)",), dict(methods=("erfc",))),
    # d erfinv(y)/dy = sqrt(pi)/2 exp(erfinv(y)^2)
    ("erfinv", ("x",), "erfinv(x)", ("0.886226925452758 * exp(y * y)",),
     dict(methods=("erfinv",), domain=(-0.9, 0.9))),
    ("logit", ("x",), "logit(x)", ("1.0 / (x * (1.0 - x))",),
     dict(methods=("logit",), domain=(0.05, 0.95))),
    # the standard normal's cdf, its log (its derivative pdf / cdf as exp(log pdf - y), finite
    # far in the left tail) and its inverse
    ("ndtr", ("x",), "ndtr(x)", ("0.3989422804014327 * exp(-0.5 * x * x)",),
     dict(_HIDDEN, domain=(-3.0, 3.0))),
    ("log_ndtr", ("x",), "log_ndtr(x)", ("0.3989422804014327 * exp(-0.5 * x * x - y)",),
     dict(_HIDDEN, domain=(-6.0, 3.0))),
    ("ndtri", ("x",), "ndtri(x)", ("2.5066282746310002 * exp(0.5 * y * y)",),
     dict(_HIDDEN, domain=(0.02, 0.98))),
    # I0' = I1, I1' = I0 - I1/x (1/2 at 0); the scaled forms exp(-|x|) I(x) add -sign(x) y
    # (at x = 0, where i0e has a kink, sign(0) = 0 gives the subgradient 0, as PyTorch's)
    # (formulas say bessel_i0 ...: generated kernels name their loop indices i0, i1, ...)
    ("i0", ("x",), "bessel_i0(x)", ("bessel_i1(x)",),
     dict(methods=("i0",), numpy=(np.i0,), domain=(-3, 3))),
    ("i1", ("x",), "bessel_i1(x)",
     ("where(x == 0.0, 0.5, bessel_i0(x) - y / where(x == 0.0, 1.0, x))",),
     dict(_HIDDEN, domain=(-3, 3))),
    ("i0e", ("x",), "bessel_i0e(x)", ("bessel_i1e(x) - sign(x) * y",),
     dict(_HIDDEN, domain=(-3, 3, (0,)))),
    ("i1e", ("x",), "bessel_i1e(x)",
     ("where(x == 0.0, 0.5, bessel_i0e(x) - y * (sign(x) + 1.0 / where(x == 0.0, 1.0, x)))",),
     dict(_HIDDEN, domain=(-3, 3, (0,)))),
    # x log(y) and x log1p(y), 0 where x == 0 (y not NaN). d/dx is log(y) also at x == 0, as
    # JAX (PyTorch gives 0 there, not the derivative when y > 0); d/dy is x / y, taken as 0 at
    # x == y == 0 where JAX and PyTorch give NaN (f(0, y) = 0 for every y), written so that its
    # own derivative in x is still 1 / y at x == 0
    ("xlogy", ("a", "b"), "xlogy(a, b)",
     ("log(b)", "a / where(a == 0.0, where(b == 0.0, 1.0, b), b)"),
     dict(methods=("xlogy",), domain=((-2, 2), (0.2, 3.0)))),
    ("gamma", ("x",), "gamma(x)", ("y * digamma(x)",), dict(_HIDDEN, domain=(0.2, 4.0))),
    # log|B(a, b)|: Cephes' lbeta (an expansion when one argument dwarfs the other)
    ("betaln", ("a", "b"), "betaln(a, b)",
     ("digamma(a) - digamma(a + b)", "digamma(b) - digamma(a + b)"),
     dict(_HIDDEN, domain=((0.3, 3.0), (0.3, 3.0)))),
    ("xlog1py", ("a", "b"), "xlog1py(a, b)",
     ("log1p(b)", "a / where(a == 0.0, where(b == -1.0, 1.0, 1.0 + b), 1.0 + b)"),
     dict(_HIDDEN, domain=((-2, 2), (-0.8, 2.0)))),
]

for _n, _args, _f, _ds, _kw in _ROWS:
    _kw = dict(_kw)
    _kw.setdefault("export", True)
    globals()[_n] = register(Elementwise(_n, _args, _f, _ds, **_kw))


# ---------------------------------------------------------------------------------------------
# polygamma(n, x): n a static integer; its derivative is polygamma(n + 1, x)

kernels.declare("polygamma__f", ("x", "n"), "polygamma(n, x)")


def _polygamma_primal(x, n=0):
    x = np.asarray(x)
    # n in x's float dtype, so float32 stays float32 in the kernel (a float64 n would promote)
    dt = x.dtype if x.dtype.kind == "f" and x.dtype.itemsize <= 8 else np.dtype(np.float64)
    return kernels.ufunc("polygamma__f")(x, np.asarray(n, dtype=dt))


_polygamma = defop(
    "polygamma", _polygamma_primal,
    lambda g, y, x, n=0: (strong_mul(g, _polygamma(x, n=n + 1)),),
    lambda ts, y, x, n=0: strong_mul(ts[0], _polygamma(x, n=n + 1)),
    lower="pw", jit={"pw": lambda a, p, idx: f"polygamma({int(p['n'])}, {a[0]})"},
    domain=[Sample((2, 3), values=(0.3, 4.0), n=1), Sample((4,), values=(0.3, 4.0), n=0),
            Sample((), values=(0.5, 3.0), n=2), Sample((3,), values=(0.5, 3.0), n=3),
            Sample((0, 2), n=1)])


@_polygamma.public
def polygamma(n, x):
    """The n-th derivative of digamma (SciPy's and PyTorch's argument order).

    Parameters
    ----------
    n : int
        Order (static, >= 0): 0 is digamma, 1 trigamma, ...
    x : array_like
        Points (differentiable); the derivative is ``polygamma(n + 1, x)``.

    Returns
    -------
    Value of the same type as `x`.

    Examples
    --------
    >>> import adjit as ad
    >>> round(float(ad.polygamma(1, 1.0)), 12)   # pi**2 / 6
    1.644934066848
    """
    k = np.asarray(n.item() if hasattr(n, "item") and np.ndim(n) == 0 else n)
    if k.ndim or k.dtype.kind not in "iuf" or k != np.floor(k) or k < 0:
        raise TypeError(f"adjit.polygamma: n must be one non-negative integer (a static order), "
                        f"got {n!r}; call it once per order for several orders")
    return _polygamma(x, n=int(k))


def _scipy_doc(op):
    """The docstring of a row reached only as adjit.scipy.special.<name> (the exported rows get
    theirs from ops/docstrings.py)."""
    args = ", ".join(op.args)
    parts = "; ".join(f"d/d{a} = ``{p}``" for a, p in zip(op.args, op.partials))
    pts = "np.array([0.3, 0.7])" if op.name != "betaln" else "np.array([0.8, 2.5])"
    lines = [f"{op.name}({args}), as scipy.special.{op.name}: ``y = {op.f}``; {parts}.", "",
             "Elementwise (inputs broadcast); arrays, Tensors, dual numbers and ``ad.jit``'s "
             "traced values, differentiable to any order.", "", "Examples", "--------",
             ">>> from adjit.scipy import special"]
    lines += [f">>> {a} = {pts}" for a in op.args]
    lines += [f">>> ad.gradcheck(special.{op.name}, ({args}{',' if len(op.args) == 1 else ''}))",
              "True"]
    return "\n".join(lines) + "\n"


for _n, *_ in _ROWS:
    if not globals()[_n].export:
        globals()[_n].__doc__ = _scipy_doc(globals()[_n])

NP_NS["polygamma"] = lambda n, x: _polygamma_primal(x, n=n)
AD_NS["polygamma"] = lambda n, x: _polygamma(x, n=n)
AD_NS.update({r[0]: globals()[r[0]] for r in _ROWS})
for _n in ("i0", "i1", "i0e", "i1e"):
    NP_NS["bessel_" + _n], AD_NS["bessel_" + _n] = NP_NS[_n], AD_NS[_n]


@logit.public(methods=("logit",))
def logit_(x, eps=None):
    """log(x / (1 - x)), the inverse of sigmoid (scipy.special.logit, torch.logit).

    Parameters
    ----------
    x : array_like
        Probabilities (differentiable: the derivative is 1 / (x (1 - x))).
    eps : float, optional
        Clamp x to [eps, 1 - eps] first, as PyTorch (where clamped, the derivative is 0).

    Returns
    -------
    The log-odds, of the type of `x`.

    Examples
    --------
    >>> import adjit as ad
    >>> float(ad.logit(0.5)), round(float(ad.logit(1.0, eps=1e-6)), 6)
    (0.0, 13.81551)
    """
    return logit(x) if eps is None else logit(clip(x, eps, 1.0 - eps))


# ---------------------------------------------------------------------------------------------
# SciPy's signatures over the rows: the functions of adjit.scipy.special that are not rows
# themselves (export=False: not top-level names; composites, so every mode and order and
# ad.jit come from the rows they call)

def _b_call(op, a, b, **params):
    # the sweep passes differentiable inputs positionally; SciPy's b is keyword-only in use
    return op(a, b=b, **params)


def _reduced_shape(shp, axis):
    nd = len(shp)
    axes = {a % nd for a in neg_axes(axis, nd)} if nd else set()
    return tuple(s for i, s in enumerate(shp) if i not in axes)


@composite(export=False, domain=[
    Sample((2, 3)), Sample((2, 3), axis=1), Sample((2, 3, 4), axis=(0, 2), keepdims=True),
    Sample((2, 3), (2, 3), axis=-1, call=_b_call, values=(0.5, 2.0)),
    Sample((2, 3), (3,), call=_b_call, values=(0.5, 2.0)),
    Sample((3,), (3,), call=_b_call, values=(1000.0, 1001.0), keepdims=True)])
def scipy_logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """log(sum(b * exp(a))) along `axis`, computed stably, as scipy.special.logsumexp.

    Parameters
    ----------
    a : array_like
        Input (differentiable).
    axis : None or int or tuple of ints, optional
        Axes summed over (all by default).
    b : array_like, optional
        Weights broadcasting with `a` (differentiable); may be negative or zero.
    keepdims : bool, optional
        Keep the summed axes as size 1.
    return_sign : bool, optional
        Return ``(log|s|, sign(s))`` (the sign carries no derivative); otherwise a negative
        sum gives NaN, as SciPy.

    Returns
    -------
    The log of the (weighted) sum, or the pair with its sign.

    Examples
    --------
    >>> from adjit.scipy.special import logsumexp
    >>> round(float(logsumexp(np.array([1.0, 2.0]), b=np.array([1.0, 2.0]))), 12)
    2.861994804058
    """
    if b is None:
        out = _logsumexp(a, axis=axis, keepdims=keepdims)
        return (out, sign(exp(cond_of(out)))) if return_sign else out
    shp = np.broadcast_shapes(shape(a), shape(b))
    if shape(a) != shp:
        a = broadcast_to(a, shp)
    # shift by the maximum (its derivative cancels exactly); a slice of -inf shifts by 0
    m = max_(a, axis=axis, keepdims=True)
    m = where(abs_(m) < np.inf, m, 0.0)
    s = sum_(b * exp(a - m), axis=axis, keepdims=keepdims)
    if not keepdims:
        m = reshape(m, _reduced_shape(shp, axis))
    if return_sign:
        return log(abs_(s)) + m, sign(cond_of(s))   # cond_of: no derivative, traced by ad.jit
    return log(s) + m


def _along(row, x, axis):
    """A one-axis row (softmax, log_softmax) along SciPy's axis: None (all of x), an int, or a
    tuple of axes (moved last and flattened into one)."""
    nd = ndim(x)
    if axis is not None and not isinstance(axis, (tuple, list)):
        return row(x, axis=axis)
    axes = tuple(range(nd)) if axis is None else tuple(sorted(a % nd for a in axis))
    rest = tuple(i for i in range(nd) if i not in axes)
    perm = rest + axes
    xt = transpose(x, perm) if perm != tuple(range(nd)) else x
    st = shape(xt)
    y = reshape(row(reshape(xt, st[:len(rest)] + (-1,)), axis=-1), st)
    return transpose(y, tuple(np.argsort(perm))) if perm != tuple(range(nd)) else y


_AXIS_DOMAIN = [Sample((2, 3)), Sample((2, 3), axis=0), Sample((2, 3, 4), axis=(0, 2)),
                Sample((4,), axis=-1), Sample(())]


@composite(export=False, domain=_AXIS_DOMAIN)
def scipy_softmax(x, axis=None):
    """exp(x) / sum(exp(x)) along `axis` (all of x by default), as scipy.special.softmax.

    Examples
    --------
    >>> from adjit.scipy.special import softmax
    >>> softmax(np.array([0.0, np.log(3.0)]))
    array([0.25, 0.75])
    """
    return _along(_softmax, x, axis)


@composite(export=False, domain=_AXIS_DOMAIN)
def scipy_log_softmax(x, axis=None):
    """x - logsumexp(x) along `axis` (all of x by default), as scipy.special.log_softmax.

    Examples
    --------
    >>> from adjit.scipy.special import log_softmax
    >>> np.exp(log_softmax(np.array([0.0, np.log(3.0)])))
    array([0.25, 0.75])
    """
    return _along(_log_softmax, x, axis)



# ---------------------------------------------------------------------------------------------
# information-theory functions and friends, with SciPy's values outside the domain (-inf, inf)

def _nan_from(v, *args):
    # NaN where an argument is NaN (the masks below would pick a branch for it)
    for a in args:
        v = where(a == a, v, a)
    return v


_POS = [Sample((2, 3), values=(0.2, 3.0)), Sample((), values=(0.2, 3.0)), Sample((0,))]
_POS2 = [Sample((2, 3), (3,), values=(0.2, 3.0)), Sample((), (2,), values=(0.2, 3.0))]


@composite(export=False, domain=_POS)
def entr(x):
    """-x log(x) (0 at 0, -inf for x < 0), as scipy.special.entr.

    Examples
    --------
    >>> from adjit.scipy.special import entr
    >>> float(entr(np.e)), float(entr(-1.0))
    (-2.718281828459045, -inf)
    """
    return _nan_from(where(x < 0.0, -np.inf, -xlogy(x, x)), x)


@composite(export=False, domain=_POS2)
def rel_entr(x, y):
    """x log(x / y) for x, y > 0; 0 where x == 0 and y >= 0; inf elsewhere (scipy.special).

    Examples
    --------
    >>> from adjit.scipy.special import rel_entr
    >>> float(rel_entr(2.0, 1.0)), float(rel_entr(0.0, 1.0)), float(rel_entr(1.0, 0.0))
    (1.3862943611198906, 0.0, inf)
    """
    # (at x == 0 the derivative is taken as 0, the constant branch's, as JAX)
    v = xlogy(x, x / where(y > 0.0, y, 1.0))
    v = where(x > 0.0, where(y > 0.0, v, np.inf),
              where(x == 0.0, where(y >= 0.0, 0.0 * x, np.inf), np.inf))   # 0 * x: x's dtype
    return _nan_from(v, x, y)


@composite(export=False, domain=_POS2)
def kl_div(x, y):
    """x log(x / y) - x + y (y where x == 0 and y >= 0; inf elsewhere), as scipy.special.

    Examples
    --------
    >>> from adjit.scipy.special import kl_div
    >>> float(kl_div(1.0, 1.0)), float(kl_div(0.0, 2.0))
    (0.0, 2.0)
    """
    return rel_entr(x, y) - x + y


@composite(export=False, domain=[Sample((2, 3), values=(-30.0, 30.0)), Sample(())])
def log_expit(x):
    """log(expit(x)) = -softplus(-x), accurate in both tails, as scipy.special.log_expit.

    Examples
    --------
    >>> from adjit.scipy.special import log_expit
    >>> bool(float(log_expit(0.0)) == -np.log(2.0)), float(log_expit(-1000.0))
    (True, -1000.0)
    """
    return -softplus(-x)


@composite(export=False, domain=[Sample((2, 3), values=(2.0, 4.0), d=3),
                                 Sample((), values=(1.0, 3.0), d=1)])
def multigammaln(a, d):
    """log of the multivariate gamma function of dimension d (static), as
    scipy.special.multigammaln: d(d-1)/4 log(pi) + sum_j gammaln(a + (1 - j) / 2).

    Examples
    --------
    >>> from adjit.scipy.special import multigammaln
    >>> round(float(multigammaln(3.0, 2)), 12)
    1.550194993958
    """
    d = int(d)
    if d < 1:
        raise ValueError(f"adjit.multigammaln: d must be a positive integer, got {d}")
    if not isinstance(cond_of(a), Traced) and np.any(np.asarray(cond_of(a)) <= 0.5 * (d - 1)):
        raise ValueError(f"adjit.multigammaln: a must be > (d - 1) / 2 = {0.5 * (d - 1)} "
                         "(as SciPy)")
    r = lgamma(a)
    for j in range(2, d + 1):
        r = r + lgamma(a + 0.5 * (1 - j))
    return r + 0.25 * d * (d - 1) * math.log(math.pi)   # a Python float: float32 stays


# SciPy's own ufuncs on adjit's values (scipy.special.gammaln(t) calls __array_ufunc__)
SCIPY_UFUNCS.update(gammaln=lgamma, psi=digamma, digamma=digamma, erf=erf, erfc=erfc,
                    erfinv=erfinv, expit=sigmoid, logit=logit, ndtr=ndtr, log_ndtr=log_ndtr,
                    ndtri=ndtri, i0=i0, i1=i1, i0e=i0e, i1e=i1e, xlogy=xlogy, xlog1py=xlog1py,
                    betaln=betaln, gamma=gamma, entr=entr, rel_entr=rel_entr, kl_div=kl_div,
                    log_expit=log_expit)
