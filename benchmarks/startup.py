"""Start-up cost of adjit, measured in fresh processes (issue 7).

    python benchmarks/startup.py [--runs N]

Prints medians over N fresh processes of:
  * interpreter start (`python -c pass`, wall clock) for reference;
  * `import numpy`, `import numba`, `import adjit` (timed inside the child around the import
    statement, so interpreter start-up is excluded; each includes NumPy's own import);
  * the first gradient after `import adjit`: on small arrays (NumPy path, no kernel), and on
    1e5-element arrays (four fused numba kernels), cold (fresh, empty ADJIT_CACHE_DIR and
    NUMBA_CACHE_DIR for every run) and warm (cache dirs filled by an earlier run).
Target (issue 7): import adjit <= 2x import numba, both measured in the same run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

IMPORT = """
import time, json
t0 = time.perf_counter()
import {mod}
t1 = time.perf_counter()
print(json.dumps({{"import": t1 - t0}}))
"""

GRAD = """
import time, json, sys
t0 = time.perf_counter()
import numpy as np
import adjit as ad
t1 = time.perf_counter()
x = np.linspace(0.1, 1.0, {n})
g = ad.grad(lambda v: ad.sum(ad.sin(v) * ad.exp(v)))(x)
t2 = time.perf_counter()
g = ad.grad(lambda v: ad.sum(ad.sin(v) * ad.exp(v)))(x)
t3 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "first": t2 - t1, "second": t3 - t2,
                  "numba_loaded": "numba" in sys.modules}}))
"""


def child(code, env=None):
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, **(env or {})))
    wall = time.perf_counter() - t0
    if r.returncode:
        raise SystemExit(r.stderr)
    res = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else {}
    res["wall"] = wall
    return res


def fresh_dirs():
    d = tempfile.mkdtemp(prefix="adjit-startup-")
    return {"ADJIT_CACHE_DIR": os.path.join(d, "adjit"),
            "NUMBA_CACHE_DIR": os.path.join(d, "numba")}


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    n = args.runs

    rows = []
    base = [child("pass") for _ in range(n)]
    rows.append(("python -c pass (wall clock)", median(base, "wall")))
    imports = {}
    for mod in ("numpy", "numba", "adjit"):
        runs = []
        for _ in range(n):
            # interleave nothing else: each child is a fresh interpreter, OS caches warm
            runs.append(child(IMPORT.format(mod=mod), fresh_dirs()))
        imports[mod] = median(runs, "import")
        rows.append((f"import {mod}", imports[mod]))

    small = [child(GRAD.format(n=100), fresh_dirs()) for _ in range(n)]
    rows.append(("first gradient, 100 elements (NumPy path)", median(small, "first")))
    cold = [child(GRAD.format(n=100_000), fresh_dirs()) for _ in range(n)]
    rows.append(("first gradient, 1e5 elements, cold cache", median(cold, "first")))
    warm_dirs = fresh_dirs()
    child(GRAD.format(n=100_000), warm_dirs)                     # fill the cache
    warm = [child(GRAD.format(n=100_000), warm_dirs) for _ in range(n)]
    rows.append(("first gradient, 1e5 elements, warm cache", median(warm, "first")))
    rows.append(("second gradient, 1e5 elements (steady state)", median(warm, "second")))

    print(f"adjit start-up, medians of {n} fresh processes (milliseconds)")
    for label, v in rows:
        print(f"  {label:<48s} {v * 1e3:8.1f}")
    ratio = imports["adjit"] / imports["numba"]
    print(f"  import adjit / import numba = {ratio:.2f}  (target <= 2.0: "
          f"{'met' if ratio <= 2.0 else 'NOT met'})")
    print(f"  numba loaded by a small-array gradient: {any(r['numba_loaded'] for r in small)}")


if __name__ == "__main__":
    main()
