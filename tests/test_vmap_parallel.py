"""ad.jit(ad.vmap(f)) on several threads (issue 14): the kernel's loops over the batch are numba
pranges (jit/parloops.py), small products of every example are loops on threads instead of one
gemm; the result agrees with the one-thread kernel, the eager vmap and a loop over the batch."""
import threading

import numba
import numpy as np
import pytest

import adjit as ad
from adjit.jit import parallel, parloops

B = parloops.PAR_MIN // 2 + 3   # big enough for the parallel loops, odd


def loss(params, x, y):
    W1, b1, w2 = params
    return (ad.tanh(x @ W1 + b1) @ w2 - y) ** 2


def loss_left(params, x, y):   # W @ x: the batch on the right operand's columns
    W1, b1, W2 = params
    h = ad.tanh(W1.T @ x + b1)
    return ad.sum((W2.T @ h - y) ** 2)


def kernel_sources(jitted):
    """Text of the multi-threaded kernels jitted has compiled."""
    specs = [s for ss in jitted._pjit._jit.cache.values() for s in ss]
    return [open(s.path).read() for s in specs]


def data(rng, dtype=np.float64):
    params = (rng.normal(size=(8, 32)) / 3, rng.normal(size=32) / 3, rng.normal(size=32) / 6)
    X, Y = rng.normal(size=(B, 8)), rng.normal(size=B)
    return tuple(p.astype(dtype) for p in params), X.astype(dtype), Y.astype(dtype)


def test_parallel_kernel_is_taken_and_agrees_with_serial_and_loop():
    params, X, Y = data(np.random.default_rng(0))
    g = ad.grad(loss)
    pe = ad.vmap(g, in_axes=(None, 0, 0))
    par, ser = ad.jit(pe, threads=2), ad.jit(pe, threads=1)
    got, one = par(params, X, Y), ser(params, X, Y)
    assert par._pjit is not None and ser._pjit is None
    (src,) = kernel_sources(par)
    assert "prange(" in src and "parallel=" in src and "np.dot" not in src
    want = [np.stack(t) for t in zip(*[g(params, X[i], Y[i]) for i in range(0, B, 97)])]
    for a, b, w, e in zip(got, one, want, pe(params, X, Y)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(a[::97], w, rtol=1e-12, atol=1e-15)
    again = par(params, X, Y)   # the kernel again: bit for bit
    for a, b in zip(got, again):
        np.testing.assert_array_equal(a, b)


def test_products_with_the_batch_on_either_side_and_float32():
    rng = np.random.default_rng(1)
    params = (rng.normal(size=(6, 16)), rng.normal(size=16), rng.normal(size=(16, 3)))
    X, Y = rng.normal(size=(6, B)), rng.normal(size=(3, B))
    pe = ad.vmap(ad.grad(loss_left), in_axes=(None, 1, 1), out_axes=(0, 1, 2))
    par = ad.jit(pe, threads=2)
    got = par(params, X, Y)
    assert "prange(" in kernel_sources(par)[0]
    for a, e in zip(got, pe(params, X, Y)):
        np.testing.assert_allclose(a, e, rtol=1e-11, atol=1e-13)
    p32, X32, Y32 = data(np.random.default_rng(2), np.float32)
    pe = ad.vmap(ad.grad(loss), in_axes=(None, 0, 0))
    got = ad.jit(pe, threads=2)(p32, X32, Y32)
    for a, e in zip(got, ad.jit(pe, threads=1)(p32, X32, Y32)):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, e, rtol=2e-5, atol=1e-6)


def test_small_batches_and_plain_jit_stay_serial():
    params, X, Y = data(np.random.default_rng(3))
    pe = ad.vmap(ad.grad(loss), in_axes=(None, 0, 0))
    par = ad.jit(pe, threads=2)
    got = par(params, X[:20], Y[:20])
    assert not any("prange" in s for s in kernel_sources(par))
    for a, e in zip(got, pe(params, X[:20], Y[:20])):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-15)
    # not a vmap itself (a sum over the batch): no parallel kernel
    f = ad.jit(ad.grad(lambda p, x, y: ad.sum(ad.vmap(loss, in_axes=(None, 0, 0))(p, x, y))),
               threads=2)
    f(params, X, Y)
    assert f._pjit is None


def test_thread_count():
    import os
    policy = os.environ.get("OMP_WAIT_POLICY"), os.environ.get("GOMP_SPINCOUNT")
    assert parallel.thread_count(None) == numba.get_num_threads()
    # set only while the pool starts
    assert (os.environ.get("OMP_WAIT_POLICY"), os.environ.get("GOMP_SPINCOUNT")) == policy
    assert parallel.thread_count(1) == 1
    assert parallel.thread_count(10 ** 6) == numba.config.NUMBA_NUM_THREADS
    with pytest.raises(ValueError, match="threads=0"):
        parallel.thread_count(0)
    before = numba.get_num_threads()
    assert parallel.call_on_threads(1, numba.get_num_threads, ()) == 1
    assert numba.get_num_threads() == before


