"""NumPy's views under every transform (ops/views.py).

`b = y[1:]` is a view in NumPy and PyTorch: a later `y[2] = 7` shows in `b`, and `b[0] = 5`
shows in `y`. adjit's values are new arrays per op, so before ops/views.py these programs
silently gave other numbers than NumPy (value and gradient) in every mode. Each program here is
plain NumPy-style code: its value is checked against NumPy itself and its gradient against
central differences of NumPy's value, through reverse mode, forward mode, ad.jit, ad.vmap and
the Tensor API.
"""
import numpy as np
import pytest

import adjit as ad


def f_base_written(x):        # a slice taken, then its base written
    y = x * 1.0
    b = y[1:]
    y[2] = 7.0
    return (b * b).sum()


def f_view_written(x):        # a slice written: the base shows it
    y = x * 1.0
    b = y[1:]
    b[0] = 5.0 * x[0]
    return (y * y).sum()


def f_iadd(x):                # an in-place operator on the base
    y = x * 1.0
    b = y[1:]
    y += x[0]
    return (b * b * x[1:]).sum()


def f_siblings(x):            # two overlapping slices: writing one changes the other
    y = x * 2.0
    a, b = y[1:], y[:3]
    a[0] = x[3] ** 2
    a *= 1.5
    return (b * x[:3]).sum() + (y ** 2).sum()


def f_rows(x):                # rows of a 2-D array, a view of a view, a strided slice
    Y = (x * 1.0).reshape(2, 3) * 1.0
    r = Y[1]
    c = r[::2]
    Y[1, 2] = x[0] * 3.0
    c -= x[1]
    return (r * r).sum() + (Y ** 3).sum()


def f_untouched(x):           # a write that misses the slice changes nothing in it
    y = x * 1.0
    b = y[:2]
    y[3:] = 0.0
    return (b * b).sum() + y.sum()


PROGRAMS = [f_base_written, f_view_written, f_iadd, f_siblings, f_rows, f_untouched]
X = np.array([0.7, -1.3, 0.4, 1.1, -0.6, 0.9])


def numeric_grad(f, x, eps=1e-6):
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_values_and_gradients_as_numpy(f):
    want, gwant = f(X.copy()), numeric_grad(f, X)
    v, g = ad.value_and_grad(f)(X)
    np.testing.assert_allclose(v, want, rtol=1e-12)
    np.testing.assert_allclose(g, gwant, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ad.jacfwd(f)(X), gwant, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ad.grad(f)(X), ad.jacrev(f)(X), rtol=1e-12)
    jf, jg = ad.jit(f), ad.jit(ad.grad(f))
    np.testing.assert_allclose(jf(X), want, rtol=1e-12)
    np.testing.assert_allclose(jg(X), gwant, rtol=1e-6, atol=1e-6)
    assert jf._jit.n_eager == 0 and jg._jit.n_eager == 0
    xs = np.stack([X, X[::-1], 2 * X])
    np.testing.assert_allclose(ad.vmap(f)(xs), [f(r) for r in xs], rtol=1e-12)
    t = ad.tensor(X, requires_grad=True)
    out = f(t)
    out.backward()
    np.testing.assert_allclose(out.item(), want, rtol=1e-12)
    np.testing.assert_allclose(t.grad.numpy(), gwant, rtol=1e-6, atol=1e-6)


def test_second_order_through_views():
    h = ad.hessian(f_view_written)(X)
    num = np.stack([numeric_grad(lambda z: ad.grad(f_view_written)(z)[i], X, 1e-5)
                    for i in range(X.size)])
    np.testing.assert_allclose(h, num, rtol=1e-5, atol=1e-5)


def test_integer_index_is_a_scalar_copy():
    # NumPy: x[0] of a 1-D array is a scalar; `s += ...` makes a new one and x is unchanged
    def f(x):
        y = x * 1.0
        s = y[0]
        s += 10.0
        return (y * y).sum() + s
    np.testing.assert_allclose(ad.grad(f)(X), numeric_grad(f, X), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ad.jit(f)(X), f(X.copy()), rtol=1e-12)


