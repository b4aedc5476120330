"""Casts and value clean-ups: astype (float casts differentiate, integer and bool casts carry
no derivative, through the `cast` row so ad.jit compiles them) and nan_to_num (real values
only). real, imag, conj and angle are rows of ops/complex_rows.py."""
import numpy as np

from ..core.domain import Sample
from ..core.registry import Traced, composite, defop, implements
from .axes import cond_of
from .elementwise import astype as float_cast
from .formulas import abs as abs_op
from .rearrange import same
from .shape import where


def _cast_src(a, p, idx):
    kind = np.dtype(p["dtype"]).kind
    return f"({a[0]} != 0)" if kind == "b" else f"int({a[0]})" if kind in "iu" else a[0]


# a cast to an integer or bool dtype: no derivative (integer values cannot carry one)
cast = defop("cast", lambda x, dtype: np.asarray(x).astype(dtype), nondiff=True, export=False,
             lower="pw", jit={"pw": _cast_src})


# JAX's lax.stop_gradient: the value, as a constant of every derivative being taken (float()
# of a differentiated value raises, core/registry.py; float(ad.stop_gradient(x)) is the
# explicit spelling of a value read into Python as a constant). A copy, as JAX's.
stop_gradient = defop("stop_gradient", lambda x: np.array(x, copy=True), nondiff=True,
                      lower="pw", jit={"pw": lambda a, p, idx: a[0]})
stop_gradient.__doc__ = """The value of ``x`` as a constant of every derivative being taken
(``jax.lax.stop_gradient``; ``x.detach()`` on a Tensor): derivatives do not flow through it.

``float()`` / ``.item()`` of a value a transform differentiates raise, because the Python
number would silently lose its derivative; ``float(ad.stop_gradient(x))`` is the explicit
spelling of a value read into Python as a constant.

Parameters
----------
x : array_like, Tensor or dual number

Returns
-------
array or Tensor
    A copy of ``x``'s value that carries no derivative.

Examples
--------
>>> ad.grad(lambda x: x * ad.stop_gradient(x))(3.0)
np.float64(3.0)
>>> bool(ad.grad(lambda x: x * float(ad.stop_gradient(ad.tanh(x))))(0.5) == np.tanh(0.5))
True
"""


def _dtype_of(x):
    return x.dtype if isinstance(x, Traced) else np.asarray(x).dtype


def _roundtrip(op, x):
    # a float64 round trip differentiates and keeps the sweep's float32 inputs float32
    return op(op(x, "float64"), x.dtype)


# np.astype (NumPy >= 2.1) is registered below: the sweep calls a NumPy spelling with the
# sample's params, and these samples cast twice through call=
@composite(domain=[Sample((2, 3), call=_roundtrip), Sample((), call=_roundtrip),
                   Sample((0, 2), call=_roundtrip)])
def astype(x, dtype, /, *, copy=True, device=None):
    """x cast to `dtype` (``np.astype``, ``t.astype(dtype)``, PyTorch's ``.to(dtype)``).

    A cast between float dtypes is differentiable (the cotangent is cast back); a cast to an
    integer or bool dtype carries no derivative (a Tensor that does not require grad, a dual's
    primal), as integer values cannot.

    Parameters
    ----------
    x : array_like
    dtype : data-type
    copy : bool, optional
        False returns x itself when it already has `dtype`.

    Returns
    -------
    array or Tensor
        The cast value.

    Examples
    --------
    >>> ad.astype(np.array([1.5, -2.5]), np.int64)
    array([ 1, -2])
    """
    if device not in (None, "cpu"):
        raise ValueError(f"adjit.astype: device={device!r}: adjit computes on the CPU")
    dt = np.dtype(dtype)
    if not isinstance(x, Traced):
        return np.asarray(x).astype(dt, copy=copy)
    if dt == np.dtype(x.dtype):
        return same(x) if copy else x
    complex_in = np.dtype(x.dtype).kind == "c"
    if dt.kind == "c" or dt.kind == "f" and not complex_in:
        # float to float differentiates (int or bool to float has nothing to carry)
        return float_cast(x, dtype=dt.name)
    if complex_in:   # NumPy drops the imaginary part with a warning
        raise _complex_error("astype")
    if dt.kind not in "biu":
        raise TypeError(f"adjit.astype: cannot cast to {dt}; adjit values are numeric")
    return cast(x, dtype=dt.name)


def _complex_error(fname):
    return TypeError(
        f"adjit.{fname}: complex values are not supported yet here. Split a complex number "
        "into its real and imaginary parts (ad.real, ad.imag) first, or call NumPy on "
        ".detach()ed values if a constant is meant.")


def _real_only(x, fname):
    if isinstance(x, Traced) and np.dtype(x.dtype).kind == "c":
        raise _complex_error(fname)


@composite(numpy=(np.nan_to_num,),
           domain=[Sample((2, 3)), Sample((3,), nan=1.5, posinf=2.0, neginf=-3.0), Sample(())])
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """x with NaN, +inf and -inf replaced by finite numbers (``np.nan_to_num``): `nan`, and by
    default the largest and the most negative finite numbers of x's dtype. The derivative is 1
    where x is finite and 0 where a value was replaced.

    Parameters
    ----------
    x : array_like
    copy : bool, optional
        Must be True on differentiated values (they are not written in place).
    nan, posinf, neginf : float, optional
        The replacements.

    Returns
    -------
    array or Tensor
        The cleaned array.

    Examples
    --------
    >>> ad.nan_to_num(np.array([1.0, np.nan, -np.inf]), neginf=-9.0)
    array([ 1.,  0., -9.])
    """
    if not isinstance(x, Traced):
        return np.nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    _real_only(x, "nan_to_num")
    if not copy:
        raise TypeError("adjit.nan_to_num(copy=False) would replace values in place, which "
                        "differentiated values do not allow; use the returned value (copy=True)")
    dt = np.dtype(x.dtype)
    if dt.kind != "f":
        return same(x)
    big = np.finfo(dt).max
    vals = [np.asarray(v, dtype=dt) for v in (nan, big if posinf is None else posinf,
                                               -big if neginf is None else neginf)]
    c = cond_of(x)
    # masks from the values (recomputed by an ad.jit kernel, not frozen): nan != nan, and
    # |inf| < inf is false
    fill = where(c != c, vals[0], where(c > 0, vals[1], vals[2]))
    return where(abs_op(c) < np.inf, x, fill)


if hasattr(np, "astype"):
    implements(np.astype)(astype)


@composite(methods=("copy",), numpy=(np.copy,), domain=[Sample((2, 3)), Sample(())])
def copy(a, order="K", subok=False):
    """A copy of `a` (``np.copy``, ``x.copy()``): a new value, so writing into it leaves `a`
    as it was; differentiable in every mode (the Tensor API's ``t.copy()`` is ``t.clone()``).

    Examples
    --------
    >>> ad.copy(np.array([1.0, 2.0]))
    array([1., 2.])
    """
    if not isinstance(a, Traced):
        return np.array(a, order=order, subok=subok, copy=True)
    return same(a)
