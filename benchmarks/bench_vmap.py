"""ad.vmap benchmark (issue 14): per-example gradients of a small MLP (8 -> 32 -> 1, tanh) for
a batch of 4,096 examples, four ways:

  * loop:       [ad.grad(loss)(params, x_i, y_i) for each i]   (the reference)
  * vmap:       ad.vmap(ad.grad(loss), in_axes=(None, 0, 0))   (eager, one pass of batched ops)
  * jit(vmap):  ad.jit of the above (one compiled kernel), on one thread and on all cores
  * jax:        jax.jit(jax.vmap(jax.grad(loss))), where JAX is installed

    python benchmarks/bench_vmap.py [--batch 4096] [--repeat 20] [--no-loop]

Prints the median time of each (all but the loop timed interleaved, in rounds) and the ratios.
On a shared machine, look at the load averages printed at the start and the end.

OpenBLAS runs single-threaded here (OPENBLAS_NUM_THREADS=1 unless set): its idle threads spin
for ~0.1 s after each multi-threaded call (the eager `vmap` column's products), taking the
second core from numba's threads in the calls timed next; with them spinning, the 2-thread
kernel measured 0.95x one thread, without 1.84x (quiet machine).
"""
import argparse
import importlib.util
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import adjit as ad  # noqa: E402
from adjit.jit.parallel import default_threads  # noqa: E402


def loss(params, x, y):
    W1, b1, w2 = params
    return (ad.tanh(x @ W1 + b1) @ w2 - y) ** 2


def interleaved(fs, rounds, per_round=5, q=0.5):
    """Median (or quantile q) time of each function, the functions run in turn (per_round calls
    each, `rounds` times), so a change of the machine's load affects them alike."""
    for f in fs.values():
        f()   # warm-up (compilation)
    ts = {k: [] for k in fs}
    for _ in range(rounds):
        for k, f in fs.items():
            for _ in range(per_round):
                t0 = time.perf_counter()
                f()
                ts[k].append(time.perf_counter() - t0)
    if q != 0.5:
        return {k: sorted(v)[int(q * (len(v) - 1))] for k, v in ts.items()}
    return {k: statistics.median(v) for k, v in ts.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--repeat", type=int, default=20, help="rounds of interleaved timings")
    ap.add_argument("--no-loop", action="store_true", help="skip the (slow) Python loop")
    a = ap.parse_args()
    cores = os.cpu_count() or 1
    print(f"load average {os.getloadavg()}, batch {a.batch}, {cores} cores, "
          f"default threads {default_threads()}")
    rng = np.random.default_rng(0)
    params = (rng.normal(size=(8, 32)) / 3, rng.normal(size=32) / 3, rng.normal(size=32) / 6)
    X, Y = rng.normal(size=(a.batch, 8)), rng.normal(size=a.batch)
    g = ad.grad(loss)
    pe = ad.vmap(g, in_axes=(None, 0, 0))
    jpe = ad.jit(pe, threads=cores)
    jpe1 = ad.jit(pe, threads=1)
    ref = [np.stack(t) for t in zip(*[g(params, X[i], Y[i]) for i in range(a.batch)])]
    for got in (pe(params, X, Y), jpe(params, X, Y), jpe1(params, X, Y)):
        for r, v in zip(ref, got):
            np.testing.assert_allclose(v, r, rtol=1e-9, atol=1e-12)
    times = {}
    if not a.no_loop:
        times.update(interleaved(
            {"loop": lambda: [g(params, X[i], Y[i]) for i in range(a.batch)]}, 1, 2))
    fs = {"vmap": lambda: pe(params, X, Y),
          "jit(vmap) 1 thread": lambda: jpe1(params, X, Y),
          f"jit(vmap) {cores} threads": lambda: jpe(params, X, Y)}
    if importlib.util.find_spec("jax"):
        import jax
        jax.config.update("jax_enable_x64", True)
        jnp = jax.numpy

        def jloss(p, x, y):
            return (jnp.tanh(x @ p[0] + p[1]) @ p[2] - y) ** 2
        jf = jax.jit(jax.vmap(jax.grad(jloss), in_axes=(None, 0, 0)))
        fs["jax.jit(jax.vmap)"] = lambda: jax.block_until_ready(jf(params, X, Y))
    # the thread columns again, as the 10th percentile of many short interleaved rounds: on a
    # shared virtual machine the second core comes and goes with other tenants' load, which a
    # median of 2-thread calls mixes in (bench_loops.py reports the same way)
    tq = interleaved({k: fs[k] for k in ("jit(vmap) 1 thread", f"jit(vmap) {cores} threads")},
                     a.repeat * 10, 3, q=0.1)
    times.update(interleaved(fs, a.repeat))
    base = times.get("loop")
    for k, t in times.items():
        print(f"{k:22s} {t * 1e3:10.3f} ms" +
              (f"   {base / t:8.1f}x the loop" if base else ""))
    many = times[f"jit(vmap) {cores} threads"]
    print(f"{cores} threads' speed-up over one thread {times['jit(vmap) 1 thread'] / many:.2f}x"
          + (f"; over jax.jit(jax.vmap) {times['jax.jit(jax.vmap)'] / many:.2f}x"
             if "jax.jit(jax.vmap)" in times else ""))
    print(f"10th percentiles: 1 thread {tq['jit(vmap) 1 thread'] * 1e3:.3f} ms, {cores} threads "
          f"{tq[f'jit(vmap) {cores} threads'] * 1e3:.3f} ms: "
          f"{tq['jit(vmap) 1 thread'] / tq[f'jit(vmap) {cores} threads']:.2f}x")
    print(f"load average {os.getloadavg()} (end)")


if __name__ == "__main__":
    main()
