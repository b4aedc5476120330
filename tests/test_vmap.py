"""ad.vmap against a Python loop over the batch: every row on its op-info samples, random
programs, pytrees and axes, and the compositions with the other transforms (per-example
gradients, jacfwd of a vmap, vmap of a hessian, jit of a vmap)."""
import numpy as np
import pytest

import adjit as ad
from adjit.testing.opinfo import cases, weights
from test_random_programs import make_program as any_program
from test_random_programs import run

B = 3
CASES = [c for c in cases() if c.inputs and all(np.ndim(x) >= 0 for x in c.inputs)]


def make_program(rng):
    """A random program without steps that read a value into Python (float(x), an `if` on a
    value: not defined on a batch; test_clear_errors checks that they raise)."""
    while True:
        shapes, steps = any_program(rng)
        if all(kind != "p" and name != "branch" for kind, name, _ in steps):
            return shapes, steps


def loop(f, in_axes, *args):
    """The reference: f on each element, stacked (in_axes None or 0 per argument)."""
    n = next(len(a) for a, ax in zip(args, in_axes) if ax is not None)
    outs = [f(*[a if ax is None else a[i] for a, ax in zip(args, in_axes)]) for i in range(n)]
    return np.stack([np.asarray(o) for o in outs])


def batch_of(rng, x):
    """B inputs around x (same shape, values near x: the row's domain)."""
    x = np.asarray(x)
    return np.stack([x + 0.01 * k * rng.uniform(-1, 1, size=x.shape) for k in range(B)])


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_every_row_batches_like_a_loop(case):
    rng = np.random.default_rng(1)
    xs = [batch_of(rng, x) for x in case.inputs]
    # all inputs batched, and each input batched alone (the others broadcast)
    for axes in [(0,) * len(xs)] + ([tuple(0 if j == i else None for j in range(len(xs)))
                                     for i in range(len(xs))] if len(xs) > 1 else []):
        args = [x if ax == 0 else x0 for x, x0, ax in zip(xs, case.inputs, axes)]
        got = ad.vmap(case.fn, in_axes=axes)(*args)
        np.testing.assert_allclose(got, loop(case.fn, axes, *args), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_every_row_differentiates_per_example(case):
    """vmap over grad (reverse rules on batched values) and over jacfwd (forward rules),
    against loops: the rules read shapes of batched values, never their values."""
    rng = np.random.default_rng(2)
    xs = [batch_of(rng, x) for x in case.inputs]
    w = weights(np.shape(case.fn(*case.inputs)))

    def scalar(*a):
        return ad.sum(case.fn(*a) * w)
    axes = (0,) * len(xs)
    for t in (ad.grad(scalar, argnums=tuple(range(len(xs)))),
              ad.jacfwd(scalar, argnums=tuple(range(len(xs))))):
        got = ad.vmap(t)(*xs)
        for k in range(len(xs)):
            want = loop(lambda *a: t(*a)[k], axes, *xs)
            np.testing.assert_allclose(got[k], want, rtol=1e-8, atol=1e-10)


def test_per_example_gradients_of_random_programs():
    rng = np.random.default_rng(7)
    for _ in range(25):
        shapes, steps = make_program(rng)
        xs = [rng.normal(size=(B,) + s) for s in shapes]
        f = lambda *a: run(steps, a)   # noqa: E731
        axes = (0,) * len(xs)
        np.testing.assert_allclose(ad.vmap(f)(*xs), loop(f, axes, *xs), rtol=1e-10)
        g = ad.vmap(ad.grad(f))(*xs)
        np.testing.assert_allclose(g, loop(ad.grad(f), axes, *xs), rtol=1e-9, atol=1e-12)
        # the first argument shared (None), the others batched
        ax2 = (None,) + axes[1:]
        a2 = [xs[0][0]] + xs[1:]
        if len(xs) > 1:
            got = ad.vmap(ad.grad(f), in_axes=ax2)(*a2)
            np.testing.assert_allclose(got, loop(ad.grad(f), ax2, *a2), rtol=1e-9, atol=1e-12)


def test_random_programs_in_every_composition():
    """jacfwd and jacrev of a vmap (block diagonal), vmap of hessian, jit of vmap of grad."""
    rng = np.random.default_rng(11)
    for p in range(4):
        shapes, steps = make_program(rng)
        xs = [rng.normal(size=(B,) + s) for s in shapes]
        f = lambda *a: run(steps, a)   # noqa: E731
        axes = (0,) * len(xs)
        J = ad.jacfwd(ad.vmap(f))(*xs)          # (B,) + (B,) + shape of x0
        Jr = ad.jacrev(ad.vmap(f))(*xs)
        g0 = loop(ad.grad(f), axes, *xs)   # the gradient in the first argument
        for i in range(B):
            np.testing.assert_allclose(J[i, i], g0[i], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(Jr[i, i], g0[i], rtol=1e-9, atol=1e-12)
        if len(xs) == 1:
            np.testing.assert_allclose(ad.vmap(ad.hessian(f))(*xs),
                                       loop(ad.hessian(f), axes, *xs), rtol=1e-8, atol=1e-10)
        if p < 2:
            got = ad.jit(ad.vmap(ad.grad(f)))(*xs)
            np.testing.assert_allclose(got, loop(ad.grad(f), axes, *xs), rtol=1e-9,
                                       atol=1e-12)


def mlp_loss(params, x, y):
    W1, b1, W2 = params
    h = ad.tanh(x @ W1 + b1)
    return ad.sum((h @ W2 - y) ** 2)


def test_per_example_gradients_with_pytree_params():
    rng = np.random.default_rng(2)
    params = (rng.normal(size=(4, 5)), rng.normal(size=5), rng.normal(size=(5, 2)))
    X, Y = rng.normal(size=(6, 4)), rng.normal(size=(6, 2))
    got = ad.vmap(ad.grad(mlp_loss), in_axes=(None, 0, 0))(params, X, Y)
    for k in range(3):
        want = np.stack([ad.grad(mlp_loss)(params, X[i], Y[i])[k] for i in range(6)])
        np.testing.assert_allclose(got[k], want, rtol=1e-10)


def test_per_example_gradients_agree_with_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    rng = np.random.default_rng(3)
    params = (rng.normal(size=(4, 5)), rng.normal(size=5), rng.normal(size=(5, 2)))
    X, Y = rng.normal(size=(6, 4)), rng.normal(size=(6, 2))

    def jloss(p, x, y):
        return jnp.sum((jnp.tanh(x @ p[0] + p[1]) @ p[2] - y) ** 2)
    want = jax.vmap(jax.grad(jloss), in_axes=(None, 0, 0))(params, X, Y)
    got = ad.vmap(ad.grad(mlp_loss), in_axes=(None, 0, 0))(params, X, Y)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, np.asarray(w), rtol=1e-10, atol=1e-14)


def f2(x):
    return ad.sin(x) * ad.sum(x ** 2) + ad.softmax(x, axis=-1)


def test_jacfwd_of_vmap_and_vmap_of_jacobians():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(B, 3))
    J = ad.jacfwd(ad.vmap(f2))(X)   # (B, 3, B, 3), block diagonal
    for i in range(B):
        np.testing.assert_allclose(J[i, :, i, :], ad.jacfwd(f2)(X[i]), rtol=1e-10)
        for j in range(B):
            if j != i:
                assert np.all(J[i, :, j, :] == 0)
    np.testing.assert_allclose(ad.vmap(ad.jacfwd(f2))(X), loop(ad.jacfwd(f2), (0,), X),
                               rtol=1e-10)
    np.testing.assert_allclose(ad.vmap(ad.jacrev(f2))(X), loop(ad.jacrev(f2), (0,), X),
                               rtol=1e-10)


