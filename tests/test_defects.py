"""Regression tests for issue 16 (defects found by an adversarial run): one test per item,
each the item's reproducer asserting the correct value (finite differences, NumPy, PyTorch's
documented semantics) or the clear error. Items handled elsewhere (jit guards, clip, norm,
trace, the randomized differential test) have their tests next to their fixes."""
import collections
import warnings

import numpy as np
import pytest

import adjit as ad
from adjit.transforms.pytree import tree_flatten, tree_unflatten

P = collections.namedtuple("P", "a b")


def fd_jac(f, x, eps=1e-6):
    """Central-difference Jacobian of f at x: shape f(x).shape + x.shape."""
    x = np.asarray(x, dtype=float)
    cols = []
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = eps
        e = e.reshape(x.shape)
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps))
    out = np.stack(cols, axis=-1)
    return out.reshape(np.shape(f(x)) + x.shape)


# ---------------------------------------------------------------------------------------------
# silently wrong numbers


def test_item_03_jvp_batched_tangent_non_adjacent_advanced_index():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4))
    T = rng.standard_normal((2, 3, 4, 2))

    def f(v):
        return v[[0, 1], :, [0, 2]]            # NumPy puts the advanced axis first: (2, 3)

    out, t = ad.jvp(f, (x,), (T,))
    np.testing.assert_allclose(out, x[[0, 1], :, [0, 2]])
    want = np.stack([T[..., i][[0, 1], :, [0, 2]] for i in range(2)], axis=-1)
    np.testing.assert_allclose(t, want, atol=1e-12)
    J = fd_jac(f, x)
    np.testing.assert_allclose(ad.jacfwd(f)(x), J, atol=1e-8)
    np.testing.assert_allclose(ad.jacrev(f)(x), J, atol=1e-8)
    # an advanced index with a slice in between and a broadcast index array; a second
    # derivative (forward over reverse) through the same layout
    g = lambda v: v[np.array([[0], [1]]), 1:, [1, 3, 2]]  # noqa: E731
    np.testing.assert_allclose(ad.jacfwd(g)(x), fd_jac(g, x), atol=1e-8)
    h = lambda v: ad.sum(ad.sin(v[[0, 1], :, [0, 2]]))  # noqa: E731
    H = ad.hessian(h)(x)
    np.testing.assert_allclose(H, fd_jac(ad.grad(h), x), atol=1e-6)


def test_item_06_var_with_ddof_at_least_n_is_inf_as_numpy():
    x = np.array([1.0, 2.0])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for ddof in (2, 3, 5):
            assert ad.var(x, ddof=ddof) == np.var(x, ddof=ddof) == np.inf
            assert ad.std(x, ddof=ddof) == np.std(x, ddof=ddof) == np.inf
            assert ad.var(ad.tensor(x), ddof=ddof).item() == np.inf
        np.testing.assert_allclose(ad.var(x, ddof=1), np.var(x, ddof=1))
        c = np.array([3.0, 3.0])
        assert np.isnan(ad.var(c, ddof=4)) and np.isnan(np.var(c, ddof=4))


def test_item_07_namedtuples_are_pytree_containers():
    x = np.array([1.0, 2.0])
    r = ad.jit(lambda v: P(v * 2.0, v + 1.0))(x)
    assert type(r) is P
    assert all(type(leaf) is np.ndarray for leaf in r)
    np.testing.assert_allclose(r.a, [2.0, 4.0])
    np.testing.assert_allclose(r.b, [2.0, 3.0])
    r2 = ad.jit(lambda p: p.a * p.b)(P(x, 3.0 * x))      # a namedtuple argument
    np.testing.assert_allclose(r2, 3.0 * x * x)

    p = P(np.ones(2), np.full(2, 3.0))
    g = ad.grad(lambda p: ad.sum(p.a * p.b))(p)
    assert type(g) is P
    np.testing.assert_allclose(g.a, [3.0, 3.0])
    np.testing.assert_allclose(g.b, [1.0, 1.0])
    J = ad.jacfwd(lambda p: p.a * p.b)(p)
    assert type(J) is P
    np.testing.assert_allclose(J.a, np.diag([3.0, 3.0]))
    leaves, spec = tree_flatten(P(1.0, [2.0, {"k": 3.0}]))
    assert leaves == [1.0, 2.0, 3.0]
    assert tree_unflatten(spec, leaves) == P(1.0, [2.0, {"k": 3.0}])
    hash(spec)   # ad.jit keys its cache by it


