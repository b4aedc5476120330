"""Hand-known values, kinks and ties, the public spellings of the ops of API.md §2 (axis=/dim=,
methods, operators with scalars and arrays), the compositions of rows (var, std, dot, outer,
trace, logdet, slogdet ...), custom ops and the fused large-array kernels. Every row's own
derivatives on its domain (both modes, second order, ad.jit) are swept by test_opinfo.py."""
import math
import zlib

import numpy as np
import pytest

import adjit as ad
from adjit import kernels
from adjit.testing import opinfo


def rng_for(key):
    return np.random.default_rng(zlib.crc32(str(key).encode()))


def uniform(rng, shape, lo=-2.0, hi=2.0, away=()):
    """Uniform values in [lo, hi], at least 0.05 from each point in `away` (kinks, poles)."""
    x = rng.uniform(lo, hi, size=shape)
    for _ in range(100):
        bad = np.zeros(np.shape(x), dtype=bool)
        for p in away:
            bad |= np.abs(x - p) < 0.05
        if not bad.any():
            return np.asarray(x, dtype=np.float64)
        x = np.where(bad, rng.uniform(lo, hi, size=shape), x)
    raise AssertionError("could not draw values away from the kinks")


def T(x):
    """x itself if it is a Tensor or dual number (as gradcheck passes), else a Tensor of it
    (gradcheck passes plain arrays for the finite differences), so methods can be called."""
    return x if isinstance(x, (ad.Tensor, ad.Dual)) else ad.tensor(x)


def gradcheck(fn, inputs, **kw):
    assert ad.autograd.gradcheck(fn, inputs, **kw) is True


def second_order_check(fn, inputs, seed=0, atol=1e-5, rtol=1e-3):
    """Check d/dx_j of (d/dx_i sum(w * fn(x))) for all i, j by gradcheck (reverse mode) of the
    first derivative, which is computed with create_graph=True when gradcheck passes Tensors
    and plainly (as a NumPy reference for the finite differences) when it passes arrays."""
    xs = [np.asarray(x, dtype=np.float64) for x in inputs]
    out = fn(*[ad.tensor(x) for x in xs])
    w = rng_for(("w", seed)).uniform(0.5, 1.5, size=out.shape)

    for i in range(len(xs)):
        def first(*args, i=i):
            tensors = any(isinstance(a, ad.Tensor) for a in args)
            ts = [a if isinstance(a, ad.Tensor) else ad.tensor(a) for a in args]
            if not ts[i].requires_grad:
                ts[i] = ts[i].detach().requires_grad_(True)
            y = (fn(*ts) * w).sum()
            if not y.requires_grad:
                return np.zeros(ts[i].shape)
            (g,) = ad.autograd.grad(y, ts[i], create_graph=tensors, allow_unused=True)
            if g is None:
                return np.zeros(ts[i].shape)
            return g if tensors else g.numpy()

        gradcheck(first, xs, check_forward=False, atol=atol, rtol=rtol)


def row_range(name):
    """(lo, hi, points to stay away from) of an elementwise row's test domain."""
    lo, hi, away, _ = opinfo.ranges(ad.OPS[name])[0]
    return lo, hi, away


HAND = [
    ("sin", 0.7, math.cos(0.7)), ("cos", 0.7, -math.sin(0.7)),
    ("tan", 0.5, 1 / math.cos(0.5) ** 2), ("exp", 1.3, math.exp(1.3)),
    ("exp2", 1.5, math.log(2) * 2 ** 1.5), ("log", 4.0, 0.25),
    ("log2", 2.0, 1 / (2 * math.log(2))), ("log10", 10.0, 1 / (10 * math.log(10))),
    ("log1p", 1.0, 0.5), ("expm1", 0.5, math.exp(0.5)), ("sqrt", 4.0, 0.25),
    ("square", -3.0, -6.0), ("abs", -3.0, -1.0), ("abs", 2.0, 1.0), ("sign", 2.0, 0.0),
    ("arcsin", 0.5, 1 / math.sqrt(0.75)), ("arccos", 0.5, -1 / math.sqrt(0.75)),
    ("arctan", 1.0, 0.5), ("sinh", 0.5, math.cosh(0.5)), ("cosh", 0.5, math.sinh(0.5)),
    ("tanh", 0.5, 1 - math.tanh(0.5) ** 2),
    ("sigmoid", 0.0, 0.25), ("relu", -1.0, 0.0), ("relu", 2.0, 1.0),
    ("softplus", 0.0, 0.5), ("erf", 0.0, 2 / math.sqrt(math.pi)),
    ("erf", 1.0, 2 / math.sqrt(math.pi) * math.exp(-1.0)),
]


