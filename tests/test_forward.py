"""Issue 3: forward mode (dual numbers) on the same op registry as reverse mode.

Every row's JVP is swept by test_opinfo.py. Here the public compositions of rows (norm orders,
var, std, dot, outer, trace, logdet, slogdet ...) are checked three ways on random inputs:
  * the dot-product test <u, J v> = <J^T u, v> against the reverse-mode VJP,
  * central finite differences of the primal along v,
  * chunked tangents (a trailing axis of k directions) against k single-direction passes.
Then the issue's hand examples: the seed f(x,y) = x log x + sin(xy), control flow,
perturbation confusion, duals nested with tensors, custom ops without a JVP, mixed
dual/array/scalar arithmetic, indexing, reductions and linear algebra on duals.
"""
import math

import numpy as np
import pytest

import adjit as ad
from adjit import ops

RNG_SEED = 1234
EPS = 1e-6


def _rng(name):
    return np.random.default_rng(RNG_SEED + sum(map(ord, name)))


# -- input generators ---------------------------------------------------------------------------

def normal(*shape):
    return lambda r: r.standard_normal(shape)


def uniform(lo, hi, *shape):
    return lambda r: r.uniform(lo, hi, shape)


def spd(n, batch=()):
    def make(r):
        a = r.standard_normal(batch + (n, n))
        return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    return make


def wellcond(n, batch=()):
    return lambda r: r.standard_normal(batch + (n, n)) + 3.0 * np.eye(n)


def away_from(points, *shape, lo=-2.0, hi=2.0):
    """Uniform values at least 0.05 away from kinks."""
    def make(r):
        x = r.uniform(lo, hi, shape)
        for p in points:
            close = np.abs(x - p) < 0.05
            x = np.where(close, p + 0.1 * np.sign(x - p + 1e-12), x)
        return x
    return make


# The rows' own JVPs are swept by test_opinfo.py (forward Jacobians with k directions at once
# against central differences, forward-over-reverse). Here: the public compositions of rows.
# (id, function of the differentiable inputs, input makers)
CASES = [
    ("norm-ord1", lambda x: ops.norm(x, ord=1), [away_from([0.0], 5)]),
    ("norm-ord3", lambda x: ops.norm(x, ord=3), [away_from([0.0], 5)]),
    ("var", lambda x: ops.var(x, axis=0), [normal(3, 4)]),
    ("std-ddof1", lambda x: ops.std(x, ddof=1), [normal(3, 4)]),
    ("dot", lambda a, b: ops.dot(a, b), [normal(4), normal(4)]),
    ("outer", lambda a, b: ops.outer(a, b), [normal(3), normal(4)]),
    ("trace", lambda x: ops.trace(x), [normal(4, 4)]),
    ("logdet", lambda x: ops.logdet(x), [spd(3)]),
    ("slogdet", lambda x: ops.slogdet(x)[1], [wellcond(3)]),
    ("expand_dims-squeeze", lambda x: ops.squeeze(ops.expand_dims(x, 1) * 2.0, 1),
     [normal(3, 4)]),
    ("softmax-of-pow-scalar-exponent", lambda a, b: ops.softmax(ops.pow(a, b)),
     [uniform(0.5, 2.0, 3, 4), uniform(0.5, 2.0)]),
]


def _inputs(case):
    r = _rng(case[0])
    return [np.asarray(m(r), dtype=float) for m in case[2]]


