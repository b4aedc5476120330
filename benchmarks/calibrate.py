"""Measure the constants of adjit's forward/reverse cost model (functional.select_mode).

    python benchmarks/calibrate.py [--quick]

What it measures, in this implementation, for the two functions of bench_selector.py
(tanh(W x) and the nonlinearity-heavy one) with n_in = n_out = n for a few sizes n:
  primal        one plain NumPy evaluation of f
  fwd(k)        one forward pass pushing k directions (ad.jvp with a (n, k) tangent)
  record        evaluating f under reverse mode (recording the graph), as jacrev does once
  rev_plain     one plain backward pass (one cotangent row) through the kept graph
  rev(k)        one backward pass pulling k cotangent rows (a dual-number cotangent)
It then derives the cost model's constants in units of one one-direction forward pass of the
same function (so the size of f cancels), prints them per function and size, and the values
to put into functional.py (medians over functions, sizes as noted). It also picks
DEFAULT_CHUNK / REV_CHUNK (the k minimising whole-Jacobian time) and REV_PLAIN_MAX (the largest
output size for which plain one-row reverse passes beat one batched pass).

The cost model (functional.mode_costs), with k = min(n, chunk):
  forward(n_in, n_out) = ceil(n_in / k) * (FWD_PASS + FWD_DIR * k * s)
  reverse(n_in, n_out) = REV_RECORD + n_out * REV_PLAIN                   if n_out <= REV_PLAIN_MAX
                       = REV_RECORD + ceil(n_out / k) * (REV_PASS + REV_ROW * k * s)  otherwise
  s = (n_in + n_out) / SIZE_REF: the per-direction work grows with the arrays' sizes.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # see bench_selector.py

import argparse  # noqa: E402
import datetime  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import adjit as ad  # noqa: E402
from adjit.transforms import jacobians as F  # noqa: E402
from adjit.transforms.reverse_mode import record  # noqa: E402
from adjit.reverse.engine import run_backward  # noqa: E402
from adjit.forward.dual import Dual  # noqa: E402
from adjit.core.registry import new_level  # noqa: E402
from bench_selector import PROBLEMS, interleaved  # noqa: E402


def median_time(fn, repeats=7, budget=0.3):
    return interleaved([fn], repeats=repeats, budget=budget)[0]


def pass_costs(name, n, repeats):
    f, x = PROBLEMS[name](n, n)
    res = {"primal": median_time(lambda: f(x), repeats)}
    for k in (1, 4, 64):
        V = np.zeros((n, k))
        V[np.arange(min(n, k)), np.arange(min(n, k))] = 1.0
        res[f"fwd{k}"] = median_time(lambda: ad.jvp(f, (x,), (V,) if k > 1 else (V[:, 0],)),
                                     repeats)
    res["record"] = median_time(lambda: record(f, (x,), (0,)), repeats)
    out, level, leaves, specs = record(f, (x,), (0,))
    flat = leaves[0]
    e = np.zeros(n)
    e[0] = 1.0
    res["rev_plain"] = median_time(lambda: run_backward([out], [e], True, False, capture=flat),
                                   repeats)
    for k in (4, 64):
        seed = np.zeros((k, n))
        seed[np.arange(min(n, k)), np.arange(min(n, k))] = 1.0

        def batched():
            g = Dual._make(np.zeros(n), seed, new_level())
            return run_backward([out], [g], True, False, capture=flat)
        res[f"rev{k}"] = median_time(batched, repeats)
    return res


def fit_model(name, shapes, repeats, kf, kr, plain_max):
    """Whole-Jacobian times (jacfwd, jacrev) at the calibration shapes, and a non-negative
    least-squares fit of the model's constants to them, on relative error, in units of the
    function's one-pass forward Jacobian at the smallest shape."""
    from scipy.optimize import nnls
    times = {}
    for n_in, n_out in shapes:
        f, x = PROBLEMS[name](n_in, n_out)
        tf, tr = interleaved([lambda: ad.jacfwd(f)(x), lambda: ad.jacrev(f)(x)],
                             repeats=repeats, budget=0.3)
        times[(n_in, n_out)] = (tf, tr)
    unit = times[shapes[0]][0]
    rows_f, y_f, rows_r, y_r = [], [], [], []
    for (n, m), (tf, tr) in times.items():
        s = n * m / SIZE_REF
        k, k2 = min(n, kf), min(m, kr)
        rows_f.append(np.array([1.0, math.ceil(n / k), n * s]) / (tf / unit))
        y_f.append(1.0)
        plain = m <= plain_max
        rows_r.append(np.array([1.0, m if plain else 0.0, 0.0 if plain else math.ceil(m / k2),
                                (m + 1) * s]) / (tr / unit))
        y_r.append(1.0)
    cf, _ = nnls(np.array(rows_f), np.array(y_f))
    cr, _ = nnls(np.array(rows_r), np.array(y_r))
    consts = {"FWD_BASE": cf[0], "FWD_PASS": cf[1], "FWD_DIR": cf[2],
              "REV_BASE": cr[0], "REV_PLAIN": cr[1], "REV_PASS": cr[2], "REV_ROW": cr[3]}
    return consts, times, unit


def model(c, n, m, kf, kr, plain_max):
    s = n * m / SIZE_REF
    fwd = c["FWD_BASE"] + math.ceil(n / min(n, kf)) * c["FWD_PASS"] + n * s * c["FWD_DIR"]
    passes = m * c["REV_PLAIN"] if m <= plain_max else math.ceil(m / min(m, kr)) * c["REV_PASS"]
    rev = c["REV_BASE"] + passes + (m + 1) * s * c["REV_ROW"]
    return fwd, rev


# per-direction work is modelled as proportional to n_in * n_out / SIZE_REF (a dense layer)
SIZE_REF = 65536


