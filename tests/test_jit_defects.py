"""Regression tests for the `ad.jit` defects of issue 16 (one test per item, named after it):
each reproduces the defect as reported and asserts the expected value or the clear message."""
import importlib
import os
import threading
import warnings

import numpy as np
import pytest

import adjit as ad


def _jit_module(name):
    """adjit's jit sub-module `name` (adjit.jit.<name> after the layout change, adjit._jit
    before it)."""
    for pkg in ("adjit.jit", "adjit._jit"):
        try:
            return importlib.import_module(f"{pkg}.{name}")
        except ImportError:
            continue
    raise ImportError(name)


def _no_fallback(f):
    """f jitted, with any RuntimeWarning (the jit's fallback to eager) turned into an error."""
    j = ad.jit(f)

    def call(*a):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            return j(*a)
    call.jitted = j
    return call


# ---------------------------------------------------------------------------------------------
# 1. Python scalar arguments: no silent specialisation on value or narrowing of the dtype

def test_item_01_python_scalar_value_and_type_are_not_frozen():
    x = np.array([1.0, 2.0, 3.0])
    j = ad.jit(lambda a, x: x * a)
    np.testing.assert_array_equal(j(2, x), 2 * x)
    np.testing.assert_array_equal(j(2.5, x), 2.5 * x)
    np.testing.assert_array_equal(j(3, x), 3 * x)
    np.testing.assert_array_equal(j(True, x), x)


def test_item_01_scalar_dtype_does_not_narrow():
    x = np.array([1.0, 2.0, 3.0])
    j = ad.jit(lambda a, x: x * a)
    assert j(np.float32(1.0), x).dtype == (x * np.float32(1.0)).dtype
    big = 16777217.0                  # not representable in float32
    r = j(big, x)
    np.testing.assert_array_equal(r, x * big)
    assert r.dtype == np.float64
    # and the other way round, on float32 arrays
    x32 = x.astype(np.float32)
    j2 = ad.jit(lambda a, x: x * a)
    assert j2(np.float32(2.0), x32).dtype == np.float32
    np.testing.assert_array_equal(j2(big, x32), x32 * big)
    assert j2(np.float64(big), x32).dtype == (x32 * np.float64(big)).dtype


# ---------------------------------------------------------------------------------------------
# 2. values read by rules are traced or guarded, never frozen into the kernel

A_POS = np.array([[2.0, 0.3], [0.1, 1.0]])     # det > 0
A_NEG = np.array([[0.1, 2.0], [1.0, 0.3]])     # det < 0


def test_item_02_logdet_sign_is_not_frozen():
    j = ad.jit(ad.logdet)
    assert j(A_POS) == pytest.approx(np.log(np.linalg.det(A_POS)), rel=1e-14)
    with np.errstate(invalid="ignore"):
        assert np.isnan(j(A_NEG))
        assert np.isnan(ad.logdet(A_NEG))
    jg = ad.jit(ad.grad(ad.logdet))
    np.testing.assert_allclose(jg(A_POS), np.linalg.inv(A_POS).T, rtol=1e-13)
    np.testing.assert_allclose(jg(A_NEG), ad.grad(ad.logdet)(A_NEG), rtol=1e-13)
    js = ad.jit(lambda x: ad.slogdet(x)[0])
    assert js(A_POS) == 1.0
    assert js(A_NEG) == -1.0


def test_item_02_clip_bound_argument_is_not_frozen():
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    j = ad.jit(lambda x, lo: ad.sum(ad.clip(x, lo, 10.0)))
    assert j(x, 3.0) == np.sum(np.clip(x, 3.0, 10.0))
    assert j(x, 5.0) == np.sum(np.clip(x, 5.0, 10.0))
    jh = ad.jit(lambda x, hi: ad.sum(ad.clip(x, None, hi)))
    assert jh(x, 3.0) == np.sum(np.clip(x, None, 3.0))
    assert jh(x, 9.0) == np.sum(np.clip(x, None, 9.0))


