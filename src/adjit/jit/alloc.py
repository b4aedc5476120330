"""Array allocation for generated kernels, typed and lowered in place.

`np.empty(shape, dtype)` and `np.zeros` inside a numba function are `@overload`s: every distinct
(shape tuple length, dtype) compiles an implementation function (and np.zeros two more: the
allocator and the zero fill), each a full numba pipeline of 0.07-0.35 s, none of them cached on
disk. A GMM gradient's kernel paid ~1 s of its compile for eight of them in every new process.
`empty(shape, dtype)` and `zeros(shape, dtype)` here are intrinsics: their typing is a table
lookup and their code (numba's own `_empty_nd_impl`, with the NRT allocation called directly
instead of through a compiled trampoline) is emitted straight into the kernel. The arrays are
numba's C-contiguous arrays, allocated by the same NRT call with the same alignment.
"""
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.core.errors import TypingError
from numba.core.extending import intrinsic
from numba.core.typing import signature
from numba.np.arrayobj import get_itemsize, make_array, populate_array


def _array_type(shape, dtype):
    if isinstance(shape, types.Integer):
        ndim = 1
    elif isinstance(shape, types.BaseTuple) and all(isinstance(t, types.Integer)
                                                     for t in shape.types):
        ndim = len(shape.types)
    else:
        raise TypingError("adjit empty: an integer or a tuple of integers expected as shape")
    if isinstance(dtype, (types.NumberClass, types.DType)):
        dt = dtype.dtype
    else:
        raise TypingError("adjit empty: a NumPy scalar type expected as dtype")
    return types.Array(dt, ndim, "C")


def _shapes(context, builder, sig, args):
    shty, shape = sig.args[0], args[0]
    if isinstance(shty, types.Integer):
        return [context.cast(builder, shape, shty, types.intp)]
    return [context.cast(builder, builder.extract_value(shape, k), t, types.intp)
            for k, t in enumerate(shty.types)]


def _allocate(context, builder, arrtype, shapes):
    """numba.np.arrayobj._empty_nd_impl for a C array, the NRT allocation called in place."""
    ary = make_array(arrtype)(context, builder)
    datatype = context.get_data_type(arrtype.dtype)
    itemsize = context.get_constant(types.intp, get_itemsize(context, arrtype))
    arrlen = context.get_constant(types.intp, 1)
    overflow = ir.Constant(ir.IntType(1), 0)
    for s in shapes:
        prod = builder.smul_with_overflow(arrlen, s)
        arrlen = builder.extract_value(prod, 0)
        overflow = builder.or_(overflow, builder.extract_value(prod, 1))
    strides = [itemsize]
    for s in reversed(shapes[1:]):
        strides.append(builder.mul(strides[-1], s))
    strides = tuple(reversed(strides)) if shapes else ()
    nbytes = builder.smul_with_overflow(arrlen, itemsize)
    allocsize = builder.extract_value(nbytes, 0)
    overflow = builder.or_(overflow, builder.extract_value(nbytes, 1))
    with builder.if_then(overflow, likely=False):
        context.call_conv.return_user_exc(
            builder, ValueError,
            ("array is too big; `arr.size * arr.dtype.itemsize` is larger than"
             " the maximum possible size.",))
    align = context.get_constant(types.uint32,
                                 context.get_preferred_array_alignment(arrtype.dtype))
    meminfo = context.nrt.meminfo_alloc_aligned(builder, allocsize, align)
    data = context.nrt.meminfo_data(builder, meminfo)
    intp_t = context.get_value_type(types.intp)
    populate_array(ary, data=builder.bitcast(data, datatype.as_pointer()),
                   shape=cgutils.pack_array(builder, shapes, ty=intp_t),
                   strides=cgutils.pack_array(builder, strides, ty=intp_t),
                   itemsize=itemsize, meminfo=meminfo)
    return ary, allocsize


@intrinsic
def empty(typingctx, shape, dtype):
    """np.empty(shape, dtype): a new C-contiguous array (uninitialised)."""
    arrtype = _array_type(shape, dtype)

    def codegen(context, builder, sig, args):
        ary, _ = _allocate(context, builder, arrtype, _shapes(context, builder, sig, args))
        return ary._getvalue()
    return signature(arrtype, shape, dtype), codegen


@intrinsic
def zeros(typingctx, shape, dtype):
    """np.zeros(shape, dtype): a new C-contiguous array of zeros (all bytes 0, as NumPy's)."""
    arrtype = _array_type(shape, dtype)

    def codegen(context, builder, sig, args):
        ary, nbytes = _allocate(context, builder, arrtype, _shapes(context, builder, sig, args))
        cgutils.memset(builder, ary.data, nbytes, 0)
        return ary._getvalue()
    return signature(arrtype, shape, dtype), codegen


# the same names for generated source run as plain Python (loopkernel's interpreted loops)
PYTHON = {"empty": np.empty, "zeros": np.zeros}