@pytest.mark.parametrize("name,x0,d", HAND, ids=[f"{n}@{x}" for n, x, _ in HAND])
def test_hand_known_derivatives(name, x0, d):
    x = ad.tensor(x0, requires_grad=True)
    y = getattr(ad, name)(x)
    y.backward()
    assert x.grad.item() == pytest.approx(d, rel=1e-13, abs=1e-15)
    (t,) = [ad.dual(np.float64(x0), np.float64(1.0))]
    assert float(np.asarray(getattr(ad, name)(t).tangent)) == pytest.approx(d, rel=1e-13,
                                                                            abs=1e-15)


def test_hand_known_second_derivatives():
    x = ad.tensor(0.7, requires_grad=True)
    (g,) = ad.autograd.grad(ad.sin(x), x, create_graph=True)
    (h,) = ad.autograd.grad(g, x)
    assert h.item() == pytest.approx(-math.sin(0.7), rel=1e-14)
    x = ad.tensor(0.3, requires_grad=True)
    (g,) = ad.autograd.grad(ad.tanh(x), x, create_graph=True)
    (h,) = ad.autograd.grad(g, x)
    t = math.tanh(0.3)
    assert h.item() == pytest.approx(-2 * t * (1 - t * t), rel=1e-13)
    x = ad.tensor(2.0, requires_grad=True)
    (g,) = ad.autograd.grad(ad.log(x), x, create_graph=True)
    (h,) = ad.autograd.grad(g, x)
    assert h.item() == pytest.approx(-0.25, rel=1e-14)


def test_kinks_and_ties_follow_pytorch():
    # relu'(0) = 0, abs'(0) = 0, sign' = 0; maximum/minimum ties split the gradient evenly
    for name, d in (("relu", 0.0), ("abs", 0.0), ("sign", 0.0)):
        x = ad.tensor(0.0, requires_grad=True)
        getattr(ad, name)(x).backward()
        assert x.grad.item() == d, name
    for name in ("maximum", "minimum"):
        a = ad.tensor([1.0, 2.0], requires_grad=True)
        b = ad.tensor([1.0, 3.0], requires_grad=True)
        getattr(ad, name)(a, b).sum().backward()
        expect_a = [0.5, 0.0] if name == "maximum" else [0.5, 1.0]
        np.testing.assert_array_equal(a.grad.numpy(), expect_a)
        np.testing.assert_array_equal(b.grad.numpy(), 1 - np.array(expect_a))


def test_pow_negative_base_integer_exponent():
    x = np.array([-1.5, -0.5, 0.7])
    gradcheck(lambda t: t ** 3, [x])
    gradcheck(lambda t: ad.pow(t, 2.0), [x])
    second_order_check(lambda t: t ** 3, [x])
    t = ad.tensor(0.0, requires_grad=True)
    (t ** 2).backward()
    assert t.grad.item() == 0.0


# ---------------------------------------------------------------------------------------------
# elementwise, two broadcasting inputs


def binary_inputs(name, sa, sb, key):
    rng = rng_for((name, sa, sb, key))
    if name == "div":
        a = uniform(rng, sa)
        b = uniform(rng, sb, 0.5, 2.0) * rng.choice([-1.0, 1.0], size=sb)
    elif name == "pow":
        a, b = uniform(rng, sa, 0.5, 2.0), uniform(rng, sb, -2.0, 2.0)
    elif name in ("maximum", "minimum"):
        # a on the grid 0.2 k, b on 0.2 k + 0.1 (+-0.02): no ties within the difference step
        a = rng.integers(-10, 10, size=sa) * 0.2 + rng.uniform(-0.02, 0.02, size=sa)
        b = rng.integers(-10, 10, size=sb) * 0.2 + 0.1 + rng.uniform(-0.02, 0.02, size=sb)
    else:
        a, b = uniform(rng, sa), uniform(rng, sb)
    return np.asarray(a, dtype=float), np.asarray(b, dtype=float)


OPERATOR = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
            "div": lambda a, b: a / b, "pow": lambda a, b: a ** b}


@pytest.mark.parametrize("name", list(OPERATOR))
def test_operators_with_python_scalars_and_arrays(name):
    op = OPERATOR[name]
    a, b = binary_inputs(name, (2, 3), (2, 3), 4)
    gradcheck(op, [a, b])
    c = 1.7 if name != "pow" else 1.3
    gradcheck(lambda x: op(x, c), [a])
    gradcheck(lambda x: op(c, x), [np.abs(a) + 0.5 if name == "div" else a])
    # a NumPy array on the other side: the result is still differentiable
    other = np.abs(b) + 0.5
    gradcheck(lambda x: op(x, other), [a])
    gradcheck(lambda x: op(other, x), [np.abs(a) + 0.5 if name == "div" else a])


