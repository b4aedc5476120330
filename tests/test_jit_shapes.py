"""ad.jit kernels shared across shapes (issue 12): a new batch size whose generated code
differs only in numbers (loop bounds, allocations, guards, 1/n) runs a shared kernel that takes
them as arguments, compiled once."""
import numpy as np

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
    # the first size has its own kernel; the second makes the shared one; 13 and 40 reuse it
    assert len(files[1]) == 2 and files[2] == files[3] == files[4] == files[1]
    assert len(jg._jit.templates) == 1


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
