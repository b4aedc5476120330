"""np.linalg's pinv, lstsq, matrix_rank, cond, tensorsolve, tensorinv, vector_norm and
matrix_norm, and adjit.scipy.linalg (expm, solve_triangular, cho_factor/cho_solve,
lu_factor/lu_solve and the SciPy-signature aliases): what the op-info sweep cannot express
(tuple outputs, integer results, NumPy spellings on every wrapper and inside ad.jit, rank
changes, SciPy's values, errors)."""
import warnings

import numpy as np
import pytest

import adjit as ad
from adjit.scipy import linalg as al

sl = pytest.importorskip("scipy.linalg")

RNG = np.random.default_rng(11)
A43 = RNG.normal(size=(4, 3))
SQ = RNG.normal(size=(3, 3)) + 3.0 * np.eye(3)
SPD = SQ @ SQ.T + np.eye(3)
B4 = RNG.normal(size=(4, 2))
RANK2 = A43[:, :1] @ A43[:1, :] + A43[:, 1:2] @ A43[1:2, :]   # 4x3 of rank 2


def close(a, b, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=rtol, atol=atol)


def strict_jit(f):
    """ad.jit that fails on a fallback to eager."""
    jf = ad.jit(f)

    def run(*a):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            return jf(*a)
    return run


def value(v):
    return v.detach().numpy() if isinstance(v, ad.Tensor) else v.primal if isinstance(v, ad.Dual) else v


# ---------------------------------------------------------------------------------------------
# np.linalg spellings on Tensors, duals and inside ad.jit

NP_CASES = [
    ("pinv", lambda x: np.linalg.pinv(x), A43),
    ("pinv-rtol", lambda x: np.linalg.pinv(x, rtol=1e-12), SQ),
    ("cond", lambda x: np.linalg.cond(x), SQ),
    ("cond-1", lambda x: np.linalg.cond(x, 1), SQ),
    ("cond-fro", lambda x: np.linalg.cond(x, "fro"), SQ),
    ("tensorinv", lambda x: np.linalg.tensorinv(x.reshape(3, 3, 1), ind=1), SQ),
    ("tensorsolve", lambda x: np.linalg.tensorsolve(x, np.ones(3)), SQ),
    ("vector_norm", lambda x: np.linalg.vector_norm(x, ord=3, axis=0), A43),
    ("matrix_norm-nuc", lambda x: np.linalg.matrix_norm(x, ord="nuc"), A43),
    ("matrix_norm-inf", lambda x: np.linalg.matrix_norm(x, ord=np.inf), A43),
    ("norm--2", lambda x: np.linalg.norm(x, -2), A43),
    ("lstsq-x", lambda x: np.linalg.lstsq(x, B4)[0], A43),
    ("lstsq-res", lambda x: np.linalg.lstsq(x, B4)[1], A43),
    ("lstsq-s", lambda x: np.linalg.lstsq(x, B4)[3], A43),
]


@pytest.mark.parametrize("name,f,x", NP_CASES, ids=[c[0] for c in NP_CASES])
def test_numpy_spelling_on_every_wrapper(name, f, x):
    want = f(x)
    close(value(f(ad.tensor(x, requires_grad=True))), want)
    close(value(f(ad.dual(x, np.ones_like(x)))), want)
    assert ad.gradcheck(lambda v: f(v), (x,))
    # the same gradient as the ad.linalg spelling, and inside ad.jit (value and gradient)
    g = ad.grad(lambda v: ad.sum(f(v) * 1.5))
    close(strict_jit(f)(x), want)
    close(strict_jit(g)(x), g(x), rtol=1e-9)


def test_lstsq_tuple_matches_numpy():
    for a, b in [(A43, B4), (A43, B4[:, 0]), (A43.T, B4[:3]), (SQ, B4[:3]), (RANK2, B4),
                 (RANK2, B4[:, 0])]:
        want = np.linalg.lstsq(a, b)
        got = ad.linalg.lstsq(ad.tensor(a, requires_grad=True), ad.tensor(b))
        close(value(got[0]), want[0])
        close(value(got[1]), want[1])
        assert np.shape(value(got[1])) == want[1].shape
        assert got[2] == want[2] and isinstance(got[2], int)
        close(value(got[3]), want[3])


def test_lstsq_under_vmap_ranks_per_matrix():
    a = np.stack([A43, RANK2])
    x, res, rank, s = ad.vmap(lambda m: ad.linalg.lstsq(m, B4[:, 0]))(a)
    np.testing.assert_array_equal(rank, [3, 2])
    close(res[0], np.linalg.lstsq(A43, B4[:, 0])[1])
    assert np.isnan(res[1]).all()   # NumPy has no residuals for a rank-deficient matrix
    for i in range(2):
        close(x[i], np.linalg.lstsq(a[i], B4[:, 0])[0])
        close(s[i], np.linalg.lstsq(a[i], B4[:, 0])[3])


