"""A line on stderr when a compilation takes long, so a slow `ad.jit` call is never silent.

Shown when stderr is a terminal; the environment variable ADJIT_PROGRESS=1 shows it anyway
(logs), ADJIT_PROGRESS=0 never (programs that keep stderr for themselves)."""
import os
import sys
import threading
import time
from contextlib import contextmanager

AFTER = 2.0   # seconds of compiling before the line appears


@contextmanager
def notice(what):
    """Print "adjit.jit: compiling <what> ..." if the block is still running after AFTER
    seconds, and the total time when it ends."""
    t0 = time.perf_counter()
    shown = []
    flag = os.environ.get("ADJIT_PROGRESS", "")
    if flag == "0" or (flag != "1" and not _tty()):
        yield
        return

    def show():
        shown.append(True)
        print(f"adjit.jit: compiling {what} (numba; the machine code is cached on disk for "
              "the next runs) ...", file=sys.stderr, flush=True)
    timer = threading.Timer(AFTER, show)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        if shown:
            print(f"adjit.jit: compiled {what} in {time.perf_counter() - t0:.1f} s",
                  file=sys.stderr, flush=True)


def _tty():
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
