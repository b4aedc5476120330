"""Threads (issue 7): grad mode is per thread, and threads differentiating different functions
at the same time all get right answers (many iterations, all modes, first kernel compile racing).
"""
import sys
import threading

import numpy as np

import adjit as ad

N_ITERS = 1000


def _run_threads(workers):
    """Start all workers together (barrier), join, re-raise the first failure."""
    errors = []
    barrier = threading.Barrier(len(workers))

    def wrap(fn):
        def run():
            try:
                barrier.wait()
                fn()
            except BaseException as e:  # noqa: BLE001 - reported to the main thread
                errors.append(e)
        return run

    threads = [threading.Thread(target=wrap(w)) for w in workers]
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)   # switch threads every ~10 us: interleave inside ops
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
            assert not t.is_alive(), "a worker thread hung"
    finally:
        sys.setswitchinterval(old)
    if errors:
        raise errors[0]


def test_grad_mode_is_per_thread():
    seen = {}
    in_no_grad = threading.Event()
    checked = threading.Event()

    def disabler():
        with ad.no_grad():
            in_no_grad.set()
            checked.wait(10)
            x = ad.tensor([1.0], requires_grad=True)
            seen["disabler"] = (ad.is_grad_enabled(), (x * 2).requires_grad)

    def observer():
        in_no_grad.wait(10)
        x = ad.tensor([1.0], requires_grad=True)
        seen["observer"] = (ad.is_grad_enabled(), (x * 2).requires_grad)
        checked.set()

    _run_threads([disabler, observer])
    assert seen["disabler"] == (False, False)
    assert seen["observer"] == (True, True)
    assert ad.is_grad_enabled()


def test_plain_set_grad_enabled_in_a_thread_does_not_leak_out():
    def worker():
        ad.set_grad_enabled(False)          # plain call: switches this thread only
        assert not ad.is_grad_enabled()

    _run_threads([worker])
    assert ad.is_grad_enabled()
    x = ad.tensor(2.0, requires_grad=True)
    assert (x * x).requires_grad


def test_new_threads_start_with_grad_enabled():
    result = []
    with ad.no_grad():
        _run_threads([lambda: result.append(ad.is_grad_enabled())])
    assert result == [True]


def test_two_threads_differentiate_different_functions_concurrently():
    rng = np.random.default_rng(0)
    xa = rng.uniform(0.5, 1.5, 64)
    xb = rng.uniform(0.5, 1.5, 64)

    def tensor_worker():
        # reverse mode with Tensor.backward: d/dx sum(sin(x) * x) = cos(x) x + sin(x)
        for i in range(N_ITERS):
            x = ad.tensor(xa + i * 1e-3, requires_grad=True)
            ad.sum(ad.sin(x) * x).backward()
            v = xa + i * 1e-3
            np.testing.assert_allclose(x.grad.numpy(), np.cos(v) * v + np.sin(v),
                                       rtol=1e-10, atol=1e-13)

    def no_grad_toggler():
        # flips its own grad mode constantly; the others must not notice
        for i in range(N_ITERS):
            with ad.no_grad():
                x = ad.tensor(xb, requires_grad=True)
                assert not (x * 2).requires_grad
            x = ad.tensor(xb, requires_grad=True)
            assert (x * 2).requires_grad

    def functional_worker():
        # JAX-style: d/dx sum(exp(x) / x) = exp(x) (x - 1) / x^2
        g = ad.grad(lambda x: ad.sum(ad.exp(x) / x))
        for i in range(N_ITERS):
            v = xb + i * 1e-3
            np.testing.assert_allclose(g(v), np.exp(v) * (v - 1) / v ** 2,
                                       rtol=1e-10, atol=1e-13)

    def forward_worker():
        # forward mode + Hessian: f = sum(x^3), H = diag(6x)
        h = ad.hessian(lambda x: ad.sum(x ** 3))
        for i in range(N_ITERS // 3):
            v = xa[:4] + i * 1e-3
            np.testing.assert_allclose(h(v), np.diag(6 * v), rtol=1e-10, atol=1e-13)
            _, t = ad.jvp(ad.tanh, (v,), (np.ones(4),))
            np.testing.assert_allclose(t, 1 - np.tanh(v) ** 2, rtol=1e-10, atol=1e-13)

    _run_threads([tensor_worker, no_grad_toggler, functional_worker, forward_worker])


def test_threads_sharing_one_leaf_accumulate_or_capture_correctly():
    # autograd.grad (capture) from many threads on graphs sharing a leaf: each thread gets
    # its own gradient and the shared leaf's .grad is untouched
    w = ad.tensor(np.linspace(0.1, 1.0, 16), requires_grad=True)

    def worker(k):
        def run():
            for _ in range(100):
                y = ad.sum(ad.exp(w * k))
                (g,) = ad.autograd.grad(y, w)
                np.testing.assert_allclose(g.numpy(), k * np.exp(k * w.detach().numpy()),
                                           rtol=1e-10, atol=1e-13)
        return run

    _run_threads([worker(k) for k in (1.0, 2.0, 3.0, 4.0)])
    assert w.grad is None


def test_first_use_of_a_kernel_from_many_threads_at_once():
    # fused kernels are built lazily on first use (>= 4096 elements); racing threads must all
    # get a working kernel (kernels.ufunc holds a lock) and the right derivative
    x = np.linspace(-2.0, 2.0, 5000)
    want = -2.0 * x * 1.1283791670955126 * np.exp(-x * x)     # erf_d(x)' = -2 x erf_d(x)
    g = ad.grad(lambda v: ad.sum(ad.OPS["erf_d"](v)))

    def worker():
        for _ in range(5):
            np.testing.assert_allclose(g(x), want, rtol=1e-12, atol=1e-300)

    _run_threads([worker] * 4)


def test_threads_backward_through_one_shared_graph():
    # cotangents belong to each backward call, not to the shared graph's nodes
    x = ad.tensor(np.linspace(0.5, 1.5, 5), requires_grad=True)
    y = ad.sum(ad.sin(x) * x * x)
    xs = np.linspace(0.5, 1.5, 5)
    expected = np.cos(xs) * xs**2 + 2 * xs * np.sin(xs)

    def worker():
        for _ in range(200):
            (g,) = ad.autograd.grad(y, x, retain_graph=True)
            np.testing.assert_allclose(g.numpy(), expected, rtol=1e-12)

    _run_threads([worker] * 4)


def test_backward_from_inside_a_hook_on_the_same_graph():
    x = ad.tensor(2.0, requires_grad=True)
    h = x * x
    y = ad.sin(h)
    seen = []

    def hook(g):
        (inner,) = ad.autograd.grad(h, x, retain_graph=True)  # re-entrant, same graph
        seen.append(inner.item())
        return g

    y.register_hook(hook)  # fires before the outer pass reaches h's node
    (g,) = ad.autograd.grad(y, x, retain_graph=True)
    assert seen == [4.0]
    assert g.item() == np.cos(4.0) * 4.0
