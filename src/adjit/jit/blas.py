"""BLAS products for generated kernels, typed and lowered in place.

`np.dot(a, b, out)` inside a numba function is an `@overload`: every new combination of operand
types compiles a wrapper function and its argument checks as functions of their own (a full
numba pipeline each, ~0.1-0.2 s), which made the matrix products most of an MLP gradient's
compile time. `dot(a, b, out)` and `vdot(a, b)` here are intrinsics: their typing is a table
lookup and their code (shape checks and one call of numba's BLAS wrappers) is emitted straight
into the kernel, so they cost no compilation of their own. They call the same BLAS routines
the same way as numba's `np.dot` (gemm, gemv for a vector operand or a unit dimension, dot for
two vectors), so results are bit for bit those of `np.dot`.
"""
import numpy as np
from numba.core import cgutils, types
from numba.core.errors import TypingError
from numba.core.extending import intrinsic
from numba.core.typing import signature
from numba.np.arrayobj import make_array
from numba.np.linalg import (call_xxdot, call_xxgemm, call_xxgemv, ensure_blas,
                             make_contiguous)

from . import alloc

_FLOATS = (types.float32, types.float64, types.complex64, types.complex128)   # BLAS s d c z
_INT_MAX = 2 ** 31 - 1


def _check(context, builder, fail, exc, msg):
    with builder.if_then(fail, likely=False):
        context.call_conv.return_user_exc(builder, exc, (msg,))


def _fits_c_int(context, builder, sizes):
    big = context.get_constant(types.intp, _INT_MAX)
    for n in sizes:
        _check(context, builder, builder.icmp_signed(">", n, big), OverflowError,
               "array size too large to fit in C int")


def _operand_types(a, b, out=None):
    arrays = (a, b) if out is None else (a, b, out)
    if not all(isinstance(t, types.Array) for t in arrays):
        raise TypingError("adjit dot: array operands expected")
    if any(t.dtype != a.dtype for t in arrays) or a.dtype not in _FLOATS:
        raise TypingError("adjit dot: operands of one float or complex dtype expected")


@intrinsic
def dot(typingctx, a, b, out):
    """np.dot(a, b, out) for 1-D/2-D float or complex arrays, out C-contiguous (no result)."""
    _operand_types(a, b, out)
    nds = (a.ndim, b.ndim)
    if nds not in ((2, 2), (1, 2), (2, 1)) or out.ndim != (2 if nds == (2, 2) else 1) or \
            out.layout != "C":
        raise TypingError("adjit dot: unsupported operands")

    def codegen(context, builder, sig, args):
        ensure_blas()
        with make_contiguous(context, builder, sig, args) as (sig, args):
            if nds == (2, 2):
                _mm(context, builder, sig, args)
            else:
                _mv(context, builder, sig, args)
        return context.get_dummy_value()
    return signature(types.none, a, b, out), codegen


@intrinsic
def vdot(typingctx, a, b):
    """np.dot(a, b) of two 1-D float or complex arrays: their inner product (BLAS dot, no
    conjugate)."""
    _operand_types(a, b)
    if a.ndim != 1 or b.ndim != 1:
        raise TypingError("adjit vdot: 1-D operands expected")

    def codegen(context, builder, sig, args):
        ensure_blas()
        with make_contiguous(context, builder, sig, args) as (sig, args):
            xty, yty = sig.args
            x = make_array(xty)(context, builder, args[0])
            y = make_array(yty)(context, builder, args[1])
            n, = cgutils.unpack_tuple(builder, x.shape)
            _n, = cgutils.unpack_tuple(builder, y.shape)
            _check(context, builder, builder.icmp_signed("!=", n, _n), ValueError,
                   "incompatible array sizes for np.dot(a, b) (vector * vector)")
            _fits_c_int(context, builder, (n,))
            res = cgutils.alloca_once_value(builder, context.get_constant_null(xty.dtype))
            zero = context.get_constant(types.intp, 0)
            with builder.if_then(builder.icmp_signed(">", n, zero)):
                call_xxdot(context, builder, False, xty.dtype, n, x.data, y.data, res)
            return builder.load(res)
    return signature(a.dtype, a, b), codegen