def test_item_08_in_place_shape_dtype_data_and_neg():
    a = ad.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"in-place.*\(2,\).*\(2, 2\)"):
        a += ad.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert a.shape == (2,)
    np.testing.assert_allclose(a.numpy(), [1.0, 2.0])
    a += np.array([[1.0, 1.0]]).reshape(2)     # same shape is fine
    a += 1.0                                   # a scalar broadcasts into a: fine

    i = ad.tensor([1, 2])
    with pytest.raises(TypeError, match=r"int64.*float64"):
        i += 1.5
    np.testing.assert_array_equal(i.numpy(), [1, 2])
    i += 1                                     # int into int is fine
    np.testing.assert_array_equal(i.numpy(), [2, 3])
    assert i.dtype == np.int64

    w = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w.data.zero_()
    np.testing.assert_array_equal(w.detach().numpy(), [0.0, 0.0, 0.0])
    assert w.requires_grad and w.is_leaf
    w.data[1] = 7.0
    np.testing.assert_array_equal(w.detach().numpy(), [0.0, 7.0, 0.0])
    w.data += 1.0
    np.testing.assert_array_equal(w.detach().numpy(), [1.0, 8.0, 1.0])
    ad.sum(w * w).backward()                   # w is still a leaf that accumulates
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 16.0, 2.0])

    n = -ad.tensor([1, 2])
    assert n.dtype == np.int64
    np.testing.assert_array_equal(n.numpy(), [-1, -2])
    assert (-ad.tensor(np.array([1.0], dtype=np.float32))).dtype == np.float32


def test_item_09_hook_modifying_grad_in_place():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = 3 * x

    def hook(g):
        g.mul_(2)                              # returns None: the modified g is used

    y.register_hook(hook)
    ad.sum(y * y).backward()
    np.testing.assert_allclose(x.grad.numpy(), [36.0, 72.0])

    x2 = ad.tensor([1.0, 2.0], requires_grad=True)   # a leaf's own hook, too
    x2.register_hook(hook)
    ad.sum(3 * x2).backward()
    np.testing.assert_allclose(x2.grad.numpy(), [6.0, 6.0])


def test_item_10_no_grad_decorator_on_generator():
    @ad.no_grad()
    def gen():
        yield ad.is_grad_enabled()
        yield ad.is_grad_enabled()

    @ad.enable_grad()
    def gen_on():
        yield ad.is_grad_enabled()

    it = gen()
    assert ad.is_grad_enabled()
    assert next(it) is False
    assert ad.is_grad_enabled()          # the mode is restored between steps
    assert next(it) is False
    with ad.no_grad():
        assert list(gen_on()) == [True]
        assert not ad.is_grad_enabled()

    x = ad.tensor([1.0], requires_grad=True)

    @ad.no_grad()
    def steps():
        yield x * 2

    assert not next(steps()).requires_grad


# ---------------------------------------------------------------------------------------------
# crashes and surprises


def test_item_11_expand_dims_axis_out_of_range():
    x = np.ones((2, 3))
    for axis in (3, 5, -4):
        with pytest.raises(np.exceptions.AxisError, match="adjit.expand_dims"):
            ad.expand_dims(x, axis)
        with pytest.raises(np.exceptions.AxisError):
            np.expand_dims(x, axis)
    assert ad.expand_dims(x, 2).shape == (2, 3, 1)
    assert ad.expand_dims(x, -3).shape == (1, 2, 3)
    with pytest.raises(np.exceptions.AxisError):
        ad.tensor(x).unsqueeze(4)


