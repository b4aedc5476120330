"""The elementwise op rows: one line of scalar formulas per op (the `derivatives.yaml` of
adjit). Partials are written in the input names and `y` (the output); `elementwise.py` turns each
formula into a NumPy function, an ad-level function and a fused numba kernel."""
import numpy as np

from ..core.registry import defop, register
from .elementwise import AD_NS, Elementwise

# ---------------------------------------------------------------------------------------------
# Elementwise, one input:  name, primal formula, d y/d x, NumPy primal[, row flags]. A unary row
# is a Tensor method of its name; `domain` is its test domain (lo, hi[, points to stay away
# from]), (-2, 2) when not given.
_HELPER = dict(export=False, methods=())   # helpers the formulas use, not public
_UNARY = [
    ("sin", "sin(x)", "cos(x)", np.sin),
    ("cos", "cos(x)", "-sin(x)", np.cos),
    ("tan", "tan(x)", "1.0 + y * y", np.tan, dict(domain=(-1.2, 1.2))),
    ("arcsin", "asin(x)", "1.0 / sqrt(1.0 - x * x)", np.arcsin,
     dict(domain=(-0.9, 0.9), methods=("arcsin", "asin"))),
    ("arccos", "acos(x)", "-1.0 / sqrt(1.0 - x * x)", np.arccos,
     dict(domain=(-0.9, 0.9), methods=("arccos", "acos"))),
    ("arctan", "atan(x)", "1.0 / (1.0 + x * x)", np.arctan, dict(methods=("arctan", "atan"))),
    ("sinh", "sinh(x)", "cosh(x)", np.sinh),
    ("cosh", "cosh(x)", "sinh(x)", np.cosh),
    ("tanh", "tanh(x)", "1.0 - y * y", np.tanh),
    ("arcsinh", "asinh(x)", "1.0 / sqrt(x * x + 1.0)", np.arcsinh,
     dict(methods=("arcsinh", "asinh"))),
    ("arccosh", "acosh(x)", "1.0 / sqrt(x * x - 1.0)", np.arccosh,
     dict(domain=(1.2, 3.0), methods=("arccosh", "acosh"))),
    ("arctanh", "atanh(x)", "1.0 / (1.0 - x * x)", np.arctanh,
     dict(domain=(-0.9, 0.9), methods=("arctanh", "atanh"))),
    ("exp", "exp(x)", "y", np.exp),
    ("exp2", "exp2(x)", "y * LN2", np.exp2),
    ("log", "log(x)", "1.0 / x", np.log, dict(domain=(0.2, 3.0))),
    ("log2", "log2(x)", "1.0 / (x * LN2)", np.log2, dict(domain=(0.2, 3.0))),
    ("log10", "log10(x)", "1.0 / (x * LN10)", np.log10, dict(domain=(0.2, 3.0))),
    ("log1p", "log1p(x)", "1.0 / (1.0 + x)", np.log1p, dict(domain=(-0.6, 2.0))),
    ("expm1", "expm1(x)", "y + 1.0", np.expm1),
    ("sqrt", "sqrt(x)", "0.5 / y", np.sqrt, dict(domain=(0.2, 3.0))),
    ("square", "x * x", "2.0 * x", np.square),
    ("abs", "abs(x)", "sign(x)", np.abs, dict(domain=(-2, 2, (0,)))),
    ("sign", "sign(x)", "0", np.sign, dict(domain=(-2, 2, (0,)))),
    ("sigmoid", "sigmoid(x)", "y * (1.0 - y)", lambda x: _sigmoid(x),
     dict(domain=(-4, 4))),
    # 1 at NaN, as PyTorch's threshold_backward
    ("relu", "relu(x)", "where(x <= 0.0, 0.0, 1.0)", lambda x: np.maximum(x, 0.0),
     dict(domain=(-2, 2, (0,)))),
    ("softplus", "softplus(x)", "sigmoid(x)", lambda x: np.logaddexp(0.0, x),
     dict(domain=(-4, 4))),
    ("erf", "erf(x)", "erf_d(x)", None),
    ("deg2rad", "x * (pi / 180.0)", "pi / 180.0", np.deg2rad,
     dict(numpy=(np.deg2rad, np.radians), aliases=("radians",))),
    ("rad2deg", "x * (180.0 / pi)", "180.0 / pi", np.rad2deg,
     dict(numpy=(np.rad2deg, np.degrees), aliases=("degrees",))),
    ("reciprocal", "1.0 / x", "-y * y", np.reciprocal, dict(domain=(-2, 2, (0,)))),
    ("negative", "-x", "-1", np.negative),
    ("positive", "+x", "1", np.positive),
    # the kink at 0 as abs's: sign(0) = 0
    ("fabs", "abs(x)", "sign(x)", np.fabs, dict(domain=(-2, 2, (0,)))),
    ("cbrt", "cbrt(x)", "1.0 / (3.0 * y * y)", np.cbrt, dict(domain=(-2, 2, (0,)))),
    ("sinc", "sinc(x)", "sinc_d(x)", np.sinc, dict(numpy=(np.sinc,))),
    # piecewise constant: derivative 0 (also at the jumps, as PyTorch and JAX)
    ("floor", "floor(x)", "0", np.floor, dict(domain=(-2, 2, (-2, -1, 0, 1, 2)))),
    ("ceil", "ceil(x)", "0", np.ceil, dict(domain=(-2, 2, (-2, -1, 0, 1, 2)))),
    ("trunc", "trunc(x)", "0", np.trunc, dict(domain=(-2, 2, (-2, -1, 0, 1, 2)))),
    ("rint", "rint(x)", "0", np.rint, dict(domain=(-2, 2, (-1.5, -0.5, 0.5, 1.5)))),
    # half to even, as rint; decimals= in its public function below
    ("round", "rint(x)", "0", np.round,
     dict(domain=(-2, 2, (-1.5, -0.5, 0.5, 1.5)))),
    # helpers the formulas above use, so their own derivatives exist too
    ("sinc_d", "sinc_d(x)",
     "where(x == 0.0, -pi * pi / 3.0, (-pi * sin(pi * x) - 2.0 * y) / where(x == 0.0, 1.0, x))",
     lambda x: _sinc_d(x), _HELPER),
    ("step", "step(x)", "0", lambda x: np.heaviside(x, 0.0), dict(_HELPER, domain=(-2, 2, (0,)))),
    ("erf_d", "erf_d(x)", "-2.0 * x * y", lambda x: 1.1283791670955126 * np.exp(-np.square(x)),
     _HELPER),
    ("logpos", "logpos(x)", "step(x) / where(x > 0, x, 1.0)",
     lambda x: np.log(np.where(np.asarray(x) > 0, x, 1.0)), dict(_HELPER, domain=(-2, 3, (0,)))),
]

