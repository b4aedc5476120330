"""Regression tests for silently wrong numbers found by sweeping small NumPy programs through
every mode (grad, jacfwd, jacrev, hessian, Tensor.backward, jit, vmap) against NumPy and
central differences: one test per defect, asserting the reference value or the clear error."""
import warnings

import numpy as np
import pytest

import adjit as ad


def fd_jac(f, x, eps=1e-6):
    """Central-difference Jacobian of f at x: shape f(x).shape + x.shape."""
    x = np.asarray(x, dtype=float)
    y0 = np.asarray(f(x), dtype=float)
    J = np.zeros(y0.shape + x.shape)
    for j in np.ndindex(*x.shape):
        e = np.zeros(x.shape)
        e[j] = eps
        J[(Ellipsis,) + j] = (np.asarray(f(x + e), float) - np.asarray(f(x - e), float)) / (2 * eps)
    return J


def every_reverse_mode(f, x):
    """The gradient of sum(f) by ad.grad, ad.jacrev, Tensor.backward, ad.jit(ad.grad) and
    ad.vmap(ad.grad) (one row)."""
    def loss(v):
        return ad.sum(f(v))
    t = ad.tensor(x.copy(), requires_grad=True)
    f(t).sum().backward()
    return {"grad": ad.grad(loss)(x.copy()),
            "jacrev": ad.jacrev(f)(x.copy()).reshape(-1, x.size).sum(0).reshape(x.shape),
            "tensor": t.grad.numpy(),
            "jit(grad)": ad.jit(ad.grad(loss))(x.copy()),
            "vmap(grad)": ad.vmap(ad.grad(loss))(x[None].copy())[0]}


# ---------------------------------------------------------------------------------------------
# a[idx] = v with a repeated index: NumPy keeps the last write, so only that entry of v (and
# none of a's old value there) reaches the output; the VJP gave every repeated entry g.

def _setitem_repeated(a):
    b = a * 1.0
    b[[0, 0, 1]] = a[[3, 4, 5]]
    return b


def _iadd_repeated(a):
    b = a * 1.0
    b[[0, 0]] += a[1:3]            # NumPy: b[0] = a[0] + a[2] (no accumulation)
    return b


def _iadd_repeated_columns(a):
    b = a.reshape(2, 3) * 1.0
    b[:, [0, 0]] += a[:2, None]
    return b


def _negative_alias(a):
    b = a * 1.0
    b[[-1, 5]] = a[[0, 1]]         # -1 and 5 are one entry
    return b


@pytest.mark.parametrize("f", [_setitem_repeated, _iadd_repeated, _iadd_repeated_columns,
                               _negative_alias])
def test_setitem_repeated_index_gradient_follows_last_write(f):
    x = np.random.default_rng(0).uniform(0.3, 1.7, 6)
    ref = fd_jac(lambda v: np.sum(f(v)), x)
    for mode, got in every_reverse_mode(f, x).items():
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-8, err_msg=mode)
    np.testing.assert_allclose(ad.jacrev(f)(x), fd_jac(f, x), atol=1e-8)


# ---------------------------------------------------------------------------------------------
# copies: x.astype(x.dtype) returned x itself (NumPy's astype copies), so a write into the
# "copy" changed x; x.copy() and np.copy(x) were missing on duals, ad.jit's tracers and
# ad.vmap's values (AttributeError / not differentiable); the copy was a reshape linked as a
# view, so writing into it raised.

def _astype_then_write(a):
    a = a * 1.0
    b = a.astype(np.float64)
    b[0] = 3.0
    return b * a


def _copy_then_write(a):
    b = a.copy()
    b[0] = 3.0
    return b * a


def _np_copy_then_write(a):
    b = np.copy(a)
    b[1] += a[2]
    return b * a


