"""Issue 4: JAX-style transforms (grad, value_and_grad, vjp, jvp, jacfwd, jacrev, jacobian,
hessian, hvp), checked against analytic results and scipy, plus the mode selector."""
import math

import numpy as np
import pytest
from scipy.optimize import minimize, rosen, rosen_der, rosen_hess

import adjit as ad


def rosenbrock(x):
    return ad.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


X5 = np.array([-1.2, 1.0, 0.3, -0.5, 2.0])


# -- grad / value_and_grad ----------------------------------------------------------------------

def test_grad_rosenbrock_matches_scipy():
    g = ad.grad(rosenbrock)(X5)
    assert isinstance(g, np.ndarray) and g.shape == (5,)
    np.testing.assert_allclose(g, rosen_der(X5), rtol=1e-13)
    v, g2 = ad.value_and_grad(rosenbrock)(X5)
    assert float(v) == pytest.approx(rosen(X5), rel=1e-14)
    np.testing.assert_array_equal(g, g2)


def test_grad_of_python_float_returns_float_like():
    g = ad.grad(lambda x: x * ad.sin(x))(0.5)
    assert np.ndim(g) == 0
    assert float(g) == pytest.approx(math.sin(0.5) + 0.5 * math.cos(0.5), rel=1e-14)


def test_grad_argnums_int_and_tuple():
    def f(x, y, z):
        return ad.sum(x * y) + ad.sum(ad.exp(y)) * z

    x, y, z = np.array([1.0, 2.0]), np.array([0.5, -1.0]), 3.0
    gx = ad.grad(f)(x, y, z)
    np.testing.assert_allclose(gx, y)
    gy = ad.grad(f, argnums=1)(x, y, z)
    np.testing.assert_allclose(gy, x + np.exp(y) * z, rtol=1e-14)
    gz = ad.grad(f, argnums=-1)(x, y, z)
    assert float(gz) == pytest.approx(np.exp(y).sum(), rel=1e-14)
    gs = ad.grad(f, argnums=(0, 2))(x, y, z)
    assert isinstance(gs, tuple) and len(gs) == 2
    np.testing.assert_allclose(gs[0], y)
    assert float(gs[1]) == pytest.approx(np.exp(y).sum(), rel=1e-14)
    v, (g0, g1) = ad.value_and_grad(f, argnums=(0, 1))(x, y, z)
    assert float(v) == pytest.approx(x @ y + np.exp(y).sum() * z, rel=1e-14)
    np.testing.assert_allclose(g1, gy)


def test_grad_non_scalar_output_error_names_the_shape():
    with pytest.raises(TypeError, match=r"scalar.*\(3,\)"):
        ad.grad(lambda x: x * 2.0)(np.ones(3))
    with pytest.raises(TypeError, match=r"\(2, 2\)"):
        ad.value_and_grad(lambda x: ad.outer(x, x))(np.ones(2))
    # a one-element array is a scalar
    g = ad.grad(lambda x: ad.reshape(ad.sum(x * x), (1, 1)))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(g, [2.0, 4.0])


def test_grad_argnums_out_of_range():
    with pytest.raises(ValueError, match="argnums"):
        ad.grad(lambda x: ad.sum(x), argnums=2)(np.ones(2))


def test_grad_unused_argument_is_zero_and_constant_function():
    g = ad.grad(lambda x, y: ad.sum(x), argnums=(0, 1))(np.ones(2), np.ones(3))
    np.testing.assert_array_equal(g[1], np.zeros(3))
    np.testing.assert_array_equal(ad.grad(lambda x: 3.0)(np.ones(2)), np.zeros(2))


def test_grad_pytrees_dict_tuple_list():
    def loss(params, data):
        W, b = params["W"], params["b"]
        x, y = data
        pred = ad.tanh(W @ x + b[0]) * b[1]
        return ad.sum((pred - y) ** 2)

    r = np.random.default_rng(0)
    params = {"W": r.standard_normal((3, 4)), "b": [r.standard_normal(3), 1.5]}
    data = (r.standard_normal(4), r.standard_normal(3))
    g = ad.grad(loss)(params, data)
    assert set(g) == {"W", "b"} and isinstance(g["b"], list) and len(g["b"]) == 2
    W, (b0, b1) = params["W"], params["b"]
    x, y = data
    t = np.tanh(W @ x + b0)
    e = 2 * (t * b1 - y)
    gb0 = e * b1 * (1 - t ** 2)
    np.testing.assert_allclose(g["W"], np.outer(gb0, x), rtol=1e-12)
    np.testing.assert_allclose(g["b"][0], gb0, rtol=1e-12)
    assert float(g["b"][1]) == pytest.approx(float(e @ t), rel=1e-12)
    # gradient w.r.t. the tuple argument too
    gp, gd = ad.grad(loss, argnums=(0, 1))(params, data)
    assert isinstance(gd, tuple) and len(gd) == 2
    np.testing.assert_allclose(gd[0], W.T @ gb0, rtol=1e-12)
    np.testing.assert_allclose(gd[1], -e, rtol=1e-12)


