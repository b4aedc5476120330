"""A float32 argument's derivative is float32 under ad.jit and ad.vmap as it is eagerly, also
when the function mixes in float64 constants (before: the compiled and the batched gradient
came back float64, the eager one float32: the cast to the argument's dtype skipped wrappers)."""
import numpy as np
import pytest

import adjit as ad

W = np.array([0.5, -1.0, 2.0])   # float64, closed over


def loss(x):
    return ad.sum(ad.sin(x) * W)


@pytest.mark.parametrize("how", ["eager", "jit", "vmap", "jit_vmap", "grad_of_grad", "jit_hvp"])
def test_float32_gradient_stays_float32(how):
    x = np.array([0.3, -0.2, 1.1], dtype=np.float32)
    X = np.stack([x, 2 * x])
    g = ad.grad(loss)
    run = {"eager": lambda: g(x), "jit": lambda: ad.jit(g)(x),
           "vmap": lambda: ad.vmap(g)(X), "jit_vmap": lambda: ad.jit(ad.vmap(g))(X),
           "grad_of_grad": lambda: ad.grad(lambda y: ad.sum(g(y) ** 2))(x),
           "jit_hvp": lambda: ad.jit(ad.grad(lambda y: ad.sum(g(y) ** 2)))(x)}[how]
    got = np.asarray(run())
    assert got.dtype == np.float32
    want = {"eager": np.cos(x) * W, "jit": np.cos(x) * W,
            "vmap": np.cos(X) * W, "jit_vmap": np.cos(X) * W}.get(
        how, -2 * np.cos(x) * np.sin(x) * W ** 2)
    np.testing.assert_allclose(got, want, rtol=1e-6)
