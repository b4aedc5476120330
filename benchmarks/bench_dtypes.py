"""float32 against float64 (issue 13): the Rosenbrock gradient under ad.jit at n = 1,000,000.

    python benchmarks/bench_dtypes.py      # memory and median times of both dtypes, one run

A float32 gradient should use half the memory of the float64 one and be no slower. Memory:
tracemalloc's peak over one steady-state call (NumPy's allocations: the output, the kernel's
scratch arrays come from numba's allocator and are listed from the generated source), plus
the bytes of the argument. Time: medians of interleaved batches of both dtypes in the same
run (so a load change on the shared machine hits both alike); the load average is printed.
"""
import os
import re
import statistics
import sys
import timeit
import tracemalloc

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import adjit as ad  # noqa: E402

N = 1_000_000


def rosen(x):
    return ad.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def grad_rosen_exact(x):
    """The analytic gradient in float64 (the reference for both dtypes)."""
    x = np.asarray(x, dtype=np.float64)
    g = np.zeros_like(x)
    d = x[1:] - x[:-1] ** 2
    g[:-1] = -400.0 * x[:-1] * d - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * d
    return g


def kernel_scratch_bytes(g):
    """Bytes of the arrays the generated kernel allocates inside numba (np.empty lines)."""
    total = 0
    for specs in g._jit.cache.values():
        for s in specs:
            src = open(s.path).read()
            for shape, dt in re.findall(r"np\.empty\(\(([\d, ]*)\),? ?np\.(\w+)\)", src):
                n = int(np.prod([int(v) for v in shape.split(",") if v.strip()] or [1]))
                total += n * np.dtype(dt).itemsize
    return total


def peak_bytes(fn, x):
    fn(x)
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn(x)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def median_times(cases, budget=0.5, repeat=15):
    timers = []
    for fn, x in cases:
        fn(x)
        t = timeit.Timer(lambda fn=fn, x=x: fn(x))
        n = 1
        while t.timeit(n) < budget / repeat / 4:
            n *= 2
        timers.append((t, n))
    res = [[] for _ in cases]
    for _ in range(repeat):
        for k, (t, n) in enumerate(timers):
            res[k].append(t.timeit(n) / n)
    return [statistics.median(r) for r in res]


def main():
    rng = np.random.default_rng(0)
    x64 = rng.normal(size=N)
    x32 = x64.astype(np.float32)
    rows = {}
    for x in (x64, x32):
        g = ad.jit(ad.grad(rosen))
        r = g(x)                              # trace + compile (or load from the disk cache)
        assert r.dtype == x.dtype, r.dtype
        exact = grad_rosen_exact(x)
        err = float(np.max(np.abs(r - exact)) / np.max(np.abs(exact)))   # relative to the scale
        assert err < 100 * np.finfo(x.dtype).eps, err
        rows[x.dtype.name] = dict(fn=g, x=x, err=err, peak=peak_bytes(g, x),
                                  scratch=kernel_scratch_bytes(g))
    t64, t32 = median_times([(rows["float64"]["fn"], x64), (rows["float32"]["fn"], x32)])
    rows["float64"]["t"], rows["float32"]["t"] = t64, t32
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Rosenbrock gradient under ad.jit, n = {N:,}  (load average {load:.2f} on "
          f"{os.cpu_count()} cores{'; the machine was busy' if load > 1.5 else ''})")
    print(f"{'dtype':8} {'argument':>10} {'NumPy peak':>11} {'kernel scratch':>15} "
          f"{'total':>10} {'median':>10} {'max err/scale':>14}")
    for name in ("float64", "float32"):
        r = rows[name]
        total = r["x"].nbytes + r["peak"] + r["scratch"]
        r["total"] = total
        print(f"{name:8} {r['x'].nbytes / 1e6:9.1f}M {r['peak'] / 1e6:10.1f}M "
              f"{r['scratch'] / 1e6:14.1f}M {total / 1e6:9.1f}M {r['t'] * 1e3:8.2f}ms "
              f"{r['err']:14.2e}")
    mem = rows["float32"]["total"] / rows["float64"]["total"]
    speed = t32 / t64
    print(f"float32 / float64: memory {mem:.2f}x, time {speed:.2f}x")
    return mem, speed


if __name__ == "__main__":
    mem, speed = main()
    sys.exit(0 if mem <= 0.55 else 1)
