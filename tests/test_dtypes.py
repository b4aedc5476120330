"""dtypes through the transforms: float16 / float32 / float64 inputs keep their dtype in values,
gradients, tangents, Jacobians, Hessians and ad.jit kernels; mixed dtypes follow NumPy's
promotion (NEP 50: a Python float does not upcast float32); integer and bool inputs are
differentiated as float64. The per-row checks (every op in float32, output dtypes of every
row) live in test_opinfo.py."""
import warnings

import numpy as np
import pytest

import adjit as ad

FLOATS = [np.float16, np.float32, np.float64]
IDS = ["float16", "float32", "float64"]


def f(x):
    return ad.sum(ad.sin(x) * x * 2.0)


def df(x):
    x = np.asarray(x, dtype=np.float64)
    return 2.0 * (np.cos(x) * x + np.sin(x))


def tol(dt):
    eps = float(np.finfo(dt).eps)
    return dict(rtol=50 * eps, atol=50 * eps)


def xs(dt, n=5):
    return np.linspace(0.1, 1.3, n).astype(dt)


def test_issue_reproducer_float32_gradient_is_float32():
    g = ad.grad(lambda x: ad.sum(x * x))(np.ones(3, np.float32))
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [2.0, 2.0, 2.0])


@pytest.mark.parametrize("dt", FLOATS, ids=IDS)
@pytest.mark.parametrize("n", [5, 5000], ids=["small", "fused"])   # 5000: the fused kernels
def test_grad_value_and_grad_backward(dt, n):
    x = xs(dt, n)
    v, g = ad.value_and_grad(f)(x)
    assert np.asarray(v).dtype == dt and g.dtype == dt
    np.testing.assert_allclose(g.astype(np.float64), df(x), **tol(dt))
    t = ad.tensor(x, requires_grad=True)
    y = f(t)
    assert y.dtype == dt
    y.backward()
    assert t.grad.dtype == dt
    np.testing.assert_allclose(t.grad.numpy().astype(np.float64), df(x), **tol(dt))


@pytest.mark.parametrize("dt", FLOATS, ids=IDS)
def test_jvp_vjp_and_duals(dt):
    x = xs(dt)
    h = lambda x: ad.sin(x) * x   # noqa: E731
    # a float64 tangent for a float32 primal is taken in the primal's dtype (as JAX requires)
    y, t = ad.jvp(h, (x,), (np.ones(5),))
    assert y.dtype == dt and t.dtype == dt
    y, t = ad.jvp(h, (x,), (np.ones((5, 3)),))       # k = 3 directions
    assert t.dtype == dt and t.shape == (5, 3)
    d = ad.dual(x, np.ones(5))
    assert d.tangent.dtype == dt and h(d).tangent.dtype == dt
    y, pull = ad.vjp(h, x)
    (c,) = pull(np.ones(5))                            # a float64 cotangent too
    assert c.dtype == dt


@pytest.mark.parametrize("dt", FLOATS, ids=IDS)
def test_jacobians_and_hessian(dt):
    x = xs(dt)
    h = lambda x: ad.sin(x) * x   # noqa: E731
    want = np.diag(df(x) / 2.0)
    for jac in (ad.jacfwd, ad.jacrev, ad.jacobian):
        J = jac(h)(x)
        assert J.dtype == dt, jac.__name__
        np.testing.assert_allclose(J.astype(np.float64), want, **tol(dt))
    H = ad.hessian(f)(x)
    assert H.dtype == dt
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(np.diag(H.astype(np.float64)),
                               2.0 * (2.0 * np.cos(x64) - x64 * np.sin(x64)), **tol(dt))
    assert all(np.asarray(v).dtype == dt for v in ad.hvp(f, (x,), (np.ones(5),)))


def test_mixed_dtypes_follow_numpy_promotion():
    x32, y64 = xs(np.float32), xs(np.float64)
    g = lambda x, y: ad.sum(x * y)   # noqa: E731
    v, (gx, gy) = ad.value_and_grad(g, argnums=(0, 1))(x32, y64)
    assert np.asarray(v).dtype == np.float64              # float32 * float64: float64
    assert gx.dtype == np.float32 and gy.dtype == np.float64   # each in its argument's dtype
    np.testing.assert_allclose(gx, y64, rtol=1e-6)
    # NEP 50: Python floats are weak, NumPy float64 scalars are not
    assert ad.grad(lambda x: ad.sum(x * 2.0 + 1.0))(x32).dtype == np.float32
    assert np.asarray(ad.sum(ad.tensor(x32) * 2.0).numpy()).dtype == np.float32
    v = ad.sum(ad.tensor(x32) * np.float64(2.0))
    assert v.dtype == np.float64
    # float16 with float32: float32
    assert (ad.tensor(xs(np.float16)) * ad.tensor(x32)).dtype == np.float32
    # a Jacobian block takes the promoted dtype of its output and input
    J = ad.jacfwd(lambda x: x * y64)(x32)
    assert J.dtype == np.float64
    assert ad.jacrev(lambda x: x * y64)(x32).dtype == np.float64


