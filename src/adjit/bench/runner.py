"""Running `adjit bench`: the sections in order, machine information, the checks summary."""
import os
import platform
import time

import numpy as np

import adjit as ad
from . import BLAS_ENV
from .peers import load_peers
from .suites import bench_hessian, bench_jacobian, bench_rosen
from .timing import SCHEMA_VERSION, Clock, Progress

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