def test_item_02_det_conditioning_test_is_not_frozen():
    # traced at a well-conditioned matrix (inverse-based rules), then called at an
    # ill-conditioned one, where eager adjit switches to the SVD-based cofactors: the Hessian
    # through the inverse is off by 0.06 there
    good = np.eye(3) * 2.0 + 0.1
    bad = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0 + 1e-13]])
    h = ad.hessian(ad.det)
    j = ad.jit(h)
    np.testing.assert_allclose(j(good), h(good), rtol=1e-13, atol=1e-14)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # the SVD rule runs eagerly
        np.testing.assert_allclose(j(bad), h(bad), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(j(good), h(good), rtol=1e-13, atol=1e-14)


def test_item_02_prod_zero_test_is_not_frozen():
    f = ad.grad(lambda x: ad.prod(x))
    j = ad.jit(f)
    for x in (np.array([1.0, 2.0, 3.0]), np.array([0.0, 2.0, 3.0]), np.array([0.0, 0.0, 3.0]),
              np.array([4.0, 2.0, 3.0])):
        np.testing.assert_allclose(j(x), f(x), rtol=1e-15)


class _NoValue:
    """What a rule sees as the concrete value of a traced input in the audit below: its shape
    and dtype, and no data. Reading the data raises, naming the read."""
    __array_priority__ = 10 ** 6

    def __init__(self, value):
        self.shape = tuple(np.shape(value))
        self.dtype = np.asarray(value).dtype
        self.ndim = len(self.shape)
        self.size = int(np.prod(self.shape)) if self.shape else 1

    def _read(self, *a, **k):
        raise AssertionError("a rule read the concrete value of a traced input (the compiled "
                             "kernel would keep the value it had at trace time); make the read "
                             "traced (cond_of + ad ops) or guarded (bool()/float() on the tracer)")

    __array__ = __float__ = __int__ = __bool__ = __index__ = __getitem__ = __iter__ = _read
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _read
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = _read
    __rtruediv__ = __pow__ = __neg__ = __abs__ = __and__ = __or__ = item = tolist = _read
    __hash__ = object.__hash__

    def __array_ufunc__(self, *a, **k):
        self._read()


M3 = np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.2], [0.1, 0.4, 1.8]])
V3 = np.array([0.7, -1.2, 0.4])
AUDIT = {
    "unary": lambda x: ad.sum(ad.tanh(x) * ad.exp(x) + ad.sqrt(x * x + 1.0) + ad.abs(x)
                              + ad.relu(x) + ad.sign(x) * x + ad.erf(x) + ad.sigmoid(x)),
    "binary": lambda x: ad.sum(ad.maximum(x, 0.1) * ad.minimum(x, -0.2)
                               + ad.pow(x * x + 1.0, x) + x / (x * x + 2.0)),
    "clip": lambda x: ad.sum(ad.clip(x, -0.5, 0.5) + ad.clip(x, x[0], None) ** 2
                             + ad.clip(x, None, x[1] * 0.5) * x),
    "where": lambda x: ad.sum(ad.where(x > 0, 1.0, ad.sin(x)) * x
                              + ad.where(x < 0.5, x * x, x)),
    "reduce": lambda x: (ad.prod(x) + ad.max(x) * ad.min(x) + ad.norm(x) + ad.logsumexp(x)
                         + ad.mean(x) + ad.var(x) + ad.std(x) + ad.sum(ad.cumsum(x))),
    "prod_zero": lambda x: ad.prod(x * ad.where(x > 0, 1.0, 0.0) + 1.0) + ad.prod(x),
    "softmax": lambda x: ad.sum(ad.softmax(x) * ad.log_softmax(x)),
    "index": lambda x: ad.sum(x[::-1] * x[[2, 0, 1]]) + x[0] * x[-1],
    "linalg": lambda x: (ad.det(M3 + ad.outer(x, x) * 0.1) + ad.logdet(M3 + ad.outer(x, x))
                         + ad.sum(ad.inv(M3 + ad.outer(x, x)) @ x)
                         + ad.sum(ad.solve(M3 + ad.outer(x, x), x))
                         + ad.slogdet(M3 + ad.outer(x, x))[1]
                         + ad.sum(ad.cholesky(np.eye(3) * 3 + ad.outer(x, x)))),
    "shapes": lambda x: ad.sum(ad.reshape(ad.stack([x, x * 2]), (3, 2)) ** 2)
    + ad.sum(ad.concatenate([x, ad.transpose(ad.reshape(x, (1, 3)))[:, 0]]) ** 3),
}


@pytest.mark.parametrize("path", ["f", "grad", "hessian"])
@pytest.mark.parametrize("name", sorted(AUDIT))
def test_item_02_no_rule_reads_a_concrete_traced_value(name, path, monkeypatch):
    """Every rule, traced by ad.jit (value, gradient, Hessian), sees a traced input's concrete
    value only as shape and dtype: a read of its data fails this test."""
    trace = _jit_module("trace")
    monkeypatch.setattr(trace.Tracer, "_raw", lambda self: _NoValue(self._val))
    f = AUDIT[name]
    g = {"f": f, "grad": ad.grad(f), "hessian": ad.hessian(f)}[path]
    want = g(V3)
    np.testing.assert_allclose(_no_fallback(g)(V3), want, rtol=1e-10, atol=1e-12)


