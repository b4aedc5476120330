"""Tensor methods PyTorch users type without thinking (issue 15): each a thin alias of a row or
a cast, with the row's derivative."""
import numpy as np
import pytest

import adjit as ad


def _x():
    return ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)


def test_arithmetic_and_matrix_aliases_match_the_ops_and_differentiate():
    x, A = _x(), np.array([[1.0, 2.0], [3.0, 4.0]])
    y = x.add(1).sub(2).mul(3).div(4)
    np.testing.assert_allclose(y.detach().numpy(), (A + 1 - 2) * 3 / 4)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 2), 0.75))
    x = _x()
    x.mm(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones((2, 2)) @ A.T + A.T @ np.ones((2, 2)))
    assert x.t().tolist() == A.T.tolist() and x.numel() == 4
    assert ad.tensor([1.0, 2.0]).t().shape == (2,)
    with pytest.raises(ValueError, match=r"t\(\) expects a tensor with <= 2 dimensions"):
        ad.ones(2, 2, 2).t()


def test_casts_keep_the_derivative_between_floats_and_drop_it_to_ints():
    x = _x()
    y = x.float()
    assert y.dtype == np.float32 and y.requires_grad
    (y.double() * 2).sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [[2.0, 2.0], [2.0, 2.0]]
    i = x.astype(np.int64)
    assert i.dtype == np.int64 and not i.requires_grad and i.tolist() == [[1, 2], [3, 4]]
    assert ad.tensor([1, 2]).float().dtype == np.float32
    assert x.double() is x and x.astype(np.float64) is not x   # NumPy's astype copies
    g = ad.grad(lambda v: ad.sum(v.float() ** 2))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(g, [2.0, 4.0])
    np.testing.assert_allclose(ad.jit(ad.grad(lambda v: ad.sum(v.float() ** 2)))(np.array([1.0, 2.0])),
                               [2.0, 4.0])
    np.testing.assert_allclose(ad.jacfwd(lambda v: v.double() * 3)(np.ones(2)), 3 * np.eye(2))


def test_argmax_argmin_copy_exp_():
    x = _x()
    assert x.argmax().item() == 3 and x.argmax(dim=1).tolist() == [1, 1]
    assert x.argmin(axis=0).tolist() == [0, 0] and not x.argmax().requires_grad
    c = x.copy()
    assert c.grad_fn is not None and c.tolist() == x.tolist()
    z = ad.tensor([0.0, 1.0])
    z.exp_()
    np.testing.assert_allclose(z.numpy(), [1.0, np.e])
    w = ad.tensor([0.0, 1.0], requires_grad=True)
    v = w * 1
    v.exp_()
    v.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [1.0, np.e])
