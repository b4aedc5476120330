"""adjit.scipy.special / adjit.scipy.stats against SciPy: values to ~1e-12 over wide domains
(the op-info sweep checks derivatives, second order, ad.jit and float32 on small domains),
edge values, the derivative conventions at x == 0, the PyTorch names, and the SciPy spelling
inside ad.jit. SciPy is only the reference here: adjit never imports it."""
import warnings

import numpy as np
import pytest

import adjit as ad
from adjit.scipy import special as S
from adjit.scipy import stats as T

sc = pytest.importorskip("scipy.special")
ss = pytest.importorskip("scipy.stats")

RNG = np.random.default_rng(11)


def close(got, want, rtol=1e-12, atol=1e-300):
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float),
                               rtol=rtol, atol=atol)


def wide(lo, hi, n=2000):
    return RNG.uniform(lo, hi, n)


# name, inputs over the test domain, rtol, atol (absolute where the function crosses zero:
# near its roots only an absolute error is meaningful, SciPy's own is ~1e-16 there)
VALUES = [
    ("gammaln", [np.concatenate([wide(1e-3, 50), wide(-20, 0)])], 1e-12, 1e-14),
    ("digamma", [np.concatenate([wide(1e-3, 50), wide(-20, 0), [-0.504, -0.6, 1.46, 1e5]])],
     1e-12, 1e-15),
    ("psi", [wide(0.01, 30)], 1e-12, 1e-15),
    ("erf", [wide(-6, 6)], 1e-13, 0),
    ("erfc", [wide(-6, 26)], 1e-13, 0),
    ("erfinv", [np.concatenate([wide(-1, 1), 10.0 ** -wide(0, 20), 1 - 10.0 ** -wide(1, 15)])],
     1e-13, 0),
    ("expit", [wide(-40, 40)], 1e-13, 0),
    ("logit", [np.concatenate([wide(0, 1), 10.0 ** -wide(0, 200)])], 1e-13, 0),
    ("ndtr", [wide(-37, 9)], 1e-12, 0),
    # (SciPy flushes the right tail's subnormal values to -0.0)
    ("log_ndtr", [np.concatenate([wide(-1e3, 40), wide(-25, 5)])], 1e-12, 1e-300),
    ("ndtri", [np.concatenate([wide(0, 1), 10.0 ** -wide(0, 300), 1 - 10.0 ** -wide(1, 16)])],
     1e-13, 0),
    ("i0", [wide(-700, 700)], 1e-13, 0),
    ("i1", [wide(-700, 700)], 1e-13, 0),
    ("i0e", [wide(-1e4, 1e4)], 1e-13, 0),
    ("i1e", [wide(-1e4, 1e4)], 1e-13, 0),
    ("xlogy", [np.r_[wide(-3, 3), 0.0, 0.0], np.r_[wide(0, 5), 0.0, 2.0]], 1e-13, 0),
    ("xlog1py", [np.r_[wide(-3, 3), 0.0], np.r_[wide(-1, 5), -1.0]], 1e-13, 0),
    ("betaln", [wide(0.1, 30), wide(0.1, 30)], 1e-12, 1e-14),
    ("gamma", [np.concatenate([wide(1e-3, 170), wide(-20, 0)])], 1e-12, 0),
    ("entr", [np.r_[wide(-1, 5), 0.0, np.nan]], 1e-13, 1e-300),
    # (x log(x / y) near x == y: log's last ulp, amplified by its condition there)
    ("rel_entr", [np.r_[wide(-1, 5), 0.0, 0.0, 1.0], np.r_[wide(-1, 5), 0.0, -1.0, 0.0]],
     1e-12, 1e-15),
    ("kl_div", [np.r_[wide(-1, 5), 0.0, 0.0], np.r_[wide(-1, 5), 2.0, -1.0]], 1e-12, 1e-15),
    ("log_expit", [wide(-800, 800)], 1e-13, 0),
]


