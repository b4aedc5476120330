"""exp, tanh and sigmoid for `ad.jit` kernels that LLVM's loop vectoriser turns into SIMD code.

numba lowers `math.exp`/`math.tanh` to calls of libm's scalar functions, which no loop around
them can vectorise (numba's pip llvmlite has no SVML): in a per-example MLP gradient, libm's
tanh was ~70 % of the kernel's time, where NumPy's and XLA's are SIMD. The functions here are
emitted as LLVM arithmetic, bit casts and selects only (both sides of every choice computed, no
branch), so a loop over them vectorises like a loop of multiplications.

- exp: fdlibm's algorithm (e_exp.c, < 1 ulp): x = k ln2 + r with ln2 in two parts (Cody-Waite)
  so that r is exact, a degree-5 rational-type correction for e^r, and 2^k built from its bits.
  k is rounded by adding 1.5 * 2^52 (its bits then hold k: no float-to-int conversion, which
  AVX2 has no SIMD instruction for). 2^k is applied as two factors 2^(k/2), so that results
  near overflow and subnormal results need no special case: x is clamped to [-750, 710], where
  the product overflows to inf or underflows to a subnormal or 0 by itself; NaN gives NaN.
- tanh: Cephes' (tanh.c): |x| < 0.625 by x + x^3 P(x^2)/Q(x^2), else 1 - 2 / (e^(2|x|) + 1) with
  x's sign; the two sides share one division; +-0 keeps its sign.
- sigmoid: the formulas' NumPy rule, where(x >= 0, 1, e) / (1 + e) with e = exp(-|x|)
  (kernels/scalar.py's sigmoid, which branches on x's sign, without the branch).

They are numba extensions of plain Python functions (typing and lowering written here, as
blas.py's intrinsics: no numba compilation of their own, which an `@overload` or an inlined
`@njit` helper cost; an inlined overload added seconds to a kernel's compile). Only float64
takes the code above; any other argument type (float32, integers) is lowered as before: numba's
`math.exp`/`math.tanh` (libm), `scalar.sigmoid`; from Python they are those functions. rt.py
imports them over the scalar namespace's in the generated kernels, whose formulas still say
exp/tanh/sigmoid. Measured against a long-double reference by tests/test_vecmath.py: exp
within 1 ulp (0.88), tanh within 2 (1.31), sigmoid within 2.5 (2.15, as the branching form).
"""
import math
import struct

from llvmlite import ir
from numba.core import types
from numba.core.extending import lower_builtin, type_callable

from ..kernels import scalar


def exp(x):
    """math.exp in Python; the SIMD-friendly float64 exp in numba code."""
    return math.exp(x)


def tanh(x):
    """math.tanh in Python; the SIMD-friendly float64 tanh in numba code."""
    return math.tanh(x)


def sigmoid(x):
    """kernels.scalar.sigmoid in Python; its branch-free float64 form in numba code."""
    return scalar.sigmoid.py_func(x)


_F64 = ir.DoubleType()
_I64 = ir.IntType(64)


def _c(v):
    return ir.Constant(_F64, v)


def _i(v):
    return ir.Constant(_I64, v)


_SHIFTER = 6755399441055744.0          # 1.5 * 2^52: adding it rounds to an integer in its bits
_SHIFTER_BITS = struct.unpack("<q", struct.pack("<d", _SHIFTER))[0]
_INVLN2 = 1.44269504088896338700e+00
_LN2HI = 6.93147180369123816490e-01    # 0x3fe62e42fee00000: k * _LN2HI is exact for |k| < 2^11
_LN2LO = 1.90821492927058770002e-10
_EXP_P = (1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05,
          -1.65339022054652515390e-06, 4.13813679705723846039e-08)

# Cephes tanh.c: tanh(x) = x + x z P(z) / Q(z), z = x^2, for |x| < 0.625 (Q monic)
_TANH_P = (-9.64399179425052238628e-01, -9.92877231001918586564e+01, -1.61468768441708447952e+03)
_TANH_Q = (1.12811678491632931402e+02, 2.23548839060100448583e+03, 4.84406305325125486048e+03)


def _horner(b, z, coeffs, monic=False):
    """coeffs[0] z^n + ... + coeffs[n] (a leading 1 first when monic)."""
    acc = _c(coeffs[0]) if not monic else b.fadd(z, _c(coeffs[0]))
    for a in coeffs[1:]:
        acc = b.fadd(b.fmul(acc, z), _c(a))
    return acc


