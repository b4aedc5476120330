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


# --- the eager overhead fast paths (issue 10): same results as the general paths -----------

def test_tensor_operator_with_a_higher_level_operand_still_dispatches_to_it():
    # Tensor.__mul__ skips the registry only when the tensor is the top wrapper
    x = ad.tensor(3.0, requires_grad=True)
    g = ad.grad(lambda t: (x * t) * t)(2.0)        # t: a tensor of the transform's level
    assert float(g) == pytest.approx(12.0)
    d = ad.jvp(lambda t: (ad.tensor(2.0) * t).sum(), (np.array([1.0, 2.0]),),
               (np.array([1.0, 1.0]),))
    assert float(d[1]) == pytest.approx(4.0)


def test_sum_backward_of_a_batched_cotangent_keeps_the_general_path():
    # the small-array sum VJP must not broadcast k cotangent rows into the input
    J = ad.jacrev(lambda v: ad.stack([v.sum(), (v * v).sum()]))(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(J, [[1, 1, 1], [2, 4, 6]])
    x = ad.tensor(np.ones((2, 3)), requires_grad=True)
    (x.sum(keepdims=True) * 3.0).backward(gradient=np.array([[2.0]]))
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 6.0))


def test_reshape_and_transpose_of_plain_arrays_keep_adjit_errors():
    with pytest.raises(ValueError, match="adjit.reshape"):
        ad.reshape(np.ones(6), shape=(4, 2))
    np.testing.assert_array_equal(ad.reshape(np.arange(6.0), shape=(2, 3)),
                                  np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(ad.transpose(np.arange(6.0).reshape(2, 3)),
                                  np.arange(6.0).reshape(2, 3).T)


def test_backward_of_a_numpy_scalar_loss_seeds_an_array_and_retains():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()                    # its value is a NumPy scalar
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()


def test_free_keeps_small_unread_arrays_and_placeholders_large_ones():
    for n, kept in ((5, True), (1000, False)):
        x = ad.tensor(np.ones(n), requires_grad=True)
        y = (x + 1.0) * 2.0               # add reads nothing, mul reads its constant 2.0
        node = y.grad_fn
        y.sum().backward(retain_graph=False)
        assert node.raw is not None       # only constants were read: it can run again
        assert (node.raw[0].strides != (0,)) == kept
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.full(n, 4.0))


def test_summed_leaf_gradient_is_not_shared_with_a_hook():
    # two contributions to x are summed in the backward: .grad takes that sum uncopied, except
    # when a hook has seen it (the hook's tensor must not change with x.grad)
    for hook in (False, True):
        x = ad.tensor(np.arange(6.0), requires_grad=True)
        seen = []
        if hook:
            x.register_hook(lambda g: seen.append(g))
        (x[1:].sum() + (x[:-1] * 2.0).sum()).backward()
        expected = np.array([2.0, 3.0, 3.0, 3.0, 3.0, 1.0])
        np.testing.assert_array_equal(x.grad.numpy(), expected)
        x.grad.numpy()[:] = 0.0
        if hook:
            np.testing.assert_array_equal(seen[0].numpy(), expected)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_elementwise_fast_path_edge_values():
    x = ad.tensor([1.0, -2.0], requires_grad=True)
    (x / 0).sum().backward()                 # a Python 0 in the denominator: IEEE infinities
    assert np.all(np.isinf(x.grad.numpy()))
    x = ad.tensor([0.0, 3.0], requires_grad=True)
    (x ** 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 6.0])
    y = ad.tensor([0.0, 4.0], requires_grad=True)
    ad.where(y > 0, ad.sqrt(y), 0.0).sum().backward()   # strong zero: no NaN at 0
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.25])
    z = ad.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    (z * 3.0).sum().backward()
    assert z.grad.dtype == np.float32


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0 * inf
def test_strong_zero_with_a_scalar_first_factor():
    r = strong_mul_np(2, np.array([np.nan, 1.0]))          # nonzero: nothing to mask
    assert np.isnan(r[0]) and r[1] == 2.0
    np.testing.assert_array_equal(strong_mul_np(0.0, np.array([np.inf, 1.0])), [0.0, 0.0])
    np.testing.assert_array_equal(strong_mul_np(np.float64(0.0), np.array([np.nan])), [0.0])