def test_unary_minus_and_abs_operator():
    x = uniform(rng_for("neg"), (2, 3), away=(0,))
    gradcheck(lambda t: -t, [x])
    gradcheck(lambda t: abs(t), [x])
    gradcheck(lambda t: -(t * t) + (+t), [x])


@pytest.mark.parametrize("b_shape", [(2, 3), (3,), ()], ids=str)
def test_where(b_shape):
    rng = rng_for(("where", b_shape))
    cond = rng.uniform(size=(2, 3)) > 0.5
    cond[0, 0], cond[1, 1] = True, False
    a, b = uniform(rng, (2, 3)), uniform(rng, b_shape)
    gradcheck(lambda x, y: ad.where(cond, x, y), [a, b])
    gradcheck(lambda x: ad.where(cond, x, 2.0), [a])
    gradcheck(lambda x: ad.where(ad.tensor(cond), 0.5, x), [a])
    second_order_check(lambda x, y: ad.where(cond, x * x, y * x), [a, a + 1])


def test_where_condition_from_comparison():
    x = np.array([-1.0, 0.5, 2.0, -0.3])
    gradcheck(lambda t: ad.where(t > 0, ad.log(ad.abs(t) + 1), t * t), [x])


@pytest.mark.parametrize("kw", [dict(a_min=-0.5, a_max=0.5), dict(a_max=0.5),
                                dict(min=-0.5), dict(min=-0.5, max=0.7)], ids=str)
def test_clip(kw):
    x = uniform(rng_for(("clip", str(kw))), (3, 4), away=(-0.5, 0.5, 0.7))
    gradcheck(lambda t: ad.clip(t, **kw), [x])
    second_order_check(lambda t: ad.clip(t * t, **kw), [x])
    lo, hi = kw.get("a_min", kw.get("min")), kw.get("a_max", kw.get("max"))
    np.testing.assert_array_equal(ad.clip(x, **kw), np.clip(x, lo, hi))


def test_clip_positional_and_clamp_method():
    x = uniform(rng_for("clamp"), (5,), away=(-0.5, 0.5))
    gradcheck(lambda t: ad.clip(t, -0.5, 0.5), [x])
    t = ad.tensor(x, requires_grad=True)
    t.clamp(min=-0.5, max=0.5).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), (np.abs(x) < 0.5).astype(float))


# ---------------------------------------------------------------------------------------------
# reductions

def reduction_input(name, shape, key):
    rng = rng_for((name, shape, key))
    n = int(np.prod(shape))
    if name in ("max", "min"):  # distinct values, gaps far above the finite-difference step
        return (rng.permutation(n) * 0.3 - 1.0).reshape(shape) + rng.uniform(0, 0.1, size=shape)
    if name == "prod":
        return uniform(rng, shape, 0.5, 1.5) * rng.choice([-1.0, 1.0], size=shape)
    return uniform(rng, shape)


AXIS_KW = [dict(), dict(axis=0), dict(axis=-1, keepdims=True), dict(axis=(0, 2)),
           dict(axis=(-1, 0), keepdims=True), dict(axis=None, keepdims=True), dict(dim=1),
           dict(dim=(0, -1), keepdim=True), dict(dim=[1, 2])]
REDUCTIONS = ["sum", "mean", "prod", "max", "min", "norm", "var", "std", "logsumexp"]


@pytest.mark.parametrize("kw", AXIS_KW, ids=str)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions(name, kw):
    x = reduction_input(name, (2, 3, 4), str(kw))
    f = getattr(ad, name)
    if name in ("var", "std"):   # compositions of rows (the rows are swept by test_opinfo)
        gradcheck(lambda t: f(t, **kw), [x])
    # the primal matches NumPy's, with the same axis/keepdims conventions
    npkw = {"axis": kw.get("axis", kw.get("dim")),
            "keepdims": kw.get("keepdims", kw.get("keepdim", False))}
    if isinstance(npkw["axis"], list):
        npkw["axis"] = tuple(npkw["axis"])
    ref = {"norm": lambda v, **k: np.sqrt(np.sum(v * v, **k)),
           "logsumexp": lambda v, **k: np.log(np.sum(np.exp(v), **k))}.get(
        name, getattr(np, name, None))
    np.testing.assert_allclose(f(x, **kw), ref(x, **npkw), rtol=1e-12)
    # method form
    t = ad.tensor(x)
    np.testing.assert_allclose(np.asarray(getattr(t, name)(**kw)), ref(x, **npkw), rtol=1e-12)


@pytest.mark.parametrize("name", ["sum", "prod", "mean"])
def test_reductions_of_size_zero(name):
    x = np.zeros((0, 3))
    gradcheck(lambda t: getattr(ad, name)(t, axis=1), [x])
    if name != "mean":
        gradcheck(lambda t: getattr(ad, name)(t, axis=0), [x])
        gradcheck(lambda t: getattr(ad, name)(t), [x])
    t = ad.tensor(x, requires_grad=True)
    getattr(ad, name)(t, axis=1).sum().backward()
    assert t.grad.shape == (0, 3)