def test_parallel_kernels_called_from_python_threads_at_once():
    params, X, Y = data(np.random.default_rng(4))
    pe = ad.vmap(ad.grad(loss), in_axes=(None, 0, 0))
    par = ad.jit(pe, threads=2)
    want = ad.jit(pe, threads=1)(params, X, Y)
    errors = []

    def work():
        try:
            for _ in range(5):
                for a, w in zip(par(params, X, Y), want):
                    np.testing.assert_allclose(a, w, rtol=1e-12, atol=1e-15)
        except BaseException as e:  # noqa: BLE001 - reported to the main thread
            errors.append(e)
    ts = [threading.Thread(target=work) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=300)
    assert not errors, errors[0]


def test_per_example_reductions_on_threads():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(B, 20))

    def f(x):   # a sum of 3 (one accumulator per example) and of 20 (pairwise: serial)
        return ad.sum(ad.sin(x) ** 2) * ad.sum(x[:3] * x[1:4]) + ad.max(ad.cos(x))
    pe = ad.vmap(ad.grad(f))
    par = ad.jit(pe, threads=2)
    got = par(X)
    assert "prange(" in kernel_sources(par)[0]
    np.testing.assert_allclose(got, pe(X), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got, ad.jit(pe, threads=1)(X), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got[7], ad.grad(f)(X[7]), rtol=1e-12, atol=1e-14)


def test_row_loops_fuse_only_when_they_meet_at_their_own_row():
    from adjit.jit.rowfuse import fuse_row_loops
    head = ["    v1 = np.empty((4096, 4), np.float64)",
            "    for i0 in prange(4096):",
            "        for i1 in range(4):",
            "            v1[i0, i1] = a0[i0, i1] * 2.0",
            "    v2 = np.empty((4096,), np.float64)",
            "    _po3 = v1.reshape((4096, 4))"]
    own_row = ["    for i2 in prange(4096):",
               "        v2[i2] = _po3[i2, 0] + v1[i2, 3]"]
    fused = fuse_row_loops(head + own_row)
    assert sum(" in prange(" in ln for ln in fused) == 1
    assert "        for i2 in range(_lo0, _hi0):" in fused
    # the allocation and the view move before the fused loop
    assert fused.index("    v2 = np.empty((4096,), np.float64)") < fused.index(
        "    for _k0 in prange(64):")
    other_row = ["    for i2 in prange(4096):",
                 "        v2[i2] = v1[4095 - i2, 0]"]
    assert fuse_row_loops(head + other_row) == head + other_row
    whole = ["    for i2 in prange(4096):",
             "        v2[i2] = np.sum(v1)"]
    assert fuse_row_loops(head + whole) == head + whole
    other_view = ["    _pa4 = v1.reshape((2048, 8))",
                  "    for i2 in prange(4096):",
                  "        v2[i2] = _pa4[i2 // 2, 0]"]
    assert fuse_row_loops(head + other_view) == head + other_view
    # a small loop alone runs serially
    small = ["    for i0 in prange(4096):  # small", "        v2[i0] = 1.0"]
    assert fuse_row_loops(small) == ["    for i0 in range(4096):", "        v2[i0] = 1.0"]


def test_benchmark_kernel_is_one_fork_join():
    params, X, Y = data(np.random.default_rng(6))
    par = ad.jit(ad.vmap(ad.grad(loss), in_axes=(None, 0, 0)), threads=2)
    par(params, X, Y)
    (src,) = kernel_sources(par)
    assert src.count(" in prange(") == 1 and "for _k0 in prange(" in src


def test_a_parallel_kernel_numba_cannot_compile_falls_back_to_the_serial_kernel(monkeypatch):
    import warnings
    monkeypatch.setattr(parloops, "NJIT_PARALLEL", "parallel=no_such_name")
    params, X, Y = data(np.random.default_rng(7))
    pe = ad.vmap(ad.grad(loss), in_axes=(None, 0, 0))
    par = ad.jit(pe, threads=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no "running eagerly" warning
        got = par(params, X, Y)
    assert not any("prange" in s for s in kernel_sources(par))
    for a, e in zip(got, ad.jit(pe, threads=1)(params, X, Y)):
        np.testing.assert_array_equal(a, e)


def test_random_programs_on_threads_agree_with_the_eager_vmap():
    import sys
    import os
    sys.path.insert(0, os.path.dirname(__file__))
    from test_vmap import make_program, run
    rng = np.random.default_rng(8)
    for _ in range(3):
        shapes, steps = make_program(rng)
        xs = [rng.normal(size=(1500,) + s) for s in shapes]

        def f(*a, steps=steps):
            return run(steps, a)
        for t in (f, ad.grad(f)):
            with np.errstate(all="ignore"):
                want = ad.vmap(t)(*xs)
                got = ad.jit(ad.vmap(t), threads=2)(*xs)
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
