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
import json
import math
import os
import platform
import statistics
import sys
import time

import numpy as np

import adjit as ad
from adjit.cli import BLAS_ENV  # the variables the command sets

SCHEMA_VERSION = 1
CHUNK = ad.functional.DEFAULT_CHUNK  # directions per forward pass


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

def _crossover(xs, t_fwd, t_rev):
    """Where forward and reverse times cross along xs (log-log interpolation at the last
    sign change of log(t_rev / t_fwd), after which the winner stays the same; near-equal times
    at small sizes can flip back and forth). Returns (x or None, kind): kind is
    'forward-above' (forward faster beyond x, the expected case as outputs grow),
    'reverse-above', 'forward-always' or 'reverse-always'."""
    r = [math.log(tr / tf) for tf, tr in zip(t_fwd, t_rev)]
    for i in reversed(range(len(xs) - 1)):
        a, b = r[i], r[i + 1]
        if (a < 0) != (b < 0):
            la, lb = math.log(xs[i]), math.log(xs[i + 1])
            frac = a / (a - b)
            return math.exp(la + frac * (lb - la)), ("forward-above" if b >= 0 else
                                                     "reverse-above")
    return None, ("forward-always" if r[0] >= 0 else "reverse-always")


def bench_jacobian(settings, clock, progress, peers):
    rng = np.random.default_rng(settings.seed)
    sizes = settings.sizes
    cells = []
    for n_in in sizes:
        for n_out in sizes:
            W = rng.standard_normal((n_out, n_in)) / math.sqrt(n_in)
            x = rng.standard_normal(n_in)

            def f(x, W=W):
                return ad.tanh(ad.matmul(W, x))
            J = tanh_jac(W, x)
            jf, jr = ad.jacfwd(f), ad.jacrev(f)
            ja = ad.jacobian(f, mode="auto")
            cell = {"n_in": n_in, "n_out": n_out,
                    "selected": ad.select_mode(n_in, n_out)}
            progress.step(f"jacobian n_in={n_in} n_out={n_out}: f, forward, reverse, auto")
            fx = np.tanh(W @ x)
            cell.update(check_and_time_group(
                {"f": (lambda: f(x), fx, {}), "forward": (lambda: jf(x), J, {}),
                 "reverse": (lambda: jr(x), J, {}), "auto": (lambda: ja(x), J, {})},
                settings, clock))
            cell["auto_mode"] = ja.last_mode
            tf, tr = cell["forward"]["median_s"], cell["reverse"]["median_s"]
            cell["faster"] = "forward" if tf <= tr else "reverse"
            best = min(tf, tr)
            picked = tf if cell["selected"] == "forward" else tr
            cell["selector_picked_faster"] = cell["selected"] == cell["faster"]
            cell["selector_slowdown"] = picked / best
            cell["peers"] = {}
            for p in peers:
                progress.step(f"jacobian n_in={n_in} n_out={n_out}: {p.name}")
                cell["peers"][p.name] = p.jacobian(W, x, J, settings, clock)
            cells.append(cell)

    def grid(mode):
        return {(c["n_in"], c["n_out"]): c[mode]["median_s"] for c in cells}
    gf, gr = grid("forward"), grid("reverse")
    by_in = {}
    for n_in in sizes:
        if len(sizes) >= 2:
            xo, kind = _crossover(sizes, [gf[n_in, m] for m in sizes],
                                  [gr[n_in, m] for m in sizes])
        else:
            xo, kind = None, ("forward-always" if gf[n_in, sizes[0]] <= gr[n_in, sizes[0]]
                              else "reverse-always")
        by_in[str(n_in)] = {"n_out": xo, "kind": kind}
    n_ok = sum(c["selector_picked_faster"] for c in cells)
    n_tie = sum((not c["selector_picked_faster"]) and c["selector_slowdown"] < 1.1 for c in cells)
    res = {"function": "f(x) = tanh(W x), W of shape (n_out, n_in)",
           "sizes": sizes, "cells": cells,
           "crossover_n_out_by_n_in": by_in,
           "selector": {"picked_faster": n_ok, "near_ties_missed": n_tie, "cells": len(cells),
                        "worst_slowdown": max(c["selector_slowdown"] for c in cells)}}
    res["verdict"] = _verdict(res)
    return res