def test_vmap_of_hessian():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(B, 3))
    h = lambda x: ad.sum(ad.tanh(x) ** 2) * ad.logsumexp(x)   # noqa: E731
    np.testing.assert_allclose(ad.vmap(ad.hessian(h))(X), loop(ad.hessian(h), (0,), X),
                               rtol=1e-9)


def test_jit_of_vmap():
    rng = np.random.default_rng(6)
    params = (rng.normal(size=(4, 5)), rng.normal(size=5), rng.normal(size=(5, 2)))
    X, Y = rng.normal(size=(6, 4)), rng.normal(size=(6, 2))
    pe = ad.vmap(ad.grad(mlp_loss), in_axes=(None, 0, 0))
    got = ad.jit(pe)(params, X, Y)
    want = pe(params, X, Y)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10)
    np.testing.assert_allclose(ad.jit(ad.vmap(f2))(X[:, :3]), ad.vmap(f2)(X[:, :3]),
                               rtol=1e-12)


def test_axes_pytrees_and_nesting():
    rng = np.random.default_rng(8)
    A, v = rng.normal(size=(4, 3, 2)), rng.normal(size=(2, 3))
    f = lambda d: d["a"] @ d["v"]   # noqa: E731
    got = ad.vmap(f, in_axes=({"a": 2, "v": 0},), out_axes=1)({"a": A, "v": v})
    want = np.stack([A[:, :, i] @ v[i] for i in range(2)], axis=1)
    np.testing.assert_allclose(got, want)
    # nested vmap: an outer product of two batches
    g = ad.vmap(ad.vmap(lambda x, y: ad.sum(x * y), in_axes=(None, 0)), in_axes=(0, None))
    X, Y = rng.normal(size=(3, 5)), rng.normal(size=(4, 5))
    np.testing.assert_allclose(g(X, Y), X @ Y.T)
    # an output that does not depend on the batch is repeated (out_axes int) or kept (None)
    c = ad.vmap(lambda x: (ad.sum(x), 2.0 * np.ones(2)), out_axes=(0, None))(X)
    np.testing.assert_allclose(c[0], X.sum(1))
    np.testing.assert_allclose(c[1], 2.0 * np.ones(2))
    np.testing.assert_allclose(ad.vmap(lambda x: np.ones(2))(X), np.ones((3, 2)))


