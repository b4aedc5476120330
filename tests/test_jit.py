"""ad.jit: compiled results equal eager results (and hand-derived derivatives), guards and
retracing for Python control flow, the eager fallback, the specialisation cache.

numba compile time dominates this file, so the jitted functions are built once at module level
and shared between tests (each distinct program compiles once per process, and loads from the
disk cache in later runs).
"""
import traceback
import warnings

import numpy as np
import pytest

import adjit as ad

RTOL = 1e-12
rng = np.random.default_rng(1234)


def close(a, b, rtol=RTOL):
    """Norm-wise relative error (max |a - b| / max |b|) at most rtol. Entries far below the
    array's scale may differ more: the kernel's tanh, exp... (libm, through numba) and NumPy's
    vectorized ones can differ in the last bit, and e.g. 1 - tanh(s)**2 amplifies that where
    tanh saturates."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, (a.shape, b.shape)
    err = np.max(np.abs(a - b), initial=0.0) / (np.max(np.abs(b), initial=0.0) + 1e-300)
    assert err <= rtol, f"relative error {err:.2e}"


def traces(jf):
    return jf._jit.n_traces


# ---------------------------------------------------------------------------------------------
# the functions under test


def f_xy(x, y):
    return x * ad.log(x) + ad.sin(x * y)


def rosen(x):
    return ad.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosen_grad_exact(x):
    g = np.zeros_like(x)
    a = x[1:] - x[:-1] ** 2
    g[:-1] += -400.0 * a * x[:-1] - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * a
    return g


def rosen_hess_exact(x):
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 1200.0 * x[i] ** 2 - 400.0 * x[i + 1] + 2.0
        h[i, i + 1] += -400.0 * x[i]
        h[i + 1, i] += -400.0 * x[i]
        h[i + 1, i + 1] += 200.0
    return h


W_TALL = rng.normal(size=(7, 3))
W_WIDE = rng.normal(size=(3, 7))


def tanh_tall(x):
    return ad.tanh(W_TALL @ x)


def tanh_wide(x):
    return ad.tanh(W_WIDE @ x)


def tanh_jac_exact(W, x):
    return (1.0 - np.tanh(W @ x) ** 2)[:, None] * W


def seed_example(a):
    """Issue 6's control-flow example: a data-dependent loop count and branch."""
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    c = b if b.sum() > 0 else 100 * b
    return c.sum()


def seed_grad_exact(a):
    b, k = 2.0 * a, 1.0
    while np.linalg.norm(b) < 1000:
        b, k = 2.0 * b, 2.0 * k
    return np.full_like(a, 2.0 * k * (1.0 if b.sum() > 0 else 100.0))


GRAD_XY = ad.jit(ad.grad(f_xy, argnums=(0, 1)))
VG_XY = ad.jit(ad.value_and_grad(f_xy, argnums=(0, 1)))
GRAD_ROSEN = ad.jit(ad.grad(rosen))
VG_ROSEN = ad.jit(ad.value_and_grad(rosen))
HESS_ROSEN = ad.jit(ad.hessian(rosen))
SEED_GRAD = ad.jit(ad.grad(seed_example))


# ---------------------------------------------------------------------------------------------
# results equal eager results

def test_plain_function_scalars():
    jf = ad.jit(f_xy)
    for x, y in [(1.5, 2.0), (0.3, -4.0)]:
        close(jf(x, y), f_xy(x, y))
        close(jf(x, y), x * np.log(x) + np.sin(x * y))


def test_sums_and_products_are_bit_equal_to_numpy():
    # reductions add in NumPy's pairwise order, so compiled sums match eager ones exactly
    def f(x):
        return ad.sum(ad.sin(x) * 3.0) + ad.norm(x) * ad.mean(x.reshape(2, -1), axis=1)

    jf = ad.jit(f)
    for n in (10, 1030):
        x = rng.normal(size=n)
        assert np.array_equal(jf(x), f(x))
    # matrix products go through BLAS as in NumPy: the reverse-mode Jacobian too
    jac = ad.jacobian(lambda x: W_TALL.T @ (W_TALL @ x) * 3.0, mode="reverse")
    x = rng.normal(size=3)
    assert np.array_equal(ad.jit(jac)(x), jac(x))


def test_grad_and_value_and_grad_of_two_scalars():
    for x, y in [(1.5, 2.0), (0.7, -3.0), (2.5, 0.1)]:
        gx, gy = GRAD_XY(x, y)
        ex, ey = ad.grad(f_xy, argnums=(0, 1))(x, y)
        close(gx, ex)
        close(gy, ey)
        close(gx, np.log(x) + 1.0 + y * np.cos(x * y))
        close(gy, x * np.cos(x * y))
        v, (vx, vy) = VG_XY(x, y)
        close(v, f_xy(x, y))
        close((vx, vy), (gx, gy))
    assert traces(GRAD_XY) == 1 and traces(VG_XY) == 1