@pytest.mark.parametrize("x", [np.arange(1, 4), np.array([True, False, True]), 3],
                         ids=["int", "bool", "python-int"])
def test_integer_and_bool_inputs_are_differentiated_as_float64(x):
    g = ad.grad(lambda x: ad.sum(x * x))(x)
    assert np.asarray(g).dtype == np.float64
    np.testing.assert_array_equal(g, 2.0 * np.asarray(x, dtype=np.float64))
    J = ad.jacfwd(lambda x: x * x)(x)
    assert np.asarray(J).dtype == np.float64
    _, t = ad.jvp(lambda x: x * x, (x,), (np.ones_like(np.asarray(x)),))
    assert np.asarray(t).dtype == np.float64


@pytest.mark.parametrize("dt", [np.float32, np.float64], ids=["float32", "float64"])
def test_jit_compiles_per_dtype(dt):
    gf = ad.jit(ad.grad(f))
    jf = ad.jit(f)
    for n in (5, 5000):
        x = xs(dt, n)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)   # no fallback to eager
            g, v = gf(x), jf(x)
        assert g.dtype == dt and np.asarray(v).dtype == dt
        np.testing.assert_allclose(g.astype(np.float64), df(x), **tol(dt))
        np.testing.assert_allclose(v, f(x), **tol(dt))


def test_jit_specialises_float32_and_float64_separately():
    gf = ad.jit(ad.grad(f))
    a = gf(xs(np.float32))
    b = gf(xs(np.float64))
    assert (a.dtype, b.dtype) == (np.float32, np.float64)
    assert gf._jit.n_traces == 2


def test_jit_float16_runs_the_float32_kernel_and_stores_float16():
    x = xs(np.float16, 5000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        g = ad.jit(ad.grad(f))(x)
        v = ad.jit(f)(x)
        y = ad.jit(lambda x: ad.sin(x) * x)(x)
    assert g.dtype == np.float16 and np.asarray(v).dtype == np.float16 and y.dtype == np.float16
    np.testing.assert_allclose(g.astype(np.float64), df(x), **tol(np.float16))


def test_jit_float16_mixed_with_float32_runs_eagerly_with_a_warning():
    h = ad.jit(lambda a, b: a * b)
    a, b = xs(np.float16), xs(np.float32)
    with pytest.warns(RuntimeWarning, match="float16 arguments mixed"):
        y = h(a, b)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, a * b)


def test_float16_values_and_derivatives_are_stored_as_float16():
    x = xs(np.float16)
    for g in (ad.grad(f)(x), ad.jacfwd(lambda x: ad.exp(x) * x)(x),
              ad.jacrev(lambda x: ad.tanh(x) @ x)(x), ad.hessian(f)(x)):
        assert np.asarray(g).dtype == np.float16


def test_readme_dtypes_example_prints_what_its_comments_say():
    import os
    import re
    text = open(os.path.join(os.path.dirname(__file__), "..", "README.md")).read()
    code = re.search(r"## dtypes\n.*?```python\n(.*?)```", text, re.S).group(1)
    lines = [ln for ln in code.strip().splitlines() if "#" in ln and not ln.startswith("#")]
    ns = {"np": np, "ad": ad}
    exec(code.split("\n", 1)[0], ns)  # noqa: S102 - the README's own example
    assert repr(eval(lines[0].split("#")[0], ns)) == lines[0].split("# ")[1].strip()  # noqa: S307
    want = lines[1].split("# ")[1].split()[0]
    assert str(eval(lines[1].split("#")[0], ns)) == want  # noqa: S307


@pytest.mark.parametrize("dt", FLOATS, ids=IDS)
def test_custom_op_rules_run_in_the_inputs_dtype(dt):
    op = ad.custom_op(f"dtype_cube_{np.dtype(dt).name}", lambda x: x * x * x,
                      lambda g, y, x: (3.0 * g * x * x,),
                      jvp=lambda ts, y, x: 3.0 * ts[0] * x * x)
    x = xs(dt)
    assert op(x).dtype == dt
    g = ad.grad(lambda x: ad.sum(op(x)))(x)
    assert g.dtype == dt
    np.testing.assert_allclose(g.astype(np.float64), 3.0 * x.astype(np.float64) ** 2, **tol(dt))
    assert ad.jacfwd(op)(x).dtype == dt
