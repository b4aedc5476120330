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
    ("sigmoid", "sigmoid(x)", "y * (1.0 - y)", lambda x: 0.5 * (1.0 + np.tanh(0.5 * x)),
     dict(domain=(-4, 4))),
    # 1 at NaN, as PyTorch's threshold_backward
    ("relu", "relu(x)", "where(x <= 0.0, 0.0, 1.0)", lambda x: np.maximum(x, 0.0),
     dict(domain=(-2, 2, (0,)))),
    ("softplus", "softplus(x)", "sigmoid(x)", lambda x: np.logaddexp(0.0, x),
     dict(domain=(-4, 4))),
    ("erf", "erf(x)", "erf_d(x)", None),
    # helpers the formulas above use, so their own derivatives exist too
    ("step", "step(x)", "0", lambda x: np.heaviside(x, 0.0), dict(_HELPER, domain=(-2, 2, (0,)))),
    ("erf_d", "erf_d(x)", "-2.0 * x * y", lambda x: 1.1283791670955126 * np.exp(-np.square(x)),
     _HELPER),
    ("logpos", "logpos(x)", "step(x) / where(x > 0, x, 1.0)",
     lambda x: np.log(np.where(np.asarray(x) > 0, x, 1.0)), dict(_HELPER, domain=(-2, 3, (0,)))),
]

# Elementwise, two broadcasting inputs a, b:  name, primal formula, d/da, d/db, NumPy primal
# [, row flags]; domain: one range per input
_BINARY = [
    ("add", "a + b", "1", "1", np.add, dict(operator="add")),
    ("sub", "a - b", "1", "-1", np.subtract, dict(operator="sub")),
    ("mul", "a * b", "b", "a", np.multiply, dict(operator="mul")),
    ("div", "a / b", "1.0 / b", "-y / b", np.true_divide,
     dict(operator="truediv", domain=((-2, 2), (-2, 2, (0,), 0.5)))),
    # smul: b == 0 gives d/da = 0 also at a == 0 (where 0 * 0**-1 would be NaN), as PyTorch
    ("pow", "a ** b", "smul(b, a ** (b - 1.0))", "y * logpos(a)", np.power,
     dict(operator="pow", methods=("pow",), domain=((0.5, 2), (-2, 2)))),
    # ties split the gradient evenly, and a NaN operand gets all of it (the other one too),
    # as PyTorch's masks do
    ("maximum", "max(a, b)", "where(a < b, 0.0, where(a == b, 0.5, 1.0))",
     "where(a > b, 0.0, where(a == b, 0.5, 1.0))", np.maximum),
    ("minimum", "min(a, b)", "where(a > b, 0.0, where(a == b, 0.5, 1.0))",
     "where(a < b, 0.0, where(a == b, 0.5, 1.0))", np.minimum),
]

def _serves(f):
    # a NumPy ufunc primal is also the NumPy function the row serves (np.sin(t) runs sin)
    return (f,) if isinstance(f, np.ufunc) else ()


for _n, _f, _d, _np, *_kw in _UNARY:
    globals()[_n] = register(Elementwise(_n, ("x",), _f, (_d,), np_primal=_np,
                                         numpy=_serves(_np),
                                         **dict(dict(methods=(_n,)), **(_kw[0] if _kw else {}))))
for _n, _f, _da, _db, _np, *_kw in _BINARY:
    globals()[_n] = register(Elementwise(_n, ("a", "b"), _f, (_da, _db), np_primal=_np,
                                         numpy=_serves(_np), **(_kw[0] if _kw else {})))

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
