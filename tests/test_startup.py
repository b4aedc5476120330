"""Start-up (issue 7): kernels are cached on disk and loaded only when first used.

Structural checks in fresh processes with their own, empty ADJIT_CACHE_DIR and NUMBA_CACHE_DIR
(wall-clock figures are in benchmarks/startup.py, not asserted here):
  * `import adjit` imports no numba, compiles nothing and writes no cache file;
  * gradients on small arrays (the NumPy path) still need no numba;
  * the first large-array gradient builds exactly the kernels it uses and caches them;
  * a second process loads those kernels from the cache (numba's dispatcher stats: hits, no
    misses) and rewrites no cache file.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest


def _files(d):
    out = {}
    for root, _, names in os.walk(d):
        for n in names:
            p = os.path.join(root, n)
            out[os.path.relpath(p, d)] = os.stat(p).st_mtime_ns
    return out


def _run(code, dirs):
    env = dict(os.environ, ADJIT_CACHE_DIR=dirs["adjit"], NUMBA_CACHE_DIR=dirs["numba"])
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture
def dirs(tmp_path):
    d = {"adjit": str(tmp_path / "adjit"), "numba": str(tmp_path / "numba")}
    return d


def test_import_compiles_nothing_and_writes_no_cache_file(dirs):
    res = _run("""
        import json, sys
        import adjit
        print(json.dumps({"numba": "numba" in sys.modules,
                          "llvmlite": "llvmlite" in sys.modules,
                          "kernels": sorted(adjit.kernels._built)}))
    """, dirs)
    assert res == {"numba": False, "llvmlite": False, "kernels": []}
    assert _files(dirs["adjit"]) == {} and _files(dirs["numba"]) == {}


def test_small_array_gradients_need_no_kernel(dirs):
    res = _run("""
        import json, sys
        import numpy as np
        import adjit as ad
        x = ad.tensor(np.linspace(0.1, 1.0, 100), requires_grad=True)
        ad.sum(ad.sin(x) * ad.exp(x)).backward()
        g = ad.grad(lambda v: ad.sum(ad.tanh(v) ** 2))(np.ones(10))
        h = ad.hessian(lambda v: ad.sum(ad.log(v) * v))(np.ones(3))
        print(json.dumps({"numba": "numba" in sys.modules,
                          "kernels": sorted(ad.kernels._built)}))
    """, dirs)
    assert res == {"numba": False, "kernels": []}
    assert _files(dirs["adjit"]) == {} and _files(dirs["numba"]) == {}


FIRST_GRADIENT = """
    import json, sys
    import numpy as np
    import adjit as ad
    from adjit import kernels
    x = np.linspace(0.1, 1.0, 100_000)
    g = ad.grad(lambda v: ad.sum(ad.sin(v) * ad.exp(v)))(x)
    assert np.allclose(g, np.cos(x) * np.exp(x) + np.sin(x) * np.exp(x))
    stats = {}
    for name, k in kernels._built.items():
        s = k.loop.stats
        stats[name] = [sum(s.cache_hits.values()), sum(s.cache_misses.values())]
    print(json.dumps(stats))
"""


def test_kernels_are_built_on_first_use_then_loaded_from_the_disk_cache(dirs):
    cold = _run(FIRST_GRADIENT, dirs)
    # exactly the kernels this gradient needs: d sin, d exp (the output), d mul (both sides)
    assert sorted(cold) == ["exp__d0", "mul__d0", "mul__d1", "sin__d0"]
    assert all(misses >= 1 and hits == 0 for hits, misses in cold.values()), cold
    files = _files(dirs["adjit"]) | {f"numba/{k}": v for k, v in _files(dirs["numba"]).items()}
    assert any(f.startswith("adjit_kernels_") and f.endswith(".py") for f in files)
    cached = [f for f in files if f.endswith(".nbi")]
    for name in cold:
        assert any(f"{name}__loop" in f for f in cached), (name, cached)
    assert not any("tanh__d0" in f for f in cached), "a kernel nobody used was compiled"

    warm = _run(FIRST_GRADIENT, dirs)
    assert sorted(warm) == sorted(cold)
    assert all(hits >= 1 and misses == 0 for hits, misses in warm.values()), warm
    again = _files(dirs["adjit"]) | {f"numba/{k}": v for k, v in _files(dirs["numba"]).items()}
    assert again == files, "the warm process rewrote cache files"


def test_a_cache_written_by_one_process_serves_a_second_kernel_later(dirs):
    _run(FIRST_GRADIENT, dirs)
    res = _run("""
        import json
        import numpy as np
        import adjit as ad
        from adjit import kernels
        x = np.linspace(-1.0, 1.0, 10_000)
        g = ad.grad(lambda v: ad.sum(ad.tanh(v)))(x)      # a new kernel: compiled now
        assert np.allclose(g, 1 - np.tanh(x) ** 2)
        s = kernels._built["tanh__d0"].loop.stats
        print(json.dumps([sum(s.cache_hits.values()), sum(s.cache_misses.values())]))
    """, dirs)
    assert res == [0, 1]
    # and the module file is shared: still one generated kernel module
    mods = [f for f in _files(dirs["adjit"]) if f.startswith("adjit_kernels_")]
    assert len(mods) == 1, mods


def test_numba_start_up_imports_no_scipy_linalg(dirs):
    # numba's start-up imported the whole scipy.linalg package for its BLAS check (most of a
    # cached kernel's load time): kernels/blasload.py loads scipy.linalg.cython_blas alone
    code = """
        import json, sys
        import numpy as np
        import adjit as ad
        x = np.linspace(0.1, 1.0, 50).reshape(10, 5)
        f = ad.jit(ad.grad(lambda w: ad.sum(ad.tanh(x @ w) ** 2)))
        g = f(np.ones(5))
        before = "scipy.linalg" in sys.modules
        import scipy.linalg
        import scipy.linalg.cython_blas as cb
        ok = (scipy.linalg.cython_blas is cb and "dgemm" in cb.__pyx_capi__
              and np.allclose(scipy.linalg.solve(np.eye(2) * 2, np.ones(2)), 0.5))
        want = ad.grad(lambda w: ad.sum(ad.tanh(x @ w) ** 2))(np.ones(5))
        print(json.dumps({"scipy.linalg": before, "ok": bool(ok),
                          "grad": bool(np.allclose(g, want, rtol=1e-12))}))
    """
    for _ in ("compile", "load"):
        res = _run(code, dirs)
        assert res == {"scipy.linalg": False, "ok": True, "grad": True}
