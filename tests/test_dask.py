"""adjit.dask on a real dask.distributed cluster: 2 worker processes, 1 thread each."""
import os
import subprocess
import sys

import numpy as np
import pytest

import adjit as ad

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
import cloudpickle  # noqa: E402  (a dependency of dask)
import dask.array as da  # noqa: E402

import adjit.dask as addask  # noqa: E402

# The workers cannot import this test module: send its functions by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

ROWS, CHUNK, FEATURES = 1200, 300, 4


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=50)
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def logistic(params, chunk):
    X, y = chunk
    z = X @ params["w"] + params["b"]
    return (ad.softplus(z) - y * z).sum()


def make_data(seed=0, rows=ROWS):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, FEATURES))
    y = (rng.random(rows) < 0.4).astype(float)
    params = {"w": rng.standard_normal(FEATURES) * 0.3, "b": 0.1}
    return X, y, params


def dask_data(X, y, chunk=CHUNK):
    return da.from_array(X, chunks=(chunk, -1)), da.from_array(y, chunks=chunk)


def assert_same(got, want):
    (v, g), (v0, g0) = got, want
    np.testing.assert_allclose(v, v0, rtol=1e-12)
    assert sorted(g) == sorted(g0)
    for k in g0:
        np.testing.assert_allclose(g[k], g0[k], rtol=1e-11, atol=1e-12)


def test_gradient_matches_single_machine(client):
    X, y, params = make_data()
    want = ad.value_and_grad(logistic)(params, (X, y))
    got = addask.value_and_grad(logistic, params, dask_data(X, y))
    assert_same(got, want)
    # y chunked differently from X: it gets X's row chunks
    Xd, _ = dask_data(X, y)
    got = addask.value_and_grad(logistic, params, (Xd, da.from_array(y, chunks=500)),
                                split_every=2)
    assert_same(got, want)


def test_single_array_data_and_tuple_params(client):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((ROWS, 3))

    def least_squares(p, block):
        a, c = p
        r = block[:, :2] @ a + c - block[:, 2]
        return (r * r).sum()

    p = (np.array([0.5, -1.0]), np.float64(0.25))
    want = ad.value_and_grad(least_squares)(p, A)
    v, g = addask.value_and_grad(least_squares, p, da.from_array(A, chunks=(CHUNK, 3)))
    np.testing.assert_allclose(v, want[0], rtol=1e-12)
    assert isinstance(g, tuple) and len(g) == 2
    for a, b in zip(g, want[1]):
        np.testing.assert_allclose(a, b, rtol=1e-11)


def test_survives_a_worker_dying_mid_computation(client, tmp_path):
    marker = str(tmp_path / "killed-once")
    here = os.getpid()

    def fragile(params, chunk):
        # the first worker to trace this dies on the spot; Dask reruns its task elsewhere
        if os.getpid() != here:
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                pass
            else:
                os._exit(1)
        return logistic(params, chunk)

    X, y, params = make_data(2)
    want = ad.value_and_grad(logistic)(params, (X, y))
    got = addask.value_and_grad(fragile, params, dask_data(X, y), retries=1)
    assert os.path.exists(marker)       # a worker really died
    assert_same(got, want)


def test_nan_chunk_is_named(client):
    X, y, params = make_data(3)
    X[750, 2] = np.nan
    X[790, 0] = np.inf
    with pytest.raises(addask.ChunkError) as e:
        addask.value_and_grad(logistic, params, dask_data(X, y))
    msg = str(e.value)
    assert "chunk 2 (rows 600:900)" in msg and "row 750 " in msg and "data[0]" in msg, msg
    assert "2 such rows" in msg, msg
    assert e.value.index == 2 and tuple(e.value.rows) == (600, 900)


def test_wrong_block_shape_is_named(client):
    X, y, params = make_data(4)
    Xd, yd = dask_data(X, y)
    # a block that is not what the dask array declares (a from_delayed with a wrong shape)
    short = da.from_delayed(dask.delayed(np.ones)((CHUNK - 1, FEATURES)), (CHUNK, FEATURES),
                            dtype=float)
    Xbad = da.concatenate([Xd[:CHUNK], short, Xd[2 * CHUNK:]])
    with pytest.raises(addask.ChunkError, match=r"chunk 1 \(rows 300:600\) of data\[0\] has "
                       r"shape \(299, 4\), but the dask array declares \(300, 4\)"):
        addask.value_and_grad(logistic, params, (Xbad, yd))


def test_loss_error_is_named(client):
    X, y, params = make_data(5)
    params["w"] = np.zeros(FEATURES + 1)
    with pytest.raises(addask.ChunkError, match=r"the loss failed on chunk \d \(rows \d+:\d+\)"):
        addask.value_and_grad(logistic, params, dask_data(X, y))


def test_bad_data_is_refused_before_computing():
    X, y, params = make_data(6)
    Xd, _ = dask_data(X, y)
    with pytest.raises(ValueError, match=r"same number of rows.*\(1200, 4\).*\(1199,\)"):
        addask.value_and_grad(logistic, params, (Xd, da.from_array(y[:-1])))
    with pytest.raises(TypeError, match="from_array"):
        addask.value_and_grad(logistic, params, (X, y))


def test_map_hessians_at_many_points(client):
    def f(x, scale):
        return scale * (ad.sin(x[0]) * x[1] ** 3 + ad.exp(x[0] * x[2]))

    pts = np.random.default_rng(7).standard_normal((40, 3))
    H = addask.map(ad.hessian(f), da.from_array(pts, chunks=(10, 3)), 2.0)
    assert H.shape == (40, 3, 3) and H.chunks[0] == (10,) * 4
    want = np.stack([ad.hessian(f)(p, 2.0) for p in pts])
    np.testing.assert_allclose(H.compute(), want, rtol=1e-12)

    pts[13, 1] = np.nan
    with pytest.raises(addask.ChunkError, match=r"chunk 1 \(rows 10:20\).*row 13 "):
        addask.map(ad.hessian(f), da.from_array(pts, chunks=(10, 3)), 2.0).compute()


def test_import_adjit_does_not_import_dask():
    code = ("import sys, adjit; "
            "assert 'dask' not in sys.modules and 'distributed' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_local_scheduler_when_configured(client):
    X, y, params = make_data(8)
    want = ad.value_and_grad(logistic)(params, (X, y))
    with dask.config.set(scheduler="sync"):
        got = addask.value_and_grad(logistic, params, dask_data(X, y))
    assert_same(got, want)


def test_jitted_functions_run_on_the_workers(client):
    # ad.jit objects pickle (function and options); each worker traces and loads the kernel
    g = ad.jit(ad.grad(lambda x: (ad.sin(x) * x).sum()))
    xs = [np.linspace(0.0, 1.0, 5) + k for k in range(4)]
    for x, r in zip(xs, client.gather(client.map(g, xs))):
        np.testing.assert_allclose(r, np.sin(x) + x * np.cos(x), rtol=1e-14)
