"""ad.scan over slices of a differentiated array under ad.jit (issue 12): the loop scans the
array's rows at an offset and stride, so reverse mode adds the cotangent rows of every slice of
the array into one block shaped like it (before: a block per slice, then a pass summing them).
Every case is checked against eager adjit and finite differences."""
import re

import numpy as np
import pytest

import adjit as ad

RNG = np.random.default_rng(31)
X = np.linspace(0.0, 3.0, 11) + 0.1 * np.sin(np.arange(11))
M = RNG.normal(size=(8, 3))


def fd_grad(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = eps
        g.flat[k] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def sources(jitted):
    out = []
    for specs in jitted._jit.cache.values():
        for s in specs:
            with open(s.path) as fh:
                out.append(fh.read())
    return "\n".join(out)


def springs(x):
    E, _ = ad.scan(lambda E, p: (E + 2.0 * (p[1] - p[0] - 0.5) ** 2, None), 0.0, (x[:-1], x[1:]))
    return E


def strided(x):
    # rows 1, 3, 5, ... and 0, 2, 4, ... of x, a stop, and the carry read by the body
    c, ys = ad.scan(lambda c, p: (c * 0.9 + p[0] * ad.sin(p[1]), c * p[0]), 0.3,
                    (x[1:9:2], x[0:8:2]))
    return c + ad.sum(ys ** 2)


def intermediate(x):
    # slices of a computed array (its gradient flows on through y = x ** 2)
    y = x ** 2 + 0.5 * x
    E, ys = ad.scan(lambda E, p: (E + ad.cos(p[0] - p[1]), p[0] * p[1]), 0.0, (y[2:], y[:-2]))
    return E + ad.sum(ys)


def mixed_and_reversed(x):
    # a slice, a plain array and a slice of another base, visited last to first
    w = ad.exp(0.1 * x)
    xs = (x[1:], np.arange(10.0), w[:-1])
    c, ys = ad.scan(lambda c, p: (c + p[0] * p[2] + 0.01 * p[1] * c, ad.tanh(p[0] + c)),
                    0.1, xs, reverse=True)
    return c + ad.sum(ys)


def rows_2d(m):
    # rows of a 2-D array: the carry is a vector
    c, _ = ad.scan(lambda c, p: (ad.tanh(c + p[0] * p[1]), None), np.zeros(3), (m[1:], m[:-1]))
    return ad.sum(c ** 2)


def negative_step(x):
    # x[::-1] is not scanned as rows of x (a negative stride): still right
    E, _ = ad.scan(lambda E, p: (E * 0.5 + p[0] * p[1], None), 0.0, (x[::-1], x))
    return E


def in_fori(x):
    # slices of an array computed in an enclosing loop's body
    def outer(j, E):
        y = x * (j + 1.0)
        e, _ = ad.scan(lambda c, p: (c + (p[1] - p[0]) ** 2 * ad.sin(c + 1.0), None), 0.0,
                       (y[:-1], y[1:]))
        return E + e
    return ad.fori_loop(0, 3, outer, 0.0)


def scan_in_scan(m):
    # slices of the row an enclosing scan hands its body
    def step(c, row):
        e, _ = ad.scan(lambda d, p: (d + p[0] * p[1] * c, None), 0.0, (row[:-1], row[1:]))
        return c * 0.5 + e, e
    c, ys = ad.scan(step, 1.0, m)
    return c + ad.sum(ys ** 2)


def closed_over_too(x):
    # the body also reads x whole (closed over) and one of its rows
    s = ad.sum(x * x)
    E, ys = ad.scan(lambda E, p: (E + p[0] * x[2] + s * p[1], p[0] * E), 0.0, (x[1:], x[:-1]))
    return E + ad.sum(ys)


CASES = [(closed_over_too, X), (springs, X), (strided, X), (intermediate, X),
         (mixed_and_reversed, X), (rows_2d, M), (negative_step, X), (in_fori, X[:7]),
         (scan_in_scan, M[:3, :4])]


@pytest.mark.parametrize("f, x", CASES, ids=[f.__name__ for f, _ in CASES])
def test_scan_over_slices_reverse_mode(f, x):
    g = ad.grad(f)(x)
    np.testing.assert_allclose(g, fd_grad(f, x), rtol=1e-6, atol=1e-7)
    jg = ad.jit(ad.grad(f))
    np.testing.assert_allclose(jg(x), g, rtol=1e-12, atol=1e-13)
    assert jg._jit.n_eager == 0
    x2 = x * 1.1 + 0.05
    np.testing.assert_allclose(jg(x2), ad.grad(f)(x2), rtol=1e-12, atol=1e-13)
    assert ad.jit(f)(x) == pytest.approx(float(f(x)), rel=1e-12)


SECOND = CASES[:5] + CASES[7:]


@pytest.mark.parametrize("f, x", SECOND, ids=[f.__name__ for f, _ in SECOND])
def test_scan_over_slices_forward_and_second_order(f, x):
    jj = ad.jit(ad.jacfwd(f))
    np.testing.assert_allclose(jj(x), ad.grad(f)(x), rtol=1e-10, atol=1e-12)
    jh = ad.jit(ad.hessian(f))
    h = ad.hessian(f)(x)
    np.testing.assert_allclose(jh(x), h, rtol=1e-9, atol=1e-10)
    eps = 1e-6
    fd = np.stack([np.ravel(ad.grad(f)(x + eps * e.reshape(x.shape)) -
                            ad.grad(f)(x - eps * e.reshape(x.shape))) / (2 * eps)
                   for e in np.eye(x.size)], axis=1)
    np.testing.assert_allclose(h.reshape(x.size, x.size), fd, rtol=1e-5, atol=1e-6)
    assert jj._jit.n_eager == 0 and jh._jit.n_eager == 0


def test_slices_of_one_array_share_one_cotangent_block():
    # the gradient of the spring chain written with ad.scan is one block of n rows (plus the
    # carry) summed in registers, as with ad.fori_loop: no 2n - 1 temporary, no second pass
    n = 50
    x = np.linspace(0.0, 30.0, n)
    jg = ad.jit(ad.grad(springs))
    np.testing.assert_allclose(jg(x), fd_grad(springs, x), rtol=1e-6, atol=1e-6)
    src = sources(jg)
    assert f"np.empty(({2 * n - 1}," not in src
    assert re.search(r"L\d+_\d+r0_1 = 0\.0", src)


def test_slice_of_a_tensor_leaf_with_backward():
    # eager reverse mode through .backward() on a Tensor leaf, inside and outside ad.jit
    x = ad.tensor(X, requires_grad=True)
    springs(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), fd_grad(springs, X), rtol=1e-6, atol=1e-7)



def test_negative_starts_and_vmap():
    # x[-6:-1] starts at row n - 6 of each example; under jit(vmap(grad)) the rows are an
    # example's (the batch axis is not the scanned one)
    def f(x):
        E, _ = ad.scan(lambda E, p: (E + (p[1] - p[0] - 0.5) ** 2 * p[2], None), 0.0,
                       (x[-6:-1], x[-5:], x[2:7]))
        return E
    xs = np.cos(np.arange(24.0)).reshape(3, 8) + np.arange(8.0)
    want = np.stack([fd_grad(f, r) for r in xs])
    np.testing.assert_allclose(ad.jit(ad.grad(f))(xs[0]), want[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ad.jit(ad.vmap(ad.grad(f)))(xs), want, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ad.jit(ad.grad(lambda X: ad.sum(ad.vmap(f)(X))))(xs), want,
                               rtol=1e-6, atol=1e-7)
