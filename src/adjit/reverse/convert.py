"""The data of `ad.tensor(data)` as a numeric NumPy array, with errors that say what was wrong."""
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
