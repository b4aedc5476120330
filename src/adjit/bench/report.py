"""The text report, the plot and the JSON file of an `adjit bench` run."""
import json
import math
import sys

import numpy as np

from .suites import crossover

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


def time_unit(seconds):
    """(unit name, factor) for a plot's time axis: the largest of s, ms, µs that keeps the
    longest time at or above 1, so tick labels are plain numbers."""
    top = max(seconds)
    for name, f in (("s", 1.0), ("ms", 1e3), ("µs", 1e6)):
        if top * f >= 1.0:
            return name, f
    return "ns", 1e9


# A time axis spans at least this factor, so the usual noise of a shared machine (10 %)
# does not fill the plot and read as a trend.
MIN_DECADES = 1.0


def plot(res, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator
    J = res["jacobian"]
    sizes = J["sizes"]
    cells = {(c["n_in"], c["n_out"]): c for c in J["cells"]}
    big, small = sizes[-1], sizes[0]
    panels = [("n_out", f"n_in = {big}", [(big, m) for m in sizes]),
              ("n_in", f"n_out = {small}", [(n, small) for n in sizes])]
    unit, f = time_unit([cells[k][m]["median_s"] for k in cells for m in ("forward", "reverse")])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, (xlabel, title, keys) in zip(axes, panels):
        xs = [k[1] if xlabel == "n_out" else k[0] for k in keys]
        tf = [cells[k]["forward"]["median_s"] * f for k in keys]
        tr = [cells[k]["reverse"]["median_s"] * f for k in keys]
        ax.loglog(xs, tf, "o-", color="C0", label="forward (jacfwd)")
        ax.loglog(xs, tr, "s-", color="C1", label="reverse (jacrev)")
        # 'auto' is drawn on the line of the mode it ran, so the plot shows its choice
        used = [cells[k].get("auto_mode") for k in keys]
        for mode, ts, color in (("forward", tf, "C0"), ("reverse", tr, "C1")):
            pts = [(x, t) for x, t, u in zip(xs, ts, used) if u == mode]
            if pts:
                ax.plot(*zip(*pts), "x", color="k", ms=9, mew=2,
                        label="auto (ad.jacobian): mode it ran" if mode == "forward" or
                        not any(u == "forward" for u in used) else None)
        if len(xs) >= 2:
            xo, kind = crossover(xs, tf, tr)
            if xo is not None:
                ax.axvline(xo, color="gray", ls="--")
                ax.annotate(f"crossover ~{xo:.3g}", (xo, math.sqrt(min(tf + tr) * max(tf + tr))),
                            rotation=90, va="center", ha="right", color="gray")
        lo, hi = min(tf + tr), max(tf + tr)
        span = MIN_DECADES - math.log10(hi / lo)
        if span > 0:
            lo, hi = lo / 10 ** (span / 2), hi * 10 ** (span / 2)
        ax.set_ylim(lo / 1.15, hi * 1.15)
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"time per Jacobian ({unit}, median)")
        ax.set_title(f"tanh(W x), {title}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("adjit bench: forward vs reverse mode Jacobians")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return fig


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