def test_lstsq_rank_deficient_derivative_holds_the_rank():
    # the minimum-norm solution of the rank-2 problem, differentiated with the rank fixed:
    # central differences along perturbations that keep rank 2 agree
    u, v = A43[:, :2], A43[:2, :]

    def f(p):
        a = ad.matmul(ad.reshape(p[:8], (4, 2)), v)
        return np.linalg.lstsq(a, B4[:, 0], rcond=1e-10)[0]
    assert ad.gradcheck(f, (u.reshape(-1),))


def test_pinv_derivative_at_repeated_singular_values():
    # an orthogonal matrix: every singular value is 1; the QR path differentiates it
    q = np.linalg.qr(RNG.normal(size=(3, 3)))[0]
    assert ad.gradcheck(np.linalg.pinv, (q,))
    assert ad.gradcheck(lambda x: ad.grad(lambda y: ad.sum(np.linalg.pinv(y) ** 2))(x), (q,))


def test_pinv_rank_change_under_jit_retraces():
    g = ad.grad(lambda x: ad.sum(ad.sin(ad.linalg.pinv(x, rcond=1e-8))))
    jg = strict_jit(g)
    close(jg(A43), g(A43), rtol=1e-9)
    close(jg(RANK2), g(RANK2), rtol=1e-8, atol=1e-10)    # a new rank: not the old kernel
    close(np.linalg.pinv(RANK2, rcond=1e-8), ad.linalg.pinv(ad.tensor(RANK2), rcond=1e-8).numpy())


def test_matrix_rank_is_an_integer_without_derivative():
    t = ad.tensor(RANK2, requires_grad=True)
    r = np.linalg.matrix_rank(t)
    assert r == 2 and not isinstance(r, ad.Tensor)
    assert ad.linalg.matrix_rank(ad.dual(A43, A43)) == 3
    assert np.linalg.matrix_rank(t, tol=1e30) == 0
    jr = strict_jit(lambda x: np.linalg.matrix_rank(x))
    assert int(jr(RANK2)) == 2 and int(jr(A43)) == 3   # the kernel counts, no frozen value
    stack = np.stack([A43, RANK2])
    np.testing.assert_array_equal(jr(stack), [3, 2])


def test_norm_orders_match_numpy():
    m3 = RNG.normal(size=(2, 3, 4))
    for ord in (1, -1, 2, -2, np.inf, -np.inf, "fro", "nuc"):
        close(ad.linalg.norm(ad.tensor(m3), ord, axis=(2, 0)).numpy(),
              np.linalg.norm(m3, ord, axis=(2, 0)))
        close(ad.linalg.matrix_norm(ad.tensor(m3), ord=ord).numpy(),
              np.linalg.matrix_norm(m3, ord=ord))
    for ord in (0, 1, 2, 3, 0.5, -1, np.inf, -np.inf):
        close(ad.linalg.vector_norm(ad.tensor(m3), ord=ord, axis=(0, 2), keepdims=True).numpy(),
              np.linalg.vector_norm(m3, ord=ord, axis=(0, 2), keepdims=True))


def test_clear_errors():
    with pytest.raises(ValueError, match="can't be both set"):
        ad.linalg.pinv(ad.tensor(SQ), rcond=1e-3, rtol=1e-3)
    with pytest.raises(np.linalg.LinAlgError, match="2-D"):
        ad.linalg.lstsq(ad.tensor(np.ones((2, 3, 3))), np.ones(3))
    with pytest.raises(np.linalg.LinAlgError, match="prod"):
        ad.linalg.tensorsolve(ad.tensor(np.ones((2, 3, 4))), np.ones((2, 3)))
    with pytest.raises(ValueError, match="square"):
        al.expm(ad.tensor(np.ones((2, 3))))
    with pytest.raises(ValueError, match="trans"):
        al.solve_triangular(ad.tensor(SQ), np.ones(3), trans=3)
    with pytest.raises(NotImplementedError, match="pivoting"):
        al.qr(ad.tensor(SQ), pivoting=True)
    with pytest.raises(NotImplementedError, match="not differentiable"):
        al.qr(ad.tensor(A43))     # mode='full' of a tall matrix
    with pytest.raises(NotImplementedError, match="generalized"):
        al.eigh(ad.tensor(SPD), ad.tensor(SPD))
    with pytest.raises(NotImplementedError, match="pivoting"):
        al.qr(SQ, pivoting=True)
    sing = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(np.linalg.LinAlgError, match="singular matrix .* no derivative"):
        ad.grad(lambda x: ad.sum(al.lu_factor(x)[0]))(sing)
    with pytest.raises(np.linalg.LinAlgError, match="singular matrix .* no derivative"):
        ad.jacfwd(lambda x: al.lu_factor(x)[0])(sing)
    with pytest.raises(NotImplementedError, match="assume_a"):
        al.solve(ad.tensor(SQ), np.ones(3), assume_a="banded")