def test_item_12_jacfwd_does_not_hand_the_callers_arrays_to_f():
    a, b = np.ones(3), np.ones(3)

    def g(a, b):
        r = a * b
        for v in (a, b):
            if isinstance(v, np.ndarray):
                v[0] = 100.0                   # f modifies its argument in place
        return r

    for chunk in (1, 2, None):
        J = ad.jacfwd(g, (0, 1), chunk=chunk)(a, b)
        np.testing.assert_array_equal(a, np.ones(3))
        np.testing.assert_array_equal(b, np.ones(3))
        np.testing.assert_allclose(J[0], np.eye(3))
        np.testing.assert_allclose(J[1], np.eye(3))

    x = np.arange(6.0).reshape(2, 3)
    J = ad.jacfwd(lambda y: y.transpose(0, 1))(x)
    np.testing.assert_allclose(J, fd_jac(lambda y: y.T, x), atol=1e-8)


def test_item_13_gradcheck_of_a_tuple_output():
    assert ad.gradcheck(lambda a: (a * 2.0, ad.sum(ad.sin(a))), (np.array([0.1, 0.2, 0.3]),))
    assert ad.gradcheck(lambda a, b: {"p": a * b, "q": [a + b]},
                        (np.array([0.5, 2.0]), np.array([1.5, -1.0])))
    bad = ad.custom_op("defects_bad13", lambda x: x * x, lambda g, y, x: (g * x,),
                       lambda ts, y, x: ts[0] * x)
    with pytest.raises(AssertionError, match="mismatch for input 0"):
        ad.gradcheck(lambda a: (a * 2.0, bad(a)), (np.array([0.1, 0.2]),))


def test_item_15_exp2_log2_log10_on_fused_kernels():
    n = 4096
    x = np.linspace(0.5, 2.0, n)
    for f, d in ((ad.exp2, lambda v: np.exp2(v) * np.log(2.0)),
                 (ad.log2, lambda v: 1.0 / (v * np.log(2.0))),
                 (ad.log10, lambda v: 1.0 / (v * np.log(10.0)))):
        t = ad.tensor(x, requires_grad=True)
        ad.sum(f(t)).backward()
        np.testing.assert_allclose(t.grad.numpy(), d(x), rtol=1e-12)
        _, tan = ad.jvp(f, (x,), (np.ones(n),))
        np.testing.assert_allclose(tan, d(x), rtol=1e-12)


def _set_first(v):
    v = v * 1.0
    v[0] = v[1] * v[2]
    v[1:] = ad.sin(v[1:])
    return v * v


def test_item_16_item_assignment_in_forward_mode_and_jit():
    x = np.array([0.5, 1.0, 2.0])
    J = fd_jac(_set_first, x)
    np.testing.assert_allclose(ad.jacrev(_set_first)(x), J, atol=1e-7)
    np.testing.assert_allclose(ad.jacfwd(_set_first)(x), J, atol=1e-7)
    out, t = ad.jvp(_set_first, (x,), (np.array([1.0, -1.0, 0.5]),))
    np.testing.assert_allclose(out, _set_first(x.copy()))
    np.testing.assert_allclose(t, J @ np.array([1.0, -1.0, 0.5]), atol=1e-7)
    np.testing.assert_allclose(ad.hessian(lambda v: ad.sum(_set_first(v)))(x),
                               fd_jac(ad.grad(lambda v: ad.sum(_set_first(v))), x), atol=1e-6)
    d = ad.dual(x, np.eye(3))
    d[2] = 0.0
    np.testing.assert_allclose(d.primal, [0.5, 1.0, 0.0])
    np.testing.assert_allclose(d.tangent, np.diag([1.0, 1.0, 0.0]))

    j = ad.jit(_set_first)
    np.testing.assert_allclose(j(x), _set_first(x.copy()))
    np.testing.assert_allclose(j(x + 1.0), _set_first(x + 1.0))
    np.testing.assert_allclose(ad.jit(ad.jacfwd(_set_first))(x), J, atol=1e-7)
    jg = ad.jit(ad.grad(lambda v: ad.sum(_set_first(v))))
    np.testing.assert_allclose(jg(x), J.sum(axis=0), atol=1e-7)
    assert j._jit.n_eager == 0 and jg._jit.n_eager == 0      # compiled, not run eagerly


