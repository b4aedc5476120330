"""Complex rules of elementwise rows whose real partials do not hold at complex values
(core/complexrule.py): arccosh (the real 1/sqrt(x^2 - 1) takes the wrong branch), sinc (its
real helper sinc_d), float_power (pow's complex rule); rint and round are marked as they are
(their derivative is 0 at complex values too). All holomorphic: VJP g f'(z), JVP t f'(z)."""
import numpy as np

from ..core.complexrule import ComplexRule
from ..core.registry import OPS
from . import complex_rows  # noqa: F401 - pow's complex rule is set there
from .formulas import cos, div, mul, sqrt
from .shape import where


def _holomorphic(deriv):
    """A ComplexRule from f'(z) written in ad ops (so it differentiates again)."""
    return ComplexRule(lambda g, y, x: (mul(g, deriv(y, x)),),
                       lambda ts, y, x: mul(ts[0], deriv(y, x)))


def _arccosh_d(y, x):
    # NumPy's branch: arccosh z = log(z + sqrt(z - 1) sqrt(z + 1))
    return 1.0 / (sqrt(x - 1.0) * sqrt(x + 1.0))


def _sinc_d(y, x):
    # d/dz sin(pi z) / (pi z) = (cos(pi z) - sinc z) / z; at z = 0 its Taylor polynomial, so
    # that the derivatives of this derivative hold there too (to fourth order)
    zero = x == 0
    taylor = x * (-np.pi ** 2 / 3.0) + x * x * x * (np.pi ** 4 / 30.0)
    return where(zero, taylor, div(cos(np.pi * x) - y, where(zero, 1.0, x)))


OPS["arccosh"].complex = _holomorphic(_arccosh_d)
OPS["sinc"].complex = _holomorphic(_sinc_d)
OPS["float_power"].complex = OPS["pow"].complex
for _n in ("rint", "round"):
    OPS[_n].complex = True
# their partials compare a and b, which NumPy (and JAX) order lexicographically at complex
# values (real parts first), as the values are chosen: the rules select (ties split)
for _n in ("maximum", "minimum", "fmax", "fmin"):
    OPS[_n].complex = True