def _audit_cases():
    """The op-info table's compiled cases (every row and composite): all of them in the
    thorough profile, every sixth in CI's (each is a trace plus a kernel load)."""
    from adjit.testing import opinfo
    cases = [c for c in opinfo.cases() if c.jit]
    return cases if os.environ.get("ADJIT_HYPOTHESIS_PROFILE") == "thorough" else cases[::6]


@pytest.mark.parametrize("case", _audit_cases(), ids=repr)
def test_item_02_no_row_reads_a_concrete_traced_value(case, monkeypatch):
    """The audit above over the op-info table: each row / composite and its gradient, traced by
    ad.jit with traced inputs that have no concrete data, compile without reading it."""
    from test_opinfo import gradient_fn
    g = gradient_fn(case)

    def both(*a):
        return case.fn(*a), g(*a)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        want = both(*case.inputs)
    trace = _jit_module("trace")
    monkeypatch.setattr(trace.Tracer, "_raw", lambda self: _NoValue(self._val))
    got = _no_fallback(both)(*case.inputs)
    from adjit.transforms.pytree import tree_flatten
    for a, b in zip(tree_flatten(got)[0], tree_flatten(want)[0]):   # the value and the gradient
        np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float),
                                   rtol=1e-9, atol=1e-11)


def _complex_audit_cases():
    """The complex128 samples of the op-info table's complex rows (ad.jit compiles them at
    complex values: jit/complexlower.py), sampled as _audit_cases."""
    from adjit.testing import opinfo
    cases = [c for c in opinfo.complex_cases() if c.jit]
    return cases if os.environ.get("ADJIT_HYPOTHESIS_PROFILE") == "thorough" else cases[::6]


@pytest.mark.parametrize("case", _complex_audit_cases(), ids=repr)
def test_item_02_no_complex_row_reads_a_concrete_traced_value(case, monkeypatch):
    """The audit above at complex values: each complex row and its gradient (JAX's convention)
    compile with traced inputs that have no concrete data, equal to eager (a row ad.jit does
    not compile at complex values falls back naming it: test_opinfo_complex checks which)."""
    from test_opinfo_complex import gradient_fn
    g = gradient_fn(case)

    def both(*a):
        return case.fn(*a), g(*a)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        want = both(*case.inputs)
    from test_opinfo_complex import jit_or_named_fallback
    trace = _jit_module("trace")
    monkeypatch.setattr(trace.Tracer, "_raw", lambda self: _NoValue(self._val))
    got, msgs = jit_or_named_fallback(both, case.inputs)   # a named fallback runs eagerly
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# 4. clip's bounds are differentiable inputs (PyTorch's clamp)

def test_item_04_clip_bound_gets_its_gradient_reverse():
    x = ad.tensor([0.0, 1.0, 2.0], requires_grad=True)
    lo = ad.tensor(1.5, requires_grad=True)
    ad.sum(ad.clip(x, lo, None)).backward()
    assert lo.grad is not None and float(lo.grad) == 2.0        # PyTorch: 2
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0])
    hi = ad.tensor([0.5, 0.5, 3.0], requires_grad=True)
    x.grad = None
    ad.sum(ad.clip(x, None, hi) * np.array([1.0, 2.0, 3.0])).backward()
    np.testing.assert_array_equal(hi.grad.numpy(), [0.0, 2.0, 0.0])
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 3.0])


def test_item_04_clip_bound_gradient_both_bounds_and_broadcasting():
    # PyTorch's clamp(x, min, max): x gets g where min <= x <= max, min where x < min (and
    # min < max), max where x > max or max < min
    x = np.array([0.0, 1.0, 2.0, 3.0])
    lo = np.array([[0.5], [2.5]])            # broadcasts against x to (2, 4)
    hi = 2.0
    f = lambda x, lo, hi: ad.sum(ad.clip(x, lo, hi) * np.arange(1.0, 9.0).reshape(2, 4))
    gx, glo, ghi = ad.grad(f, argnums=(0, 1, 2))(x, lo, hi)
    w = np.arange(1.0, 9.0).reshape(2, 4)
    np.testing.assert_array_equal(gx, [0.0, 2.0, 3.0, 0.0])
    np.testing.assert_array_equal(glo, [[1.0], [0.0]])
    assert ghi == w[0, 3] + w[1].sum()      # x > hi, and every entry of the row lo > hi
    # forward mode and the jit agree with reverse mode
    J = ad.jacfwd(lambda lo: f(x, lo, hi))(lo)
    np.testing.assert_array_equal(J, glo)
    np.testing.assert_array_equal(_no_fallback(ad.grad(f, argnums=(0, 1, 2)))(x, lo, hi)[1],
                                  glo)


