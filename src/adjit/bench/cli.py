"""The `adjit` command line (`adjit bench ...`, also `python -m adjit bench ...`)."""
import argparse
import os
import sys

from . import BLAS_ENV


def _sizes(text):
    try:
        vals = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 1,4,16,64, got {text!r}")
    if not vals or any(v < 1 for v in vals):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 1,4,16,64, got {text!r}")
    return sorted(set(vals))


def _positive(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def build_parser():
    from .. import __version__
    p = argparse.ArgumentParser(
        prog="adjit",
        description="adjit: forward- and reverse-mode automatic differentiation for NumPy code.")
    p.add_argument("--version", action="version", version=f"adjit {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    b = sub.add_parser(
        "bench", help="benchmark forward against reverse mode on this machine",
        description=(
            "Benchmark forward against reverse mode: Jacobians of tanh(W x) over a grid of "
            "sizes (forward, reverse, auto with the selector's choice), the Rosenbrock "
            "gradient at n = 10, 1000, 100000 (reverse, forward, central differences, "
            "ad.jit) and its Hessian at n = 100. Every result is checked against analytic "
            "values before it is timed. The default run takes about a minute."))
    b.add_argument("--quick", action="store_true",
                   help="small grid and few repeats: a few seconds")
    b.add_argument("--sizes", type=_sizes, metavar="N,N,...",
                   help="input/output sizes of the Jacobian grid (default 1,4,16,64,256,1024; "
                        "--quick: 1,8,64)")
    b.add_argument("--repeat", type=_positive, metavar="N",
                   help="timed samples per measurement; the median is reported "
                        "(default 7; --quick: 5)")
    b.add_argument("--json", metavar="FILE", help="write every figure to FILE as JSON")
    b.add_argument("--plot", metavar="FILE.png",
                   help="draw time against size for both modes with the crossover marked "
                        "(needs matplotlib: pip install -e \".[plot]\")")
    b.add_argument("--peers", action="store_true",
                   help="also time JAX, PyTorch and HIPS autograd when importable")
    b.add_argument("--blas-threads", type=_positive, metavar="N",
                   help="BLAS threads for the run (default 1, for steady numbers: a "
                        "multi-threaded BLAS call stalls when another process holds a core; "
                        "an OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS already "
                        "set in the environment is kept)")
    b.add_argument("--seed", type=int, default=0, help="random seed for the inputs (default 0)")
    b.add_argument("--no-progress", action="store_true",
                   help="do not show progress on stderr")
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "bench":
        parser.print_help(sys.stderr)
        parser.exit(2, "\nadjit: choose a command, e.g. `adjit bench`\n")
    want = args.blas_threads
    if want is None and not any(os.environ.get(k) for k in BLAS_ENV):
        want = 1
    if want is not None and any(os.environ.get(k) != str(want) for k in BLAS_ENV):
        if argv is None and os.name == "posix":
            # BLAS reads its thread count when NumPy loads, which has happened: restart
            # this command with the variables set (once: they match afterwards).
            env = dict(os.environ, **{k: str(want) for k in BLAS_ENV})
            sys.stdout.flush()
            sys.stderr.flush()
            os.execve(sys.executable, [sys.executable, "-m", "adjit"] + sys.argv[1:], env)
        elif args.blas_threads is not None:
            print("adjit bench: --blas-threads applies only when run as a command (it "
                  "restarts the process); BLAS threads left as they are", file=sys.stderr)
    from . import report, runner, timing
    if args.plot:
        if not args.plot.lower().endswith((".png", ".pdf", ".svg")):
            parser.error("argument --plot: the file name must end in .png, .pdf or .svg")
        if not report.have_matplotlib():
            print(report.PLOT_HINT, file=sys.stderr)
            return 2
    settings = timing.Settings(quick=args.quick, sizes=args.sizes, repeat=args.repeat,
                              peers=args.peers, seed=args.seed)
    res = runner.run(settings, progress_enabled=not args.no_progress)
    print(report.report(res), flush=True)
    if args.json:
        report.write_json(res, args.json)
        print(f"wrote {args.json}")
    if args.plot:
        report.plot(res, args.plot)
        print(f"wrote {args.plot}")
    return 0 if res["checks"]["all_passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
