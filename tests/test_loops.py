"""Loops (issue 12): ad.fori_loop / ad.scan eagerly and under ad.jit (one compiled loop, its
derivatives loops too), plain `for i in range` loops rewritten by ad.jit, the trace-size limit."""
import re
import warnings

import numpy as np
import pytest

import adjit as ad
from adjit.jit import trace as jit_trace

K, L = 2.0, 0.5
RNG = np.random.default_rng(12)
X7 = RNG.normal(size=7)
XCHAIN = np.linspace(0.0, 3.0, 9) + 0.1 * np.sin(np.arange(9))


def n_loops(jitted):
    """(compiled loops in the generated code, eager calls) of an ad.jit function."""
    n = 0
    for specs in jitted._jit.cache.values():
        for s in specs:
            with open(s.path) as f:
                n += len(re.findall(r"for L\d+_\d+t in", f.read()))
    return n, jitted._jit.n_eager


def fd_grad(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = eps
        g.flat[k] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


# ---------------------------------------------------------------------------------------------
# functions under test

def spring_fori(x):
    return ad.fori_loop(0, x.shape[0] - 1, lambda i, E: E + K * (x[i + 1] - x[i] - L) ** 2, 0.0)


def spring_scan(x):
    E, _ = ad.scan(lambda E, p: (E + K * (p[1] - p[0] - L) ** 2, None), 0.0, (x[:-1], x[1:]))
    return E


def spring_plain(x):
    E = 0.0
    for i in range(x.shape[0] - 1):
        E = E + K * (x[i + 1] - x[i] - L) ** 2
    return E


def spring_ref(x):
    return float(np.sum(K * (np.diff(x) - L) ** 2))


W = RNG.normal(size=(3, 3)) * 0.5
B3 = RNG.normal(size=3)


def rnn(W, b, xs):
    """Pytree carry (vector, scalar), scalar xs, pytree ys; W, b closed over."""
    def step(carry, x):
        h, s = carry
        h = ad.tanh(W @ h + x * b)
        return (h, s + ad.sum(h * h)), {"first": h[0], "all": h}
    (h, s), ys = ad.scan(step, (np.zeros(3), 0.0), xs)
    return s + 0.1 * ad.sum(ys["all"] ** 2) + ad.sum(ys["first"]) + ad.sum(h)


def decay(xs):
    c, ys = ad.scan(lambda c, x: (c * 0.9 + ad.sin(x), c * x), 1.0, xs, reverse=True)
    return c + ad.sum(ys ** 2)


def power(x):
    """fori_loop over a vector carry with the index used in arithmetic."""
    v = ad.fori_loop(1, 5, lambda i, v: v * ad.cos(v) + 0.1 * i * x, x)
    return ad.sum(v)


SCALAR_FNS = [spring_fori, spring_scan, spring_plain]


# ---------------------------------------------------------------------------------------------
# eager: Python loops, both modes correct by construction

def test_eager_semantics_like_jax():
    assert ad.fori_loop(0, 4, lambda i, v: v + i, 10) == 16
    c, ys = ad.scan(lambda c, x: (c + x, c * x), 0.0, np.arange(4.0))
    assert c == 6.0
    np.testing.assert_allclose(ys, [0.0, 0.0, 2.0, 9.0])
    c, ys = ad.scan(lambda c, x: (c + x, c), 0.0, np.arange(3.0), reverse=True)
    np.testing.assert_allclose(ys, [3.0, 2.0, 0.0])   # ys keep xs's order
    c, ys = ad.scan(lambda c, _: (c * 2.0, None), 1.0, length=3)
    assert c == 8.0 and ys is None
    with pytest.raises(ValueError, match="disagree"):
        ad.scan(lambda c, x: (c, x), 0.0, (np.ones(3), np.ones(4)))


@pytest.mark.parametrize("f", SCALAR_FNS)
def test_eager_values_and_gradients(f):
    assert f(XCHAIN) == pytest.approx(spring_ref(XCHAIN), rel=1e-12)
    g = ad.grad(f)(XCHAIN)
    np.testing.assert_allclose(g, fd_grad(spring_ref, XCHAIN), rtol=1e-6, atol=1e-7)
    t = np.arange(9.0) / 9
    _, jv = ad.jvp(f, (XCHAIN,), (t,))
    assert jv == pytest.approx(float(g @ t), rel=1e-10)
    x = ad.tensor(XCHAIN, requires_grad=True)
    f(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), g, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# ad.jit: one loop, derivatives included

@pytest.mark.parametrize("f", SCALAR_FNS)
def test_jit_spring_chain_is_one_loop(f):
    jf, jg = ad.jit(f), ad.jit(ad.grad(f))
    assert jf(XCHAIN) == pytest.approx(spring_ref(XCHAIN), rel=1e-12)
    np.testing.assert_allclose(jg(XCHAIN), ad.grad(f)(XCHAIN), rtol=1e-12, atol=1e-14)
    assert n_loops(jf) == (1, 0)
    assert n_loops(jg)[1] == 0 and n_loops(jg)[0] >= 1
    # a new input of the same shape reuses the kernel (nothing depends on the traced values)
    x2 = XCHAIN[::-1].copy()
    np.testing.assert_allclose(jg(x2), fd_grad(spring_ref, x2), rtol=1e-6, atol=1e-7)
    assert jg._jit.n_traces == 1


def test_jit_long_chain_compiles_once():
    x = np.linspace(0.0, 300.0, 5000)
    for f in SCALAR_FNS:
        jg = ad.jit(ad.grad(f))
        g = jg(x)
        np.testing.assert_allclose(g, ad.grad(lambda y: ad.sum(K * (y[1:] - y[:-1] - L) ** 2))(x),
                                   rtol=1e-9, atol=1e-9)
        assert n_loops(jg)[1] == 0


def test_jit_scan_pytrees_reverse_mode():
    jr = ad.jit(ad.grad(rnn, argnums=(0, 1, 2)))
    got, want = jr(W, B3, X7), ad.grad(rnn, argnums=(0, 1, 2))(W, B3, X7)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[2], fd_grad(lambda xs: rnn(W, B3, xs), X7), rtol=1e-6,
                               atol=1e-8)
    np.testing.assert_allclose(got[0], fd_grad(lambda w: rnn(w, B3, X7), W), rtol=1e-6,
                               atol=1e-8)
    assert ad.jit(rnn)(W, B3, X7) == pytest.approx(rnn(W, B3, X7), rel=1e-12)
    assert n_loops(jr)[1] == 0 and n_loops(jr)[0] >= 2   # stored carries + reverse loop


