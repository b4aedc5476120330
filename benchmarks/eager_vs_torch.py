"""Eager adjit against eager PyTorch, timed in the same run: median per-call times and ratios.

    python benchmarks/eager_vs_torch.py            # everything, a few minutes on a busy machine
    python benchmarks/eager_vs_torch.py --quick    # fewer repeats
    python benchmarks/eager_vs_torch.py -k hess    # only workloads whose name contains "hess"
    python benchmarks/eager_vs_torch.py --cpu      # CPU time of this process, not wall time

PyTorch is optional (`pip install -e ".[compare]"`); without it the torch column is skipped.
The workloads are the ones issues 10 and 15 name:
  * scalar f = x*log(x) + sin(x*y), forward + backward, fresh leaves each call
  * Rosenbrock gradient at n = 10 (ad.grad, and a fresh tensor + .backward()) and n = 100,000
  * d2l's linear regression from scratch: one minibatch SGD step (batch 10 of 1000x2 synthetic
    data: forward, squared loss .sum().backward(), update under no_grad, grad.zero_())
  * eager ad.hessian of a logistic-regression loss (n = 5,000, d = 100) and of Rosenbrock
    n = 100, against torch.autograd.functional.hessian(vectorize=True) and torch.func.hessian
adjit and PyTorch repeats alternate, so a change in machine load hits both columns alike; the
load average is printed before and after.
"""
import argparse
import os
import statistics
import sys
import time
import timeit
import warnings

if "--cpu" in sys.argv:
    # one thread per library before NumPy loads: idle BLAS/OpenMP workers spin, and CPU time
    # would charge their spinning to whichever side called the library
    for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

import adjit as ad  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eager_timing import fmt, rosenbrock, rosenbrock_numpy_grad, scalar_f  # noqa: E402

try:
    import torch
    import torch.func  # noqa: F401
except ImportError:
    torch = None
# torch.autograd.functional.hessian(vectorize=True) goes through torch.jit, which warns
warnings.filterwarnings("ignore", category=FutureWarning, module="torch")


def interleaved(fns, number, repeat, timer=time.perf_counter):
    """Median per-call time of each function; repeats alternate between the functions."""
    times = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            times[i].append(timeit.Timer(fn, timer=timer).timeit(number) / number)
    return [statistics.median(t) for t in times]


def load():
    return "load average %.2f %.2f %.2f (1, 5, 15 min)" % os.getloadavg()


# -- workloads: each returns (adjit callable, [(torch label, torch callable)], check) ---------

def w_scalar():
    def torch_f():
        x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
        y = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
        f = x * torch.log(x) + torch.sin(x * y)
        f.backward()
        return x, y

    def check():
        x, y = scalar_f()
        assert abs(x.grad.item() - (1 + 2 * np.cos(2.0))) < 1e-12
        assert abs(y.grad.item() - np.cos(2.0)) < 1e-12
    return scalar_f, [("backward", torch_f)], check


def torch_rosen(x):
    a, b = x[1:], x[:-1]
    return (100.0 * (a - b ** 2) ** 2 + (1.0 - b) ** 2).sum()


def _rosen_x(n):
    return np.random.default_rng(0).uniform(-1, 1, n)


def _torch_backward(x0):
    def step():
        x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        torch_rosen(x).backward()
        return x.grad.numpy()
    return step


def w_rosen_grad(n):
    def make():
        x0 = _rosen_x(n)
        g = ad.grad(rosenbrock)

        def check():
            np.testing.assert_allclose(g(x0), rosenbrock_numpy_grad(x0), rtol=1e-12, atol=1e-9)
        return (lambda: g(x0)), [("backward", _torch_backward(x0))], check
    return make


def w_rosen_backward(n):
    def make():
        x0 = _rosen_x(n)

        def step():
            x = ad.tensor(x0, requires_grad=True)
            rosenbrock(x).backward()
            return x.grad.numpy()

        def check():
            np.testing.assert_allclose(step(), rosenbrock_numpy_grad(x0), rtol=1e-12, atol=1e-9)
        return step, [("backward", _torch_backward(x0))], check
    return make


def _d2l_data(tensor):
    """d2l 3.2: y = Xw + b + noise, X 1000x2; w ~ N(0, 0.01), b = 0 as leaves; batches of 10
    (indices shuffled once, then cycled)."""
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (1000, 2))
    y = (X @ np.array([2.0, -3.4]) + 4.2 + rng.normal(0, 0.01, 1000)).reshape(-1, 1)
    w0 = rng.normal(0, 0.01, (2, 1))
    order = rng.permutation(1000)
    batches = [order[i:i + 10] for i in range(0, 1000, 10)]
    return tensor(X), tensor(y), w0, batches


def w_d2l():
    lr, bs = 0.03, 10

    def adjit_make():
        X, y, w0, batches = _d2l_data(ad.tensor)
        w = ad.tensor(w0, requires_grad=True)
        b = ad.zeros(1, requires_grad=True)
        it = iter(())

        def step():
            nonlocal it
            idx = next(it, None)
            if idx is None:
                it = iter(batches)
                idx = next(it)
            Xb, yb = X[idx], y[idx]
            y_hat = Xb @ w + b
            loss = (y_hat - yb.reshape(y_hat.shape)) ** 2 / 2
            loss.sum().backward()
            with ad.no_grad():
                for p in (w, b):
                    p -= lr * p.grad / bs
                    p.grad.zero_()
        return step, w, b

    def torch_make():
        t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
        X, y, w0, batches = _d2l_data(t)
        batches = [torch.tensor(i) for i in batches]
        w = t(w0).requires_grad_()
        b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        it = iter(())

        def step():
            nonlocal it
            idx = next(it, None)
            if idx is None:
                it = iter(batches)
                idx = next(it)
            Xb, yb = X[idx], y[idx]
            y_hat = Xb @ w + b
            loss = (y_hat - yb.reshape(y_hat.shape)) ** 2 / 2
            loss.sum().backward()
            with torch.no_grad():
                for p in (w, b):
                    p -= lr * p.grad / bs
                    if p.grad is not None:
                        p.grad.zero_()
        return step, w, b

    def make():
        step, w, b = adjit_make()

        def check():  # three epochs recover the true parameters, as in d2l
            s, w2, b2 = adjit_make()
            for _ in range(300):
                s()
            np.testing.assert_allclose(w2.detach().numpy().ravel(), [2.0, -3.4], atol=2e-3)
            np.testing.assert_allclose(b2.detach().numpy(), [4.2], atol=2e-3)
        torch_fns = [("backward", torch_make()[0])] if torch is not None else []
        return step, torch_fns, check
    return make


