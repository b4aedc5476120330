"""Complex linear algebra (issue 13): eigh, svd, qr, cholesky, slogdet, pinv, lstsq, expm, the
triangular solves and the products at complex values. The op-info sweep (test_opinfo_complex.py)
checks every row on its own samples against central differences; here: functions of the
decompositions that are well defined (gauge-invariant: they do not depend on the phases of
eigen- and singular vectors) against central differences of real and imaginary parts, in both
modes and to second order, and against JAX (`jax.grad` of a real loss, `jax.jvp`, `jax.vjp`;
skipped only when JAX is absent); the clear error for a function of the phases; values and
dtypes against NumPy / SciPy."""
import types

import numpy as np
import pytest

import adjit as ad
from adjit.scipy import linalg as adsl
from adjit.testing.complexcheck import complex_gradcheck

RNG = np.random.default_rng(13)


def cplx(*shape, scale=1.0):
    return RNG.uniform(-1, 1, shape) + 1j * scale * RNG.uniform(-1, 1, shape)


A3 = cplx(3, 3) + 3.0 * np.eye(3)          # well conditioned
B3 = cplx(3, 3)
A43 = cplx(4, 3)
A34 = cplx(3, 4)
V3 = cplx(3)
W3 = cplx(3, 3)                            # output weights (complex: both parts of the output)


def herm(m, a):
    return 0.5 * (a + m.conj(m.swapaxes(a, -1, -2)))


def hpd(m, a):
    """A Hermitian positive definite matrix from a."""
    return m.matmul(a, m.conj(m.swapaxes(a, -1, -2))) + 3.0 * m.eye(a.shape[-1])


# -- programs, written once for a namespace m (adjit or JAX), each gauge-invariant ------------

def eigh_func(m, a):
    w, v = m.eigh(herm(m, a))
    # V diag(e^{iw}) V^H (a matrix function of the Hermitian part) plus the eigenvalues
    f = m.matmul(v * m.exp(1j * w)[None, :], m.conj(m.swapaxes(v, -1, -2)))
    return f + m.sum(w * w)


def eigh_abs(m, a):
    w, v = m.eigh(herm(m, a))
    return m.abs(v) ** 2 * w[None, :]


def svd_polar(m, a):
    u, s, vh = m.svd(a)
    return m.matmul(u, vh) + m.sum(s)       # U Vh: the relative phase of u_j and v_j matters


def svd_weighted(m, a):
    u, s, vh = m.svd(a)
    return m.matmul(u * m.sqrt(s)[None, :], vh)


def qr_func(m, a):
    q, r = m.qr(a)
    return m.matmul(q, m.exp(0.3 * r))


def chol_func(m, a):
    return m.cholesky(hpd(m, a))


def slogdet_func(m, a):
    sign, logabs = m.slogdet(a)
    return sign * m.exp(0.1j * logabs) + logabs


