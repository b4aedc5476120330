"""Edge values of the elementwise rows of issue 11 part 3 that the op-info sweep keeps away
from: NaN in fmax/fmin, sinc at 0, round with decimals in every mode, the % operator."""
import numpy as np

import adjit as ad


def test_fmax_fmin_ignore_nan_and_give_the_other_operand_the_gradient():
    for f in (np.fmax, np.fmin):
        a = ad.tensor(np.array([np.nan, 1.0, 2.0, np.nan]), requires_grad=True)
        b = ad.tensor(np.array([1.0, np.nan, 2.0, np.nan]), requires_grad=True)
        y = f(a, b)
        np.testing.assert_array_equal(y.detach().numpy(), f(a.detach().numpy(),
                                                              b.detach().numpy()))
        y.sum().backward()
        np.testing.assert_array_equal(a.grad.numpy(), [0.0, 1.0, 0.5, 1.0])
        np.testing.assert_array_equal(b.grad.numpy(), [1.0, 0.0, 0.5, 1.0])


def test_sinc_derivatives_at_and_near_zero():
    d1 = ad.grad(lambda t: np.sinc(t))
    assert d1(0.0) == 0.0
    np.testing.assert_allclose(ad.grad(d1)(0.0), -np.pi ** 2 / 3, rtol=1e-12)
    # the quotient (cos(pi x) - sinc(x)) / x cancels near 0: the series takes over
    np.testing.assert_allclose(d1(1e-7), -np.pi ** 2 / 3 * 1e-7, rtol=1e-9)


def test_round_with_decimals_in_every_mode():
    x = np.array([2.56, -1.34, 1234.5, 0.125])
    for d in (0, 1, 2, -1):
        want = np.round(x, d)
        np.testing.assert_array_equal(ad.jit(lambda t: np.round(t, d))(x), want)
        np.testing.assert_array_equal(
            np.round(ad.tensor(x, requires_grad=True), d).detach().numpy(), want)
        np.testing.assert_array_equal(ad.around(x, d), want)
        np.testing.assert_array_equal(ad.grad(lambda t: np.round(t, d).sum())(x), 0.0)


def test_mod_operator_follows_numpy_and_differentiates():
    x = ad.tensor(np.array([2.5, -1.3]), requires_grad=True)
    y = x % 0.7
    np.testing.assert_allclose(y.detach().numpy(), np.mod([2.5, -1.3], 0.7))
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.mod([2.5, -1.3], 0.7))
    g = ad.grad(lambda b: (2.5 % b))(0.7)   # d/db of a - floor(a / b) * b
    np.testing.assert_allclose(g, -np.floor(2.5 / 0.7))