def test_prod_with_zeros_first_derivative():
    x = np.array([[1.5, 0.0, -2.0], [0.0, 0.0, 3.0], [0.5, 2.0, -1.0]])
    for kw in (dict(), dict(axis=0), dict(axis=1), dict(axis=-1, keepdims=True)):
        # central differences are exact for prod (multilinear), so zeros are fine points
        gradcheck(lambda t, kw=kw: ad.prod(t, **kw), [x])
    t = ad.tensor([2.0, 0.0, 3.0], requires_grad=True)
    ad.prod(t).backward()
    np.testing.assert_array_equal(t.grad.numpy(), [0.0, 6.0, 0.0])


@pytest.mark.parametrize("kw", [dict(), dict(axis=0), dict(axis=-1, keepdims=True),
                                dict(axis=(0, 2))], ids=str)
def test_prod_with_zeros_second_order(kw):
    x = np.array([[[1.5, 0.0], [-2.0, 0.0]], [[0.7, 0.0], [3.0, 1.0]], [[0.5, 2.0], [-1.0, 0.0]]])
    second_order_check(lambda t: ad.prod(t, **kw), [x])


def test_prod_with_zeros_third_order():
    t = ad.tensor([0.0, 0.0, 2.0, 3.0], requires_grad=True)
    (g,) = ad.autograd.grad(ad.prod(t), t, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), [0.0, 0.0, 0.0, 0.0])
    (h,) = ad.autograd.grad(g[0], t, create_graph=True)
    np.testing.assert_array_equal(h.detach().numpy(), [0.0, 6.0, 0.0, 0.0])
    (k,) = ad.autograd.grad(h[1], t)
    np.testing.assert_array_equal(k.numpy(), [0.0, 0.0, 3.0, 2.0])


def test_max_min_ties_split_gradient():
    t = ad.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], requires_grad=True)
    ad.max(t, axis=1).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[0, 0.5, 0.5], [0.5, 0, 0.5]])


@pytest.mark.parametrize("kw", [dict(ord=1), dict(ord=np.inf), dict(ord=3, axis=1),
                                dict(ord=2, axis=0), dict(ord="fro"), dict(ord=-1),
                                dict(ord=-np.inf), dict(ord=1, dim=1, keepdim=True)], ids=str)
def test_norm_orders(kw):
    x = uniform(rng_for(("norm", str(kw))), (3, 4), away=(0,))
    x.flat[np.argmax(np.abs(x))] = 3.0  # a unique largest magnitude for ord=inf
    gradcheck(lambda t: ad.norm(t, **kw), [x])
    second_order_check(lambda t: ad.norm(t, **kw), [x])
    ref_kw = {k: v for k, v in kw.items() if k not in ("dim", "keepdim")}
    if "dim" in kw:
        ref = np.sum(np.abs(x), axis=1, keepdims=True)
    else:  # a 2-D x without axis: the matrix norm, as np.linalg.norm
        ref = np.linalg.norm(x, **ref_kw)
    np.testing.assert_allclose(ad.norm(x, **kw), ref, rtol=1e-12)


def test_norm_at_zero_has_zero_gradient():
    t = ad.zeros(3, requires_grad=True)
    ad.norm(t).backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.zeros(3))


@pytest.mark.parametrize("kw", [dict(ddof=1), dict(unbiased=True), dict(correction=1, axis=0),
                                dict(dim=1, keepdim=True, unbiased=False)], ids=str)
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_corrections(name, kw):
    x = uniform(rng_for((name, str(kw))), (3, 4))
    gradcheck(lambda t: getattr(ad, name)(t, **kw), [x])
    ddof = kw.get("ddof", kw.get("correction", 1 if kw.get("unbiased", False) else 0))
    axis = kw.get("axis", kw.get("dim"))
    ref = getattr(np, name)(x, axis=axis, ddof=ddof, keepdims=kw.get("keepdim", False))
    np.testing.assert_allclose(getattr(ad, name)(x, **kw), ref, rtol=1e-12)


AXIS_ONLY = [dict(), dict(axis=0), dict(axis=-2), dict(dim=1), dict(axis=2)]


@pytest.mark.parametrize("kw", AXIS_ONLY, ids=str)
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "cumsum"])
def test_axis_ops(name, kw):
    x = uniform(rng_for((name, str(kw))), (2, 3, 4))
    f = getattr(ad, name)
    ax = kw.get("axis", kw.get("dim", -1 if name != "cumsum" else None))
    if name == "cumsum":
        ref = np.cumsum(x, axis=ax)
    else:
        e = np.exp(x - x.max(axis=ax, keepdims=True))
        ref = e / e.sum(axis=ax, keepdims=True)
        ref = np.log(ref) if name == "log_softmax" else ref
    np.testing.assert_allclose(f(x, **kw), ref, rtol=1e-12, atol=1e-15)


