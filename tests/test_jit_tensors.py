"""ad.jit of functions that make Tensors (ad.ones, ad.zeros_like, ad.tensor, y = ad.zeros(n);
y[i] = x) or close over Tensors that do not require grad: such a Tensor is a constant of the
kernel (or holds a traced value), ops on it give Tensors as they do eagerly, and a returned one
comes back as a Tensor. Before, these ran eagerly with "the function returned a Tensor, not an
array" or "op 'add' mixes a traced value with a Tensor created outside the jitted function"."""
import warnings

import numpy as np
import pytest

import adjit as ad

W = ad.tensor([0.5, -1.0, 2.0])
W_GRAD = ad.tensor([0.5, -1.0, 2.0], requires_grad=True)


def set_first(x):
    y = ad.zeros(3)
    y[0] = x[1] * 2.0
    return y


CASES = {
    "ones": lambda x: ad.ones(3),
    "zeros_like": lambda x: ad.zeros_like(x),
    "pair": lambda x: (ad.sin(x), ad.ones(3)),
    "plus_tensor": lambda x: x + ad.tensor([1.0, 2.0, 3.0]),
    "closed_over": lambda x: ad.exp(x) * W,
    "where": lambda x: ad.where(x > 1.5, ad.ones(3), x),
    "set_first": set_first,
    "sum_of_set": lambda x: ad.sum(set_first(x) * x),
    "grad": ad.grad(lambda x: ad.sum(ad.sin(x) * (ad.zeros_like(x) + 2.0))),
}


def compiled(f, *args):
    jitted = ad.jit(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no "running eagerly" warning
        out = jitted(*args)
        again = jitted(*args)
    assert jitted._jit.n_eager == 0
    return out, again


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiles_and_agrees_with_eager(name, dtype):
    f = CASES[name]
    x = np.array([1.0, 2.0, 3.0], dtype=dtype)
    want = f(x)
    for got in compiled(f, x):
        for g, w in zip(got if isinstance(got, tuple) else (got,),
                        want if isinstance(want, tuple) else (want,)):
            assert type(g) is type(w)
            g, w = np.asarray(g), np.asarray(w)
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-6 if dtype == np.float32 else 1e-14)


def test_returned_constants_are_fresh_each_call():
    out, again = compiled(lambda x: (x * 2.0, ad.ones(3)), np.ones(3))
    out[1].numpy()[0] = 7.0
    np.testing.assert_array_equal(again[1].numpy(), np.ones(3))


def test_a_tensor_that_requires_grad_runs_eagerly_with_a_clear_warning():
    f = ad.jit(lambda x: x * W_GRAD)
    with pytest.warns(RuntimeWarning, match=r"op 'mul' mixes a traced value with a Tensor that "
                      r"requires grad.*pass it as an argument.*detach"):
        out = f(np.ones(3))
    assert out.requires_grad   # eagerly, as without ad.jit: the graph is there
    np.testing.assert_allclose(out.detach().numpy(), W_GRAD.detach().numpy())


def test_jit_of_vmap_with_a_tensor_made_inside():
    f = ad.vmap(ad.grad(lambda x: ad.sum(ad.tanh(x) * ad.ones(3))))
    X = np.random.default_rng(0).normal(size=(5, 3))
    got, _ = compiled(f, X)
    np.testing.assert_allclose(np.asarray(got), np.asarray(f(X)), rtol=1e-14)
