"""ad.vmap benchmark (issue 14): per-example gradients of a small MLP (8 -> 32 -> 1, tanh) for
a batch of 4,096 examples, four ways:

  * loop:       [ad.grad(loss)(params, x_i, y_i) for each i]   (the reference)
  * vmap:       ad.vmap(ad.grad(loss), in_axes=(None, 0, 0))   (eager, one pass of batched ops)
  * jit(vmap):  ad.jit of the above (one compiled kernel), on one thread and on all threads
  * jax:        jax.jit(jax.vmap(jax.grad(loss))), where JAX is installed

    python benchmarks/bench_vmap.py [--batch 4096] [--repeat 5]

Prints the median time of each and the speed-ups over the loop. On a shared machine, look at
the load average printed at the start.
"""
import argparse
import importlib.util
import os
import statistics
import time

import numpy as np

import adjit as ad
from adjit.jit.parallel import default_threads


def loss(params, x, y):
    W1, b1, w2 = params
    return (ad.tanh(x @ W1 + b1) @ w2 - y) ** 2


def median_time(f, repeat):
    f()   # warm-up (compilation)
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    print(f"load average {os.getloadavg()}, batch {a.batch}")
    rng = np.random.default_rng(0)
    params = (rng.normal(size=(8, 32)) / 3, rng.normal(size=32) / 3, rng.normal(size=32) / 6)
    X, Y = rng.normal(size=(a.batch, 8)), rng.normal(size=a.batch)
    g = ad.grad(loss)
    pe = ad.vmap(g, in_axes=(None, 0, 0))
    jpe = ad.jit(pe, threads=os.cpu_count() or 1)   # the default is 1 thread (it measured faster)
    jpe1 = ad.jit(pe, threads=1)
    ref = [np.stack(t) for t in zip(*[g(params, X[i], Y[i]) for i in range(a.batch)])]
    for got in (pe(params, X, Y), jpe(params, X, Y), jpe1(params, X, Y)):
        for r, v in zip(ref, got):
            np.testing.assert_allclose(v, r, rtol=1e-9, atol=1e-12)
    times = {
        "loop": median_time(lambda: [g(params, X[i], Y[i]) for i in range(a.batch)],
                            max(1, a.repeat // 2)),
        "vmap": median_time(lambda: pe(params, X, Y), a.repeat),
        "jit(vmap) 1 thread": median_time(lambda: jpe1(params, X, Y), a.repeat),
        f"jit(vmap) {os.cpu_count()} threads": median_time(lambda: jpe(params, X, Y), a.repeat),
    }
    if importlib.util.find_spec("jax"):
        import jax
        jax.config.update("jax_enable_x64", True)
        jnp = jax.numpy

        def jloss(p, x, y):
            return (jnp.tanh(x @ p[0] + p[1]) @ p[2] - y) ** 2
        jf = jax.jit(jax.vmap(jax.grad(jloss), in_axes=(None, 0, 0)))
        times["jax.jit(jax.vmap)"] = median_time(
            lambda: jax.block_until_ready(jf(params, X, Y)), a.repeat)
    for k, t in times.items():
        print(f"{k:22s} {t * 1e3:10.3f} ms   {times['loop'] / t:8.1f}x the loop")
    many = times[f"jit(vmap) {os.cpu_count()} threads"]
    print(f"default threads: {default_threads()}; {os.cpu_count()} threads' speed-up over one "
          f"thread {times['jit(vmap) 1 thread'] / many:.2f}x")


if __name__ == "__main__":
    main()