def _verdict(res):
    """One line: where the crossover lies on this machine."""
    sizes = res["sizes"]
    rows = res["crossover_n_out_by_n_in"]
    cross = {int(k): c["n_out"] for k, c in rows.items() if c["kind"] == "forward-above"}
    parts = [f"n_in={k}: n_out~{v:.2g}" for k, v in cross.items()]
    odd = [int(k) for k, c in rows.items() if c["kind"] == "reverse-above"]
    fwd = [int(k) for k, c in rows.items() if c["kind"] == "forward-always"]
    rev = [int(k) for k, c in rows.items() if c["kind"] == "reverse-always"]
    out = []
    # Within one chunk both modes make a single pass and their times are close, so the
    # break-even ratio n_out / n_in comes from the rows where forward needs several passes.
    big = [v / k for k, v in cross.items() if k > CHUNK]
    if big:
        out.append(f"reverse wins while n_out < ~{statistics.median(big):.2g} x n_in, forward "
                   f"above (crossovers {', '.join(parts)})")
    elif cross:
        out.append(f"crossovers {', '.join(parts)}")
    if fwd:
        out.append(f"forward won at every n_out for n_in in {{{', '.join(map(str, fwd))}}}")
    if rev:
        out.append(f"reverse won at every n_out up to {sizes[-1]} for n_in in "
                   f"{{{', '.join(map(str, rev))}}}")
    if odd:
        out.append(f"reverse got faster with more outputs for n_in in "
                   f"{{{', '.join(map(str, odd))}}} (unexpected: a noisy machine?)")
    return "; ".join(out)


# ---------------------------------------------------------------------------------------------
# section 2: Rosenbrock gradient

def _fd_grad(f, x, idx, rel_step=6e-6):
    """Central differences for the coordinates in idx (2 evaluations of f each)."""
    xp = np.array(x, dtype=float, copy=True)
    g = np.empty(len(idx))
    for j, i in enumerate(idx):
        h = rel_step * max(1.0, abs(x[i]))
        xi = xp[i]
        xp[i] = xi + h
        fp = f(xp)
        xp[i] = xi - h
        fm = f(xp)
        xp[i] = xi
        g[j] = (fp - fm) / (2 * h)
    return g


def _jvp_passes(f, x, chunks):
    """Forward-mode passes of CHUNK directions each (the chunks given); returns the gradient
    entries they produce."""
    n = x.size
    outs = []
    for s in chunks:
        k = min(CHUNK, n - s)
        T = np.zeros((n, k))
        T[s + np.arange(k), np.arange(k)] = 1.0
        _, tg = ad.jvp(f, (x,), (T,))
        outs.append(np.asarray(tg).reshape(k))
    return np.concatenate(outs)


