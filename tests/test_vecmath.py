"""The vectorisable float64 exp, tanh and sigmoid of ad.jit kernels (jit/vecmath.py): accuracy in
ulps over the whole range against a long-double reference, special values exact, other dtypes
as before (libm), the loop vectorised, and the kernels' runtime digest covering the module."""
import importlib
import math
import os
import re

import numpy as np
import pytest
from numba import njit

import adjit as ad

vecmath = importlib.import_module("adjit.jit.vecmath")
cache = importlib.import_module("adjit.jit.cache")
rt = importlib.import_module("adjit.jit.rt")
scalar = importlib.import_module("adjit.kernels.scalar")
vexp, vtanh, vsigmoid = vecmath.exp, vecmath.tanh, vecmath.sigmoid

# x86-64's long double has a 64-bit mantissa: a reference 11 bits better than float64 (elsewhere
# it may be float64 itself: then libm is the reference, which is itself off by up to ~2 ulps)
PRECISE_LD = np.finfo(np.longdouble).nmant >= 63


@njit(error_model="numpy")
def _exp_loop(a, o):
    for i in range(a.size):
        o[i] = vexp(a[i])


@njit(error_model="numpy")
def _tanh_loop(a, o):
    for i in range(a.size):
        o[i] = vtanh(a[i])


@njit(error_model="numpy")
def _sigmoid_loop(a, o):
    for i in range(a.size):
        o[i] = vsigmoid(a[i])


@njit(error_model="numpy")
def _branching_sigmoid_loop(a, o):
    for i in range(a.size):
        o[i] = scalar.sigmoid(a[i])


@njit(error_model="numpy")
def _libm_exp_loop(a, o):
    for i in range(a.size):
        o[i] = math.exp(a[i])


@njit(error_model="numpy")
def _libm_tanh_loop(a, o):
    for i in range(a.size):
        o[i] = math.tanh(a[i])


def run(loop, x):
    o = np.empty_like(x)
    loop(x, o)
    return o


def ulps(got, ref_fn, x):
    """|got - f(x)| in units of the float64 spacing at f(x) (of the subnormal spacing below
    the smallest normal), with f(x) in long double when that is more precise than float64."""
    if PRECISE_LD:
        ref = ref_fn(x.astype(np.longdouble))
    else:
        ref = run(_libm_exp_loop if ref_fn is np.exp else _libm_tanh_loop, x).astype(np.longdouble)
    with np.errstate(over="ignore"):
        sp = np.spacing(np.abs(ref.astype(np.float64))).astype(np.longdouble)
    return np.abs(got.astype(np.longdouble) - ref) / sp


def signs(rng, n):
    return np.where(rng.random(n) < 0.5, -1.0, 1.0)