PROGRAMS = [
    ("eigh", eigh_func, A3), ("eigh_abs", eigh_abs, B3), ("svd_square", svd_polar, B3),
    ("svd_tall", svd_polar, A43), ("svd_wide", svd_polar, A34),
    ("svd_weighted", svd_weighted, A43), ("qr", qr_func, A43), ("qr_square", qr_func, B3),
    ("cholesky", chol_func, B3), ("slogdet", slogdet_func, B3),
    ("det", lambda m, a: m.det(a), B3), ("logdet", lambda m, a: m.logdet(a), B3),
    ("norm_row", lambda m, a: m.norm(a, axis=1) * a[0], B3), ("inv", lambda m, a: m.inv(a), A3),
    ("pinv_tall", lambda m, a: m.pinv(a), A43), ("pinv_wide", lambda m, a: m.pinv(a), A34),
    ("lstsq_tall", lambda m, a: m.lstsq(a, (0.3 + 0.1j) * np.ones((4, 2)) + 0.5 * a[:, :2]),
     A43),
    ("lstsq_wide", lambda m, a: m.lstsq(a, V3 + 0.5 * a[:, 0]), A34),
    ("expm", lambda m, a: m.expm(0.5 * a), B3),
    ("matrix_power", lambda m, a: m.matrix_power(a, 3), B3),
    ("norm2", lambda m, a: m.norm(a, 2) * a, A43),
    ("nuc", lambda m, a: m.norm(a, "nuc") + m.sum(a), A34),
    ("cond", lambda m, a: m.cond(a) + m.sum(a), A3),
    ("eigvalsh", lambda m, a: m.eigvalsh(herm(m, a)), B3),
    ("svdvals", lambda m, a: m.svdvals(a), A43),
    ("einsum", lambda m, a: m.einsum("ij,jk->ik", a, m.conj(a)), B3),
    ("kron", lambda m, a: m.kron(a, a[:2, :2]), B3),
    ("tensordot", lambda m, a: m.tensordot(a, a * a, axes=([0], [1])), B3),
    ("trace", lambda m, a: m.trace(m.matmul(a, a)) * a, B3),
    ("prod", lambda m, a: m.prod(a, axis=0), B3),
    ("cumprod", lambda m, a: m.cumprod(a, axis=1), B3),
    ("solve_triangular", lambda m, a: m.solve_triangular(A3, a, trans=2), B3),
    ("solve_triangular_a", lambda m, a: m.solve_triangular(a, V3, lower=True), A3),
    ("cho_solve", lambda m, a: m.cho_solve((m.cholesky(hpd(m, a)), True), V3), B3),
    ("lu_solve", lambda m, a: m.lu_solve(m.lu_factor(a), V3), A3),
    ("lu_solve_trans", lambda m, a: m.lu_solve(m.lu_factor(a), V3, trans=2), A3),
]
IDS = [p[0] for p in PROGRAMS]


def _adjit_ns():
    la = ad.linalg
    return types.SimpleNamespace(
        conj=ad.conj, swapaxes=ad.swapaxes, matmul=ad.matmul, eye=np.eye, exp=ad.exp,
        sqrt=ad.sqrt, sum=ad.sum, abs=ad.abs, prod=ad.prod, cumprod=ad.cumprod,
        einsum=ad.einsum, kron=ad.kron, tensordot=ad.tensordot, trace=ad.trace,
        eigh=la.eigh, eigvalsh=la.eigvalsh, svd=lambda a: la.svd(a, full_matrices=False),
        svdvals=la.svdvals, qr=la.qr, cholesky=la.cholesky, slogdet=la.slogdet, det=la.det,
        inv=la.inv, logdet=la.logdet, pinv=la.pinv, lstsq=lambda a, b: la.lstsq(a, b)[0],
        expm=adsl.expm,
        matrix_power=la.matrix_power, norm=la.norm, cond=la.cond,
        solve_triangular=adsl.solve_triangular,
        cho_solve=lambda c, b: adsl.cho_solve(c, b), lu_factor=adsl.lu_factor,
        lu_solve=adsl.lu_solve)


AD = _adjit_ns()


def _jax_ns(jax):
    jnp, jla, jsl = jax.numpy, jax.numpy.linalg, jax.scipy.linalg
    return types.SimpleNamespace(
        conj=jnp.conj, swapaxes=jnp.swapaxes, matmul=jnp.matmul, eye=jnp.eye, exp=jnp.exp,
        sqrt=jnp.sqrt, sum=jnp.sum, abs=jnp.abs, prod=jnp.prod, cumprod=jnp.cumprod,
        einsum=jnp.einsum, kron=jnp.kron, tensordot=jnp.tensordot, trace=jnp.trace,
        eigh=jla.eigh, eigvalsh=jla.eigvalsh, svd=lambda a: jla.svd(a, full_matrices=False),
        svdvals=jla.svdvals, qr=jla.qr, cholesky=jla.cholesky, slogdet=jla.slogdet,
        det=jla.det, logdet=lambda a: jnp.log(jla.det(a)), inv=jla.inv, pinv=jla.pinv,
        lstsq=lambda a, b: jla.lstsq(a, b)[0],
        expm=jsl.expm, matrix_power=jla.matrix_power, norm=jla.norm, cond=jla.cond,
        solve_triangular=jsl.solve_triangular, cho_solve=jsl.cho_solve,
        lu_factor=jsl.lu_factor, lu_solve=jsl.lu_solve)