# -- vjp / jvp ----------------------------------------------------------------------------------

def test_vjp_against_analytic_jacobian():
    r = np.random.default_rng(1)
    W = r.standard_normal((4, 3))
    x = r.standard_normal(3)
    out, pull = ad.vjp(lambda v: ad.tanh(W @ v), x)
    np.testing.assert_allclose(out, np.tanh(W @ x))
    u = r.standard_normal(4)
    (ct,) = pull(u)
    J = (1 - np.tanh(W @ x) ** 2)[:, None] * W
    np.testing.assert_allclose(ct, J.T @ u, rtol=1e-13)
    # pull can be called again (graph kept) and is linear
    (ct2,) = pull(2 * u)
    np.testing.assert_allclose(ct2, 2 * ct, rtol=1e-14)
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        pull(np.ones(3))


def test_vjp_several_primals_and_pytree_output():
    def f(a, b):
        return {"p": a * b, "s": ad.sum(a) + 2.0 * b[0]}

    a, b = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    out, pull = ad.vjp(f, a, b)
    np.testing.assert_allclose(out["p"], [3.0, 10.0])
    ga, gb = pull({"p": np.array([1.0, -1.0]), "s": 2.0})
    np.testing.assert_allclose(ga, [3.0 + 2.0, -5.0 + 2.0])
    np.testing.assert_allclose(gb, [1.0 + 4.0, -2.0])


def test_jvp_pytrees_and_tuple_outputs():
    def f(p):
        return ad.sin(p["x"]) * p["y"], ad.sum(p["x"] ** 2)

    p = {"x": np.array([0.1, 0.7]), "y": 2.0}
    t = {"x": np.array([1.0, 0.0]), "y": 1.0}
    (o1, o2), (t1, t2) = ad.jvp(f, (p,), (t,))
    np.testing.assert_allclose(o1, np.sin(p["x"]) * 2.0)
    np.testing.assert_allclose(t1, np.cos(p["x"]) * t["x"] * 2.0 + np.sin(p["x"]), rtol=1e-14)
    assert float(t2) == pytest.approx(2 * 0.1, rel=1e-14)
    with pytest.raises(ValueError, match="structure"):
        ad.jvp(f, (p,), ({"x": np.ones(2)},))


# -- Jacobians ----------------------------------------------------------------------------------

def _tanh_problem(n_out, n_in, seed=0):
    r = np.random.default_rng(seed)
    W = r.standard_normal((n_out, n_in)) / np.sqrt(n_in)
    x = r.standard_normal(n_in)
    J = (1 - np.tanh(W @ x) ** 2)[:, None] * W
    return W, x, J


@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (3, 7), (70, 5), (5, 70), (130, 2)])
def test_tanh_jacobian_all_modes(shape):
    W, x, J = _tanh_problem(*shape)

    def f(v):
        return ad.tanh(W @ v)

    for jf in (ad.jacfwd(f), ad.jacrev(f), ad.jacfwd(f, chunk=1), ad.jacrev(f, chunk=1),
               ad.jacfwd(f, chunk=4), ad.jacrev(f, chunk=5)):
        np.testing.assert_allclose(jf(x), J, rtol=1e-12, atol=1e-15)
    for mode in ("auto", "forward", "reverse"):
        jac = ad.jacobian(f, mode=mode)
        np.testing.assert_allclose(jac(x), J, rtol=1e-12, atol=1e-15)
        assert jac.last_mode in ("forward", "reverse")
        if mode != "auto":
            assert jac.last_mode == mode
        else:
            assert jac.last_mode == ad.select_mode(shape[1], shape[0])


