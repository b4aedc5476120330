"""`ad.jit` of an `ad.vmap`-ed function on every core: its kernel is generated with the loops
over the batch as numba `prange`s (parloops.py) and compiled with `parallel=`; this module
says on how many threads it runs. Elements of a vmap are independent and each loop iteration
writes its own elements, so the result does not depend on the number of threads (bit for bit);
it equals the one-thread kernel's to rounding (small matrix products are loops there, BLAS in
the one-thread kernel).

Threads: `ad.jit(f, threads=n)`, else numba's setting (`NUMBA_NUM_THREADS`, default the number
of cores, or `numba.set_num_threads`), capped at numba's pool size. One thread runs the serial
kernel every other `ad.jit` function gets.

Waiting threads spin briefly, then sleep: when adjit starts numba's thread pool and neither
OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set, the pool's OpenMP runtime is loaded with
GOMP_SPINCOUNT=10000 (~0.3 ms of spinning here; only while it reads its settings, the variable
is removed again). OpenMP's default spins ~300,000 times (~9 ms) at every join: on a machine
shared with other jobs a spinning thread takes the core from the one it waits for (the MLP
benchmark ran 0.3x as fast on two threads as on one at load 9). Passive waiting (sleep at once)
avoids that but wakes the other core at every kernel call: on this 2-core virtual machine at a
quiet moment the MLP's two threads ran 1.37-1.80x one (median 1.61, five runs) passively and
1.72-1.82x (median 1.73) with the bounded spin, which at load ~4 did no worse (1.8-2.3x)."""
import os
import threading

# numba's "workqueue" threading layer (where neither OpenMP nor TBB is installed) aborts the
# process when two Python threads launch parallel kernels at once: launches are serialised
_launch = threading.RLock()


_started = []
SPINCOUNT = 10000   # OpenMP's spins before a waiting thread sleeps (see the module's docstring)


def _start_pool():
    """Start numba's threads (once), waiting with a bounded spin unless the user chose a policy."""
    if _started:
        return
    import numba   # not at import time: `import adjit` loads no numba (test_startup)
    with _launch:
        if _started:
            return
        mine = "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ
        if mine:
            os.environ["GOMP_SPINCOUNT"] = str(SPINCOUNT)
        try:
            numba.get_num_threads()   # loads the threading layer and starts its threads
        finally:
            if mine:
                os.environ.pop("GOMP_SPINCOUNT", None)
        _started.append(True)


def default_threads():
    """numba's thread count for the calling thread (NUMBA_NUM_THREADS, else the cores)."""
    import numba
    _start_pool()
    return numba.get_num_threads()


def thread_count(threads):
    """How many threads ad.jit(ad.vmap(f), threads=threads) runs its batch loops on."""
    import numba
    if threads is None:
        return default_threads()
    n = int(threads)
    if n < 1:
        raise ValueError(f"adjit.jit: threads={threads!r}; expected a positive int")
    return min(n, numba.config.NUMBA_NUM_THREADS)


def call_on_threads(n, fn, args):
    """fn(*args) with numba's parallel kernels on n threads (numba's setting is per thread;
    it is restored after)."""
    import numba
    _start_pool()
    with _launch:
        prev = numba.get_num_threads()
        if prev == n:
            return fn(*args)
        numba.set_num_threads(n)
        try:
            return fn(*args)
        finally:
            numba.set_num_threads(prev)
