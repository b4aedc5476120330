"""Issue 2, "Must work exactly": each bullet is a test; the numbers are PyTorch's."""
import numpy as np
import pytest

import adjit as ad


def arr(t):
    return np.asarray(t.detach() if isinstance(t, ad.Tensor) else t)


# -- seed: y = 2 x.x ----------------------------------------------------------------------------

def test_seed_value_and_gradient():
    x = ad.arange(4.0)
    x.requires_grad_(True)
    y = 2 * ad.dot(x, x)
    assert y.item() == 28.0
    assert y.shape == ()
    y.backward()
    np.testing.assert_array_equal(arr(x.grad), [0.0, 4.0, 8.0, 12.0])


def test_seed_zero_then_sum_gives_ones():
    x = ad.arange(4.0).requires_grad_(True)
    (2 * ad.dot(x, x)).backward()
    x.grad.zero_()
    np.testing.assert_array_equal(arr(x.grad), np.zeros(4))
    x.sum().backward()
    np.testing.assert_array_equal(arr(x.grad), np.ones(4))


def test_seed_gradients_accumulate_without_zero():
    x = ad.arange(4.0).requires_grad_(True)
    (2 * ad.dot(x, x)).backward()
    x.sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [1.0, 5.0, 9.0, 13.0])
    (2 * ad.dot(x, x)).backward()
    np.testing.assert_array_equal(arr(x.grad), [1.0, 9.0, 17.0, 25.0])


# -- non-scalar backward with an explicit gradient -----------------------------------------------

def test_backward_with_ones_equals_sum_backward():
    x1 = ad.arange(4.0).requires_grad_(True)
    (x1 * x1).backward(ad.ones(4))
    x2 = ad.arange(4.0).requires_grad_(True)
    (x2 * x2).sum().backward()
    np.testing.assert_array_equal(arr(x1.grad), arr(x2.grad))
    np.testing.assert_array_equal(arr(x1.grad), [0.0, 2.0, 4.0, 6.0])


def test_backward_gradient_keyword_product():
    x = ad.tensor([0.0, 2.0, 8.0], requires_grad=True)
    y = ad.tensor([5.0, 1.0, 7.0], requires_grad=True)
    (y * x).backward(gradient=ad.ones(3))
    np.testing.assert_array_equal(arr(x.grad), [5.0, 1.0, 7.0])
    np.testing.assert_array_equal(arr(y.grad), [0.0, 2.0, 8.0])


# -- detach ------------------------------------------------------------------------------------

def test_detach_blocks_gradient():
    x = ad.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x * x
    u = y.detach()
    assert not u.requires_grad and u.grad_fn is None and u.is_leaf
    (u * x).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), arr(u))
    x.grad = None
    y.sum().backward()  # the kept y still has its graph
    np.testing.assert_array_equal(arr(x.grad), 2 * np.array([1.0, -2.0, 3.0]))


# -- control flow --------------------------------------------------------------------------------