def _loss(m, f, a):
    y = f(m, a)
    w = np.cos(1.3 * np.arange(int(np.prod(y.shape))) + 0.4).reshape(y.shape) * (0.6 - 0.8j)
    return m.sum(y * w).real if m is not AD else ad.real(ad.sum(y * w))


@pytest.mark.parametrize("name, f, a", PROGRAMS, ids=IDS)
def test_against_finite_differences(name, f, a):
    assert complex_gradcheck(lambda x: f(AD, x), (a,), eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("name, f, a", [p for p in PROGRAMS if p[0] in (
    "eigh", "eigh_abs", "svd_square", "svd_tall", "svd_wide", "qr", "cholesky", "slogdet",
    "pinv_tall", "expm", "cho_solve", "lu_solve")], ids=lambda v: v if isinstance(v, str) else "")
def test_second_order_against_finite_differences(name, f, a):
    def g(x):
        return ad.grad(lambda v: _loss(AD, f, v))(x)
    assert complex_gradcheck(g, (a,), eps=1e-5, atol=1e-4, rtol=1e-3)


@pytest.fixture(scope="module")
def jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


@pytest.mark.parametrize("name, f, a", PROGRAMS, ids=IDS)
def test_against_jax(jax, name, f, a):
    J = _jax_ns(jax)
    ya = np.asarray(f(AD, ad.tensor(a)).numpy())
    yj = np.asarray(f(J, jax.numpy.asarray(a)))
    np.testing.assert_allclose(ya, yj, rtol=1e-9, atol=1e-10)
    ga = ad.grad(lambda v: _loss(AD, f, v))(a)
    gj = np.asarray(jax.grad(lambda v: _loss(J, f, v))(a))
    np.testing.assert_allclose(ga, gj, rtol=1e-8, atol=1e-9)
    t = cplx(*a.shape)
    _, ta = ad.jvp(lambda v: f(AD, v), (a,), (t,))
    _, tj = jax.jvp(lambda v: f(J, v), (a,), (t,))
    np.testing.assert_allclose(np.asarray(ta), np.asarray(tj), rtol=1e-8, atol=1e-9)
    c = cplx(*ya.shape) if ya.dtype.kind == "c" else RNG.uniform(-1, 1, ya.shape)
    (va,) = ad.vjp(lambda v: f(AD, v), a)[1](c)
    (vj,) = jax.vjp(lambda v: f(J, v), a)[1](c)
    np.testing.assert_allclose(np.asarray(va), np.asarray(vj), rtol=1e-8, atol=1e-9)


# -- functions of the phases: no derivative ----------------------------------------------------

@pytest.mark.parametrize("f", [
    lambda a: ad.sum(ad.real(ad.linalg.eigh(herm(AD, a))[1])),
    lambda a: ad.sum(ad.imag(ad.linalg.svd(a, full_matrices=False)[0])),
    lambda a: ad.sum(ad.real(ad.linalg.svd(a, full_matrices=False)[2])),
])
def test_functions_of_the_phases_raise_in_reverse_mode(f):
    with pytest.raises(ValueError, match="phases"):
        ad.grad(f)(B3)


def test_gauge_invariant_reverse_mode_does_not_raise():
    # |V|^2 and U @ Vh do not depend on the phases: no error, and the finite differences agree
    ad.grad(lambda a: _loss(AD, eigh_abs, a))(B3)
    ad.grad(lambda a: _loss(AD, svd_polar, a))(A43)


# -- values and dtypes -------------------------------------------------------------------------

def test_values_and_dtypes_are_numpys():
    t = ad.tensor(herm(np, B3))
    w, v = ad.linalg.eigh(t)
    wn, vn = np.linalg.eigh(herm(np, B3))
    assert w.dtype == np.float64 and v.dtype == np.complex128
    np.testing.assert_allclose(w.numpy(), wn, rtol=1e-12)
    np.testing.assert_allclose(np.abs(v.numpy()), np.abs(vn), rtol=1e-10, atol=1e-12)
    u, s, vh = ad.linalg.svd(ad.tensor(A43), full_matrices=False)
    assert s.dtype == np.float64
    np.testing.assert_allclose(s.numpy(), np.linalg.svd(A43, compute_uv=False), rtol=1e-12)
    assert ad.linalg.svdvals(ad.tensor(A43)).dtype == np.float64
    sign, logabs = ad.linalg.slogdet(ad.tensor(B3))
    sn, ln = np.linalg.slogdet(B3)
    assert logabs.dtype == np.float64
    np.testing.assert_allclose(sign.numpy(), sn, rtol=1e-12)
    np.testing.assert_allclose(logabs.numpy(), ln, rtol=1e-12)
    x, res, rank, sv = ad.linalg.lstsq(ad.tensor(A43), ad.tensor(np.r_[V3, 1j]))
    xn, rn, kn, svn = np.linalg.lstsq(A43, np.r_[V3, 1j])
    assert res.dtype == np.float64 and rank == kn
    np.testing.assert_allclose(x.numpy(), xn, rtol=1e-10)
    np.testing.assert_allclose(res.numpy(), rn, rtol=1e-10)
    np.testing.assert_allclose(ad.linalg.pinv(ad.tensor(A34)).numpy(), np.linalg.pinv(A34),
                               rtol=1e-10, atol=1e-12)
    for o in (2, -2, "nuc"):
        assert ad.linalg.norm(ad.tensor(A43), o).item() == pytest.approx(
            np.linalg.norm(A43, o), rel=1e-12)


def test_eigh_upper_triangle_of_complex():
    a = herm(np, B3) + np.tril(cplx(3, 3), -1)   # the upper triangle is the Hermitian one's
    w, _ = ad.linalg.eigh(ad.tensor(a), UPLO="U")
    np.testing.assert_allclose(w.numpy(), np.linalg.eigh(a, UPLO="U")[0], rtol=1e-12)


def test_scipy_solves_of_complex_values_are_scipys():
    sl = pytest.importorskip("scipy.linalg")
    a = np.triu(A3)
    for trans in (0, 1, 2):
        np.testing.assert_allclose(
            adsl.solve_triangular(ad.tensor(a), ad.tensor(V3), trans=trans).numpy(),
            sl.solve_triangular(a, V3, trans=trans), rtol=1e-12)
    h = hpd(np, B3)
    for lower in (False, True):
        c, low = adsl.cho_factor(ad.tensor(h), lower=lower)
        cs, _ = sl.cho_factor(h, lower=lower)
        tri = np.tril if lower else np.triu
        np.testing.assert_allclose(tri(c.numpy()), tri(cs), rtol=1e-12)
        np.testing.assert_allclose(adsl.cho_solve((c, low), ad.tensor(V3)).numpy(),
                                   sl.cho_solve((cs, lower), V3), rtol=1e-12)
    lu, piv = adsl.lu_factor(ad.tensor(B3))
    lus, pivs = sl.lu_factor(B3)
    np.testing.assert_array_equal(piv, pivs)
    np.testing.assert_allclose(lu.numpy(), lus, rtol=1e-12)
    for trans in (0, 1, 2):
        np.testing.assert_allclose(adsl.lu_solve((lu, piv), ad.tensor(V3), trans=trans).numpy(),
                                   sl.lu_solve((lus, pivs), V3, trans=trans), rtol=1e-12)
    np.testing.assert_allclose(adsl.expm(ad.tensor(B3)).numpy(), sl.expm(B3), rtol=1e-12)


# -- elementwise rows whose real partials do not hold at complex values ------------------------

ELEMENTWISE = [("arccosh", lambda m, z: m.arccosh(z * z + 1.5)), ("sinc", lambda m, z: m.sinc(z)),
               ("float_power", lambda m, z: m.float_power(z + 2.0, 0.5 + z)),
               # lexicographic: the real parts decide (a tie in them is a kink)
               ("maximum", lambda m, z: m.maximum(z, np.array([0.1 + 2j, -1.0 + 0.2j, 1.0]))),
               ("minimum", lambda m, z: m.minimum(z * z, np.array([0.5j, -1.2 + 9j, 0.0]))),
               ("fmax", lambda m, z: m.fmax(z, np.array([0.2 - 1j, -2.0, np.nan])))]


# fmax's NaN operand: NumPy warns comparing complex NaNs
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("name, f", ELEMENTWISE, ids=[e[0] for e in ELEMENTWISE])
def test_elementwise_against_finite_differences_and_jax(name, f):
    z = np.array([0.3 + 0.4j, -1.2 + 0.7j, 0.8 - 1.1j])
    assert complex_gradcheck(lambda v: f(ad, v), (z,))
    assert complex_gradcheck(lambda v: ad.grad(lambda u: ad.real(ad.sum(f(ad, u) * W3[0])))(v),
                             (z,), eps=1e-5, atol=1e-4)
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    np.testing.assert_allclose(f(ad, ad.tensor(z)).numpy(), np.asarray(f(jnp, z)), rtol=1e-12)
    ga = ad.grad(lambda u: ad.real(ad.sum(f(ad, u) * W3[0])))(z)
    gj = jax.grad(lambda u: jnp.sum(f(jnp, u) * W3[0]).real)(z)
    np.testing.assert_allclose(ga, np.asarray(gj), rtol=1e-10)


def test_sinc_derivatives_at_zero():
    d = ad.grad(ad.sinc, holomorphic=True)
    assert d(0j) == 0
    assert ad.grad(d, holomorphic=True)(0j) == pytest.approx(-np.pi ** 2 / 3, rel=1e-12)


def test_logsumexp_softmax_of_complex_values_are_scipys_and_differentiate():
    sc = pytest.importorskip("scipy.special")
    from adjit.scipy import special as adss
    x = np.array([[0.3 + 5.0j, 1.1 - 4.9j, -0.2 + 0.1j], [0.3 + 5.0j, 0.1 + 4.9j, -0.2 + 5.1j]])
    for name in ("logsumexp", "softmax", "log_softmax"):
        want = getattr(sc, name)(x, axis=-1)
        got = getattr(adss, name)(ad.tensor(x), axis=-1).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, err_msg=name)
        assert complex_gradcheck(lambda v: getattr(adss, name)(v, axis=-1), (x,))