def _logreg_data():
    rng = np.random.default_rng(0)
    n, d = 5000, 100
    X = rng.normal(0, 1, (n, d)) / np.sqrt(d)
    y = np.where(rng.uniform(size=n) < 0.5, -1.0, 1.0)
    return X, y, rng.normal(0, 1, d)


def _torch_hessians(f, x0):
    xt = torch.tensor(x0, dtype=torch.float64)
    hf = torch.func.hessian(f)
    return [("autograd.functional.hessian(vectorize=True)",
             lambda: torch.autograd.functional.hessian(f, xt, vectorize=True).numpy()),
            ("torch.func.hessian", lambda: hf(xt).numpy())]


def w_hess_logreg():
    X, y, w0 = _logreg_data()

    def loss(w):
        return ad.mean(ad.log1p(ad.exp(-y * (X @ w))))

    h = ad.hessian(loss)
    torch_fns = []
    if torch is not None:
        Xt, yt = torch.tensor(X), torch.tensor(y)
        torch_fns = _torch_hessians(lambda w: torch.log1p(torch.exp(-yt * (Xt @ w))).mean(), w0)

    def check():
        s = 1.0 / (1.0 + np.exp(y * (X @ w0)))     # sigmoid(-y z)
        np.testing.assert_allclose(h(w0), (X.T * (s * (1 - s))) @ X / len(y), rtol=1e-10,
                                   atol=1e-12)
    return (lambda: h(w0)), torch_fns, check


def w_hess_rosen():
    x0 = _rosen_x(100)
    h = ad.hessian(rosenbrock)
    torch_fns = _torch_hessians(torch_rosen, x0) if torch is not None else []

    def check():
        H = h(x0)
        g = ad.grad(rosenbrock)
        e = 1e-6
        col = (g(x0 + e * np.eye(100)[3]) - g(x0 - e * np.eye(100)[3])) / (2 * e)
        np.testing.assert_allclose(H[:, 3], col, rtol=1e-6, atol=1e-5)
    return (lambda: h(x0)), torch_fns, check


# name, make, calls per repeat, repeats (full run)
WORKLOADS = [
    ("scalar f = x*log(x) + sin(x*y), fwd + bwd", w_scalar, 2000, 15),
    ("Rosenbrock n=10 ad.grad", w_rosen_grad(10), 1000, 15),
    ("Rosenbrock n=10 tensor .backward()", w_rosen_backward(10), 1000, 15),
    ("Rosenbrock n=100,000 ad.grad", w_rosen_grad(100_000), 5, 15),
    ("Rosenbrock n=100,000 tensor .backward()", w_rosen_backward(100_000), 5, 15),
    ("d2l linear regression, SGD step (batch 10)", w_d2l(), 1000, 15),
    ("hessian logistic loss n=5,000 d=100", w_hess_logreg, 3, 15),
    ("hessian Rosenbrock n=100", w_hess_rosen, 100, 15),
]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="a third of the repeats")
    p.add_argument("-k", default="", help="only workloads whose name contains this")
    p.add_argument("--cpu", action="store_true",
                   help="time by the CPU time of this process (all its threads) instead of the "
                        "wall clock: steadier on a machine shared with other jobs; BLAS and torch "
                        "run on one thread then")
    args = p.parse_args()
    if args.cpu and torch is not None:
        torch.set_num_threads(1)  # as NumPy's BLAS above

    print(f"adjit {ad.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs"
          + (f", torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else ""))
    print("before:", load())
    print(f"median per call ({'process CPU time' if args.cpu else 'wall clock'}); adjit and "
          "torch repeats interleaved\n")
    w = 44
    print(f"{'workload':{w}} {'adjit':>12} {'torch':>12} {'ratio':>6}  torch variant")
    for name, make, number, repeat in WORKLOADS:
        if args.k and args.k.lower() not in name.lower():
            continue
        if args.quick:
            repeat = max(3, repeat // 3)
        fn, torch_fns, check = make()
        if torch is None:
            torch_fns = []
        check()
        fn()
        for _, tf in torch_fns:
            tf()
        times = interleaved([fn] + [tf for _, tf in torch_fns], number, repeat,
                            time.process_time if args.cpu else time.perf_counter)
        t_ad = times[0]
        if not torch_fns:
            print(f"{name:{w}} {fmt(t_ad):>12} {'-':>12} {'-':>6}")
        for i, ((label, _), t) in enumerate(zip(torch_fns, times[1:])):
            left = f"{name:{w}} {fmt(t_ad):>12}" if i == 0 else f"{'':{w}} {'':>12}"
            print(f"{left} {fmt(t):>12} {t_ad / t:6.2f}  {label}")
    print("\nafter:", load())
    if torch is None:
        print("PyTorch is not installed: torch column skipped "
              "(pip install -e \".[compare]\" to include it).")


if __name__ == "__main__":
    main()
