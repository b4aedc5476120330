"""Property-based derivative checks (issue 7) of the public compositions of rows (norm orders,
var, std, logdet, slogdet, trace, dot, outer, expand_dims, squeeze) and the internal strong-zero
product: random shapes (0-d, size-0, broadcasting pairs, batches), random values inside the
domain. Every row itself is swept on its declared domain by test_opinfo.py.

For each draw `ad.gradcheck` compares three Jacobians: reverse mode, forward mode and central
finite differences. Second order: the gradient of a weighted sum of the op's output is itself
gradchecked (reverse-over-reverse and forward-over-reverse against finite differences of the
analytic gradient).

Domains keep inputs away from kinks (abs, relu, max ties ...) and singularities, where finite
differences are meaningless; those points are pinned down in test_edge_values.py.
Run time is set by the hypothesis profile (tests/conftest.py): "ci" by default.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adjit as ad
from adjit.ops.elementwise import strong_mul

# ---------------------------------------------------------------------------------------------
# value and shape strategies


def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def away(lo, hi):
    """Either sign, magnitude in [lo, hi]: keeps finite differences off a kink at 0."""
    return st.tuples(st.booleans(), floats(lo, hi)).map(lambda t: -t[1] if t[0] else t[1])


def grid(offset=0.0, k=12):
    """Multiples of 0.25 (plus offset): distinct grids never tie with each other."""
    return st.integers(-k, k).map(lambda i: 0.25 * i + offset)


def shapes(min_dims=0, max_dims=3, min_side=0, max_side=3):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def arrays(shape, elements=None, unique=False):
    elements = floats(-2, 2) if elements is None else elements
    return hnp.arrays(np.float64, shape, elements=elements, unique=unique)


@st.composite
def axes(draw, nd, allow_tuple=True, allow_none=True):
    """None, an int (maybe negative) or a tuple of distinct axes of an nd-dim array."""
    kinds = (["none"] if allow_none or nd == 0 else []) + (["int"] if nd else []) + \
        (["tuple"] if allow_tuple and nd else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-nd, nd - 1))
    return tuple(draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True)))


# A case is (fn, inputs): fn(*inputs) works on arrays, Tensors and duals alike.


@st.composite
def binary(draw, op, ea, eb, min_side=0):
    sa, sb = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                    min_side=min_side, max_side=3)).input_shapes
    return op, (draw(arrays(sa, ea)), draw(arrays(sb, eb)))


@st.composite
def reduction(draw, red, elements=None, min_side=0, min_dims=0, unique=False, tuples=True,
              keepdims=True):
    x = draw(arrays(draw(shapes(min_dims=min_dims, min_side=min_side)), elements, unique))
    axis = draw(axes(x.ndim, allow_tuple=tuples))
    kd = draw(st.booleans()) if keepdims else False
    if keepdims:
        return (lambda v: red(v, axis=axis, keepdims=kd)), (x,)
    return (lambda v: red(v, axis=axis)), (x,)


@st.composite
def norm_case(draw):
    x = draw(arrays(draw(shapes(min_side=1)), away(0.1, 2)))
    order = draw(st.sampled_from([None, 1, 3])) if x.ndim else None
    # as np.linalg.norm: ord=None over any axes; a vector norm (ord 1, 3) over one axis
    axis = draw(axes(x.ndim)) if order is None else \
        draw(axes(x.ndim, allow_tuple=False, allow_none=x.ndim == 1))
    kd = draw(st.booleans())
    return (lambda v: ad.norm(v, ord=order, axis=axis, keepdims=kd)), (x,)


@st.composite
def square_matrix(draw, batch=True, spd=False):
    n = draw(st.integers(1, 3))
    bs = draw(st.sampled_from([(), (2,)])) if batch else ()
    a = draw(arrays(bs + (n, n), floats(-0.3, 0.3)))
    if spd:
        return a @ np.swapaxes(a, -1, -2) + np.eye(n)
    return a + 2.0 * np.eye(n)   # well conditioned, positive determinant


def matrix_case(f, spd=False):
    return square_matrix(spd=spd).map(lambda a: (f, (a,)))


# ---------------------------------------------------------------------------------------------
# one case strategy per public composition of rows (the rows themselves are swept on their
# declared domains by test_opinfo.py)

CASES = {
    "norm": norm_case(),
    "var": reduction(ad.var, min_side=1),
    "std": reduction(ad.std, grid(k=40), min_side=2, unique=True),  # spread: std > 0
    "logdet": matrix_case(ad.logdet),
    "slogdet[1]": matrix_case(lambda a: ad.slogdet(a)[1]),
    "trace": arrays((3, 3)).map(lambda a: (ad.trace, (a,))),
    "dot": st.integers(0, 4).flatmap(lambda n: st.tuples(arrays((n,)), arrays((n,)))).map(
        lambda ab: (ad.dot, ab)),
    "outer": st.tuples(arrays(shapes(1, 1)), arrays(shapes(1, 1))).map(
        lambda ab: (ad.outer, ab)),
    "expand_dims": arrays(shapes()).flatmap(lambda x: st.integers(-x.ndim - 1, x.ndim).map(
        lambda ax: ((lambda v: ad.expand_dims(v, ax)), (x,)))),
    "squeeze": arrays(shapes(max_side=2)).map(lambda x: (ad.squeeze, (x,))),
}

# the internal strong-zero product every elementwise rule uses (not in OPS); zeros in a on
# purpose: a * b with a == 0 is 0 whatever b, which finite differences agree with
CASES["strong_mul (internal)"] = binary(
    strong_mul, st.sampled_from([0.0, -1.5, 0.5]) | floats(-2, 2),
    floats(-2, 2))

COMPARISONS = {"greater", "greater_equal", "less", "less_equal", "equal", "not_equal"}


# ---------------------------------------------------------------------------------------------
# the properties

def _quiet(fn):
    def run(*a):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            return fn(*a)
    return run


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_first_order_reverse_forward_and_finite_differences(name, data):
    fn, xs = data.draw(CASES[name], label="case")
    assert ad.gradcheck(_quiet(fn), xs, eps=1e-6, atol=1e-5, rtol=1e-3)


def _weights(shape):
    """Fixed, uneven output weights (a plain sum would hide e.g. softmax's whole Jacobian)."""
    size = int(np.prod(shape))
    return np.cos(1.3 * np.arange(size) + 0.4).reshape(shape)


def _gradient_fn(fn, xs):
    """x -> gradient of sum(w * fn(x)) w.r.t. every input, flattened and concatenated."""
    w = _weights(np.shape(fn(*xs)))
    nums = tuple(range(len(xs)))

    def loss(*vs):
        return ad.sum(fn(*vs) * w)

    def g(*vs):
        gs = ad.grad(loss, argnums=nums)(*vs)
        return ad.concatenate([ad.reshape(v, (-1,)) for v in gs])
    return g


# gradients that are piecewise constant on these domains still get their (zero) second
# derivative checked; nothing is exempt.
@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_second_order_gradient_of_gradient(name, data):
    fn, xs = data.draw(CASES[name], label="case")
    if sum(np.size(x) for x in xs) == 0:
        return
    g = _gradient_fn(_quiet(fn), xs)
    assert ad.gradcheck(_quiet(g), xs, eps=1e-5, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("name", sorted(COMPARISONS))
@given(data=st.data())
def test_comparisons_match_numpy_and_carry_no_derivative(name, data):
    (sa, sb) = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3,
                                                           max_side=3)).input_shapes
    a, b = data.draw(arrays(sa, grid(k=3))), data.draw(arrays(sb, grid(k=3)))
    op = ad.OPS[name]
    want = getattr(np, name)(a, b)
    t = op(ad.tensor(a, requires_grad=True), b)
    assert isinstance(t, ad.Tensor) and not t.requires_grad and t.grad_fn is None
    np.testing.assert_array_equal(t.numpy(), want)
    d = op(ad.dual(a, np.ones_like(a)), b)
    assert not isinstance(d, ad.Dual)
    np.testing.assert_array_equal(np.asarray(d), want)
