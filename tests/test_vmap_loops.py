"""ad.vmap of loops (ad.fori_loop, ad.scan, plain `for i in range` loops under ad.jit): the
batched program runs ONE loop op whose body is the batched body (jit/loopvmap.py), not one
loop per batch element (transforms/batching.py's `_loop`: before, ad.jit(ad.vmap(ad.grad(f)))
of an RNN traced B loops and ran eagerly past the trace limit). Values and per-example
derivatives in both modes and second order vs a Python loop over the batch."""
import re
import warnings

import numpy as np
import pytest

import adjit as ad
from adjit.jit import loopad, loopvmap
from adjit.jit.loopop import NotLoopable
from adjit.transforms import batching

RNG = np.random.default_rng(14)
K, L = 2.0, 0.5
W3 = RNG.normal(size=(3, 3)) * 0.5
B3 = RNG.normal(size=3)
XS_SHARED = RNG.normal(size=(4, 3))


@pytest.fixture
def no_loop(monkeypatch):
    """Fails a test in which an op runs once per batch element."""
    def fail(op, *a, **k):
        raise AssertionError(f"op '{op.name}' ran once per batch element under ad.vmap")
    monkeypatch.setattr(batching, "_loop", fail)


@pytest.fixture
def loop_calls(monkeypatch):
    """The number of loop ops computed (the loop row's primal calls)."""
    calls = []
    primal = loopad.loop.primal

    def counted(*a, **k):
        calls.append(1)
        return primal(*a, **k)
    monkeypatch.setattr(loopad.loop, "primal", counted)
    return calls


# ---------------------------------------------------------------------------------------------
# programs of one vector x (batched); what they close over is batched through x or shared

def rnn(x):
    """scan: pytree carry (vector, scalar) starting unbatched, batched xs (rows of x), pytree
    ys, W shared and b = x[:3] batched, both closed over."""
    xs = ad.reshape(x, (4, 3))
    b = x[:3]

    def step(carry, xt):
        h, s = carry
        h = ad.tanh(W3 @ h + xt * b)
        return (h, s + ad.sum(h * h)), {"first": h[0], "all": h}
    (h, s), ys = ad.scan(step, (np.zeros(3), 0.0), xs)
    return s + 0.1 * ad.sum(ys["all"] ** 2) + ad.sum(ys["first"]) + ad.sum(h)


def decay(x):
    """scan with reverse=True over batched xs, batched init."""
    c, ys = ad.scan(lambda c, xt: (c * 0.9 + ad.sin(xt), c * xt), x[0], x, reverse=True)
    return c + ad.sum(ys ** 2)


def power(x):
    """fori_loop: vector carry, the index in arithmetic, x closed over."""
    v = ad.fori_loop(1, 5, lambda i, v: v * ad.cos(v) + 0.1 * i * x, x)
    return ad.sum(v)


def spring_fori(x):
    """hoisted x[i + 1] reads of a batched closed-over x; the carry starts as 0.0 (unbatched)
    and depends on the batch after one step."""
    return ad.fori_loop(0, x.shape[0] - 1, lambda i, E: E + K * (x[i + 1] - x[i] - L) ** 2, 0.0)


def spring_scan(x):
    """scan over two slices of x."""
    E, _ = ad.scan(lambda E, p: (E + K * (p[1] - p[0] - L) ** 2, None), 0.0, (x[:-1], x[1:]))
    return E


def shared_xs(x):
    """scan over unbatched xs with a batched carry; one y batched, one not."""
    def step(c, xt):
        return ad.sin(c) * xt + c, (c * c, xt * 2.0)
    c, (ys, zs) = ad.scan(step, x[:3], XS_SHARED)
    return ad.sum(c) + ad.sum(ys) + ad.sum(zs * x[0])


def nested(x):
    """a fori_loop inside a scan body."""
    def step(c, xt):
        c = ad.fori_loop(0, 3, lambda i, v: v * 0.5 + ad.sin(v + xt), c)
        return c, c[0]
    c, ys = ad.scan(step, x[:2], ad.reshape(x, (3, 2)))
    return ad.sum(c * c) + ad.sum(ys)


def no_xs(x):
    """scan with xs=None and a length; ys batched."""
    c, ys = ad.scan(lambda c, _: (c * 0.5 + ad.sin(c), c[0]), x, None, length=4)
    return ad.sum(c) + ad.sum(ys ** 2)


