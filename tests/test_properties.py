"""Property-based derivative checks (issue 7): every op in the registry, random shapes
(0-d, size-0, broadcasting pairs, batches), random values inside the op's domain.

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
from adjit import ops
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

def unary(op, elements, **shape_kw):
    return shapes(**shape_kw).flatmap(lambda s: arrays(s, elements)).map(
        lambda x: (op, (x,)))


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
def index_cases(draw, min_dims=1):
    """An array shape and an index into it: int, slice (any step), integer array with repeats,
    Ellipsis, newaxis; all as normalised tuples (what Tensor.__getitem__ passes to the op)."""
    shp = draw(shapes(min_dims=min_dims, min_side=1))
    n = shp[0]
    kind = draw(st.sampled_from(["int", "slice", "array", "ellipsis", "newaxis"]))
    if kind == "int":
        idx = (draw(st.integers(-n, n - 1)),)
    elif kind == "slice":
        idx = (slice(draw(st.none() | st.integers(-n, n)), draw(st.none() | st.integers(-n, n)),
                     draw(st.sampled_from([None, 1, 2, -1, -2]))),)
    elif kind == "array":
        idx = (np.array(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))),)
    elif kind == "ellipsis":
        idx = (Ellipsis, draw(st.integers(-shp[-1], shp[-1] - 1)))
    else:
        idx = (None, slice(None))
    return shp, idx


@st.composite
def getitem_case(draw):
    shp, idx = draw(index_cases())
    x = draw(arrays(shp))
    return (lambda v: ops.getitem(v, idx=idx)), (x,)


@st.composite
def scatter_case(draw):
    shp, idx = draw(index_cases())
    g = draw(arrays(np.empty(shp)[idx].shape))
    return (lambda v: ops.scatter_add(v, idx=idx, shape=shp)), (g,)


@st.composite
def index_update_case(draw):
    shp, idx = draw(index_cases())
    if isinstance(idx[0], np.ndarray):  # repeated targets: the last write wins, FD agrees
        idx = (np.unique(idx[0]),)
    sel = np.empty(shp)[idx].shape
    vshape = draw(st.sampled_from([sel, ()]))
    return (lambda x, v: ops.index_update(x, v, idx=idx)), (draw(arrays(shp)),
                                                            draw(arrays(vshape)))


@st.composite
def reshape_case(draw):
    x = draw(arrays(draw(shapes())))
    s = x.shape
    target = draw(st.sampled_from([(-1,), tuple(reversed(s)), (1,) + s, s + (1,)]))
    return (lambda v: ops.reshape(v, shape=target)), (x,)


@st.composite
def broadcast_case(draw):
    s = draw(shapes(max_side=2))
    lead = draw(st.sampled_from([(), (2,), (1, 2)]))
    target = lead + tuple(draw(st.sampled_from([1, 2, 0])) if d == 1 else d for d in s)
    x = draw(arrays(s))
    return (lambda v: ops.broadcast_to(v, shape=target)), (x,)


@st.composite
def transpose_case(draw):
    x = draw(arrays(draw(shapes())))
    perm = draw(st.none() | st.permutations(range(x.ndim)).map(tuple))
    return (lambda v: ops.transpose(v, axes=perm)), (x,)


@st.composite
def join_case(draw, stack):
    n = draw(st.integers(1, 3))
    base = draw(shapes(min_dims=0 if stack else 1))
    nd = len(base)
    axis = draw(st.integers(-(nd + 1), nd)) if stack else draw(st.integers(-nd, nd - 1))
    xs = []
    for _ in range(n):
        s = list(base)
        if not stack:
            s[axis] = draw(st.integers(0, 3))
        xs.append(draw(arrays(tuple(s))))
    f = ad.stack if stack else ad.concatenate
    return (lambda *vs: f(list(vs), axis=axis)), tuple(xs)


@st.composite
def where_case(draw):
    sc, sa, sb = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3,
                                                        max_side=3)).input_shapes
    cond = draw(hnp.arrays(np.bool_, sc))
    return (lambda a, b: ad.where(cond, a, b)), (draw(arrays(sa)), draw(arrays(sb)))


@st.composite
def clip_case(draw):
    x = draw(arrays(draw(shapes()), grid(0.125)))  # never on a bound (bounds are on grid(0))
    lo, hi = draw(st.sampled_from([(None, 0.5), (-0.5, None), (-0.5, 0.5), (-1.0, 1.0)]))
    return (lambda v: ad.clip(v, lo, hi)), (x,)


@st.composite
def tril_case(draw):
    x = draw(arrays(draw(shapes(min_dims=2, min_side=1))))
    k = draw(st.integers(-1, 1))
    return (lambda v: ops.tril(v, k=k)), (x,)


@st.composite
def softmax_case(draw, f):
    x = draw(arrays(draw(shapes(min_dims=1, min_side=1)), floats(-3, 3)))
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    return (lambda v: f(v, axis=axis)), (x,)


@st.composite
def cumsum_case(draw):
    x = draw(arrays(draw(shapes())))
    axis = draw(st.none() | (st.integers(-x.ndim, x.ndim - 1) if x.ndim else st.none()))
    return (lambda v: ad.cumsum(v, axis=axis)), (x,)


@st.composite
def norm_case(draw):
    x = draw(arrays(draw(shapes(min_side=1)), away(0.1, 2)))
    axis = draw(axes(x.ndim))
    kd = draw(st.booleans())
    order = draw(st.sampled_from([None, 1, 3]))
    return (lambda v: ad.norm(v, ord=order, axis=axis, keepdims=kd)), (x,)


@st.composite
def matmul_case(draw):
    m, n, p, b = (draw(st.integers(1, 3)) for _ in range(4))
    sa, sb = draw(st.sampled_from([
        ((n,), (n,)), ((m, n), (n,)), ((n,), (n, p)), ((m, n), (n, p)),
        ((b, m, n), (n, p)), ((b, m, n), (b, n, p)), ((1, m, n), (b, n, p)), ((n,), (b, n, p)),
        ((b, m, n), (n,))]))
    return ad.matmul, (draw(arrays(sa)), draw(arrays(sb)))


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


@st.composite
def solve_case(draw):
    a = draw(square_matrix(batch=False))
    n = a.shape[-1]
    bshape = draw(st.sampled_from([(n,), (n, 1), (n, 2)]))
    return ad.solve, (a, draw(arrays(bshape)))


def _sym_cholesky(a):
    # gradcheck perturbs every entry; cholesky reads one triangle, so feed it sym(a)
    return ad.cholesky(0.5 * (a + ops.mT(a)))


# ---------------------------------------------------------------------------------------------
# one case strategy per registry op (plus the public composites built on them)

U = {  # unary elementwise: op name -> value domain
    "sin": floats(-3, 3), "cos": floats(-3, 3), "tan": floats(-1.2, 1.2),
    "arcsin": floats(-0.9, 0.9), "arccos": floats(-0.9, 0.9), "arctan": floats(-3, 3),
    "sinh": floats(-2, 2), "cosh": floats(-2, 2), "tanh": floats(-2, 2),
    "exp": floats(-2, 2), "exp2": floats(-2, 2), "expm1": floats(-2, 2),
    "log": floats(0.2, 3), "log2": floats(0.2, 3), "log10": floats(0.2, 3),
    "log1p": floats(-0.8, 3), "sqrt": floats(0.2, 3), "square": floats(-3, 3),
    "abs": away(0.05, 3), "sign": away(0.05, 3), "sigmoid": floats(-4, 4),
    "relu": away(0.05, 3), "softplus": floats(-4, 4), "erf": floats(-2.5, 2.5),
    "step": away(0.05, 3), "erf_d": floats(-2, 2), "logpos": away(0.2, 3),
}

B = {  # binary broadcasting elementwise: op name -> (domain of a, domain of b)
    "add": (floats(-2, 2), floats(-2, 2)), "sub": (floats(-2, 2), floats(-2, 2)),
    "mul": (floats(-2, 2), floats(-2, 2)), "div": (floats(-2, 2), away(0.3, 2)),
    "pow": (floats(0.3, 2), floats(-2, 2)),
    "maximum": (grid(), grid(0.125)), "minimum": (grid(), grid(0.125)),
}

CASES = {}
for _n, _dom in U.items():
    CASES[_n] = unary(ad.OPS[_n], _dom)
for _n, (_da, _db) in B.items():
    CASES[_n] = binary(ad.OPS[_n], _da, _db)

CASES.update({
    "reshape": reshape_case(),
    "broadcast_to": broadcast_case(),
    "transpose": transpose_case(),
    "getitem": getitem_case(),
    "scatter_add": scatter_case(),
    "index_update": index_update_case(),
    "concatenate": join_case(stack=False),
    "stack": join_case(stack=True),
    "where": where_case(),
    "clip": clip_case(),
    "tril": tril_case(),
    "sum": reduction(ad.sum),
    "mean": reduction(ad.mean, min_side=1),
    "prod": reduction(ad.prod, away(0.5, 1.5)),
    "max": reduction(ad.max, grid(k=40), min_side=1, unique=True),
    "min": reduction(ad.min, grid(k=40), min_side=1, unique=True),
    "norm": norm_case(),
    "logsumexp": reduction(ad.logsumexp, floats(-3, 3), min_side=1),
    "softmax": softmax_case(ad.softmax),
    "log_softmax": softmax_case(ad.log_softmax),
    "cumsum": cumsum_case(),
    "matmul": matmul_case(),
    "det": matrix_case(ad.det),
    "logabsdet": matrix_case(ops.logabsdet),
    "inv": matrix_case(ad.inv),
    "solve": solve_case(),
    "cholesky": matrix_case(_sym_cholesky, spd=True),
    # public composites over the table's entries
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
})

# the internal strong-zero product every elementwise rule uses (not in OPS); zeros in a on
# purpose: a * b with a == 0 is 0 whatever b, which finite differences agree with
CASES["strong_mul (internal)"] = binary(
    strong_mul, st.sampled_from([0.0, -1.5, 0.5]) | floats(-2, 2),
    floats(-2, 2))

COMPARISONS = {"greater", "greater_equal", "less", "less_equal", "equal", "not_equal"}


def _builtin_ops():
    return {n for n, op in ad.OPS.items()
            if not getattr(op.vjp, "__qualname__", "").startswith("custom_op.")}


def test_every_registry_op_has_a_property_case():
    missing = _builtin_ops() - set(CASES) - COMPARISONS
    assert not missing, f"registry ops without a property test case: {sorted(missing)}"


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
