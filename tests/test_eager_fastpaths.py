"""The eager fast paths keep the general paths' results: strong-zero products checked on the
smaller factor, in-place updates under no_grad on NumPy values, small broadcasts as copies,
the engine's creation-order walk."""
import numpy as np
import pytest

import adjit as ad
from adjit.ops.elementwise import strong_mul_np


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0 * inf, as in a backward
def test_strong_zero_checked_on_the_partial_of_batched_tangents():
    g = np.array([[0.0, 1.0], [2.0, 0.0], [0.0, 0.0]])      # 3 directions of a 2-vector
    d = np.array([np.inf, 3.0])
    r = strong_mul_np(g, d)
    np.testing.assert_array_equal(r, [[0.0, 3.0], [np.inf, 0.0], [0.0, 0.0]])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0 * inf, as in a backward
def test_strong_zero_with_a_float_partial():
    g = np.array([0.0, 2.0])
    np.testing.assert_array_equal(strong_mul_np(g, np.inf), [0.0, np.inf])
    np.testing.assert_array_equal(strong_mul_np(g, 3.0), [0.0, 6.0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0 * inf, as in a backward
def test_nan_in_g_still_propagates():
    g = np.array([[np.nan, 0.0], [1.0, 0.0]])
    r = strong_mul_np(g, np.array([2.0, np.inf]))
    assert np.isnan(r[0, 0]) and r[0, 1] == 0.0 and r[1, 0] == 2.0 and r[1, 1] == 0.0
    r = strong_mul_np(np.array([np.nan, 1.0]), np.array([2.0, 3.0]))
    assert np.isnan(r[0]) and r[1] == 3.0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0 * inf, as in a backward
def test_batched_jacobian_of_sqrt_branch_at_zero_is_zero():
    f = lambda x: ad.where(x > 0, ad.sqrt(ad.abs(x)), 0.0)  # noqa: E731
    J = ad.jacfwd(f)(np.array([0.0, 4.0, -1.0]))
    np.testing.assert_array_equal(J, np.diag([0.0, 0.25, 0.0]))


def test_sgd_update_under_no_grad_keeps_dtype_and_bumps_the_version():
    w = ad.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    (w * w).sum().backward()
    with ad.no_grad():
        w -= 0.25 * w.grad
        w *= 2
        w += np.array([1.0, 1.0])
        w /= ad.tensor(2.0)
    assert w.dtype == np.float32 and w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.detach().numpy(), [1.0, 1.5])
    w.grad.zero_()
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0])


def test_update_under_no_grad_invalidates_a_saved_value():
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    with ad.no_grad():
        w -= 1.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


@pytest.mark.parametrize("n", [3, 10_000])
def test_sum_backward_small_copy_and_large_view(n):
    x = ad.tensor(np.arange(float(n)).reshape(-1, 1), requires_grad=True)
    (x.sum() * 2).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((n, 1), 2.0))
    v = ad.tensor([1.0, 2.0], requires_grad=True)
    (ad.tensor(np.ones((n, 1))) * v).sum().backward()        # broadcast, then summed back
    np.testing.assert_array_equal(v.grad.numpy(), [n, n])


def test_diamond_graph_each_node_once_after_its_consumers():
    x = ad.tensor(2.0, requires_grad=True)
    a = x * x            # used by both branches
    b = ad.sin(a)
    c = a * 3
    d = b + c * a
    seen = []
    a.register_hook(lambda g: seen.append(("a", float(g))))
    d.backward()
    # dd/da = cos(a) + 6a, called once with the whole cotangent
    assert seen == [("a", pytest.approx(np.cos(4.0) + 24.0))]
    np.testing.assert_allclose(x.grad.item(), (np.cos(4.0) + 24.0) * 4.0)