def test_zero_dim_view_is_changed_in_place():
    # y[..., 0] of a 1-D array is a 0-d view in NumPy: `s += 10` changes y
    def f(x):
        y = x * 1.0
        s = y[..., 0]
        s += 10.0
        return (y * y).sum()
    want, gwant = f(X.copy()), numeric_grad(f, X)
    np.testing.assert_allclose(ad.grad(f)(X), gwant, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ad.jacfwd(f)(X), gwant, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ad.jit(f)(X), want, rtol=1e-12)
    np.testing.assert_allclose(ad.vmap(f)(np.stack([X, 2 * X])), [want, f(2 * X)], rtol=1e-12)


def test_advanced_index_is_a_copy():
    def f(x):
        y = x * 1.0
        b = y[[1, 2, 3]]
        y[2] = 7.0
        return (b * b).sum() + y.sum()
    np.testing.assert_allclose(ad.grad(f)(X), numeric_grad(f, X), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ad.jacfwd(f)(X), numeric_grad(f, X), rtol=1e-6, atol=1e-6)


def test_opaque_views_raise_instead_of_differing():
    # NumPy's transpose/reshape share the buffer too; adjit cannot write through them: raise
    def into_transpose(x):
        Y = x.reshape(2, 3) * 1.0
        Z = Y.T
        Z[0, 0] = 5.0
        return (Y * Y).sum()

    def base_of_transpose(x):
        Y = x.reshape(2, 3) * 1.0
        Z = Y.T
        Y[0, 0] = 5.0
        return (Z * Z).sum()
    for f in (into_transpose, base_of_transpose):
        for tr in (ad.grad, ad.jacfwd, ad.jit):
            with pytest.raises(ValueError, match="reshape/transpose"):
                tr(f)(X)


def test_finished_transpose_does_not_raise():
    def f(x):
        Y = x.reshape(2, 3) * 1.0
        s = (Y.T * 2.0).sum()     # the transpose is gone when Y is written
        Y[0, 0] = 5.0
        return s + (Y * Y).sum()
    np.testing.assert_allclose(ad.grad(f)(X), numeric_grad(f, X), rtol=1e-6, atol=1e-6)


def test_view_of_leaf_cannot_be_written():
    w = ad.tensor(X.copy(), requires_grad=True)
    b = w[1:]
    with pytest.raises(RuntimeError, match="view of a leaf"):
        b[0] = 1.0
    with ad.no_grad():          # as PyTorch: allowed without recording, the leaf changes
        b[0] = 1.0
    assert w.detach().numpy()[1] == 1.0


def test_saved_view_changed_in_place_raises_at_backward():
    # as PyTorch: the product saved b; the write into its base changed b's version
    t = ad.tensor(X.copy(), requires_grad=True)
    y = t * 1.0
    b = y[1:]
    out = (b * b).sum()
    y[2] = 3.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


def test_many_views_do_not_accumulate():
    y = ad.tensor(np.arange(10.0))
    for _ in range(1000):
        y[1:]
    assert len(y._views) < 16


def test_copies_and_pickles_carry_no_view_links():
    import copy
    import pickle
    y = ad.tensor(np.arange(4.0), requires_grad=True)
    v = y[1:]
    r = pickle.loads(pickle.dumps(y))      # weak references do not pickle
    np.testing.assert_array_equal(r.detach().numpy(), np.arange(4.0))
    w = copy.copy(v)                        # a copy of a view is a new array (NumPy)
    with ad.no_grad():
        w[0] = 7.0
    np.testing.assert_array_equal(y.detach().numpy(), np.arange(4.0))
    np.testing.assert_array_equal(v.detach().numpy(), [1.0, 2.0, 3.0])
    d = ad.dual(np.arange(3.0), np.ones(3))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(d[1:])).primal, [1.0, 2.0])
