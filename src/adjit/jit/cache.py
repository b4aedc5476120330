"""Size cap of the kernel cache directory (`kernels.cache_dir()`, by default ~/.cache/adjit or
$ADJIT_CACHE_DIR).

Every `ad.jit` specialisation leaves a generated module `adjit_jit_<digest>.py` there, its
constants (`.npz`), the parameters template.py found for it (`.tpl`) and numba's machine code
(`__pycache__/adjit_jit_<digest>.*`): one set per
distinct kernel, so a program that jits a new closure per step would fill the disk. When a new
kernel is written and the files of all kernels together exceed the cap ($ADJIT_CACHE_MAX_MB,
default 256 MB), the least recently used kernels are deleted until they take 80 % of it. Use is
recorded in the mtime of an empty `adjit_jit_<digest>.used` stamp, touched when a process
loads the kernel (the `.py` itself must keep its mtime: numba's cache checks it).
"""
import hashlib
import importlib.util
import os
import re
import sys
import threading

import numpy as np

from .. import kernels

DEFAULT_MAX_MB = 256
_NAME = re.compile(r"adjit_jit_([0-9a-f]{16})")


def max_bytes():
    try:
        return float(os.environ.get("ADJIT_CACHE_MAX_MB", DEFAULT_MAX_MB)) * 2 ** 20
    except ValueError:
        return DEFAULT_MAX_MB * 2 ** 20


def touch(d, digest):
    try:
        p = os.path.join(d, f"adjit_jit_{digest}.used")
        with open(p, "a"):
            pass
        os.utime(p)
    except OSError:
        pass


def _kernel_files(d):
    """digest -> [(path, size)] of every file of every kernel in d (and its __pycache__)."""
    groups = {}
    for sub in (d, os.path.join(d, "__pycache__")):
        try:
            names = os.listdir(sub)
        except OSError:
            continue
        for n in names:
            m = _NAME.match(n)
            if m is None:
                continue
            p = os.path.join(sub, n)
            try:
                size = os.path.getsize(p)
            except OSError:
                continue
            groups.setdefault(m.group(1), []).append((p, size))
    return groups


def _last_use(d, digest, files):
    try:
        return os.path.getmtime(os.path.join(d, f"adjit_jit_{digest}.used"))
    except OSError:
        return min((_mtime(p) for p, _ in files), default=0.0)


def _mtime(p):
    try:
        return os.path.getmtime(p)
    except OSError:
        return 0.0


def prune(d, keep=None):
    """Delete least recently used kernels of d until they fit 80 % of the cap (never `keep`,
    the kernel being written). Concurrent processes may delete the same files: ignored."""
    cap = max_bytes()
    groups = _kernel_files(d)
    total = sum(sz for files in groups.values() for _, sz in files)
    if total <= cap:
        return
    order = sorted((g for g in groups if g != keep),
                   key=lambda g: _last_use(d, g, groups[g]))
    for g in order:
        if total <= 0.8 * cap:
            break
        for p, sz in groups[g]:
            try:
                os.remove(p)
                total -= sz
            except OSError:
                pass


# The generated kernels inline these modules' code (scalar functions, BLAS intrinsics), and
# numba's cache of a kernel checks only the kernel's own file: a kernel's text names a hash of
# them, so an adjit whose runtime changed compiles its kernels again instead of loading stale
# machine code.
_RUNTIME_FILES = ("jit/rt.py", "jit/blas.py", "jit/alloc.py", "kernels/__init__.py",
                  "kernels/scalar.py", "kernels/special_scalar.py", "jit/cxscalar.py",
                  "jit/vecmath.py")
_stamp = []


def runtime_stamp():
    """A short hash of the source of the modules generated kernels inline."""
    if not _stamp:
        h = hashlib.sha1()
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        for name in _RUNTIME_FILES:
            try:
                with open(os.path.join(root, name), "rb") as f:
                    h.update(f.read())
            except OSError:
                h.update(name.encode())
        _stamp.append(h.hexdigest()[:12])
    return _stamp[0]


def read_note(digest, suffix):
    """The text of the kernel's small companion file adjit_jit_<digest>.<suffix>, or None."""
    try:
        with open(os.path.join(kernels.cache_dir(), f"adjit_jit_{digest}.{suffix}")) as f:
            return f.read()
    except OSError:
        return None


def write_note(digest, suffix, text):
    """Write the companion file (atomically; pruned with the kernel's other files)."""
    path = os.path.join(kernels.cache_dir(), f"adjit_jit_{digest}.{suffix}")
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError:
        pass


_load_lock = threading.Lock()
_modules = {}


def load_module(prog):
    """The generated module of a `codegen.Program` (whole-function kernels and loop kernels
    alike): written once to the cache directory with its constants, the cache pruned, its use
    stamped, imported once per process. Raises what importing (numba compiling) raised."""
    with _load_lock:
        mod = _modules.get(prog.digest)
        if mod is not None:
            return mod
        d = kernels.cache_dir()
        base = os.path.join(d, f"adjit_jit_{prog.digest}")
        path = base + ".py"
        if not os.path.exists(path):
            if prog.consts:
                tmp = f"{base}.{os.getpid()}.tmp.npz"
                np.savez(tmp, **{f"c{k}": c for k, c in enumerate(prog.consts)})
                os.replace(tmp, base + ".npz")
            tmp = f"{base}.{os.getpid()}.tmp"
            with open(tmp, "w") as f:
                f.write(prog.source)
            os.replace(tmp, path)   # numba's cache is keyed by the file: write it only once
            prune(d, keep=prog.digest)
        touch(d, prog.digest)
        modname = f"adjit_jit_{prog.digest}"
        try:
            spec = importlib.util.spec_from_file_location(modname, path)
            mod = importlib.util.module_from_spec(spec)
            sys.modules[modname] = mod
            spec.loader.exec_module(mod)
        except Exception:
            sys.modules.pop(modname, None)
            raise
        _modules[prog.digest] = mod
        return mod
