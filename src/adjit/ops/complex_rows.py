"""Complex numbers: the rows only complex values need (real, imag, conj, angle), the complex
rule of abs, and which existing rows differentiate complex values correctly as they are.

JAX's convention (core/complexrule.py): a cotangent g pairs with a tangent t as Re(g t), so a
holomorphic row's VJP is g * f'(z) -- the real formulas, unchanged -- and only the
non-holomorphic rows below conjugate. `ad.grad` of a real f(z) is df/dx - i df/dy (JAX's);
descend with z - lr * conj(grad).
"""
import numpy as np

from ..core.complexrule import ComplexRule, is_complex
from ..core.domain import Sample
from ..core.registry import OPS, defop
from . import linalg, reductions  # noqa: F401 - their rows are marked below, whoever imports first
from .elementwise import astype, dtype_name, strong_mul
from .formulas import abs as abs_row
from .formulas import div, log, mul
from .shape import where


def _to_complex(g, x):
    """A real cotangent as the complex cotangent of a complex input x (imaginary part 0);
    a Python complex is weak, so float32 becomes complex64."""
    return mul(g, 1 + 0j) if is_complex(x) else g


def _np_real(x):
    r = np.real(x)
    return r.copy() if type(r) is np.ndarray and r.base is not None else r


def _np_imag(x):
    r = np.imag(x)
    return r.copy() if type(r) is np.ndarray and r.base is not None else r


# the real sweep checks these rows at real values, the complex one (testing/opinfo.py's
# complex_cases) at complex values
_SAMPLES = [Sample((3,)), Sample((2, 3)), Sample(())]

# ad.jit: complex arguments run eagerly (its fallback warning says so); at real values these
# rows compile to the expressions below (numba has .real, .imag and .conjugate() on floats)
real = defop("real", _np_real, lambda g, y, x: (_to_complex(g, x),), linear=True,
             saves_in=False, lower="pw", jit={"pw": lambda a, p, idx: f"({a[0]}).real"}, numpy=(np.real,), domain=_SAMPLES, backward_name="RealBackward")
imag = defop("imag", _np_imag,
             lambda g, y, x: (mul(g, -1j) if is_complex(x) else mul(g, 0.0),), linear=True,
             saves_in=False, lower="pw", jit={"pw": lambda a, p, idx: f"({a[0]}).imag"}, numpy=(np.imag,), domain=_SAMPLES, backward_name="ImagBackward")
conj = defop("conj", np.conjugate, lambda g, y, x: (conj(g),), linear=True, saves_in=False,
             lower="pw", jit={"pw": lambda a, p, idx: f"({a[0]}).conjugate()"},
             numpy=(np.conjugate,), aliases=("conjugate",), methods=("conj", "conjugate"),
             domain=_SAMPLES)


def _angle_vjp(g, y, x):
    # angle = imag(log z): imag's VJP (-i g), then log's (/ z); 0 for real x (piecewise const)
    if not is_complex(x):
        return (mul(g, 0.0),)
    return (div(mul(g, -1j), where(x == 0, 1.0, x)),)


def _angle_jvp(ts, y, x):
    if not is_complex(x):
        return mul(ts[0], 0.0)
    return imag(div(ts[0], where(x == 0, 1.0, x)))


angle = defop("angle", lambda x: np.angle(x), _angle_vjp, _angle_jvp, numpy=(np.angle,),
              lower="pw", jit={"pw": lambda a, p, idx: f"math.atan2(0.0, {a[0]})"},
              methods=("angle",), domain=[Sample((3,), away=(0,), gap=0.1)])
angle.complex = True   # its own rules above are the complex ones


# |z| at complex z: the tangent map is t -> Re(conj(z) t) / |z|, so the VJP is g conj(z) / |z|
# (JAX's: grad(abs)(z) = conj(z) / |z|, 0 at z = 0 as JAX)
def _safe(y):
    return where(y == 0, 1.0, y)


def _abs_vjp(g, y, x):
    return (mul(g, div(conj(x), _safe(y))),)


def _abs_jvp(ts, y, x):
    return div(real(strong_mul(ts[0], conj(x))), _safe(y))


abs_row.complex = ComplexRule(_abs_vjp, _abs_jvp)