# ---------------------------------------------------------------------------------------------
# adjit.scipy.linalg

def test_expm_matches_scipy_and_its_frechet_derivative():
    for scale in (1e-3, 0.3, 1.0, 4.0, 20.0):
        a = scale * RNG.normal(size=(2, 4, 4))
        close(al.expm(ad.tensor(a)).numpy(), sl.expm(a), rtol=1e-12 * max(1.0, scale ** 2))
    a, e = RNG.normal(size=(4, 4)), RNG.normal(size=(4, 4))
    close(ad.jvp(al.expm, (a,), (e,))[1], sl.expm_frechet(a, e, compute_expm=False))
    # the VJP is the Frechet derivative at A^T: <G, L(A, E)> = <L(A^T, G), E>
    g = RNG.normal(size=(4, 4))
    close(ad.vjp(al.expm, a)[1](g)[0], sl.expm_frechet(a.T, g, compute_expm=False))
    close(al.expm(np.zeros((0, 0))), np.zeros((0, 0)))


def test_expm_compiles_with_its_gradient_and_hessian():
    a = 0.5 * RNG.normal(size=(3, 3))

    def loss(x):
        return ad.sum(al.expm(x) * np.arange(9.0).reshape(3, 3))
    close(strict_jit(al.expm)(a), sl.expm(a))
    close(strict_jit(ad.grad(loss))(a), ad.grad(loss)(a))
    close(strict_jit(ad.hessian(loss))(a), ad.hessian(loss)(a), rtol=1e-9)
    assert strict_jit(al.expm)(a.astype(np.float32)).dtype == np.float32


def test_solve_triangular_matches_scipy():
    a, b = RNG.normal(size=(2, 3, 3)) + 3 * np.eye(3), RNG.normal(size=(2, 3, 2))
    for kw in ({}, {"lower": True}, {"trans": 1}, {"trans": "C", "lower": True},
               {"unit_diagonal": True}):
        close(al.solve_triangular(ad.tensor(a), ad.tensor(b), **kw).numpy(),
              sl.solve_triangular(a, b, **kw))
        close(al.solve_triangular(ad.tensor(a[0]), ad.tensor(b[0, :, 0]), **kw).numpy(),
              sl.solve_triangular(a[0], b[0, :, 0], **kw))


def test_cholesky_factor_and_solve_match_scipy():
    b = RNG.normal(size=(3, 2))
    for lower in (False, True):
        c, low = al.cho_factor(ad.tensor(SPD), lower=lower)
        wc, wlow = sl.cho_factor(SPD, lower=lower)
        close(c.numpy(), wc)
        assert low == wlow
        close(al.cho_solve((c, low), ad.tensor(b)).numpy(), sl.cho_solve((wc, wlow), b))
        close(al.cholesky(ad.tensor(SPD), lower=lower).numpy(), sl.cholesky(SPD, lower=lower))
    # the upper factor reads the upper triangle; its derivative is the symmetric one
    assert ad.gradcheck(lambda x: al.cholesky(0.5 * (x + x.T)), (SPD,))
    # cho_solve(cho_factor(s), b) = solve(s, b), with the symmetric part of solve's gradient
    x = np.linalg.solve(SPD, b)
    gs = -np.linalg.solve(SPD, np.ones((3, 2))) @ x.T
    close(ad.grad(lambda s: ad.sum(al.cho_solve(al.cho_factor(s), b)))(SPD),
          0.5 * (gs + gs.T), rtol=1e-8)


def test_lu_factor_and_solve_match_scipy():
    a = RNG.normal(size=(2, 4, 4))
    b = RNG.normal(size=(4, 3))
    lu, piv = al.lu_factor(ad.tensor(a))
    wlu, wpiv = sl.lu_factor(a)
    close(lu.numpy(), wlu)
    assert piv.dtype == np.int32 and np.array_equal(piv, wpiv)
    for trans in (0, 1, 2):
        close(al.lu_solve((lu, piv), ad.tensor(b), trans=trans).numpy(),
              sl.lu_solve((wlu, wpiv), b, trans=trans))
        close(al.lu_solve((lu[0], piv[0]), b[:, 0], trans=trans).numpy(),
              sl.lu_solve((wlu[0], wpiv[0]), b[:, 0], trans=trans))
    # plain arrays give plain arrays, SciPy's values
    plu, ppiv = al.lu_factor(a[0])
    close(plu, wlu[0])
    assert np.array_equal(ppiv, wpiv[0])