@pytest.mark.parametrize("f", [_astype_then_write, _copy_then_write, _np_copy_then_write])
def test_copies_are_new_values_in_every_mode(f):
    x = np.array([0.7, 1.3, 1.9])
    y, J = f(x.copy()), fd_jac(f, x)
    t = ad.tensor(x.copy(), requires_grad=True)
    np.testing.assert_allclose(f(t).detach().numpy(), y)
    np.testing.assert_allclose(ad.jit(f)(x.copy()), y)
    np.testing.assert_allclose(ad.vmap(f)(np.stack([x, x])), np.stack([y, y]))
    np.testing.assert_allclose(ad.jacfwd(f)(x.copy()), J, atol=1e-8)
    np.testing.assert_allclose(ad.jit(ad.jacfwd(f))(x.copy()), J, atol=1e-8)
    for mode, got in every_reverse_mode(f, x).items():
        np.testing.assert_allclose(got, J.sum(0), atol=1e-8, err_msg=mode)


# ---------------------------------------------------------------------------------------------
# ad.vmap: a mask made from a batched value, or a NumPy function without a row, raised an
# AttributeError on an internal name ('Batched' object has no attribute 'index_value').

def test_vmap_batched_mask_and_numpy_function_without_row_raise_clearly():
    xs = np.array([[0.5, 1.5, 1.2], [1.1, 0.2, 0.9]])

    def masked(a):
        b = a * 1.0
        b[a > 1.0] = 0.0
        return b
    with pytest.raises(TypeError, match="adjit.vmap: an index.*ad.where"):
        ad.vmap(masked)(xs)
    with pytest.raises(TypeError, match="adjit.vmap: np.add.at .*has no adjit row"):
        ad.vmap(lambda a: np.add.at(a, [0, 0], 1.0))(xs)
    np.testing.assert_allclose(ad.vmap(lambda a: ad.where(a > 1.0, 0.0, a))(xs),
                               np.where(xs > 1.0, 0.0, xs))


def test_numpy_function_without_row_that_fails_on_vmap_stand_ins_raises_clearly():
    # np.linalg.eigvals has no row: adjit called it on ad.vmap's NaN stand-ins to see whether
    # its result carries a derivative, and NumPy's LinAlgError ("must not contain infs or
    # NaNs") came out
    xs = np.random.default_rng(0).uniform(0.3, 1.7, (3, 4))

    def f(a):
        return ad.sum(np.linalg.eigvals(a.reshape(2, 2) + np.diag([0, 3.0])).real)
    with pytest.raises(TypeError, match="adjit.vmap: np.linalg.eigvals"):
        ad.vmap(ad.grad(f))(xs)
    with pytest.raises(TypeError, match="np.linalg.eigvals is not differentiable"):
        ad.grad(f)(xs[0])