def _set_advanced(v):
    v = v * 1.0
    v[[0, 1], :, [0, 2]] = ad.sin(v[[0, 1], :, [1, 3]])      # NumPy moves these axes first
    v[np.array([True, False]), 1:, [[0], [2]]] = ad.reshape(v[1, :2, 1:3], (2, 1, 2)) * 2.0
    v[[0, 1], 1] = 0.0
    return v


def test_item_16_item_assignment_with_advanced_indices():
    x = np.random.default_rng(16).standard_normal((2, 3, 4))
    J = fd_jac(_set_advanced, x)
    np.testing.assert_allclose(ad.jacrev(_set_advanced)(x), J, atol=1e-7)
    np.testing.assert_allclose(ad.jacfwd(_set_advanced)(x), J, atol=1e-7)
    for f, want in ((_set_advanced, _set_advanced(x)), (ad.jacfwd(_set_advanced), J)):
        jf = ad.jit(f)
        np.testing.assert_allclose(jf(x), want, atol=1e-7)
        assert jf._jit.n_eager == 0


def test_item_17_jacrev_of_a_vjp_only_custom_op():
    sq = ad.custom_op("defects_sq17", lambda x: x * x, lambda g, y, x: (2.0 * x * g,))
    x = np.arange(6.0)
    np.testing.assert_allclose(ad.jacrev(sq)(x), np.diag(2.0 * x))
    np.testing.assert_allclose(ad.jacrev(lambda v: ad.sin(sq(v)), chunk=4)(x),
                               np.diag(2.0 * x * np.cos(x * x)), atol=1e-12)
    np.testing.assert_allclose(ad.jacobian(sq, mode="reverse")(x), np.diag(2.0 * x))


def test_item_18_empty_softmax_and_jitted_grad_of_prod():
    for shape, axis in (((3, 0), 1), ((0,), 0), ((0, 4), 0), ((0, 4), -1)):
        x = np.ones(shape)
        for f in (ad.softmax, ad.log_softmax):
            r = f(x, axis=axis)
            assert r.shape == shape
            t = ad.tensor(x, requires_grad=True)
            ad.sum(f(t, axis=axis)).backward()
            assert t.grad.shape == shape
    g = ad.jit(ad.grad(ad.prod))(np.ones((0,)))
    assert g.shape == (0,)
    np.testing.assert_allclose(ad.jit(ad.grad(ad.prod))(np.array([2.0, 3.0])), [3.0, 2.0])


def test_item_20_grad_of_logdet_at_a_singular_matrix_is_a_clear_error():
    # d log|det A| / dA = inv(A)^T does not exist at a singular A. PyTorch documents logdet as
    # not differentiable there (its LU-based backward returns non-finite numbers); adjit raises.
    A = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert ad.logdet(A) == -np.inf
    for f in (ad.grad(ad.logdet), ad.jacfwd(ad.logdet), ad.jacrev(ad.logdet)):
        with pytest.raises(np.linalg.LinAlgError, match=r"adjit.logdet.*singular.*eps"):
            f(A)
    t = ad.tensor(A, requires_grad=True)
    with pytest.raises(np.linalg.LinAlgError, match=r"adjit.logdet.*singular"):
        ad.logdet(t).backward()
    # det itself stays differentiable there (its gradient is the cofactor matrix)
    np.testing.assert_allclose(ad.grad(ad.det)(A), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)