@pytest.mark.parametrize("name,xs,rtol,atol", VALUES, ids=[v[0] for v in VALUES])
def test_values_match_scipy(name, xs, rtol, atol):
    with np.errstate(all="ignore"):
        want = getattr(sc, name)(*xs)
    got = getattr(S, name)(*xs)
    close(got, want, rtol, atol)
    # a Tensor gives the same numbers
    close(getattr(S, name)(*[ad.tensor(x[:50]) for x in xs]).numpy(), want[:50], rtol, atol)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 6])
def test_polygamma_matches_scipy(n):
    x = np.concatenate([wide(0.01, 40), wide(-5, 0, 200), [1.0, 2.0, 10.0]])
    close(S.polygamma(n, x), sc.polygamma(n, x), 1e-12, 1e-15)


def test_multigammaln_as_scipy():
    a = wide(2.0, 30.0, 50)
    for d in (1, 2, 5):
        close(S.multigammaln(a, d), sc.multigammaln(a, d), 1e-13)
    close(ad.grad(lambda v: S.multigammaln(v, 3))(4.0),
          sum(sc.digamma(4.0 - j / 2) for j in range(3)))
    with pytest.raises(ValueError, match="a must be > "):
        S.multigammaln(0.8, 3)


def test_betaln_where_one_argument_dwarfs_the_other():
    # lgamma(a) + lgamma(b) - lgamma(a + b) loses ~1e-8 at (1e8, 1): Cephes' expansion in 1/a
    a = np.array([1e8, 1e6, 3e7, 1e-5, -2.0, -1.5])
    b = np.array([1.0, 2.0, 0.3, 1e5, 1.0, 0.7])
    close(S.betaln(a, b), sc.betaln(a, b), 1e-13)
    close(S.betaln(b, a), sc.betaln(b, a), 1e-13)


def test_float32_values_and_dtype():
    x = wide(0.1, 4, 100).astype(np.float32)
    for name in ("gammaln", "digamma", "erfc", "i0e", "i1", "log_ndtr"):
        got = getattr(S, name)(x)
        assert got.dtype == np.float32, name
        close(got, getattr(sc, name)(x.astype(float)), 1e-6, 1e-6)
    assert S.polygamma(2, x).dtype == np.float32


def test_edge_values_as_scipy():
    with np.errstate(all="ignore"):
        for name, pts in [("gammaln", [0.0, -1.0, -2.0, np.inf, np.nan]),
                          ("digamma", [0.0, -0.0, -1.0, -3.0, np.inf, -np.inf, np.nan]),
                          ("erfinv", [-1.0, 1.0, 1.5, -1.5, 0.0, np.nan]),
                          ("ndtri", [0.0, 1.0, -0.5, 1.5, np.nan]),
                          ("logit", [0.0, 1.0, 0.5]),
                          ("log_ndtr", [-np.inf, np.inf, 0.0]),
                          ("ndtr", [-np.inf, np.inf]),
                          ("i0e", [0.0, np.inf, -np.inf]), ("i1", [0.0])]:
            x = np.array(pts)
            np.testing.assert_array_equal(getattr(S, name)(x), getattr(sc, name)(x), name)
        a, b = np.array([0.0, 0.0, 1.0]), np.array([0.0, np.nan, 0.0])
        np.testing.assert_array_equal(S.xlogy(a, b), sc.xlogy(a, b))