def row_prefix(x):
    """hoisted A[1, i + 1] and A[0, i] reads of a batched 2-D array."""
    A = ad.reshape(x, (2, 4))
    return ad.fori_loop(0, 3, lambda i, E: E + (A[1, i + 1] - A[0, i]) ** 2, 0.0)


def const_y(x):
    """a y that is a constant (an unbatched block, repeated for every element)."""
    c, ys = ad.scan(lambda c, r: (c * r, 1.0), x[0], x)
    return c + ad.sum(ys * x[1])


def ode(p):
    """RK4 steps of a damped oscillator whose right-hand side, a helper function, closes over
    the parameters (the body reads them through the helper's cells)."""
    k, c = p[0] ** 2, p[1] ** 2

    def rhs(y):
        return ad.stack([y[1], -k * y[0] - c * y[1]])

    def step(i, y):
        h = 0.05
        k1 = rhs(y)
        k2 = rhs(y + h / 2 * k1)
        k3 = rhs(y + h / 2 * k2)
        k4 = rhs(y + h * k3)
        return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    y = ad.fori_loop(0, 20, step, ad.stack([p[2], 0.0 * p[2]]))
    return y[0] ** 2 + y[1]


PROGRAMS = [rnn, decay, power, spring_fori, spring_scan, shared_xs, nested, no_xs, row_prefix,
            const_y, ode]
DIM = {rnn: 12, decay: 5, power: 4, spring_fori: 6, spring_scan: 6, shared_xs: 4, nested: 6,
       no_xs: 3, row_prefix: 8, const_y: 3, ode: 3}


def batch(f, b=3, seed=0):
    return np.random.default_rng(seed).normal(size=(b, DIM[f])) + np.arange(DIM[f])


def loop(f, X):
    return np.stack([np.asarray(f(x)) for x in X])


ids = [f.__name__ for f in PROGRAMS]


