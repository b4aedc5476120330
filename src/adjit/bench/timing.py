"""`adjit bench`: forward against reverse mode on this machine.

Three sections, each result checked against an analytic value *before* it is timed:

1. Jacobians of f(x) = tanh(W x) over a grid of input/output sizes, in forward (`ad.jacfwd`),
   reverse (`ad.jacrev`) and auto mode (`ad.jacobian(mode="auto")`), with the selector's
   choice (`ad.select_mode`) and whether it picked the faster mode; a one-line verdict of where
   the crossover lies.
2. The gradient of the Rosenbrock function at n = 10, 1,000 and 100,000 in reverse mode,
   forward mode, central finite differences and `ad.jit(ad.grad(f))`, with grad/f time
   ratios. Methods whose full cost would take minutes (forward mode needs a
   pass per chunk of directions, finite differences 2n evaluations) are timed on a fixed
   number of passes and extrapolated, and say so.
3. The Hessian of Rosenbrock at n = 100.

Timing: the checked call is the warm-up (its time, which includes numba compilation or cache
loading, is reported separately as "first call"); then `repeat` samples, each looping the call
enough times to last at least `min_sample` seconds; the figure is the median per call.
"""
import math
import statistics
import sys
import time

import numpy as np

import adjit as ad
from ..transforms.jacobians import DEFAULT_CHUNK

SCHEMA_VERSION = 1
CHUNK = DEFAULT_CHUNK  # directions per forward pass


# ---------------------------------------------------------------------------------------------
# settings

class Settings:
    def __init__(self, quick=False, sizes=None, repeat=None, peers=False, seed=0):
        self.quick = quick
        self.sizes = list(sizes) if sizes else ([1, 8, 64] if quick else
                                                 [1, 4, 16, 64, 256, 1024])
        self.repeat = repeat or (5 if quick else 7)
        self.min_sample = 0.004 if quick else 0.03    # seconds per timed sample (loops inside)
        self.max_time = 0.3 if quick else 1.5         # per measurement; at least 3 samples kept
        self.rosen_ns = [10, 1000, 100000]
        self.hess_n = 100
        self.fwd_full_max = 1000 if quick else 10000  # beyond: time some passes, extrapolate
        self.fwd_passes = 1 if quick else 4
        self.fd_full_max = 1000 if quick else 10000
        self.fd_coords = 20 if quick else 400
        self.peers = peers
        self.seed = seed

    def as_dict(self):
        return {k: v for k, v in vars(self).items()}


# ---------------------------------------------------------------------------------------------
# analytic references (NumPy; scipy is a test-only dependency)

def rosen(x):
    """Rosenbrock written with adjit ops: works on arrays, Tensors and dual numbers."""
    return ad.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosen_np(x):
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def rosen_der(x):
    """Analytic gradient of the Rosenbrock function (as scipy.optimize.rosen_der)."""
    x = np.asarray(x, dtype=float)
    xm, xm_m1, xm_p1 = x[1:-1], x[:-2], x[2:]
    der = np.zeros_like(x)
    der[1:-1] = 200 * (xm - xm_m1 ** 2) - 400 * (xm_p1 - xm ** 2) * xm - 2 * (1 - xm)
    der[0] = -400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0])
    der[-1] = 200 * (x[-1] - x[-2] ** 2)
    return der


def rosen_hess(x):
    """Analytic Hessian of the Rosenbrock function (as scipy.optimize.rosen_hess)."""
    x = np.asarray(x, dtype=float)
    n = x.size
    H = np.diag(-400 * x[:-1], 1) + np.diag(-400 * x[:-1], -1)
    diag = np.zeros(n)
    diag[0] = 1200 * x[0] ** 2 - 400 * x[1] + 2
    diag[-1] = 200
    diag[1:-1] = 202 + 1200 * x[1:-1] ** 2 - 400 * x[2:]
    return H + np.diag(diag)


def tanh_jac(W, x):
    """Analytic Jacobian of tanh(W x): diag(1 - tanh(W x)^2) W."""
    return (1.0 - np.tanh(W @ x) ** 2)[:, None] * W


# ---------------------------------------------------------------------------------------------
# measuring

class Clock:
    def __init__(self):
        self.t0 = time.perf_counter()

    def now(self):
        return time.perf_counter() - self.t0