def test_derivatives_are_the_next_functions():
    x = np.array([0.3, 1.0, 2.5, 7.0])
    close(ad.grad(lambda v: ad.sum(S.gammaln(v)))(x), sc.digamma(x))
    close(ad.grad(lambda v: ad.sum(S.digamma(v)))(x), sc.polygamma(1, x))
    # third order of gammaln through the rows' own rules
    d3 = ad.grad(lambda v: ad.sum(ad.grad(lambda u: ad.sum(ad.grad(
        lambda w: ad.sum(S.gammaln(w)))(u)))(v)))(x)
    close(d3, sc.polygamma(2, x), 1e-12)
    close(ad.jacfwd(lambda v: S.polygamma(2, v))(x), np.diag(sc.polygamma(3, x)), 1e-12)
    close(ad.grad(lambda v: ad.sum(S.i0(v)))(x), sc.i1(x))
    close(ad.grad(lambda v: ad.sum(S.i1(v)))(x), sc.i0(x) - sc.i1(x) / x)
    close(ad.grad(lambda v: ad.sum(S.i0e(v)))(x), sc.i1e(x) - sc.i0e(x))
    close(ad.grad(lambda v: ad.sum(S.i1e(v)))(x), sc.i0e(x) - sc.i1e(x) * (1 + 1 / x))
    q = np.array([1e-10, 0.3, 0.9])
    close(ad.grad(lambda v: ad.sum(S.ndtri(v)))(q), 1 / ss.norm.pdf(sc.ndtri(q)))
    close(ad.grad(lambda v: ad.sum(S.erfinv(v)))(q), np.sqrt(np.pi) / 2 * np.exp(sc.erfinv(q) ** 2))
    z = np.array([-200.0, -30.0, 0.0, 5.0])   # the log_ndtr derivative stays finite in the tail
    close(ad.grad(lambda v: ad.sum(S.log_ndtr(v)))(z),
          np.exp(ss.norm.logpdf(z) - sc.log_ndtr(z)), 1e-10)


def test_derivatives_at_zero():
    # i1'(0) = 1/2, i1e'(0) = 1/2, i0e's kink at 0 gets the subgradient 0 (sign(0) = 0)
    for f, want in [(S.i1, 0.5), (S.i1e, 0.5), (S.i0e, 0.0), (S.i0, 0.0)]:
        assert float(ad.grad(f)(0.0)) == want
        assert float(ad.jvp(f, (0.0,), (1.0,))[1]) == want
    # xlogy at x == 0: d/dx = log(y) (JAX's convention), d/dy = 0 (also at y == 0, where JAX
    # and PyTorch give NaN); d2/dxdy is still 1/y at x == 0
    gx, gy = ad.grad(S.xlogy, argnums=(0, 1))(0.0, 2.0)
    assert (float(gx), float(gy)) == (np.log(2.0), 0.0)
    with np.errstate(divide="ignore"):
        gx, gy = ad.grad(S.xlogy, argnums=(0, 1))(0.0, 0.0)
    assert float(gx) == -np.inf and float(gy) == 0.0
    assert float(ad.grad(lambda y: ad.grad(S.xlogy)(0.0, y))(2.0)) == 0.5
    gx, gy = ad.grad(S.xlog1py, argnums=(0, 1))(0.0, -1.0)
    assert float(gy) == 0.0


def test_torch_names_and_methods():
    x = np.array([0.5, 1.5, 3.0])
    for name in ("lgamma", "digamma", "erfc", "erfinv", "i0", "logit"):
        assert callable(getattr(ad, name))
        t = ad.tensor(x / 4 if name in ("erfinv", "logit") else x)
        close(getattr(t, name)().numpy(), getattr(ad, name)(t).numpy())
    close(ad.polygamma(1, x), sc.polygamma(1, x))
    close(ad.xlogy(x, x), sc.xlogy(x, x))
    close(ad.tensor(x).xlogy(ad.tensor(x)).numpy(), sc.xlogy(x, x))
    close(ad.logit(np.array([0.0, 0.5, 1.0]), eps=1e-6), sc.logit([1e-6, 0.5, 1 - 1e-6]))
    assert not hasattr(ad, "ndtr") and not hasattr(ad, "gammaln")   # scipy-only names
    torch = pytest.importorskip("torch")
    tx = torch.tensor(x, dtype=torch.float64)
    close(ad.lgamma(x), torch.lgamma(tx).numpy())
    close(ad.polygamma(2, x), torch.polygamma(2, tx).numpy())
    close(ad.i0(x), torch.i0(tx).numpy())


def test_polygamma_needs_one_static_order():
    for bad in (-1, 1.5, np.array([1, 2]), "1"):
        with pytest.raises(TypeError, match="n must be one non-negative integer"):
            S.polygamma(bad, 1.0)
    close(S.polygamma(np.int64(1), 1.0), np.pi ** 2 / 6)