def _sigmoid(x):
    # exp(-|x|) keeps the left tail's relative accuracy, as the kernel's sigmoid and SciPy's
    # expit (0.5 * (1 + tanh(x / 2)) gave 0 below x = -37 and ~1e-3 relative error at -30)
    if np.iscomplexobj(x):   # the holomorphic logistic function (|x| and >= 0 are real-only)
        return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x)))
    e = np.exp(-np.abs(x))
    return np.where(np.asarray(x) >= 0, 1.0, e) / (1.0 + e)


def _sinc_d(x):
    # NumPy twin of kernels.scalar.sinc_d (its series near 0, where the quotient cancels)
    x = np.asarray(x)
    x = x if x.dtype.kind == "f" else x.astype(float)   # float32 stays float32
    small = np.abs(x) < 1e-4
    xs = np.where(small, 1.0, x)
    return np.where(small, -np.pi ** 2 * x / 3.0 + np.pi ** 4 * x ** 3 / 30.0,
                    (np.cos(np.pi * x) - np.sinc(x)) / xs)


# Elementwise, two broadcasting inputs a, b:  name, primal formula, d/da, d/db, NumPy primal
# [, row flags]; domain: one range per input
_BINARY = [
    ("add", "a + b", "1", "1", np.add, dict(operator="add", methods=("add",))),
    ("sub", "a - b", "1", "-1", np.subtract, dict(operator="sub", methods=("sub",))),
    ("mul", "a * b", "b", "a", np.multiply, dict(operator="mul", methods=("mul",))),
    ("div", "a / b", "1.0 / b", "-y / b", np.true_divide,
     dict(operator="truediv", methods=("div",), domain=((-2, 2), (-2, 2, (0,), 0.5)))),
    # smul: b == 0 gives d/da = 0 also at a == 0 (where 0 * 0**-1 would be NaN), as PyTorch
    ("pow", "a ** b", "smul(b, a ** (b - 1.0))", "y * logpos(a)", np.power,
     dict(operator="pow", methods=("pow",), domain=((0.5, 2), (-2, 2)))),
    # ties split the gradient evenly, and a NaN operand gets all of it (the other one too),
    # as PyTorch's masks do
    ("maximum", "max(a, b)", "where(a < b, 0.0, where(a == b, 0.5, 1.0))",
     "where(a > b, 0.0, where(a == b, 0.5, 1.0))", np.maximum),
    ("minimum", "min(a, b)", "where(a > b, 0.0, where(a == b, 0.5, 1.0))",
     "where(a < b, 0.0, where(a == b, 0.5, 1.0))", np.minimum),
    # NumPy's fmax/fmin ignore a NaN operand: the other one gets all of the gradient (both
    # NaN: both, as maximum); ties split evenly, as maximum
    ("fmax", "fmax(a, b)",
     "where(a != a, where(b != b, 1.0, 0.0), where(b != b, 1.0, "
     "where(a < b, 0.0, where(a == b, 0.5, 1.0))))",
     "where(b != b, where(a != a, 1.0, 0.0), where(a != a, 1.0, "
     "where(a > b, 0.0, where(a == b, 0.5, 1.0))))", np.fmax),
    ("fmin", "fmin(a, b)",
     "where(a != a, where(b != b, 1.0, 0.0), where(b != b, 1.0, "
     "where(a > b, 0.0, where(a == b, 0.5, 1.0))))",
     "where(b != b, where(a != a, 1.0, 0.0), where(a != a, 1.0, "
     "where(a < b, 0.0, where(a == b, 0.5, 1.0))))", np.fmin),
    ("arctan2", "atan2(a, b)", "b / (a * a + b * b)", "-a / (a * a + b * b)", np.arctan2,
     dict(domain=((0.5, 2), (-2, 2)))),
    ("hypot", "hypot(a, b)", "a / y", "b / y", np.hypot,
     dict(domain=((-2, 2, (0,), 0.3), (-2, 2, (0,), 0.3)))),
    ("logaddexp", "logaddexp(a, b)", "exp(a - y)", "exp(b - y)", np.logaddexp),
    ("logaddexp2", "logaddexp2(a, b)", "exp2(a - y)", "exp2(b - y)", np.logaddexp2),
    ("float_power", "a ** b", "smul(b, a ** (b - 1.0))", "y * logpos(a)", np.float_power,
     dict(domain=((0.5, 2), (-2, 2)))),
    # a - trunc(a / b) * b and a - floor(a / b) * b: the quotient is piecewise constant
    ("fmod", "fmod(a, b)", "1", "-trunc(a / b)", np.fmod,
     dict(domain=((0.1, 3.9, (1, 2, 3), 0.15), (0.97, 1.03)))),
    ("remainder", "remainder(a, b)", "1", "-floor(a / b)", np.remainder,
     dict(operator="mod", numpy=(np.remainder, np.mod), aliases=("mod",),
          domain=((-3.9, 3.9, (-3, -2, -1, 0, 1, 2, 3), 0.15), (0.97, 1.03)))),
    # 0 / x2 / 1; d/dx1 is 0 (also at 0, as sign), d/dx2 is 1 where x1 == 0
    ("heaviside", "heaviside(a, b)", "0", "where(a == 0.0, 1.0, 0.0)", np.heaviside,
     dict(domain=((-2, 2, (0,)), (-2, 2)))),
    # |a| with b's sign: the kink at a == 0 as abs's; 0 in b (a jump at b == 0)
    ("copysign", "copysign(a, b)", "sign(a) * sign(y)", "0", np.copysign,
     dict(domain=((-2, 2, (0,)), (-2, 2, (0,))))),
]