def _fd(f, xs, vs, eps=EPS):
    fp = np.asarray(f(*[x + eps * v for x, v in zip(xs, vs)]))
    fm = np.asarray(f(*[x - eps * v for x, v in zip(xs, vs)]))
    return (fp - fm) / (2 * eps)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_op_jvp_dot_product_and_finite_differences(case):
    _, f, _ = case
    xs = _inputs(case)
    r = np.random.default_rng(7)
    vs = [r.standard_normal(x.shape) for x in xs]
    out, jv = ad.jvp(f, xs, vs)
    ref = np.asarray(f(*xs))
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    assert np.shape(jv) == ref.shape

    # central finite differences along v
    np.testing.assert_allclose(jv, _fd(f, xs, vs), rtol=1e-5, atol=1e-6)

    # dot-product test against the reverse-mode VJP
    u = r.standard_normal(ref.shape)
    out2, pull = ad.vjp(f, *xs)
    cts = pull(u)
    assert len(cts) == len(xs)
    for c, x in zip(cts, xs):
        assert np.shape(c) == x.shape
    lhs = float(np.sum(u * jv))
    rhs = float(sum(np.sum(np.asarray(c) * v) for c, v in zip(cts, vs)))
    assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-10)

    # the same through ad.dual directly (the user-level dual numbers)
    d = f(*[ad.dual(x, v) for x, v in zip(xs, vs)])
    np.testing.assert_allclose(np.asarray(d.primal), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(d.tangent), jv, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_op_chunked_tangents_match_single_directions(case):
    _, f, _ = case
    xs = _inputs(case)
    k = 3
    r = np.random.default_rng(11)
    Vs = [r.standard_normal(x.shape + (k,)) for x in xs]
    out, JV = ad.jvp(f, xs, Vs)
    ref = np.asarray(f(*xs))
    assert np.shape(JV) == ref.shape + (k,)
    for j in range(k):
        _, jv = ad.jvp(f, xs, [V[..., j] for V in Vs])
        np.testing.assert_allclose(JV[..., j], jv, rtol=1e-12, atol=1e-12)
    # ad.dual with a trailing k axis shows k trailing in .tangent too
    d = f(*[ad.dual(x, V) for x, V in zip(xs, Vs)])
    np.testing.assert_allclose(np.asarray(d.tangent), JV, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_op_forward_over_reverse_hessian_vector_product(case):
    """The VJP rules run on duals (chunked): H v of s(x) = <w, f(x)> against central
    differences of the reverse-mode gradient."""
    _, f, _ = case
    xs = _inputs(case)
    r = np.random.default_rng(5)
    w = r.standard_normal(np.shape(f(*xs)))

    def s(*a):
        return ops.sum(f(*a) * w)

    vs = [r.standard_normal(x.shape) for x in xs]
    nums = tuple(range(len(xs)))
    g = ad.grad(s, nums)
    _, hv = ad.jvp(lambda *a: ops.concatenate([ops.reshape(t, (-1,)) for t in g(*a)]), xs, vs)
    fd = _fd(lambda *a: np.concatenate([np.ravel(t) for t in g(*a)]), xs, vs, eps=1e-5)
    np.testing.assert_allclose(hv, fd, rtol=1e-4, atol=1e-5)
    # chunked (several directions per pass, as hessian = jacfwd(grad) does)
    k = 2
    Vs = [np.stack([v, 2.0 * v + 1.0], axis=-1) for v in vs]
    _, HV = ad.jvp(lambda *a: ops.concatenate([ops.reshape(t, (-1,)) for t in g(*a)]), xs, Vs)
    assert HV.shape == hv.shape + (k,)
    np.testing.assert_allclose(HV[:, 0], hv, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ["sin", "tanh", "exp", "log", "sqrt", "sigmoid", "erf", "mul",
                                  "div", "pow"])
def test_large_elementwise_fused_kernels_forward(name):
    """Arrays above kernels.FUSE_MIN go through the fused numba kernels, chunked or not."""
    from adjit import kernels
    n = kernels.FUSE_MIN + 100
    r = np.random.default_rng(3)
    x = r.uniform(0.5, 2.0, n)
    op = getattr(ops, name)
    if name in ("mul", "div", "pow"):
        y = r.uniform(0.5, 2.0, n)
        f = lambda a: op(a, y)  # noqa: E731
    else:
        f = op
    v = r.standard_normal(n)
    _, jv = ad.jvp(f, (x,), (v,))
    np.testing.assert_allclose(jv, _fd(f, [x], [v]), rtol=1e-5, atol=1e-7)
    V = np.stack([v, -2.0 * v, np.ones(n)], axis=-1)
    _, JV = ad.jvp(f, (x,), (V,))
    np.testing.assert_allclose(JV[:, 0], jv, rtol=1e-12)
    np.testing.assert_allclose(JV[:, 1], -2.0 * jv, rtol=1e-12)


# -- the hand examples ------------------------------------------------------------------

def seed_f(x, y):
    return x * ad.log(x) + ad.sin(x * y)


def test_seed_example_unit_directions():
    out, tx = ad.jvp(seed_f, (1.0, 2.0), (1.0, 0.0))
    _, ty = ad.jvp(seed_f, (1.0, 2.0), (0.0, 1.0))
    assert float(out) == pytest.approx(math.sin(2.0))
    assert float(tx) == pytest.approx(0.1677, abs=5e-5)
    assert float(ty) == pytest.approx(-0.4161, abs=5e-5)
    # exact: d/dx = log x + 1 + y cos(xy), d/dy = x cos(xy)
    assert float(tx) == pytest.approx(1.0 + 2.0 * math.cos(2.0), rel=1e-14)
    assert float(ty) == pytest.approx(math.cos(2.0), rel=1e-14)


def test_seed_example_with_dual_numbers_and_chunk():
    x = ad.dual(1.0, 1.0)
    y = ad.dual(2.0, 0.0)
    assert float(seed_f(x, y).tangent) == pytest.approx(0.1677, abs=5e-5)
    # both unit directions in one pass: tangent with a trailing k = 2 axis
    x = ad.dual(np.array(1.0), np.array([1.0, 0.0]))
    y = ad.dual(np.array(2.0), np.array([0.0, 1.0]))
    t = np.asarray(seed_f(x, y).tangent)
    assert t.shape == (2,)
    np.testing.assert_allclose(t, [1.0 + 2.0 * math.cos(2.0), math.cos(2.0)], rtol=1e-14)
    # and jacfwd over the stacked inputs
    J = ad.jacfwd(lambda v: seed_f(v[0], v[1]))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(J, [0.16770632690571517, -0.4161468365471424], rtol=1e-12)


def control_while(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    c = b if b.sum() > 0 else 100 * b
    return c


@pytest.mark.parametrize("a0", [0.7, -0.3, 123.0, -4.0])
def test_control_flow_scalar_forward(a0):
    out, t = ad.jvp(control_while, (np.array(a0),), (np.array(1.0),))
    assert float(t) == pytest.approx(float(out) / a0, rel=1e-14)
    d = control_while(ad.dual(a0, 1.0))
    assert isinstance(d, ad.Dual)
    assert float(d.tangent) == pytest.approx(float(d.primal) / a0, rel=1e-14)


def test_control_flow_vector_forward_jacobian():
    a = np.array([0.3, -1.2, 0.05])
    out = np.asarray(control_while(ad.dual(a, np.zeros(3))).primal)
    J = ad.jacfwd(control_while)(a)
    # f(a) = s * a for a piecewise-constant scalar s = f(a)/a
    np.testing.assert_allclose(J, np.diag(out / a), rtol=1e-14)
    np.testing.assert_allclose(J, ad.jacrev(control_while)(a), rtol=1e-14)


def test_if_on_dual_compares_primal():
    def f(x):
        if x > 0:
            return x * x
        return -x * x * x
    assert float(ad.jvp(f, (3.0,), (1.0,))[1]) == pytest.approx(6.0)
    assert float(ad.jvp(f, (-2.0,), (1.0,))[1]) == pytest.approx(-12.0)
    d = ad.dual(2.0, 1.0)
    assert bool(d > 1.0) and not bool(d < 1.0) and bool(d == 2.0)
    assert float(d) == 2.0 and d.item() == 2.0


# -- perturbation confusion ---------------------------------------------------------------------

def test_perturbation_confusion_nested_jvp():
    def inner(x):
        # d/dy (x + y) at y = 1
        return ad.jvp(lambda y: x + y, (1.0,), (1.0,))[1]

    def outer(x):
        return x * inner(x)

    _, t = ad.jvp(outer, (1.0,), (1.0,))
    assert float(t) == 1.0  # an untagged implementation gives 2


def test_perturbation_confusion_jacfwd_and_grad_mixes():
    def make(inner_d):
        return lambda x: x * inner_d(lambda y: x + y)(1.0)

    for outer_d in (ad.jacfwd, ad.grad, ad.jacrev, lambda f: ad.jacobian(f, mode="forward")):
        for inner_d in (ad.jacfwd, ad.grad, ad.jacrev):
            val = outer_d(make(inner_d))(1.0)
            assert float(val) == 1.0, (outer_d, inner_d)


def test_perturbation_confusion_user_duals():
    # user-level duals (ad.dual) under a transform: the transform's level is distinct
    x = ad.dual(1.0, 1.0)
    inner = ad.jvp(lambda y: x + y, (1.0,), (1.0,))[1]
    r = x * inner
    assert float(r.tangent) == 1.0


def test_nested_forward_second_and_third_derivatives():
    f = ad.sin
    d1 = ad.jacfwd(f)
    d2 = ad.jacfwd(d1)
    d3 = ad.jacfwd(d2)
    x = 0.7
    assert float(d1(x)) == pytest.approx(math.cos(x), rel=1e-14)
    assert float(d2(x)) == pytest.approx(-math.sin(x), rel=1e-14)
    assert float(d3(x)) == pytest.approx(-math.cos(x), rel=1e-14)


# -- duals nest with tensors (forward-over-reverse, reverse-over-forward) -----------------------

def test_dual_of_eager_tensors_gives_hessian_vector_product():
    """User duals (level 1) over eager Tensors (level 0): the tangent is a Tensor holding
    grad f . v, and its reverse-mode gradient is H v."""
    A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 3.0]])
    x0 = np.array([0.2, -0.4, 1.1])
    v = np.array([1.0, 2.0, -1.0])
    x = ad.tensor(x0, requires_grad=True)
    z = ad.dual(x, v)
    y = 0.5 * ad.dot(z, ad.matmul(A, z)) + ad.sin(z).sum()
    assert isinstance(y, ad.Dual) and isinstance(y.tangent, ad.Tensor)
    gx = A @ x0 + np.cos(x0)
    assert y.tangent.item() == pytest.approx(gx @ v, rel=1e-14)
    (hv,) = ad.autograd.grad(y.tangent, x, retain_graph=True)
    H = A - np.diag(np.sin(x0))
    np.testing.assert_allclose(np.asarray(hv), H @ v, rtol=1e-13)
    (g,) = ad.autograd.grad(y.primal, x)
    np.testing.assert_allclose(np.asarray(g), gx, rtol=1e-14)


