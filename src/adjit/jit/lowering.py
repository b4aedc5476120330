"""What ad.jit can compile: the class of each op (pointwise, index map, reduction, ...), the
numba types and the source literals the code generator writes."""
import numpy as np

from ..ops.elementwise import Elementwise

class Unsupported(Exception):
    """The tape holds an op (or a form of it) the compiler has no template for."""


# ---------------------------------------------------------------------------------------------
# the op table: op name -> class (Elementwise ops are "pw" through their formula)

OPS = {
    "strong_mul": "pw", "where": "pw", "clip": "pw", "tril": "pw",
    "greater": "pw", "greater_equal": "pw", "less": "pw", "less_equal": "pw", "equal": "pw",
    "not_equal": "pw",
    "getitem": "ix", "broadcast_to": "ix", "reshape": "ix", "transpose": "ix",
    "scatter_add": "ix",
    "sum": "red", "mean": "red", "prod": "red", "max": "red", "min": "red", "norm": "red",
    "matmul": "mm", "concatenate": "cat", "stack": "cat", "cumsum": "scan",
    "logsumexp": "axis", "softmax": "axis", "log_softmax": "axis",
    "det": "lib", "inv": "lib", "solve": "lib", "cholesky": "lib", "logabsdet": "lib",
    "index_update": "lib",
}

CMP = {"greater": ">", "greater_equal": ">=", "less": "<", "less_equal": "<=", "equal": "==",
        "not_equal": "!="}

_NB_TYPES = {"float64": "float64", "float32": "float32", "int64": "int64", "int32": "int32",
             "bool": "boolean", "int8": "int8", "int16": "int16", "uint8": "uint8"}

def op_class(var):
    op = var.op
    if isinstance(op, Elementwise):
        return "pw"
    c = OPS.get(op.name)
    if c is None:
        raise Unsupported(op.name)
    if op.name == "scatter_add" and not is_basic(var.params["idx"]):
        return "scat"   # np.add.at semantics: repeated indices accumulate
    return c


def is_basic(idx):
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice))
               and not isinstance(i, (bool, np.bool_)) for i in idx)


def nb_type(dtype):
    t = _NB_TYPES.get(np.dtype(dtype).name)
    if t is None:
        raise Unsupported(f"dtype {np.dtype(dtype)}")
    return t


def lit(value, dtype=None):
    """Source literal for a scalar constant."""
    v = np.asarray(value).reshape(()).item()
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, int):
        return repr(v) if v >= 0 else f"({v})"
    if isinstance(v, float):
        if v != v:
            return "nan"
        if v in (float("inf"), float("-inf")):
            return "inf" if v > 0 else "(-inf)"
        s = repr(v)
        s = s if v >= 0 else f"({s})"
        if dtype is not None and np.dtype(dtype) == np.float32:
            return f"np.float32({s})"
        return s
    raise Unsupported(f"constant of type {type(v).__name__}")


def prod_of(shape):
    return int(np.prod(shape)) if shape else 1