def test_jacobians_and_vmap_against_jax(jax):
    jnp = jax.numpy
    a = B3
    np.testing.assert_allclose(ad.jacrev(lambda v: ad.linalg.eigvalsh(herm(AD, v)))(a),
                               np.asarray(jax.jacrev(lambda v: jnp.linalg.eigvalsh(
                                   herm(jnp, v)))(a)), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ad.jacrev(ad.linalg.svdvals)(a),
                               np.asarray(jax.jacrev(jnp.linalg.svdvals)(a)), rtol=1e-10,
                               atol=1e-12)
    for adj, jj in ((ad.jacfwd, jax.jacfwd), (ad.jacrev, jax.jacrev)):
        np.testing.assert_allclose(adj(adsl.expm, holomorphic=True)(a),
                                   np.asarray(jj(jax.scipy.linalg.expm, holomorphic=True)(a)),
                                   rtol=1e-10, atol=1e-12)
    stack = np.stack([cplx(3, 3) for _ in range(4)])
    w = np.arange(9.0).reshape(3, 3)

    def loss(m, v):
        u, s, vh = m.svd(v)
        return m.sum(m.abs(m.matmul(u, vh)) ** 2 * w) + m.sum(m.eigvalsh(herm(m, v)) ** 3)
    np.testing.assert_allclose(ad.vmap(ad.grad(lambda v: loss(AD, v)))(stack),
                               np.asarray(jax.vmap(jax.grad(lambda v: loss(_jax_ns(jax), v)))(
                                   stack)), rtol=1e-9, atol=1e-11)


def test_maximum_of_complex_orders_lexicographically_as_numpy_and_jax():
    z, w = np.array([1 + 2j, 1 + 1j]), np.array([1 + 1j, 1 + 3j])
    np.testing.assert_array_equal(ad.maximum(ad.tensor(z), w).numpy(), np.maximum(z, w))
    g = ad.grad(lambda v: ad.real(ad.sum(ad.maximum(v, w) * np.array([2.0, 3.0]))))(z)
    np.testing.assert_array_equal(g, [2.0, 0.0])   # the first entry chosen, the second not