def checked_call(fn, expected, clock, rtol=1e-9, atol=1e-12, reference="analytic", select=None):
    """Call fn once (this is also the warm-up call, timed) and compare with `expected`.
    Returns (check record, first-call seconds, result)."""
    t = time.perf_counter()
    got = fn()
    first = time.perf_counter() - t
    val = np.asarray(got if select is None else select(got), dtype=float)
    exp = np.asarray(expected, dtype=float)
    if val.shape != exp.shape:
        rec = {"reference": reference, "passed": False, "max_abs_err": None,
               "error": f"shape {val.shape} != expected {exp.shape}"}
    else:
        err = np.abs(val - exp)
        tol = atol + rtol * np.abs(exp)
        ok = bool(np.all(np.isfinite(val)) and np.all(err <= tol))
        rec = {"reference": reference, "passed": ok,
               "max_abs_err": float(err.max()) if err.size else 0.0,
               "max_abs_ref": float(np.abs(exp).max()) if exp.size else 0.0,
               "rtol": rtol, "atol": float(atol)}
    rec["t_checked"] = clock.now()
    return rec, first, got


def measure_group(fns, settings, clock, first_calls):
    """Median seconds per call of each fn (a dict name -> callable), after the warm-up calls
    already made by the checks. Samples are interleaved round-robin (fn1, fn2, ..., fn1, ...)
    so that a change in machine load hits every contender alike."""
    loops, ests = {}, {}
    for name, fn in fns.items():
        t = time.perf_counter()
        fn()  # calibration call (also warm)
        ests[name] = max(time.perf_counter() - t, 1e-7)
        loops[name] = max(1, int(math.ceil(settings.min_sample / ests[name])))
    t_start = clock.now()
    samples = {name: [] for name in fns}
    spent = sum(ests.values())
    for r in range(settings.repeat):
        for name, fn in fns.items():
            n = loops[name]
            t = time.perf_counter()
            for _ in range(n):
                fn()
            dt = time.perf_counter() - t
            samples[name].append(dt / n)
            spent += dt
        if spent > settings.max_time * len(fns) and r + 1 >= 3:
            break
    out = {}
    for name, ss in samples.items():
        med = statistics.median(ss)
        out[name] = {"median_s": med, "min_s": min(ss), "max_s": max(ss),
                     "first_call_s": first_calls[name],
                     "compile_s": max(0.0, first_calls[name] - med),
                     "repeats": len(ss), "loops": loops[name], "samples_s": ss,
                     "t_timing_start": t_start}
    return out


def check_and_time_group(specs, settings, clock):
    """specs: name -> (fn, expected, check keywords). Checks every fn first (each check is
    that fn's warm-up call), then times them all, interleaved."""
    checks, firsts = {}, {}
    for name, (fn, expected, kw) in specs.items():
        checks[name], firsts[name], _ = checked_call(fn, expected, clock, **kw)
    timings = measure_group({n: s[0] for n, s in specs.items()}, settings, clock, firsts)
    return {n: {"check": checks[n], **timings[n]} for n in specs}


def check_and_time_with_jit(specs, make_jit, x, expected, jit_info, settings, clock):
    """check_and_time_group with one more contender "jit", make_jit()(x): when building or
    calling it fails, the error goes into jit_info (reported, not fatal) and the others are
    timed without it."""
    try:
        fj = make_jit()
        specs["jit"] = (lambda: fj(x), expected, {})
    except Exception as e:
        jit_info.update(available=True, error=f"{type(e).__name__}: {e}")
    try:
        return check_and_time_group(specs, settings, clock)
    except Exception as e:
        if "jit" not in specs:
            raise
        del specs["jit"]
        jit_info.update(available=True, error=f"{type(e).__name__}: {e}")
        return check_and_time_group(specs, settings, clock)


def check_and_time(fn, expected, settings, clock, **kw):
    return check_and_time_group({"_": (fn, expected, kw)}, settings, clock)["_"]


# ---------------------------------------------------------------------------------------------
# progress on stderr

class Progress:
    def __init__(self, total, enabled=True, stream=None):
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.t0 = time.perf_counter()

    def step(self, msg):
        self.done += 1
        if not self.enabled:
            return
        w = len(str(self.total))
        line = (f"[{self.done:>{w}}/{self.total}] {time.perf_counter() - self.t0:5.1f}s  {msg}")
        if self.tty:
            self.stream.write("\r\033[K" + line[:110])
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self):
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()


# ---------------------------------------------------------------------------------------------
# section 1: Jacobians of tanh(W x)

