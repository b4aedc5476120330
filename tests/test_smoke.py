import numpy as np

import adjit as ad


def test_seed_gradient():
    x = ad.arange(4.0)
    x.requires_grad_(True)
    y = 2 * ad.dot(x, x)
    assert y.item() == 28.0
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 4.0, 8.0, 12.0])
