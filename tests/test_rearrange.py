"""Rearranging, repeating, diagonal, padding and cast functions (issue 11 part 3:
ops/rearrange.py, ops/tiling.py, ops/diagonals.py, ops/casts.py): values against NumPy itself on every sample of their
op-info domains (the sweep compares a composite with its own value on arrays), NumPy's
spellings on Tensors, duals and inside ad.jit, the methods, hand-known derivatives at
replaced values, and the clear errors."""
import warnings

import numpy as np
import pytest

import adjit as ad
from adjit.core.registry import CHECKED_COMPOSITES, OPS
from adjit.testing import opinfo

NAMES = ["swapaxes", "moveaxis", "rollaxis", "flip", "fliplr", "flipud", "rot90", "roll",
         "repeat", "tile", "ravel", "atleast_1d", "atleast_2d", "atleast_3d", "diag",
         "diagonal", "diagflat", "pad", "nan_to_num"]
ROWS = ["triu", "tril", "broadcast_to", "real", "imag", "conj"]


def _cases():
    ops = [CHECKED_COMPOSITES[n] for n in NAMES] + [OPS[n] for n in ROWS]
    return opinfo.cases(ops)


@pytest.mark.parametrize("case", _cases(), ids=repr)
def test_value_is_numpys(case):
    """NumPy's function on arrays, and adjit's public function and NumPy's spelling on
    Tensors that require grad and on duals, give the same values."""
    name, params, xs = case.op.name, case.sample.params, case.inputs
    want = getattr(np, name)(*xs, **params)
    got = getattr(ad, name)(*[ad.tensor(x, requires_grad=True) for x in xs], **params)
    assert got.shape == np.shape(want) and got.dtype == want.dtype
    np.testing.assert_array_equal(got.detach().numpy(), want)
    spelled = getattr(np, name)(*[ad.tensor(x, requires_grad=True) for x in xs], **params)
    np.testing.assert_array_equal(spelled.detach().numpy(), want)
    d = getattr(np, name)(*[ad.dual(x, np.ones_like(x)) for x in xs], **params)
    np.testing.assert_array_equal(d.primal, want)


def test_numpy_spellings_compile_under_jit_with_their_gradient():
    A = np.arange(12.0).reshape(3, 4) / 7.0 - 0.5
    w = np.cos(np.arange(200.0))

    def f(x):
        parts = [np.flip(x, 0), np.fliplr(x), np.rot90(x), np.roll(x, 1, axis=1),
                 np.repeat(x, 2, axis=0), np.repeat(x, [1, 0, 2], axis=0), np.tile(x, (1, 2)),
                 np.pad(x, 1, mode="reflect"), np.pad(x, ((0, 1), (2, 0)), constant_values=3.0),
                 np.diag(np.diag(x)), np.diagonal(x, 1), np.triu(x, 1), np.tril(x, -1),
                 np.swapaxes(x, 0, 1), np.moveaxis(x, 0, 1), np.nan_to_num(x / x),
                 np.broadcast_to(x, (2, 3, 4)), np.real(x), np.imag(x), np.conj(x),
                 np.ravel(x, order="F"), np.astype(x, np.float32).astype(np.float64)]
        return ad.concatenate([ad.ravel(p) for p in parts])

    def both(x):
        return f(x), ad.grad(lambda v: ad.sum(f(v)[:200] * w))(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)   # a fallback to eager fails
        got = ad.jit(both)(A)
    want = both(A)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-7, equal_nan=True)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-7)
    assert np.isnan(want[0]).sum() == 0   # 0/0 replaced by nan_to_num


