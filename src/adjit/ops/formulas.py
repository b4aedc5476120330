"""The elementwise op rows: one line of scalar formulas per op (the `derivatives.yaml` of
adjit). Partials are written in the input names and `y` (the output); `elementwise.py` turns each
formula into a NumPy function, an ad-level function and a fused numba kernel."""
import numpy as np

from ..core.registry import defop, register
from .elementwise import AD_NS, Elementwise

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
# comparisons: no derivative; on wrappers they compare the innermost values

def _cmp(name, f):
    return defop(name, f, nondiff=True)


greater = _cmp("greater", np.greater)
greater_equal = _cmp("greater_equal", np.greater_equal)
less = _cmp("less", np.less)
less_equal = _cmp("less_equal", np.less_equal)
equal = _cmp("equal", np.equal)
not_equal = _cmp("not_equal", np.not_equal)


# the names the elementwise formulas use, as ad ops (so rules differentiate their own terms)
AD_NS.update({n: globals()[n] for n, *_ in _UNARY})