def bench_rosen(settings, clock, progress, peers):
    rows = []
    for n in settings.rosen_ns:
        rng = np.random.default_rng(settings.seed + n)
        x = rng.uniform(-1.5, 1.5, n)
        g_ref = rosen_der(x)
        f_ref = rosen_np(x)
        fd_tol = {"rtol": 1e-5, "atol": 1e-9 * max(1.0, abs(f_ref)),
                  "reference": "analytic (finite-difference tolerance)"}
        progress.step(f"rosenbrock n={n}: f, reverse, forward, central differences, ad.jit")
        specs, info = {}, {}
        specs["f"] = (lambda: rosen(x), f_ref, {})
        g = ad.grad(rosen)
        specs["reverse"] = (lambda: g(x), g_ref, {})
        info["reverse"] = {"label": "reverse  ad.grad", "extrapolated": False}

        passes = math.ceil(n / CHUNK)
        scale = {}
        if n <= settings.fwd_full_max:
            jf = ad.jacfwd(rosen)
            specs["forward"] = (lambda: jf(x), g_ref, {})
            info["forward"] = {"label": "forward  ad.jacfwd", "extrapolated": False,
                               "passes": passes,
                               "note": f"{passes} pass(es) x {CHUNK} directions"}
        else:
            p = min(settings.fwd_passes, passes)
            chunks = [i * CHUNK for i in range(p)]
            sel = np.concatenate([np.arange(s, min(s + CHUNK, n)) for s in chunks])
            specs["forward"] = (lambda: _jvp_passes(rosen, x, chunks), g_ref[sel], {})
            scale["forward"] = passes / p
            info["forward"] = {
                "label": "forward  ad.jvp passes", "extrapolated": True, "passes": passes,
                "passes_timed": p, "entries_checked": int(sel.size),
                "note": f"EXTRAPOLATED from {p} of {passes} passes (full run too slow)"}

        evals = 2 * n
        if n <= settings.fd_full_max:
            idx = np.arange(n)
            specs["fd"] = (lambda: _fd_grad(rosen, x, idx), g_ref, fd_tol)
            info["fd"] = {"label": "central finite differences", "extrapolated": False,
                          "evaluations": evals, "note": f"{evals} evaluations of f"}
        else:
            c = min(settings.fd_coords, n)
            idx2 = np.linspace(0, n - 1, c).astype(int)
            specs["fd"] = (lambda: _fd_grad(rosen, x, idx2), g_ref[idx2], fd_tol)
            scale["fd"] = n / c
            info["fd"] = {
                "label": "central finite differences", "extrapolated": True,
                "evaluations": evals, "evaluations_timed": 2 * c, "entries_checked": int(c),
                "note": f"EXTRAPOLATED from {2 * c} of {evals} evaluations (full run too slow)"}

        jit_info = {"label": "ad.jit(ad.grad)"}
        got = check_and_time_with_jit(specs, lambda: ad.jit(ad.grad(rosen)), x, g_ref, jit_info,
                                      settings, clock)
        if "jit" in got:
            jit_info.update(extrapolated=False, note="first call includes the jit compilation")
        row = {"n": n, "f": got.pop("f"), "methods": {}}
        for key in ("reverse", "forward", "fd", "jit"):
            if key in got:
                m = got[key]
                if key in scale:  # extrapolated: scale the timed figures, keep the measured
                    m["measured_median_s"] = m["median_s"]
                    m["extrapolation_factor"] = scale[key]
                    for k in ("median_s", "min_s", "max_s"):
                        m[k] *= scale[key]
                    m["samples_s"] = [v * scale[key] for v in m["samples_s"]]
                m.update(info.get(key, jit_info))
                if "entries_checked" in m:
                    m["check"]["entries_checked"] = m.pop("entries_checked")
                m["ratio_to_f"] = m["median_s"] / row["f"]["median_s"]
                row["methods"][key] = m
            else:
                row["methods"][key] = jit_info
        row["peers"] = {}
        for p in peers:
            progress.step(f"rosenbrock n={n}: {p.name}")
            row["peers"][p.name] = p.rosen_grad(x, g_ref, settings, clock)
        rows.append(row)
    return {"function": "Rosenbrock, sum(100 (x[1:] - x[:-1]^2)^2 + (1 - x[:-1])^2)",
            "x": "uniform(-1.5, 1.5), seeded", "rows": rows}


# ---------------------------------------------------------------------------------------------
# section 3: Hessian