def _exp_f64(b, x):
    xc = b.select(b.fcmp_ordered(">", x, _c(-750.0)), x, _c(-750.0))   # NaN -> -750 (see end)
    xc = b.select(b.fcmp_ordered("<", xc, _c(710.0)), xc, _c(710.0))
    kd = b.fadd(b.fmul(xc, _c(_INVLN2)), _c(_SHIFTER))
    k = b.sub(b.bitcast(kd, _I64), _i(_SHIFTER_BITS))
    kf = b.fsub(kd, _c(_SHIFTER))
    hi = b.fsub(xc, b.fmul(kf, _c(_LN2HI)))
    lo = b.fmul(kf, _c(_LN2LO))
    r = b.fsub(hi, lo)
    t = b.fmul(r, r)
    c = b.fsub(r, b.fmul(t, _horner(b, t, _EXP_P[::-1])))
    # y = 1 - ((lo - r c / (2 - c)) - hi) = e^r
    y = b.fsub(_c(1.0), b.fsub(b.fsub(lo, b.fdiv(b.fmul(r, c), b.fsub(_c(2.0), c))), hi))
    k1 = b.ashr(k, _i(1))
    s1 = b.bitcast(b.shl(b.add(k1, _i(1023)), _i(52)), _F64)
    s2 = b.bitcast(b.shl(b.add(b.sub(k, k1), _i(1023)), _i(52)), _F64)
    e = b.fmul(b.fmul(y, s1), s2)
    return b.select(b.fcmp_unordered("uno", x, x), x, e)


def _tanh_f64(b, x):
    a = b.call(b.module.declare_intrinsic("llvm.fabs", [_F64]), [x])
    z = b.fmul(x, x)
    s = _exp_f64(b, b.fmul(_c(2.0), a))
    small = b.fcmp_ordered("<", a, _c(0.625))
    # one division for both sides: x z P(z) / Q(z), or 2 / (e^(2|x|) + 1)
    num = b.select(small, b.fmul(b.fmul(x, z), _horner(b, z, _TANH_P)), _c(2.0))
    den = b.select(small, _horner(b, z, _TANH_Q, monic=True), b.fadd(s, _c(1.0)))
    q = b.fdiv(num, den)
    copysign = b.module.declare_intrinsic("llvm.copysign", [_F64],
                                          ir.FunctionType(_F64, [_F64, _F64]))
    big = b.call(copysign, [b.fsub(_c(1.0), q), x])
    r = b.select(small, b.fadd(x, q), big)
    return b.select(b.fcmp_ordered("==", x, _c(0.0)), x, r)   # tanh(+-0) = +-0; NaN -> NaN


def _sigmoid_f64(b, x):
    # the formulas' NumPy rule (ops/formulas.py): where(x >= 0, 1, e) / (1 + e), e = exp(-|x|)
    a = b.call(b.module.declare_intrinsic("llvm.fabs", [_F64]), [x])
    e = _exp_f64(b, b.fsub(_c(-0.0), a))
    num = b.select(b.fcmp_ordered(">=", x, _c(0.0)), _c(1.0), e)   # NaN: e, NaN
    return b.fdiv(num, b.fadd(_c(1.0), e))


def _register(fn, lib, emit):
    @type_callable(fn)
    def _typer(context):
        def typer(x):
            if x == types.float64:
                return types.float64
            sig = context.resolve_function_type(lib, (x,), {})
            return None if sig is None else sig.return_type
        return typer

    @lower_builtin(fn, types.float64)
    def _lower_f64(context, builder, sig, args):
        return emit(builder, args[0])

    @lower_builtin(fn, types.Number)
    def _lower_other(context, builder, sig, args):
        # numba's math.exp / math.tanh (libm) or scalar.sigmoid of this type, arguments cast
        # as its typing says
        lsig = context.typing_context.resolve_function_type(lib, sig.args, {})
        cargs = [context.cast(builder, v, t, lt) for v, t, lt in zip(args, sig.args, lsig.args)]
        res = context.get_function(lib, lsig)(builder, cargs)
        return context.cast(builder, res, lsig.return_type, sig.return_type)


_register(exp, math.exp, _exp_f64)
_register(tanh, math.tanh, _tanh_f64)
_register(sigmoid, types.Dispatcher(scalar.sigmoid), _sigmoid_f64)
