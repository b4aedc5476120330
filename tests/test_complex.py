"""Complex numbers (issue 13): JAX's convention in every mode, and adjit's clear error for the
rows without a complex rule (never a real-only rule applied to complex values)."""
import warnings

import numpy as np
import pytest

import adjit as ad

Z = 1.0 + 2.0j
ZS = np.array([1.0 + 2.0j, -0.5 + 0.3j, 0.7 - 1.1j])
A = np.array([[2.0 + 1.0j, 0.5 - 0.2j], [0.3 + 0.4j, 1.5 - 1.0j]])


def _num_grad(f, z, eps=1e-6):
    """JAX's gradient of a real f at complex z by central differences: df/dx - i df/dy."""
    z = np.asarray(z, dtype=complex)
    g = np.zeros_like(z)
    for i in np.ndindex(z.shape):
        e = np.zeros_like(z)
        e[i] = eps
        dx = (f(z + e) - f(z - e)) / (2 * eps)
        dy = (f(z + 1j * e) - f(z - 1j * e)) / (2 * eps)
        g[i] = dx - 1j * dy
    return g


# -- the convention, against known values and finite differences (JAX's numbers, measured) ----

def test_grad_of_abs_squared_is_jax_conjugate_gradient():
    assert ad.grad(lambda z: ad.abs(z) ** 2)(Z) == pytest.approx(2 - 4j)   # JAX: (2-4j)


def test_grad_of_real_of_holomorphic_is_derivative():
    assert ad.grad(lambda z: ad.real(z * z))(Z) == pytest.approx(2 + 4j)   # JAX: (2+4j)


@pytest.mark.parametrize("f, expect", [
    (ad.imag, -1j), (ad.real, 1 + 0j), (ad.abs, (1 - 2j) / np.sqrt(5)),
    (ad.angle, (-0.4 - 0.2j))])
def test_non_holomorphic_rows_match_jax(f, expect):
    assert ad.grad(f)(Z) == pytest.approx(expect)


def test_abs_at_zero_is_zero_as_jax():
    assert ad.grad(ad.abs)(0j) == 0


def test_descent_uses_conjugate_of_grad():
    """With JAX's convention steepest descent on a real loss is z - lr * conj(grad)."""
    target = 0.5 - 1.0j
    loss = lambda z: ad.abs(z - target) ** 2   # noqa: E731
    z = 3.0 + 3.0j
    for _ in range(50):
        z = z - 0.1 * np.conj(ad.grad(loss)(z))
    assert abs(z - target) < 1e-4


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "cos", "tanh", "tan", "sinh",
                                  "cosh", "square", "reciprocal", "expm1", "log1p", "exp2",
                                  "log2", "log10", "negative", "abs", "angle", "real", "imag",
                                  "conj"])
def test_elementwise_grad_vs_finite_differences(name):
    op = getattr(ad, name)
    npf = np.conjugate if name == "conj" else getattr(np, name)

    def f(z):
        return ad.sum(ad.real(op(z) * (0.3 - 0.7j)))

    def fn(z):
        return np.sum(np.real(npf(z) * (0.3 - 0.7j)))
    got = ad.grad(f)(ZS)
    np.testing.assert_allclose(got, _num_grad(fn, ZS), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow"])
def test_binary_grad_vs_finite_differences(name):
    op = getattr(ad, name)
    npf = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
           "pow": np.power}[name]
    b = np.array([0.4 - 0.9j, 1.3 + 0.2j, -0.8 + 0.5j])
    for argnum in (0, 1):
        def f(u, v):
            return ad.sum(ad.abs(op(u, v)) ** 2)

        def fn(w):
            u, v = (w, b) if argnum == 0 else (ZS, w)
            return np.sum(np.abs(npf(u, v)) ** 2)
        got = ad.grad(f, argnums=argnum)(ZS, b)
        np.testing.assert_allclose(got, _num_grad(fn, ZS if argnum == 0 else b), rtol=1e-6,
                                   atol=1e-7)


def test_real_input_meeting_complex_gets_real_cotangent():
    """x real, c complex: d/dx Re(x c) = Re(c) (JAX takes the real part at the real input)."""
    g = ad.grad(lambda x: ad.sum(ad.real(x * (1 + 2j))))(np.array([1.5, 2.0]))
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, [1.0, 1.0])


