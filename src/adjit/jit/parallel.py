"""`ad.jit` of an `ad.vmap`-ed function on every core: the batch is cut into one block per
thread and each block runs the same compiled kernel (numba kernels release the GIL), then the
blocks' results are joined along the output's batch axis. Elements of a vmap are independent,
so the result is the same as one call on the whole batch, bit for bit.

Threads: `ad.jit(f, threads=n)`, else NUMBA_NUM_THREADS, else one. One by default because it
measured faster: per-example MLP gradients (benchmarks/bench_vmap.py) ran 0.72-0.77x as fast on
two threads as on one on this 2-core machine (the kernels' BLAS calls use both cores already;
1.04x with OPENBLAS_NUM_THREADS=1). Batches smaller than MIN_BLOCK elements per thread run in one
call (threads would cost more)."""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..core.registry import Traced
from ..transforms.pytree import tree_flatten, tree_unflatten
from ..transforms.vmap import leaf_axes, vmap_of

MIN_BLOCK = 64
_pools = {}


def default_threads():
    n = os.environ.get("NUMBA_NUM_THREADS")
    return max(1, int(n)) if n else 1


def _pool(n):
    if n not in _pools:
        _pools[n] = ThreadPoolExecutor(max_workers=n, thread_name_prefix="adjit-vmap")
    return _pools[n]


def split_call(call, f, threads, args):
    """call(*args) (call: ad.jit of f) in blocks of the batch on `threads` threads, or None when
    it should run as one call (f is not a vmap, one thread, a small batch, wrapped
    arguments)."""
    vm = vmap_of(f)
    if vm is None or threads <= 1:
        return None
    _, in_axes, out_axes = vm
    leaves, spec = tree_flatten(tuple(args))
    if any(isinstance(v, Traced) for v in leaves):
        return None
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
    try:
        lax = leaf_axes(tuple(axes), spec, "in_axes")
    except ValueError:
        return None   # a mismatch: one call raises vmap's own error
    leaves = [v if ax is None else np.asarray(v) for v, ax in zip(leaves, lax)]
    sizes = {v.shape[ax] for v, ax in zip(leaves, lax) if ax is not None and np.ndim(v)}
    if len(sizes) != 1:
        return None
    n = sizes.pop()
    blocks = min(threads, n // MIN_BLOCK)
    if blocks <= 1:
        return None
    bounds = np.linspace(0, n, blocks + 1).astype(int)

    def block(k):
        sl = [v if ax is None else
              np.take(v, np.arange(bounds[k], bounds[k + 1]), axis=ax % v.ndim)
              for v, ax in zip(leaves, lax)]
        return call(*tree_unflatten(spec, sl))
    # blocks 1.. on the pool, block 0 in this thread, all at once (the first call of a block
    # size traces and compiles under the jit's lock; the others wait for it, then run)
    futures = [_pool(threads).submit(block, k) for k in range(1, blocks)]
    outs = [block(0)] + [f.result() for f in futures]
    oleaves, ospec = zip(*(tree_flatten(o) for o in outs))
    oax = leaf_axes(out_axes, ospec[0], "out_axes")
    joined = []
    for i, ax in enumerate(oax):
        parts = [ol[i] for ol in oleaves]
        joined.append(parts[0] if ax is None else
                      np.concatenate(parts, axis=ax % np.ndim(parts[0])))
    return tree_unflatten(ospec[0], joined)