def test_jacobian_auto_reports_and_caches_mode():
    W1, x1, J1 = _tanh_problem(2, 300)     # many inputs, few outputs: reverse
    jac = ad.jacobian(lambda v: ad.tanh(ad.matmul(W1, v)))
    assert jac.last_mode is None
    np.testing.assert_allclose(jac(x1), J1, rtol=1e-12)
    assert jac.last_mode == "reverse"
    np.testing.assert_allclose(jac(x1), J1, rtol=1e-12)    # second call: cached size
    assert jac.last_mode == "reverse"
    W2, x2, J2 = _tanh_problem(300, 2)     # few inputs, many outputs: forward
    jac2 = ad.jacobian(lambda v: ad.tanh(ad.matmul(W2, v)))
    np.testing.assert_allclose(jac2(x2), J2, rtol=1e-12)
    assert jac2.last_mode == "forward"
    with pytest.raises(ValueError, match="mode"):
        ad.jacobian(lambda v: v, mode="sideways")


def test_jacobian_shapes_out_shape_plus_in_shape():
    def f(X):
        return ad.exp(X) @ np.ones((3, 2))          # (4, 3) -> (4, 2)
    X = np.random.default_rng(2).standard_normal((4, 3))
    expected = np.zeros((4, 2, 4, 3))
    for i in range(4):
        for j in range(2):
            expected[i, j, i, :] = np.exp(X[i])
    for jf in (ad.jacfwd(f), ad.jacrev(f), ad.jacobian(f)):
        J = jf(X)
        assert J.shape == (4, 2, 4, 3)
        np.testing.assert_allclose(J, expected, rtol=1e-14)
    # scalar in, scalar out
    assert np.shape(ad.jacfwd(ad.sin)(0.3)) == ()
    assert float(ad.jacrev(ad.sin)(0.3)) == pytest.approx(math.cos(0.3))


def test_jacobian_argnums_tuple_and_pytrees():
    def f(a, p):
        return a * p["s"] + ad.sum(p["v"]) * ad.ones(2)

    a = np.array([1.0, 2.0])
    p = {"s": 3.0, "v": np.array([1.0, 1.0, 1.0])}
    for jf in (ad.jacfwd, ad.jacrev, ad.jacobian):
        Ja, Jp = jf(f, argnums=(0, 1))(a, p)
        np.testing.assert_allclose(Ja, 3.0 * np.eye(2))
        assert set(Jp) == {"s", "v"}
        np.testing.assert_allclose(Jp["s"], a)
        np.testing.assert_allclose(Jp["v"], np.ones((2, 3)))
        Jd = jf(f, argnums=1)(a, p)
        np.testing.assert_allclose(Jd["v"], np.ones((2, 3)))


def test_jacobian_tuple_output():
    def f(x):
        return x ** 2, ad.sum(x)

    x = np.array([1.0, 3.0])
    for jf in (ad.jacfwd(f), ad.jacrev(f), ad.jacobian(f)):
        J1, J2 = jf(x)
        np.testing.assert_allclose(J1, np.diag(2 * x))
        np.testing.assert_allclose(J2, [1.0, 1.0])


def _random_program(seed):
    r = np.random.default_rng(seed)
    n, m = int(r.integers(1, 6)), int(r.integers(1, 6))
    A = r.standard_normal((m, n))
    B = r.standard_normal((m, m)) * 0.3
    c = r.uniform(0.5, 1.5, m)
    unary = [ad.sin, ad.tanh, ad.sigmoid, ad.cos, ad.arctan, ad.softplus, ad.exp]
    u1, u2, u3 = (unary[i] for i in r.choice(len(unary), 3, replace=False))

    def f(x):
        h = u1(A @ x) * c
        h = h + B @ u2(h) + ad.sum(x ** 2) * 0.1
        if ad.sum(h) > 0:                  # Python control flow on the primal
            h = h * u3(h)
        else:
            h = h - ad.log1p(h * h)
        return ad.softmax(h) * ad.norm(x) + ad.cumsum(h)
    return f, r.standard_normal(n)


