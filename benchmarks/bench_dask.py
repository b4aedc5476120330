"""adjit.dask benchmarks (issue 14): L-BFGS-B logistic regression on 10M rows at 1 and 2 Dask
workers, and the cost Dask adds per chunk.

    python benchmarks/bench_dask.py [--rows 10000000] [--maxiter 100] [--repeat 5]

Prints medians:
  * time per L-BFGS-B iteration and per evaluation (value + gradient over all rows), for the
    model of examples/dask_logistic_regression.py, in this process (a loop over the same chunks
    with the same ad.jit kernel, no Dask: the baseline) and on a LocalCluster with 1 and with 2
    worker processes (1 thread each);
  * per-chunk overhead: (evaluation time on 1 worker - the kernel's own time) / number of chunks,
    with many small chunks so that the overhead dominates; beside it, Dask's own time for the
    same graph shape with trivial tasks (the floor any Dask-based reduction pays).
Workers run with OPENBLAS_NUM_THREADS=1 (set here before NumPy loads) so that 1 worker is one
core. On a shared machine, look at the load average printed at the start.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import logging  # noqa: E402
import importlib.util  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.optimize  # noqa: E402

import adjit as ad  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "dask_logistic_regression", os.path.join(HERE, "..", "examples", "dask_logistic_regression.py"))
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)
loss, make_data = example.loss, example.make_data


def fit(fun, w0, maxiter):
    calls = []

    def timed(w):
        t = time.perf_counter()
        r = fun(w)
        calls.append(time.perf_counter() - t)
        return r

    t = time.perf_counter()
    res = scipy.optimize.minimize(timed, w0, jac=True, method="L-BFGS-B",
                                  options={"maxiter": maxiter})
    return (time.perf_counter() - t) / max(res.nit, 1), statistics.median(calls), res


def local_baseline(X, y, chunk_rows, maxiter):
    """The same fit in this process: one ad.jit kernel looped over the chunks, no Dask."""
    Xn, yn = X.compute(), y.compute()
    vg = ad.jit(ad.value_and_grad(loss))
    n = len(yn)

    def fun(w):
        v, g = 0.0, 0.0
        for s in range(0, n, chunk_rows):
            cv, cg = vg(w, (Xn[s:s + chunk_rows], yn[s:s + chunk_rows]))
            v, g = v + cv, g + cg
        return v / n, g / n
    fun(np.zeros(Xn.shape[1] + 1))
    return fit(fun, np.zeros(Xn.shape[1] + 1), maxiter)


def on_cluster(workers, rows, features, chunk_rows, maxiter, repeat):
    import adjit.dask
    from dask.distributed import Client, LocalCluster
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.CRITICAL) \
                      as cluster, Client(cluster) as client:
        X, y, _ = make_data(rows, features, chunk_rows, seed=0)
        X, y = client.persist([X, y])
        n = rows

        def fun(w):
            v, g = adjit.dask.value_and_grad(loss, w, (X, y))
            return v / n, g / n
        w0 = np.zeros(features + 1)
        fun(w0)                                   # compile / load on every worker
        runs = [fit(fun, w0, maxiter) for _ in range(repeat)]
        return (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
                runs[0][2])


def _inc(x):
    return x + 1


def _add(*xs):
    return sum(xs)


def chunk_overhead(n_chunks=200, chunk_rows=1000, features=20, repeat=15):
    """Evaluation time on 1 worker with many small chunks, the kernel's own time on the same
    chunks, and Dask's time for the same graph of trivial tasks (its floor)."""
    import adjit.dask
    import dask
    from dask.distributed import Client, LocalCluster
    w = np.zeros(features + 1)
    vg = ad.jit(ad.value_and_grad(loss))
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.CRITICAL) \
                      as cluster, Client(cluster) as client:
        X, y, _ = make_data(n_chunks * chunk_rows, features, chunk_rows, seed=0)
        X, y = client.persist([X, y])
        Xn, yn = X.compute(), y.compute()
        vg(w, (Xn[:chunk_rows], yn[:chunk_rows]))
        adjit.dask.value_and_grad(loss, w, (X, y))
        evals, kernel, trivial = [], [], []
        for _ in range(repeat):
            t = time.perf_counter()
            adjit.dask.value_and_grad(loss, w, (X, y))
            evals.append(time.perf_counter() - t)
            t = time.perf_counter()
            for s in range(0, len(yn), chunk_rows):
                vg(w, (Xn[s:s + chunk_rows], yn[s:s + chunk_rows]))
            kernel.append(time.perf_counter() - t)
            parts = [dask.delayed(_inc, pure=False)(i) for i in range(n_chunks)]
            while len(parts) > 1:
                parts = [dask.delayed(_add, pure=False)(*parts[i:i + 8])
                         for i in range(0, len(parts), 8)]
            t = time.perf_counter()
            client.compute(parts[0]).result()
            trivial.append(time.perf_counter() - t)
    e, k, d = (statistics.median(v) for v in (evals, kernel, trivial))
    return e, k, d, (e - k) / n_chunks


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--chunk-rows", type=int, default=250_000)
    ap.add_argument("--maxiter", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3, help="fits per cluster size (median)")
    a = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}; {os.cpu_count()} cores")
    print(f"{a.rows:,} rows x {a.features} features, chunks of {a.chunk_rows:,} rows")

    results = {}
    for workers in (1, 2):
        it, ev, res = on_cluster(workers, a.rows, a.features, a.chunk_rows, a.maxiter, a.repeat)
        results[workers] = it
        print(f"dask, {workers} worker(s): {it:.3f} s per L-BFGS iteration, {ev:.3f} s per "
              f"evaluation (medians; {res.nit} iterations, loss {res.fun:.6f}; load "
              f"{os.getloadavg()[0]:.1f})", flush=True)
    X, y, _ = make_data(a.rows, a.features, a.chunk_rows, seed=0)
    it, ev, res = local_baseline(X, y, a.chunk_rows, a.maxiter)
    print(f"no dask, this process: {it:.3f} s per L-BFGS iteration, {ev:.3f} s per evaluation "
          f"({res.nit} iterations, loss {res.fun:.6f}; load {os.getloadavg()[0]:.1f})")
    print(f"speed-up 1 -> 2 workers: {results[1] / results[2]:.2f}x")
    e, k, d, per = chunk_overhead()
    print(f"per-chunk overhead (1 worker, 200 chunks of 1,000 rows): {per * 1e3:.2f} ms "
          f"(evaluation {e * 1e3:.1f} ms, kernel alone {k * 1e3:.1f} ms; Dask alone, the same "
          f"graph of trivial tasks: {d * 1e3:.1f} ms = {d / 200 * 1e3:.2f} ms per chunk)")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
