"""Reductions in the multi-threaded kernel of ad.jit(ad.vmap(f)) (jit/parloops.py): a sum over
a per-example axis that is not the last (the batch axis kept: the general accumulation loop)
and a pairwise sum of one block (<= 128 terms, register accumulators, no shared scratch) run as
`prange`s over the batch; so do longer pairwise sums, with scratch of their own per iteration
(they stayed serial: per-example value_and_grad of a 1,000-term sum ran 0.99x on two threads).
Each output element's additions keep their order, so the result is bit for bit the one-thread
kernel's."""
import numpy as np
import pytest

import adjit as ad
from adjit.jit import parloops

B = parloops.PAR_MIN // 64 + 5   # with 8 x 8 examples: big enough for a parallel loop


def sources(jitted):
    return [open(s.path).read() for ss in jitted._pjit._jit.cache.values() for s in ss]


def _long_body(x):
    y = x
    for _ in range(8):
        y = ad.sin(y) * 0.9 + ad.cos(x) * 0.1
    return y


CASES = {
    "pairwise_last": (lambda x: ad.sum(ad.tanh(x) * x, axis=-1), True),
    "mean_last": (lambda x: ad.mean(ad.exp(-x * x), axis=1), True),
    "sum_first": (lambda x: ad.sum(x * x, axis=0), True),
    "max_first": (lambda x: ad.max(ad.sin(x), axis=0), True),
    "grad_sum_first": (ad.grad(lambda x: ad.sum(ad.tanh(ad.sum(x, axis=0)) ** 2)), True),
    "pairwise_long": (lambda x: ad.sum(ad.cos(x)), True),   # 256 terms: two blocks
    # a long body (past 24 lines: the block's accumulators in scratch) over two blocks
    "pairwise_long_body": (lambda x: ad.sum(_long_body(x)), True),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", CASES)
def test_reductions_on_threads_equal_the_one_thread_kernel(name, dtype):
    f, parallel = CASES[name]
    X = np.random.default_rng(0).normal(size=(B, 8, 8)).astype(dtype)
    if name.startswith("pairwise_long"):
        X = np.random.default_rng(0).normal(size=(B, 16, 16)).astype(dtype)
    pe = ad.vmap(f)
    par, one = ad.jit(pe, threads=2), ad.jit(pe, threads=1)
    got, want = par(X), one(X)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(got, pe(X), rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-6 if dtype == np.float32 else 1e-13)
    src = "".join(sources(par))
    assert ("prange(" in src) == parallel


def test_one_block_pairwise_sum_equals_numpy_bit_for_bit():
    """The register form of a one-block pairwise sum adds as NumPy does (no tanh: exact)."""
    X = np.random.default_rng(1).normal(size=(B, 8, 37))
    got = ad.jit(ad.vmap(lambda x: ad.sum(x * x, axis=-1)), threads=2)(X)
    np.testing.assert_array_equal(got, np.sum(X * X, axis=-1))