def _serves(f):
    # a NumPy ufunc primal is also the NumPy function the row serves (np.sin(t) runs sin)
    return (f,) if isinstance(f, np.ufunc) else ()


for _n, _f, _d, _np, *_kw in _UNARY:
    globals()[_n] = register(Elementwise(_n, ("x",), _f, (_d,), np_primal=_np,
                                         **dict(dict(methods=(_n,), numpy=_serves(_np)),
                                                **(_kw[0] if _kw else {}))))
for _n, _f, _da, _db, _np, *_kw in _BINARY:
    globals()[_n] = register(Elementwise(_n, ("a", "b"), _f, (_da, _db), np_primal=_np,
                                         **dict(dict(numpy=_serves(_np)),
                                                **(_kw[0] if _kw else {}))))


@round.public(numpy=(np.round, np.around), aliases=("around",), methods=("round",))
def round_(x, decimals=0, out=None):
    """np.round: half to even at `decimals` digits, as NumPy (rint of the scaled value)."""
    if out is not None:
        raise TypeError("adjit: round(out=...) is not supported; use the returned value")
    if decimals == 0:
        return round(x)
    scale = 10.0 ** abs(decimals)
    return div(round(mul(x, scale)), scale) if decimals > 0 else mul(round(div(x, scale)), scale)


# ---------------------------------------------------------------------------------------------
# comparisons: no derivative; on wrappers they compare the innermost values

def _cmp(name, f, src, operator):
    return defop(name, f, nondiff=True, export=False, operator=operator, lower="pw",
                 numpy=(f,),
                 jit={"pw": lambda a, p, idx: f"{a[0]} {src} {a[1]}"})


greater = _cmp("greater", np.greater, ">", "gt")
greater_equal = _cmp("greater_equal", np.greater_equal, ">=", "ge")
less = _cmp("less", np.less, "<", "lt")
less_equal = _cmp("less_equal", np.less_equal, "<=", "le")
equal = _cmp("equal", np.equal, "==", "eq")
not_equal = _cmp("not_equal", np.not_equal, "!=", "ne")


# the names the elementwise formulas use, as ad ops (so rules differentiate their own terms)
AD_NS.update({r[0]: globals()[r[0]] for r in _UNARY})