@pytest.mark.parametrize("f", [rnn, decay, power])
def test_jit_forward_mode(f):
    args = (W, B3, X7) if f is rnn else (X7,)
    g = (lambda xs: rnn(W, B3, xs)) if f is rnn else f
    x = X7
    jj = ad.jit(ad.jacfwd(g))
    np.testing.assert_allclose(jj(x), ad.jacfwd(g)(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(jj(x), fd_grad(g, x), rtol=1e-6, atol=1e-8)
    assert n_loops(jj)[1] == 0 and n_loops(jj)[0] >= 1
    del args


@pytest.mark.parametrize("f", [decay, power, spring_plain])
def test_jit_second_order(f):
    x = XCHAIN if f is spring_plain else X7
    jh = ad.jit(ad.hessian(f))
    np.testing.assert_allclose(jh(x), ad.hessian(f)(x), rtol=1e-9, atol=1e-10)
    assert n_loops(jh)[1] == 0


def test_jit_reverse_scan_and_index_arithmetic():
    for f in (decay, power):
        jg = ad.jit(ad.grad(f))
        np.testing.assert_allclose(jg(X7), ad.grad(f)(X7), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(jg(X7), fd_grad(f, X7), rtol=1e-6, atol=1e-8)
        assert n_loops(jg)[1] == 0


def test_jit_body_with_value_dependent_control_flow_runs_as_python():
    def f(x):
        def body(i, E):
            d = x[i + 1] - x[i]
            return E + (d if d > 0 else -d)   # Python `if` on a value computed in the loop
        return ad.fori_loop(0, x.shape[0] - 1, body, 0.0)
    jg = ad.jit(ad.grad(f))
    x = np.array([0.0, 1.0, 0.5, 2.0])
    np.testing.assert_allclose(jg(x), [-1.0, 2.0, -2.0, 1.0])
    np.testing.assert_allclose(jg(x[::-1].copy()), [1.0, -2.0, 2.0, -1.0])   # guards retrace


def test_jit_negative_offsets_keep_python_semantics():
    # x[i - 1] at i = 0 is x[-1] (wraps): not hoisted, the loop still computes Python's value
    def f(x):
        return ad.fori_loop(0, 3, lambda i, E: E + x[i - 1] * x[i], 0.0)
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert ad.jit(f)(x) == pytest.approx(f(x))
    np.testing.assert_allclose(ad.jit(ad.grad(f))(x), ad.grad(f)(x))


# ---------------------------------------------------------------------------------------------
# plain Python loops

def test_plain_loop_variants():
    def f(x, w):
        E, s = 0.0, 0.0
        for i in range(1, x.shape[0], 2):
            d = x[i] - x[i - 1]          # a temporary: not carried
            E += w * d * d
            s = s + ad.sin(x[i])
        t = E * s                        # read after the loop: carried
        return t + s

    x = np.linspace(0.0, 2.0, 11)
    jf, jg = ad.jit(f), ad.jit(ad.grad(f, argnums=(0, 1)))
    assert jf(x, 1.5) == pytest.approx(f(x, 1.5), rel=1e-12)
    for a, b in zip(jg(x, 1.5), ad.grad(f, argnums=(0, 1))(x, 1.5)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert n_loops(jf) == (1, 0)


def test_plain_loop_not_rewritable_still_correct():
    def f(x):
        out = []
        for i in range(x.shape[0]):
            out.append(x[i] * x[i])   # a call as a statement: left as a Python loop
        return ad.sum(ad.stack(out))

    def g(x):
        E = 0                          # an int accumulator: not carried as a loop
        for i in range(x.shape[0]):
            E = E + x[i] ** 2
        return E
    x = np.arange(4.0)
    for fn in (f, g):
        np.testing.assert_allclose(ad.jit(ad.grad(fn))(x), 2 * x)


def test_plain_loop_eagerly_unchanged():
    calls = []

    def f(x):
        E = 0.0
        for i in range(3):
            E = E + x * i
        calls.append(E)
        return E
    assert ad.jit(f)(2.0) == 6.0
    assert f(2.0) == 6.0 and calls[-1] == 6.0


# ---------------------------------------------------------------------------------------------
# the trace-size limit

def test_trace_limit_warns_once_and_runs_eagerly(monkeypatch):
    monkeypatch.setattr(jit_trace, "MAX_TRACE", 200)

    def f(x):
        E, i = 0.0, 0
        while i < x.shape[0] - 1:      # a while loop is traced step by step
            E = E + K * (x[i + 1] - x[i] - L) ** 2
            i += 1
        return E
    x = np.linspace(0.0, 30.0, 60)
    jg = ad.jit(ad.grad(f))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        g1, g2 = jg(x), jg(x)
    msgs = [str(m.message) for m in w if issubclass(m.category, RuntimeWarning)]
    assert len(msgs) == 1
    assert "grew past 200 operations" in msgs[0] and "ad.fori_loop" in msgs[0]
    np.testing.assert_allclose(g1, fd_grad(spring_ref, x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(g2, g1)
    assert jg._jit.n_eager == 2


def test_trace_limit_warning_says_why_the_loop_was_not_compiled(monkeypatch):
    monkeypatch.setattr(jit_trace, "MAX_TRACE", 200)

    def f(x):
        E = 0                              # an int: not carried as one loop
        for i in range(x.shape[0] - 1):
            E = E + K * (x[i + 1] - x[i] - L) ** 2
        return E
    x = np.linspace(0.0, 30.0, 60)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        g = ad.jit(ad.grad(f))(x)
    msgs = [str(m.message) for m in w if issubclass(m.category, RuntimeWarning)]
    assert len(msgs) == 1 and "E = 0.0, not E = 0" in msgs[0]
    np.testing.assert_allclose(g, fd_grad(spring_ref, x), rtol=1e-6, atol=1e-6)


def test_nested_plain_loops_are_nested_loops():
    def f(A):
        s = 0.0
        for i in range(A.shape[0]):
            r = 0.0
            for j in range(A.shape[1]):
                r = r + ad.sin(A[i, j]) * j     # A[i, j]: a row of A[i] per inner step
            s = s + r * r
        return s
    A = RNG.normal(size=(5, 4))
    jf, jg = ad.jit(f), ad.jit(ad.grad(f))
    assert jf(A) == pytest.approx(f(A), rel=1e-12)
    np.testing.assert_allclose(jg(A), ad.grad(f)(A), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(jg(A), fd_grad(f, A), rtol=1e-6, atol=1e-8)
    assert n_loops(jf) == (2, 0) and n_loops(jg)[1] == 0


def test_slow_compile_prints_a_progress_line(monkeypatch, capsys):
    from adjit.jit import progress
    monkeypatch.setattr(progress, "AFTER", 0.0)
    monkeypatch.setenv("ADJIT_PROGRESS", "1")
    with progress.notice("f (3 traced values)"):
        import time
        time.sleep(0.2)
    err = capsys.readouterr().err
    assert "adjit.jit: compiling f (3 traced values)" in err and "compiled f" in err
    monkeypatch.setenv("ADJIT_PROGRESS", "0")
    with progress.notice("g"):
        time.sleep(0.2)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------------------------------
# rows of a closed-over array written by several steps: summed in registers (loopgen)

def _stencil(offsets, weights, lo, hi, step=1):
    def f(x):
        def body(i, E):
            s = 0.0
            for o, w in zip(offsets, weights):
                s = s + w * ad.sin(x[i + o])
            return E + s * s + x[i + offsets[0]] * E * 0.01
        return ad.fori_loop(lo, hi, body, 0.5)
    return f


@pytest.mark.parametrize("offsets, lo, hi", [
    ((0, 1), 0, 8), ((1, 0), 0, 8), ((0, 2, 3), 0, 6), ((3, 0), 0, 2), ((0, 1, 2, 5), 0, 4),
    ((2, 0), 0, 1), ((0, 4), 0, 3), ((1, 3), 1, 5)])
def test_rows_written_by_several_steps(offsets, lo, hi):
    x = np.linspace(0.3, 2.0, 9)
    f = _stencil(offsets, [1.0, -0.7, 0.4, 0.2][:len(offsets)], lo, hi)
    g_eager = ad.grad(f)(x)
    np.testing.assert_allclose(g_eager, fd_grad(f, x), rtol=1e-6, atol=1e-7)
    jg = ad.jit(ad.grad(f))
    np.testing.assert_allclose(jg(x), g_eager, rtol=1e-12, atol=1e-13)
    assert jg._jit.n_eager == 0
    # forward mode: the tangents' rows too
    t = np.cos(np.arange(9.0))
    jj = ad.jit(lambda x, t: ad.jvp(f, (x,), (t,))[1])
    assert jj(x, t) == pytest.approx(float(g_eager @ t), rel=1e-10, abs=1e-12)


def test_rows_of_a_plain_loop_with_a_step():
    def f(x):
        E = 0.0
        for i in range(0, x.shape[0] - 2, 2):
            E = E + (x[i + 2] - x[i]) ** 2 * x[i + 1]
        return E
    x = np.linspace(0.0, 1.5, 9) ** 2
    g = ad.grad(f)(x)
    np.testing.assert_allclose(g, fd_grad(f, x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ad.jit(ad.grad(f))(x), g, rtol=1e-12, atol=1e-13)


def test_sum_carry_cotangent_is_not_an_array():
    # the cotangent carry of E = E + ... stays a scalar variable (no one-element array stored
    # and reloaded per step); the rows x[i], x[i + 1] add in registers
    jg = ad.jit(ad.grad(spring_fori))
    np.testing.assert_allclose(jg(XCHAIN), fd_grad(spring_ref, XCHAIN), rtol=1e-6, atol=1e-7)
    [specs] = jg._jit.cache.values()
    with open(specs[0].path) as fh:
        src = fh.read()
    assert "empty((1,)" not in src
    assert re.search(r"L\d+_\d+r0_1 = 0\.0", src)


def test_steady_call_path_falls_back_on_a_new_shape():
    # the direct call of the last kernel (Jitted.__call__) hands a guard failure (a new
    # shape) to the slow path, which specialises; results stay right either way
    jg = ad.jit(ad.grad(spring_fori))
    x5, x9 = XCHAIN[:5].copy(), XCHAIN.copy()
    for x in (x9, x9, x5, x9, x5, x5):
        np.testing.assert_allclose(jg(x), fd_grad(spring_ref, x), rtol=1e-6, atol=1e-7)
    assert jg._jit.n_eager == 0
    jf = ad.jit(lambda x, s: x * s)
    np.testing.assert_allclose(jf(x5, np.float64(2.0)), x5 * 2.0)
    np.testing.assert_allclose(jf(x5, 3), x5 * 3)


def test_rows_in_registers_with_a_negative_step_and_nested():
    def down(x):
        E = 0.0
        for i in range(x.shape[0] - 1, 1, -1):
            E = E + (x[i] - x[i - 1] + 0.3 * x[i - 2]) ** 2 * 1.5
        return E

    def nested(x):
        E = 0.0
        for j in range(3):
            for i in range(x.shape[0] - 1):
                E = E + (x[i + 1] - x[i] * (j + 1)) ** 2
        return E

    x = np.linspace(0.2, 2.0, 9) ** 1.5
    for f in (down, nested):
        g = ad.grad(f)(x)
        np.testing.assert_allclose(g, fd_grad(f, x), rtol=1e-6, atol=1e-6)
        jg = ad.jit(ad.grad(f))
        np.testing.assert_allclose(jg(x), g, rtol=1e-12, atol=1e-12)
        assert jg._jit.n_eager == 0