@pytest.mark.parametrize("n", [2, 10, 1000])
def test_rosenbrock_gradient(n):
    for _ in range(2):
        x = rng.normal(size=n)
        g = GRAD_ROSEN(x)
        close(g, ad.grad(rosen)(x))
        close(g, rosen_grad_exact(x))
        v, g2 = VG_ROSEN(x)
        close(v, ad.value_and_grad(rosen)(x)[0])
        close(g2, g)


def test_rosenbrock_hessian():
    for n in (5, 100):
        x = rng.normal(size=n)
        h = HESS_ROSEN(x)
        close(h, ad.hessian(rosen)(x))
        close(h, rosen_hess_exact(x), rtol=1e-11)


@pytest.mark.parametrize("mode", ["auto", "forward", "reverse"])
@pytest.mark.parametrize("f, W", [(tanh_tall, W_TALL), (tanh_wide, W_WIDE)],
                         ids=["tall", "wide"])
def test_jacobian_tanh_wx(f, W, mode):
    jac = ad.jacobian(f, mode=mode)
    jj = ad.jit(jac)
    for _ in range(2):
        x = rng.normal(size=W.shape[1])
        J = jj(x)
        close(J, jac(x))
        close(J, tanh_jac_exact(W, x), rtol=1e-10)


def test_jacfwd_jacrev():
    x = rng.normal(size=3)
    for tr in (ad.jacfwd, ad.jacrev):
        close(ad.jit(tr(tanh_tall))(x), tanh_jac_exact(W_TALL, x), rtol=1e-10)
        close(ad.jit(tr(tanh_tall))(x), tr(tanh_tall)(x))


def test_ops_with_masks_and_reductions():
    def f(x):
        m = x.reshape(2, 3)
        return (ad.sum(ad.where(x > 0, ad.sqrt(ad.abs(x)), x * x)) + ad.max(x) + ad.norm(x)
                + ad.sum(ad.softmax(m, axis=-1) * ad.cumsum(x).reshape(2, 3))
                + ad.sum(ad.logsumexp(m, axis=0)) + ad.mean(ad.clip(x, -0.5, 0.5) ** 2))

    g = ad.jit(ad.grad(f))
    for _ in range(3):
        x = rng.normal(size=6)
        close(g(x), ad.grad(f)(x))
    assert traces(g) == 1  # masks are recomputed by the kernel, not frozen at trace time


SPD = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])


def test_linear_algebra_and_indexing():
    def f(x):
        m = x.reshape(3, 3) * 0.3 + SPD
        v = ad.solve(m, x[:3]) + ad.inv(m)[:, 1]
        parts = ad.concatenate([x[::-2], x[np.array([0, 0, 4])] * 2.0])
        return (ad.det(m) + ad.trace(m @ m.T) + ad.sum(v * v) + ad.sum(parts ** 2)
                + ad.logdet(m) + ad.sum(ad.stack([x, x[::-1]]).max(axis=0)))

    g = ad.jit(ad.grad(f))
    for _ in range(2):
        x = rng.normal(size=9)
        close(g(x), ad.grad(f)(x))
    assert g._jit.n_eager == 0


def test_pytrees_kwargs_static_ints():
    def f(p, x, n, scale=1.0):
        y = p["w"] @ x + p["b"]
        for _ in range(n):
            y = ad.tanh(y)
        return {"out": y * scale, "parts": (ad.sum(y), y[0])}

    jf = ad.jit(f)
    p = {"w": rng.normal(size=(3, 4)), "b": rng.normal(size=3)}
    x = rng.normal(size=4)
    for n in (1, 3):
        r, e = jf(p, x, n, scale=2.0), f(p, x, n, scale=2.0)
        assert set(r) == {"out", "parts"} and isinstance(r["parts"], tuple)
        close(r["out"], e["out"])
        close(r["parts"][0], e["parts"][0])
        close(r["parts"][1], e["parts"][1])
    assert traces(jf) == 2  # the int is part of the signature


def test_noncontiguous_and_new_shapes():
    x = rng.normal(size=20)
    close(GRAD_ROSEN(x[::2]), rosen_grad_exact(x[::2]))
    x32 = rng.normal(size=4).astype(np.float32)
    g = GRAD_ROSEN(x32)
    close(g, ad.grad(rosen)(x32), rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# guards, retracing, cache

SEED_INPUTS = [np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.5, 0.1]),
               np.array([100.0, 200.0, 300.0]), np.array([0.001, 0.002, -0.01])]


def test_control_flow_guards_and_retracing():
    counts = []
    for a in SEED_INPUTS:
        g = SEED_GRAD(a)
        close(g, ad.grad(seed_example)(a))
        close(g, seed_grad_exact(a))
        counts.append(traces(SEED_GRAD))
    assert counts[-1] == 4  # four different paths (iterations, branch): four traces
    for a in SEED_INPUTS:  # every path is cached now
        close(SEED_GRAD(a), seed_grad_exact(a))
    # same path, different values: no retrace
    close(SEED_GRAD(np.array([1.5, 2.0, 3.0])), seed_grad_exact(np.array([1.5, 2.0, 3.0])))
    assert traces(SEED_GRAD) == 4
    jf = ad.jit(seed_example)
    for a in SEED_INPUTS:
        close(jf(a), seed_example(ad.tensor(a)).item())


