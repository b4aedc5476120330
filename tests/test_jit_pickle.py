"""`ad.jit` objects pickle as their function and options (never compiled state), so they can be
sent to other processes (multiprocessing, Dask workers), which trace and load the kernel again."""
import pickle
import subprocess
import sys

import numpy as np
import pytest

import adjit as ad


def rosen(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


@ad.jit
def cube_sum(x):
    return (x * x * x).sum()


X = np.linspace(-1.0, 1.5, 7)


def test_plain_pickle_of_jit_of_importable_function():
    g = ad.jit(rosen, max_specializations=3)
    want = g(X)
    data = pickle.dumps(g)
    assert len(data) < 2000          # the function and options, not kernels
    h = pickle.loads(data)
    assert h is not g and h._jit.max_spec == 3 and h._jit.n_traces == 0
    np.testing.assert_array_equal(h(X), want)
    assert h._jit.n_traces == 1 and h._jit.n_eager == 0   # traced again, compiled (loaded)


def test_plain_pickle_of_decorated_function_is_by_name():
    cube_sum(X)
    h = pickle.loads(pickle.dumps(cube_sum))
    assert h is cube_sum
    np.testing.assert_allclose(h(X), (X ** 3).sum(), rtol=1e-14)


def test_cloudpickle_of_jit_of_a_transform_of_a_lambda():
    # ad.grad(...) returns a closure: plain pickle cannot take it, cloudpickle (Dask's) can
    cloudpickle = pytest.importorskip("cloudpickle")
    k = 3.0
    g = ad.jit(ad.grad(lambda x: k * ad.sin(x).sum()), max_specializations=2)
    h = cloudpickle.loads(cloudpickle.dumps(g))
    assert h._jit.max_spec == 2 and h._jit.n_traces == 0
    np.testing.assert_allclose(h(X), 3.0 * np.cos(X), rtol=1e-15)
    assert h._jit.n_traces == 1 and h._jit.n_eager == 0


def test_unpickled_in_a_fresh_process():
    cloudpickle = pytest.importorskip("cloudpickle")
    g = ad.jit(ad.value_and_grad(lambda x: (x ** 4).sum()))
    code = ("import pickle, sys, numpy as np; g = pickle.loads(sys.stdin.buffer.read()); "
            "v, d = g(np.arange(3.0)); print(float(v), d.tolist())")
    p = subprocess.run([sys.executable, "-c", code], input=cloudpickle.dumps(g),
                       capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout.decode().split() == ["17.0", "[0.0,", "4.0,", "32.0]"]


class Model:
    scale = 2.0

    @ad.jit
    def energy(self, x):
        return self.scale * (x * x).sum()


def test_jit_still_binds_as_a_method():
    assert Model().energy(np.ones(3)) == 6.0
    assert Model.energy(Model(), np.ones(2)) == 4.0


def test_name_and_doc_kept():
    assert rosen.__name__ in ad.jit(rosen).__name__
    assert ad.jit(rosen).__wrapped__ is rosen
