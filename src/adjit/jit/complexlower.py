"""`ad.jit` at complex values: which rows compile for complex64 / complex128 operands, and the
source of their elements.

A row compiles at complex values only when it is listed here; any other row with a complex
input or output stops the code generator with `Unsupported` naming the row, so `ad.jit` runs
the function eagerly with its one-time warning (never a real-only formula on complex numbers:
numba would either refuse `x > 0` on complex values or, worse, a formula such as norm's t * t
would compile and give a wrong number). Elementwise rows get the complex source below instead
of their real formula: NumPy's own functions as numba implements them, which agree with NumPy
to an ulp or two at finite values, branch cuts and signed zeros included, except where
cxscalar.py has NumPy's algorithm (division, exp, expm1, tanh, pow).
"""
import hashlib
import os

import numpy as np

from .exprs import bmap, subst
from .lowering import Unsupported

# numba's cache of a kernel keeps the cx_* helpers it inlined and is keyed on the kernel's own
# source only: a kernel that calls them carries this digest of cxscalar.py in a comment, so a
# changed helper means a new kernel, never a stale one (the file is read, not imported:
# `import adjit` imports no numba)
with open(os.path.join(os.path.dirname(__file__), "cxscalar.py"), "rb") as _f:
    HELPERS_DIGEST = hashlib.sha1(_f.read()).hexdigest()[:12]

# element source of elementwise rows at complex operands, in the row's argument names
ELEMENTWISE = {
    "add": "a + b", "sub": "a - b", "mul": "a * b", "div": "cx_div(a, b)",
    "negative": "-x", "positive": "+x", "square": "x * x", "reciprocal": "cx_recip(x)",
    "pow": "cx_pow(a, b)", "abs": "abs(x)",
    "exp": "cx_exp(x)", "exp2": "cx_exp2(x)", "expm1": "cx_expm1(x)",
    "log": "np.log(x)", "log2": "np.log2(x)", "log10": "np.log10(x)", "log1p": "np.log1p(x)",
    "sqrt": "np.sqrt(x)", "sin": "np.sin(x)", "cos": "np.cos(x)", "tan": "np.tan(x)",
    "sinh": "cx_sinh(x)", "cosh": "cx_cosh(x)", "tanh": "cx_tanh(x)",
    "arcsin": "np.arcsin(x)", "arccos": "np.arccos(x)", "arctan": "np.arctan(x)",
    "arcsinh": "np.arcsinh(x)", "arctanh": "np.arctanh(x)",
    # the holomorphic logistic function, as the row's NumPy primal computes it
    "sigmoid": "0.5 * (1.0 + cx_tanh(0.5 * x))",
    "strong_mul": "(0j if a == 0 else a * b)",
    "equal": "a == b", "not_equal": "a != b",
}
# numba has no arccosh on the negative real axis as NumPy's (it flips the branch): not listed

# rows whose own lowering is right for complex operands (copies, sums, products, LAPACK)
OWN = {"reshape", "broadcast_to", "transpose", "getitem", "scatter_add", "index_update",
       "concatenate", "stack", "where", "tril", "triu", "sum", "mean", "prod", "cumsum", "matmul",
       "solve", "inv", "det",
       # rows whose lowering calls their own numba code (jit/oplib.py): np.linalg and the
       # index loops there take complex arrays as they are
       "logabsdet", "slogdet", "cholesky", "eigh", "svd", "qr", "gather_last", "scatter_last",
       "cumprod_last", "lu_swap", "lu_unswap",
       # ad.fft's rows: NumPy's own FFT in an object-mode block (fftlower.py)
       "fft_resize", "fftn", "rfftn", "irfftn", "fftshift"}
# rows whose element source at complex operands is given here, by their `jit["pw"]` inputs
PW = {
    "real": lambda a: f"({a[0]}).real",
    "imag": lambda a: f"({a[0]}).imag",
    "conj": lambda a: f"({a[0]}).conjugate()",
    "angle": lambda a: f"math.atan2(({a[0]}).imag, ({a[0]}).real)",   # np.angle's arctan2
}

COMPILES = sorted(set(ELEMENTWISE) | OWN | set(PW) | {"astype"})


def involves(v, vars):
    """True when var v (an op of the trace) has a complex input, parameter or output."""
    if v.dtype.kind == "c":
        return True
    return any(vars[j].dtype.kind == "c" for j in v.inputs) or \
        any(vars[j].dtype.kind == "c" for j in v.tparams.values())


def check(v, vars):
    """Raise Unsupported (ad.jit runs eagerly, naming the row) for a row that has no
    compiled form at complex values."""
    if v.kind != "op" or not involves(v, vars):
        return
    name = v.op.name
    if name not in ELEMENTWISE and name not in OWN and name not in PW and name != "astype":
        raise Unsupported(f"op {name} at complex values is not compiled (the rows that are: "
                          "adjit.jit.complexlower.COMPILES)")


def cast(expr, dtype):
    """expr as a value of dtype (the element stored or returned is of the row's dtype)."""
    dtype = np.dtype(dtype)
    if dtype == np.complex64:
        return f"np.complex64({expr})"
    if dtype == np.float32:
        return f"np.float32({expr})"
    return expr


def _mark(gen):
    # once per kernel (a loop's dry run deletes what it emitted: the mark is re-checked)
    k = getattr(gen, "cx_mark_at", None)
    if k is None or k >= len(gen.lines) or not gen.lines[k].endswith(HELPERS_DIGEST):
        gen.cx_mark_at = len(gen.lines)
        gen.emit(f"# adjit.jit.cxscalar {HELPERS_DIGEST}")


def element(gen, v, args, idx):
    """Source of element idx of pointwise var v at complex operands (args: its inputs'
    element sources)."""
    op, vs = v.op, gen.vars
    name = op.name
    if v.dtype == np.complex64:
        # NumPy computes a complex64 result in single precision: a double operand (a Python
        # scalar, weak) is rounded first
        args = [f"np.complex64({a})" if vs[j].dtype == np.complex128 else
                f"np.float32({a})" if vs[j].dtype == np.float64 else a
                for a, j in zip(args, v.inputs)]
    if name in ELEMENTWISE:
        if "cx_" in ELEMENTWISE[name]:
            _mark(gen)
        return cast(subst(ELEMENTWISE[name], op.args if hasattr(op, "args") and
                          len(op.args) == len(args) else ("a", "b")[:len(args)], args), v.dtype)
    if name in PW:
        return cast(PW[name](args), v.dtype)
    if name == "astype":
        x = args[0]
        if vs[v.inputs[0]].dtype.kind == "c" and v.dtype.kind != "c":
            x = f"({x}).real"   # NumPy's cast drops the imaginary part
        return cast(x, v.dtype)
    p = dict(v.params)
    for k, j in v.tparams.items():   # where's condition, read at the element's index
        p[k] = gen.val(j, bmap(idx, vs[j].shape, v.shape))
    return cast(op.jit["pw"](args, p, idx), v.dtype)

