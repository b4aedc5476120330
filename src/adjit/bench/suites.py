"""The three sections of `adjit bench`: Jacobian grid, Rosenbrock gradient, Hessian."""
import math
import statistics

import numpy as np

import adjit as ad
from .timing import (CHUNK, check_and_time_group, check_and_time_with_jit, rosen, rosen_der,
                     rosen_hess, rosen_np, tanh_jac)

# ---------------------------------------------------------------------------------------------
# section 1: Jacobians of tanh(W x)

TIE = 1.1   # times within this factor are a tie: the machines are shared and noisy


def crossover(xs, t_fwd, t_rev, tie=TIE):
    """Where forward and reverse times cross along xs (log-log interpolation at the last change
    of winner, after which the winner stays the same; near-equal times at small sizes can flip
    back and forth). Points whose times are within a factor `tie` count for neither mode.
    Returns (x or None, kind): kind is 'forward-above' (forward faster beyond x, the expected
    case as outputs grow), 'reverse-above', 'forward-always', 'reverse-always' or 'tie' (every
    point within `tie`)."""
    r = [math.log(tr / tf) for tf, tr in zip(t_fwd, t_rev)]
    won = [i for i, v in enumerate(r) if abs(v) >= math.log(tie)]
    if not won:
        return None, "tie"
    for i, j in reversed(list(zip(won, won[1:]))):
        a, b = r[i], r[j]
        if (a < 0) != (b < 0):
            # the crossing lies between the last point one mode won and the next the other won
            k = next(k for k in range(i, j) if (r[k] < 0) != (r[k + 1] < 0))
            a, b = r[k], r[k + 1]
            la, lb = math.log(xs[k]), math.log(xs[k + 1])
            frac = a / (a - b)
            return math.exp(la + frac * (lb - la)), ("forward-above" if r[j] >= 0 else
                                                     "reverse-above")
    return None, ("forward-always" if r[won[0]] >= 0 else "reverse-always")


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
            xo, kind = crossover(sizes, [gf[n_in, m] for m in sizes],
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
    tied = [int(k) for k, c in rows.items() if c["kind"] == "tie"]
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
    if tied:
        out.append(f"tie (forward and reverse within {TIE - 1:.0%} at every n_out) for n_in in "
                   f"{{{', '.join(map(str, tied))}}}")
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
                               "note": f"{passes} pass(es) x {min(n, CHUNK)} directions"}
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


