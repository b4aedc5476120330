"""The op-info sweep: every row of the op table, on every sample of its test domain
(`adjit.testing.opinfo`), is checked for
  * its value: the row on Tensors, duals, and its public function / methods give NumPy's value;
  * first order: reverse- and forward-mode Jacobians against central differences;
  * second order: the gradient of a weighted sum of the output, differentiated again in reverse
    mode (reverse-over-reverse) and forward mode (forward-over-reverse), against central
    differences of that gradient;
  * ad.jit: the compiled function and its compiled gradient against eager.
A new row is tested by declaring its domain; hand-known values and edge values live in
test_ops_gradcheck.py and test_edge_values.py."""
import warnings

import numpy as np
import pytest

import adjit as ad
from adjit.ops.elementwise import Elementwise
from adjit.testing import opinfo

CASES = opinfo.cases()
SECOND = [c for c in CASES if c.second and sum(x.size for x in c.inputs)]
JIT = [c for c in CASES if c.jit]


def quiet(fn):
    def run(*a):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            return fn(*a)
    return run


def gradient_fn(case):
    """x -> the gradient of sum(w * op(x)) w.r.t. every input, flattened and concatenated."""
    fn, xs = case.fn, case.inputs
    w = opinfo.weights(np.shape(fn(*xs)))
    nums = tuple(range(len(xs)))

    def g(*vs):
        gs = ad.grad(lambda *a: ad.sum(fn(*a) * w), argnums=nums)(*vs)
        return ad.concatenate([ad.reshape(v, (-1,)) for v in gs])
    return g


def close(a, b, rtol=1e-12, atol=1e-13):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=rtol, atol=atol)


def test_every_differentiable_row_is_swept():
    builtin = {n for n, op in ad.OPS.items() if not op.nondiff
               and "custom_op" not in getattr(op.primal, "__qualname__", "")}
    assert builtin == {op.name for op in opinfo.rows()}
    assert {c.op.name for c in JIT} == builtin   # every row also compiles


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_value(case):
    op, xs = case.op, case.inputs
    y = np.asarray(case.fn(*xs))   # the row's primal: NumPy's function
    t = case.fn(*[ad.tensor(x) for x in xs])
    close(t.numpy(), y)
    d = case.fn(*[ad.dual(x, np.ones_like(x)) for x in xs])
    close(d.primal, y)
    if op.export:
        for name in (op.name,) + op.aliases:
            assert getattr(ad, name) is op.api, name
    if isinstance(op, Elementwise) and len(xs) == 1:
        close(op.api(xs[0]), y)
        for m in op.methods:
            close(getattr(ad.tensor(xs[0]), m)().numpy(), y)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_first_order_reverse_and_forward(case):
    assert ad.gradcheck(quiet(case.fn), case.inputs, eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("case", SECOND, ids=repr)
def test_second_order(case):
    # reverse-over-reverse: Tensors through ad.grad; forward-over-reverse: duals through ad.grad
    assert ad.gradcheck(quiet(gradient_fn(case)), case.inputs, eps=1e-5, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("case", JIT, ids=repr)
def test_jit_function_and_gradient(case):
    g = gradient_fn(case)

    def both(*a):
        return case.fn(*a), g(*a)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)   # a fallback to eager fails the test
        got = ad.jit(both)(*case.inputs)
    want = both(*case.inputs)
    close(got[0], want[0], rtol=1e-10, atol=1e-12)
    close(got[1], want[1], rtol=1e-9, atol=1e-11)