def test_forward_over_reverse_functional():
    def f(x):
        return ad.sum(ad.exp(x) * x[::-1]) + ad.prod(x)
    x0 = np.array([0.3, -0.2, 0.5])
    v = np.array([0.1, 1.0, -2.0])
    g, hv = ad.jvp(ad.grad(f), (x0,), (v,))
    H = np.diag(np.exp(x0) * x0[::-1])
    H += np.exp(x0)[:, None] * np.eye(3)[::-1]
    H += (np.exp(x0)[None, :] * np.eye(3)[::-1])
    p = np.prod(x0)
    H += (p / np.outer(x0, x0)) * (1 - np.eye(3))
    np.testing.assert_allclose(hv, H @ v, rtol=1e-12)


def test_reverse_over_forward():
    # grad of a jvp: d/dx <J(x) v, w>
    def f(x):
        return ad.sin(x) * x
    v = np.array([1.0, 0.5])

    def jv(x):
        return ad.sum(ad.jvp(f, (x,), (v,))[1])
    x0 = np.array([0.4, -1.3])
    gr = ad.grad(jv)(x0)
    # jv = sum (cos x * x + sin x) v; derivative: (-sin x * x + 2 cos x) v
    np.testing.assert_allclose(gr, (-np.sin(x0) * x0 + 2 * np.cos(x0)) * v, rtol=1e-13)


