"""ad.jit at complex values (issue 13): complex64 / complex128 arguments, constants and results
compile (jit/complexlower.py), elementwise rows agree with NumPy at branch cuts, signed zeros
and overflow (jit/cxscalar.py where numba's own functions do not), and a row without a
complex lowering falls back to eager with a warning naming it, never a wrong number."""
import warnings

import numpy as np
import pytest

import adjit as ad

Z = np.array([0.3 + 0.4j, -1.2 + 0.1j, 0.7 - 0.9j])
# branch cuts (negative real axis with both signed zeros, the imaginary axis), zeros, small,
# large and overflowing values
EDGE = np.array([complex(a, b) for a in (-2.0, -0.5, -0.0, 0.0, 1e-9, 0.5, 3.0, 30.0, -30.0,
                                         800.0)
                 for b in (-0.0, 0.0, 1e-9, -1.5, 2.0, -40.0)])


def compiled(f):
    """ad.jit(f), failing the test if it falls back to eager."""
    jf = ad.jit(f)

    def run(*a):
        with warnings.catch_warnings(), np.errstate(all="ignore"):   # NumPy's own: tracing
            warnings.simplefilter("error", RuntimeWarning)
            return jf(*a)
    return run


def same(got, want):
    """Equal to eager: values to an ulp or two, NaN where NaN, the sign of every zero."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    for g, w in ((got.real, want.real), (got.imag, want.imag)) if got.dtype.kind == "c" \
            else ((got, want),):
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
        np.testing.assert_array_equal(np.isinf(g), np.isinf(w))
        zero = w == 0
        np.testing.assert_array_equal(np.signbit(g[zero]), np.signbit(w[zero]))
        fin = np.isfinite(w)
        # (atol: NumPy's square fuses r * r - i * i (FMA) where the result cancels to ~0, and
        # sigmoid's 1 + tanh cancels near 0)
        np.testing.assert_allclose(g[fin], w[fin], rtol=1e-14, atol=1e-15)


UNARY = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "sin", "cos", "tan",
         "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "arcsinh", "arctanh", "abs",
         "square", "reciprocal", "negative", "conj", "real", "imag", "angle", "sigmoid"]


def test_elementwise_rows_at_branch_cuts_and_overflow():
    # one kernel for all the rows (a compile each would cost the CI a minute)
    def f(z):
        return tuple(getattr(ad, name)(z) for name in UNARY)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = f(EDGE)
    got = compiled(f)(EDGE)
    for name, g, w in zip(UNARY, got, want):
        try:
            same(g, w)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from None


def test_expm1_keeps_its_precision_near_zero():
    z = np.array([1e-12 + 1e-12j, -3e-9 + 2e-10j, 1e-300 + 0j])
    got, want = compiled(ad.expm1)(z), np.expm1(z)
    np.testing.assert_allclose(got, want, rtol=1e-15)   # numba's np.expm1 is exp(z) - 1


def test_division_and_powers_as_numpy():
    # numba's complex division raises at 0 and differs by an ulp; its ** skips NumPy's exact
    # integer powers; an int exponent is a literal of the kernel (numba's .imag of an int
    # literal is the int itself: the kernel gave (0.6 z) ** 2 wrong before)
    def f(z, w):
        return (z / w, 1 / z, z / 2.0, (0.6 * z) ** 2, z ** -5, z ** 3.0, z ** 0.5, z ** w,
                2.0 ** z)
    w = np.array([0.0 + 0.0j, 2.0 - 1.0j, 0.0 - 3.0j])
    with np.errstate(all="ignore"):
        want = f(Z, w)
        got = compiled(f)(Z, w)
    for g, e in zip(got, want):
        same(g, e)


def test_transforms_of_complex_functions_compile():
    def loss(z):
        return ad.sum(ad.abs(ad.exp(z) * ad.sin(z) / (z + 2.0)) ** 2) + \
            ad.real(ad.sum(ad.sqrt(z) * ad.log(z)))

    def holo(z):
        return ad.sum(ad.exp(z) * ad.tanh(z) / (z - 3j))
    fns = [loss, ad.grad(loss), ad.grad(holo, holomorphic=True),
           lambda z: ad.jvp(lambda v: ad.exp(v) * ad.conj(v), (z,), (z * 0.5,)),
           lambda z: ad.vjp(lambda v: ad.exp(v) * ad.conj(v), z)[1](z * (1 - 1j)),
           ad.jacfwd(lambda z: ad.sin(z) * z, holomorphic=True),
           ad.jacrev(lambda z: ad.sin(z) * z, holomorphic=True)]
    for f in fns:
        got, want = compiled(f)(Z), f(Z)
        for g, e in zip(np.atleast_1d(got) if not isinstance(got, tuple) else got,
                        np.atleast_1d(want) if not isinstance(want, tuple) else want):
            assert np.asarray(g).dtype == np.asarray(e).dtype
            np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-15)


def test_linear_algebra_at_complex_values():
    def f(z):
        a = np.eye(3) * 3 + ad.outer(z, ad.conj(z))
        return ad.real(ad.sum(ad.solve(a, z) @ ad.inv(a + 1j))) + ad.abs(ad.det(a)) + \
            ad.real(ad.sum(ad.cumsum(z) * ad.mean(z)))
    g = ad.grad(f)
    np.testing.assert_allclose(compiled(f)(Z), f(Z), rtol=1e-13)
    np.testing.assert_allclose(compiled(g)(Z), g(Z), rtol=1e-12, atol=1e-14)


def test_complex64_stays_complex64():
    z = Z.astype(np.complex64)

    def f(z):
        return ad.real(ad.sum(ad.exp(z) * ad.conj(z)))
    for fn in (f, ad.grad(f), lambda z: ad.sum(z * z)):
        got, want = compiled(fn)(z), fn(z)
        assert np.asarray(got).dtype == np.asarray(want).dtype
        assert np.asarray(got).dtype in (np.float32, np.complex64)
        np.testing.assert_allclose(got, want, rtol=1e-6)
    assert type(compiled(lambda z: ad.sum(z * z))(z)) is np.complex64   # a 0-d result


def test_complex_constants_and_real_inputs_meeting_complex_values():
    c = np.array([1 + 2j, -0.5j, 3.0 + 0j])
    x = np.array([0.5, -1.0, 2.0])

    def f(x):
        return ad.sum(ad.abs(x * c + 1j) ** 2) + ad.real(ad.sum(x * (2 - 1j)))
    g = ad.grad(f)   # a real input's cotangent is the real part (JAX)
    np.testing.assert_allclose(compiled(f)(x), f(x), rtol=1e-14)
    got = compiled(g)(x)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, g(x), rtol=1e-14)


def test_row_without_complex_lowering_falls_back_naming_it():
    # numba's arccosh flips NumPy's branch on the negative real axis, and max's compiled
    # comparison has no complex order: the compiler refuses both by name and the eager values
    # are returned
    z = np.array([-2.0 - 0.0j, 0.5 + 1j])
    f = ad.jit(ad.arccosh)
    with pytest.warns(RuntimeWarning, match="op arccosh at complex values is not compiled"):
        got = f(z)
    np.testing.assert_array_equal(got, np.arccosh(z))
    g = ad.jit(lambda z: ad.max(z))
    with pytest.warns(RuntimeWarning, match="op max at complex values is not compiled"):
        assert g(Z) == np.max(Z)


def test_kernels_calling_the_helpers_carry_their_digest():
    # numba caches a kernel with the cx_* helpers it inlined, keyed on the kernel's source: the
    # digest of cxscalar.py in that source makes a changed helper a new kernel (a stale cached
    # pow gave wrong numbers)
    from adjit.jit import complexlower
    f = ad.jit(lambda z: (0.6 * z) ** 2)
    np.testing.assert_allclose(f(Z), (0.6 * Z) ** 2, rtol=1e-15)
    (spec,) = [s for specs in f._jit.cache.values() for s in specs]
    with open(spec.path) as fh:
        assert complexlower.HELPERS_DIGEST in fh.read()


def test_complex_scalars_are_kernel_inputs():
    # as floats: a new value runs the same kernel (no retrace), a complex64 its own kernel
    def f(z):
        return ad.exp(z) * ad.sin(z)
    g = compiled(ad.grad(f, holomorphic=True))
    for z in (1 + 2j, 0.5 - 1j, 2 + 0j):
        np.testing.assert_allclose(g(z), ad.grad(f, holomorphic=True)(z), rtol=1e-15)
    r = g(np.complex64(0.3 + 0.1j))
    assert type(r) is np.complex64
    h = ad.jit(lambda x, c: ad.sum(x * c))
    assert h(np.ones(3), 1 + 2j) == 3 + 6j and h(np.ones(3), 3 - 1j) == 9 - 3j
    assert h._jit.n_traces == 1