def best_chunk(mode, name, shapes, chunks, repeats):
    """Whole-Jacobian time for each chunk size; the chunk with the best geometric mean of
    (time / best time at that shape)."""
    table = {}
    for n_in, n_out in shapes:
        f, x = PROBLEMS[name](n_in, n_out)
        fns = [(lambda k=k: (ad.jacfwd if mode == "forward" else ad.jacrev)(f, chunk=k)(x))
               for k in chunks]
        ts = interleaved(fns, repeats=repeats, budget=1.0, max_repeats=repeats)
        table[(n_in, n_out)] = ts
    score = []
    for j in range(len(chunks)):
        score.append(math.exp(np.mean([math.log(ts[j] / min(ts)) for ts in table.values()])))
    return chunks[int(np.argmin(score))], table, score


def plain_crossover(name, n_in, repeats):
    """Largest n_out for which plain one-row reverse passes beat one batched pass."""
    old = F.REV_PLAIN_MAX
    rows = []
    try:
        for m in range(1, 9):
            f, x = PROBLEMS[name](n_in, m)
            F.REV_PLAIN_MAX = 0
            tp, tb = interleaved([lambda: ad.jacrev(f, chunk=1)(x),
                                  lambda: ad.jacrev(f, chunk=64)(x)], repeats=repeats,
                                 budget=0.2)
            rows.append((m, tp, tb))
    finally:
        F.REV_PLAIN_MAX = old
    best = max([m for m, tp, tb in rows if tp <= tb], default=0)
    return best, rows


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    repeats = 3 if args.quick else 7
    sizes = (16, 256) if args.quick else (16, 64, 256, 1024)
    t0 = time.perf_counter()
    print(f"adjit cost-model calibration, {datetime.date.today()}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    print("\nraw pass times (microseconds), n_in = n_out = n:")
    keys = ("primal", "fwd1", "fwd4", "fwd64", "record", "rev_plain", "rev4", "rev64")
    print(f"{'function':>8} {'n':>5} " + " ".join(f"{k:>10}" for k in keys))
    for name in PROBLEMS:
        for n in sizes:
            c = pass_costs(name, n, repeats)
            print(f"{name:>8} {n:>5} " + " ".join(f"{c[k] * 1e6:>10.1f}" for k in keys))
    print("\nfit of the cost model to whole-Jacobian times (calibration shapes, not the "
          "benchmark grid):")
    cal = [(2, 2), (2, 8), (8, 2), (8, 8), (2, 32), (32, 2), (32, 32), (8, 128), (128, 8),
           (128, 128), (32, 512), (512, 32), (512, 512), (128, 512), (512, 128), (2, 512),
           (512, 2), (3, 3), (3, 40), (40, 3), (2, 1), (8, 1), (40, 1), (512, 1), (1, 8),
           (1, 128)]
    if args.quick:
        cal = [c for c in cal if max(c) <= 128]
    fits = {}
    kf, kr, pm = F.DEFAULT_CHUNK, F.REV_CHUNK, F.REV_PLAIN_MAX
    for name in PROBLEMS:
        consts, times, unit = fit_model(name, cal, repeats, kf, kr, pm)
        fits[name] = consts
        print(f"  {name}: unit = {unit * 1e6:.1f} us; " +
              ", ".join(f"{k}={v:.4g}" for k, v in consts.items()))
        bad = 0
        for (n, m), (tf, tr) in times.items():
            pf, pr = model(consts, n, m, kf, kr, pm)
            if (pf <= pr) != (tf <= tr):
                bad += 1
                print(f"     model disagrees at {(n, m)}: measured fwd/rev {tf * 1e6:.0f}/"
                      f"{tr * 1e6:.0f} us, model {pf:.2f}/{pr:.2f}")
        print(f"     model picks the faster mode at {len(times) - bad}/{len(times)} "
              "calibration shapes")
    med = {k: float(np.median([c[k] for c in fits.values()])) for k in fits[name]}
    # the fixed costs are in units of each function's own one-pass forward Jacobian; the
    # per-direction constants are then comparable across functions only roughly (they depend on
    # how much work f does per element), so the values used are the medians:
    print("\nconstants for functional.py (median over the functions):")
    for k, v in med.items():
        print(f"  {k} = {v:.3g}")

    print("\nchunk size (whole-Jacobian time, ms, per chunk):")
    chunks = [8, 16, 32, 64, 128, 256]
    picks = {}
    for mode, shapes in (("forward", [(1024, 16), (1024, 256)] if not args.quick
                          else [(256, 16)]),
                         ("reverse", [(16, 1024), (256, 1024)] if not args.quick
                          else [(16, 256)])):
        for name in PROBLEMS:
            k, table, score = best_chunk(mode, name, shapes, chunks, 3)
            picks[(mode, name)] = k
            for shp, ts in table.items():
                print(f"  {mode:>7} {name:>6} {str(shp):>12}: " +
                      " ".join(f"k={c}:{t * 1e3:.2f}" for c, t in zip(chunks, ts)))
            print(f"  {mode:>7} {name:>6} relative score: " +
                  " ".join(f"k={c}:{s:.3f}" for c, s in zip(chunks, score)) + f"  -> {k}")

    print("\nplain one-row reverse passes vs one batched pass (jacrev, n_in = 16):")
    for name in PROBLEMS:
        best, rows = plain_crossover(name, 16, repeats)
        print(f"  {name:>6}: " + " ".join(f"m={m}:{tp * 1e6:.0f}/{tb * 1e6:.0f}us"
                                          for m, tp, tb in rows) + f"  -> plain up to {best}")
    print(f"\n(total {time.perf_counter() - t0:.0f} s)")
    return med, picks, fits


if __name__ == "__main__":
    main()
