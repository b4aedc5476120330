"""Transformed functions take keyword arguments (not differentiated), as JAX's do; jvp/hvp
reject bare arrays where a tuple of arguments is expected."""
import numpy as np
import pytest

import adjit as ad


def f(x, y=1.0, *, scale=1.0):
    return ad.sum(scale * ad.sin(x) * y)


X = np.array([0.3, -1.2, 2.0])


@pytest.mark.parametrize("transform, expected", [
    (ad.grad, lambda x, s: s * np.cos(x)),
    (lambda g: (lambda *a, **k: ad.value_and_grad(g)(*a, **k)[1]), lambda x, s: s * np.cos(x)),
    (ad.jacfwd, lambda x, s: s * np.cos(x)),
    (ad.jacrev, lambda x, s: s * np.cos(x)),
    (ad.jacobian, lambda x, s: s * np.cos(x)),
    (ad.hessian, lambda x, s: np.diag(-s * np.sin(x))),
])
def test_keywords_reach_f_and_are_not_differentiated(transform, expected):
    got = transform(f)(X, scale=2.0)
    np.testing.assert_allclose(got, expected(X, 2.0), rtol=1e-12)
    # a keyword for a positional parameter is a constant too (argnums counts positionals only)
    got = transform(f)(X, y=3.0, scale=0.5)
    np.testing.assert_allclose(got, 3.0 * expected(X, 0.5), rtol=1e-12)


def test_keywords_under_jit_and_value_and_grad():
    v, g = ad.value_and_grad(f)(X, scale=2.0)
    assert v == pytest.approx(2.0 * np.sin(X).sum())
    np.testing.assert_allclose(ad.jit(ad.grad(f))(X, scale=2.0), 2.0 * np.cos(X), rtol=1e-12)


def test_jvp_and_hvp_want_tuples_of_arguments():
    with pytest.raises(TypeError, match=r"adjit\.jvp: primals must be a tuple .*ad\.jvp\(f, \(x,\), \(v,\)\)"):
        ad.jvp(f, X, np.ones(3))
    with pytest.raises(TypeError, match=r"adjit\.jvp: tangents must be a tuple"):
        ad.jvp(f, (X,), np.ones(3))
    with pytest.raises(TypeError, match=r"adjit\.hvp: primals must be a tuple"):
        ad.hvp(f, X, np.ones(3))
    out, t = ad.jvp(f, [X], [np.ones(3)])   # lists are fine
    assert t == pytest.approx(np.cos(X).sum())


def test_jitted_jacobian_exposes_last_mode():
    W = np.random.default_rng(0).standard_normal((2, 300))
    j = ad.jit(ad.jacobian(lambda v: ad.tanh(W @ v)))
    assert j.last_mode is None
    J = j(np.ones(300))
    assert J.shape == (2, 300) and j.last_mode == "reverse"
    jt = ad.jit(ad.jacobian(lambda v: ad.tanh(W.T @ v)))
    jt(np.ones(2))
    assert jt.last_mode == "forward"
    with pytest.raises(AttributeError, match="only a jitted ad.jacobian"):
        ad.jit(ad.grad(f)).last_mode
