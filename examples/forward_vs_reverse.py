"""Forward against reverse mode for a tall and a wide Jacobian, and what ad.select_mode picks.

Forward mode costs one pass per (chunk of) input directions, reverse mode one backward pass per
(chunk of) outputs: a tall Jacobian (few inputs, many outputs) favours forward mode, a wide one
(many inputs, few outputs) favours reverse mode.

Run:  python examples/forward_vs_reverse.py
For the full picture on your machine: adjit bench
"""
import time

import numpy as np

import adjit as ad


def best_time(fn, x, repeat=5):
    fn(x)  # warm-up
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(x)
        ts.append(time.perf_counter() - t)
    return min(ts)


rng = np.random.default_rng(0)
cases = {
    "tall (n_in=8, n_out=2000)": (8, 2000),
    "wide (n_in=2000, n_out=8)": (2000, 8),
}
print(f"{'function':28s} {'forward':>10s} {'reverse':>10s} {'faster':>8s} {'select_mode':>12s}")
for name, (n_in, n_out) in cases.items():
    W = rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)
    x = rng.standard_normal(n_in)

    def f(v, W=W):
        return ad.tanh(W @ v)

    Jf = ad.jacfwd(f)(x)
    Jr = ad.jacrev(f)(x)
    exact = (1 - np.tanh(W @ x) ** 2)[:, None] * W
    assert Jf.shape == Jr.shape == (n_out, n_in)
    assert np.allclose(Jf, exact, rtol=1e-12, atol=1e-14)
    assert np.allclose(Jr, exact, rtol=1e-12, atol=1e-14)
    tf = best_time(ad.jacfwd(f), x)
    tr = best_time(ad.jacrev(f), x)
    auto = ad.jacobian(f)  # mode="auto"
    auto(x)
    faster = "forward" if tf < tr else "reverse"
    print(f"{name:28s} {tf * 1e3:8.2f}ms {tr * 1e3:8.2f}ms {faster:>8s} "
          f"{ad.select_mode(n_in, n_out):>12s}   (auto used: {auto.last_mode})")