def test_int_cast_compiles_and_carries_no_derivative():
    # before ops/casts.py, x.astype(int) inside ad.jit fell back to eager (np.asarray of a
    # tracer)
    x = np.array([1.7, -2.5, 0.2])

    def f(v):
        return v.astype(np.int64), ad.astype(v, bool), ad.sum(v * v.astype(np.int32))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        got = ad.jit(f)(x)
    np.testing.assert_array_equal(got[0], [1, -2, 0])
    np.testing.assert_array_equal(got[1], [True, True, True])
    assert got[0].dtype == np.int64 and got[1].dtype == bool
    # the integer factor is a constant of the derivative
    np.testing.assert_allclose(ad.grad(lambda v: f(v)[2])(x), [1.0, -2.0, 0.0])
    t = ad.tensor(x, requires_grad=True)
    i = t.astype(np.int64)
    assert isinstance(i, ad.Tensor) and not i.requires_grad and i.dtype == np.int64
    d = ad.dual(x, np.ones(3)).astype(np.int64)
    assert not isinstance(d, ad.Dual) and d.dtype == np.int64


def test_float_casts_differentiate_and_keep_dtype():
    x = np.array([0.5, -1.5], dtype=np.float32)
    g = ad.grad(lambda v: ad.sum(ad.astype(v, np.float64) ** 2))(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 2 * x)
    t = ad.tensor(x, requires_grad=True)
    assert t.astype(np.float32, copy=False) is t and ad.astype(t, np.float32, copy=False) is t
    assert t.astype(np.float32) is not t and t.float() is t   # NumPy's astype copies
    c = ad.astype(t, np.float32)   # copy=True: a new value, as NumPy
    assert c is not t and c.requires_grad
    assert np.astype(np.array([1.5]), np.int64).dtype == np.int64


def test_nan_to_num_derivative_is_zero_where_replaced():
    x = np.array([1.0, np.nan, np.inf, -np.inf, -2.0])
    y = ad.nan_to_num(ad.tensor(x), nan=0.5, posinf=7.0, neginf=-7.0)
    np.testing.assert_array_equal(y.numpy(), [1.0, 0.5, 7.0, -7.0, -2.0])
    g = ad.grad(lambda v: ad.sum(ad.nan_to_num(v, posinf=1.0, neginf=-1.0)
                                 * np.arange(1.0, 6.0)))(x)
    np.testing.assert_array_equal(g, [1.0, 0.0, 0.0, 0.0, 5.0])
    _, tan = ad.jvp(np.nan_to_num, (x,), (np.ones(5),))
    np.testing.assert_array_equal(tan, [1.0, 0.0, 0.0, 0.0, 1.0])
    f32 = ad.nan_to_num(ad.tensor(np.array([np.inf], dtype=np.float32)))
    assert f32.dtype == np.float32 and f32.numpy()[0] == np.finfo(np.float32).max
    # default replacements of float64, under ad.jit too (the masks are recomputed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        j = ad.jit(lambda v: np.nan_to_num(v))
        np.testing.assert_array_equal(j(x), np.nan_to_num(x))
        x2 = np.array([np.nan, 3.0, -np.inf, np.inf, np.nan])
        np.testing.assert_array_equal(j(x2), np.nan_to_num(x2))


