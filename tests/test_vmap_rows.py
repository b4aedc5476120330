"""Rows that once had no batching rule (expm, the LU pivots' permutations lu_swap / lu_unswap,
the FFT rows): under ad.vmap each is one batched call, not a Python loop over the batch
(transforms/batching.py's `_loop`), so ad.jit(ad.vmap(...)) of a program using them traces a
few ops whatever the batch size (before: one copy per element, past the trace limit and eager
at a batch of a few hundred). Values and per-example derivatives in both modes vs a loop."""
import warnings

import numpy as np
import pytest

import adjit as ad
from adjit.scipy import linalg as sl
from adjit.transforms import batching


@pytest.fixture
def no_loop(monkeypatch):
    """Fails a test in which a row runs once per batch element."""
    def fail(op, *a, **k):
        raise AssertionError(f"row '{op.name}' ran once per batch element under ad.vmap")
    monkeypatch.setattr(batching, "_loop", fail)


def expm_loss(a):
    return ad.sum(sl.expm(a) * np.arange(9.0).reshape(3, 3))


def lu_loss(a):
    lu, piv = sl.lu_factor(a)
    x = sl.lu_solve((lu, piv), np.array([1.0, -2.0, 0.5]))
    x2 = sl.lu_solve((lu, piv), np.ones((3, 2)), trans=1)
    return ad.sum(x ** 2) + ad.sum(lu * lu) + ad.sum(ad.sin(x2))


def fft_loss(x):
    F = ad.fft.rfft(x, n=6)
    G = ad.fft.fftshift(ad.fft.fft(x))
    return ad.sum(ad.abs(F) ** 2) + ad.sum(ad.real(G * np.arange(5.0)))


def matrices(rng, b=4):
    # well conditioned, rows out of order so the pivots permute
    return rng.normal(size=(b, 3, 3)) * 0.4 + np.eye(3)[[2, 0, 1]]


CASES = [(expm_loss, matrices), (lu_loss, matrices),
         (fft_loss, lambda rng, b=4: rng.normal(size=(b, 5)))]


def loop(f, X):
    return np.stack([np.asarray(f(x)) for x in X])


def test_every_registered_row_has_a_rule():
    """Only ops made with ad.custom_op (other tests register some) loop."""
    from adjit.core.registry import OPS
    assert [n for n in batching.loop_rows()
            if OPS[n].primal.__module__ != "adjit.core.custom"] == []


@pytest.mark.parametrize("f,draw", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_values_and_derivatives_batch_like_a_loop(f, draw, no_loop):
    X = draw(np.random.default_rng(0))
    np.testing.assert_allclose(ad.vmap(f)(X), loop(f, X), rtol=1e-12, atol=1e-12)
    for t in (ad.grad(f), ad.jacfwd(f)):
        np.testing.assert_allclose(ad.vmap(t)(X), loop(t, X), rtol=1e-10, atol=1e-12)


def test_lu_pivots_batched_against_a_shared_right_side(no_loop):
    """lu_swap / lu_unswap with one operand batched and the other shared, of either rank."""
    X = matrices(np.random.default_rng(1))
    B = np.random.default_rng(2).normal(size=(2, 3, 4))   # a stack of right sides, shared
    f = lambda a, b: sl.lu_solve(sl.lu_factor(a), b)   # noqa: E731
    want = np.stack([np.linalg.solve(a, B) for a in X])
    np.testing.assert_allclose(ad.vmap(f, in_axes=(0, None))(X, B), want, rtol=1e-10)
    g = ad.vmap(ad.grad(lambda a, b: ad.sum(f(a, b) ** 2), argnums=1), in_axes=(None, 0))
    np.testing.assert_allclose(g(X[0], B[None].repeat(3, 0)),
                               loop(ad.grad(lambda b: ad.sum(f(X[0], b) ** 2)),
                                    B[None].repeat(3, 0)), rtol=1e-10)


@pytest.mark.parametrize("f,draw", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_jit_of_vmap_compiles_one_batched_call(f, draw, no_loop):
    X = draw(np.random.default_rng(3), 6)
    pe = ad.vmap(ad.grad(f))
    jitted = ad.jit(pe)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no "running eagerly" warning
        got = jitted(X)
    np.testing.assert_allclose(got, pe(X), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got, loop(ad.grad(f), X), rtol=1e-10, atol=1e-12)
    assert jitted._jit.n_eager == 0