def test_tensor_backward_on_complex_leaf():
    z = ad.tensor(ZS, requires_grad=True)
    (ad.abs(z) ** 2).sum().backward()
    np.testing.assert_allclose(z.grad.numpy() if hasattr(z.grad, "numpy") else
                               np.asarray(z.grad._data), 2 * np.conj(ZS))


# -- matmul, solve, inv, det: holomorphic; their VJPs give complex cotangents -----------------

@pytest.mark.parametrize("fn, npfn", [
    (lambda a: ad.abs(ad.sum(a @ a)) ** 2, lambda a: np.abs(np.sum(a @ a)) ** 2),
    (lambda a: ad.abs(ad.sum(ad.linalg.inv(a))) ** 2, lambda a: np.abs(np.sum(np.linalg.inv(a))) ** 2),
    (lambda a: ad.abs(ad.linalg.det(a)) ** 2, lambda a: np.abs(np.linalg.det(a)) ** 2),
    (lambda a: ad.sum(ad.abs(ad.linalg.solve(a, np.array([1.0 + 1j, 2.0])))),
     lambda a: np.sum(np.abs(np.linalg.solve(a, np.array([1.0 + 1j, 2.0]))))),
])
def test_linalg_grad_vs_finite_differences(fn, npfn):
    got = ad.grad(fn)(A)
    assert got.dtype == np.complex128
    np.testing.assert_allclose(got, _num_grad(npfn, A), rtol=1e-5, atol=1e-7)


def test_matmul_vjp_gives_complex_cotangent():
    _, pull = ad.vjp(lambda a: a @ a, A)
    (g,) = pull(np.ones((2, 2), dtype=complex))
    assert g.dtype == np.complex128
    np.testing.assert_allclose(g, np.ones((2, 2)) @ A.T + A.T @ np.ones((2, 2)))


# -- grad of complex outputs, jvp tangents, jacobians -----------------------------------------

def test_grad_of_complex_output_raises_unless_holomorphic():
    with pytest.raises(TypeError, match="holomorphic=True"):
        ad.grad(lambda z: z * z)(Z)
    assert ad.grad(lambda z: z * z, holomorphic=True)(Z) == pytest.approx(2 * Z)
    np.testing.assert_allclose(ad.grad(lambda z: ad.sum(ad.sin(z)), holomorphic=True)(ZS),
                               np.cos(ZS))


def test_holomorphic_needs_complex_values():
    with pytest.raises(TypeError, match="complex output"):
        ad.grad(lambda z: ad.abs(z), holomorphic=True)(Z)
    with pytest.raises(TypeError, match="complex inputs"):
        ad.grad(lambda x: x * 1j, holomorphic=True)(1.0)


def test_jvp_keeps_complex_tangent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")    # no ComplexWarning
        y, t = ad.jvp(lambda z: z * z, (Z,), (1j,))
    assert y == pytest.approx(Z * Z) and t == pytest.approx(2 * Z * 1j)
    _, t = ad.jvp(ad.abs, (Z,), (1j,))
    assert t == pytest.approx(np.real(np.conj(Z) * 1j) / abs(Z))


def test_jvp_complex_tangent_for_real_primal_raises():
    with pytest.raises(TypeError, match="complex tangent for a real primal"):
        ad.jvp(lambda x: x * 2.0, (1.0,), (1j,))


def test_jacobians_need_holomorphic_for_complex():
    with pytest.raises(TypeError, match="holomorphic=True"):
        ad.jacfwd(lambda z: z * z)(ZS)
    with pytest.raises(TypeError, match="holomorphic=True"):
        ad.jacrev(lambda z: z * z)(ZS)
    np.testing.assert_allclose(ad.jacfwd(lambda z: z * z, holomorphic=True)(ZS),
                               np.diag(2 * ZS))
    np.testing.assert_allclose(ad.jacrev(lambda z: z * z, holomorphic=True)(ZS),
                               np.diag(2 * ZS))
    # real outputs of complex inputs: jacrev rows are grads (JAX's convention)
    np.testing.assert_allclose(ad.jacrev(lambda z: ad.abs(z))(ZS),
                               np.diag(np.conj(ZS) / np.abs(ZS)))


