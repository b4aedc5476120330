"""The kernels' allocations (jit/alloc.py): numba intrinsics, not np.empty/np.zeros, whose
overloads compiled a function of their own per (ndim, dtype) in every new process (~1 s of a GMM
gradient's first call)."""
import os
import sys

import numpy as np
import pytest
from numba import njit

import adjit as ad
from adjit.jit.alloc import empty, zeros


@njit(cache=False)
def _allocations(n):
    a = zeros((n, 3), np.float64)
    b = empty(n, np.int64)
    c = zeros((2, n, 2), np.complex128)
    d = zeros((), np.float32)
    e = zeros(n, np.bool_)
    b[:] = 7
    return a, b, c, d, e


def test_intrinsics_allocate_as_numpy():
    a, b, c, d, e = _allocations(4)
    for got, want in zip((a, b, c, d, e), (np.zeros((4, 3)), np.full(4, 7), np.zeros(
            (2, 4, 2), np.complex128), np.zeros((), np.float32), np.zeros(4, bool))):
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.flags.c_contiguous and got.flags.writeable
        np.testing.assert_array_equal(got, want)
    assert _allocations(0)[0].shape == (0, 3)


def test_too_big_raises_numpys_error():
    with pytest.raises(ValueError, match="array is too big"):
        _allocations(2 ** 62)


def test_kernels_call_no_numpy_allocation_overload(tmp_path, monkeypatch):
    monkeypatch.setenv("ADJIT_CACHE_DIR", str(tmp_path))    # compiled here, not loaded

    def f(x, w):
        h = ad.tanh(x[:, None, :] * w[None, :, :] + x.sum())
        return ad.sum(ad.matmul(h, h.transpose((0, 2, 1))) ** 2) + ad.sum(h, axis=(1, 2))[0]
    x, w = np.linspace(-1, 1, 6).reshape(2, 3), np.linspace(0, 1, 12).reshape(4, 3)
    jg = ad.jit(ad.grad(f, argnums=(0, 1)))
    for got, want in zip(jg(x, w), ad.grad(f, argnums=(0, 1))(x, w)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert not jg._jit.n_eager
    [path] = {s.path for specs in jg._jit.cache.values() for s in specs}
    src = open(path).read()
    assert "empty(" in src and "np.empty" not in src and "np.zeros" not in src
    kernel = sys.modules[os.path.basename(path)[:-3]].kernel
    called = {t.typing_key for cres in kernel.overloads.values()
              for t in cres.type_annotation.typemap.values() if hasattr(t, "typing_key")}
    assert not called & {np.empty, np.zeros}