def test_item_04_clip_bound_gradient_forward_and_jit():
    x = np.array([0.0, 1.0, 2.0])
    f = lambda lo: ad.sum(ad.clip(x, lo, None))
    assert ad.grad(f)(1.5) == 2.0
    assert ad.jvp(f, (1.5,), (1.0,))[1] == 2.0
    assert _no_fallback(ad.grad(f))(1.5) == 2.0
    assert _no_fallback(ad.grad(f))(0.5) == 1.0


# ---------------------------------------------------------------------------------------------
# 22. causes of "a freshly traced kernel rejected its own input" / "internal error compiling"

def test_item_22_float_of_a_transcendental_value_is_not_rejected():
    f = lambda x: x * float(ad.tanh(x[0]))
    x = np.array([2.1020305255883396, 0.5])
    np.testing.assert_allclose(_no_fallback(f)(x), f(x), rtol=1e-15)
    rng = np.random.default_rng(0)
    for _ in range(6):   # each new value of the read is a new specialisation (documented)
        x = rng.uniform(-3, 3, 2)
        j = _no_fallback(f)
        np.testing.assert_allclose(j(x), f(x), rtol=1e-15)
        np.testing.assert_allclose(j(x), f(x), rtol=1e-15)


# ---------------------------------------------------------------------------------------------
# 23. dtype errors name the dtype and say what is supported

def test_item_23_unsupported_dtype_warning_names_it():
    f = ad.grad(lambda v: ad.sum(v * v))
    x = np.array([1, 2], dtype=np.uint64)
    with pytest.warns(RuntimeWarning) as rec:
        r = ad.jit(f)(x)
    np.testing.assert_array_equal(r, f(x))
    msg = str(rec[0].message)
    assert "uint64" in msg and "supported" in msg and "float64" in msg, msg
    assert msg.rstrip().endswith(("eagerly", "eagerly.")), msg
    # complex64 / complex128 compile (issue 13); numba has no complex256
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        np.testing.assert_array_equal(ad.jit(lambda v: v * 2)(np.array([1 + 2j])), [2 + 4j])
    with pytest.warns(RuntimeWarning, match="clongdouble|complex256"):
        ad.jit(lambda v: v * 2)(np.array([1 + 2j], dtype=np.clongdouble))


# ---------------------------------------------------------------------------------------------
# 26. closed-over arrays are frozen at trace time (documented)

def test_item_26_closed_over_arrays_are_frozen_and_documented():
    w = np.array([1.0, 2.0])
    x = np.array([3.0, 4.0])
    j = ad.jit(lambda x: ad.sum(x * w))
    assert j(x) == 11.0
    w[:] = 10.0
    assert j(x) == 11.0            # traced with the old w, as jax.jit
    j2 = ad.jit(lambda x, w: ad.sum(x * w))   # the documented way: pass it as an argument
    assert j2(x, w) == 70.0
    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md")).read()
    assert "frozen" in readme or "freezes" in readme


# ---------------------------------------------------------------------------------------------
# 27. where's JVP on a traced condition

def test_item_27_jit_hessian_of_where_with_a_constant_branch():
    f = lambda v: ad.sum(ad.where(v > 0, 1.0, ad.sin(v)) * v)
    x = np.array([0.5, -0.3, 1.2])
    h = _no_fallback(ad.hessian(f))
    np.testing.assert_allclose(h(x), ad.hessian(f)(x), rtol=1e-14)
    x2 = np.array([-0.5, 0.3, -1.2])     # the other branch everywhere: the mask is traced
    np.testing.assert_allclose(h(x2), ad.hessian(f)(x2), rtol=1e-14)


# ---------------------------------------------------------------------------------------------
# 28. concurrent calls of one jitted function