def test_item_21_no_false_positive_of_the_version_check():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    b = a * 3              # the cotangent of a needs 3, not a
    a += 1
    ad.sum(b).backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])

    # a value the backward does read still raises
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    c = a * a
    a += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ad.sum(c).backward()
    # both factors tracked: each one's value is needed by the other's cotangent
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    w = ad.tensor([3.0, 4.0], requires_grad=True)
    a = x * 2
    b = a * w
    a += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ad.sum(b).backward()
    # exp saves its output; sin saves its input
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    e = ad.exp(a)
    a += 1
    ad.sum(e).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([2.0, 4.0]))


def test_item_24_nan_inputs_match_pytorch():
    nan = np.nan
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        # max / min over values holding a NaN: the result is NaN, so is its gradient
        for f in (ad.max, ad.min):
            x = ad.tensor([1.0, nan, 3.0], requires_grad=True)
            y = f(x)
            assert np.isnan(y.item())
            y.backward()
            assert np.all(np.isnan(x.grad.numpy()))
            assert np.all(np.isnan(ad.grad(f)(np.array([1.0, nan, 3.0]))))
            _, t = ad.jvp(f, (np.array([1.0, nan, 3.0]),), (np.ones(3),))
            assert np.isnan(t)
            # along an axis only the slice holding the NaN is affected
            G = ad.grad(lambda v: ad.sum(f(v, axis=1)))(np.array([[1.0, nan], [1.0, 2.0]]))
            assert np.all(np.isnan(G[0]))
            np.testing.assert_array_equal(G[1], [0.0, 1.0] if f is ad.max else [1.0, 0.0])
        # maximum / minimum: a NaN operand gets the whole gradient (PyTorch's masks)
        for f in (ad.maximum, ad.minimum):
            a = ad.tensor([nan, 1.0, 2.0], requires_grad=True)
            b = ad.tensor([0.5, 1.0, 0.0], requires_grad=True)
            ad.sum(f(a, b)).backward()
            np.testing.assert_array_equal(a.grad.numpy()[:2], [1.0, 0.5])
            np.testing.assert_array_equal(b.grad.numpy()[:2], [1.0, 0.5])
            _, t = ad.jvp(lambda u: f(u, 0.5), (np.array([nan]),), (np.ones(1),))
            np.testing.assert_array_equal(t, [1.0])
        # relu' and sign' at NaN: 1 and 0 as PyTorch
        for f, d in ((ad.relu, 1.0), (ad.sign, 0.0)):
            x = ad.tensor([nan, -1.0, 2.0], requires_grad=True)
            ad.sum(f(x)).backward()
            np.testing.assert_array_equal(x.grad.numpy(), [d, 0.0, 1.0 if f is ad.relu else 0.0])
            _, t = ad.jvp(f, (np.array([nan]),), (np.ones(1),))
            np.testing.assert_array_equal(t, [d])
            big = np.full(5000, nan)
            t = ad.tensor(big, requires_grad=True)
            ad.sum(f(t)).backward()                 # the fused kernel agrees
            np.testing.assert_array_equal(t.grad.numpy(), np.full(5000, d))


