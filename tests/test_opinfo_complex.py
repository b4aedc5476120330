"""The op-info sweep at complex128 (issue 13): every row whose rules hold at complex values
(`Op.complex`, ops/complex_rows.py), on every sample of its domain with complex inputs
(`opinfo.complex_cases`), checked for its value against NumPy (Tensor, dual, public
function), reverse and forward Jacobians against central differences of real and imaginary
parts (JAX's convention, `testing/complexcheck.py`) and second order (the gradient of
Re(sum(w * op(x))) differentiated again in both modes)."""
import warnings

import numpy as np
import pytest

import adjit as ad
from adjit.testing import opinfo
from adjit.testing.complexcheck import complex_gradcheck

CASES = opinfo.complex_cases()
SECOND = [c for c in CASES if c.second and sum(x.size for x in c.inputs)]


def quiet(fn):
    def run(*a):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            return fn(*a)
    return run


def weights(shape, complex_out):
    w = opinfo.weights(shape)
    return w * (0.6 - 0.8j) + 0.3j if complex_out else w


def gradient_fn(case):
    """x -> JAX's gradient of Re(sum(w * op(x))) w.r.t. every input, flattened, concatenated."""
    fn, xs = case.fn, case.inputs
    y = np.asarray(fn(*xs))
    w = weights(y.shape, y.dtype.kind == "c")
    nums = tuple(range(len(xs)))

    def g(*vs):
        gs = ad.grad(lambda *a: ad.real(ad.sum(fn(*a) * w)), argnums=nums)(*vs)
        return ad.concatenate([ad.reshape(v, (-1,)) for v in gs])
    return g


def test_the_complex_rows_are_swept():
    names = {op.name for op in opinfo.complex_rows()}
    assert {"add", "mul", "div", "exp", "log", "sqrt", "sin", "cos", "tanh", "abs", "real",
            "imag", "conj", "angle", "sum", "reshape", "transpose", "getitem", "concatenate",
            "stack", "where", "matmul", "solve", "inv", "det"} <= names
    assert {c.op.name for c in CASES} == names


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_value(case):
    xs = case.inputs
    y = np.asarray(case.fn(*xs))
    t = case.fn(*[ad.tensor(x) for x in xs])
    np.testing.assert_allclose(t.numpy(), y, rtol=1e-12, atol=1e-13)
    d = case.fn(*[ad.dual(x, np.ones_like(x)) for x in xs])
    np.testing.assert_allclose(d.primal, y, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_first_order_reverse_and_forward(case):
    assert complex_gradcheck(quiet(case.fn), case.inputs, eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("case", SECOND, ids=repr)
def test_second_order(case):
    assert complex_gradcheck(quiet(gradient_fn(case)), case.inputs, eps=1e-5, atol=1e-4,
                             rtol=1e-3)


JIT = [c for c in CASES if c.jit]


def close(got, want, rtol, atol):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def jit_or_named_fallback(fn, inputs):
    """ad.jit(fn)(*inputs) with its fallback warnings. A row that ad.jit compiles at complex
    values (jit/complexlower.py) must compile; another one may only fall back with the
    warning naming a row the compiler does not list."""
    from adjit.jit import complexlower
    with warnings.catch_warnings(record=True) as rec, np.errstate(all="ignore"):
        warnings.simplefilter("always", RuntimeWarning)
        got = ad.jit(fn)(*inputs)
    msgs = [str(w.message) for w in rec if "adjit.jit" in str(w.message)]
    for m in msgs:
        named = m.split("op ", 1)[-1].split(" at complex values is not compiled")
        assert len(named) == 2 and named[0] not in complexlower.COMPILES, m
    return got, msgs


@pytest.mark.parametrize("case", JIT, ids=repr)
def test_jit_function_and_gradient(case):
    """ad.jit of the row and of its gradient at complex values: compiled when the compiler
    lists the row (else a fallback naming the row it does not), equal to eager."""
    from adjit.jit import complexlower
    g = gradient_fn(case)

    def both(*a):
        return case.fn(*a), g(*a)
    got, msgs = jit_or_named_fallback(both, case.inputs)
    if case.op.name in complexlower.COMPILES:
        assert not msgs, msgs
    with np.errstate(all="ignore"):
        want = both(*case.inputs)
    close(got[0], want[0], rtol=1e-12, atol=1e-14)
    close(got[1], want[1], rtol=1e-11, atol=1e-13)