def exp_sample(n):
    rng = np.random.default_rng(20261129)
    return np.concatenate([
        rng.uniform(-745.1, 709.78, n),                                # the whole range
        signs(rng, n) * 10.0 ** rng.uniform(-20, math.log10(709.7), n),  # log-uniform magnitudes
        rng.uniform(-0.35, 0.35, n // 4),                              # around k = 0
        (rng.integers(-1074, 1024, n // 4) + rng.uniform(-0.5, 0.5, n // 4)) * math.log(2),
        rng.uniform(700.0, 709.782712893384, n // 8),                  # near overflow
        rng.uniform(-745.13, -708.0, n // 8),                          # subnormal results
    ])


def test_exp_within_one_ulp():
    x = exp_sample(400_000)
    assert x.size >= 1_000_000
    got = run(_exp_loop, x)
    assert np.all(np.isfinite(got))
    e = ulps(got, np.exp, x)
    normal = got >= np.finfo(np.float64).tiny
    assert e[normal].max() <= 1.0, (e[normal].max(), x[normal][np.argmax(e[normal])])
    # a subnormal result is rounded twice (to 53 bits, then to the subnormal's): <= 1 ulp of it
    assert np.any(~normal) and e[~normal].max() <= 1.0


def tanh_sample(n):
    rng = np.random.default_rng(42)
    return np.concatenate([
        signs(rng, n // 2) * 10.0 ** rng.uniform(-300, 1.5, n // 2),      # log-uniform, tiny to 30
        signs(rng, n) * 10.0 ** rng.uniform(-8, 1.5, n),
        rng.uniform(-0.7, 0.7, n // 2),                                # the rational's side
        signs(rng, n // 4) * rng.uniform(0.6, 0.65, n // 4),           # the branch point 0.625
        rng.uniform(-5.0, 5.0, n // 2),
        signs(rng, n // 8) * rng.uniform(17.0, 25.0, n // 8),          # where tanh reaches 1
        signs(rng, n // 8) * 10.0 ** rng.uniform(-323, -307, n // 8),  # subnormal arguments
    ])


def test_tanh_within_two_ulps():
    x = tanh_sample(400_000)
    assert x.size >= 1_000_000
    e = ulps(run(_tanh_loop, x), np.tanh, x)
    assert e.max() <= 2.0, (e.max(), x[np.argmax(e)])


def bits_equal(a, b):
    return np.array_equal(np.asarray(a).view(np.int64), np.asarray(b).view(np.int64)) or \
        all((p == q and math.copysign(1, p) == math.copysign(1, q)) or (p != p and q != q)
            for p, q in zip(a, b))


def test_exp_special_values():
    tiny = np.nextafter(0.0, 1.0)
    cases = [(0.0, 1.0), (-0.0, 1.0), (math.inf, math.inf), (-math.inf, 0.0), (1e308, math.inf),
             (-1e308, 0.0), (710.0, math.inf), (709.7827128933841, math.inf),
             (709.782712893384, 1.7976931348622732e308), (-745.1332191019411, tiny),
             (-745.1332191019412, 0.0), (-746.0, 0.0), (tiny, 1.0), (-tiny, 1.0),
             (2.0, math.exp(2.0))]
    x, want = np.array(cases).T
    got = run(_exp_loop, x)
    assert bits_equal(got, want), list(zip(x, got))
    assert np.isnan(run(_exp_loop, np.array([math.nan, -math.nan]))).all()
    # subnormal results: as libm to the ulp
    x = np.linspace(-745.0, -708.5, 2001)
    assert np.max(np.abs(run(_exp_loop, x) - np.exp(x)) / tiny) <= 1.0


def test_tanh_special_values():
    tiny = np.nextafter(0.0, 1.0)
    cases = [(0.0, 0.0), (-0.0, -0.0), (math.inf, 1.0), (-math.inf, -1.0), (1e308, 1.0),
             (-1e308, -1.0), (30.0, 1.0), (-30.0, -1.0), (800.0, 1.0), (tiny, tiny), (-tiny, -tiny),
             (1e-300, 1e-300), (-1e-200, -1e-200)]
    x, want = np.array(cases).T
    got = run(_tanh_loop, x)
    assert bits_equal(got, want), list(zip(x, got))
    assert np.isnan(run(_tanh_loop, np.array([math.nan]))).all()
    # odd, and continuous across the branch point: both sides of 0.625 within 2 ulps
    x = np.linspace(0.62, 0.63, 1001)
    assert bits_equal(run(_tanh_loop, -x), -run(_tanh_loop, x))
    assert ulps(run(_tanh_loop, x), np.tanh, x).max() <= 2.0


def sigmoid_ld(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def test_sigmoid():
    # as accurate as the branching form it replaces (its 1 + e rounds: 2.15 ulps measured)
    rng = np.random.default_rng(7)
    x = np.concatenate([signs(rng, 500_000) * 10.0 ** rng.uniform(-20, 2.87, 500_000),
                        rng.uniform(-40, 40, 500_000)])
    got = run(_sigmoid_loop, x)
    if PRECISE_LD:
        ref = sigmoid_ld(x.astype(np.longdouble))
        tiny = ref >= np.finfo(np.float64).tiny
        e = np.abs(got.astype(np.longdouble) - ref) / np.spacing(ref.astype(np.float64))
        assert e[tiny].max() <= 2.5, e.max()
    old = run(_branching_sigmoid_loop, x)
    assert np.max(np.abs(got - old) / np.spacing(old)) <= 2.0
    x = np.array([0.0, -0.0, math.inf, -math.inf, 40.0, -745.2, -745.0, math.nan])
    got = run(_sigmoid_loop, x)
    assert bits_equal(got, [0.5, 0.5, 1.0, 0.0, 1.0, 0.0, 5e-324, math.nan]), got


def test_other_types_use_libm():
    # float32 (and integers) keep numba's math.exp / math.tanh: the same bits as before
    x32 = np.linspace(-20, 20, 1001, dtype=np.float32)
    assert run(_exp_loop, x32).dtype == np.float32
    assert bits_equal(run(_exp_loop, x32).astype(np.float64),
                      run(_libm_exp_loop, x32).astype(np.float64))
    assert bits_equal(run(_tanh_loop, x32).astype(np.float64),
                      run(_libm_tanh_loop, x32).astype(np.float64))
    assert bits_equal(run(_sigmoid_loop, x32).astype(np.float64),
                      run(_branching_sigmoid_loop, x32).astype(np.float64))

    @njit
    def on_int(n):
        return vexp(n), vtanh(n)
    assert on_int(3) == (math.exp(3), math.tanh(3))
    # from Python they are math's
    assert vexp(1.5) == math.exp(1.5) and vtanh(-0.5) == math.tanh(-0.5)
    assert vsigmoid(-2.0) == scalar.sigmoid(-2.0)


def _has_avx2():
    import llvmlite.binding as llvm
    return "+avx2" in llvm.get_host_cpu_features().flatten().split(",")


@pytest.mark.skipif(not _has_avx2(), reason="checks x86 AVX2 code (the machine this was built on)")
def test_the_loop_vectorises():
    x = np.linspace(-3, 3, 64)
    for loop in (_exp_loop, _tanh_loop, _sigmoid_loop):
        run(loop, x)
        asm = loop.inspect_asm(loop.signatures[0])
        assert re.search(r"vdivpd\s+%[yz]mm", asm) and re.search(r"vmulpd\s+%[yz]mm", asm)
        assert not re.search(r"call\w*\s+\S*(exp|tanh)", asm)


def test_generated_kernels_use_them():
    # a jitted tanh/exp program: the kernel's namespace maps the formulas' names here, and its
    # values agree with eager adjit (NumPy's tanh/exp) to a few ulps
    def f(x):
        return ad.sum(ad.tanh(x) * ad.exp(-0.5 * x) + ad.sigmoid(x))
    assert rt.exp is vexp and rt.tanh is vtanh and rt.sigmoid is vsigmoid
    x = np.linspace(-30, 30, 2001)
    g = ad.jit(ad.grad(f))
    np.testing.assert_allclose(g(x), ad.grad(f)(x), rtol=1e-14, atol=1e-14)   # (terms cancel)
    np.testing.assert_allclose(ad.jit(f)(x), f(x), rtol=1e-14)


def test_runtime_digest_covers_inlined_code():
    # every adjit module whose numba code the kernels' namespace inlines is hashed into the
    # kernels' runtime stamp: changing it (vecmath.py included) compiles kernels again instead of
    # loading stale machine code from numba's cache
    root = os.path.dirname(os.path.dirname(os.path.abspath(cache.__file__)))
    hashed = {os.path.normpath(os.path.join(root, f)) for f in cache._RUNTIME_FILES}
    mods = set()
    for name, v in vars(rt).items():
        m = getattr(getattr(v, "py_func", v), "__module__", None)
        if callable(v) and m and m.startswith("adjit.") and m != "adjit.jit.trace":
            mods.add(m)
    assert "adjit.jit.vecmath" in mods
    for m in mods:
        f = os.path.normpath(importlib.import_module(m).__file__)
        assert f in hashed, f"{m} is not in the kernels' runtime digest"
