"""NumPy as written (issue 11, parts 1 and 2): NumPy functions called on Tensors that require
grad, dual numbers and ad.jit tracers run the registry's ops, with the same values and
derivatives as the ad.* spelling in reverse mode, forward mode and inside ad.jit, and agree
with central finite differences; NumPy functions without a row raise adjit's clear error."""
import warnings
import zlib

import numpy as np
import pytest

import adjit as ad


def rng_for(key):
    return np.random.default_rng(zlib.crc32(str(key).encode()))


def _spd(x):
    return x @ x.T + 3.0 * np.eye(x.shape[0])


def _spd_ad(x):
    return ad.matmul(x, ad.transpose(x)) + 3.0 * np.eye(x.shape[0])


W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
C = np.array([0.3, -0.2, 0.7])

# id, NumPy spelling, ad spelling, input shapes (float arguments drawn in [-2, 2])
CASES = [
    ("sin", np.sin, ad.sin, [(3,)]),
    ("cos+tanh", lambda x: np.cos(x) + np.tanh(x), lambda x: ad.cos(x) + ad.tanh(x), [(2, 3)]),
    ("exp/sum(exp)", lambda x: np.exp(x) / np.sum(np.exp(x)),
     lambda x: ad.exp(x) / ad.sum(ad.exp(x)), [(4,)]),
    ("log(abs)+sqrt", lambda x: np.log(np.abs(x) + 1) + np.sqrt(x * x + 1),
     lambda x: ad.log(ad.abs(x) + 1) + ad.sqrt(x * x + 1), [(3,)]),
    ("exp2 log2 log10 log1p expm1 square",
     lambda x: np.exp2(x) + np.log2(x * x + 1) + np.log10(x * x + 2) + np.log1p(x * x)
     + np.expm1(x) + np.square(x),
     lambda x: ad.exp2(x) + ad.log2(x * x + 1) + ad.log10(x * x + 2) + ad.log1p(x * x)
     + ad.expm1(x) + ad.square(x), [(3,)]),
    ("trig", lambda x: np.tan(x / 2) + np.arctan(x) + np.sinh(x) + np.cosh(x)
     + np.arcsin(x / 3) + np.arccos(x / 3),
     lambda x: ad.tan(x / 2) + ad.arctan(x) + ad.sinh(x) + ad.cosh(x)
     + ad.arcsin(x / 3) + ad.arccos(x / 3), [(3,)]),
    ("add subtract multiply divide power",
     lambda x, y: np.add(x, y) * np.subtract(x, 1.0) + np.multiply(x, y) / np.divide(y * y + 1, 2)
     + np.power(y * y + 1, x),
     lambda x, y: ad.add(x, y) * ad.sub(x, 1.0) + ad.mul(x, y) / ad.div(y * y + 1, 2)
     + ad.pow(y * y + 1, x), [(3,), (3,)]),
    ("ndarray op tensor", lambda x: C * x + C - x + C / (x * x + 1) + C ** 2 * x,
     lambda x: ad.mul(C, x) + ad.sub(C, x) + ad.div(C, x * x + 1) + ad.mul(C ** 2, x), [(3,)]),
    ("maximum minimum", lambda x, y: np.maximum(x, 0.3) + np.minimum(x, y),
     lambda x, y: ad.maximum(x, 0.3) + ad.minimum(x, y), [(4,), (4,)]),
    ("where", lambda x: np.where(x > 0, x, 0.5 * x), lambda x: ad.where(x > 0, x, 0.5 * x),
     [(4,)]),
    ("clip", lambda x: np.clip(x, -0.5, 0.5), lambda x: ad.clip(x, -0.5, 0.5), [(5,)]),
    ("sign*x", lambda x: np.sign(x) * x, lambda x: ad.sign(x) * x, [(3,)]),
    ("ndarray @ tensor", lambda x: W @ x, lambda x: ad.matmul(W, x), [(3,)]),
    ("tensor @ ndarray", lambda x: x @ W.T, lambda x: ad.matmul(x, W.T), [(2, 3)]),
    ("matmul", np.matmul, ad.matmul, [(2, 3), (3, 4)]),
    ("dot", np.dot, ad.dot, [(2, 3), (3,)]),
    ("dot N-d", np.dot, ad.dot, [(2, 3), (2, 3, 4)]),
    ("dot 3-d 3-d", np.dot, ad.dot, [(2, 2, 3), (4, 3, 2)]),
    ("outer", np.outer, ad.outer, [(3,), (2,)]),
    ("concatenate", lambda x, y: np.concatenate([x, y]),
     lambda x, y: ad.concatenate([x, y]), [(2,), (3,)]),
    ("concatenate axis=1", lambda x, y: np.concatenate((x, y), axis=1),
     lambda x, y: ad.concatenate((x, y), axis=1), [(2, 2), (2, 3)]),
    ("stack", lambda x, y: np.stack([x, y], axis=1), lambda x, y: ad.stack([x, y], axis=1),
     [(3,), (3,)]),
    ("reshape", lambda x: np.reshape(x, (3, 2)) * C[:2], lambda x: ad.reshape(x, (3, 2)) * C[:2],
     [(2, 3)]),
    ("transpose", lambda x: np.transpose(x) * W.T, lambda x: ad.transpose(x) * W.T, [(2, 3)]),
    ("transpose axes", lambda x: np.transpose(x, (1, 2, 0)),
     lambda x: ad.transpose(x, (1, 2, 0)), [(2, 3, 4)]),
    (".T", lambda x: x.T * W.T, lambda x: ad.transpose(x) * W.T, [(2, 3)]),
    ("expand_dims squeeze", lambda x: np.squeeze(np.expand_dims(x, 1) * 2.0, axis=1),
     lambda x: ad.squeeze(ad.expand_dims(x, 1) * 2.0, axis=1), [(3,)]),
    ("broadcast_to", lambda x: np.broadcast_to(x, (2, 3)) * W,
     lambda x: ad.mul(x, np.ones((2, 3))) * W, [(3,)]),
    ("tril", lambda x: np.tril(x, 1), lambda x: ad.mul(x, np.tril(np.ones((3, 3)), 1)), [(3, 3)]),
    ("sum axis", lambda x: np.sum(x, axis=0), lambda x: ad.sum(x, axis=0), [(2, 3)]),
    ("sum keepdims", lambda x: np.sum(x, 1, keepdims=True), lambda x: ad.sum(x, 1, True),
     [(2, 3)]),
    ("x.sum(axis=0)", lambda x: x.sum(axis=0), lambda x: ad.sum(x, axis=0), [(2, 3)]),
    ("mean prod", lambda x: np.mean(x, axis=1) + np.prod(x, axis=0).sum(),
     lambda x: ad.mean(x, axis=1) + ad.sum(ad.prod(x, axis=0)), [(2, 3)]),
    ("max min amax amin", lambda x: np.max(x) + np.min(x, axis=0) + np.amax(x, 1).sum()
     + np.amin(x),
     lambda x: ad.max(x) + ad.min(x, axis=0) + ad.sum(ad.max(x, 1)) + ad.min(x), [(2, 3)]),
    ("var std", lambda x: np.var(x, axis=0, ddof=1) + np.std(x),
     lambda x: ad.var(x, axis=0, ddof=1) + ad.std(x), [(3, 2)]),
    ("cumsum", lambda x: np.cumsum(x, axis=1), lambda x: ad.cumsum(x, axis=1), [(2, 3)]),
    ("trace", np.trace, ad.trace, [(3, 3)]),
    ("trace offset non-square", lambda x: np.trace(x, 1), lambda x: ad.trace(x, 1), [(3, 4)]),
    ("trace N-d axes", lambda x: np.trace(x, -1, 2, 0), lambda x: ad.trace(x, -1, 2, 0),
     [(3, 2, 4)]),
    ("linalg.det", np.linalg.det, ad.det, [(3, 3)]),
    ("linalg.inv", lambda x: np.linalg.inv(x + 4 * np.eye(3)),
     lambda x: ad.inv(x + 4 * np.eye(3)), [(3, 3)]),
    ("linalg.slogdet", lambda x: np.linalg.slogdet(x + 4 * np.eye(3))[1],
     lambda x: ad.slogdet(x + 4 * np.eye(3))[1], [(3, 3)]),
    ("linalg.solve", lambda a, b: np.linalg.solve(a + 4 * np.eye(3), b),
     lambda a, b: ad.solve(a + 4 * np.eye(3), b), [(3, 3), (3,)]),
    ("linalg.cholesky", lambda x: np.linalg.cholesky(_spd(x)),
     lambda x: ad.cholesky(_spd_ad(x)), [(3, 3)]),
    ("linalg.norm", np.linalg.norm, ad.norm, [(4,)]),
    ("linalg.norm ord=1 axis", lambda x: np.linalg.norm(x, 1, axis=1),
     lambda x: ad.norm(x, 1, axis=1), [(2, 3)]),
    ("linalg.norm fro", lambda x: np.linalg.norm(x, "fro"), lambda x: ad.norm(x, "fro"),
     [(2, 3)]),
    ("linalg.norm matrix 1", lambda x: np.linalg.norm(x, 1), lambda x: ad.norm(x, 1), [(3, 3)]),
    ("linalg.norm matrix inf", lambda x: np.linalg.norm(x, np.inf),
     lambda x: ad.norm(x, np.inf), [(3, 3)]),
    ("linalg.norm matrix -1 axis", lambda x: np.linalg.norm(x, -1, axis=(2, 0)),
     lambda x: ad.norm(x, -1, axis=(2, 0)), [(3, 2, 4)]),
    ("linalg.norm matrix -inf", lambda x: np.linalg.norm(x, -np.inf),
     lambda x: ad.norm(x, -np.inf), [(2, 3)]),
    ("linalg.norm ord=3", lambda x: np.linalg.norm(x, 3), lambda x: ad.norm(x, 3), [(4,)]),
    ("comparison mask", lambda x: x * (x > 0) + x * np.greater(x, 0.5),
     lambda x: x * (x > 0) + x * (x > 0.5), [(4,)]),
]

