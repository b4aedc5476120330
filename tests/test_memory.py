"""Memory (issue 7): a backward without retain_graph frees the graph's saved arrays, training
loops and functional transforms keep memory flat, create_graph reference cycles are collected.

Flatness is measured with tracemalloc (Python and NumPy allocations both go through it):
after a warm-up, many more iterations must not add more than a small, fixed number of bytes.
"""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import adjit as ad


def _growth(step, warmup, iters):
    """Bytes still allocated after `iters` more calls of step() than after `warmup` calls."""
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(warmup):
            step()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(iters):
            step()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return after - before


# --- saved values are freed by backward ------------------------------------------------------

def test_backward_frees_saved_arrays_and_nodes():
    x = ad.tensor(np.linspace(0.1, 1.0, 50), requires_grad=True)
    y = ad.exp(x)                 # y's array is saved by exp (output) and by sin (input)
    z = ad.sin(y) * 2.0
    saved = weakref.ref(y._data)
    sin_node = z.grad_fn.next[0]
    assert sin_node.raw is not None
    del y
    assert saved() is not None, "the graph must hold the saved value until backward"
    z.sum().backward()
    assert sin_node.raw is None and sin_node.out is None
    assert saved() is None, "saved array still alive after backward without retain_graph"
    xv = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(np.exp(xv)) * np.exp(xv))
    # the graph itself goes with its last result
    nodes = [weakref.ref(z.grad_fn), weakref.ref(sin_node)]
    del z, sin_node
    assert all(r() is None for r in nodes)


def test_retain_graph_keeps_saved_arrays_until_the_last_backward():
    x = ad.tensor(np.ones(4), requires_grad=True)
    y = ad.exp(x)
    z = ad.sum(ad.sin(y))
    saved = weakref.ref(y._data)
    del y
    z.backward(retain_graph=True)
    assert saved() is not None
    z.backward()
    assert saved() is None
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        z.backward()


def test_autograd_grad_frees_saved_arrays():
    x = ad.tensor(np.ones(3), requires_grad=True)
    y = ad.tanh(x)
    z = ad.sum(y * y)
    saved = weakref.ref(y._data)
    del y
    ad.autograd.grad(z, x)
    assert saved() is None


def test_dropping_an_unused_result_frees_its_graph():
    x = ad.tensor(np.ones(1000), requires_grad=True)
    y = ad.exp(ad.sin(x))
    ref = weakref.ref(y.grad_fn)
    data = weakref.ref(y.grad_fn.next[0].out)   # sin's output array, saved for exp's rule?
    del y
    assert ref() is None and data() is None


# --- loops stay flat -------------------------------------------------------------------------

def test_training_loop_of_3000_iterations_keeps_memory_flat():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 4))
    w_true = np.array([1.0, -2.0, 0.5, 3.0])
    t = X @ w_true
    w = ad.zeros(4, requires_grad=True)
    b = ad.zeros(1, requires_grad=True)

    def step():
        nonlocal w, b   # `w -= ...` works in place on the tensor and rebinds the name
        loss = ad.mean((X @ w + b - t) ** 2)
        loss.backward()
        with ad.no_grad():
            w -= 0.05 * w.grad
            b -= 0.05 * b.grad
        w.grad.zero_()
        b.grad.zero_()

    grew = _growth(step, warmup=200, iters=2800)   # 64 KB: a leak of 24 bytes per step fails
    assert grew < 64 * 1024, f"memory grew by {grew} bytes over 2,800 iterations"
    np.testing.assert_allclose(w.detach().numpy(), w_true, atol=1e-6)   # it did train


def test_create_graph_reference_cycles_are_collected():
    # x.backward(create_graph=True) makes x.grad a graph that points back at x: a cycle,
    # as in PyTorch. It must be collectable (no __del__, no global registry holding it).
    def make():
        x = ad.tensor(np.linspace(0.5, 1.5, 100), requires_grad=True)
        y = ad.sum(ad.sin(x) ** 3)
        y.backward(create_graph=True)
        assert x.grad.grad_fn is not None
        return weakref.ref(x), weakref.ref(x.grad), weakref.ref(x.grad.grad_fn)

    refs = make()
    gc.collect()
    assert all(r() is None for r in refs)


def test_double_backward_loop_keeps_memory_flat():
    x = ad.tensor(np.linspace(0.5, 1.5, 20), requires_grad=True)

    def step():
        y = ad.sum(ad.exp(x) * ad.sin(x))
        (g,) = ad.autograd.grad(y, x, create_graph=True)
        (h,) = ad.autograd.grad(ad.sum(g * g), x)
        x.grad = None
        return h

    grew = _growth(step, warmup=100, iters=1000)
    assert grew < 64 * 1024, f"memory grew by {grew} bytes over 1,000 double backwards"


@pytest.mark.parametrize("kind", ["grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian"])
def test_functional_transforms_in_a_loop_keep_memory_flat(kind):
    f = lambda x: ad.sum(ad.tanh(x) * x)            # noqa: E731
    x = np.linspace(-1.0, 1.0, 8)
    calls = {
        "grad": lambda: ad.grad(f)(x),
        "value_and_grad": lambda: ad.value_and_grad(f)(x),
        "vjp": lambda: ad.vjp(ad.tanh, x)[1](np.ones(8)),
        "jvp": lambda: ad.jvp(f, (x,), (np.ones(8),)),
        "jacobian": lambda: ad.jacobian(ad.tanh)(x),
        "hessian": lambda: ad.hessian(f)(x),
    }
    n = 200 if kind == "hessian" else 1000
    grew = _growth(calls[kind], warmup=50, iters=n)
    assert grew < 64 * 1024, f"ad.{kind} in a loop grew memory by {grew} bytes over {n} calls"


def test_leaked_graph_would_be_detected():
    # the measurement itself can fail: keeping every loss alive grows memory
    keep = []
    x = ad.tensor(np.ones(100), requires_grad=True)

    def step():
        keep.append(ad.sum(ad.exp(x)))

    assert _growth(step, warmup=10, iters=500) > 64 * 1024
