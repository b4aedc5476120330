"""Compiled sums add in NumPy's pairwise order (bit for bit): one block of up to 128 elements
is summed in place (no plan table), longer ones block by block."""
import numpy as np
import pytest

import adjit as ad

rng = np.random.default_rng(11)


def long_element(x):
    # an element whose code is long (> 24 lines): summed through the 8-slot scratch, not
    # unrolled 8 times
    y = ad.sin(x)
    for k in range(14):
        y = y * ad.cos(x * (1.0 + 0.1 * k)) + 0.5
    return y


@pytest.mark.parametrize("n", [8, 13, 64, 127, 128, 129, 300])
def test_row_sums_are_bit_equal_to_numpy(n):
    x = rng.normal(size=(3, n)) * 10.0 ** rng.integers(-3, 4, size=(3, n))

    def f(x):
        return ad.sum(x, axis=1), ad.sum(x * x, axis=1), ad.sum(x[:, 1:], axis=1)
    jf = ad.jit(f)
    for got, want in zip(jf(x), f(x)):
        assert np.array_equal(got, want)
    # compiled elements (their last bits may differ from NumPy's sin/exp) summed in NumPy's
    # order: the sum fused with them equals NumPy's sum of them
    elems = ad.jit(long_element)(x)
    fused = ad.jit(lambda x: ad.sum(long_element(x), axis=1))(x)
    assert np.array_equal(fused, np.sum(elems, axis=1))
    assert not jf._jit.n_eager
    src = "".join(open(s.path).read() for specs in jf._jit.cache.values() for s in specs)
    assert ("_pws" in src) == (n > 128)   # one block: no plan table, no stack of partial sums


@pytest.mark.parametrize("n", [12, 100, 200])
def test_gradient_of_a_squared_norm_per_row(n):
    w = rng.normal(size=(4, n))

    def loss(w):
        return ad.sum(ad.log(ad.sum(w * w, axis=1)))
    g = ad.jit(ad.grad(loss))(w)
    assert np.array_equal(ad.jit(loss)(w), loss(w))
    np.testing.assert_allclose(g, 2 * w / np.sum(w * w, axis=1, keepdims=True), rtol=1e-13)