# inputs near these points would make central differences cross a kink
KINKS = {"maximum minimum": None, "where": (0.0,), "clip": (-0.5, 0.5), "max min amax amin": None,
         "log(abs)+sqrt": (0.0,), "sign*x": (0.0,), "linalg.norm ord=1 axis": (0.0,),
         "linalg.norm matrix 1": (0.0,), "linalg.norm matrix inf": (0.0,),
         "linalg.norm matrix -1 axis": (0.0,), "linalg.norm matrix -inf": (0.0,),
         "comparison mask": (0.0, 0.5)}


def _inputs(cid, shapes):
    rng = rng_for(cid)
    xs = []
    for s in shapes:
        x = rng.uniform(-2, 2, size=s)
        away = KINKS.get(cid, ())
        if away is None:  # reductions and maximum: distinct values, away from the constant
            x = rng.permutation(np.linspace(-1.9, 1.9, int(np.prod(s)))).reshape(s) + 0.01
            x = x + 0.3 * len(xs)
        for p in away or ():
            x = np.where(np.abs(x - p) < 0.1, p + 0.3, x)
        xs.append(x)
    return xs


def _weights(fn, xs, cid):
    out = np.asarray(fn(*xs))
    return rng_for(("w", cid)).uniform(0.5, 1.5, size=out.shape)


