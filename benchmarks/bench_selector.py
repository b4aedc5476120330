"""Forward vs reverse vs auto Jacobians over a grid of sizes: does `ad.select_mode` pick the
faster mode? (issue 4, "Measured proof"; issue 3's jacfwd/jacrev closing numbers)

Two functions R^n_in -> R^n_out, for (n_in, n_out) in {1, 4, 16, 64, 256, 1024}^2:
  tanh   f(x) = tanh(W x)
  heavy  f(x) = sigmoid(y) cos(y) + log1p(y^2),  y = W (tanh(x) exp(-x^2) + sin(x))
         (nonlinearities on both the input and the output side)
with W of shape (n_out, n_in). At each point we time ad.jacobian(f, mode=...) for "forward",
"reverse" and "auto" (interleaved rounds, median), check that the forward and reverse
Jacobians agree, and record the selector's choice and whether it was the faster mode.

Two ways to run it:
  pytest benchmarks/bench_selector.py [--benchmark-only]   pytest-benchmark: one benchmark of
        mode="auto" per grid point, with forward/reverse times, the choice and whether it was
        the faster in benchmark.extra_info (see --benchmark-json); plus jacfwd/jacrev for
        tanh(W x) with W (1000, 4) and (4, 1000).
  python benchmarks/bench_selector.py [--quick] [--repeats R] [--json FILE]
        prints the grid tables, the two targets (% of points where the selector picked the
        faster mode, >= 90%; max time(auto) / time(faster mode), <= 1.25), the points it got
        wrong, and the jacfwd/jacrev medians.

OpenBLAS runs single-threaded here (OPENBLAS_NUM_THREADS=1 unless set): on a small shared
machine its worker threads made a 1024x1024 matrix-vector product take 8 ms instead of 0.1 ms
(waiting for a busy core), which measures the scheduler, not the AD modes.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import adjit as ad  # noqa: E402

SIZES = (1, 4, 16, 64, 256, 1024)
TARGET_ACCURACY = 0.90
TARGET_RATIO = 1.25


# -- the two functions --------------------------------------------------------------------------

def tanh_problem(n_in, n_out, seed=0):
    r = np.random.default_rng(seed)
    W = r.standard_normal((n_out, n_in)) / np.sqrt(n_in)
    x = r.standard_normal(n_in)

    def f(v):
        return ad.tanh(W @ v)
    return f, x


def heavy_problem(n_in, n_out, seed=0):
    r = np.random.default_rng(seed)
    W = r.standard_normal((n_out, n_in)) / np.sqrt(n_in)
    x = 0.5 * r.standard_normal(n_in)

    def f(v):
        h = ad.tanh(v) * ad.exp(-v * v) + ad.sin(v)
        y = W @ h
        return ad.sigmoid(y) * ad.cos(y) + ad.log1p(y * y)
    return f, x


PROBLEMS = {"tanh": tanh_problem, "heavy": heavy_problem}


# -- timing -------------------------------------------------------------------------------------

def interleaved(fns, repeats=5, budget=0.25, max_repeats=100, rounds=False):
    """Median seconds of each function, timing them in turn (round-robin, rotating the order),
    after one warm-up call each, so slow drifts of a shared machine hit all of them alike; a
    function under 2 ms is called once untimed before each timed call (steady state). At
    least `repeats` rounds; more while the total stays within `budget` seconds (fast points
    get more), at most `max_repeats`. rounds=True also returns the per-round times."""
    warm = []
    for fn in fns:
        t = time.perf_counter()
        fn()
        warm.append(time.perf_counter() - t)
    # a call right after a memory-hungry one (a large reverse Jacobian) runs on cold caches
    # and pays ~20 us: fast functions get one untimed call before each timed one
    prime = [w < 2e-3 for w in warm]
    times = [[] for _ in fns]
    # as timeit does: no cyclic garbage collection inside the timed calls (a collection
    # triggered by one mode's allocations would be charged to whichever call runs next)
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        while True:
            r = len(times[0])
            for j in range(len(fns)):
                i = (j + r) % len(fns)
                if prime[i]:
                    fns[i]()
                t = time.perf_counter()
                fns[i]()
                times[i].append(time.perf_counter() - t)
            n = len(times[0])
            if n >= max_repeats or (n >= repeats and time.perf_counter() - t0 > budget):
                break
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()
    med = [float(np.median(t)) for t in times]
    return (med, times) if rounds else med


def measure_point(name, n_in, n_out, repeats=5, budget=0.25):
    f, x = PROBLEMS[name](n_in, n_out)
    jf = ad.jacobian(f, mode="forward")
    jr = ad.jacobian(f, mode="reverse")
    ja = ad.jacobian(f, mode="auto")
    Jf, Jr = jf(x), jr(x)
    if not np.allclose(Jf, Jr, rtol=1e-9, atol=1e-12):
        raise AssertionError(f"{name} ({n_in}, {n_out}): forward and reverse Jacobians differ "
                             f"by {np.max(np.abs(Jf - Jr))}")
    (tf, tr, ta), per_round = interleaved([lambda: jf(x), lambda: jr(x), lambda: ja(x)],
                                          repeats, budget, rounds=True)
    choice = ja.last_mode
    faster = "forward" if tf <= tr else "reverse"
    # auto / faster mode as the median of per-round ratios (the calls of one round ran within
    # a few milliseconds of each other, so a shared machine's slow drifts cancel)
    best = per_round[0] if faster == "forward" else per_round[1]
    auto_ratio = float(np.median(np.array(per_round[2]) / np.array(best)))
    return {"function": name, "n_in": n_in, "n_out": n_out, "forward_s": tf, "reverse_s": tr,
            "auto_s": ta, "choice": choice, "faster": faster, "picked_faster": choice == faster,
            "auto_over_best": auto_ratio, "chosen_over_best":
                (tf if choice == "forward" else tr) / min(tf, tr)}


def summarize(rows):
    ok = [r for r in rows if r["picked_faster"]]
    wrong = [r for r in rows if not r["picked_faster"]]
    return {"points": len(rows), "picked_faster": len(ok),
            "accuracy": len(ok) / len(rows) if rows else float("nan"),
            "max_auto_over_best": max(r["auto_over_best"] for r in rows),
            "max_chosen_over_best": max(r["chosen_over_best"] for r in rows),
            "wrong": [(r["function"], r["n_in"], r["n_out"], r["choice"],
                       round(r["chosen_over_best"], 3)) for r in wrong]}


def jacfwd_vs_jacrev(repeats=7):
    """Median jacfwd and jacrev times for tanh(W x), W (1000, 4) and (4, 1000)."""
    out = {}
    for shape in ((1000, 4), (4, 1000)):
        f, x = tanh_problem(shape[1], shape[0])
        jf, jr = ad.jacfwd(f), ad.jacrev(f)
        np.testing.assert_allclose(jf(x), jr(x), rtol=1e-10, atol=1e-14)
        tf, tr = interleaved([lambda: jf(x), lambda: jr(x)], repeats, budget=1.0)
        out[shape] = (tf, tr)
    return out


# -- pytest-benchmark ---------------------------------------------------------------------------

def _grid_params():
    return [(name, n_in, n_out) for name in PROBLEMS for n_in in SIZES for n_out in SIZES]


try:
    import pytest
except ImportError:  # pragma: no cover - script use without pytest
    pytest = None

if pytest is not None:
    @pytest.mark.parametrize("name,n_in,n_out", _grid_params(),
                             ids=[f"{a}-{b}x{c}" for a, b, c in _grid_params()])
    def test_selector_point(benchmark, name, n_in, n_out):
        """Benchmarks mode='auto'; the forward/reverse times (interleaved medians), the choice,
        whether it was the faster and auto / faster mode go to extra_info."""
        row = measure_point(name, n_in, n_out, repeats=5, budget=0.15)
        f, x = PROBLEMS[name](n_in, n_out)
        ja = ad.jacobian(f)
        benchmark.group = f"selector-{name}"
        best = min(row["forward_s"], row["reverse_s"])
        rounds = int(max(3, min(50, 0.15 / best)))
        benchmark.pedantic(ja, args=(x,), rounds=rounds, iterations=1, warmup_rounds=2)
        assert ja.last_mode == row["choice"]
        benchmark.extra_info.update(
            {k: row[k] for k in ("n_in", "n_out", "forward_s", "reverse_s", "auto_s", "choice",
                                 "faster", "picked_faster", "chosen_over_best",
                                 "auto_over_best")})

    @pytest.mark.parametrize("shape", [(1000, 4), (4, 1000)], ids=["W1000x4", "W4x1000"])
    @pytest.mark.parametrize("mode", ["jacfwd", "jacrev"])
    def test_jacfwd_jacrev_tanh(benchmark, mode, shape):
        f, x = tanh_problem(shape[1], shape[0])
        jf = getattr(ad, mode)(f)
        benchmark.group = f"tanh(Wx) W{shape[0]}x{shape[1]}"
        J = benchmark.pedantic(jf, args=(x,), rounds=7, iterations=1, warmup_rounds=1)
        W = (np.random.default_rng(0).standard_normal(shape) / np.sqrt(shape[1]))
        np.testing.assert_allclose(J, (1 - np.tanh(W @ x) ** 2)[:, None] * W, rtol=1e-12)


# -- script -------------------------------------------------------------------------------------

def _fmt_table(rows, name, sizes):
    by = {(r["n_in"], r["n_out"]): r for r in rows if r["function"] == name}
    lines = [f"\n{name}: forward / reverse time (ms), choice (F/R; * = it was the slower mode)",
             "n_in\\n_out " + "".join(f"{m:>20}" for m in sizes)]
    for n in sizes:
        cells = []
        for m in sizes:
            r = by.get((n, m))
            if r is None:
                cells.append(f"{'':>20}")
                continue
            c = "F" if r["choice"] == "forward" else "R"
            star = "*" if not r["picked_faster"] else " "
            cells.append(f"{r['forward_s'] * 1e3:>8.3f}/{r['reverse_s'] * 1e3:<8.3f}{c}{star} ")
        lines.append(f"{n:>10} " + "".join(cells))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="sizes up to 256, fewer repeats")
    ap.add_argument("--repeats", type=int, default=9, help="minimum timed rounds per point")
    ap.add_argument("--functions", default=",".join(PROBLEMS))
    ap.add_argument("--json", help="write the raw rows and summary to this file")
    args = ap.parse_args(argv)
    sizes = SIZES[:-1] if args.quick else SIZES
    names = args.functions.split(",")
    t0 = time.perf_counter()
    rows = []
    for name in names:
        for n_in in sizes:
            for n_out in sizes:
                rows.append(measure_point(name, n_in, n_out, repeats=args.repeats,
                                          budget=0.1 if args.quick else 0.6))
    for name in names:
        print(_fmt_table(rows, name, sizes))
    s = summarize(rows)
    print(f"\nselector picked the faster mode at {s['picked_faster']}/{s['points']} points "
          f"= {100 * s['accuracy']:.1f}% (target >= {100 * TARGET_ACCURACY:.0f}%)")
    print(f"max time(auto) / time(faster mode) = {s['max_auto_over_best']:.3f} "
          f"(target <= {TARGET_RATIO}); max time(chosen mode) / time(faster mode) = "
          f"{s['max_chosen_over_best']:.3f}")
    if s["wrong"]:
        print("points where it picked the slower mode (function, n_in, n_out, choice, "
              "chosen/faster):")
        for w in s["wrong"]:
            print("   ", w)
    worst = sorted(rows, key=lambda r: -r["auto_over_best"])[:3]
    print("largest auto/best ratios:", [(r["function"], r["n_in"], r["n_out"],
                                         round(r["auto_over_best"], 3)) for r in worst])
    jj = jacfwd_vs_jacrev()
    print("\ntanh(W x), median of interleaved rounds:")
    for shape, (tf, tr) in jj.items():
        print(f"  W {shape}: jacfwd {tf * 1e3:.3f} ms, jacrev {tr * 1e3:.3f} ms "
              f"(jacrev/jacfwd = {tr / tf:.2f})")
    print(f"\n(total {time.perf_counter() - t0:.0f} s; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS')})")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rows": rows, "summary": s,
                       "jacfwd_vs_jacrev": {str(k): v for k, v in jj.items()}}, fh, indent=1)
    return s


if __name__ == "__main__":
    s = main()
    sys.exit(0)