def bench_hessian(settings, clock, progress, peers):
    n = settings.hess_n
    x = np.random.default_rng(settings.seed + 7).uniform(-1.5, 1.5, n)
    H_ref = rosen_hess(x)
    progress.step(f"hessian n={n}: f, forward-over-reverse, reverse-over-reverse, ad.jit")
    h = ad.hessian(rosen)
    hr = ad.jacrev(ad.grad(rosen))
    specs = {"f": (lambda: rosen(x), rosen_np(x), {}),
             "hessian": (lambda: h(x), H_ref, {}),
             "rev_rev": (lambda: hr(x), H_ref, {})}
    labels = {"hessian": "ad.hessian (forward-over-reverse)",
              "rev_rev": "ad.jacrev(ad.grad) (reverse-over-reverse)",
              "jit": "ad.jit(ad.hessian)"}
    jit_info = {"label": labels["jit"]}
    got = check_and_time_with_jit(specs, lambda: ad.jit(ad.hessian(rosen)), x, H_ref, jit_info,
                                  settings, clock)
    res = {"n": n, "f": got.pop("f"), "methods": {}}
    for key in ("hessian", "rev_rev", "jit"):
        if key in got:
            m = got[key]
            m["label"] = labels[key]
            m["ratio_to_f"] = m["median_s"] / res["f"]["median_s"]
            res["methods"][key] = m
        else:
            res["methods"][key] = jit_info
    res["peers"] = {}
    for p in peers:
        progress.step(f"hessian n={n}: {p.name}")
        res["peers"][p.name] = p.rosen_hessian(x, H_ref, settings, clock)
    return res


# ---------------------------------------------------------------------------------------------
# peers: JAX, PyTorch, HIPS autograd (each optional)

class Peer:
    """One other AD library. Subclasses give `setup()` (import, may raise ImportError) and
    the functions; each returns a NumPy-in/NumPy-out callable."""
    name = "?"

    def _run(self, make, expected, settings, clock):
        try:
            fn = make()
            return check_and_time(fn, expected, settings, clock)
        except Exception as e:
            return {"error": f"{type(e).__name__}: {e}"}

    def jacobian(self, W, x, J, settings, clock):
        out = {}
        for mode in ("forward", "reverse"):
            mk = getattr(self, "jac_" + mode, None)
            out[mode] = (self._run(lambda mk=mk: mk(W, x), J, settings, clock) if mk else
                         {"note": f"n/a: {self.name} has no {mode}-mode Jacobian"})
        return out

    def rosen_grad(self, x, g_ref, settings, clock):
        return {"reverse": self._run(lambda: self.grad(x), g_ref, settings, clock)}

    def rosen_hessian(self, x, H_ref, settings, clock):
        return {"hessian": self._run(lambda: self.hessian(x), H_ref, settings, clock)}


class JaxPeer(Peer):
    name = "jax"

    def setup(self):
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        self.jax, self.jnp = jax, jnp
        self.version = jax.__version__

    def _rosen(self, x):
        return self.jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    def _wrap(self, fn, x):
        xj = self.jnp.asarray(x)
        return lambda: np.asarray(fn(xj).block_until_ready())

    def jac_forward(self, W, x):
        Wj = self.jnp.asarray(W)
        return self._wrap(self.jax.jit(self.jax.jacfwd(lambda v: self.jnp.tanh(Wj @ v))), x)

    def jac_reverse(self, W, x):
        Wj = self.jnp.asarray(W)
        return self._wrap(self.jax.jit(self.jax.jacrev(lambda v: self.jnp.tanh(Wj @ v))), x)

    def grad(self, x):
        return self._wrap(self.jax.jit(self.jax.grad(self._rosen)), x)

    def hessian(self, x):
        return self._wrap(self.jax.jit(self.jax.hessian(self._rosen)), x)