def _fd_grad(fn, xs, w, i, eps=1e-6):
    x = xs[i]
    g = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        xp, xm = [v.copy() for v in xs], [v.copy() for v in xs]
        xp[i][j] += eps
        xm[i][j] -= eps
        g[j] = (np.sum(fn(*xp) * w) - np.sum(fn(*xm) * w)) / (2 * eps)
    return g


def _ids(cases):
    return [c[0] for c in cases]


@pytest.mark.parametrize("cid,np_fn,ad_fn,shapes", CASES, ids=_ids(CASES))
def test_reverse_matches_ad_spelling_and_finite_differences(cid, np_fn, ad_fn, shapes):
    xs = _inputs(cid, shapes)
    w = _weights(np_fn, xs, cid)
    np.testing.assert_allclose(np.asarray(np_fn(*xs)), np.asarray(ad_fn(*xs)), rtol=1e-12,
                               atol=1e-12)

    def loss_np(*a):
        return ad.sum(np_fn(*a) * w)

    def loss_ad(*a):
        return ad.sum(ad_fn(*a) * w)

    nums = tuple(range(len(xs)))
    v_np, g_np = ad.value_and_grad(loss_np, nums)(*xs)
    v_ad, g_ad = ad.value_and_grad(loss_ad, nums)(*xs)
    np.testing.assert_allclose(v_np, v_ad, rtol=1e-12)
    for i in nums:
        np.testing.assert_allclose(g_np[i], g_ad[i], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(g_np[i], _fd_grad(np_fn, xs, w, i), rtol=1e-5, atol=1e-6)

    # the tensor API too: backward() fills .grad
    ts = [ad.tensor(x, requires_grad=True) for x in xs]
    y = loss_np(*ts)
    y.backward()
    for t, g in zip(ts, g_np):
        np.testing.assert_allclose(t.grad.numpy(), g, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cid,np_fn,ad_fn,shapes", CASES, ids=_ids(CASES))
def test_forward_matches_ad_spelling_and_finite_differences(cid, np_fn, ad_fn, shapes):
    xs = _inputs(cid, shapes)
    ts = [rng_for(("t", cid, i)).normal(size=x.shape) for i, x in enumerate(xs)]
    out_np, t_np = ad.jvp(np_fn, tuple(xs), tuple(ts))
    out_ad, t_ad = ad.jvp(ad_fn, tuple(xs), tuple(ts))
    np.testing.assert_allclose(out_np, out_ad, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(t_np, t_ad, rtol=1e-10, atol=1e-12)
    eps = 1e-6
    fd = (np.asarray(np_fn(*[x + eps * t for x, t in zip(xs, ts)]))
          - np.asarray(np_fn(*[x - eps * t for x, t in zip(xs, ts)]))) / (2 * eps)
    np.testing.assert_allclose(t_np, fd, rtol=1e-5, atol=1e-6)
    # dual numbers directly
    d = np_fn(*[ad.dual(x, t) for x, t in zip(xs, ts)])
    np.testing.assert_allclose(d.tangent, t_ad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cid,np_fn,ad_fn,shapes", CASES, ids=_ids(CASES))
def test_jit_matches_eager(cid, np_fn, ad_fn, shapes):
    xs = _inputs(cid, shapes)
    w = _weights(np_fn, xs, cid)
    nums = tuple(range(len(xs)))

    def loss_np(*a):
        return ad.sum(np_fn(*a) * w)

    def loss_ad(*a):
        return ad.sum(ad_fn(*a) * w)

    want_v = np.asarray(ad_fn(*xs))
    want_g = ad.grad(loss_ad, nums)(*xs)
    ts = tuple(rng_for(("t", cid, i)).normal(size=x.shape) for i, x in enumerate(xs))
    want_t = ad.jvp(ad_fn, tuple(xs), ts)[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no fallback to eager
        v = ad.jit(np_fn)(*xs)
        g = ad.jit(ad.grad(loss_np, nums))(*xs)
        t = ad.jit(lambda *a: ad.jvp(np_fn, a, ts)[1])(*xs)
    np.testing.assert_allclose(v, want_v, rtol=1e-10, atol=1e-12)
    for gi, wi in zip(g, want_g):
        np.testing.assert_allclose(gi, wi, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(t, want_t, rtol=1e-9, atol=1e-12)


def test_second_order_through_numpy_spelling():
    x = np.array([0.3, -1.2, 0.8])
    h_np = ad.hessian(lambda v: np.sum(np.sin(v) * np.exp(v)) + np.linalg.norm(v) ** 3)(x)
    h_ad = ad.hessian(lambda v: ad.sum(ad.sin(v) * ad.exp(v)) + ad.norm(v) ** 3)(x)
    np.testing.assert_allclose(h_np, h_ad, rtol=1e-10)


def test_methods_numpy_calls_accept_its_defaults():
    x = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x.sum(axis=0, out=None) + x.mean(axis=1, dtype=None, keepdims=False)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.5, 1.5], [1.5, 1.5]])


def test_numpy_results_on_tensors_are_tensors_with_graph():
    x = ad.tensor([0.5, 1.0], requires_grad=True)
    y = np.sin(x)
    assert isinstance(y, ad.Tensor) and y.grad_fn is not None
    assert np.concatenate([x, x]).shape == (4,)


def test_constant_tensor_still_converts_and_computes():
    c = ad.tensor([3.0, 1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(c), [3.0, 1.0, 2.0])
    np.testing.assert_array_equal(np.sort(c), [1.0, 2.0, 3.0])
    assert isinstance(np.sin(c), ad.Tensor)


def test_metadata_and_integer_results_need_no_derivative():
    x = ad.tensor([[3.0, 1.0, 2.0]], requires_grad=True)
    assert np.shape(x) == (1, 3) and np.ndim(x) == 2 and np.size(x) == 3
    assert int(np.argmax(x)) == 0
    np.testing.assert_array_equal(np.isfinite(x), [[True, True, True]])
    d = ad.dual(np.array([1.0, -2.0]), np.ones(2))
    assert int(np.argmin(d)) == 1 and np.shape(d) == (2,)


# --- part 1: never silently wrong ------------------------------------------------------------

NOT_DIFFERENTIABLE = r"adjit: np\.%s is not differentiable yet; use"


def _modes(fn, x):
    """fn's gradient in reverse mode, forward mode, ad.jit of reverse mode and the tensor API."""
    return [lambda: ad.grad(lambda v: ad.sum(fn(v)))(x),
            lambda: ad.jacfwd(fn)(x),
            lambda: ad.jvp(fn, (x,), (np.ones_like(x),)),
            lambda: ad.jit(ad.grad(lambda v: ad.sum(fn(v))))(x),
            lambda: fn(ad.tensor(x, requires_grad=True)),
            lambda: fn(ad.dual(x, np.ones_like(x)))]


@pytest.mark.parametrize("name,fn", [
    ("unique", np.unique),   # (sort, cumprod and diff are rows now)
    ("convolve", lambda v: np.convolve(v, v)),   # (einsum is a composite now)
    ("spacing", np.spacing),   # a ufunc without a row (floor is a row now)
    ("nancumprod", np.nancumprod),
    ("linalg.eigvals", lambda v: np.linalg.eigvals(np.outer(v, v))),   # (pinv is a composite now)
    ("trapezoid", np.trapezoid),
    ("add.reduce", np.add.reduce),
], ids=lambda v: v if isinstance(v, str) else "")
def test_function_without_a_row_raises_in_every_mode(name, fn):
    x = np.array([0.3, -1.2, 0.8])
    pat = NOT_DIFFERENTIABLE % name.replace(".", r"\.")
    for call in _modes(fn, x):
        with pytest.raises(TypeError, match=pat):
            call()


def test_graph_tensor_does_not_convert_to_an_array():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    for conv in (np.asarray, np.array, lambda t: np.asarray(t * 2)):
        with pytest.raises(TypeError, match=r"requires grad.*\.detach\(\)"):
            conv(x)
    np.testing.assert_array_equal(np.asarray(x.detach()), [1.0, 2.0])
    with ad.no_grad():
        np.testing.assert_array_equal(np.asarray(x * 2), [2.0, 4.0])


def test_writing_a_graph_tensor_into_an_ndarray_raises():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = np.zeros(3)
    with pytest.raises(TypeError, match="requires grad"):
        y[1:] = x
    with pytest.raises(TypeError, match=r"out="):
        y[:2] += x


def test_functional_update_on_tensors_records():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = ad.zeros(3)
    y[1:] = np.sin(x)
    ad.sum(y * np.array([1.0, 2.0, 3.0])).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos([1.0, 2.0]) * [2.0, 3.0])


def test_unsupported_keyword_raises_clearly():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"np\.sum\(\.\.\., where=\.\.\.\)"):
        np.sum(x, where=np.array([True, False]))
    with pytest.raises(TypeError, match=r"out="):
        np.sin(x, out=np.zeros(2))


def test_grad_of_complex_or_bool_output_raises():
    with pytest.raises(TypeError, match="adjit.grad: .*complex"):
        ad.grad(lambda x: x * 1j)(1.0)
    with pytest.raises(TypeError, match="adjit.grad: .*bool"):
        ad.grad(lambda x: x > 1.0)(2.0)


def test_list_input_reaching_an_op_raises():
    with pytest.raises(TypeError, match=r"adjit\.sum: .*Python list"):
        ad.grad(lambda x: ad.sum(x))([1.0, 2.0])
    with pytest.raises(TypeError, match=r"Python list"):
        ad.grad(lambda x: np.sum(x))([1.0, 2.0])
    # a list used element by element is a pytree, as in JAX
    np.testing.assert_allclose(ad.grad(lambda x: x[0] * x[1])([1.0, 2.0]), [2.0, 1.0])


# --- ad.dot, matrix norms, vector norms at edge values, trace ---------------------------------

def test_dot_follows_np_dot_for_nd_operands():
    rng = rng_for("dot")
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(2, 3, 4))
    np.testing.assert_allclose(ad.dot(a, b), np.dot(a, b))
    a, b = rng.normal(size=(2, 2, 3)), rng.normal(size=(4, 3, 5))
    np.testing.assert_allclose(ad.dot(a, b), np.dot(a, b))
    np.testing.assert_allclose(ad.dot(2.0, b), 2.0 * b)


@pytest.mark.parametrize("ord", [1, -1, np.inf, -np.inf, "fro", None])
def test_matrix_norm_values(ord):
    m = np.array([[1.0, -2.0], [3.0, 4.0]])
    np.testing.assert_allclose(ad.norm(m, ord), np.linalg.norm(m, ord))
    np.testing.assert_allclose(ad.norm(ad.tensor(m, requires_grad=True), ord).item(),
                               np.linalg.norm(m, ord))
    m3 = rng_for("m3").normal(size=(2, 3, 4))
    np.testing.assert_allclose(ad.norm(m3, ord, axis=(0, 2), keepdims=True),
                               np.linalg.norm(m3, ord, axis=(0, 2), keepdims=True))


def test_matrix_norm_1_is_not_the_entrywise_norm():
    assert ad.norm(np.array([[1.0, 2.0], [3.0, 4.0]]), 1) == 6.0


@pytest.mark.parametrize("ord", [2, -2, "nuc"])
def test_singular_value_matrix_norms(ord):
    m = np.array([[1.0, -2.0, 0.5], [3.0, 4.0, -1.0]])
    np.testing.assert_allclose(ad.norm(m, ord), np.linalg.norm(m, ord))  # values always
    u, s, vt = np.linalg.svd(m, full_matrices=False)
    want = {2: np.outer(u[:, 0], vt[0]), -2: np.outer(u[:, -1], vt[-1]), "nuc": u @ vt}[ord]
    np.testing.assert_allclose(ad.grad(lambda v: ad.norm(v, ord))(m), want, rtol=1e-8,
                               atol=1e-10)
    np.testing.assert_allclose(ad.grad(lambda v: np.linalg.norm(v, ord))(m), want, rtol=1e-8,
                               atol=1e-10)
    np.testing.assert_allclose(ad.jacfwd(lambda v: ad.norm(v, ord))(m), want, rtol=1e-8,
                               atol=1e-10)
    assert ad.autograd.gradcheck(lambda v: ad.norm(v, ord), (m,))
    m3 = rng_for(("sv", ord)).normal(size=(2, 3, 4))
    np.testing.assert_allclose(ad.norm(m3, ord, axis=(2, 0), keepdims=True),
                               np.linalg.norm(m3, ord, axis=(2, 0), keepdims=True))
    assert ad.autograd.gradcheck(lambda v: ad.norm(v, ord, axis=(2, 0)), (m3,))
    # second derivatives go through the SVD's rules (distinct singular values here)
    assert ad.gradcheck(lambda v: ad.grad(lambda w: ad.norm(w, ord))(v), (m,))


def test_vector_norm_edge_derivatives():
    z = np.zeros(3)
    np.testing.assert_array_equal(ad.grad(lambda v: ad.norm(v, 3))(z), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(ad.jacfwd(lambda v: ad.norm(v, 3))(z), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(ad.grad(lambda v: ad.norm(v, -np.inf))(np.array([1.0, -3.0])),
                                  [1.0, 0.0])
    np.testing.assert_array_equal(ad.grad(lambda v: ad.norm(v, np.inf))(np.array([1.0, -3.0])),
                                  [0.0, -1.0])
    x = np.array([0.0, 2.0, -1.0])
    assert ad.norm(x, 0) == np.linalg.norm(x, 0) == 2.0
    np.testing.assert_array_equal(ad.grad(lambda v: ad.norm(v, 0))(x), [0.0, 0.0, 0.0])
    for p in (3, 0.5, -1.5):
        x = np.array([0.4, -1.3, 0.9])
        np.testing.assert_allclose(ad.norm(x, p), np.linalg.norm(x, p))
        assert ad.autograd.gradcheck(lambda v: ad.norm(v, p), (x,))


@pytest.mark.parametrize("shape,offset,a1,a2", [((3, 4), 0, 0, 1), ((4, 3), 0, 0, 1),
                                                ((3, 4), 2, 0, 1), ((3, 4), -2, 0, 1),
                                                ((3, 4), 5, 0, 1), ((2, 3, 4), 1, 2, 0),
                                                ((2, 3, 4), 0, -1, -2)])
def test_trace_follows_np_trace(shape, offset, a1, a2):
    x = rng_for(("tr", shape, offset)).normal(size=shape)
    np.testing.assert_allclose(ad.trace(x, offset, a1, a2), np.trace(x, offset, a1, a2))
    np.testing.assert_allclose(ad.trace(x, offset=offset, axis1=a1, axis2=a2),
                               np.trace(x, offset, a1, a2))
    assert ad.autograd.gradcheck(lambda v: ad.trace(v, offset, a1, a2), (x,))