def test_vmap_of_tensors_records_for_backward():
    X = ad.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    y = ad.sum(ad.vmap(lambda x: ad.sum(x ** 2) * x)(X))
    y.backward()
    x = np.arange(6.0).reshape(3, 2)
    want = 2 * x * x.sum(1, keepdims=True) + (x ** 2).sum(1, keepdims=True)
    np.testing.assert_allclose(X.grad.numpy(), want)


def test_clear_errors():
    X = np.ones((3, 2))
    with pytest.raises(ValueError, match="different sizes"):
        ad.vmap(lambda a, b: a + b)(X, np.ones((4, 2)))
    with pytest.raises(ValueError, match="no argument is batched"):
        ad.vmap(lambda a: a, in_axes=None)(X)
    with pytest.raises(TypeError, match="Python control flow"):
        ad.vmap(lambda a: a if ad.sum(a) > 0 else -a)(X)
    with pytest.raises(ValueError, match="out_axes is None"):
        ad.vmap(lambda a: a, out_axes=None)(X)
    with pytest.raises(ValueError, match="in_axes has 2 entries"):
        ad.vmap(lambda a: a, in_axes=(0, 0))(X)


def test_rows_without_a_rule_loop():
    sq = ad.custom_op("vmap_test_cube", lambda x: x ** 3, lambda g, y, x: (3 * g * x ** 2,),
                      jvp=lambda ts, y, x: 3 * ts[0] * x ** 2)
    X = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(ad.vmap(sq)(X), X ** 3)
    # its compiled VJP runs once per element under per-example gradients (gradients of a
    # vmap through it loop like its values)
    np.testing.assert_allclose(ad.vmap(ad.grad(lambda x: ad.sum(sq(x))))(X), 3 * X ** 2)
    np.testing.assert_allclose(ad.grad(lambda X: ad.sum(ad.vmap(sq)(X)))(X), 3 * X ** 2)


def test_composites_that_read_values_see_each_element():
    """logdet/slogdet read the sign of det, clip its bounds: per element under vmap (a bug
    here gave one element's sign, or NaN, for all)."""
    rng = np.random.default_rng(9)
    A = rng.normal(size=(6, 3, 3))
    A[0] = np.diag([1.0, -2.0, 3.0])   # det < 0: logdet is NaN there, as PyTorch
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(ad.vmap(ad.logdet)(A), loop(ad.logdet, (0,), A))
    np.testing.assert_allclose(ad.vmap(lambda a: ad.slogdet(a)[0])(A), np.linalg.slogdet(A)[0])
    x, lo = rng.normal(size=(4, 3)), 0.3 * rng.normal(size=4)
    clipped = ad.vmap(lambda x, lo: ad.clip(x, lo, 1.0))(x, lo)
    np.testing.assert_allclose(clipped, np.clip(x, lo[:, None], 1.0))
    g = ad.vmap(ad.grad(lambda x, lo: ad.sum(ad.clip(x, lo, 1.0)), argnums=(0, 1)))(x, lo)
    np.testing.assert_allclose(g[0], ((x > lo[:, None]) & (x < 1.0)).astype(float))
    np.testing.assert_allclose(g[1], (x < lo[:, None]).sum(1).astype(float))


def test_comparisons_and_masks_per_element():
    rng = np.random.default_rng(12)
    X, y = rng.normal(size=(4, 3)), rng.normal(size=4)
    f = lambda x, t: ad.where(x > t, x, 0.0) + (x <= t) * 1.0   # noqa: E731
    np.testing.assert_allclose(ad.vmap(f)(X, y), loop(f, (0, 0), X, y))
    np.testing.assert_array_equal(ad.vmap(lambda x: x > 0)(X), X > 0)

