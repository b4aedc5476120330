"""Eager (PyTorch-style) timings of adjit: median per-call times.

    python benchmarks/eager_timing.py            # everything, about half a minute
    python benchmarks/eager_timing.py --quick    # fewer repeats, no cold-cache runs

Measures
  * f = x*log(x) + sin(x*y); f.backward() for scalar tensors (fresh leaves each call)
  * Rosenbrock sum(100*(x[1:]-x[:-1]**2)**2 + (1-x[:-1])**2), forward + backward, n = 100,000
    (with plain NumPy forward and hand-written NumPy gradient for reference)
  * `import adjit` in a fresh process (warm numba cache), and import + first large-array
    backward with a warm and with a cold (empty) numba/adjit cache
  * the same scalar f with PyTorch, if it is installed
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import timeit

import numpy as np

import adjit as ad


BEST = {}


def median_per_call(stmt, number, repeat):
    """Median per-call time over `repeat` runs of `number` calls (the best run is kept in
    BEST[stmt]: on a shared machine it shows what the code costs without interference)."""
    times = timeit.repeat(stmt, number=number, repeat=repeat)
    BEST[stmt] = min(times) / number
    return statistics.median(times) / number


def fmt(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:9.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:9.2f} ms"
    return f"{seconds:9.2f} s "


def scalar_f():
    x = ad.tensor(1.0, requires_grad=True)
    y = ad.tensor(2.0, requires_grad=True)
    f = x * ad.log(x) + ad.sin(x * y)
    f.backward()
    return x, y


def rosenbrock(x):
    a, b = x[1:], x[:-1]
    return ad.sum(100.0 * (a - b ** 2) ** 2 + (1.0 - b) ** 2)


def rosenbrock_numpy(x):
    a, b = x[1:], x[:-1]
    return np.sum(100.0 * (a - b ** 2) ** 2 + (1.0 - b) ** 2)


def rosenbrock_numpy_grad(x):
    a, b = x[1:], x[:-1]
    r = a - b ** 2
    g = np.zeros_like(x)
    g[1:] += 200.0 * r
    g[:-1] += -400.0 * r * b - 2.0 * (1.0 - b)
    return g


def fresh_process(code, env=None, repeat=5):
    times = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


IMPORT = "import time; t = time.perf_counter(); import adjit; print(time.perf_counter() - t)"
FIRST_USE = """
import time; t = time.perf_counter()
import numpy as np, adjit as ad
x = ad.tensor(np.linspace(-1, 1, 100_000), requires_grad=True)
a, b = x[1:], x[:-1]
ad.sum(100.0 * (a - b ** 2) ** 2 + (1.0 - b) ** 2).backward()
print(time.perf_counter() - t)
"""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    rep = 5 if args.quick else 9

    print(f"adjit {ad.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
    print("median per call (timeit.repeat)\n")

    # -- scalar f ---------------------------------------------------------------------------
    x, y = scalar_f()
    assert abs(x.grad.item() - (1 + 2 * np.cos(2.0))) < 1e-12
    assert abs(y.grad.item() - np.cos(2.0)) < 1e-12
    t_scalar = median_per_call(scalar_f, number=2000, repeat=rep)
    t_leaves = median_per_call(lambda: (ad.tensor(1.0, requires_grad=True),
                                        ad.tensor(2.0, requires_grad=True)),
                               number=2000, repeat=rep)

    def forward_only():
        x = ad.tensor(1.0, requires_grad=True)
        y = ad.tensor(2.0, requires_grad=True)
        return x * ad.log(x) + ad.sin(x * y)

    t_fwd = median_per_call(forward_only, number=2000, repeat=rep)
    print(f"scalar f = x*log(x) + sin(x*y); f.backward()   {fmt(t_scalar)}   "
          f"(best run {fmt(BEST[scalar_f]).strip()})")
    print(f"    of which: two fresh leaves {fmt(t_leaves).strip()}, "
          f"forward (incl. leaves) {fmt(t_fwd).strip()}")

    # -- Rosenbrock -------------------------------------------------------------------------
    n = 100_000
    x0 = np.random.default_rng(0).uniform(-1, 1, n)

    def rosen_step():
        x = ad.tensor(x0, requires_grad=True)
        rosenbrock(x).backward()
        return x

    g = rosen_step().grad.numpy()
    np.testing.assert_allclose(g, rosenbrock_numpy_grad(x0), rtol=1e-12, atol=1e-9)
    t_rosen = median_per_call(rosen_step, number=10, repeat=rep)
    t_rosen_fwd = median_per_call(lambda: rosenbrock(ad.tensor(x0, requires_grad=True)),
                                  number=10, repeat=rep)
    t_np_fwd = median_per_call(lambda: rosenbrock_numpy(x0), number=10, repeat=rep)
    t_np_grad = median_per_call(lambda: rosenbrock_numpy_grad(x0), number=10, repeat=rep)
    print(f"Rosenbrock n=100,000 forward + backward        {fmt(t_rosen)}   "
          f"(best run {fmt(BEST[rosen_step]).strip()})")
    print(f"    adjit forward only {fmt(t_rosen_fwd).strip()}; plain NumPy: forward "
          f"{fmt(t_np_fwd).strip()}, hand-written gradient {fmt(t_np_grad).strip()} "
          f"(ratio adjit / (NumPy f + grad) = {t_rosen / (t_np_fwd + t_np_grad):.2f})")

    # -- import time ------------------------------------------------------------------------
    fresh_process(IMPORT, repeat=1)  # warm the OS file cache
    t_imp = fresh_process(IMPORT, repeat=rep)
    print(f"import adjit, fresh process (warm cache)       {fmt(t_imp)}")
    t_first = fresh_process(FIRST_USE, repeat=3)
    print(f"import + first Rosenbrock backward (warm)      {fmt(t_first)}")
    if not args.quick:
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, ADJIT_CACHE_DIR=os.path.join(d, "adjit"),
                       NUMBA_CACHE_DIR=os.path.join(d, "numba"))
            t_cold_imp = fresh_process(IMPORT, env=env, repeat=1)
            t_cold = fresh_process(FIRST_USE, env=env, repeat=1)
        print(f"import adjit, empty caches                     {fmt(t_cold_imp)}")
        print(f"import + first Rosenbrock backward (cold)     {fmt(t_cold)}  "
              "(numba compiles the fused kernels)")

    # -- PyTorch ----------------------------------------------------------------------------
    try:
        import torch
    except ImportError:
        print("\nPyTorch is not installed: skipped the PyTorch comparison "
              "(pip install torch to include it).")
        return

    def torch_f():
        x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
        y = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
        f = x * torch.log(x) + torch.sin(x * y)
        f.backward()

    t_torch = median_per_call(torch_f, number=2000, repeat=rep)
    print(f"\nPyTorch {torch.__version__} scalar f + backward          {fmt(t_torch)} "
          f"(adjit / PyTorch = {t_scalar / t_torch:.2f})")


if __name__ == "__main__":
    main()
