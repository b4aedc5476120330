"""Products (issue 11 part 3): einsum, tensordot, inner, outer, kron, cross, vdot, matrix_power,
multi_dot beyond the op-info samples: einsum against NumPy over many subscripts and every
optimize= setting, NumPy's spellings on Tensors, duals and inside ad.jit, edge values and the
errors bad inputs get."""
import warnings

import numpy as np
import pytest

import adjit as ad

RNG = np.random.default_rng(11)

# (subscripts, operand shapes): implicit and explicit outputs, '...', diagonals, traces, sums,
# broadcasting unit axes, scalars, size 0, uppercase labels, several operands
EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("ij->", [(2, 3)]),
    ("i,i", [(3,), (3,)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("...ij,...jk", [(2, 1, 2, 3), (3, 3, 2)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("i,j->ij", [(3,), (2,)]), ("iij,kj->ki", [(3, 3, 2), (2, 2)]), ("ji", [(2, 3)]),
    ("i,i->i", [(1,), (3,)]), (",ij->j", [(), (2, 3)]), ("Ba,ab", [(2, 3), (3, 2)]),
    ("abc,cd,db->a", [(2, 3, 2), (2, 3), (3, 3)]), ("iii->i", [(2, 2, 2)]),
    ("ij,ij,ij->", [(2, 3)] * 3), ("...i,...i->...", [(4, 1, 3), (5, 3)]),
    ("i...->...", [(2, 3, 4)]), ("ij->ji", [(0, 3)]), ("ij,jk", [(0, 3), (3, 2)]),
    ("a,b,c,d->", [(2,), (3,), (4,), (5,)]),
    ("ab,bc,cd,de,ef->af", [(2, 3), (3, 4), (4, 5), (5, 6), (6, 2)]),
    ("ijk,jil->kl", [(2, 3, 4), (3, 2, 5)]), ("i,i,i", [(3,)] * 3), ("ij,j", [(2, 3), (3,)]),
    ("j,ij", [(3,), (2, 3)]), (" i j , j k -> i k ", [(2, 3), (3, 4)]), ("ii->", [(1, 1)]),
    ("ij,kj->ikj", [(2, 3), (1, 3)]), ("...", [()]), ("i->", [(0,)]),
]


def _draw(shapes):
    return [RNG.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("spec,shapes", EINSUM, ids=[s for s, _ in EINSUM])
def test_einsum_values_match_numpy_for_every_optimize(spec, shapes):
    xs = _draw(shapes)
    want = np.einsum(spec, *xs)
    for opt in (False, True, "greedy", "optimal"):
        got = ad.einsum(spec, *xs, optimize=opt)
        assert np.shape(got) == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        t = np.einsum(spec, *[ad.tensor(x, requires_grad=True) for x in xs], optimize=opt)
        np.testing.assert_allclose(t.detach().numpy(), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("spec,shapes", [EINSUM[i] for i in (9, 14, 17, 22, 26, 29)],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_einsum_derivatives_match_differences(spec, shapes):
    xs = _draw(shapes)
    assert ad.gradcheck(lambda *a: ad.einsum(spec, *a), xs, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_einsum_explicit_path_and_sublists():
    a, b, c = _draw([(2, 3), (3, 4), (4, 5)])
    path, _ = np.einsum_path("ij,jk,kl->il", a, b, c, optimize="optimal")
    want = np.einsum("ij,jk,kl->il", a, b, c)
    np.testing.assert_allclose(ad.einsum("ij,jk,kl->il", a, b, c, optimize=path), want)
    ta = ad.tensor(a, requires_grad=True)
    got = np.einsum(ta, [0, 1], b, [1, Ellipsis], [0, Ellipsis])
    np.testing.assert_allclose(got.detach().numpy(), a @ b)
    np.testing.assert_allclose(ad.einsum(a, [0, 1]), np.einsum(a, [0, 1]))   # implicit
    ad.sum(got).backward()
    np.testing.assert_allclose(ta.grad.numpy(), np.ones((2, 4)) @ b.T)


def test_einsum_trace_gradient_is_identity_and_int_inputs_stay_int():
    x = RNG.standard_normal((3, 3))
    np.testing.assert_allclose(ad.grad(lambda m: np.einsum("ii", m))(x), np.eye(3))
    k = np.arange(6).reshape(2, 3)
    got = ad.einsum("ij,kj->ik", k, k)
    assert got.dtype.kind == "i" and np.array_equal(got, np.einsum("ij,kj->ik", k, k))
    assert ad.einsum("i,i", [1.0, 2.0], [3.0, 4.0]) == 11.0   # lists are arrays


def test_einsum_hessian_of_a_quadratic_form():
    A = RNG.standard_normal((3, 3))
    h = ad.hessian(lambda x: np.einsum("i,ij,j", x, A, x))(RNG.standard_normal(3))
    np.testing.assert_allclose(h, A + A.T, rtol=1e-12)


def test_einsum_on_duals_and_vmap():
    W, x, v = RNG.standard_normal((3, 4)), RNG.standard_normal(4), RNG.standard_normal(4)
    d = np.einsum("ij,j->i", W, ad.dual(x, v))
    np.testing.assert_allclose(d.primal, W @ x)
    np.testing.assert_allclose(d.tangent, W @ v)
    xs = RNG.standard_normal((5, 4))
    np.testing.assert_allclose(ad.vmap(lambda r: ad.einsum("ij,j->i", W, r))(xs), xs @ W.T)


def test_numpy_spellings_inside_jit_compile_without_fallback():
    """The einsum forms and powers the op-info sweep does not compile (it compiles each
    product's first sample), in one traced function (one compile)."""
    A, B = RNG.standard_normal((3, 3)), RNG.standard_normal((2, 3, 3))

    def f(a, b):
        return (np.einsum("ii->i", a), np.einsum("...ij,...jk", b, a),
                np.einsum("ij,jk,kl->il", a, b[0], a), np.einsum("i,i->i", a[:1, 0], a[0]),
                np.linalg.matrix_power(a + 3 * np.eye(3), -2), np.linalg.matrix_power(a, 0),
                np.linalg.multi_dot([a[0], a, b[0], a[:, 1]]))

    def loss(a, b):
        return sum(ad.sum(np.sin(y)) for y in f(a, b))
    g = ad.grad(loss, argnums=(0, 1))

    def both(a, b):
        return f(a, b), g(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)   # a fallback to eager fails
        got = ad.jit(both)(A, B)
    want = both(A, B)
    for p, q in zip(got[0] + got[1], want[0] + want[1]):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-12)
    plain = f(A, B)
    for p, q in zip(want[0], plain):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-12)
    assert ad.gradcheck(loss, [A, B], eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("call,err,text", [
    (lambda a: ad.einsum("ij,jk", a, a[:2]), ValueError, "different lengths"),
    (lambda a: ad.einsum("ij", a, a), ValueError, "describe 1 operand"),
    (lambda a: ad.einsum("ijk", a), ValueError, "name 3 axes, but the operand has 2"),
    (lambda a: ad.einsum("...i->i", a), ValueError, "no '...'"),
    (lambda a: ad.einsum("ij->ii", a), ValueError, "more than once"),
    (lambda a: ad.einsum("ij->k", a), ValueError, "not among the input"),
    (lambda a: ad.einsum("i1", a), ValueError, "invalid subscript '1'"),
    (lambda a: ad.einsum("i.j", a), ValueError, "'...'"),
    (lambda a: ad.einsum("ij->i->j", a), ValueError, "'->' may appear once"),
    (lambda a: ad.einsum("ij", a, optimize="fast"), ValueError, "unknown optimize"),
    (lambda a: ad.einsum("ij", a, dtype=np.float32), TypeError, "dtype="),
    (lambda a: ad.einsum("ij,jk,kl", a, a, a, optimize=["einsum_path", (0, 5)]), ValueError,
     "does not fit"),
    (lambda a: ad.tensordot(a, a[:2], axes=1), ValueError, "shape-mismatch"),
    (lambda a: ad.tensordot(a, a, axes=3), ValueError, "axes=3"),
    (lambda a: ad.inner(a, a[:, :2]), ValueError, "last axes"),
    (lambda a: ad.vdot(a, a[0]), ValueError, "different sizes"),
    (lambda a: ad.cross(a, a[:, :1]), ValueError, "dimension must be 2 or 3"),
    (lambda a: ad.cross(a, a, axisc=3), np.exceptions.AxisError, "out of bounds"),
    (lambda a: np.linalg.cross(a[:, :2], a[:, :2]), ValueError, "3-vectors"),
    (lambda a: np.linalg.outer(a, a[0]), ValueError, "1-D"),
    (lambda a: ad.matrix_power(a, 2.0), TypeError, "integer"),
    (lambda a: ad.matrix_power(a[:2], 2), np.linalg.LinAlgError, "square"),
    (lambda a: ad.multi_dot([a]), ValueError, "at least two"),
    (lambda a: ad.multi_dot([a, a[:2], a]), ValueError, "not aligned"),
    (lambda a: ad.multi_dot([a, a[None], a]), ValueError, "must be 2-D"),
    (lambda a: np.linalg.multi_dot([a, a, a], out=np.empty((3, 3))), TypeError, "out="),
    (lambda a: np.einsum("ij,jk", a, a, out=np.empty((3, 3))), TypeError, "out="),
    (lambda a: np.einsum("ij", a, dtype=np.float32), TypeError, "dtype="),
    (lambda a: np.vecdot(a, a[:, :1]), ValueError, "lengths 3 and 1"),
    (lambda a: np.vecdot(a, a, axis=0), TypeError, "axis="),
    (lambda a: ad.matvec(a[0], a), ValueError, "at least 2 and 1"),
    (lambda a: ad.vecmat(a, a[0]), ValueError, "at least 1 and 2"),
])
def test_bad_inputs_raise_clear_errors(call, err, text):
    a = ad.tensor(RNG.standard_normal((3, 3)), requires_grad=True)
    with pytest.raises(err, match=text.replace("(", r"\(").replace(".", r"\.")):
        call(a)


def test_matrix_power_zero_is_the_identity_with_zero_derivative_even_at_inf():
    x = np.array([[np.inf, 1.0], [2.0, np.nan]])
    t = ad.tensor(x, requires_grad=True)
    y = ad.matrix_power(t, 0)
    np.testing.assert_array_equal(y.detach().numpy(), np.eye(2))
    ad.sum(y).backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.zeros((2, 2)))
    f32 = np.ones((2, 3, 3), dtype=np.float32)
    assert ad.matrix_power(f32, 0).dtype == np.float32
    np.testing.assert_array_equal(ad.matrix_power(f32, 0), np.linalg.matrix_power(f32, 0))


def test_matrix_power_values_and_negative_powers():
    a = np.array([[1.0, 1.0], [0.0, 1.0]])
    for n in (1, 2, 3, 4, 7, 10, -1, -3):
        np.testing.assert_allclose(ad.matrix_power(a, n), [[1.0, n], [0.0, 1.0]])
    x = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
    assert ad.gradcheck(lambda m: ad.matrix_power(m, -3), [x], eps=1e-6, atol=1e-6, rtol=1e-4)


def test_multi_dot_vectors_and_order():
    v, A, B, C, w = _draw([(3,), (3, 40), (40, 2), (2, 30), (30,)])
    got = ad.multi_dot([v, A, B, C, w])
    want = np.linalg.multi_dot([v, A, B, C, w])
    assert np.shape(got) == () and np.isclose(got, want, rtol=1e-12)
    assert np.shape(ad.multi_dot([v, A, B])) == (2,)
    assert np.shape(ad.multi_dot([A, B, w[:2]])) == (3,)
    np.testing.assert_allclose(ad.multi_dot([A[:, :3], A, B]), A[:, :3] @ A @ B)
    assert ad.gradcheck(lambda *m: ad.multi_dot(list(m)), [v, A[:, :4], B[:4], C[:, :5]],
                        eps=1e-6, atol=1e-6, rtol=1e-4)


def test_cross_variants_match_numpy():
    a3, b3, a2, b2 = _draw([(4, 3), (3,), (4, 2), (2,)])
    for a, b, kw in [(a3, b3, {}), (a2, b2, {}), (a2, b3, {}), (a3, b2, {}),
                     (a3.T, b3, {"axisa": 0}), (a3.T, a3.T, {"axis": 0}),
                     (a3, b3, {"axisc": 0})]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)   # NumPy 2 on 2-vectors
            want = np.cross(a, b, **kw)
        np.testing.assert_allclose(ad.cross(a, b, **kw), want, rtol=1e-12)
    np.testing.assert_allclose(np.linalg.cross(ad.tensor(a3), b3).numpy(), np.cross(a3, b3))


def test_kron_tensordot_inner_vdot_match_numpy():
    a, b, c = _draw([(2, 3), (3, 2, 2), (2,)])
    for f, args in [(np.kron, (a, b)), (np.kron, (c, a)), (np.kron, (2.0, a)),
                    (np.tensordot, (a, b, 0)), (np.tensordot, (b, a, ([0], [1]))),
                    (np.inner, (b, c)), (np.inner, (c, 3.0)), (np.vdot, (a, a.T))]:
        got = f(*[ad.tensor(x) if isinstance(x, np.ndarray) else x for x in args])
        np.testing.assert_allclose(ad.tensor(got).numpy(), f(*args), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.tensordot(ad.tensor(a), b, axes=1).numpy(),
                               np.tensordot(a, b, axes=1))


def test_numpy2_vector_products():
    """np.vecdot / np.matvec / np.vecmat are gufuncs (dispatched without keywords);
    np.linalg.vecdot takes axis=."""
    a, b, m = _draw([(2, 3), (3,), (4, 3, 3)])
    ta = ad.tensor(a, requires_grad=True)
    for got, want in [(np.vecdot(ta, b), np.vecdot(a, b)),
                      (np.linalg.vecdot(ta, a, axis=0), np.linalg.vecdot(a, a, axis=0)),
                      (np.matvec(m[:, None], ta), np.matvec(m[:, None], a)),
                      (np.vecmat(ta, m[:, None]), np.vecmat(a, m[:, None]))]:
        assert got.shape == want.shape
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-12)
    assert ad.gradcheck(lambda x, y: np.vecmat(x, y), [a, m[:, None]], eps=1e-6, atol=1e-6,
                        rtol=1e-4)


def test_products_under_vmap_per_example_gradients():
    X = RNG.standard_normal((4, 3, 3))
    for f in (lambda a: ad.einsum("ij,jk,kk->i", a, a, a), lambda a: ad.cross(a, a[::-1]),
              lambda a: ad.kron(a, a[:2]), lambda a: ad.matrix_power(a, 5),
              lambda a: ad.multi_dot([a[0], a, a, a[:, 1]])):
        def g(a):
            return ad.grad(lambda b: ad.sum(f(b) ** 2))(a)
        np.testing.assert_allclose(ad.vmap(f)(X), np.stack([f(x) for x in X]), rtol=1e-12)
        np.testing.assert_allclose(ad.vmap(g)(X), np.stack([g(x) for x in X]), rtol=1e-10,
                                   atol=1e-12)
