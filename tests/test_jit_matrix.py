"""ad.jit on matrix-heavy code (issue 12): square Jacobians without products against the
identity seeds, batched matrix products through BLAS."""
import re

import numpy as np
import pytest

import adjit as ad
from adjit import ops

rng = np.random.default_rng(12)


def kernel_source(jf):
    [specs] = jf._jit.cache.values()
    with open(specs[0].path) as fh:
        return fh.read()


def blas_calls(src):
    """How many BLAS products a kernel's source makes (blas.dot / blas.vdot calls)."""
    return len(re.findall(r"\bv?dot\(", src))


def tanh_jac_exact(W, x):
    return (1.0 - np.tanh(W @ x) ** 2)[:, None] * W


# ---------------------------------------------------------------------------------------------
# seeds @ B: one multiply per entry instead of a gemm against the identity

@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("closed", [True, False], ids=["W-closed", "W-argument"])
def test_square_jacobian_has_no_product_with_the_seed(mode, closed):
    W, x = rng.normal(size=(30, 30)), rng.normal(size=30)
    if closed:
        jac = ad.jacobian(lambda x: ad.tanh(W @ x), mode=mode)
        args = (x,)
    else:
        jac = ad.jacobian(lambda x, W: ad.tanh(W @ x), mode=mode)
        args = (x, W)
    jf = ad.jit(jac)
    got = jf(*args)
    np.testing.assert_allclose(got, tanh_jac_exact(W, x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got, jac(*args), rtol=1e-12, atol=1e-14)
    # one matrix-vector product (W @ x), none against the seed
    assert blas_calls(kernel_source(jf)) == 1


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_seed_products_are_bit_equal_to_blas(mode):
    # BLAS adds the one product and exact zeros: the same bits as eager
    W, x = rng.normal(size=(30, 30)), rng.normal(size=30)
    jac = ad.jacobian(lambda x, W: (W @ x) * 3.0 + x * (W @ x), mode=mode)
    jf = ad.jit(jac)
    assert np.array_equal(jf(x, W), jac(x, W))


@pytest.mark.parametrize("chunk", [7, 16])
def test_chunked_seeds_with_offsets(chunk):
    # chunk k of jacfwd seeds rows s .. s + k of the identity: a diagonal at offset s
    W, x = rng.normal(size=(20, 40)), rng.normal(size=40)
    for jac in (ad.jacfwd(lambda x: ad.tanh(W @ x), chunk=chunk),
                ad.jacrev(lambda x: ad.tanh(W @ x), chunk=chunk)):
        np.testing.assert_allclose(ad.jit(jac)(x), tanh_jac_exact(W, x), rtol=1e-12,
                                   atol=1e-14)


def test_seeds_across_several_leaves():
    # a chunk's seed covers parts of two arguments: off-diagonal blocks, partial diagonals
    W1, W2 = rng.normal(size=(5, 3)), rng.normal(size=(5, 4))
    x, y = rng.normal(size=3), rng.normal(size=4)

    def f(x, y):
        return ad.sin(W1 @ x + W2 @ y) * 2.0

    for chunk in (2, 3, 5, 128):
        jac = ad.jacfwd(f, argnums=(0, 1), chunk=chunk)
        got, want = ad.jit(jac)(x, y), jac(x, y)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def test_scaled_seeds_and_right_products():
    # seeds scaled by a constant (a * 3) and negated, products with the seed on the right
    # (x @ W) and on matrices (x of shape (3, 4))
    W = rng.normal(size=(6, 6))
    x = rng.normal(size=6)
    X, A = rng.normal(size=(3, 4)), rng.normal(size=(4, 5))
    cases = [(lambda x: ad.tanh((-(x * 3.0)) @ W), x),
             (lambda x: ad.exp(W @ x * 0.5), x),
             (lambda X: ad.tanh(X @ A), X),
             (lambda X: ad.tanh(A.T @ X.T), X)]
    for f, a in cases:
        for mode in ("forward", "reverse"):
            jac = ad.jacobian(f, mode=mode)
            np.testing.assert_allclose(ad.jit(jac)(a), jac(a), rtol=1e-12, atol=1e-14)


def test_float32_square_jacobian():
    W, x = rng.normal(size=(8, 8)).astype(np.float32), rng.normal(size=8).astype(np.float32)
    for mode in ("forward", "reverse"):
        jac = ad.jacobian(lambda x, W: ad.tanh(W @ x), mode=mode)
        got = ad.jit(jac)(x, W)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, jac(x, W), rtol=1e-6, atol=1e-6)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_inf_entries_do_not_spread_through_the_seed():
    # W's inf meets only the zeros of the seed off the diagonal: those entries are the exact
    # derivative (0 where tanh saturates) rather than a dense product's nan
    W, x = rng.normal(size=(4, 4)), np.array([1.0, 0.5, -0.25, 2.0])
    W[1, 2] = np.inf
    jf = ad.jit(ad.jacobian(lambda x, W: ad.tanh(W @ x), mode="forward"))
    got = jf(x, W)
    want = tanh_jac_exact(W, x)
    ok = np.isfinite(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(got[1, [0, 1, 3]], 0.0)


# ---------------------------------------------------------------------------------------------
# stacked products: BLAS per batch element, or one gemm

BATCHED = [((4, 5, 6), (6, 3)), ((4, 5, 6), (6,)), ((5, 6), (4, 6, 3)), ((6,), (4, 6, 3)),
           ((4, 5, 6), (4, 6, 3)), ((2, 1, 5, 6), (3, 6, 2)), ((5, 6), (4, 6, 1)),
           ((2, 3, 5, 6), (2, 3, 6, 4))]


def bmm_loss(a, b):
    return ad.sum(ad.tanh(a @ b) * 1.5)


@pytest.mark.parametrize("sa, sb", BATCHED)
def test_batched_products_and_their_gradients(sa, sb):
    a, b = rng.normal(size=sa), rng.normal(size=sb)
    jf = ad.jit(lambda a, b: a @ b)
    np.testing.assert_allclose(jf(a, b), a @ b, rtol=1e-13, atol=1e-13)
    g = ad.grad(bmm_loss, argnums=(0, 1))
    for got, want in zip(ad.jit(g)(a, b), g(a, b)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
    assert blas_calls(kernel_source(jf))   # BLAS, not loops


def test_batched_products_of_views():
    # transposed, broadcast and float32 operands
    a, b = rng.normal(size=(3, 6, 5)), rng.normal(size=(3, 4, 6))
    cases = [(lambda a, b: ad.transpose(a, (0, 2, 1)) @ ad.transpose(b, (0, 2, 1)), (a, b)),
             (lambda a, b: ops.broadcast_to(a[0] * 2.0, shape=(3, 6, 5)) @ ad.transpose(a, (0, 2, 1)),
              (a, b)),
             (lambda a, b: b @ (a * 2.0), (a, b)),
             (lambda a, b: ad.transpose(a, (0, 2, 1)) @ ad.transpose(b, (0, 2, 1)),
              (a.astype(np.float32), b.astype(np.float32)))]
    for f, args in cases:
        got = ad.jit(f)(*args)
        want = f(*args)
        assert got.dtype == want.dtype
        tol = 1e-5 if got.dtype == np.float32 else 1e-13
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_vmap_of_matrix_vector_product_is_one_gemm():
    W, X = rng.normal(size=(7, 5)), rng.normal(size=(9, 5))
    jf = ad.jit(ad.vmap(lambda x: ad.tanh(W @ x)), threads=1)
    np.testing.assert_allclose(jf(X), np.tanh(X @ W.T), rtol=1e-12, atol=1e-14)
    src = kernel_source(jf)
    assert blas_calls(src) == 1 and "for " in src   # the gemm, then the tanh loop


def test_gradient_of_a_shared_weight_is_one_gemm():
    # x @ W with x a stack: W's gradient sums x_b.T @ g_b over the batch, as one gemm of the
    # regrouped operands; the stack of per-element products (4, 6, 3) is never built
    x, W = rng.normal(size=(4, 5, 6)), rng.normal(size=(6, 3))
    g = ad.grad(lambda x, W: ad.sum(ad.sqrt(1.0 + (x @ W) ** 2)), argnums=(0, 1))
    jf = ad.jit(g)
    for got, want in zip(jf(x, W), g(x, W)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
    src = kernel_source(jf)
    assert "(4, 6, 3)" not in src and blas_calls(src) == 3
    # the stack is still built where it is also used otherwise (here returned)
    def both(x, W):
        m = ad.transpose(x, (0, 2, 1)) @ (x @ W)
        return ad.sum(m, axis=0), m
    s, stack = ad.jit(both)(x, W)
    np.testing.assert_allclose(s, np.sum(np.swapaxes(x, 1, 2) @ (x @ W), axis=0), rtol=1e-12)
    np.testing.assert_allclose(stack, np.swapaxes(x, 1, 2) @ (x @ W), rtol=1e-12)


def test_products_with_constant_diagonal_matrices():
    # the diagonal structure of a constant: left and right, offsets, vectors, a non-uniform
    # diagonal, float32
    A, v = rng.normal(size=(5, 4)), rng.normal(size=4)
    D = np.diag([1.0, -2.0, 0.5, 3.0])
    cases = [(lambda A, v: np.eye(5, 5, k=0) @ A, None),
             (lambda A, v: A @ np.eye(4, 3, k=-1), None),
             (lambda A, v: np.eye(3, 5, k=2) @ A, None),
             (lambda A, v: A @ D, None),
             (lambda A, v: D @ v, None),
             (lambda A, v: v @ np.eye(4, 2, k=-2), None),
             (lambda A, v: ad.exp(A) @ (D * 2.0) + A, None)]
    for f, _ in cases:
        for dt in (np.float64, np.float32):
            a, b = A.astype(dt), v.astype(dt)
            want = f(a, b) if dt == np.float64 else f(a.astype(np.float64), b.astype(np.float64))
            jf = ad.jit(f)
            got = jf(a, b)
            tol = 1e-6 if dt == np.float32 else 1e-15
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
            assert not blas_calls(kernel_source(jf))


# ---------------------------------------------------------------------------------------------
# a product's operand computed on the fly (a gather building triangular factors): computed once
# into an array, then BLAS (benchmarks/bench_gmm.py)

def _tri_index(d):
    idx = np.zeros((d, d), np.int64)
    p = 1
    for j in range(d):
        for i in range(j + 1, d):
            idx[i, j] = p
            p += 1
    return idx


@pytest.mark.parametrize("d", [3, 12])
def test_gathered_operands_go_to_blas(d):
    k, n = 4, 50
    idx = _tri_index(d)
    x = rng.normal(size=(n, d))

    def f(means, icf):
        Ls = ad.concatenate([np.zeros((k, 1)), icf], axis=1)[:, idx]      # (k, d, d)
        xc = x[None, :, :] - means[:, None, :]
        Lx = xc + ad.matmul(xc, ad.transpose(Ls, (0, 2, 1)))
        return ad.sum(ad.logsumexp(-0.5 * ad.sum(Lx * Lx, axis=2), axis=0))

    means, icf = rng.normal(size=(k, d)), 0.3 * rng.normal(size=(k, d * (d - 1) // 2))
    jf = ad.jit(f)
    assert jf(means, icf) == pytest.approx(f(means, icf), rel=1e-12)
    g = ad.grad(f, argnums=(0, 1))
    jg = ad.jit(g)
    for got, want in zip(jg(means, icf), g(means, icf)):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12)
    assert jg._jit.n_eager == 0
    if d == 12:   # large enough for BLAS: the product and both of its gradient's products
        assert blas_calls(kernel_source(jf)) == 1
        assert blas_calls(kernel_source(jg)) == 3


def test_transpose_of_a_transposed_operand():
    a, b = rng.normal(size=(3, 20, 30)), rng.normal(size=(3, 30, 30))
    f = lambda a, b: ad.matmul(a, ad.transpose(ad.transpose(b * 2.0, (0, 2, 1)), (0, 2, 1)))
    jf = ad.jit(f)
    np.testing.assert_allclose(jf(a, b), a @ (b * 2.0), rtol=1e-12, atol=1e-12)
    assert blas_calls(kernel_source(jf))


@pytest.mark.parametrize("case", range(6))
def test_row_sums_of_products(case):
    # sum over the rows of c * (a @ b + y) computed as c * (sum_rows(a) @ b + sum_rows(y))
    a3, b3, y3 = rng.normal(size=(3, 40, 20)), rng.normal(size=(3, 20, 30)), \
        rng.normal(size=(3, 40, 30))
    a2, b2, y2 = a3[0], b3[0], y3[0]
    fs = [lambda a, b, y: ad.sum(-1.0 * (a @ b + y), axis=1),
          lambda a, b, y: ad.sum(2.0 * (y - a @ b), axis=-2, keepdims=True),
          lambda a, b, y: ad.sum((a @ b) * 0.5 - y * y, axis=0),
          lambda a, b, y: ad.sum(-(a @ b[0]) + y, axis=1),
          lambda a, b, y: ad.sum(a @ ad.transpose(b, (0, 2, 1)) + y[:, :, :20], axis=1),
          lambda a, b, y: ad.sum(a @ b + 1.0, axis=1)]
    args = [(a3, b3, y3), (a3, b3, y3), (a2, b2, y2), (a3, b3, y3),
            (a3, rng.normal(size=(3, 20, 20)), y3), (a3, b3, y3)][case]
    f = fs[case]
    jf = ad.jit(f)
    np.testing.assert_allclose(jf(*args), f(*args), rtol=1e-11, atol=1e-11)
    assert jf._jit.n_eager == 0
    src = kernel_source(jf)
    if case in (0, 1, 2, 3):   # the product is one row times b: never built
        full = (40, 30) if case == 2 else (3, 40, 30)
        assert "rs" in src and f"empty({full!r}" not in src


def test_row_sums_of_one_shape_share_a_pass():
    g3, x3, q = rng.normal(size=(3, 40, 20)), rng.normal(size=(3, 40, 20)), rng.normal(size=(3, 20))
    L = rng.normal(size=(3, 20, 20))

    def f(g, x, q, L):
        s1 = ad.sum(g * x, axis=1, keepdims=True)                  # (3, 1, 20)
        s2 = ad.sum(-(g @ L + g * q[:, None, :]), axis=1)          # (3, 20): a row sum of g @ L
        s3 = ad.sum(ad.sin(x) * s2[:, None, :], axis=1)            # reads s2: not in s2's pass
        s4 = ad.sum(x * x, axis=-2)
        return s1, s2, s3, s4

    jf = ad.jit(f)
    for got, want in zip(jf(g3, x3, q, L), f(g3, x3, q, L)):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)
    src = kernel_source(jf)
    assert "empty((3, 40, 20)" not in src   # g @ L never built
    gr = ad.jit(ad.grad(lambda g, x, q, L: ad.sum(ad.tanh(f(g, x, q, L)[2])), argnums=(0, 1, 2, 3)))
    want = ad.grad(lambda g, x, q, L: ad.sum(ad.tanh(f(g, x, q, L)[2])), argnums=(0, 1, 2, 3))(
        g3, x3, q, L)
    for got, w in zip(gr(g3, x3, q, L), want):
        np.testing.assert_allclose(got, w, rtol=1e-10, atol=1e-11)
    assert jf._jit.n_eager == 0 and gr._jit.n_eager == 0