def test_item_28_threads_share_one_specialisation():
    x = np.linspace(-1.0, 1.0, 7)
    j = ad.jit(lambda x: ad.sum(ad.tanh(x) * x + 0.123456789))
    n = 12
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def work(k):
        try:
            barrier.wait()
            for _ in range(20):
                results[k] = j(x)
        except BaseException as e:   # noqa: BLE001 - reported below
            errors.append(e)

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        threads = [threading.Thread(target=work, args=(k,)) for k in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    want = float(np.sum(np.tanh(x) * x + 0.123456789))
    assert all(r == pytest.approx(want, rel=1e-14) for r in results)
    assert j._jit.n_traces == 1
    assert j._jit.n_eager == 0


def test_item_28_threads_with_many_branches_keep_correct_results():
    # each thread takes its own branch: the specialisations are added and reordered
    # concurrently, and every call still gets its own branch's value
    j = ad.jit(lambda x, k: x * (1.0 if float(ad.sum(x)) > k else 2.0))
    n = 6
    barrier = threading.Barrier(n)
    errors = []

    def work(k):
        try:
            barrier.wait()
            for r in range(30):
                v = float(k) + 0.5 * (r % 2)
                got = j(np.array([v]), 2)
                want = v * (1.0 if v > 2 else 2.0)
                assert got[0] == want, (k, r, got, want)
        except BaseException as e:   # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors[:3]


# ---------------------------------------------------------------------------------------------
# 29. the kernel cache directory is pruned

def _cache_bytes(d):
    total = 0
    for root, _, files in os.walk(d):
        for f in files:
            if "adjit_jit_" in f:
                total += os.path.getsize(os.path.join(root, f))
    return total


def test_item_29_kernel_cache_is_pruned_least_recently_used_first(tmp_path, monkeypatch):
    monkeypatch.setenv("ADJIT_CACHE_DIR", str(tmp_path))
    cap_mb = 0.1
    monkeypatch.setenv("ADJIT_CACHE_MAX_MB", str(cap_mb))
    x = np.linspace(0.0, 1.0, 40)
    sizes = []
    for k in range(6):
        c = np.arange(40.0) + k            # a new closure constant: a new kernel every time
        j = ad.jit(lambda x, c=c: ad.sum(ad.sin(x * c)))
        assert j(x) == pytest.approx(np.sum(np.sin(x * c)), rel=1e-13)
        sizes.append(_cache_bytes(tmp_path))
    one = max(b - a for a, b in zip(sizes, sizes[1:]))    # the files of one kernel
    assert sizes[-1] <= cap_mb * 2 ** 20 + 2 * one, (sizes, one)
    assert max(sizes) > cap_mb * 2 ** 20 / 2   # the cap was reached, so pruning happened
    # the most recent kernel survives
    assert any(f.endswith(".py") for f in os.listdir(tmp_path))


def test_item_22_branch_on_a_value_one_ulp_from_its_threshold():
    # libm's tanh (in the kernel) is one ulp below NumPy's at x0: a branch whose threshold is
    # NumPy's value sees the other side in the kernel; that call runs eagerly (correctly), the
    # kernel stays in use for other inputs, and nothing warns
    x0 = 2.1020305255883396
    T = float(np.tanh(x0))
    f = lambda x: x * (2.0 if ad.tanh(x[0]) >= T else 3.0)
    j = _no_fallback(f)
    x = np.array([x0, 1.0])
    np.testing.assert_array_equal(j(x), f(x))
    np.testing.assert_array_equal(j(x), f(x))
    x3 = np.array([3.0, 1.0])
    np.testing.assert_array_equal(j(x3), f(x3))
    assert j.jitted._jit.n_traces <= 3


def test_item_22_float_read_of_a_nan_is_not_rejected():
    f = lambda x: x * 0.0 + float(ad.log(x[0]))   # NaN for x[0] < 0
    x = np.array([-1.0, 2.0])
    with np.errstate(invalid="ignore"):
        got = _no_fallback(f)(x)
    assert np.isnan(got).all()


# ---------------------------------------------------------------------------------------------
# issue 15: the fallback warning of an index-array argument names the real cause

def test_index_array_argument_warning_names_the_index():
    x, i = np.arange(4.0), np.array([0, 2])
    with pytest.warns(RuntimeWarning) as rec:
        r = ad.jit(lambda x, i: ad.sum(x[i] ** 2))(x, i)
    assert r == 4.0
    msg = str(rec[0].message)
    assert "index array" in msg and "close over" in msg and "np.asarray" not in msg, msg
    # the workaround the warning gives compiles (no warning) and agrees
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        g = ad.jit(ad.grad(lambda x: ad.sum(x[i] ** 2)))(x)
    np.testing.assert_array_equal(g, [0.0, 0.0, 4.0, 0.0])


def test_bool_array_argument_compiles_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        r = ad.jit(lambda x, m: ad.sum(ad.where(m, x, 0.0)))(np.ones(3),
                                                             np.array([True, False, True]))
    assert r == 2.0