def test_softmax_large_inputs_stable():
    x = np.array([1000.0, 1001.0, 999.0])
    gradcheck(lambda t: ad.softmax(t), [x])
    gradcheck(lambda t: ad.log_softmax(t), [x])
    gradcheck(lambda t: ad.logsumexp(t), [x])
    assert np.isfinite(ad.logsumexp(x))


# ---------------------------------------------------------------------------------------------
# products, shapes, joins


def test_matmul_with_constant_arrays_either_side():
    rng = rng_for("matmul-const")
    a, b = uniform(rng, (2, 3)), uniform(rng, (3, 2))
    gradcheck(lambda x: x @ b, [a])
    gradcheck(lambda y: a @ y, [b])
    second_order_check(lambda x, y: ad.matmul(x * x, y), [a, b])


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (3, 2)), ((), (3,)),
                                   ((3,), ())], ids=str)
def test_dot(sa, sb):
    rng = rng_for(("dot", sa, sb))
    a, b = uniform(rng, sa), uniform(rng, sb)
    gradcheck(lambda x, y: ad.dot(x, y), [a, b])
    gradcheck(lambda x, y: T(x).dot(y), [a, b])
    np.testing.assert_allclose(ad.dot(a, b), np.dot(a, b), rtol=1e-12)
    second_order_check(lambda x, y: ad.dot(x, y) ** 2, [a, b])


def test_outer_trace_transpose():
    rng = rng_for("shape-ops")
    a, b, m = uniform(rng, (3,)), uniform(rng, (4,)), uniform(rng, (3, 3))
    c = uniform(rng, (2, 3, 4))
    gradcheck(lambda x, y: ad.outer(x, y), [a, b])
    np.testing.assert_allclose(ad.outer(a, b), np.outer(a, b))
    gradcheck(lambda x: ad.trace(x), [m])
    assert ad.trace(m) == pytest.approx(np.trace(m))
    gradcheck(lambda x: ad.transpose(x), [c])
    gradcheck(lambda x: ad.transpose(x, axes=(1, 0, 2)), [c])
    gradcheck(lambda x: ad.transpose(x, axes=(-1, 0, 1)), [c])
    gradcheck(lambda x: x.T, [c])
    gradcheck(lambda x: x.mT, [c])
    gradcheck(lambda x: x.transpose(2, 0, 1), [c])
    np.testing.assert_array_equal(ad.transpose(c, axes=(1, 0, 2)), c.transpose(1, 0, 2))
    second_order_check(lambda x, y: ad.outer(x * x, y), [a, b])
    second_order_check(lambda x: ad.trace(x @ x), [m])


@pytest.mark.parametrize("newshape", [(12,), (-1,), (3, 4), (2, -1, 2), (4, 3, 1), (1, 12)],
                         ids=str)
def test_reshape(newshape):
    x = uniform(rng_for(("reshape", newshape)), (3, 4))
    gradcheck(lambda t: ad.reshape(t, newshape), [x])
    gradcheck(lambda t: t.reshape(*newshape), [x])
    gradcheck(lambda t: t.reshape(newshape), [x])
    np.testing.assert_array_equal(ad.reshape(x, newshape), x.reshape(newshape))


def test_reshape_0d_and_size_zero_and_flatten():
    gradcheck(lambda t: ad.reshape(t, (1, 1)), [np.array(0.4)])
    gradcheck(lambda t: ad.reshape(t, ()), [np.array([0.4])])
    gradcheck(lambda t: ad.reshape(t, (3, 0)), [np.zeros((0, 3))])
    gradcheck(lambda t: t.flatten(), [uniform(rng_for("fl"), (2, 3))])
    x = uniform(rng_for("sq"), (2, 1, 3))
    gradcheck(lambda t: ad.squeeze(t), [x])
    gradcheck(lambda t: ad.squeeze(t, 1), [x])
    gradcheck(lambda t: ad.expand_dims(t, -1), [x])
    gradcheck(lambda t: T(t).unsqueeze(0), [x])