def test_lu_derivatives_and_traced_pivots_under_jit():
    a = RNG.normal(size=(4, 4))
    b = RNG.normal(size=(4,))

    def f(x, y):
        return ad.sum(al.lu_solve(al.lu_factor(x), y) * np.arange(1.0, 5.0))
    # lu_solve(lu_factor(a), b) = solve(a, b): its derivative is solve's
    x = np.linalg.solve(a, b)
    gb = np.linalg.solve(a.T, np.arange(1.0, 5.0))
    ga, gy = ad.grad(f, argnums=(0, 1))(a, b)
    close(ga, -np.outer(gb, x), rtol=1e-8)
    close(gy, gb, rtol=1e-8)
    jg = strict_jit(ad.grad(f, argnums=(0, 1)))
    for m in (a, a[::-1].copy()):   # other pivots: the kernel computes them
        want = ad.grad(f, argnums=(0, 1))(m, b)
        got = jg(m, b)
        close(got[0], want[0], rtol=1e-9)
        close(got[1], want[1], rtol=1e-9)
    assert ad.gradcheck(lambda x: al.lu_factor(x)[0], (a,))


def test_scipy_aliases_match_scipy():
    a = RNG.normal(size=(3, 3))
    b = RNG.normal(size=(3, 2))
    close(al.solve(ad.tensor(a), ad.tensor(b)).numpy(), sl.solve(a, b))
    close(al.solve(ad.tensor(a), b, transposed=True).numpy(), sl.solve(a, b, transposed=True))
    for kw in ({"assume_a": "pos"}, {"assume_a": "sym", "lower": True},
               {"assume_a": "lower triangular"}, {"assume_a": "diagonal"},
               {"assume_a": "tridiagonal"}):
        m = SPD + np.triu(a, 1)   # the unread triangle differs: only the read one counts
        close(al.solve(ad.tensor(m), b, **kw).numpy(), sl.solve(m, b, **kw))
    close(al.inv(ad.tensor(a)).numpy(), sl.inv(a))
    close(float(al.det(ad.tensor(a))), sl.det(a))
    w, v = al.eigh(ad.tensor(SPD), subset_by_index=(1, 2))
    ww, wv = sl.eigh(SPD, subset_by_index=(1, 2))
    close(w.numpy(), ww)
    close(np.abs(v.numpy()), np.abs(wv))
    close(al.eigh(ad.tensor(SPD), lower=False, eigvals_only=True).numpy(),
          sl.eigh(SPD, lower=False, eigvals_only=True))
    close(al.svd(ad.tensor(a), compute_uv=False).numpy(), sl.svd(a, compute_uv=False))
    q, r = al.qr(ad.tensor(a))
    wq, wr = sl.qr(a)
    close(np.abs(r.numpy()), np.abs(wr))
    close(np.abs(al.qr(ad.tensor(A43), mode="r")[0].numpy()), np.abs(sl.qr(A43, mode="r")[0]))
    close(np.abs(al.qr(ad.tensor(A43), mode="economic")[1].numpy()),
          np.abs(sl.qr(A43, mode="economic")[1]))
    close(al.norm(ad.tensor(a), "nuc").numpy(), sl.norm(a, "nuc"))
    # plain arrays: modes the wrappers cannot differentiate still give SciPy's results
    close(np.abs(al.qr(A43)[0]), np.abs(sl.qr(A43)[0]))


def test_scipy_pinv_and_lstsq():
    for m in (A43, RANK2):
        for kw in ({}, {"atol": 0.5}, {"rtol": 0.3}, {"atol": 1e-8, "rtol": 1e-8}):
            want, wrank = sl.pinv(m, return_rank=True, **kw)
            got, rank = al.pinv(ad.tensor(m), return_rank=True, **kw)
            close(got.numpy(), want)
            assert rank == wrank
            close(al.pinv(m, **kw), want)
        b = B4[:, 0]
        want = sl.lstsq(m, b)
        got = al.lstsq(ad.tensor(m, requires_grad=True), ad.tensor(b))
        close(value(got[0]), want[0])
        close(value(got[1]), want[1])
        assert np.shape(value(got[1])) == np.shape(want[1]) and got[2] == want[2]
    # the rank under ad.jit: counted by the kernel
    jr = strict_jit(lambda x: al.pinv(x, atol=1e-8, return_rank=True)[1])
    assert int(jr(A43)) == 3 and int(jr(RANK2)) == 2
    assert ad.gradcheck(lambda x: al.pinv(x, rtol=1e-10), (A43,))