class TorchPeer(Peer):
    name = "torch"

    def setup(self):
        import torch
        import torch.func  # noqa: F401
        self.torch = torch
        self.version = torch.__version__

    def _rosen(self, x):
        return ((100.0 * (x[1:] - x[:-1] ** 2) ** 2) + (1.0 - x[:-1]) ** 2).sum()

    def _wrap(self, fn, x):
        xt = self.torch.tensor(x, dtype=self.torch.float64)
        return lambda: fn(xt).detach().numpy()

    def jac_forward(self, W, x):
        Wt = self.torch.tensor(W, dtype=self.torch.float64)
        return self._wrap(self.torch.func.jacfwd(lambda v: self.torch.tanh(Wt @ v)), x)

    def jac_reverse(self, W, x):
        Wt = self.torch.tensor(W, dtype=self.torch.float64)
        return self._wrap(self.torch.func.jacrev(lambda v: self.torch.tanh(Wt @ v)), x)

    def grad(self, x):
        return self._wrap(self.torch.func.grad(self._rosen), x)

    def hessian(self, x):
        return self._wrap(self.torch.func.hessian(self._rosen), x)


class AutogradPeer(Peer):
    name = "autograd"

    def setup(self):
        import autograd
        import autograd.numpy as anp
        self.autograd, self.anp = autograd, anp
        self.version = getattr(autograd, "__version__", "?")

    def _rosen(self, x):
        return self.anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    def jac_reverse(self, W, x):
        fn = self.autograd.jacobian(lambda v: self.anp.tanh(self.anp.dot(W, v)))
        return lambda: np.asarray(fn(x))

    def grad(self, x):
        fn = self.autograd.grad(self._rosen)
        return lambda: np.asarray(fn(x))

    def hessian(self, x):
        fn = self.autograd.hessian(self._rosen)
        return lambda: np.asarray(fn(x))


PEERS = (JaxPeer, TorchPeer, AutogradPeer)


def load_peers():
    """(available peers, notes about every peer)."""
    got, notes = [], {}
    for cls in PEERS:
        p = cls()
        try:
            p.setup()
        except ModuleNotFoundError:
            notes[p.name] = {"available": False, "note": f"{p.name} is not installed; skipped"}
            continue
        except Exception as e:  # a broken install
            notes[p.name] = {"available": False,
                             "note": f"{p.name} failed to import ({type(e).__name__}: {e}); "
                                     "skipped"}
            continue
        if p.version == "?":
            try:
                from importlib.metadata import version
                p.version = version(p.name)
            except Exception:
                pass
        notes[p.name] = {"available": True, "version": p.version}
        got.append(p)
    return got, notes


# ---------------------------------------------------------------------------------------------
# running and reporting

def _load():
    try:
        return list(os.getloadavg())
    except (OSError, AttributeError):
        return None


def _cpu_snapshot():
    """(busy seconds of the whole machine, CPU seconds of this process) or None."""
    try:
        with open("/proc/stat") as f:
            vals = [int(v) for v in f.readline().split()[1:]]
        tick = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, AttributeError):
        return None
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    t = os.times()
    return (sum(vals[:8]) - idle) / tick, t.user + t.system


def _others_cpus(start, end, wall):
    """Average number of CPUs other processes kept busy between two snapshots."""
    if not start or not end or wall <= 0:
        return None
    other = (end[0] - start[0]) - (end[1] - start[1])
    return max(0.0, other / wall)


def machine_info():
    import numba
    return {"load_average_at_start": _load(),
            "blas_thread_env": {k: os.environ.get(k) for k in BLAS_ENV},
            "platform": platform.platform(), "machine": platform.machine(),
            "processor": platform.processor(), "cpu_count": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__,
            "numba": numba.__version__, "adjit": ad.__version__}


def count_steps(settings, n_peers):
    s = len(settings.sizes) ** 2 * (1 + n_peers)
    s += len(settings.rosen_ns) * (1 + n_peers)
    s += 1 + n_peers
    return s


def all_checks(results):
    """Every check record in the results, with where it is."""
    out = []

    def walk(v, path):
        if isinstance(v, dict):
            if "check" in v and isinstance(v["check"], dict):
                out.append((path, v["check"], v.get("t_timing_start")))
            for k, w in v.items():
                if k != "check":
                    walk(w, path + (str(k),))
        elif isinstance(v, list):
            for i, w in enumerate(v):
                walk(w, path + (str(i),))
    walk(results, ())
    return out