@pytest.mark.parametrize("f", PROGRAMS, ids=ids)
def test_values_and_per_example_derivatives_like_a_loop(f, no_loop, loop_calls):
    X = batch(f)
    np.testing.assert_allclose(ad.vmap(f)(X), loop(f, X), rtol=1e-12, atol=1e-12)
    # one loop op for the whole batch (nested: the inner loop also runs once while each of
    # the outer bodies, the element's and the batched one, is traced)
    assert len(loop_calls) == (3 if f is nested else 1)
    for t in (ad.grad(f), ad.jacfwd(f), ad.hessian(f)):
        np.testing.assert_allclose(ad.vmap(t)(X), loop(t, X), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("f", PROGRAMS, ids=ids)
def test_derivatives_of_the_batched_program(f, no_loop):
    """jacfwd / jacrev of vmap(f): block diagonal, one block per element."""
    X = batch(f, seed=1)
    g = loop(ad.grad(f), X)
    want = np.einsum("ab,ai->abi", np.eye(len(X)), g)
    for jac in (ad.jacfwd, ad.jacrev):
        np.testing.assert_allclose(jac(ad.vmap(f))(X), want, rtol=1e-10, atol=1e-10)


def test_number_of_loops_does_not_grow_with_the_batch(no_loop, loop_calls):
    counts = []
    for b in (2, 7):
        del loop_calls[:]
        ad.vmap(ad.grad(rnn))(batch(rnn, b))
        counts.append(len(loop_calls))
    assert counts[0] == counts[1] and 1 <= counts[0] <= 4


def test_in_axes_shared_and_batched_arguments(no_loop):
    """An RNN's per-example gradient: parameters shared (in_axes None), sequences batched,
    batch axis not first; and parameters batched too (an ensemble)."""
    def loss(W, xs):
        h, ys = ad.scan(lambda h, x: (ad.tanh(W @ h + x), ad.sum(h)), np.zeros(3), xs)
        return ad.sum(h ** 2) + ad.sum(ys)
    XS = RNG.normal(size=(5, 4, 3))     # (steps, batch, 3)
    got = ad.vmap(ad.grad(loss), in_axes=(None, 1))(W3, XS)
    want = np.stack([ad.grad(loss)(W3, XS[:, b]) for b in range(4)])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    Ws = W3 + 0.1 * RNG.normal(size=(4, 3, 3))
    got = ad.vmap(ad.grad(loss), in_axes=(0, 1))(Ws, XS)
    want = np.stack([ad.grad(loss)(Ws[b], XS[:, b]) for b in range(4)])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_vmap_of_vmap(no_loop):
    X = batch(power, 6).reshape(2, 3, 4)
    np.testing.assert_allclose(ad.vmap(ad.vmap(ad.grad(power)))(X),
                               loop(ad.grad(power), X.reshape(6, 4)).reshape(2, 3, 4),
                               rtol=1e-10, atol=1e-12)


def test_fallback_runs_once_per_element(monkeypatch):
    """Where the batched body cannot be traced as one loop, the loop runs per element."""
    def cannot(*a, **k):
        raise NotLoopable("test")
    monkeypatch.setattr(loopvmap, "trace_body", cannot)
    X = batch(rnn)
    np.testing.assert_allclose(ad.vmap(ad.grad(rnn))(X), loop(ad.grad(rnn), X), rtol=1e-10,
                               atol=1e-12)


def test_fallback_under_jit_says_why(monkeypatch):
    """When the per-element loops grow the trace past its limit, the warning says why."""
    from adjit.jit import trace as jit_trace

    def cannot(*a, **k):
        raise NotLoopable("a reason")
    monkeypatch.setattr(loopvmap, "trace_body", cannot)
    monkeypatch.setattr(jit_trace, "MAX_TRACE", 200)
    X = batch(power, 100)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        got = ad.jit(ad.vmap(power), threads=1)(X)
    msgs = [str(m.message) for m in w if issubclass(m.category, RuntimeWarning)]
    assert len(msgs) == 1 and "once per batch element" in msgs[0] and "a reason" in msgs[0]
    np.testing.assert_allclose(got, loop(power, X), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# ad.jit(ad.vmap(ad.grad(f))): one compiled loop nest, whatever the batch size

def n_loops(jitted):
    """(loops over steps in the generated code, eager calls) of an ad.jit function (of its
    multi-threaded kernels where it has them)."""
    state = (jitted._pjit or jitted)._jit
    n = 0
    for specs in state.cache.values():
        for s in specs:
            with open(s.path) as f:
                n += len(re.findall(r"for L\d+_\d+t in", f.read()))
    return n, state.n_eager


def spring_plain(x):
    E = 0.0
    for i in range(x.shape[0] - 1):     # rewritten by ad.jit into a loop op
        E = E + K * (x[i + 1] - x[i] - L) ** 2
    return E


DIM[spring_plain] = 6


@pytest.mark.parametrize("f,threads", [(rnn, None), (spring_plain, 1), (ode, 1)],
                         ids=["rnn", "spring_plain", "ode"])
def test_jit_of_vmap_of_grad_compiles_for_a_large_batch(f, threads, no_loop):
    """A batch of 2,000 (before: 2,000 loops traced, past the trace limit, eager): the forward
    loop, the carries' history and the reverse loop, each over the whole batch."""
    X = batch(f, 2000, seed=2)
    jitted = ad.jit(ad.vmap(ad.grad(f)), threads=threads)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no "running eagerly" warning
        got = jitted(X)
    np.testing.assert_allclose(got[:5], loop(ad.grad(f), X[:5]), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[-5:], loop(ad.grad(f), X[-5:]), rtol=1e-10, atol=1e-12)
    loops, eager = n_loops(jitted)
    assert eager == 0 and 1 <= loops <= 3


def test_eager_batched_loop_runs_numpy_ops_not_python_scalar_loops(monkeypatch, no_loop):
    """A batched body's ops work on whole batches: eagerly (and while ad.jit traces) the loop
    runs them as NumPy calls (jit/loopkernel.py), not the generated scalar loops as Python
    (for a batch of 1,000 RNN gradients that took 13 s instead of 0.14 s)."""
    from adjit.jit import loopkernel

    def python_loops(*a, **k):
        raise AssertionError("a batched loop ran its generated scalar loops as Python")
    monkeypatch.setattr(loopkernel, "_python_kernel", python_loops)
    X = batch(rnn, 300, seed=3)
    got = ad.vmap(ad.grad(rnn))(X)
    np.testing.assert_allclose(got[::50], loop(ad.grad(rnn), X[::50]), rtol=1e-10, atol=1e-12)


def test_scan_without_xs_is_one_loop_under_jit():
    """ad.scan(f, init, None, length=n) under ad.jit: one loop (it ran as a Python loop traced
    step by step: the body was given the rows of no xs as a pytree and stopped)."""
    x = batch(no_xs)[0]
    jitted = ad.jit(no_xs)
    np.testing.assert_allclose(jitted(x), no_xs(x), rtol=1e-12)
    assert n_loops(jitted) == (1, 0)