@pytest.mark.parametrize("kw", [dict(), dict(axis=1), dict(axis=-1), dict(dim=0)], ids=str)
@pytest.mark.parametrize("fname", ["concatenate", "cat", "stack"])
def test_joins(fname, kw):
    rng = rng_for((fname, str(kw)))
    if fname == "stack":
        shapes = [(2, 3)] * 3
    else:
        ax = kw.get("axis", kw.get("dim", 0))
        shapes = [tuple(n if i == ax % 2 else 3 for i in range(2)) for n in (1, 2, 3)]
    xs = [uniform(rng, s) for s in shapes]
    f = getattr(ad, fname)
    gradcheck(lambda *ts: f(list(ts), **kw), xs)
    gradcheck(lambda *ts: f(ts, **kw), xs)
    # mixed with a constant array
    gradcheck(lambda a, b: f([a, xs[1], b], **kw), [xs[0], xs[2]])
    npf = np.stack if fname == "stack" else np.concatenate
    np.testing.assert_array_equal(f(xs, **kw), npf(xs, axis=kw.get("axis", kw.get("dim", 0))))
    second_order_check(lambda a, b: f([a * b, b * b, a], **kw), [xs[0], xs[0] + 1])


def test_cat_is_concatenate():
    assert ad.cat is ad.concatenate


# ---------------------------------------------------------------------------------------------
# indexing


def test_getitem_boolean_mask_full_and_from_tensor():
    x = uniform(rng_for("mask"), (3, 4))
    mask = x > 0.3
    gradcheck(lambda t: t[mask], [x])
    gradcheck(lambda t: ad.sum(t[ad.tensor(x) > 0.3] ** 2), [x])
    t = ad.tensor(x, requires_grad=True)
    (t[t > 0.3] * 2).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), 2.0 * mask)


def test_getitem_repeated_indices_accumulate():
    t = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    t[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [3.0, 0.0, 1.0])
    t = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    t[ad.tensor([1, 1])].sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [0.0, 2.0, 0.0])


def test_getitem_second_order_and_scatter_add():
    x = uniform(rng_for("gi2"), (3, 4))
    second_order_check(lambda t: t[[0, 2, 0]] ** 2, [x])
    second_order_check(lambda t: t[1:, ::2] * t[:2, 1::2], [x])
    sa = ad.OPS["scatter_add"]
    g = uniform(rng_for("sa"), (4, 4))
    gradcheck(lambda t: sa(t, idx=([0, 2, 0, 1],), shape=(3, 4)), [g])
    gradcheck(lambda t: sa(t, idx=(slice(None), 1), shape=(3, 4)), [g[:3, 0]])


# ---------------------------------------------------------------------------------------------
# linear algebra

def well_conditioned(rng, shape, pos_det=False):
    n = shape[-1]
    a = rng.uniform(-1, 1, size=shape) + 3 * np.eye(n)
    if pos_det:
        assert np.all(np.linalg.det(a) > 0)
    return a


def spd(rng, shape):
    n = shape[-1]
    b = rng.uniform(-1, 1, size=shape)
    return b @ np.swapaxes(b, -1, -2) + n * np.eye(n)


def sym(t):
    return 0.5 * (t + t.mT)


@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3), (1, 1)], ids=str)
def test_det_inv_logdet_slogdet(shape):
    rng = rng_for(("linalg", shape))
    a = well_conditioned(rng, shape, pos_det=True)
    gradcheck(lambda t: ad.det(t), [a])
    gradcheck(lambda t: ad.inv(t), [a])
    gradcheck(lambda t: ad.logdet(t), [a])
    gradcheck(lambda t: ad.slogdet(t)[1], [a])
    gradcheck(lambda t: ad.linalg.det(t) * ad.linalg.slogdet(t)[1], [a])
    gradcheck(lambda t: T(t).det() + T(t).logdet() + T(t).inverse().sum(), [a])
    np.testing.assert_allclose(ad.det(a), np.linalg.det(a), rtol=1e-12)
    np.testing.assert_allclose(ad.inv(a), np.linalg.inv(a), rtol=1e-12)
    np.testing.assert_allclose(ad.logdet(a), np.log(np.linalg.det(a)), rtol=1e-12)
    s, l = ad.slogdet(a)
    np.testing.assert_array_equal(np.asarray(s), np.linalg.slogdet(a)[0])
    np.testing.assert_allclose(np.asarray(l), np.linalg.slogdet(a)[1], rtol=1e-12)


def test_det_and_slogdet_negative_determinant():
    a = well_conditioned(rng_for("neg-det"), (3, 3))
    a[[0, 1]] = a[[1, 0]]  # a row swap flips the sign
    assert np.linalg.det(a) < 0
    gradcheck(lambda t: ad.det(t), [a])
    gradcheck(lambda t: ad.slogdet(t)[1], [a])
    assert np.isnan(float(ad.logdet(a)))
    assert float(ad.slogdet(a)[0]) == -1.0


