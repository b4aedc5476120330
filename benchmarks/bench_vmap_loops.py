"""ad.vmap of a loop (jit/loopvmap.py): per-example gradients of a small RNN written with
ad.fori_loop (50 steps, hidden 8, input 4, parameters shared) for a batch of 1,000 sequences:

  * jit(grad) loop:  [jax-style ad.jit(ad.grad(loss))(params, xs_i) for each i]
  * jit(vmap):       ad.jit(ad.vmap(ad.grad(loss), in_axes=(None, 0))): the batch runs as ONE
                     loop op whose body is batched, on one thread and on all cores
  * jax:             jax.jit(jax.vmap(jax.grad(loss))) with jax.lax.fori_loop, where JAX is
                     installed
  * --before:        the per-element rule (the loop op once per element; under ad.jit the
                     trace passes the limit and the function runs eagerly), one call

    python benchmarks/bench_vmap_loops.py [--model rnn|ode] [--batch 1000] [--steps 50]
                                          [--repeat 10] [--before]

--model ode: RK4 steps of a damped oscillator, per-example gradients w.r.t. its two shared
parameters for 1,000 initial states and targets.

Prints medians (interleaved rounds), ratios and the load averages at the start and the end.
OPENBLAS_NUM_THREADS=1 unless set (see bench_vmap.py).
"""
import argparse
import importlib.util
import os
import statistics
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import adjit as ad  # noqa: E402

H, D = 8, 4


def make_loss(steps):
    def loss(params, xs):
        W, U, b = params

        def body(i, h):
            return ad.tanh(W @ h + U @ xs[i] + b)
        h = ad.fori_loop(0, steps, body, np.zeros(H))
        return ad.sum(h * h)
    return loss


def make_ode_loss(steps):
    """RK4 steps of a damped oscillator: per-example gradients of the squared miss of a target
    w.r.t. the shared parameters (stiffness, damping); the right-hand side, a helper, closes
    over them."""
    def loss(p, d):
        k, c = p[0], p[1]

        def rhs(y):
            return ad.stack([y[1], -k * y[0] - c * y[1]])

        def step(i, y):
            h = 0.02
            k1 = rhs(y)
            k2 = rhs(y + h / 2 * k1)
            k3 = rhs(y + h / 2 * k2)
            k4 = rhs(y + h * k3)
            return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        y = ad.fori_loop(0, steps, step, d[:2])
        return (y[0] - d[2]) ** 2
    return loss


def jax_losses(jax, steps):
    jnp = jax.numpy

    def rnn(p, xs):
        W, U, b = p
        h = jax.lax.fori_loop(0, steps, lambda i, h: jnp.tanh(W @ h + U @ xs[i] + b),
                              jnp.zeros(H))
        return jnp.sum(h * h)

    def ode(p, d):
        k, c = p[0], p[1]

        def rhs(y):
            return jnp.stack([y[1], -k * y[0] - c * y[1]])

        def step(i, y):
            h = 0.02
            k1 = rhs(y)
            k2 = rhs(y + h / 2 * k1)
            k3 = rhs(y + h / 2 * k2)
            k4 = rhs(y + h * k3)
            return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        y = jax.lax.fori_loop(0, steps, step, d[:2])
        return (y[0] - d[2]) ** 2
    return {"rnn": rnn, "ode": ode}


def interleaved(fs, rounds, per_round=3):
    for f in fs.values():
        f()   # warm-up (compilation)
    ts = {k: [] for k in fs}
    for _ in range(rounds):
        for k, f in fs.items():
            for _ in range(per_round):
                t0 = time.perf_counter()
                f()
                ts[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in ts.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=10, help="rounds of interleaved timings")
    ap.add_argument("--model", choices=("rnn", "ode"), default="rnn")
    ap.add_argument("--before", action="store_true",
                    help="also time one call with the per-element rule (slow)")
    a = ap.parse_args()
    cores = os.cpu_count() or 1
    print(f"load average {os.getloadavg()}, {a.model}, batch {a.batch}, {a.steps} steps, "
          f"{cores} cores")
    rng = np.random.default_rng(0)
    make = make_loss if a.model == "rnn" else make_ode_loss
    if a.model == "rnn":
        params = (rng.normal(size=(H, H)) / 3, rng.normal(size=(H, D)) / 2,
                  rng.normal(size=H) / 4)
        X = rng.normal(size=(a.batch, a.steps, D))
    else:
        params = np.array([4.0, 0.3])
        X = rng.normal(size=(a.batch, 3))
    loss = make(a.steps)
    g = ad.grad(loss)
    jg = ad.jit(g)
    pe = ad.vmap(g, in_axes=(None, 0))
    jpe1, jpe = ad.jit(pe, threads=1), ad.jit(pe, threads=cores)
    def parts(g):   # the gradient's arrays (a tuple of three for the RNN's parameters)
        return list(g) if isinstance(g, (tuple, list)) else [g]
    ref = [np.stack(t) for t in zip(*[parts(jg(params, x)) for x in X])]
    for got in (jpe1(params, X), jpe(params, X)):
        for r, v in zip(ref, parts(got)):
            np.testing.assert_allclose(v, r, rtol=1e-9, atol=1e-12)
    assert (jpe._pjit or jpe)._jit.n_eager == 0 and jpe1._jit.n_eager == 0
    fs = {"jit(grad) loop": lambda: [jg(params, x) for x in X],
          "jit(vmap) 1 thread": lambda: jpe1(params, X),
          f"jit(vmap) {cores} threads": lambda: jpe(params, X)}
    if importlib.util.find_spec("jax"):
        import jax
        jax.config.update("jax_enable_x64", True)
        jloss = jax_losses(jax, a.steps)[a.model]
        jf = jax.jit(jax.vmap(jax.grad(jloss), in_axes=(None, 0)))
        for r, v in zip(ref, parts(jf(params, X))):
            np.testing.assert_allclose(np.asarray(v), r, rtol=1e-9, atol=1e-12)
        fs["jax.jit(jax.vmap)"] = lambda: jax.block_until_ready(jf(params, X))
    times = interleaved(fs, a.repeat)
    if a.before:
        from adjit.jit import loopad
        loopad.loop.vmap = None   # the per-element rule, as before jit/loopvmap.py
        try:
            old = ad.jit(ad.vmap(ad.grad(make(a.steps)), in_axes=(None, 0)), threads=1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                old(params, X)
                times["before (per element)"] = time.perf_counter() - t0
        finally:
            loopad.loop.vmap = "loop"
    base = times["jit(grad) loop"]
    for k, t in times.items():
        print(f"{k:24s} {t * 1e3:10.3f} ms   {base / t:8.1f}x the jit(grad) loop")
    many = times[f"jit(vmap) {cores} threads"]
    print(f"{cores} threads over one thread {times['jit(vmap) 1 thread'] / many:.2f}x"
          + (f"; jit(vmap) {cores} threads over jax.jit(jax.vmap) "
             f"{times['jax.jit(jax.vmap)'] / many:.2f}x" if "jax.jit(jax.vmap)" in times
             else ""))
    print(f"load average {os.getloadavg()} (end)")


if __name__ == "__main__":
    main()