def test_second_order_holomorphic():
    d2 = ad.grad(ad.grad(lambda z: z ** 3, holomorphic=True), holomorphic=True)(Z)
    assert d2 == pytest.approx(6 * Z)


# -- rows without a complex rule raise, in every mode -----------------------------------------

@pytest.mark.parametrize("f", [lambda z: ad.sign(z), lambda z: ad.softplus(z),
                               lambda z: ad.clip(z, 0, 1)])
def test_rows_without_complex_rule_raise_in_reverse_and_forward(f):
    with pytest.raises(TypeError, match="complex"):
        ad.grad(lambda z: ad.real(ad.sum(f(z))))(ZS)
    with pytest.raises(TypeError, match="complex"):
        ad.jvp(f, (ZS,), (ZS,))
    with pytest.raises(TypeError, match="complex"):
        z = ad.tensor(ZS, requires_grad=True)
        ad.real(ad.sum(f(z))).backward()


def test_rows_without_complex_rule_raise_under_jit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # complex arguments: the eager fallback's warning
        with pytest.raises(TypeError, match="complex"):
            ad.jit(ad.grad(lambda z: ad.real(ad.sum(ad.sign(z)))))(ZS)


def test_custom_op_refuses_complex():
    sq = ad.custom_op("sq_cx_test", lambda x: x * x, lambda g, y, x: (2 * g * x,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")    # the primal computes in complex (no ComplexWarning)
        assert sq(Z) == pytest.approx(Z * Z)
    with pytest.raises(TypeError, match="complex"):
        ad.grad(lambda z: ad.real(sq(z)))(Z)


def test_dual_with_complex_values():
    d = ad.dual(np.array([Z]), np.array([1j]))
    y = ad.exp(d)
    np.testing.assert_allclose(y.tangent, np.exp(Z) * 1j)
    with pytest.raises(TypeError, match="complex tangent for a real primal"):
        ad.dual(np.array([1.0]), np.array([1j]))


def test_tensor_backward_of_complex_scalar_needs_gradient():
    z = ad.tensor(np.array([Z]), requires_grad=True)
    y = ad.sum(z * z)
    with pytest.raises(RuntimeError, match="real scalar outputs"):
        y.backward()
    y.backward(gradient=np.array(1.0 + 0j))
    np.testing.assert_allclose(z.grad.numpy(), [2 * Z])


def test_complex64_stays_complex64():
    z = ZS.astype(np.complex64)
    f = lambda z: ad.sum(ad.abs(ad.exp(z) * ad.conj(z)) ** 2 + ad.angle(z))  # noqa: E731
    assert ad.grad(f)(z).dtype == np.complex64
    assert ad.jvp(lambda z: ad.exp(z) * ad.abs(z), (z,), (z,))[1].dtype == np.complex64
    assert ad.vjp(lambda z: ad.exp(z) * ad.abs(z), z)[1](z)[0].dtype == np.complex64
    x32 = np.array([1.0, 2.0], np.float32)
    assert ad.grad(lambda x: ad.sum(ad.real(x * (1 + 2j))))(x32).dtype == np.float32


def test_vmap_of_grad_at_complex_values():
    zs = np.array([[1 + 2j, 3j], [1, 2 - 1j]])
    np.testing.assert_allclose(ad.vmap(ad.grad(lambda z: ad.sum(ad.abs(z) ** 2)))(zs),
                               2 * np.conj(zs))


# -- jacfwd / jacrev against JAX ------------------------------------------------------------------

def test_jacobians_match_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def holo(m):
        return lambda z: m.exp(0.5 * z) * m.sin(z) + z @ np.array([0.5 - 1j, 2.0, 1j])

    def real_out(m):
        return lambda z: m.abs(m.exp(0.3 * z)) ** 2 + m.real(z * m.conj(z[::-1]))

    for adf, jf in ((ad.jacfwd, jax.jacfwd), (ad.jacrev, jax.jacrev)):
        np.testing.assert_allclose(adf(holo(ad), holomorphic=True)(ZS),
                                   np.asarray(jf(holo(jnp), holomorphic=True)(ZS)),
                                   rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ad.jacrev(real_out(ad))(ZS),
                               np.asarray(jax.jacrev(real_out(jnp))(ZS)), rtol=1e-10,
                               atol=1e-12)
    # real inputs, complex outputs: jacfwd needs no flag (as JAX)
    x = np.array([0.3, -1.2, 0.8])
    f = lambda m: (lambda v: m.exp(1j * v) * v)  # noqa: E731
    np.testing.assert_allclose(ad.jacfwd(f(ad))(x), np.asarray(jax.jacfwd(f(jnp))(x)),
                               rtol=1e-10, atol=1e-12)


# -- composites whose real formula is not NumPy's complex one ---------------------------------

def test_var_std_of_complex_are_numpys_and_differentiate():
    from adjit.testing.complexcheck import complex_gradcheck
    assert ad.var(ZS) == pytest.approx(np.var(ZS))
    assert ad.std(ZS, ddof=1) == pytest.approx(np.std(ZS, ddof=1))
    assert complex_gradcheck(ad.var, (ZS,))
    assert complex_gradcheck(lambda z: ad.std(z, ddof=1), (ZS,))
    np.testing.assert_allclose(ad.grad(ad.std)(np.ones(3) + 1j), 0)   # constant data


@pytest.mark.parametrize("x, ords", [(ZS, (None, 1, 2, np.inf, -np.inf, 3)),
                                     (A, (None, "fro", 1, -1, np.inf))])
def test_norms_of_complex_are_numpys_and_differentiate(x, ords):
    from adjit.testing.complexcheck import complex_gradcheck
    for o in ords:
        assert ad.linalg.norm(x, o) == pytest.approx(np.linalg.norm(x, o)), o
        assert complex_gradcheck(lambda v: ad.linalg.norm(v, o), (x,))


def test_singular_value_norms_of_complex_differentiate():
    from adjit.testing.complexcheck import complex_gradcheck
    for o in (2, -2, "nuc"):
        assert ad.linalg.norm(ad.tensor(A), o).item() == pytest.approx(np.linalg.norm(A, o))
        assert complex_gradcheck(lambda v: ad.linalg.norm(v, o), (A,))


def test_complex_cotangent_for_real_output_raises():
    _, pull = ad.vjp(lambda x: x * 2.0, np.array([1.0]))
    with pytest.raises(TypeError, match="complex cotangent for a real output"):
        pull(np.array([1j]))
    x = ad.tensor(np.array([1.0]), requires_grad=True)
    with pytest.raises(TypeError, match="is complex but output"):
        (x * 2.0).backward(gradient=np.array([1j]))


def test_astype_real_to_complex_differentiates():
    from adjit.testing.complexcheck import complex_gradcheck
    x = np.array([1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")    # no ComplexWarning in the cast's VJP
        assert complex_gradcheck(lambda v: ad.astype(v, np.complex128) * (1 + 2j), (x,))
        np.testing.assert_allclose(
            ad.grad(lambda v: ad.sum(ad.abs(ad.astype(v, np.complex128) * (1 + 2j)) ** 2))(x),
            10 * x)


def test_vdot_vecdot_vecmat_conjugate_the_first_argument_as_numpy():
    b = ZS[::-1] * (0.5 - 1j)
    t = ad.tensor(ZS)
    assert ad.vdot(t, b).numpy() == pytest.approx(np.vdot(ZS, b))
    assert np.vdot(t, b).numpy() == pytest.approx(np.vdot(ZS, b))
    assert ad.vecdot(t, b).numpy() == pytest.approx(np.linalg.vecdot(ZS, b))
    if hasattr(np, "vecmat"):
        np.testing.assert_allclose(ad.vecmat(t, np.outer(b, b)).numpy(),
                                   np.vecmat(ZS, np.outer(b, b)))
    # and the derivative of Re(vdot(z, b)) = Re(sum(conj(z) b)) is JAX's: conj(b)
    np.testing.assert_allclose(ad.grad(lambda z: ad.real(ad.vdot(z, b)))(ZS), np.conj(b))