def test_linalg_second_order():
    rng = rng_for("linalg-2nd")
    a = well_conditioned(rng, (3, 3), pos_det=True)
    for f in (ad.det, ad.logdet, ad.inv, lambda t: ad.slogdet(t)[1]):
        second_order_check(f, [a])
    b = uniform(rng, (3,))
    second_order_check(lambda m, v: ad.solve(m, v), [a, b])
    second_order_check(lambda m: ad.cholesky(sym(m)), [spd(rng, (3, 3))])


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1)], ids=str)
def test_cholesky(shape):
    rng = rng_for(("chol", shape))
    a = spd(rng, shape)
    # numpy reads only the lower triangle: differentiate through a symmetric input
    gradcheck(lambda t: ad.cholesky(sym(t)), [a])
    gradcheck(lambda t: ad.linalg.cholesky(sym(t)).sum() + T(sym(t)).cholesky().sum(), [a])
    L = ad.cholesky(a)
    np.testing.assert_allclose(L, np.linalg.cholesky(a), rtol=1e-12)
    # gradient of a scalar function of L is symmetric, as PyTorch's
    t = ad.tensor(a, requires_grad=True)
    (ad.cholesky(t) ** 2).sum().backward()
    g = t.grad.numpy()
    np.testing.assert_allclose(g, np.swapaxes(g, -1, -2), rtol=1e-12, atol=1e-14)


def test_cholesky_through_a_product():
    b = uniform(rng_for("chol-prod"), (3, 3))
    gradcheck(lambda m: ad.cholesky(m @ m.T + 3 * ad.eye(3)), [b])
    gradcheck(lambda m: ad.logdet(m @ m.T + ad.eye(3)), [b])


def test_linalg_namespace():
    for name in ("det", "logdet", "slogdet", "inv", "solve", "cholesky", "norm"):
        assert getattr(ad.linalg, name) is getattr(ad, name)


# ---------------------------------------------------------------------------------------------
# custom ops

def _cube_primal(x):
    return x * x * x


def _cube_vjp(g, out, x):
    return (g * 3.0 * x * x,)


def _cube_jvp(tangents, out, x):
    return tangents[0] * 3.0 * x * x


def _asin_mul_primal(a, b):
    return a * np.sin(b)


def _asin_mul_vjp(g, out, a, b):
    return g * np.sin(b), g * a * np.cos(b)


def _asin_mul_jvp(tangents, out, a, b):
    return tangents[0] * np.sin(b) + tangents[1] * a * np.cos(b)


def _half_primal(x):
    return 0.5 * x


def _half_vjp(g, out, x):
    return (0.5 * g,)


def _get(name, *fns):
    return ad.OPS[name] if name in ad.OPS else ad.custom_op(name, *fns)


def test_custom_op_unary():
    cube = _get("test_ops_cube", _cube_primal, _cube_vjp, _cube_jvp)
    x = uniform(rng_for("cube"), (2, 3))
    np.testing.assert_allclose(cube(x), x ** 3, rtol=1e-14)
    gradcheck(lambda t: cube(t), [x])
    gradcheck(lambda t: ad.sin(cube(t * 2.0)).sum(), [x])
    t = ad.tensor(x, requires_grad=True)
    y = cube(t)
    assert y.grad_fn.name() == "TestOpsCubeBackward"
    y.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), 3 * x ** 2, rtol=1e-14)
    d = cube(ad.dual(x, np.ones_like(x)))
    np.testing.assert_allclose(d.tangent, 3 * x ** 2, rtol=1e-14)
    # k directions at once
    d = cube(ad.dual(x[0], np.eye(3)))
    np.testing.assert_allclose(d.tangent, np.diag(3 * x[0] ** 2), rtol=1e-14)


def test_custom_op_binary():
    f = _get("test_ops_asin_mul", _asin_mul_primal, _asin_mul_vjp, _asin_mul_jvp)
    rng = rng_for("asin_mul")
    a, b = uniform(rng, (4,)), uniform(rng, (4,))
    np.testing.assert_allclose(f(a, b), a * np.sin(b), rtol=1e-14)
    gradcheck(lambda x, y: f(x, y), [a, b])
    gradcheck(lambda x: f(x, b), [a])  # one input constant (its tangent is None)
    gradcheck(lambda y: f(a, y), [b])


def test_custom_op_without_jvp_forward_mode_error():
    half = _get("test_ops_half_nojvp", _half_primal, _half_vjp)
    x = np.array([1.0, 2.0])
    gradcheck(lambda t: half(t), [x], check_forward=False)
    with pytest.raises(NotImplementedError, match="test_ops_half_nojvp.*forward mode"):
        half(ad.dual(x, np.ones(2)))


def test_custom_op_duplicate_name_rejected():
    _get("test_ops_cube", _cube_primal, _cube_vjp, _cube_jvp)
    with pytest.raises(ValueError, match="already registered"):
        ad.custom_op("test_ops_cube", _cube_primal, _cube_vjp)
    with pytest.raises(ValueError, match="already registered"):
        ad.custom_op("sin", _cube_primal, _cube_vjp)