def test_imag_of_real_input_has_zero_derivative_real_and_conj_one():
    x = np.array([1.0, np.inf, -2.0])
    np.testing.assert_array_equal(ad.grad(lambda v: ad.sum(ad.imag(v)))(x), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(ad.grad(lambda v: ad.sum(v.real + v.conj()))(x), [2.0] * 3)
    t = ad.tensor(x, requires_grad=True)
    assert t.imag.dtype == x.dtype and np.all(t.imag.detach().numpy() == 0)
    assert ad.conjugate is ad.conj


@pytest.mark.parametrize("fn", [lambda t: ad.nan_to_num(t),
                                lambda t: ad.astype(t, np.float64)])
def test_complex_input_raises_clearly(fn):
    t = ad.tensor(np.array([1.0 + 2.0j, 3.0]))
    with pytest.raises(TypeError, match="complex values are not supported yet"):
        fn(t)


@pytest.mark.parametrize("fn, want", [(ad.real, [1.0, 3.0]), (ad.imag, [2.0, 0.0]),
                                      (np.real, [1.0, 3.0]), (np.imag, [2.0, 0.0]),
                                      (np.conj, [1.0 - 2.0j, 3.0]),
                                      (lambda t: t.real, [1.0, 3.0]),
                                      (lambda t: t.imag, [2.0, 0.0])])
def test_complex_parts_of_tensors(fn, want):
    """real, imag and conj of complex Tensors are rows (ops/complex_rows.py, issue 13)."""
    t = ad.tensor(np.array([1.0 + 2.0j, 3.0]))
    np.testing.assert_array_equal(fn(t).numpy(), want)
    np.testing.assert_array_equal(ad.imag(np.array([1.0 + 2.0j])), [2.0])


def test_methods():
    x = np.arange(6.0).reshape(2, 3)
    t = ad.tensor(x, requires_grad=True)
    # ndarray's methods, with NumPy's signatures (t.repeat is np.repeat, not PyTorch's)
    np.testing.assert_array_equal(t.repeat(2).detach().numpy(), x.repeat(2))
    np.testing.assert_array_equal(t.repeat(2, axis=1).detach().numpy(), x.repeat(2, axis=1))
    np.testing.assert_array_equal(t.ravel().detach().numpy(), x.ravel())
    np.testing.assert_array_equal(t.swapaxes(0, 1).detach().numpy(), x.swapaxes(0, 1))
    np.testing.assert_array_equal(t.diagonal(1).detach().numpy(), x.diagonal(1))
    # PyTorch's, whose positional arguments agree with NumPy's functions
    np.testing.assert_array_equal(t.tile(2).detach().numpy(), np.tile(x, 2))
    np.testing.assert_array_equal(t.flip(1).detach().numpy(), np.flip(x, 1))
    np.testing.assert_array_equal(t.roll(1, 1).detach().numpy(), np.roll(x, 1, 1))
    np.testing.assert_array_equal(t.triu(1).detach().numpy(), np.triu(x, 1))
    np.testing.assert_array_equal(t.tril(-1).detach().numpy(), np.tril(x, -1))
    np.testing.assert_array_equal(t.rot90(1, (0, 1)).detach().numpy(), np.rot90(x))
    np.testing.assert_array_equal(t.moveaxis(0, 1).detach().numpy(), np.moveaxis(x, 0, 1))
    d = ad.dual(x, np.ones_like(x))
    np.testing.assert_array_equal(d.flip(0).primal, np.flip(x, 0))
    np.testing.assert_array_equal(d.fliplr().tangent, np.ones_like(x))


def test_hand_known_derivatives():
    x = np.array([1.0, 2.0, 3.0])
    # each entry repeated twice: every derivative is 2; tiled three times: 3
    np.testing.assert_array_equal(ad.grad(lambda v: ad.sum(ad.repeat(v, 2)))(x), [2.0] * 3)
    np.testing.assert_array_equal(ad.grad(lambda v: ad.sum(ad.tile(v, (2, 3))))(x), [6.0] * 3)
    # reflect: pad [3, 2 | 1 2 3 | 2 1] reads x[2], x[1], x, x[1], x[0]
    np.testing.assert_array_equal(
        ad.grad(lambda v: ad.sum(ad.pad(v, 2, mode="reflect")))(x), [2.0, 3.0, 2.0])
    np.testing.assert_array_equal(
        ad.grad(lambda v: ad.sum(ad.pad(v, (1, 3), mode="edge")))(x), [2.0, 1.0, 4.0])
    # a differentiated constant value: its derivative is the number of padded entries
    g = ad.grad(lambda c: ad.sum(ad.pad(ad.tensor(np.ones((2, 2))), 1, constant_values=c)))(0.5)
    assert g == 12.0
    # wide reflections repeat the mirror, as NumPy
    np.testing.assert_array_equal(ad.pad(ad.tensor(x), 7, mode="reflect").numpy(),
                                  np.pad(x, 7, mode="reflect"))
    # tril / triu of a vector: every row of a square matrix (NumPy's convention)
    np.testing.assert_array_equal(ad.triu(ad.tensor(x), 1).numpy(), np.triu(x, 1))
    np.testing.assert_array_equal(ad.grad(lambda v: ad.sum(ad.tril(v)))(x), [3.0, 2.0, 1.0])
    # diag of a vector with an offset and back
    m = ad.diag(ad.tensor(x), -1)
    np.testing.assert_array_equal(m.numpy(), np.diag(x, -1))
    np.testing.assert_array_equal(ad.diag(m, -1).numpy(), x)
    # atleast_* of several inputs: a tuple
    a, b = ad.atleast_2d(ad.tensor(1.0), ad.tensor(x))
    assert a.shape == (1, 1) and b.shape == (1, 3)


@pytest.mark.parametrize("call,err,match", [
    (lambda t: ad.fliplr(t[0]), ValueError, ">= 2-d"),
    (lambda t: ad.flip(t, 2), np.exceptions.AxisError, "axis 2 is out of bounds"),
    (lambda t: ad.moveaxis(t, (0, 1), 0), ValueError, "same number of elements"),
    (lambda t: ad.swapaxes(t, 0, -3), np.exceptions.AxisError, "out of bounds"),
    (lambda t: ad.rot90(t, axes=(1, 1)), ValueError, "axes must be different"),
    (lambda t: ad.repeat(t, -1), ValueError, "negative repeats"),
    (lambda t: ad.repeat(t, [1, 2], axis=1), ValueError, "2 repeats for an axis of length 3"),
    (lambda t: ad.tile(t, (2, -1)), ValueError, "negative"),
    (lambda t: ad.ravel(t, order="K"), ValueError, "memory layout"),
    (lambda t: ad.diag(ad.reshape(t, (1, 2, 3))), ValueError, "1-d or 2-d"),
    (lambda t: ad.diagonal(t, axis1=1, axis2=-1), ValueError, "cannot be the same"),
    (lambda t: ad.pad(t, 1, mode="median"), NotImplementedError, "mode='median'"),
    (lambda t: ad.pad(t, -1), ValueError, "negative"),
    (lambda t: ad.pad(t, 1.5), TypeError, "integers"),
    (lambda t: ad.pad(t, ((1, 2), (3, 4), (5, 6))), ValueError, "one \\(before, after\\)"),
    (lambda t: ad.pad(t[:0], 1, mode="edge"), ValueError, "empty axis 0"),
    (lambda t: ad.nan_to_num(t, copy=False), TypeError, "in place"),
    (lambda t: ad.triu(t[0, 0]), ValueError, "0-d"),
])
def test_clear_errors(call, err, match):
    t = ad.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(err, match=match):
        call(t)


VMAPPED = [lambda x: np.flip(x, 1), lambda x: np.roll(x, 2), np.rot90,
           lambda x: np.pad(x, ((1, 0), (2, 1)), constant_values=2.0),
           lambda x: np.pad(x, 2, mode="reflect"), lambda x: np.diag(np.diag(x, 1)),
           lambda x: np.tile(x, (2, 1, 2)), lambda x: np.repeat(x, [1, 2, 0], axis=0),
           np.nan_to_num, lambda x: np.triu(x, 1), lambda x: x.astype(np.int64), np.imag,
           lambda x: np.diagonal(x, 1), np.atleast_3d, lambda x: np.moveaxis(x, 0, 1),
           lambda x: np.ravel(x, order="F")]


@pytest.mark.parametrize("k", range(len(VMAPPED)))
def test_vmap(k):
    f = VMAPPED[k]
    X = np.arange(24.0).reshape(2, 3, 4) / 5 - 1
    X[0, 0, 0], X[1, 1, 1] = np.nan, np.inf
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(np.asarray(ad.vmap(f)(X)), np.stack([f(x) for x in X]))


def test_integer_values_keep_their_dtype():
    x = np.arange(6).reshape(2, 3)
    for f in (lambda v: np.diag(v[0], 1), np.diagflat, lambda v: np.pad(v, 1), np.imag,
              lambda v: np.tile(v, 2), lambda v: np.repeat(v, 2), np.triu, np.flip):
        got = f(ad.tensor(x))
        assert got.dtype == f(x).dtype
        np.testing.assert_array_equal(got.numpy(), f(x))


def test_pytorch_repeat_is_tile_and_says_so():
    t = ad.tensor(np.ones((2, 2)))
    with pytest.raises(np.exceptions.AxisError, match="PyTorch's Tensor.repeat.*tile"):
        t.repeat(2, 3)
    assert t.tile((2, 3)).shape == (4, 6)