def test_float_of_traced_value_is_guarded():
    def f(x):
        s = float(ad.sum(x))  # leaves the trace: the value is a guard
        return x * s

    jf = ad.jit(f)
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    close(jf(a), a * 3.0)
    close(jf(b), b * 7.0)
    close(jf(a), a * 3.0)
    assert traces(jf) == 2


def test_specialisation_bound_falls_back_to_eager_with_one_warning():
    jf = ad.jit(ad.grad(seed_example), max_specializations=2)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for a in SEED_INPUTS + SEED_INPUTS[2:]:
            close(jf(a), seed_grad_exact(a))
    msgs = [str(m.message) for m in w if "specialisations" in str(m.message)]
    assert len(msgs) == 1 and "eager" in msgs[0]
    assert traces(jf) == 2


def test_cache_reuse_does_not_retrace():
    jf = ad.jit(ad.grad(rosen))
    x = rng.normal(size=6)
    jf(x)
    jf(x + 1.0)
    jf(rng.normal(size=6))
    assert traces(jf) == 1
    jf(rng.normal(size=7))
    assert traces(jf) == 2
    jf(rng.normal(size=6))
    assert traces(jf) == 2


def test_unsupported_op_falls_back_with_a_warning_naming_it():
    cube = ad.custom_op("jit_test_cube", lambda x: x ** 3, lambda g, y, x: (3 * g * x ** 2,))

    def f(x):
        return ad.sum(cube(x) * 2.0)

    jf = ad.jit(ad.grad(f))
    x = rng.normal(size=4)
    with pytest.warns(RuntimeWarning, match="jit_test_cube"):
        r = jf(x)
    close(r, 6.0 * x ** 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one-time: no second warning
        close(jf(x), 6.0 * x ** 2)


def test_numpy_function_on_traced_value_falls_back():
    def f(x):
        return ad.sum(np.unique(x))  # a NumPy function without a row cannot be compiled

    jf = ad.jit(f)
    x = rng.normal(size=3)
    with pytest.warns(RuntimeWarning, match="NumPy function"):
        close(jf(x), np.sum(np.unique(x)))

    def h(x):
        # a constant Tensor under grad (detached) leaving adjit
        return ad.sum(x * x) * np.asarray(x.sum().detach())

    jh = ad.jit(ad.grad(h))
    with pytest.warns(RuntimeWarning, match="NumPy function"):
        for x in (np.array([1.0, 2.0]), np.array([3.0, 5.0])):  # not frozen at the first x
            close(jh(x), 2.0 * x * x.sum())


def test_error_in_traced_code_names_the_users_line():
    def bad(x):
        y = x * 2.0
        return ad.sum(y @ np.ones(5))  # shape mismatch: the line to report

    with pytest.raises(Exception) as ei:
        ad.jit(ad.grad(bad))(np.ones(3))
    frames = traceback.extract_tb(ei.value.__traceback__)
    assert any(fr.name == "bad" and "np.ones(5)" in fr.line for fr in frames)


def test_inside_other_transforms_runs_inline():
    jf = ad.jit(rosen)
    x = rng.normal(size=5)
    close(ad.grad(jf)(x), rosen_grad_exact(x))


def test_zero_d_and_read_only_array_arguments_compile():
    # issue 12: both ran eagerly on every call (a 0-d array became shape (1,) on the way in)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        j = ad.jit(ad.grad(lambda x: x * x))
        assert j(np.array(3.0)) == 6.0 and np.shape(j(np.array(3.0))) == ()
        a = np.arange(3.0)
        a.setflags(write=False)
        np.testing.assert_array_equal(ad.jit(ad.grad(lambda x: ad.sum(x * x)))(a), 2 * a)
        assert ad.jit(lambda x: ad.sum(x * x))(a) == 5.0


def test_steady_call_with_scalar_arguments_skips_the_slow_path(monkeypatch):
    # the direct call of the last kernel checks the scalar arguments' types in __call__
    # itself (no second Python call level); another type or shape still goes the slow way
    g = ad.jit(ad.grad(lambda x, y: x * ad.log(x) + ad.sin(x * y), argnums=(0, 1)))
    want = (np.log(1.5) + 1 + 2.0 * np.cos(3.0), 1.5 * np.cos(3.0))
    np.testing.assert_allclose(g(1.5, 2.0), want, rtol=1e-12)
    calls = []
    orig = type(g)._call
    monkeypatch.setattr(type(g), "_call", lambda self, *a, **k: calls.append(a) or
                        orig(self, *a, **k))
    np.testing.assert_allclose(g(1.5, 2.0), want, rtol=1e-12)
    assert calls == []
    np.testing.assert_allclose(g(1.5, np.float32(2.0)), want, rtol=1e-6)   # another type
    np.testing.assert_allclose(g(1.5, 2), want, rtol=1e-12)                 # an int
    assert len(calls) == 2
    assert g._jit.n_eager == 0