def test_np_i0_dispatches():
    x = np.array([0.5, -1.0, 2.0])
    t = ad.tensor(x, requires_grad=True)
    y = np.i0(t)
    assert isinstance(y, ad.Tensor)
    y.sum().backward()
    close(t.grad.numpy(), sc.i1(x))


def test_logsumexp_as_scipy():
    a = RNG.uniform(-2, 2, (3, 4))
    b = RNG.uniform(-1, 1, (3, 4))
    for kw in ({}, {"axis": 1}, {"axis": 0, "keepdims": True}, {"axis": (0, 1)}):
        close(S.logsumexp(a, **kw), sc.logsumexp(a, **kw))
        for bb in (np.abs(b), b[0]):
            got, sgn = S.logsumexp(a, b=bb, return_sign=True, **kw)
            want, wsgn = sc.logsumexp(a, b=bb, return_sign=True, **kw)
            close(got, want)
            np.testing.assert_array_equal(sgn, wsgn)
    with np.errstate(invalid="ignore"):
        close(S.logsumexp(a[0], b=b[0] - 5), sc.logsumexp(a[0], b=b[0] - 5))   # NaN as SciPy
    inf = np.array([-np.inf, -np.inf])
    with np.errstate(divide="ignore"):
        assert S.logsumexp(inf, return_sign=True) == sc.logsumexp(inf, return_sign=True)
        assert S.logsumexp(inf, b=np.ones(2), return_sign=True) == (-np.inf, 0.0)
    # the gradient in a and b, against central differences; the sign has none
    assert ad.gradcheck(lambda x, w: S.logsumexp(x, axis=1, b=w), (a, np.abs(b) + 0.1))
    val, sgn = S.logsumexp(ad.tensor(a, requires_grad=True), b=b, return_sign=True)
    assert not getattr(sgn, "requires_grad", False)


def test_softmax_axis_none_as_scipy():
    x = RNG.uniform(-2, 2, (2, 3, 4))
    for axis in (None, 0, -1, (0, 2), (1,)):
        close(S.softmax(x, axis=axis), sc.softmax(x, axis=axis), 1e-13)
        close(S.log_softmax(x, axis=axis), sc.log_softmax(x, axis=axis), 1e-13)


def test_norm_as_scipy():
    x, loc, scale = wide(-40, 40, 50), wide(-1, 1, 50), wide(0.5, 3, 50)
    for name in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
        close(getattr(T.norm, name)(x, loc, scale), getattr(ss.norm, name)(x, loc, scale),
              1e-12, 1e-300)
        close(getattr(T.norm, name)(x[:3]), getattr(ss.norm, name)(x[:3]), 1e-12, 1e-300)
    q = wide(0, 1, 50)
    close(T.norm.ppf(q, loc, scale), ss.norm.ppf(q, loc, scale), 1e-12, 1e-15)
    assert ad.gradcheck(lambda a, b, c: T.norm.logcdf(a, b, c), (x[:4] / 10, loc[:4], scale[:4]))


def test_multivariate_normal_as_scipy():
    d = 3
    A = RNG.uniform(-1, 1, (d, d))
    cov = A @ A.T + d * np.eye(d)
    mean, x = RNG.uniform(-1, 1, d), RNG.uniform(-2, 2, (5, d))
    rv = ss.multivariate_normal
    close(T.multivariate_normal.logpdf(x, mean, cov), rv.logpdf(x, mean, cov))
    close(T.multivariate_normal.logpdf(x[0], mean, cov), rv.logpdf(x[0], mean, cov))
    close(T.multivariate_normal.logpdf(x, mean, np.diag(cov)), rv.logpdf(x, mean, np.diag(cov)))
    close(T.multivariate_normal.logpdf(x[:, 0], 0.5, 2.0), rv.logpdf(x[:, 0], 0.5, 2.0))
    # the gradient in cov is the symmetric one: Sigma^-1 (S - Sigma) Sigma^-1 / 2 summed
    g = ad.grad(lambda c: ad.sum(T.multivariate_normal.logpdf(x, mean, c)))(cov)
    ci = np.linalg.inv(cov)
    r = x - mean
    want = sum(0.5 * (ci @ np.outer(v, v) @ ci - ci) for v in r)
    close(g, want, 1e-10)


