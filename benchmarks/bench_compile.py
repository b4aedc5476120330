"""Compile time of ad.jit (issue 12): a 2-layer MLP's jitted gradient,
`ad.jit(ad.grad(loss))` with loss(p, x, y) = mean((tanh(x @ W1 + b1) @ W2 - y) ** 2).

    python benchmarks/bench_compile.py [--repeat 3] [--batch 256]

Three numbers, each measured in fresh Python processes with a private, empty adjit and numba
cache directory (ADJIT_CACHE_DIR, NUMBA_CACHE_DIR):

  * cold compile: the first call minus one steady call, in a new process with empty caches
    (adjit's import excluded; numba's import and start-up included, as adjit imports numba
    only when it first compiles). Also "warm numba": the same after numba has compiled
    something else in that process (the kernel's own compile time).
  * new batch size: after the first call, the call at another batch size (trace and
    generate included), and how many numba compilations it made (numba's compile events).
  * cache load: the first call in a new process once the cache directory is filled (adjit's
    import excluded, numba's included).

Baselines measured in the same run: a hand-written @njit gradient of the same MLP
(benchmarks/baselines.py, `cache=True`; its first call includes `import numba`) and, where
installed, `jax.jit(jax.grad(loss))` (JAX's import excluded). Medians of --repeat runs,
interleaved; the load average is printed (compile times on a busy machine are noisy: compare
the ratios).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = {"cold": 1.0, "recompiles": 0, "load": 0.25}

_SETUP = '''
import sys, time, os
sys.path.insert(0, {here!r})
import numpy as np
rng = np.random.default_rng(0)
B, D, H, O = {batch}, 32, 64, 10
P = (rng.normal(size=(D, H)) / 6, rng.normal(size=H) / 6, rng.normal(size=(H, O)) / 8)
x, y = rng.normal(size=(B, D)), rng.normal(size=(B, O))
x2, y2 = rng.normal(size=(B // 2 + 3, D)), rng.normal(size=(B // 2 + 3, O))

CPU = []

def first_minus_steady(call):
    c0 = time.process_time()
    t0 = time.perf_counter(); call(); t1 = time.perf_counter(); c1 = time.process_time()
    call(); t2 = time.perf_counter(); c2 = time.process_time()
    CPU.append((c1 - c0) - (c2 - c1))   # CPU seconds: less sensitive to the machine's load
    return (t1 - t0) - (t2 - t1)
'''

ADJIT = _SETUP + '''
import adjit as ad

def loss(p, x, y):
    W1, b1, W2 = p
    return ad.mean((ad.tanh(x @ W1 + b1) @ W2 - y) ** 2)

if sys.argv[1] == "warm":   # numba's start-up paid by another function first
    ad.jit(lambda v: ad.sum(ad.tanh(v) @ v))(np.ones((2, 2)))
g = ad.jit(ad.grad(loss))
first = first_minus_steady(lambda: g(P, x, y))
out = {{"first": first, "cpu": CPU[0]}}
if sys.argv[1] != "load":
    from numba.core import event
    n = [0]
    class Count(event.Listener):
        def on_start(self, ev): n[0] += 1
        def on_end(self, ev): pass
    event.register("numba:compile", Count())
    t0 = time.perf_counter(); g(P, x2, y2); out["batch"] = time.perf_counter() - t0
    out["recompiles"] = n[0]
    eager = ad.grad(loss)
    for a, b in zip(g(P, x2, y2), eager(P, x2, y2)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert g._jit.n_eager == 0, "ran eagerly"
print(repr(out))
'''

HAND = _SETUP + '''
c0, t0 = time.process_time(), time.perf_counter()
import baselines
call = lambda: baselines.grad_mlp(P[0], P[1], P[2], x, y)
call(); c1, t1 = time.process_time(), time.perf_counter()
call(); c2, t2 = time.process_time(), time.perf_counter()
print(repr({{"first": (t1 - t0) - (t2 - t1), "cpu": (c1 - c0) - (c2 - c1)}}))
'''

JAX = _SETUP + '''
import jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
def loss(p, x, y):
    W1, b1, W2 = p
    return jnp.mean((jnp.tanh(x @ W1 + b1) @ W2 - y) ** 2)
g = jax.jit(jax.grad(loss))
first = first_minus_steady(lambda: jax.block_until_ready(g(P, x, y)))
t0 = time.perf_counter(); jax.block_until_ready(g(P, x2, y2)); batch = time.perf_counter() - t0
print(repr({{"first": first, "batch": batch, "cpu": CPU[0]}}))
'''


def run(code, mode, cache, batch, src=None):
    env = dict(os.environ, ADJIT_CACHE_DIR=os.path.join(cache, "adjit"),
               NUMBA_CACHE_DIR=os.path.join(cache, "numba"), OPENBLAS_NUM_THREADS="1",
               ADJIT_PROGRESS="0")
    if src:
        env["PYTHONPATH"] = os.pathsep.join([src] + [p for p in [env.get("PYTHONPATH")] if p])
    src = textwrap.dedent(code).format(here=HERE, batch=batch)
    r = subprocess.run([sys.executable, "-c", src, mode], env=env, capture_output=True,
                       text=True)
    if r.returncode:
        raise RuntimeError(r.stderr)
    return eval(r.stdout.strip().splitlines()[-1])   # noqa: S307 - our own child's dict


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--src", help="the adjit source tree to measure (put first on PYTHONPATH), "
                    "e.g. another checkout's src/ for a before/after comparison")
    a = ap.parse_args()
    try:
        import jax  # noqa: F401
        have_jax = True
    except ImportError:
        have_jax = False
    print(f"MLP {a.batch}x32 -> 64 (tanh) -> 10, mean squared error; ad.jit(ad.grad(loss)); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    res = {}
    for _ in range(a.repeat):
        with tempfile.TemporaryDirectory() as d:
            for k, v in run(ADJIT, "cold", d, a.batch, a.src).items():
                res.setdefault(f"adjit cold {k}", []).append(v)
            for k, v in run(ADJIT, "load", d, a.batch, a.src).items():
                res.setdefault(f"adjit load {k}", []).append(v)
        with tempfile.TemporaryDirectory() as d:
            for k, v in run(ADJIT, "warm", d, a.batch, a.src).items():
                res.setdefault(f"adjit warm-numba {k}", []).append(v)
        with tempfile.TemporaryDirectory() as d:
            for mode in ("cold", "load"):
                for k, v in run(HAND, "", d, a.batch).items():
                    res.setdefault(f"hand {mode} {k}", []).append(v)
        if have_jax:
            with tempfile.TemporaryDirectory() as d:
                for k, v in run(JAX, "", d, a.batch).items():
                    res.setdefault(f"jax {k}", []).append(v)
    med = {k: statistics.median(v) for k, v in res.items()}
    rows = [
        ("cold compile (numba start-up included)", "adjit cold first", "hand cold first",
         "jax first", f"<= {TARGETS['cold']} s"),
        ("  the same in CPU seconds", "adjit cold cpu", "hand cold cpu", "jax cpu", ""),
        ("compile after numba's start-up", "adjit warm-numba first", None, None, ""),
        ("  the same in CPU seconds", "adjit warm-numba cpu", None, None, ""),
        ("new batch size: time", "adjit cold batch", None, "jax batch", ""),
        ("new batch size: numba compiles", "adjit cold recompiles", None, None,
         f"{TARGETS['recompiles']}"),
        ("load from disk cache, new process", "adjit load first", "hand load first", None,
         f"<= {TARGETS['load']} s"),
        ("  the same in CPU seconds", "adjit load cpu", "hand load cpu", None, ""),
    ]
    print(f"{'':40s} {'ad.jit':>9s} {'hand @njit':>11s} {'jax.jit':>9s}  target")
    for name, k, h, j, target in rows:
        def cell(key, w):
            if key is None or key not in med:
                return " " * w
            v = med[key]
            return f"{int(v):{w}d}" if "recompiles" in key else f"{v:{w - 2}.3f} s"
        print(f"{name:40s} {cell(k, 9)} {cell(h, 11)} {cell(j, 9)}  {target}")
    print(f"(medians of {a.repeat}; load average now {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
