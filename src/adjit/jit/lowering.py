"""What ad.jit can compile: the class of each op (pointwise, index map, reduction, ...), the
numba types and the source literals the code generator writes."""
import numpy as np

class Unsupported(Exception):
    """The tape holds an op (or a form of it) the compiler has no template for."""


# ---------------------------------------------------------------------------------------------
# An op's class is its row's `lower`; the per-op data the class reads is in its row's `jit`:
#   "pw":   Elementwise rows: their formula `f`; others `jit["pw"](args, params, idx)` -> the
#           element's source from its operands' sources (array params listed in
#           `jit["arrays"]` are read at the element's index), or `jit["strong"]`: a product
#           formula with a strong zero on its first operand;
#   "ix":   `jit["map"]`: the index map (getitem, broadcast, reshape, transpose, scatter);
#           `jit["advanced"]`: the class to use instead for array indices;
#   "red":  `jit["init"]`, `jit["acc"]` ("{a}" accumulator, "{t}" element), optional
#           `jit["post"]` ("{n}" the count) and `jit["pairwise"]` ("sum" / "square");
#   "axis": `jit["axis"]` (default axis), `jit["reduce"]` or `jit["pre"]` + `jit["each"]`;
#   "cat":  `jit["new_axis"]` for stack;
#   "lib":  `jit["call"]` (numba's np.linalg), `jit["core"]` (matrix dims of the output),
#           `jit["vector_arg"]` (an input that may be a vector: then core dims 1);
#   "mm", "scan", "update": no data.
#   "fft":  ad.fft's rows: their NumPy function called from the kernel (fftlower.py).
# At complex values only the rows complexlower.py lists compile (the others fall back).

_NB_TYPES = {"float64": "float64", "float32": "float32", "int64": "int64", "int32": "int32",
             "bool": "boolean", "int8": "int8", "int16": "int16", "uint8": "uint8",
             "complex128": "complex128", "complex64": "complex64"}
SUPPORTED_DTYPES = ", ".join(_NB_TYPES)


def op_class(var):
    op = var.op
    if op.lower is None:
        raise Unsupported(f"op {op.name} is not supported by the compiler")
    adv = op.jit.get("advanced")
    if adv is not None and not is_basic(var.params["idx"]):
        return adv   # e.g. scatter_add with np.add.at semantics: repeated indices accumulate
    return op.lower


def is_basic(idx):
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice))
               and not isinstance(i, (bool, np.bool_)) for i in idx)


def nb_type(dtype):
    t = _NB_TYPES.get(np.dtype(dtype).name)
    if t is None:
        raise Unsupported(f"dtype {np.dtype(dtype)} is not supported by the compiler "
                          f"(supported: {SUPPORTED_DTYPES})")
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
    if isinstance(v, complex):   # complexlower.py: the rows that compile complex values
        s = f"complex({lit(v.real)}, {lit(v.imag)})"
        return f"np.complex64({s})" if dtype is not None and np.dtype(dtype) == np.complex64 \
            else s
    raise Unsupported(f"a constant of type {type(v).__name__} is not supported by the compiler")


def prod_of(shape):
    return int(np.prod(shape)) if shape else 1


