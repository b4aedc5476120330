"""ad.jit kernels shared across shapes (issue 12): a new batch size whose generated code
differs only in numbers (loop bounds, allocations, guards, 1/n) runs a shared kernel that takes
them as arguments, compiled once: already at the first call (the function traced again at
other sizes finds the numbers that follow the shapes)."""
import warnings

import numpy as np
import pytest

import adjit as ad

rng = np.random.default_rng(7)


def mlp_loss(p, x, y):
    W1, b1, W2 = p
    h = ad.tanh(x @ W1 + b1)
    return ad.mean((h @ W2 - y) ** 2)


P = (rng.normal(size=(3, 5)), rng.normal(size=5), rng.normal(size=(5, 2)))


def test_new_batch_sizes_share_one_kernel():
    g = ad.grad(mlp_loss)
    jg = ad.jit(g)
    files = []
    for n in (6, 9, 13, 40, 9):
        x, y = rng.normal(size=(n, 3)), rng.normal(size=(n, 2))
        for got, want in zip(jg(P, x, y), g(P, x, y)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
        files.append({s.path for specs in jg._jit.cache.values() for s in specs})
    # the first size already compiles the shared kernel; the others reuse it
    assert len(files[0]) == 1 and all(f == files[0] for f in files)
    assert len(jg._jit.templates) == 1


def compiles(call):
    """How many numba compilations (or cache loads) call() makes."""
    from numba.core import event
    n = []

    class Count(event.Listener):
        def on_start(self, ev):
            n.append(ev)

        def on_end(self, ev):
            pass
    with event.install_listener("numba:compile", Count()):
        call()
    return len(n)


def test_first_kernel_is_shape_generic(tmp_path, monkeypatch):
    # a private cache directory: a template left by an earlier run would spare the second trace
    monkeypatch.setenv("ADJIT_CACHE_DIR", str(tmp_path))
    calls = []

    def loss(p, x, y):
        calls.append(x.shape)
        return mlp_loss(p, x, y)
    g = ad.grad(loss)
    jg = ad.jit(g)
    x0, y0 = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    jg(P, x0, y0)
    assert len(calls) == 2   # traced, and traced again at other sizes (never run)
    for n in (5, 31, 2):
        x, y = rng.normal(size=(n, 3)), rng.normal(size=(n, 2))
        got = []
        assert compiles(lambda: got.append(jg(P, x, y))) == 0
        for a, b in zip(got[0], g(P, x, y)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert jg._jit.n_eager == 0
    # a new process (here: a new ad.jit of the same function) finds what the second trace
    # found next to the kernel in the cache directory: it traces once
    calls.clear()
    got = ad.jit(g)(P, x0, y0)
    assert len(calls) == 1
    for a, b in zip(got, g(P, x0, y0)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("how", ["raises", "warns"])
def test_function_that_fails_at_other_sizes(how):
    # the second trace (other sizes) is only compared: its failure or warning never shows
    def f(x):
        if x.shape[0] != 6:
            if how == "raises":
                raise ValueError("six rows only")
            warnings.warn("not six rows")
        return ad.sum(ad.sin(x) * x[0])
    jf = ad.jit(ad.grad(f))
    x = rng.normal(size=(6, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(jf(x), ad.grad(f)(x), rtol=1e-12, atol=1e-14)
    assert jf._jit.n_eager == 0


def test_shapes_with_other_code_compile_their_own():
    # a branch on the shape, a unit axis and a constant of the batch's size: other code or
    # other constants, so no sharing (and the right numbers)
    def f(x):
        s = ad.sum(x * np.arange(x.shape[0])[:, None]) if x.shape[0] > 4 else ad.sum(x)
        return s * ad.mean(x ** 2)

    jf = ad.jit(ad.grad(f))
    for n in (1, 2, 3, 6, 7, 8):
        x = rng.normal(size=(n, 3))
        np.testing.assert_allclose(jf(x), ad.grad(f)(x), rtol=1e-12, atol=1e-14)


def test_value_and_grad_and_float32_across_sizes():
    vg = ad.value_and_grad(lambda w, x: ad.sum(ad.sin(x @ w)) / x.shape[0])
    jvg = ad.jit(vg)
    w = rng.normal(size=4)
    for n in (5, 11, 17, 3):
        for dt in (np.float64, np.float32):
            x = rng.normal(size=(n, 4)).astype(dt)
            (v, gw), (ev, egw) = jvg(w.astype(dt), x), vg(w.astype(dt), x)
            tol = 1e-5 if dt == np.float32 else 1e-12
            assert np.asarray(v).dtype == np.asarray(ev).dtype and gw.dtype == egw.dtype
            np.testing.assert_allclose(v, ev, rtol=tol)
            np.testing.assert_allclose(gw, egw, rtol=tol, atol=tol)


def test_loops_are_not_traced_at_other_sizes():
    # tracing a loop at other sizes could compile the loop's own kernel: its first kernel keeps
    # its literals (a later size makes the shared one, as before)
    calls = []

    def f(x):
        calls.append(x.shape)
        return ad.fori_loop(0, 5, lambda i, c: c * ad.cos(c), x)
    jf = ad.jit(ad.grad(lambda x: ad.sum(f(x))))
    x = rng.normal(size=6)
    np.testing.assert_allclose(jf(x), ad.grad(lambda x: ad.sum(f(x)))(x), rtol=1e-12)
    assert calls.count((6,)) == 2 and (12,) not in calls   # jitted, then eager


def test_literals_that_move_together_are_one_parameter(tmp_path, monkeypatch):
    monkeypatch.setenv("ADJIT_CACHE_DIR", str(tmp_path))
    g = ad.grad(mlp_loss)
    jg = ad.jit(g)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    for got, want in zip(jg(P, x, y), g(P, x, y)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    [t] = jg._jit.templates
    # the batch size, the three widths and the mean's 1/(n*2): five parameters, not one per
    # loop bound and allocation
    assert len(t.kinds) <= 5 < len(t.slots)


def test_sizes_equal_at_the_first_call_that_part_later():
    # n == 5 == the hidden width at the first call (and at the doubled sizes): their literals
    # share a parameter; a later batch size parts them, and still computes the right values
    g = ad.grad(mlp_loss)
    jg = ad.jit(g)
    for n in (5, 9, 5, 11):
        x, y = rng.normal(size=(n, 3)), rng.normal(size=(n, 2))
        for got, want in zip(jg(P, x, y), g(P, x, y)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert not jg._jit.n_eager
    assert len({s.path for specs in jg._jit.cache.values() for s in specs}) <= 2
