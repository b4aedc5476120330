"""Joining, splitting and selecting (issue 11, ops/joins.py and ops/selection.py): what the
op-info sweep cannot express (lists of pieces, in-place NumPy spellings, r_/c_, repeated
indices, errors), and ad.jit with index arrays as closure constants and as arguments."""
import doctest
import warnings

import numpy as np
import pytest

import adjit as ad
from adjit.core.registry import CHECKED_COMPOSITES
from adjit.testing import opinfo

X = np.arange(12.0).reshape(3, 4) * 0.5 - 1.0


def leaf(x=X):
    return ad.tensor(x, requires_grad=True)


def grad_of(f, x=X):
    """The gradient of sum(w * f(x)) for uneven weights w = cos(0, 1, 2 ...)."""
    w = np.cos(np.arange(np.size(f(x)))).reshape(np.shape(f(x)))
    return ad.grad(lambda v: ad.sum(f(v) * w))(x)


# ---------------------------------------------------------------------------------------------
# splitting: lists of Tensors


@pytest.mark.parametrize("fn,arg,kw", [
    (np.split, 2, {"axis": 1}), (np.split, [1, 3], {}), (np.array_split, 3, {"axis": 1}),
    (np.array_split, [-1, 9], {"axis": -1}), (np.hsplit, [1], {}), (np.vsplit, 3, {}),
])
def test_split_pieces_as_numpy(fn, arg, kw):
    want = fn(X, arg, **kw)
    for got in (fn(ad.tensor(X), arg, **kw), getattr(ad, fn.__name__)(ad.tensor(X), arg, **kw)):
        assert isinstance(got, list) and len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w)
    duals = fn(ad.dual(X, np.ones_like(X)), arg, **kw)
    assert [d.primal.shape for d in duals] == [w.shape for w in want]


def test_dsplit_and_one_piece_gradient():
    x3 = np.arange(8.0).reshape(1, 2, 4)
    assert [p.shape for p in np.dsplit(ad.tensor(x3), [1, 3])] == [(1, 2, 1), (1, 2, 2), (1, 2, 1)]
    # only the second piece is used: its region gets the gradient, the rest zero
    g = ad.grad(lambda v: ad.sum(np.split(v, [1, 3], axis=1)[1] ** 2))(X)
    want = np.zeros_like(X)
    want[:, 1:3] = 2 * X[:, 1:3]
    np.testing.assert_allclose(g, want)


@pytest.mark.parametrize("call,match", [
    (lambda t: ad.split(t, 5, axis=1), "equal"),
    (lambda t: ad.split(t, 0), "larger than 0"),
    (lambda t: ad.split(t[0, 0], 1), "0-d"),
    (lambda t: ad.vsplit(t[0], 2), "2 or more dimensions"),
    (lambda t: ad.dsplit(t, 2), "3 or more dimensions"),
    (lambda t: ad.split(t, 2, axis=2), "axis 2 is out of bounds"),
    (lambda t: ad.split(t, [leaf(np.array(1.0))]), "constant integer array"),
])
def test_split_errors(call, match):
    with pytest.raises((ValueError, TypeError, IndexError), match=match):
        call(leaf())


# ---------------------------------------------------------------------------------------------
# stacking and append