def _control_flow(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    c = b if b.sum() > 0 else 100 * b
    return c


@pytest.mark.parametrize("value", [0.3, -0.7])
def test_control_flow_scalar(value):
    a = ad.tensor(value, requires_grad=True)
    c = _control_flow(a)
    c.backward()
    expected = arr(c) / value
    assert a.grad.item() == pytest.approx(float(expected), rel=1e-12)
    # the loop ran: the gradient is a power of two (times 100 on the negative branch)
    k = np.log2(expected / (100 if value < 0 else 1))
    assert k == round(k) and k >= 10


def test_control_flow_matrix():
    ad.manual_seed(0)
    a = ad.randn(5, 4, requires_grad=True)
    c = _control_flow(a)
    c.backward(gradient=ad.ones(5, 4))
    np.testing.assert_allclose(arr(a.grad), arr(c) / arr(a), rtol=1e-12)
    g = arr(a.grad)
    assert np.all(g == g[0, 0])  # one factor for every element


# -- x log x + sin(xy) ---------------------------------------------------------------------------

def test_xlogx_plus_sin_xy():
    x = ad.tensor(1.0, requires_grad=True)
    y = ad.tensor(2.0, requires_grad=True)
    f = x * ad.log(x) + ad.sin(x * y)
    assert f.item() == pytest.approx(0.9093, abs=5e-5)
    assert f.item() == pytest.approx(np.sin(2.0), rel=1e-14)
    f.backward()
    assert x.grad.item() == pytest.approx(0.1677, abs=5e-5)
    assert x.grad.item() == pytest.approx(np.log(1.0) + 1 + 2 * np.cos(2.0), rel=1e-14)
    assert y.grad.item() == pytest.approx(-0.4161, abs=5e-5)
    assert y.grad.item() == pytest.approx(np.cos(2.0), rel=1e-14)


# -- logdet --------------------------------------------------------------------------------------

def test_logdet_gradient_is_inverse_transpose():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((5, 5)) + 4 * np.eye(5)
    assert np.linalg.det(A) > 0
    X = ad.tensor(A, requires_grad=True)
    ld = ad.logdet(X)
    assert ld.item() == pytest.approx(np.log(np.linalg.det(A)), rel=1e-12)
    ld.backward()
    np.testing.assert_allclose(arr(X.grad), np.linalg.inv(A).T, rtol=1e-10, atol=1e-12)


# -- (x+y)^2 z^3 ---------------------------------------------------------------------------------

def test_sum_square_times_cube():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = ad.tensor([3.0, 4.0, 5.0], requires_grad=True)
    z = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    s = x + y
    p = s ** 2
    q = z ** 3
    out = p * q
    out.backward(ad.ones(3))
    np.testing.assert_array_equal(arr(x.grad), [8.0, 96.0, 432.0])
    np.testing.assert_array_equal(arr(y.grad), [8.0, 96.0, 432.0])
    np.testing.assert_array_equal(arr(z.grad), [48.0, 432.0, 1728.0])
    for t in (s, p, q, out):
        assert not t.is_leaf
        assert t.grad is None


# -- hooks ---------------------------------------------------------------------------------------

def test_hook_on_intermediate_receives_z():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = ad.tensor([3.0, 4.0, 5.0], requires_grad=True)
    z = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    xy = x + y
    got = []
    xy.register_hook(lambda g: got.append(arr(g).copy()))
    ad.dot(xy, z).backward()
    assert len(got) == 1
    np.testing.assert_array_equal(got[0], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(arr(x.grad), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(arr(z.grad), [4.0, 6.0, 8.0])


# -- higher order: x**6 ---------------------------------------------------------------------------

def test_x6_create_graph_then_hook_gets_30():
    x = ad.tensor(1.0, requires_grad=True)
    z = x ** 6
    z.backward(create_graph=True)
    assert x.grad.item() == 6.0
    assert x.grad.grad_fn is not None
    assert x.grad.requires_grad
    got = []
    x.register_hook(lambda g: got.append(g.item()))
    x.grad.backward()
    assert got == [30.0]
    assert x.grad.item() == 36.0  # 6 + 30 accumulated, as PyTorch


def test_x6_autograd_grad_twice():
    x = ad.tensor(1.0, requires_grad=True)
    z = x ** 6
    g1 = ad.autograd.grad(z, x, create_graph=True)
    assert isinstance(g1, tuple) and len(g1) == 1
    assert g1[0].item() == 6.0
    g2 = ad.autograd.grad(g1, x)
    assert isinstance(g2, tuple) and len(g2) == 1
    assert g2[0].item() == 30.0
    assert x.grad is None


def test_x6_third_and_fourth_order_at_2():
    x = ad.tensor(2.0, requires_grad=True)
    g = x ** 6
    vals = []
    for _ in range(4):
        (g,) = ad.autograd.grad(g, x, create_graph=True)
        vals.append(g.item())
    assert vals == [6 * 2.0 ** 5, 30 * 2.0 ** 4, 120 * 2.0 ** 3, 360 * 2.0 ** 2]


# -- autograd.grad --------------------------------------------------------------------------------

def test_autograd_grad_leaves_grad_none_and_allow_unused():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = ad.tensor([3.0, 4.0], requires_grad=True)
    z = ad.tensor([5.0, 6.0], requires_grad=True)
    w = ad.tensor([7.0, 8.0], requires_grad=True)
    xyz = (x * y * z).sum()
    (gx,) = ad.autograd.grad(xyz, [x], retain_graph=True)
    np.testing.assert_array_equal(arr(gx), [15.0, 24.0])
    for t in (x, y, z, w):
        assert t.grad is None
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        ad.autograd.grad(xyz, [x, w], retain_graph=True)
    gx, gw = ad.autograd.grad(xyz, [x, w], allow_unused=True)
    assert gw is None
    np.testing.assert_array_equal(arr(gx), [15.0, 24.0])
    for t in (x, y, z, w):
        assert t.grad is None


# -- grad mode -----------------------------------------------------------------------------------

def test_set_grad_enabled_plain_call():
    x = ad.tensor(2.0, requires_grad=True)
    try:
        ad.set_grad_enabled(False)
        assert not ad.is_grad_enabled()
        y = x * x
        assert not y.requires_grad and y.grad_fn is None
    finally:
        ad.set_grad_enabled(True)
    assert ad.is_grad_enabled()
    assert (x * x).requires_grad


def test_set_grad_enabled_context_manager():
    x = ad.tensor(2.0, requires_grad=True)
    with ad.set_grad_enabled(False):
        assert not ad.is_grad_enabled()
        assert not (x * x).requires_grad
        with ad.set_grad_enabled(True):
            assert (x * x).requires_grad
        assert not (x * x).requires_grad
    assert ad.is_grad_enabled()
    assert (x * x).requires_grad


def test_no_grad_and_enable_grad_as_decorators():
    x = ad.tensor(2.0, requires_grad=True)

    @ad.no_grad()
    def off():
        return x * x, ad.is_grad_enabled()

    @ad.enable_grad()
    def on():
        return x * x, ad.is_grad_enabled()

    y, mode = off()
    assert not mode and not y.requires_grad
    assert ad.is_grad_enabled()
    with ad.no_grad():
        y, mode = on()
        assert mode and y.requires_grad
        assert not ad.is_grad_enabled()
    y.backward()
    assert x.grad.item() == 4.0


def test_enable_grad_nested_in_no_grad():
    x = ad.tensor(3.0, requires_grad=True)
    with ad.no_grad():
        a = x * 2
        with ad.enable_grad():
            b = x * x
        c = x * 3
    assert not a.requires_grad and not c.requires_grad
    assert b.requires_grad and b.grad_fn is not None
    b.backward()
    assert x.grad.item() == 6.0


def test_grad_mode_under_autograd_namespace():
    assert ad.autograd.no_grad is ad.no_grad
    assert ad.autograd.enable_grad is ad.enable_grad
    assert ad.autograd.set_grad_enabled is ad.set_grad_enabled
    with ad.autograd.no_grad():
        assert not ad.autograd.is_grad_enabled()