def test_item_25_second_backward_without_saved_values_and_requires_grad_on_non_leaf():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = ad.sum(x + 1)
    y.backward()
    y.backward()                                # nothing saved: allowed, as PyTorch
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])
    z = ad.sum(ad.reshape(x, (2, 1)) * 2.0)     # saves only the constant factor
    z.backward()
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])
    s = ad.sum(ad.sin(x))                       # sin saves x: the second backward raises
    s.backward()
    with pytest.raises(RuntimeError, match="second time"):
        s.backward()

    y = x * 2
    assert y.requires_grad_(True) is y          # a no-op on a non-leaf, as PyTorch
    y.requires_grad = True
    assert y.grad_fn is not None
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_item_30_errors_name_the_adjit_op():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: np.ones(3))
    with pytest.raises(RuntimeError, match=r"hook.*shape \(3,\).*\(2,\)"):
        ad.sum(y).backward()

    t = ad.tensor(np.ones((2, 3)))
    assert t.squeeze(0).shape == (2, 3)          # PyTorch: squeezing a size-2 dim is a no-op
    assert ad.tensor(np.ones((1, 3))).squeeze(0).shape == (3,)
    with pytest.raises(ValueError, match=r"adjit.squeeze.*axis 0.*size 2"):
        ad.squeeze(np.ones((2, 3)), 0)            # NumPy's function raises; so does adjit's

    with pytest.raises(ValueError, match=r"adjit.concatenate.*\(2, 3\).*\(3, 4\)"):
        ad.cat([np.ones((2, 3)), np.ones((3, 4))], axis=1)
    with pytest.raises(ValueError, match=r"adjit.stack.*\(2, 3\).*\(2, 4\)"):
        ad.stack([ad.tensor(np.ones((2, 3))), np.ones((2, 4))])
    with pytest.raises(ValueError, match=r"adjit.sin.*ragged"):
        ad.sin([[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError, match=r"adjit.add.*ragged"):
        ad.add([[1.0, 2.0], [3.0]], 1.0)
    for f in (ad.max, ad.min):
        with pytest.raises(ValueError, match=r"adjit.m(ax|in).*empty|zero-size"):
            f(np.ones((0,)))
        with pytest.raises(ValueError, match=r"adjit.m(ax|in)"):
            f(ad.tensor(np.ones((0, 2)), requires_grad=True), axis=0)
    with pytest.raises(TypeError, match=r"adjit.erf.*float128"):
        ad.erf(np.ones(3, dtype=np.longdouble))
    with pytest.raises(TypeError, match=r"adjit.erf.*float128"):
        ad.erf(np.ones(5000, dtype=np.longdouble))


def test_zero_and_fill_on_a_non_leaf_are_recorded():
    # found while timing the eager paths: y.zero_() on a graph tensor raised AttributeError
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.zero_()
    assert y.tolist() == [0.0, 0.0] and y.requires_grad
    (y + x).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]          # the zeroed part sends no gradient
    z = ad.tensor([1.0, np.inf])
    z.fill_(7)
    assert z.tolist() == [7.0, 7.0]


# ---------------------------------------------------------------------------------------------
# found by the coverage work: a tensor buffer written inside a transform (README's own advice
# for assembling arrays: y = ad.zeros(n); y[i] = v)

def _buffer_loss(v):
    y = ad.zeros(3)
    y[0:2] = v * 2.0
    return ad.sum(y * y)


def test_tensor_buffer_written_inside_grad_differentiates():
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(ad.grad(_buffer_loss)(x), 8.0 * x)      # was [0, 0]
    np.testing.assert_allclose(ad.jacrev(_buffer_loss)(x), 8.0 * x)
    np.testing.assert_allclose(ad.hessian(_buffer_loss)(x), 8.0 * np.eye(2))
    np.testing.assert_allclose(ad.jit(ad.grad(_buffer_loss))(x), 8.0 * x)

    def one(v):
        y = ad.zeros(3)
        y[0] = v[0]
        return ad.sum(y)
    np.testing.assert_allclose(ad.grad(one)(x), [1.0, 0.0])


def test_tensor_buffer_written_with_duals_or_batched_values_raises():
    x = np.array([1.0, 2.0])
    with pytest.raises(TypeError, match="in-place write"):
        ad.jacfwd(_buffer_loss)(x)       # was [0, 0]
    with pytest.raises(TypeError, match="in-place write"):
        ad.jvp(_buffer_loss, (x,), (x,))
    with pytest.raises(TypeError, match="in-place write"):
        ad.vmap(_buffer_loss)(np.ones((4, 2)))   # was NaN
