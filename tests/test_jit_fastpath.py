"""The fast path of a jitted call whose arguments hold containers (params tuples, dicts,
namedtuples): a generated entry checks the structure and the scalar types before it calls the
kernel; anything else goes through the full signature lookup. A stale kernel must never answer
for another structure, dtype, shape or scalar type."""
import collections

import numpy as np
import pytest

import adjit as ad

P = collections.namedtuple("P", "w b")


def loss(params, x):
    w, b = params[0], params[1]
    return ad.sum(ad.tanh(x @ w + b) ** 2)


def loss_d(params, x):
    return ad.sum(ad.tanh(x @ params["w"] + params["b"]) * params.get("s", 1.0))


def ref_grad(w, b, x):
    t = np.tanh(x @ w + b)
    gz = 2 * t * (1 - t * t)
    return x.T @ gz, gz.sum(0)


def test_structures_scalars_and_shapes_between_calls():
    rng = np.random.default_rng(0)
    w, b, x = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(4, 3))
    g = ad.jit(ad.grad(loss))
    gw, gb = ref_grad(w, b, x)
    for _ in range(3):   # the fast path after the first call
        got = g((w, b), x)
        assert type(got) is tuple
        np.testing.assert_allclose(got[0], gw, rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(got[1], gb, rtol=1e-9, atol=1e-14)
    got = g([w, b], x)                       # a list: the result is a list
    assert type(got) is list
    np.testing.assert_allclose(got[0], gw, rtol=1e-9, atol=1e-14)
    got = g(P(w, b), x)                      # a namedtuple comes back as one
    assert type(got) is P
    np.testing.assert_allclose(got.b, gb, rtol=1e-9, atol=1e-14)
    got = g((w, b, 7.0), x)                  # a longer tuple (its extra leaf unused)
    assert len(got) == 3 and float(got[2]) == 0.0
    x5 = rng.normal(size=(5, 3))             # another batch size
    np.testing.assert_allclose(g((w, b), x5)[0], ref_grad(w, b, x5)[0], rtol=1e-9, atol=1e-14)
    w32 = w.astype(np.float32)               # another dtype
    got = g((w32, b), x)
    assert got[0].dtype == np.float32
    np.testing.assert_allclose(got[0], gw, rtol=1e-5)
    np.testing.assert_allclose(g((w, b), x)[0], gw, rtol=1e-9, atol=1e-14)   # and back
    with pytest.raises((TypeError, ValueError)):
        g(w, x)                              # not a container: the function's own error


def test_dict_keys_and_scalar_types():
    rng = np.random.default_rng(1)
    w, b, x = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(4, 3))
    g = ad.jit(ad.grad(loss_d))
    t = np.tanh(x @ w + b)
    want = x.T @ (1 - t * t)
    for _ in range(2):
        np.testing.assert_allclose(g({"w": w, "b": b}, x)["w"], want, rtol=1e-9, atol=1e-14)
    got = g({"w": w, "b": b, "s": 2.5}, x)    # another key
    np.testing.assert_allclose(got["w"], 2.5 * want, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(got["s"], np.sum(t), rtol=1e-9, atol=1e-14)
    got = g({"w": w, "b": b, "s": 3.0}, x)    # same keys, another float
    np.testing.assert_allclose(got["w"], 3.0 * want, rtol=1e-9, atol=1e-14)
    got = g({"w": w, "b": b, "s": np.float32(2.0)}, x)   # another scalar type
    np.testing.assert_allclose(got["w"], 2.0 * want, rtol=1e-5)
    got = g({"w": w, "b": b, "t": 2.0}, x)    # same length, other keys
    np.testing.assert_allclose(got["w"], want, rtol=1e-9, atol=1e-14)


def test_vmap_threads_with_params_tuple():
    rng = np.random.default_rng(2)
    w, b = rng.normal(size=(3, 2)), rng.normal(size=2)
    xs = rng.normal(size=(64, 1, 3))
    pe = ad.jit(ad.vmap(ad.grad(loss), in_axes=(None, 0)), threads=2)
    want = [ref_grad(w, b, xi) for xi in xs]
    for _ in range(3):
        got = pe((w, b), xs)
        # kernels' SIMD tanh is within 1.3 ulp of NumPy's
        np.testing.assert_allclose(got[0], np.stack([r[0] for r in want]), rtol=1e-9,
                                   atol=1e-14)
        np.testing.assert_allclose(got[1], np.stack([r[1] for r in want]), rtol=1e-9,
                                   atol=1e-14)


def test_ndarray_subclass_after_the_fast_path_is_not_read_as_an_ndarray():
    # a masked array after plain arrays: numba took it as its data (12.0, the masked entry
    # counted); the fast path checks every argument's type, so it runs as eagerly (10.0)
    import numpy.ma as ma
    x = np.arange(4.0)
    m = ma.masked_array(x, mask=[0, 1, 0, 0])
    want = float((m * 2).sum())
    f = ad.jit(lambda x: (x * 2).sum())
    g = ad.jit(lambda p: (p[0] * 2).sum())
    for _ in range(2):
        assert float(f(x)) == 12.0 and float(g((x,))) == 12.0
    with pytest.warns(RuntimeWarning):
        assert float(f(m)) == want == 10.0
    with pytest.warns(RuntimeWarning):
        assert float(g((m,))) == want