# ---------------------------------------------------------------------------------------------
# large arrays: the fused numba kernels (size >= kernels.FUSE_MIN) give the NumPy path's values

# exp2, log2, log10: their partials use LN2 / LN10, which the hand-kept kernel header lacked
# (a numba NameError on arrays >= FUSE_MIN); the header is now derived from the formulas
LARGE_UNARY = ["sin", "exp", "tanh", "log", "sigmoid", "erf", "sqrt", "exp2", "log2", "log10"]
LARGE_BINARY = ["mul", "div", "pow", "maximum"]
N_LARGE = 5000


def _elementwise_fd(f, x, eps):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_large_unary_fused_path(dtype):
    assert N_LARGE >= kernels.FUSE_MIN
    for name in LARGE_UNARY:
        lo, hi, away = row_range(name)
        x = uniform(rng_for(("large", name)), (N_LARGE,), lo, hi, away)
        f = getattr(ad, name)
        # reference: small chunks take the NumPy path; all in float64
        ref = np.concatenate([_grad1(f, c) for c in np.array_split(x, 100)])
        assert ref.size == N_LARGE
        np.testing.assert_allclose(ref, _elementwise_fd(f, x, 1e-6), rtol=1e-6, atol=1e-8)
        t = ad.tensor(x.astype(dtype), requires_grad=True)
        f(t).backward(ad.ones(N_LARGE, dtype=dtype))
        assert t.grad.dtype == dtype, name
        tol = 1e-12 if dtype == np.float64 else 2e-6
        np.testing.assert_allclose(t.grad.numpy(), ref, rtol=tol, atol=tol, err_msg=name)
        # forward mode through the same kernels
        d = f(ad.dual(x, np.ones_like(x)))
        np.testing.assert_allclose(d.tangent, ref, rtol=1e-12, atol=1e-12, err_msg=name)
        assert f"{name}__d0" in kernels._built, name  # the fused kernel did run


def _grad1(f, x):
    t = ad.tensor(x, requires_grad=True)
    f(t).sum().backward()
    return t.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_large_binary_fused_path(dtype):
    for name in LARGE_BINARY:
        a, b = binary_inputs(name, (N_LARGE,), (N_LARGE,), "large")
        f = getattr(ad, name)
        ta = ad.tensor(a.astype(dtype), requires_grad=True)
        tb = ad.tensor(b.astype(dtype), requires_grad=True)
        f(ta, tb).backward(ad.ones(N_LARGE, dtype=dtype))
        ra = _elementwise_fd(lambda v: f(v, b), a, 1e-6)
        rb = _elementwise_fd(lambda v: f(a, v), b, 1e-6)
        tol = 1e-7 if dtype == np.float64 else 2e-5
        np.testing.assert_allclose(ta.grad.numpy(), ra, rtol=tol, atol=tol, err_msg=name)
        np.testing.assert_allclose(tb.grad.numpy(), rb, rtol=tol, atol=tol, err_msg=name)
        assert ta.grad.dtype == dtype and tb.grad.dtype == dtype
        # chunked (NumPy path) gives the same
        sa = ad.tensor(a[:50], requires_grad=True)
        sb = ad.tensor(b[:50], requires_grad=True)
        f(sa, sb).sum().backward()
        if dtype == np.float64:
            np.testing.assert_allclose(ta.grad.numpy()[:50], sa.grad.numpy(), rtol=1e-13)
            np.testing.assert_allclose(tb.grad.numpy()[:50], sb.grad.numpy(), rtol=1e-13)


def test_large_second_order_through_create_graph():
    x = uniform(rng_for("large-2nd"), (N_LARGE,), -2, 2)
    t = ad.tensor(x, requires_grad=True)
    (g,) = ad.autograd.grad(ad.sin(t).sum(), t, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), np.cos(x), rtol=1e-14)
    (h,) = ad.autograd.grad(g.sum(), t)
    np.testing.assert_allclose(h.numpy(), -np.sin(x), rtol=1e-14)


# ---------------------------------------------------------------------------------------------
# every op of API.md §2 exists (test_opinfo.py checks that every row is swept)

API_OPS = """sin cos tan arcsin arccos arctan sinh cosh tanh exp exp2 log log2 log10 log1p expm1
sqrt square abs sign sigmoid relu softplus erf add sub mul div pow maximum minimum where clip sum
mean prod max min norm var std logsumexp softmax log_softmax cumsum dot matmul outer trace
transpose reshape concatenate stack cat det logdet slogdet inv solve cholesky""".split()


def test_every_api_op_exists():
    for name in API_OPS:
        assert callable(getattr(ad, name)), name