def test_floor_division_operator_on_wrappers():
    # x // y raised "unsupported operand type(s) for //: 'Tracer' and 'int'" (np.floor_divide
    # worked): now the operator is np.floor_divide, in every mode
    ints = np.array([4, 5, -7])
    np.testing.assert_array_equal(ad.jit(lambda v: v * 2 // 3)(ints), ints * 2 // 3)
    np.testing.assert_array_equal(np.asarray(ad.tensor(ints) // 2), ints // 2)
    np.testing.assert_array_equal(np.asarray(7 // ad.tensor(ints)), 7 // ints)
    with pytest.raises(TypeError, match="np.floor_divide is not differentiable"):
        ad.grad(lambda v: ad.sum(v - v // 0.5 * 0.5))(np.array([0.7, 1.3]))


# ---------------------------------------------------------------------------------------------
# a[idx] = v stores v in a's dtype, as NumPy: a float written into an integer array is
# truncated (ad.jit and ad.vmap gave [4.05, 2.17, 2.79] for NumPy's [4, 2, 2]; Tensors raised
# "NumPy and PyTorch raise too"), and a float64 written into a float32 array stays float32.

def _int_buffer(a):
    b = (a * 0).astype(np.int64)
    b[0] = a[0] * 2.7
    b[1:] = a[1:] * 3.1
    return b * 1.0


def _float32_buffer(a):
    b = (a * 1.0).astype(np.float32)
    b[1] = a[2]
    b[[0, 2]] = np.array([0.1, 0.3])
    return b


def test_setitem_casts_to_the_arrays_dtype():
    x = np.array([1.5, 0.7, 0.9])
    y = _int_buffer(x)
    t = ad.tensor(x, requires_grad=True)
    np.testing.assert_array_equal(_int_buffer(t).detach().numpy(), y)
    np.testing.assert_array_equal(ad.jit(_int_buffer)(x), y)
    np.testing.assert_array_equal(ad.vmap(_int_buffer)(x[None])[0], y)
    np.testing.assert_array_equal(ad.grad(lambda v: ad.sum(_int_buffer(v)))(x), np.zeros(3))
    y32 = _float32_buffer(x)
    assert y32.dtype == np.float32
    for got in (_float32_buffer(ad.tensor(x, requires_grad=True)).detach().numpy(),
                ad.jit(_float32_buffer)(x), ad.vmap(_float32_buffer)(x[None])[0],
                ad.jvp(_float32_buffer, (x,), (np.ones(3),))[0]):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, y32)
    np.testing.assert_allclose(ad.jacfwd(_float32_buffer)(x), [[0, 0, 0], [0, 0, 1], [0, 0, 0]])
    np.testing.assert_allclose(ad.grad(lambda v: ad.sum(_float32_buffer(v)))(x), [0, 0, 1])


def test_tensor_inplace_operator_keeps_the_dtype():
    # b += a with a float32 b and a float64 a: NumPy (and duals, tracers) keep float32; a
    # Tensor became float64
    def g(a):
        b = (a * 1.0).astype(np.float32)
        b += a
        b *= a
        assert b.dtype == np.float32
        return b
    x = np.array([1.5, 0.7, 0.9])
    y = g(x)
    got = g(ad.tensor(x, requires_grad=True))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got.detach().numpy(), y)
    np.testing.assert_allclose(ad.grad(lambda v: ad.sum(g(v)))(x), 4 * x, rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# A view of a temporary view: b[1:][::2][0] = v writes into b in NumPy. The view held its base
# by a weak reference, so the temporary b[1:] was gone and the write was lost (b unchanged, in
# every mode); through a temporary reshape (b.reshape(2, 3)[0][1] = v) it was lost too, where
# a write into the reshape itself raises adjit's clear error.

def _chained_view_write(a):
    b = a * 1.0
    b[1:][::2][0] = 7.0 * a[0]
    b[::-1][1:4][::2][1] *= a[1]
    return b


def test_write_through_a_view_of_a_temporary_view_reaches_the_base():
    x = np.random.default_rng(0).uniform(0.3, 1.7, 6)
    y, J = _chained_view_write(x.copy()), fd_jac(_chained_view_write, x)
    t = ad.tensor(x.copy(), requires_grad=True)
    np.testing.assert_allclose(_chained_view_write(t).detach().numpy(), y)
    np.testing.assert_allclose(ad.jit(_chained_view_write)(x.copy()), y)
    np.testing.assert_allclose(ad.vmap(_chained_view_write)(x[None])[0], y)
    np.testing.assert_allclose(ad.jacfwd(_chained_view_write)(x.copy()), J, atol=1e-8)
    for mode, got in every_reverse_mode(_chained_view_write, x).items():
        np.testing.assert_allclose(got, J.sum(0), atol=1e-8, err_msg=mode)


def test_write_through_a_view_of_a_temporary_reshape_raises():
    def f(a):
        b = a * 1.0
        b.reshape(2, 3)[0][1] = 5.0
        return b
    x = np.arange(6.0)
    for run in (lambda: f(ad.tensor(x, requires_grad=True)), lambda: ad.jit(f)(x),
                lambda: ad.jacfwd(f)(x), lambda: ad.grad(lambda v: ad.sum(f(v)))(x)):
        with pytest.raises(ValueError, match="reshape/transpose"):
            run()


def test_tensor_argmax_under_jit_grad():
    # t.argmax(axis=1) of a Tensor over an ad.jit tracer raised "adjit.tensor: cannot make a
    # tensor from a dual number or traced value" (ad.grad alone worked)
    def f(a):
        m = a.reshape(2, 3) * 1.0
        return ad.sum(m[np.arange(2), m.argmax(axis=1)] * m[:, 0])
    x = np.array([0.5, 1.2, 0.3, 0.9, 1.5, 0.2])
    ref = fd_jac(f, x)
    np.testing.assert_allclose(ad.grad(f)(x), ref, atol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # a traced index: runs eagerly
        np.testing.assert_allclose(ad.jit(ad.grad(f))(x), ref, atol=1e-8)
        np.testing.assert_allclose(ad.jit(ad.grad(f))(x[::-1].copy()), fd_jac(f, x[::-1].copy()),
                                   atol=1e-8)


def test_custom_op_gradient_under_vmap():
    # ad.vmap(ad.grad(f)) of a custom op raised "has a compiled VJP, which cannot itself be
    # differentiated (create_graph=True, ad.hessian)": nothing was differentiated twice; the
    # VJP now runs once per batch element. ad.hessian still raises that error.
    op = ad.custom_op("hunt_sin_times_x", lambda x: np.sin(x) * x,
                      lambda g, y, x: (g * (np.cos(x) * x + np.sin(x)),),
                      lambda ts, y, x: ts[0] * (np.cos(x) * x + np.sin(x)))
    xs = np.random.default_rng(0).uniform(0.3, 1.7, (3, 4))
    got = ad.vmap(ad.grad(lambda v: ad.sum(op(v) * v)))(xs)
    np.testing.assert_allclose(got, np.stack([fd_jac(lambda v: np.sum(np.sin(v) * v * v), x)
                                              for x in xs]), rtol=1e-6)
    with pytest.raises(NotImplementedError, match="cannot itself be differentiated"):
        ad.hessian(lambda v: ad.sum(op(v)))(xs[0])


def test_reshape_flatten_order_and_view_methods():
    # x.reshape(s, order="F") raised "_reshape() got an unexpected keyword argument 'order'",
    # x.flatten(order="F") "<lambda>() got ..."; x.view() "cannot reshape array of size 6
    # into shape ()"
    def f(a):
        m = a.reshape(2, 3) * 1.0
        v = m.view()
        v[0, 0] = 2.0 * a[5]   # a view: shows in m
        return m.reshape((3, 2), order="F") * np.arange(6.0).reshape(3, 2) + \
            m.flatten(order="F").reshape(3, 2) + m.ravel(order="F").reshape(3, 2, order="F")
    x = np.random.default_rng(0).uniform(0.3, 1.7, 6)
    y, J = f(x.copy()), fd_jac(f, x)
    np.testing.assert_allclose(f(ad.tensor(x, requires_grad=True)).detach().numpy(), y)
    np.testing.assert_allclose(ad.jit(f)(x), y)
    np.testing.assert_allclose(ad.jacfwd(f)(x), J, atol=1e-8)
    np.testing.assert_allclose(ad.jacrev(f)(x), J, atol=1e-8)
    np.testing.assert_allclose(ad.vmap(f)(x[None])[0], y)


def test_expand_dims_with_a_tuple_of_axes():
    # np.expand_dims(t, (0, 2)) raised "int() argument must be ... not 'tuple'"
    x = np.arange(1.0, 7.0)
    for axis in ((0, 2), (-1, 0), 1, -1):
        y = np.expand_dims(x, axis)
        np.testing.assert_array_equal(np.expand_dims(ad.tensor(x), axis).numpy(), y)
        np.testing.assert_array_equal(ad.jit(lambda v, a=axis: np.expand_dims(v, a) * 1.0)(x), y)
        np.testing.assert_allclose(ad.grad(lambda v, a=axis: ad.sum(np.expand_dims(v, a) ** 2))(x),
                                   2 * x)
    with pytest.raises(np.exceptions.AxisError):
        np.expand_dims(ad.tensor(x), (0, 3))
    with pytest.raises(ValueError, match="repeated axis"):
        np.expand_dims(ad.tensor(x), (0, 0))


# ---------------------------------------------------------------------------------------------
# det's derivative from the SVD (ad.vmap, and ill-conditioned matrices eagerly) missed the
# complex conjugates of U and Vh: ad.vmap(ad.grad(lambda a: ad.real(ad.det(M + a[0] I)))) gave
# [7.71, 12.08, 6.10] for the loop's [6.89, 12.42, 4.93]

_M = (np.random.default_rng(1).standard_normal((3, 3))
      + 1j * np.random.default_rng(2).standard_normal((3, 3)))


def _re_det(a):
    return ad.real(ad.det(_M + a[0] * np.eye(3) + a[1] * np.diag([0.0, 1.0, 2.0])))


def test_complex_det_gradient_under_vmap_and_at_ill_conditioned_matrices():
    xs = np.array([[0.7, 1.0], [1.3, 2.0], [0.4, 1.0]])
    loop = np.stack([ad.grad(_re_det)(x) for x in xs])
    np.testing.assert_allclose(loop, np.stack([fd_jac(_re_det, x) for x in xs]), rtol=1e-6)
    np.testing.assert_allclose(ad.vmap(ad.grad(_re_det))(xs), loop, rtol=1e-10)
    # a complex matrix of rank 1 plus a tiny perturbation: condition number above DET_COND_MAX
    u = np.array([1.0 + 1j, 2.0, 0.5j])
    S = np.outer(u, u.conj() * 0.3 + 1.0) + 1e-10 * np.eye(3)

    def f(a):
        return ad.imag(ad.det(S + a[0] * np.diag([0.0, 1.0, 0.0]) + a[1] * np.diag([0, 0, 1.0])))
    x = np.array([0.3, 0.7])
    np.testing.assert_allclose(ad.grad(f)(x), fd_jac(f, x), rtol=1e-5)


def test_scalar_bool_and_empty_list_indices():
    # ad.jit(lambda a: a[True] * 1.0) gave [[a[1], a[1], a[1]]] for NumPy's [a] (True read as
    # the integer 1); a[[]] raised "arrays used as indices must be of integer type"
    x = np.array([0.5, 1.5, 2.0])
    fs = [lambda a: a[True] * 2.0, lambda a: a[np.True_] * a, lambda a: a[False] * 1.0,
          lambda a: a[[]] * 1.0, lambda a: a.reshape(1, 3)[0, True] * a]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # ad.jit may run them eagerly
        for f in fs:
            y = f(x.copy())
            np.testing.assert_array_equal(ad.jit(f)(x), y)
            np.testing.assert_array_equal(f(ad.tensor(x)).numpy(), y)
            np.testing.assert_allclose(ad.jacrev(f)(x), fd_jac(f, x), atol=1e-8)
            np.testing.assert_allclose(ad.jacfwd(f)(x), fd_jac(f, x), atol=1e-8)

    def g(a):
        b = a * 1.0
        b[[]] = 5.0
        b[True] = b * 2.0
        return b
    np.testing.assert_allclose(ad.jit(g)(x), 2 * x)
    np.testing.assert_allclose(ad.grad(lambda v: ad.sum(g(v)))(x), [2.0, 2.0, 2.0])


def test_pinv_and_lstsq_gradients_under_vmap_at_repeated_singular_values():
    # under ad.vmap every element took the SVD path, whose derivative is NaN at repeated
    # singular values (the identity, 2 I, a rotation): NaN where a loop over the batch gives
    # the QR path's finite gradient; now each element takes its own rank's path
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(3, 3)), rng.normal(size=3)
    th = 0.3
    R = np.array([[np.cos(th), -np.sin(th), 0], [np.sin(th), np.cos(th), 0], [0, 0, 1.0]])
    A = np.stack([np.eye(3), 2 * np.eye(3), R, rng.normal(size=(3, 3)),
                  np.diag([1.0, 1e-20, 2.0])])     # the last one rank-deficient

    def f(a):
        return ad.sum(np.linalg.pinv(a) * W)

    def g(a):
        return ad.sum(np.linalg.lstsq(a, b, rcond=None)[0] ** 2)
    for fn in (f, g):
        loop = np.stack([ad.grad(fn)(a) for a in A])
        assert np.isfinite(loop).all()
        for t in (ad.vmap(ad.grad(fn)), ad.jit(ad.vmap(ad.grad(fn))), ad.vmap(ad.jacfwd(fn))):
            np.testing.assert_allclose(t(A), loop, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(ad.vmap(fn)(A), [fn(a) for a in A], rtol=1e-12)
