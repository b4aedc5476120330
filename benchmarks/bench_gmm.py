"""ADBench GMM under ad.jit (issue 12): the gradient of the Gaussian-mixture objective with a
Wishart prior, written as a NumPy user writes it (triangular factors gathered with an index
array, a stacked product, log-sum-exp over the components), against the hand-written numba +
BLAS gradient (benchmarks/baselines_gmm.py) and jax.jit(jax.grad) where JAX is installed.

    python benchmarks/bench_gmm.py            # (d, k) = (2, 5), (10, 25), (64, 10), n = 1000

Compile time is the first call minus one steady call in a fresh process with empty adjit and
numba caches (numba's start-up included). Run times are medians of interleaved batches.
Targets: ad.jit <= 1.25x hand-written and <= jax.jit; compile <= 1.5 s.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import timeit

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import adjit as ad  # noqa: E402
import baselines_gmm as B  # noqa: E402

GAMMA, M = 1.0, 0
SIZES = [(2, 5), (10, 25), (64, 10)]
N = 1000


def data(d, k, n=N, seed=0):
    r = np.random.default_rng(seed)
    return (r.standard_normal(k), r.standard_normal((k, d)),
            0.3 * r.standard_normal((k, d + d * (d - 1) // 2)), r.standard_normal((n, d)))


def objective(alphas, means, icf, x, idx, xp=ad, lse=ad.logsumexp):
    """The ADBench objective without its constant (baselines_gmm.constants)."""
    d = x.shape[1]
    k = alphas.shape[0]
    logq = icf[:, :d]
    qd = xp.exp(logq)
    sum_qs = xp.sum(logq, axis=1)
    Ls = xp.concatenate([np.zeros((k, 1)), icf[:, d:]], axis=1)[:, idx]    # (k, d, d)
    xc = x[None, :, :] - means[:, None, :]                                 # (k, n, d)
    Lx = qd[:, None, :] * xc + xp.matmul(xc, xp.transpose(Ls, (0, 2, 1)))
    inner = (alphas + sum_qs)[:, None] - 0.5 * xp.sum(Lx * Lx, axis=2)     # (k, n)
    prior = xp.sum(0.5 * GAMMA ** 2 * (xp.sum(qd * qd, axis=1) + xp.sum(icf[:, d:] ** 2, axis=1))
                   - M * sum_qs)
    return xp.sum(lse(inner, axis=0)) - x.shape[0] * lse(alphas) + prior


def adjit_grad(x, idx):
    return ad.jit(ad.grad(lambda a, mu, icf: objective(a, mu, icf, x, idx), argnums=(0, 1, 2)))


def jax_grad(x, idx):
    try:
        import jax
        import jax.numpy as jnp
        from jax.scipy.special import logsumexp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    g = jax.jit(jax.grad(lambda a, mu, icf: objective(a, mu, icf, x, idx, jnp, logsumexp),
                         argnums=(0, 1, 2)))
    return lambda a, mu, icf: jax.block_until_ready(g(a, mu, icf))


def hand_grad(x):
    return lambda a, mu, icf: B.gmm_grad(a, mu, icf, x, GAMMA, M)[1:]


def _steady_allocator():
    # as bench_jit.py: pinned glibc malloc thresholds, so large arrays reuse heap pages
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 64 << 20)    # M_MMAP_THRESHOLD
        libc.mallopt(-1, 256 << 20)   # M_TRIM_THRESHOLD
    except Exception:  # pragma: no cover - not glibc
        pass


def median_times(fns, args, budget=0.6, repeat=9):
    res = [[] for _ in fns]
    nums = []
    for f in fns:
        f(*args)
        dt = timeit.timeit(lambda: f(*args), number=1)
        nums.append(max(1, int(budget / repeat / max(dt, 1e-7))))
    for _ in range(repeat):
        for k, f in enumerate(fns):
            res[k].append(timeit.timeit(lambda: f(*args), number=nums[k]) / nums[k])
    return [statistics.median(r) for r in res]


_FIRST = textwrap.dedent('''
    import sys, time
    sys.path.insert(0, sys.argv[4])
    import bench_gmm as m
    import baselines_gmm as B
    d, k = int(sys.argv[1]), int(sys.argv[2])
    a, mu, icf, x = m.data(d, k)
    idx = B.ltri_index(d)
    g = m.jax_grad(x, idx) if sys.argv[3] == "jax" else m.adjit_grad(x, idx)
    t0 = time.perf_counter(); g(a, mu, icf); t1 = time.perf_counter(); g(a, mu, icf)
    t2 = time.perf_counter()
    print((t1 - t0) - (t2 - t1))
''')


def compile_time(d, k, which):
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, ADJIT_CACHE_DIR=os.path.join(tmp, "adjit"),
                   NUMBA_CACHE_DIR=os.path.join(tmp, "numba"))
        here = os.path.dirname(os.path.abspath(__file__))
        r = subprocess.run([sys.executable, "-c", _FIRST, str(d), str(k), which, here], env=env,
                           check=True, capture_output=True, text=True)
        return float(r.stdout.strip().splitlines()[-1])


def main(sizes, compile_too=True):
    _steady_allocator()
    print(f"ADBench GMM gradient, n = {N} (load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores)")
    print(f"{'d':>3s} {'k':>3s} {'ad.jit':>10s} {'hand':>10s} {'jax.jit':>10s} {'/hand':>6s} "
          f"{'/jax':>6s} {'compile':>8s} {'jax':>6s}")
    for d, k in sizes:
        a, mu, icf, x = data(d, k)
        idx = B.ltri_index(d)
        g, h, j = adjit_grad(x, idx), hand_grad(x), jax_grad(x, idx)
        ref = h(a, mu, icf)
        for u, v in zip(g(a, mu, icf), ref):
            np.testing.assert_allclose(u, v, rtol=1e-8, atol=1e-8)
        if g._jit.n_eager:
            print(f"  (ad.jit ran eagerly at d={d}, k={k})")
        fns = [lambda *p: g(*p), h] + ([j] if j is not None else [])
        ts = median_times(fns, (a, mu, icf))
        tj = ts[2] if j is not None else float("nan")
        ct = compile_time(d, k, "adjit") if compile_too else float("nan")
        cj = compile_time(d, k, "jax") if compile_too and j is not None else float("nan")
        print(f"{d:3d} {k:3d} {ts[0] * 1e3:8.3f}ms {ts[1] * 1e3:8.3f}ms {tj * 1e3:8.3f}ms "
              f"{ts[0] / ts[1]:6.2f} {ts[0] / tj:6.2f} {ct:7.2f}s {cj:5.2f}s", flush=True)


if __name__ == "__main__":
    main(SIZES, "--no-compile" not in sys.argv)