def _central_jacobian(f, x, eps=1e-6):
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = eps
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps))
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize("seed", range(8))
def test_forward_and_reverse_agree_on_random_programs(seed):
    f, x = _random_program(seed)
    Jf = ad.jacfwd(f)(x)
    Jr = ad.jacrev(f)(x)
    np.testing.assert_allclose(Jf, Jr, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(Jf, _central_jacobian(f, x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ad.jacrev(f, chunk=1)(x), Jr, rtol=1e-12, atol=1e-14)


# -- Hessians -----------------------------------------------------------------------------------

def test_hessian_rosenbrock_matches_scipy():
    H = ad.hessian(rosenbrock)(X5)
    assert H.shape == (5, 5)
    np.testing.assert_allclose(H, rosen_hess(X5), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ad.hessian(rosenbrock, chunk=2)(X5), rosen_hess(X5), rtol=1e-12)


def test_hessian_forms_agree():
    def f(x):
        return ad.sum(ad.sin(x) * ad.cumsum(x)) + ad.logsumexp(x * x)

    x = np.array([0.2, -0.7, 1.1, 0.4])
    H = ad.hessian(f)(x)
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-14)
    for other in (ad.jacfwd(ad.jacrev(f)), ad.jacrev(ad.jacfwd(f)), ad.jacrev(ad.grad(f)),
                  ad.jacfwd(ad.jacfwd(f)), ad.jacobian(ad.grad(f))):
        np.testing.assert_allclose(other(x), H, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(H, _central_jacobian(ad.grad(f), x), rtol=1e-6, atol=1e-7)


def test_hessian_several_arguments_with_argnums():
    def f(x, y, s):
        return ad.sum(x ** 2 * y) + s * ad.sum(ad.sin(y)) + s ** 3

    x, y, s = np.array([1.0, 2.0]), np.array([0.5, -0.3]), 2.0
    Hx = ad.hessian(f)(x, y, s)
    np.testing.assert_allclose(Hx, np.diag(2 * y))
    H = ad.hessian(f, argnums=(0, 1, 2))(x, y, s)
    assert len(H) == 3 and all(len(row) == 3 for row in H)
    np.testing.assert_allclose(H[0][0], np.diag(2 * y))
    np.testing.assert_allclose(H[0][1], np.diag(2 * x))
    np.testing.assert_allclose(H[1][0], np.diag(2 * x))
    np.testing.assert_allclose(H[1][1], np.diag(-s * np.sin(y)), rtol=1e-14)
    np.testing.assert_allclose(H[1][2], np.cos(y), rtol=1e-14)
    np.testing.assert_allclose(H[2][1], np.cos(y), rtol=1e-14)
    np.testing.assert_allclose(H[0][2], np.zeros(2))
    assert float(H[2][2]) == pytest.approx(6 * s)
    H12 = ad.hessian(f, argnums=(1, 2))(x, y, s)
    np.testing.assert_allclose(H12[0][1], np.cos(y), rtol=1e-14)


def test_hvp_matches_hessian_times_vector():
    v = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    g, hv = ad.hvp(rosenbrock, (X5,), (v,))
    np.testing.assert_allclose(g, rosen_der(X5), rtol=1e-13)
    np.testing.assert_allclose(hv, rosen_hess(X5) @ v, rtol=1e-12)

    def f(x, y):
        return ad.sum(x * x * y)
    (gx, gy), (hx, hy) = ad.hvp(f, (np.array([1.0, 2.0]), np.array([3.0, 4.0])),
                                (np.array([1.0, 0.0]), np.array([0.0, 1.0])))
    np.testing.assert_allclose(gx, [6.0, 16.0])
    np.testing.assert_allclose(gy, [1.0, 4.0])
    # H = [[diag(2y), diag(2x)], [diag(2x), 0]]; H @ [1, 0, 0, 1]
    np.testing.assert_allclose(hx, [6.0, 4.0])
    np.testing.assert_allclose(hy, [2.0, 0.0])


# -- higher order -------------------------------------------------------------------------------

def test_grad_of_grad_scalars():
    f = lambda x: x ** 3 * ad.exp(x)  # noqa: E731
    d1, d2, d3 = ad.grad(f), ad.grad(ad.grad(f)), ad.grad(ad.grad(ad.grad(f)))
    x = 0.4
    e = math.exp(x)
    assert float(d1(x)) == pytest.approx((3 * x ** 2 + x ** 3) * e, rel=1e-13)
    assert float(d2(x)) == pytest.approx((6 * x + 6 * x ** 2 + x ** 3) * e, rel=1e-13)
    assert float(d3(x)) == pytest.approx((6 + 18 * x + 9 * x ** 2 + x ** 3) * e, rel=1e-13)


def test_jacfwd_of_jacrev_third_order_tensor():
    # f(x) = x * sum(x^2): J = sum(x^2) I + 2 x x^T; d J_ij / d x_k = 2 x_k d_ij + 2 d_ik x_j
    # + 2 x_i d_jk
    x = np.array([0.3, -1.0, 2.0])
    T = ad.jacfwd(ad.jacrev(ad.jacrev(lambda v: v * ad.sum(v * v))))(x)
    eye = np.eye(3)
    expected = 2 * (np.einsum("k,ij->ijk", x, eye) + np.einsum("ik,j->ijk", eye, x)
                    + np.einsum("i,jk->ijk", x, eye))
    assert T.shape == (3, 3, 3, 3)
    # the third derivative of f_i: d3 f_i / dx_j dx_k dx_l
    exp4 = 2 * (np.einsum("ij,kl->ijkl", eye, eye) + np.einsum("ik,jl->ijkl", eye, eye)
                + np.einsum("il,jk->ijkl", eye, eye))
    np.testing.assert_allclose(T, exp4, atol=1e-13)
    J2 = ad.jacfwd(ad.jacrev(lambda v: v * ad.sum(v * v)))(x)
    np.testing.assert_allclose(J2, expected, atol=1e-13)


# -- scipy.optimize -----------------------------------------------------------------------------

def test_scipy_trust_exact_rosenbrock_5d():
    res = minimize(lambda x: float(rosenbrock(x)), -np.ones(5), method="trust-exact",
                   jac=ad.grad(rosenbrock), hess=ad.hessian(rosenbrock))
    assert res.success, res.message
    np.testing.assert_allclose(res.x, np.ones(5), atol=1e-6)


def test_scipy_bfgs_with_value_and_grad():
    res = minimize(ad.value_and_grad(rosenbrock), np.zeros(5), jac=True, method="BFGS",
                   options={"gtol": 1e-8})
    np.testing.assert_allclose(res.x, np.ones(5), atol=1e-5)


# -- the mode selector --------------------------------------------------------------------------

def test_select_mode_extremes_and_monotonicity():
    assert ad.select_mode(1, 1000) == "forward"
    assert ad.select_mode(1000, 1) == "reverse"
    assert ad.select_mode(1024, 4) == "reverse"
    assert ad.select_mode(4, 1024) == "forward"
    sizes = [1, 2, 4, 16, 64, 100, 256, 1000, 1024, 5000]
    for n in sizes:
        modes = [ad.select_mode(n, m) for m in sizes]
        # once reverse is too expensive (more outputs), it stays so
        first_fwd = modes.index("forward") if "forward" in modes else len(modes)
        assert all(mm == "forward" for mm in modes[first_fwd:]), (n, modes)
    for m in sizes:
        modes = [ad.select_mode(n, m) for n in sizes]
        first_rev = modes.index("reverse") if "reverse" in modes else len(modes)
        assert all(mm == "reverse" for mm in modes[first_rev:]), (m, modes)


def test_select_mode_counts_chunked_passes():
    from adjit.transforms import selector as F
    fwd, rev = F.mode_costs(130, 1)
    fwd1, _ = F.mode_costs(130, 1, chunk=1)
    assert fwd1 > fwd         # 130 one-direction passes cost more than 3 chunked ones
    assert rev < fwd


def test_batched_reverse_rows_nested_in_forward():
    """jacfwd(jacrev(f)) for f: R^3 -> R^5: the inner jacrev pulls its 5 rows in batched passes
    (dual cotangents) through values that are themselves the outer jacfwd's duals."""
    A = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 0.5], [0.3, 0.0, 1.0], [1.0, 1.0, 1.0],
                  [-0.5, 0.2, 0.1]])

    def f(x):
        return ad.sin(A @ x) * ad.sum(x * x)

    x = np.array([0.3, -0.2, 0.7])
    T = ad.jacfwd(ad.jacrev(f))(x)
    assert T.shape == (5, 3, 3)
    np.testing.assert_allclose(T, ad.jacfwd(ad.jacrev(f, chunk=1))(x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(T, ad.jacfwd(ad.jacfwd(f))(x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(T, _central_jacobian(ad.jacrev(f), x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ad.jacrev(ad.jacrev(f, chunk=2), chunk=4)(x), T, rtol=1e-12,
                               atol=1e-14)