def test_scipy_spelling_inside_jit_without_fallback():
    def f(x, q):
        return (ad.sum(S.gammaln(x) * S.digamma(x)) + ad.sum(S.polygamma(2, x))
                + ad.sum(S.ndtri(q) + S.log_ndtr(x) + S.i1e(x) + S.xlogy(x, q))
                + ad.sum(S.logsumexp(x, b=q, axis=0)) + ad.sum(T.norm.logcdf(x, 0.5, q)))
    x, q = RNG.uniform(0.5, 3, (3, 2)), RNG.uniform(0.1, 0.9, (3, 2))
    both = ad.value_and_grad(f, argnums=(0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)   # a fallback to eager fails
        got = ad.jit(both)(x, q)
    want = both(x, q)
    close(got[0], want[0], 1e-12)
    for a, b in zip(got[1], want[1]):
        close(a, b, 1e-11)
    assert ad.gradcheck(f, (x, q))


def test_large_arrays_take_the_fused_kernels():
    # >= 4096 elements: the VJP terms run as fused numba loops; same numbers as the small path
    x = RNG.uniform(0.1, 3, 5000)
    g = ad.grad(lambda v: ad.sum(S.digamma(v) + S.i1(v) + S.xlogy(v, v)))(x)
    close(g, sc.polygamma(1, x) + sc.i0(x) - sc.i1(x) / x + np.log(x) + 1, 1e-11)


def test_fused_kernel_division_by_zero_gives_inf():
    # the fused loops raised ZeroDivisionError (Python's error model) from log's derivative at
    # 0 once an array reached the fusing size; NumPy gives inf
    with np.errstate(divide="ignore"):
        g = ad.grad(lambda v: ad.sum(ad.log(v)))(np.zeros(5000))
    assert np.all(g == np.inf)


def test_adjit_does_not_import_scipy():
    # the rows' numbers are adjit's own numba code (numba itself may load SciPy's LAPACK)
    import ast
    import pathlib
    root = pathlib.Path(ad.__file__).parent
    for path in root.rglob("*.py"):
        if path == root / "kernels" / "blasload.py":
            continue   # loads the BLAS pointer table numba imports itself, earlier (no numbers)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                assert not any(a.name.split(".")[0] == "scipy" for a in node.names), path
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                assert (node.module or "").split(".")[0] != "scipy", path


def test_scipys_own_ufuncs_dispatch():
    # scipy.special's ufuncs call __array_ufunc__: on adjit's values they run the rows
    x = np.array([0.7, 1.5, 2.5])
    t = ad.tensor(x, requires_grad=True)
    y = sc.gammaln(t) + sc.psi(t) + sc.xlogy(t, t) + sc.betaln(t, 2.0) + sc.i1e(t)
    assert isinstance(y, ad.Tensor)
    y.sum().backward()
    want = (sc.digamma(x) + sc.polygamma(1, x) + np.log(x) + 1 + sc.digamma(x)
            - sc.digamma(x + 2.0) + sc.i0e(x) - sc.i1e(x) * (1 + 1 / x))
    close(t.grad.numpy(), want, 1e-12)
    close(ad.jvp(sc.ndtri, (x / 3,), (np.ones(3),))[1], 1 / ss.norm.pdf(sc.ndtri(x / 3)))

    def f(v):
        return ad.sum(sc.erfinv(v / 3) * sc.log_ndtr(v))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)   # no eager fallback
        close(ad.jit(ad.grad(f))(x), ad.grad(f)(x), 1e-12)
    with pytest.raises(TypeError, match="scipy.special.erfcx is not differentiable"):
        sc.erfcx(t)   # no row: adjit's clear error, never a constant