def _pow_vjp(g, y, a, b):
    # as the real row, but d/db = y log(a) with the complex log (the real row's logpos is the
    # log of positive a)
    return (strong_mul(g, strong_mul(b, a ** (b - 1.0))),
            strong_mul(g, mul(y, log(where(a == 0, 1.0, a)))))


def _pow_jvp(ts, y, a, b):
    ga, gb = _pow_vjp(1.0, y, a, b)
    out = None
    for t, d in zip(ts, (ga, gb)):
        if t is not None:
            c = strong_mul(t, d)
            out = c if out is None else out + c
    return out


OPS["pow"].complex = ComplexRule(_pow_vjp, _pow_jvp)

# Rows whose own rules hold at complex values: holomorphic elementwise rows (VJP g * f'(z)),
# linear rows that only move, sum or copy values, and the holomorphic linear algebra.
COMPLEX_ROWS = (
    "add", "sub", "mul", "div", "negative", "positive", "square", "reciprocal",
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
    "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "arcsinh",
    "arctanh", "sigmoid",
    "sum", "mean", "cumsum", "reshape", "transpose", "broadcast_to", "getitem", "scatter_add",
    "index_update", "concatenate", "stack", "where", "tril",
    "matmul", "solve", "inv", "det",
    "real", "imag", "conj")
for _n in COMPLEX_ROWS:
    OPS[_n].complex = True
strong_mul.complex = True   # the elementwise rules' own product (nested derivatives)


# the internal float cast (ad.astype of a real value to a complex dtype, and back): the
# transpose of real -> complex is the real part (JAX's)
def _astype_vjp(g, y, x, dtype):
    if is_complex(g) and not is_complex(x):
        g = real(g)
    return (astype(g, dtype=dtype_name(x)),)


astype.complex = ComplexRule(_astype_vjp, lambda ts, y, x, dtype: astype(ts[0], dtype=dtype))


def real_cotangents(cts, inputs):
    """JAX's rule where a real value meets a complex one (x * 1j, x real): the cotangent of a
    real input is the real part of what the complex rule gives."""
    out = None
    for i, c in enumerate(cts):
        if c is not None and is_complex(c) and not is_complex(inputs[i]):
            if out is None:
                out = list(cts)
            out[i] = real(c)
    return cts if out is None else out


_CONV = ("Differentiable at complex values with JAX's convention: ``ad.grad`` of a real "
         "function of complex ``z`` is ``df/dx - i df/dy`` (descend with "
         "``z - lr * conj(grad)``).")
real.__doc__ = f"""The real part, as ``np.real``.

{_CONV}

Parameters
----------
x : array_like, Tensor or dual number

Returns
-------
array or Tensor
    Real values (``x`` itself for real ``x``).

Examples
--------
>>> ad.real(np.array([1 + 2j, 3 - 1j]))
array([1., 3.])
>>> ad.grad(lambda z: ad.real(z * z))(1 + 2j)
np.complex128(2+4j)
"""
imag.__doc__ = f"""The imaginary part, as ``np.imag``.

{_CONV}

Parameters
----------
x : array_like, Tensor or dual number

Returns
-------
array or Tensor
    Real values (zeros for real ``x``).

Examples
--------
>>> ad.imag(np.array([1 + 2j, 3 - 1j]))
array([ 2., -1.])
>>> ad.grad(ad.imag)(1 + 2j)
np.complex128(-1j)
"""
conj.__doc__ = f"""The complex conjugate, as ``np.conjugate`` (``x`` itself for real ``x``).

{_CONV}

Parameters
----------
x : array_like, Tensor or dual number

Returns
-------
array or Tensor

Examples
--------
>>> ad.conj(np.array([1 + 2j]))
array([1.-2.j])
>>> ad.grad(lambda z: ad.real(z * ad.conj(z)))(1 + 2j)
np.complex128(2-4j)
"""
angle.__doc__ = f"""The argument (phase) of complex values in radians, as ``np.angle``; 0 or
pi for real values (derivative 0 there).

{_CONV}

Parameters
----------
x : array_like, Tensor or dual number

Returns
-------
array or Tensor

Examples
--------
>>> float(ad.angle(1j))
1.5707963267948966
>>> ad.grad(ad.angle)(1 + 1j)
np.complex128(-0.5-0.5j)
"""