def run(settings, progress_enabled=True):
    clock = Clock()
    cpu0 = _cpu_snapshot()
    peers, peer_notes = load_peers() if settings.peers else ([], {})
    progress = Progress(count_steps(settings, len(peers)), enabled=progress_enabled)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    try:
        res = {"schema_version": SCHEMA_VERSION, "tool": "adjit bench", "started": started,
               "machine": machine_info(), "settings": settings.as_dict(),
               "timing_method": ("median seconds per call over `repeats` samples after a "
                                 "warm-up call; each sample loops the call `loops` times; the "
                                 "warm-up call is the correctness check and its time is "
                                 "`first_call_s` (includes numba compilation or cache "
                                 "loading); compile_s = max(0, first_call_s - median_s)"),
               "peers": peer_notes}
        res["jacobian"] = bench_jacobian(settings, clock, progress, peers)
        res["rosenbrock_grad"] = bench_rosen(settings, clock, progress, peers)
        res["hessian"] = bench_hessian(settings, clock, progress, peers)
    finally:
        progress.close()
    checks = all_checks(res)
    res["checks"] = {
        "count": len(checks),
        "all_passed": all(c["passed"] for _, c, _ in checks),
        "all_before_timing": all(t is None or c["t_checked"] <= t for _, c, t in checks),
        "failed": ["/".join(p) for p, c, _ in checks if not c["passed"]],
    }
    res["machine"]["load_average_at_end"] = _load()
    res["wall_s"] = clock.now()
    res["machine"]["other_processes_cpus"] = _others_cpus(cpu0, _cpu_snapshot(), res["wall_s"])
    return res


# -- text report ------------------------------------------------------------------------------

def _mu():
    enc = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "µ".encode(enc)
        return "µs"
    except (UnicodeEncodeError, LookupError):
        return "us"


def fmt_time(s, mu="µs"):
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} {mu}"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def table(headers, rows, align=None):
    align = align or ["r"] * len(headers)
    cols = list(zip(*([headers] + rows))) if rows else [[h] for h in headers]
    widths = [max(len(str(v)) for v in c) for c in cols]

    def line(vals):
        out = []
        for v, w, a in zip(vals, widths, align):
            out.append(str(v).ljust(w) if a == "l" else str(v).rjust(w))
        return "  ".join(out).rstrip()
    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), sep] + [line(r) for r in rows])


def _chk(rec):
    c = rec.get("check")
    if not c:
        return "-"
    if not c["passed"]:
        return "FAILED" + (f" ({c['error']})" if c.get("error") else
                           f" err {c['max_abs_err']:.1e}")
    return f"ok {c['max_abs_err']:.0e}"


