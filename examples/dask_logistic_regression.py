"""Logistic regression on 10 million rows: gradients on Dask workers, L-BFGS-B in scipy.

Needs: pip install -e ".[dask]" and pip install -e ".[examples]" (scipy)
Run:   python examples/dask_logistic_regression.py --workers 2 --rows 10000000

The data (rows x 20 features, generated from known weights) lives in the workers' memory in
chunks of rows; each evaluation of the loss sends the 21 parameters out, every worker computes
its chunks' value and gradient with one compiled adjit kernel, and the partial results are added
up in a tree. The printed time per iteration is what one L-BFGS-B step costs.
"""
import argparse
import logging
import time

import numpy as np
import scipy.optimize

import adjit as ad


def loss(w, chunk):
    """Negative log-likelihood of the chunk's rows (a sum, so chunks add up)."""
    X, y = chunk
    z = X @ w[:-1] + w[-1]
    return (ad.softplus(z) - y * z).sum()


def make_data(rows, features, chunk_rows, seed):
    import dask.array as da
    rng = da.random.default_rng(seed)
    w_true = np.linspace(-1.0, 1.0, features)
    b_true = 0.5
    X = rng.standard_normal((rows, features), chunks=(chunk_rows, features))
    p = 1.0 / (1.0 + da.exp(-(X @ w_true + b_true)))
    y = (rng.random(rows, chunks=chunk_rows) < p).astype(np.float64)
    return X, y, np.append(w_true, b_true)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2, help="Dask worker processes (default 2)")
    ap.add_argument("--rows", type=int, default=10_000_000, help="rows of data (default 10M)")
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--chunk-rows", type=int, default=250_000)
    ap.add_argument("--maxiter", type=int, default=100)
    args = ap.parse_args(argv)

    from dask.distributed import Client, LocalCluster
    import adjit.dask

    chunk_rows = min(args.chunk_rows, args.rows)
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.CRITICAL) \
                      as cluster, Client(cluster) as client:
        X, y, w_true = make_data(args.rows, args.features, chunk_rows, seed=0)
        t = time.perf_counter()
        X, y = client.persist([X, y])          # generated on the workers, kept there
        client.wait_for_workers(args.workers)
        n = args.rows
        w0 = np.zeros(args.features + 1)
        # warm-up: the first call traces and compiles (or loads) the kernel on every worker
        adjit.dask.value_and_grad(loss, w0, (X, y))
        print(f"{n:,} rows x {args.features} features in {X.npartitions} chunks on "
              f"{args.workers} worker(s); data + first call {time.perf_counter() - t:.1f} s")

        calls = []

        def fun(w):
            t0 = time.perf_counter()
            v, g = adjit.dask.value_and_grad(loss, w, (X, y))
            calls.append(time.perf_counter() - t0)
            return v / n, g / n                # mean log-loss: a scale L-BFGS likes

        t = time.perf_counter()
        res = scipy.optimize.minimize(fun, w0, jac=True, method="L-BFGS-B",
                                      options={"maxiter": args.maxiter})
        total = time.perf_counter() - t
        nit = max(res.nit, 1)
        print(f"L-BFGS-B: {res.nit} iterations, {len(calls)} evaluations, "
              f"mean log-loss {res.fun:.6f} ({res.message})")
        print(f"time per iteration: {total / nit:.3f} s; per evaluation (median): "
              f"{np.median(calls):.3f} s")
        print(f"max |w - w_true| = {np.abs(res.x - w_true).max():.4f}")


if __name__ == "__main__":
    main()
