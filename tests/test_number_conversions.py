"""float(), .item(), .tolist(), math.* and np.float64 of a value being differentiated made a
Python number without its derivative: ad.grad(lambda x: math.exp(x[0]) * x[1]) returned
[0, e, 0] where the gradient is [2e, e, 0]. Inside the transforms they raise (JAX's rule);
int() (piecewise constant: derivative 0) and the Tensor API's own tensors (PyTorch's
loss.item()) still convert."""
import math

import numpy as np
import pytest

import adjit as ad

X = np.array([1.0, 2.0, 3.0])
TRANSFORMS = [ad.grad, ad.jacfwd, ad.jacrev, lambda f: ad.jit(ad.grad(f)),
              lambda f: ad.jit(ad.jacfwd(f)), ad.hessian]
CONVERSIONS = {
    "math.exp": lambda x: math.exp(x[0]) * x[1],
    "float": lambda x: float(x[0]) * x[1],
    "np.float64": lambda x: np.float64(x[0]) * x[1],
    "item": lambda x: x[0].item() * x[1],
    "tolist": lambda x: sum(v * v for v in x.tolist()) + x[0],
    "fromiter": lambda x: np.fromiter((v * v for v in x), float).sum() + x[0],
    "complex": lambda x: complex(x[0]).real * x[1],
}


@pytest.mark.parametrize("name", list(CONVERSIONS))
@pytest.mark.parametrize("t", range(len(TRANSFORMS)))
def test_number_of_differentiated_value_raises(name, t):
    f = CONVERSIONS[name]
    if name == "fromiter":   # NumPy turns float()'s error into its own ValueError
        with pytest.raises((TypeError, ValueError)):
            TRANSFORMS[t](f)(X.copy())
        return
    with pytest.raises(TypeError, match="differentiated|gradient would be lost|dual number"):
        TRANSFORMS[t](f)(X.copy())


def test_math_exp_message_says_what_to_do():
    with pytest.raises(TypeError, match=r"np\.exp\(x\), not math\.exp\(x\).*stop_gradient"):
        ad.grad(lambda x: math.exp(x[0]) * x[1])(X.copy())


def test_stop_gradient_is_a_constant_in_every_mode():
    # float(ad.stop_gradient(v)): the explicit constant; d/dx of x * c is c
    def f(x):
        return (x * float(ad.stop_gradient(ad.tanh(x[0])))).sum()
    c = np.tanh(X[0])
    for t in (ad.grad, ad.jacfwd, ad.jacrev, lambda f: ad.jit(ad.grad(f)),
              lambda f: ad.jit(ad.jacfwd(f))):
        np.testing.assert_allclose(t(f)(X.copy()), np.full(3, c), rtol=1e-15)
    np.testing.assert_allclose(ad.hessian(f)(X.copy()), np.zeros((3, 3)), atol=0)

    def g(x):    # without float(): an array constant, batched under vmap
        return (x * ad.stop_gradient(ad.tanh(x))).sum()
    xs = np.linspace(0.1, 1.2, 6).reshape(2, 3)
    np.testing.assert_allclose(ad.vmap(ad.grad(g))(xs), np.tanh(xs), rtol=1e-15)
    np.testing.assert_allclose(ad.jit(ad.vmap(ad.grad(g)))(xs), np.tanh(xs), rtol=1e-14)
    t = ad.tensor(X.copy(), requires_grad=True)
    (ad.stop_gradient(t) * t).sum().backward()
    np.testing.assert_allclose(t.grad, X)
    assert not ad.stop_gradient(t).requires_grad


def test_int_and_branches_still_work_and_are_right():
    # int() is piecewise constant: its derivative 0 is the right one away from integers
    def f(x):
        k = int(x[0] * 2.0)          # int(2.5) = 2, away from an integer point
        s = x[1] * k
        return s * s if x[2] > 0 else -s
    x = np.array([1.25, 2.0, 3.0])
    g = ad.grad(f)(x)
    np.testing.assert_allclose(g, [0.0, 2 * (2 * 2.0) * 2, 0.0])
    np.testing.assert_allclose(ad.jacfwd(f)(x), g)
    np.testing.assert_allclose(ad.jit(ad.grad(f))(x), g)


def test_tensor_api_converts_as_pytorch():
    # loss.item() / float(loss) on the Tensor API's tensors give the number (PyTorch's rule)
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    assert loss.item() == 5.0 and float(loss) == 5.0
    loss.backward()
    np.testing.assert_allclose(w.grad, [2.0, 4.0])
    d = ad.dual(2.0, 1.0)                # a dual the user made converts too
    assert float(d) == 2.0 and d.item() == 2.0


def test_jit_alone_reads_numbers():
    # without a derivative, float() under ad.jit reads the value (the kernel is specialised
    # on it and retraced when it changes)
    f = ad.jit(lambda x: x * float(x[0]))
    np.testing.assert_allclose(f(X.copy()), X * 1.0)
    np.testing.assert_allclose(f(2 * X), 2 * X * 2.0)


def test_format_of_a_scalar_prints_its_number():
    # f"{loss:.4f}" (PyTorch formats 0-d tensors): eagerly and inside every transform it is
    # display only, so it does not raise as float() does (it raised for any Tensor before)
    seen = []

    def f(x):
        seen.append(f"{ad.sum(x * x):.2f}")
        return ad.sum(x * x)
    x = np.array([1.0, 2.0])
    for t in (ad.grad, ad.jacfwd, ad.jit, lambda f: ad.jit(ad.grad(f))):
        del seen[:]
        t(f)(x)
        # ad.jit may trace more than once on a first compile (at other sizes: template.py)
        assert seen[0] == "5.00"
    assert f"{ad.tensor(2.0, requires_grad=True):.3f}" == "2.000"
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{ad.tensor([1.0, 2.0]):.2f}"
