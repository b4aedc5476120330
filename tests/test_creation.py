"""Creation functions PyTorch users type without thinking (normal, randint, *_like, from_numpy,
as_tensor): shapes, dtypes, distributions, errors."""
import numpy as np
import pytest

import adjit as ad


def test_normal_broadcasts_mean_and_std_and_has_their_moments():
    ad.manual_seed(0)
    z = ad.normal(3.0, 2.0, (20000,))
    assert z.shape == (20000,) and z.dtype == np.float64 and not z.requires_grad
    assert abs(z.numpy().mean() - 3.0) < 0.05 and abs(z.numpy().std() - 2.0) < 0.05
    assert ad.normal(np.zeros((2, 3)), 1.0).shape == (2, 3)
    assert ad.normal(0.0, np.ones(4), dtype=np.float32).dtype == np.float32
    assert ad.normal(0.0, 1.0, 5, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="std must be non-negative"):
        ad.normal(0.0, -1.0, (2,))


def test_randint_forms_and_range():
    ad.manual_seed(1)
    a = ad.randint(5, (1000,))
    b = ad.randint(2, 9, (10, 10))
    assert a.dtype == np.int64 and a.numpy().min() >= 0 and a.numpy().max() < 5
    assert b.shape == (10, 10) and b.numpy().min() >= 2 and b.numpy().max() < 9
    assert set(np.unique(a.numpy())) == {0, 1, 2, 3, 4}
    with pytest.raises(ValueError, match="high"):
        ad.randint(3, 3, (2,))
    with pytest.raises(RuntimeError, match="only floating point"):
        ad.randint(3, (2,)).requires_grad_()


def test_like_functions_keep_shape_and_float_dtype_and_accept_graph_tensors():
    x = ad.ones(2, 3, dtype=np.float32, requires_grad=True)
    y = x * 2  # a graph tensor: must not be converted to an array to read its shape
    for fn in (ad.randn_like, ad.rand_like, ad.zeros_like, ad.ones_like):
        r = fn(y)
        assert r.shape == (2, 3) and r.dtype == np.float32, fn.__name__
    assert ad.rand_like(ad.tensor([1, 2])).dtype == np.float64   # ints give floats
    r = ad.rand_like(np.zeros(100)).numpy()
    assert r.min() >= 0 and r.max() < 1


def test_from_numpy_shares_memory_and_as_tensor_does_not_copy_tensors():
    a = np.arange(3.0)
    t = ad.from_numpy(a)
    a[0] = 7.0
    assert t.tolist() == [7.0, 1.0, 2.0]
    assert ad.from_numpy(np.ones((), dtype=np.float32)).shape == ()
    with pytest.raises(TypeError, match="expected np.ndarray"):
        ad.from_numpy([1.0, 2.0])
    u = ad.tensor([1.0, 2.0])
    assert ad.as_tensor(u) is u
    assert ad.as_tensor(u, dtype=np.float32).dtype == np.float32
    assert ad.as_tensor([1, 2]).dtype.kind == "i"