def report(res):
    mu = _mu()
    T = lambda s: fmt_time(s, mu)  # noqa: E731
    m = res["machine"]
    st = res["settings"]
    out = []
    out.append(f"adjit bench  (adjit {m['adjit']}, numpy {m['numpy']}, numba {m['numba']}, "
               f"Python {m['python']}, {m['cpu_count']} CPUs{', --quick' if st['quick'] else ''})")
    out.append(f"Times are medians of {st['repeat']} repeats after a warm-up call; the warm-up "
               "call is also the correctness check")
    out.append("against analytic values (column 'check': max abs error). First-call time "
               "(numba compile / cache load) is reported separately.")
    blas = {k: v for k, v in m["blas_thread_env"].items() if v}
    if blas:
        same = len(set(blas.values())) == 1 and len(blas) == len(m["blas_thread_env"])
        out.append("BLAS threads: " + (next(iter(blas.values())) if same else
                                       ", ".join(f"{k}={v}" for k, v in blas.items()))
                   + " (--blas-threads N to change)")
    else:
        out.append("BLAS threads: the library default")
    busy = m.get("other_processes_cpus")
    if busy is not None and busy > 0.25 and blas and all(v == "1" for v in blas.values()):
        out.append(f"note: other processes kept ~{busy:.1f} of {m['cpu_count']} CPUs busy "
                   "during the run.")
    elif busy is not None and busy > 0.25:
        out.append(f"note: other processes kept ~{busy:.1f} of {m['cpu_count']} CPUs busy "
                   "during the run; multi-threaded BLAS calls can stall when a core is taken. "
                   "For steadier numbers rerun on an idle machine or with --blas-threads 1.")
    # peers
    peers = res.get("peers") or {}
    for name, p in peers.items():
        if not p["available"]:
            out.append(f"peers: {p['note']}")
    live = [n for n, p in peers.items() if p["available"]]
    if live:
        out.append("peers: " + ", ".join(f"{n} {peers[n]['version']}" for n in live)
                   + "; a column 'X/adjit' is X's time divided by adjit's (above 1: adjit "
                   "is faster)")

    # 1 jacobian
    J = res["jacobian"]
    out.append("")
    out.append(f"[1] Jacobian of {J['function']}: time per full Jacobian")
    hdr = ["n_in", "n_out", "forward", "reverse", "auto", "auto used", "select_mode", "faster",
           "pick", "check"]
    for n in live:
        hdr += [f"{n} fwd/adjit", f"{n} rev/adjit"]
    rows = []
    for c in J["cells"]:
        if c["selector_picked_faster"]:
            pick = "ok"
        else:
            word = "tie" if c["selector_slowdown"] < 1.1 else "MISS"
            pick = f"{word} x{c['selector_slowdown']:.2f}"
        checks = [c[k]["check"] for k in ("f", "forward", "reverse", "auto")]
        chk = ("ok" if all(x["passed"] for x in checks) else "FAILED") + \
            f" {max(x['max_abs_err'] or 0 for x in checks):.0e}"
        r = [c["n_in"], c["n_out"], T(c["forward"]["median_s"]), T(c["reverse"]["median_s"]),
             T(c["auto"]["median_s"]), c["auto_mode"], c["selected"], c["faster"], pick, chk]
        for n in live:
            for mode in ("forward", "reverse"):
                pr = c["peers"][n][mode]
                r.append(f"{pr['median_s'] / c[mode]['median_s']:.2f}" if "median_s" in pr
                         else "n/a")
        rows.append(r)
    out.append(table(hdr, rows, ["r", "r", "r", "r", "r", "l", "l", "l", "l", "l"]
                     + ["r"] * (2 * len(live))))
    s = J["selector"]
    out.append(f"selector: picked the faster mode in {s['picked_faster']}/{s['cells']} cells"
               f" ({s['near_ties_missed']} misses within 10%); worst pick "
               f"x{s['worst_slowdown']:.2f} the faster time")
    out.append("verdict: " + J["verdict"])
    first = sum(c[k]["first_call_s"] for c in J["cells"] for k in ("forward", "reverse", "auto"))
    out.append(f"first calls (incl. compile / cache load), summed over the grid: {T(first)}")

    # 2 rosenbrock
    R = res["rosenbrock_grad"]
    out.append("")
    out.append("[2] Gradient of the Rosenbrock function (grad/f = time of the gradient / time "
               "of f)")
    hdr = ["n", "method", "time", "grad/f", "first call", "check", "note"]
    for n in live:
        hdr.append(f"{n}/adjit")
    rows = []
    for row in R["rows"]:
        rows.append([row["n"], "f itself", T(row["f"]["median_s"]), "1",
                     T(row["f"]["first_call_s"]),
                     _chk(row["f"]), ""] + [""] * len(live))
        for key in ("reverse", "forward", "fd", "jit"):
            mm = row["methods"][key]
            if "median_s" not in mm:
                rows.append([row["n"], mm["label"], "n/a", "", "", "",
                             ("ERROR: " + mm["error"]) if "error" in mm else mm.get("note", "")] + [""] * len(live))
                continue
            t = ("~" if mm.get("extrapolated") else "") + T(mm["median_s"])
            r = [row["n"], mm["label"], t, f"{mm['ratio_to_f']:.3g}", T(mm["first_call_s"]),
                 _chk(mm), mm.get("note", "")]
            for n in live:
                pr = row["peers"][n]["reverse"]
                r.append(f"{pr['median_s'] / mm['median_s']:.2f}"
                         if key == "reverse" and "median_s" in pr else "")
            rows.append(r)
    out.append(table(hdr, rows, ["r", "l", "r", "r", "r", "l", "l"] + ["r"] * len(live)))
    out.append("~ marks an extrapolated time: only some passes/evaluations were run and timed.")

    # 3 hessian
    H = res["hessian"]
    out.append("")
    out.append(f"[3] Hessian of the Rosenbrock function at n = {H['n']} "
               f"(f itself: {T(H['f']['median_s'])})")
    hdr = ["method", "time", "hess/f", "first call", "check", "note"] + \
        [f"{n}/adjit" for n in live]
    rows = []
    for key, mm in H["methods"].items():
        if "median_s" not in mm:
            rows.append([mm["label"], "n/a", "", "", "", ("ERROR: " + mm["error"]) if "error" in mm else mm.get("note", "")]
                        + [""] * len(live))
            continue
        r = [mm["label"], T(mm["median_s"]), f"{mm['ratio_to_f']:.3g}", T(mm["first_call_s"]),
             _chk(mm), mm.get("note", "")]
        for n in live:
            pr = H["peers"][n]["hessian"]
            r.append(f"{pr['median_s'] / mm['median_s']:.2f}"
                     if key == "hessian" and "median_s" in pr else "")
        rows.append(r)
    out.append(table(hdr, rows, ["l", "r", "r", "r", "l", "l"] + ["r"] * len(live)))

    c = res["checks"]
    out.append("")
    verdict = "all passed" if c["all_passed"] else "FAILED: " + ", ".join(c["failed"])
    out.append(f"correctness: {c['count']} results checked against analytic values before "
               f"timing: {verdict}")
    out.append(f"total wall time: {res['wall_s']:.1f} s")
    return "\n".join(out)


