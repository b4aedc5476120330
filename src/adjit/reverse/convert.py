"""The data of `ad.tensor(data)` as a numeric NumPy array, with errors that say what was wrong;
the shape-only placeholders a freed graph node keeps; the tape's plain-array helpers."""
import numpy as np

from ..core.registry import Traced


def numeric_array(data, dtype=None):
    if isinstance(data, Traced):
        raise TypeError("adjit.tensor: cannot make a tensor from a dual number or traced value; "
                        "use the value directly")
    try:
        arr = np.array(data, dtype=dtype)
    except (ValueError, TypeError) as e:
        raise TypeError(f"adjit.tensor: could not convert {type(data).__name__} to a numeric "
                        f"array: {e}") from None
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"adjit.tensor: expected numbers, got an array of dtype {arr.dtype} "
                        f"(from {type(data).__name__}); adjit works on bool, int and float data")
    return arr


def placeholder(v):
    """An array of v's shape and dtype that costs no memory (all strides 0); read-only, so one
    per (dtype, shape) is shared (np.broadcast_to was ~30% of a small eager backward)."""
    if type(v) is np.ndarray:   # the usual case, without np.ndim's dispatch
        if not v.ndim:
            return v
        key = (v.dtype, v.shape)
    elif v is None or not isinstance(v, Traced) and np.ndim(v) == 0:
        return v
    else:
        a = v if isinstance(v, Traced) else np.asarray(v)
        key = (a.dtype, tuple(a.shape))
    p = _PLACEHOLDERS.get(key)
    if p is None:
        if len(_PLACEHOLDERS) > 512:
            _PLACEHOLDERS.clear()
        p = _PLACEHOLDERS[key] = np.broadcast_to(np.zeros((), dtype=key[0]), key[1])
    return p


_PLACEHOLDERS = {}


def sum_to(c, r):
    """A plain cotangent summed back to the shape of the plain input r it was broadcast from
    (ops.unbroadcast without the op layer)."""
    shp = r.shape
    lead = c.ndim - len(shp)
    cs = c.shape
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shp)
                                      if s == 1 and cs[i + lead] != 1)
    if axes:
        c = np.add.reduce(c, axis=axes, keepdims=True)
    return c.reshape(shp)


def shape_of(v):
    # np.shape costs ~0.3 us through its dispatcher; arrays and NumPy scalars have .shape
    s = getattr(v, "shape", None)
    return s if type(s) is tuple else np.shape(v)


def kept_unread(v):
    """Whether a freed node keeps a value its VJP does not read as it is: numbers and arrays
    of up to 64 elements (a placeholder would save less memory than it costs time; most nodes
    of a small eager graph read nothing: add, getitem, sum)."""
    if type(v) is np.ndarray:
        return v.size <= 64 and v.dtype.kind != "O"
    return not isinstance(v, Traced)   # numbers, NumPy scalars (a wrapper: a placeholder)


def is_scalar(v):
    t = type(v)
    return (not v.ndim) if t is np.ndarray else t is float or t is int or \
        not isinstance(v, Traced) and np.ndim(v) == 0
