"""Loop bodies that write into what the loop reads, or rebind a variable of the enclosing
function: the compiled loop op reads its inputs once and carries only what the body returns,
so these bodies must run as the Python loops they are (NumPy's values), or raise as eagerly.
Each case failed before (a wrong value or gradient under ad.jit, or a TypeError)."""
import numpy as np
import pytest

import adjit as ad

X = np.array([1.0, 2.0, 3.0, 4.0, 5.0])


def _scan_writes_scanned(loop):
    # the body writes into the array whose rows it scans, ahead of the scan
    def f(x):
        y = x * 1.0
        xs = y[1:]

        def body(c, r):
            y[2] = c * 3.0
            return c * r, c
        if loop:
            c, ys = ad.scan(body, x[0], xs)
        else:
            c, ys = x[0], []
            for j in range(len(xs)):
                c, yj = body(c, xs[j])
                ys.append(yj)
            ys = ad.stack(ys)
        return c + (ys * ys).sum()
    return f


def _scan_writes_closure(loop):
    def f(x):
        y = x * 1.0

        def body(c, r):
            y[0] = c
            return c * r + y[0], c
        if loop:
            c, ys = ad.scan(body, x[0], y[1:])
        else:
            c, ys = x[0], []
            for r in y[1:]:
                c, yj = body(c, r)
                ys.append(yj)
            ys = ad.stack(ys)
        return c + (ys * ys).sum() + (y * y).sum()
    return f


def _fori_nonlocal(loop):
    def f(x):
        acc = x[1] * 1.0

        def body(i, c):
            nonlocal acc
            acc = acc + c
            return c * 1.5
        c = ad.fori_loop(0, 3, body, x[0]) if loop else body(2, body(1, body(0, x[0])))
        return c + acc * acc
    return f


def _fori_writes_hoisted(loop):
    # x[i + 1] of a closed-over array is read a row per step; the body writes that array
    def f(x):
        y = x * 1.0

        def body(i, c):
            y[i + 1] = c * 2.0
            return c + y[i] * y[i + 1]
        if loop:
            c = ad.fori_loop(0, 3, body, x[0])
        else:
            c = x[0]
            for i in range(3):
                c = body(i, c)
        return c + (y * y).sum()
    return f


CASES = [_scan_writes_scanned, _scan_writes_closure, _fori_nonlocal, _fori_writes_hoisted]


def _fd_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for k in range(x.size):
        e = np.zeros_like(x)
        e[k] = h
        g[k] = (f(x + e) - f(x - e)) / (2 * h)
    return g


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__.strip("_"))
def test_loop_body_writes_follow_numpy(case):
    ref = case(False)
    want = ref(X.copy())
    want_g = _fd_grad(lambda v: float(ref(v)), X)
    f = case(True)
    assert float(f(X.copy())) == pytest.approx(float(want), rel=1e-12)
    assert float(ad.jit(f)(X.copy())) == pytest.approx(float(want), rel=1e-12)
    for g in (ad.grad(f), ad.jit(ad.grad(f)), ad.jacfwd(f), ad.jit(ad.jacfwd(f))):
        np.testing.assert_allclose(np.asarray(g(X.copy())), want_g, rtol=1e-6, atol=1e-6)


def test_write_into_scanned_row_of_reshape_raises_under_jit():
    # the rows of y.reshape(5, 1) are views of y in NumPy; adjit's reshape is a copy, so a
    # write into a row must raise (it gave a wrong value under ad.jit, a TypeError for scan)
    def f(x):
        y = x * 1.0

        def body(c, r):
            r[0] = c
            return c + r.sum(), c
        c, _ = ad.scan(body, x[0], y.reshape(5, 1))
        return c + (y * y).sum()
    y = X.copy()
    want = f(X.copy())   # NumPy arrays: NumPy's views
    c = X[0]
    for j in range(5):
        y[j] = c
        c = c + y[j]
    assert want == c + (y * y).sum()
    for t in (ad.jit, ad.grad, lambda f: ad.jit(ad.grad(f)), ad.jacfwd):
        with pytest.raises(ValueError, match="reshape/transpose"):
            t(f)(X.copy())