# -- plot ---------------------------------------------------------------------------------------

PLOT_HINT = ('adjit bench: --plot needs matplotlib, which is not installed.\n'
             '  Install the optional extra:  pip install -e ".[plot]"   '
             '(or: pip install matplotlib)')


def have_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        return False


def plot(res, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    J = res["jacobian"]
    sizes = J["sizes"]
    cells = {(c["n_in"], c["n_out"]): c for c in J["cells"]}
    big, small = sizes[-1], sizes[0]
    panels = [("n_out", f"n_in = {big}", [(big, m) for m in sizes]),
              ("n_in", f"n_out = {small}", [(n, small) for n in sizes])]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, (xlabel, title, keys) in zip(axes, panels):
        xs = [k[1] if xlabel == "n_out" else k[0] for k in keys]
        tf = [cells[k]["forward"]["median_s"] for k in keys]
        tr = [cells[k]["reverse"]["median_s"] for k in keys]
        ax.loglog(xs, tf, "o-", label="forward (jacfwd)")
        ax.loglog(xs, tr, "s-", label="reverse (jacrev)")
        ta = [cells[k]["auto"]["median_s"] for k in keys]
        ax.loglog(xs, ta, "x", color="k", label="auto (select_mode's pick)")
        if len(xs) >= 2:
            xo, kind = _crossover(xs, tf, tr)
            if xo is not None:
                ax.axvline(xo, color="gray", ls="--")
                ax.annotate(f"crossover ~{xo:.3g}", (xo, math.sqrt(min(tf + tr) * max(tf + tr))),
                            rotation=90, va="center", ha="right", color="gray")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("seconds per Jacobian (median)")
        ax.set_title(f"tanh(W x), {title}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("adjit bench: forward vs reverse mode Jacobians")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_json(res, path):
    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        raise TypeError(f"not JSON serialisable: {type(o).__name__}")
    with open(path, "w") as f:
        json.dump(res, f, indent=1, default=default)
        f.write("\n")