def test_dual_holding_tensor_records_for_reverse():
    x = ad.tensor([0.5, 1.5], requires_grad=True)
    d = ad.dual(x, np.array([1.0, 0.0]))
    y = (d * d).sum()          # tangent = 2 x . [1, 0] = 2 x[0]
    assert isinstance(y.tangent, ad.Tensor)
    y.tangent.backward()
    np.testing.assert_allclose(np.asarray(x.grad), [2.0, 0.0])


# -- custom ops ---------------------------------------------------------------------------------

def _cube(x):
    return x * x * x


def _cube_vjp(g, y, x):
    return (g * 3.0 * x * x,)


def _cube_jvp(ts, y, x):
    return ts[0] * 3.0 * x * x


def test_custom_op_without_jvp_raises_naming_the_op():
    op = ad.custom_op("fwdtest_cube_nojvp", _cube, _cube_vjp)
    x = np.array([1.0, 2.0])
    # reverse mode works
    np.testing.assert_allclose(ad.grad(lambda v: op(v).sum())(x), 3 * x * x)
    with pytest.raises(NotImplementedError, match="fwdtest_cube_nojvp"):
        ad.jvp(op, (x,), (np.ones(2),))
    with pytest.raises(NotImplementedError, match="fwdtest_cube_nojvp.*forward mode"):
        op(ad.dual(x, np.ones(2)))
    with pytest.raises(NotImplementedError, match="fwdtest_cube_nojvp"):
        ad.jacfwd(op)(x)