def test_row_stack_is_vstack():
    assert ad.row_stack is ad.vstack
    a, b = np.ones(3), np.arange(3.0)
    if hasattr(np, "row_stack"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            got = np.row_stack([leaf(a), b])
        np.testing.assert_array_equal(got.detach().numpy(), np.vstack([a, b]))


def test_stacks_of_mixed_inputs_and_gradient():
    t = leaf(np.arange(3.0))
    got = np.column_stack([t, [1.0, 2.0, 3.0], t * 2])
    want = np.column_stack([np.arange(3.0), [1.0, 2, 3], np.arange(3.0) * 2])
    np.testing.assert_array_equal(got.detach().numpy(), want)
    ad.sum(got * np.arange(9.0).reshape(3, 3)).backward()
    np.testing.assert_allclose(t.grad, [0 + 2 * 2, 3 + 5 * 2, 6 + 8 * 2])
    with pytest.raises(ValueError, match="at least one array"):
        ad.hstack([])


def test_append_flattens_without_axis():
    got = np.append(ad.tensor(X), ad.tensor([[7.0]]))
    np.testing.assert_array_equal(got.numpy(), np.append(X, [[7.0]]))
    g = grad_of(lambda v: ad.append(v, v[:, :1], axis=1))
    want = np.cos(np.arange(15)).reshape(3, 5)
    np.testing.assert_allclose(g, want[:, :4] + np.pad(want[:, 4:], ((0, 0), (0, 3))))


# ---------------------------------------------------------------------------------------------
# take, take_along_axis, put_along_axis


@pytest.mark.parametrize("idx,kw", [
    (np.array([[5, -1], [2, 13]]), {"mode": "wrap"}), (np.array([5, -1, 2]), {"mode": "clip"}),
    (np.array([-1, 0]), {"axis": 0}), (7, {}), ([1, 1, 2], {"axis": -1, "mode": "wrap"}),
])
def test_take_modes(idx, kw):
    np.testing.assert_array_equal(np.take(ad.tensor(X), idx, **kw).numpy(), np.take(X, idx, **kw))


def test_take_repeated_indices_add_up():
    g = ad.grad(lambda v: ad.sum(ad.take(v, [1, 1, -1, 13], mode="wrap")))(X)
    want = np.zeros(X.size)
    want[[1, 11]] = [3.0, 1.0]
    np.testing.assert_array_equal(g, want.reshape(X.shape))


def test_take_errors():
    t = leaf()
    with pytest.raises(IndexError, match="index 12 is out of bounds for axis 0 with size 12"):
        ad.take(t, [12])
    with pytest.raises(TypeError, match="must be integers"):
        ad.take(t, [1.0])
    with pytest.raises(TypeError, match="constant integer array"):
        ad.take(t, leaf(np.array([1.0])))
    with pytest.raises(ValueError, match="mode must be"):
        ad.take(t, [1], mode="nearest")
    with pytest.raises(TypeError, match="out="):
        np.take(t, [1], out=np.zeros(1))
    assert t.take([2, 3]).tolist() == [0.0, 0.5]   # the Tensor method: the flattened array


def test_take_along_axis_with_argsort():
    x = np.array([[0.3, -1.2, 2.0], [1.5, 0.1, -0.7]])
    order = np.argsort(x, axis=1)
    got = np.take_along_axis(ad.tensor(x), order, axis=1)
    np.testing.assert_array_equal(got.numpy(), np.sort(x, axis=1))
    w = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    g = ad.grad(lambda v: ad.sum(ad.take_along_axis(v, order, axis=1) * w))(x)
    want = np.empty_like(x)
    np.put_along_axis(want, order, w, axis=1)
    np.testing.assert_allclose(g, want)
    with pytest.raises(ValueError, match="same number of dimensions"):
        ad.take_along_axis(ad.tensor(x), np.array([0, 1]), axis=1)
    with pytest.raises(IndexError, match="out of bounds"):
        ad.take_along_axis(ad.tensor(x), np.array([[3]]), axis=1)


def test_put_along_axis_is_functional_and_last_write_wins():
    idx = np.array([[1, 1, 3], [0, 0, 0], [2, 3, 2]])
    vals = np.array([[10.0, 20.0, 30.0], [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    want = X.copy()
    np.put_along_axis(want, idx, vals, axis=1)
    arr = leaf()
    got = ad.put_along_axis(arr, idx, vals, axis=1)
    np.testing.assert_array_equal(got.detach().numpy(), want)
    np.testing.assert_array_equal(arr.detach().numpy(), X)   # not written into
    # only the last value written to a position has a derivative, as only it is in the result
    gv = ad.grad(lambda v: ad.sum(ad.put_along_axis(X, idx, v, axis=1)))(vals)
    np.testing.assert_array_equal(gv, [[0, 1, 1], [0, 0, 1], [0, 1, 1]])
    ga = ad.grad(lambda a: ad.sum(ad.put_along_axis(a, idx, vals, axis=1)))(X)
    np.testing.assert_array_equal(ga, want == X)
    # axis=None: positions of the flattened array
    np.testing.assert_array_equal(ad.put_along_axis(X, np.array([4, -1]), [7.0, 8.0], None),
                                  np.where(np.arange(12).reshape(3, 4) == 4, 7.0,
                                           np.where(np.arange(12).reshape(3, 4) == 11, 8.0, X)))


def test_np_put_along_axis_writes_into_tensors_duals_and_tracers():
    idx = np.array([[2], [0], [3]])
    want = X.copy()
    np.put_along_axis(want, idx, -5.0, axis=1)
    t = leaf()
    y = t * 1.0
    assert np.put_along_axis(y, idx, -5.0, axis=1) is None   # as NumPy: in place
    np.testing.assert_array_equal(y.detach().numpy(), want)
    y.sum().backward()
    np.testing.assert_array_equal(t.grad, want != -5.0)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        np.put_along_axis(leaf(), idx, -5.0, axis=1)   # as PyTorch's in-place on a leaf
    with pytest.raises(TypeError, match="ad.put_along_axis"):
        np.put_along_axis(X.copy(), idx, leaf(np.ones((3, 1))), axis=1)
    def buffer(v):   # ad.zeros inside ad.grad is a tensor of the outer level
        y = ad.zeros((3, 4))
        np.put_along_axis(y, idx, v, axis=1)
        return ad.sum(y)
    with pytest.raises(TypeError, match="inner transform"):
        ad.grad(buffer)(np.ones((3, 1)))
    np.testing.assert_array_equal(ad.grad(lambda v: ad.sum(ad.put_along_axis(
        ad.zeros((3, 4)), idx, v, axis=1)))(np.ones((3, 1))), np.ones((3, 1)))
    plain = X.copy()
    np.put_along_axis(plain, idx, ad.tensor(-5.0), axis=1)   # a constant: NumPy writes it
    np.testing.assert_array_equal(plain, want)

    def f(v):
        y = v * 2.0
        np.put_along_axis(y, idx, v[:, :1], axis=1)
        return y
    d = f(ad.dual(X, np.ones_like(X)))
    np.testing.assert_array_equal(d.primal, f(ad.tensor(X)).numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)   # compiles: no fallback
        np.testing.assert_allclose(ad.jit(f)(X), d.primal)


# ---------------------------------------------------------------------------------------------
# select, choose, compress


def test_select_first_condition_wins():
    x = np.array([-1.5, 0.5, 3.0, 1.2])
    def f(v):
        return np.select([v < 0, v > 1, v > 2], [-v, v * 2, v * 10], default=v ** 2)
    np.testing.assert_array_equal(f(ad.tensor(x)).numpy(), f(x))
    np.testing.assert_allclose(ad.grad(lambda v: ad.sum(f(v)))(x), [-1.0, 1.0, 2.0, 2.0])
    with pytest.raises(TypeError, match="boolean"):
        ad.select([np.array([1, 0])], [ad.ones(2)])
    with pytest.raises(ValueError, match="same length"):
        ad.select([np.array([True])], [])


def test_choose_modes_and_errors():
    a = np.array([[0, 1, 2], [2, 1, 0]])
    c = [np.full((2, 3), 1.0), np.arange(6.0).reshape(2, 3), np.array([7.0, 8.0, 9.0])]
    np.testing.assert_array_equal(np.choose(a, [ad.tensor(v) for v in c]).numpy(), np.choose(a, c))
    for mode in ("wrap", "clip"):
        b = np.array([3, -1, 5])
        np.testing.assert_array_equal(ad.choose(b, [ad.tensor(v) for v in c], mode=mode).numpy(),
                                      np.choose(b, c, mode=mode))
    g = ad.grad(lambda v: ad.sum(ad.choose(a, [v, v * 3.0, 0.0])))(np.ones((2, 3)))
    np.testing.assert_array_equal(g, np.choose(a, [1.0, 3.0, 0.0]))
    # one choice: the result still has a's shape
    assert ad.choose(np.zeros((2, 3), int), [ad.tensor(2.0)]).shape == (2, 3)
    with pytest.raises(ValueError, match="invalid entry"):
        ad.choose([0, 3], c[:2])
    with pytest.raises(TypeError, match="constant integer array"):
        ad.choose(leaf(np.array([0.0])), c)


def test_compress():
    cond = [False, True, True]
    np.testing.assert_array_equal(np.compress(cond, ad.tensor(X), axis=0).numpy(),
                                  np.compress(cond, X, axis=0))
    np.testing.assert_array_equal(ad.compress(cond, ad.tensor(X)).numpy(), np.compress(cond, X))
    g = ad.grad(lambda v: ad.sum(ad.compress(cond, v, axis=1)))(X)
    np.testing.assert_array_equal(g, np.broadcast_to([0.0, 1.0, 1.0, 0.0], X.shape))
    with pytest.raises(ValueError, match="1-d"):
        ad.compress([[True]], X)
    with pytest.raises(IndexError, match="out of bounds"):
        ad.compress([False, False, False, True], ad.tensor(X), axis=0)


# ---------------------------------------------------------------------------------------------
# r_ and c_


@pytest.mark.parametrize("key", [
    lambda m: m[np.ones(2), 3, 0:2], lambda m: m[0:1:5j, np.zeros(1)],
    lambda m: m["0,2", np.ones(3), np.arange(3.0)], lambda m: m["1,2,0", np.ones(3), np.ones(3)],
    lambda m: m["-1", np.ones((2, 2)), np.zeros((2, 1))],
    lambda m: m[np.ones(2, np.float32), 1.5],
])
@pytest.mark.parametrize("which", ["r_", "c_"])
def test_r_c_values_as_numpy(key, which):
    try:
        want = key(getattr(np, which))
    except ValueError:
        with pytest.raises(ValueError):
            key(getattr(ad, which))
        return
    got = key(getattr(ad, which))
    assert np.asarray(got).dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_r_c_differentiate():
    x = np.array([1.0, 2.0])
    f = lambda v: ad.r_[v, 0.5, 1:3, v * 2]  # noqa: E731
    np.testing.assert_array_equal(f(ad.tensor(x)).numpy(), np.r_[x, 0.5, 1:3, x * 2])
    np.testing.assert_allclose(ad.grad(lambda v: ad.sum(f(v) * np.arange(7.0)))(x),
                               [0 + 2 * 5, 1 + 2 * 6])
    j = ad.jacfwd(lambda v: ad.c_[v, v ** 2])(x)
    np.testing.assert_allclose(j, [[[1, 0], [2, 0]], [[0, 1], [0, 4]]])
    with pytest.raises(NotImplementedError, match="matrix"):
        ad.r_["r", x]


def test_r_c_docstring_examples_run():
    # r_ and c_ are objects, not functions: test_docs finds their docstring but runs only
    # callables' examples
    runner = doctest.DocTestRunner()
    for t in doctest.DocTestFinder().find(type(ad.r_), "r_", globs={"ad": ad}):
        runner.run(t)
    assert runner.failures == 0 and runner.tries >= 3


def test_np_r_on_differentiated_values_raises_not_detaches():
    for v in (leaf(np.ones(2)), ad.dual(np.ones(2), np.ones(2))):
        with pytest.raises(TypeError, match="adjit"):
            np.r_[v, v]
        with pytest.raises(TypeError, match="adjit"):
            np.c_[v, 1.0]
    # a constant tensor is a constant: NumPy's r_ reads it
    np.testing.assert_array_equal(np.r_[ad.tensor([1.0]), 2.0], [1.0, 2.0])


# ---------------------------------------------------------------------------------------------
# ad.jit: index arrays as closure constants compile; as jit arguments they run eagerly


def _uses_all(v, i_take, i_along, a_choose, mask):
    parts = np.split(v, 2, axis=1)
    y = np.take(v, i_take, axis=1) * 2.0
    z = np.take_along_axis(v, i_along, axis=1)
    c = np.choose(a_choose, [v, parts[0].sum() * v])
    s = np.select([mask[None, :] > 0], [v], default=-v)
    return (ad.sum(y ** 2) + ad.sum(z * 3.0) + ad.sum(c) + ad.sum(s * s)
            + ad.sum(np.compress(mask, v, axis=1) ** 3) + ad.sum(ad.r_[parts[1][0], 2.0] ** 2)
            + ad.sum(np.select([v < 0.25], [v * 2.0], default=v)))   # a traced condition


IT, IA = np.array([[0, 3], [3, 1]]), np.array([[1], [0], [3]])
AC, MK = (X > 0).astype(int), np.array([True, False, True, True])


def test_jit_with_index_arrays_as_closure_constants():
    f = lambda v: _uses_all(v, IT, IA, AC, MK)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)   # any fallback to eager fails
        val, g = ad.jit(ad.value_and_grad(f))(X)
    val0, g0 = ad.value_and_grad(f)(X)
    np.testing.assert_allclose(val, val0)
    np.testing.assert_allclose(g, g0)
    assert ad.gradcheck(f, (X,), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_jit_with_index_arrays_as_arguments():
    # issue 12: an integer index-array argument is not compiled yet; ad.jit says so in a
    # RuntimeWarning naming the workaround and runs eagerly, with the right values
    jf = ad.jit(ad.grad(_uses_all))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        g = jf(X, IT, IA, AC, MK)
    np.testing.assert_allclose(g, ad.grad(_uses_all)(X, IT, IA, AC, MK))
    assert all("index array" in str(w.message) for w in caught), [str(w.message) for w in caught]


# ---------------------------------------------------------------------------------------------
# the NumPy spellings on duals and inside ad.jit (the op-info sweep checks them on Tensors)

MINE = ["split", "array_split", "hsplit", "vsplit", "dsplit", "hstack", "vstack", "dstack",
        "column_stack", "append", "take", "take_along_axis", "select", "choose", "compress"]


@pytest.mark.parametrize("case", opinfo.cases([CHECKED_COMPOSITES[n] for n in MINE]), ids=repr)
def test_numpy_spelling_on_duals(case):
    call = case.sample.call or (lambda f, *a, **p: f(*a, **p))
    rng = np.random.default_rng(0)
    duals = [ad.dual(x, rng.normal(size=x.shape)) for x in case.inputs]
    want = case.fn(*duals)
    for f in case.op.numpy:
        got = call(f, *duals, **case.sample.params)
        np.testing.assert_array_equal(got.primal, want.primal)
        np.testing.assert_array_equal(got.tangent, want.tangent)


def test_numpy_spellings_compile():
    def f(v):
        a, b = np.hsplit(v, 2)
        c = np.vsplit(v, [1])[1]
        d = np.dsplit(np.dstack([v, a.sum() * v]), 2)[1]
        e = np.array_split(v.reshape(-1), 5)[2]
        s = np.hstack([a, b]) * np.vstack([c, v[:1]]) + np.column_stack([a, b])
        return ad.sum(s ** 2) + ad.sum(d ** 3) + ad.sum(np.append(e, v[0]) ** 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)   # any fallback to eager fails
        val, g = ad.jit(ad.value_and_grad(f))(X)
    val0, g0 = ad.value_and_grad(f)(X)
    np.testing.assert_allclose(val, val0)
    np.testing.assert_allclose(g, g0)
    assert ad.gradcheck(f, (X,), eps=1e-6, atol=1e-5, rtol=1e-3)