def _mm(context, builder, sig, args):
    """numba's np.dot(matrix, matrix, out), its argument checks written inline."""
    xty, yty, outty = sig.args
    x = make_array(xty)(context, builder, args[0])
    y = make_array(yty)(context, builder, args[1])
    out = make_array(outty)(context, builder, args[2])
    xs = cgutils.unpack_tuple(builder, x.shape)
    ys = cgutils.unpack_tuple(builder, y.shape)
    os_ = cgutils.unpack_tuple(builder, out.shape)
    m, k = xs
    _k, n = ys
    _check(context, builder, builder.icmp_signed("!=", k, _k), ValueError,
           "incompatible array sizes for np.dot(a, b) (matrix * matrix)")
    bad = builder.or_(builder.icmp_signed("!=", os_[0], m), builder.icmp_signed("!=", os_[1], n))
    _check(context, builder, bad, ValueError,
           "incompatible output array size for np.dot(a, b, out) (matrix * matrix)")
    _fits_c_int(context, builder, (m, k, n))
    zero = context.get_constant(types.intp, 0)
    one = context.get_constant(types.intp, 1)
    empty = builder.or_(builder.icmp_signed("==", k, zero),
                        builder.or_(builder.icmp_signed("==", m, zero),
                                    builder.icmp_signed("==", n, zero)))
    dtype = xty.dtype
    with builder.if_else(empty, likely=False) as (is_empty, nonempty):
        with is_empty:
            cgutils.memset(builder, out.data, builder.mul(out.itemsize, out.nitems), 0)
        with nonempty:
            # a (1, k) or (k, 1) operand is a vector: gemv (or dot), as numba's np.dot does
            left_vec = builder.icmp_signed("==", m, one)
            right_vec = builder.icmp_signed("==", n, one)
            with builder.if_else(right_vec) as (r_vec, r_mat):
                with r_vec:
                    with builder.if_else(left_vec) as (v_v, m_v):
                        with v_v:
                            call_xxdot(context, builder, False, dtype, k, x.data, y.data,
                                       out.data)
                        with m_v:
                            call_xxgemv(context, builder, xty.layout == outty.layout, xty, xs,
                                        x.data, y.data, out.data)
                with r_mat:
                    with builder.if_else(left_vec) as (v_m, m_m):
                        with v_m:
                            call_xxgemv(context, builder, yty.layout != outty.layout, yty, ys,
                                        y.data, x.data, out.data)
                        with m_m:
                            call_xxgemm(context, builder, xty, xs, x.data, yty, ys, y.data,
                                        outty, os_, out.data)


def _mv(context, builder, sig, args):
    """numba's np.dot(vector, matrix, out) / np.dot(matrix, vector, out), checks inline."""
    xty, yty, outty = sig.args
    x = make_array(xty)(context, builder, args[0])
    y = make_array(yty)(context, builder, args[1])
    out = make_array(outty)(context, builder, args[2])
    xs = cgutils.unpack_tuple(builder, x.shape)
    ys = cgutils.unpack_tuple(builder, y.shape)
    os_ = cgutils.unpack_tuple(builder, out.shape)
    if xty.ndim < yty.ndim:   # vector * matrix: computed as y.T * x
        mty, ms, v_len, lda = yty, ys, xs[0], ys[1]
        do_trans = yty.layout == "F"
        m_data, v_data = y.data, x.data
        inner, outer = ys[0], ys[1]
        what = "vector * matrix"
    else:
        mty, ms, v_len, lda = xty, xs, ys[0], xs[0]
        do_trans = xty.layout == "C"
        m_data, v_data = x.data, y.data
        inner, outer = xs[1], xs[0]
        what = "matrix * vector"
    _check(context, builder, builder.icmp_signed("!=", v_len, inner), ValueError,
           f"incompatible array sizes for np.dot(a, b) ({what})")
    _check(context, builder, builder.icmp_signed("!=", os_[0], outer), ValueError,
           f"incompatible output array size for np.dot(a, b, out) ({what})")
    _fits_c_int(context, builder, ms)
    zero = context.get_constant(types.intp, 0)
    empty = builder.or_(builder.icmp_signed("==", v_len, zero),
                        builder.icmp_signed("==", lda, zero))
    with builder.if_else(empty, likely=False) as (is_empty, nonempty):
        with is_empty:
            cgutils.memset(builder, out.data, builder.mul(out.itemsize, out.nitems), 0)
        with nonempty:
            call_xxgemv(context, builder, do_trans, mty, ms, m_data, v_data, out.data)




def _py_dot(a, b, out):
    np.dot(a, b, out)


# the same names for generated source run as plain Python (loopkernel's interpreted loops), with
# the kernels' allocations
PYTHON = {"dot": _py_dot, "vdot": np.dot, **alloc.PYTHON}
