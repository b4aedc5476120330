"""Argument and result plumbing shared by the transforms."""
import functools

import numpy as np

from .. import ops
from ..core.registry import Traced
from ..reverse.tensor import Tensor

def as_value(x):
    """An input as the value a wrapper holds: arrays stay arrays, wrappers stay wrappers."""
    if isinstance(x, Traced):
        return x
    a = np.asarray(x)
    if a.dtype.kind not in "fc":
        if a.dtype.kind in "biu":
            a = a.astype(np.float64)
        else:
            raise TypeError(f"adjit: cannot differentiate with respect to a value of type "
                            f"{type(x).__name__} (dtype {a.dtype}); pass floats or float arrays")
    return a


def unwrap(v, level):
    """Peel this level's wrapper off a result; arrays come back as NumPy values."""
    if isinstance(v, Tensor) and v._level == level:
        v = v._data
    if isinstance(v, Traced):
        return v
    return np.asarray(v)[()] if np.ndim(v) == 0 else np.asarray(v)


def parse_argnums(argnums, nargs):
    single = isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool)
    nums = (argnums,) if single else tuple(argnums) \
        if isinstance(argnums, (tuple, list)) else None
    if nums is None or any(isinstance(a, bool) or not isinstance(a, (int, np.integer))
                           for a in nums):
        raise TypeError(f"adjit: argnums must be an int or a tuple of ints, got {argnums!r}")
    for a in nums:
        if not -nargs <= a < nargs:
            raise ValueError(f"adjit: argnums={argnums} is out of range for a function called "
                             f"with {nargs} positional arguments (an argument passed by "
                             "keyword is not differentiated: pass it positionally)")
    if len(set(a % nargs for a in nums)) != len(nums):
        raise ValueError(f"adjit: argnums={argnums} names an argument twice")
    return single, tuple(a % nargs for a in nums)


def shape_of(v):
    return v.shape if isinstance(v, Traced) else np.shape(v)


def dtype_of(v):
    """The float dtype derivatives of v are kept in: v's own (float16/32/64), float64 for
    integers and bools (promoted when differentiated)."""
    d = v.dtype if isinstance(v, Traced) else np.asarray(v).dtype
    return d if d.kind in "fc" else np.dtype(np.float64)


def cast(v, dtype):
    """v in dtype (a derivative handed back in its argument's dtype, as JAX and PyTorch do).
    A wrapper of an outer level (ad.jit's tracer, ad.vmap's batch, an outer Tensor or dual) is
    cast by one more op between float dtypes, so compiled and batched derivatives keep the
    dtype the eager one has (no transform casts at those boundaries)."""
    if isinstance(v, Traced):
        vd, dt = np.dtype(v.dtype), np.dtype(dtype)
        return ops.astype(v, dt) if vd != dt and vd.kind == dt.kind == "f" else v
    if np.asarray(v).dtype == dtype:
        return v
    return np.asarray(v).astype(dtype)[()] if np.ndim(v) == 0 else np.asarray(v).astype(dtype)


def zeros_of(v):
    return np.zeros(shape_of(v), dtype=dtype_of(v))


def full_tangent(t, shape):
    """A tangent at its full shape (rules may return one that still needs broadcasting)."""
    return t if tuple(shape_of(t)) == shape else ops.broadcast_to(t, shape)




def bind_kwargs(f, kwargs):
    """f with keyword arguments fixed: transformed functions take keywords as JAX's do, and
    never differentiate them."""
    return functools.partial(f, **kwargs) if kwargs else f


def as_arg_tuple(v, what, fname):
    """jvp/hvp take tuples of arguments, as jax.jvp: a bare array would be split into rows."""
    if not isinstance(v, (tuple, list)):
        raise TypeError(f"adjit.{fname}: {what} must be a tuple (or list) with one entry per "
                        f"argument of f, e.g. ad.{fname}(f, (x,), (v,)); got "
                        f"{type(v).__name__}")
    return tuple(v)