def test_custom_op_with_jvp_forward_and_chunked():
    op = ad.custom_op("fwdtest_cube", _cube, _cube_vjp, _cube_jvp)
    x = np.array([1.0, -2.0, 0.5])
    _, t = ad.jvp(lambda v: ad.sin(op(v)), (x,), (np.ones(3),))
    np.testing.assert_allclose(t, np.cos(x ** 3) * 3 * x * x, rtol=1e-13)
    J = ad.jacfwd(op)(x)
    np.testing.assert_allclose(J, np.diag(3 * x * x), rtol=1e-13)


# -- mixed arithmetic on dual numbers -----------------------------------------------------------

def test_dual_mixed_with_arrays_scalars_and_broadcasting():
    r = np.random.default_rng(0)
    p, t = r.standard_normal((3, 1)), r.standard_normal((3, 1))
    A = r.standard_normal((3, 4))
    d = ad.dual(p, t)
    exprs = [
        (lambda z: z + A, lambda tt: np.broadcast_to(tt, (3, 4))),
        (lambda z: A - z, lambda tt: -np.broadcast_to(tt, (3, 4))),
        (lambda z: A * z, lambda tt: A * tt),
        (lambda z: 2.0 * z - 1, lambda tt: 2.0 * tt),
        (lambda z: z / 4, lambda tt: tt / 4),
        (lambda z: 1.0 / z, lambda tt: -tt / p ** 2),
        (lambda z: z ** 2, lambda tt: 2 * p * tt),
        (lambda z: 2.0 ** z, lambda tt: np.log(2.0) * 2.0 ** p * tt),
        (lambda z: -z, lambda tt: -tt),
        (lambda z: abs(z), lambda tt: np.sign(p) * tt),
        (lambda z: np.float64(3.0) * z, lambda tt: 3.0 * tt),
        (lambda z: np.ones((2, 1, 1)) + z, lambda tt: np.broadcast_to(tt, (2, 3, 1))),
    ]
    for fz, ft in exprs:
        out = fz(d)
        assert isinstance(out, ad.Dual)
        np.testing.assert_allclose(np.asarray(out.tangent), ft(t), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(np.asarray(out.primal), np.asarray(fz(p)), rtol=1e-14)


def test_ndarray_on_the_left_defers_to_dual():
    d = ad.dual(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    out = np.array([3.0, 4.0]) * d
    assert isinstance(out, ad.Dual)
    np.testing.assert_allclose(np.asarray(out.tangent), [3.0, 4.0])
    out = np.array([[1.0, 0.0], [2.0, 1.0]]) @ d
    np.testing.assert_allclose(np.asarray(out.tangent), [1.0, 3.0])


def test_two_duals_same_level_sum_tangents():
    a = ad.dual(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    b = ad.dual(np.array([3.0, 5.0]), np.array([0.0, 2.0]))
    out = a * b
    np.testing.assert_allclose(np.asarray(out.primal), [3.0, 10.0])
    np.testing.assert_allclose(np.asarray(out.tangent), [3.0, 4.0])
    # chunked on one, single on the other: the single one broadcasts over directions
    c = ad.dual(np.array([1.0, 2.0]), np.array([[1.0, 0.0], [0.0, 1.0]]))
    out = c * b
    # direction j: e_j * b + c * tb  ->  [3, 4] and [0, 9]; .tangent shows directions trailing
    np.testing.assert_allclose(np.asarray(out.tangent), [[3.0, 0.0], [4.0, 9.0]])


def test_dual_indexing_and_methods():
    x = np.arange(12.0).reshape(3, 4) / 10 + 0.1
    V = np.random.default_rng(1).standard_normal((3, 4, 2))
    d = ad.dual(x, V)
    np.testing.assert_allclose(np.asarray(d[1].tangent), V[1])
    np.testing.assert_allclose(np.asarray(d[:, 2].tangent), V[:, 2])
    np.testing.assert_allclose(np.asarray(d[[0, 2, 0]].tangent), V[[0, 2, 0]])
    np.testing.assert_allclose(np.asarray(d[..., ::-1].tangent), V[:, ::-1])
    np.testing.assert_allclose(np.asarray(d[x > 0.5].tangent), V[x > 0.5])
    np.testing.assert_allclose(np.asarray(d.T.tangent), np.transpose(V, (1, 0, 2)))
    np.testing.assert_allclose(np.asarray(d.reshape(4, 3).tangent), V.reshape(4, 3, 2))
    np.testing.assert_allclose(np.asarray(d.flatten().tangent), V.reshape(12, 2))
    assert d.shape == (3, 4) and d.ndim == 2 and d.size == 12 and len(d) == 3
    rows = list(d)
    assert len(rows) == 3
    np.testing.assert_allclose(np.asarray(rows[2].tangent), V[2])
    # reductions as methods
    np.testing.assert_allclose(np.asarray(d.sum(axis=0).tangent), V.sum(axis=0))
    np.testing.assert_allclose(np.asarray(d.mean().tangent), V.mean(axis=(0, 1)))
    np.testing.assert_allclose(np.asarray(d.sum(dim=1, keepdim=True).tangent),
                               V.sum(axis=1, keepdims=True))
    m = d.max()
    np.testing.assert_allclose(np.asarray(m.tangent), V[2, 3])
    nrm = d.norm()
    np.testing.assert_allclose(np.asarray(nrm.tangent),
                               np.einsum("ij,ijk->k", x, V) / np.linalg.norm(x))
    np.testing.assert_allclose(np.asarray(d.exp().tangent), np.exp(x)[..., None] * V)


def test_dual_linear_algebra():
    r = np.random.default_rng(2)
    A = r.standard_normal((3, 3)) + 3 * np.eye(3)
    T = r.standard_normal((3, 3))
    b = r.standard_normal(3)
    d = ad.dual(A, T)
    Ainv = np.linalg.inv(A)
    np.testing.assert_allclose(np.asarray(d.det().tangent),
                               np.linalg.det(A) * np.trace(Ainv @ T), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(ad.logdet(d @ d.T).tangent),
                               2 * np.trace(Ainv @ T), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(d.inverse().tangent), -Ainv @ T @ Ainv, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(ad.solve(d, b).tangent), -Ainv @ T @ Ainv @ b,
                               rtol=1e-12)
    np.testing.assert_allclose(np.asarray((d @ b).tangent), T @ b, rtol=1e-14)
    np.testing.assert_allclose(np.asarray(ad.trace(d).tangent), np.trace(T))
    S = A @ A.T
    dS = T @ A.T + A @ T.T
    L = np.linalg.cholesky(S)
    dl = ad.cholesky(ad.dual(S, dS))
    # L dL^T + dL L^T = dS, dL lower triangular
    dL = np.asarray(dl.tangent)
    np.testing.assert_allclose(np.triu(dL, 1), 0.0, atol=1e-14)
    np.testing.assert_allclose(L @ dL.T + dL @ L.T, dS, rtol=1e-10, atol=1e-12)


def test_dual_errors():
    with pytest.raises(ValueError, match=r"\(3,\)"):
        ad.dual(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError):
        ad.jvp(lambda x: x, (np.zeros(3),), (np.zeros(2),))
    with pytest.raises(ValueError):
        ad.jvp(lambda x, y: x, (1.0, 2.0), (1.0,))
    with pytest.raises(TypeError, match="dual"):
        np.asarray(ad.dual(np.zeros(2), np.ones(2)))


def test_jvp_constant_function_and_integer_primal():
    out, t = ad.jvp(lambda x: np.ones(3), (np.arange(2.0),), (np.ones(2),))
    np.testing.assert_array_equal(t, np.zeros(3))
    out, t = ad.jvp(lambda x: x * x, (np.array([1, 2, 3]),), (np.ones(3),))
    np.testing.assert_array_equal(t, [2.0, 4.0, 6.0])
    out, T = ad.jvp(lambda x: np.ones(3), (np.arange(2.0),), (np.ones((2, 4)),))
    assert T.shape == (3, 4)


def test_jacfwd_chunk_sizes_agree():
    r = np.random.default_rng(9)
    W = r.standard_normal((5, 7))

    def f(x):
        return ad.tanh(W @ x) * ad.sum(x ** 2)
    x0 = r.standard_normal(7)
    Jref = ad.jacrev(f)(x0)
    for k in (1, 2, 3, 7, 100):
        np.testing.assert_allclose(ad.jacfwd(f, chunk=k)(x0), Jref, rtol=1e-12, atol=1e-14)
    th = np.tanh(W @ x0)
    s = np.sum(x0 ** 2)
    Jexact = (1 - th ** 2)[:, None] * W * s + np.outer(th, 2 * x0)
    np.testing.assert_allclose(Jref, Jexact, rtol=1e-12)
