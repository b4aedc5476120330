"""Gradients over data that outgrows one machine, on Dask (the optional extra `adjit[dask]`).

    import adjit.dask
    value, grads = adjit.dask.value_and_grad(loss, params, (X, y))   # X, y: dask arrays
    hessians = adjit.dask.map(ad.hessian(f), points).compute()       # one task per block

`value_and_grad` computes each chunk's value and gradient on a worker with the compiled kernel
`ad.jit(ad.value_and_grad(loss))` and adds the results up in a tree (`split_every` at a time):
the sum of the chunks' losses, differentiated, to rounding the single-machine gradient. Dask
does the scheduling, the data placement and the retries: a task whose worker dies is run again
elsewhere. With a `dask.distributed.Client` alive (or passed as `client=`) it runs on that
cluster, otherwise on Dask's local scheduler.

Kernels travel as the user's function, not as machine code: each worker process builds the jit
once per function (keyed by a token that stays the same while the caller keeps the function)
and loads the kernel from numba's disk cache, or compiles it the first time on that machine.

A bad chunk raises `ChunkError` naming the chunk, its row range and what is wrong: a block
whose shape is not the one the dask array declares, non-finite values in the data, or the
loss's own exception. Only the data is checked for NaN/inf, and only when a chunk's result is
not finite, so a finite run pays nothing for the check; a non-finite loss on finite data (large
parameters, say) is returned as it is, like the single-machine one.

This module is imported only by `import adjit.dask`; `import adjit` never imports Dask.
"""
import collections
import threading
import uuid
import weakref

import numpy as np

import dask
import dask.array as da

import adjit as ad

__all__ = ["value_and_grad", "map", "ChunkError"]


class ChunkError(ValueError):
    """A chunk of the data (or a block of points) that cannot be used: `index` is its position
    along the first axis, `rows` its (start, stop) row range in the whole array."""

    def __init__(self, message, index=None, rows=None):
        super().__init__(message)
        self.index = index
        self.rows = rows

    def __reduce__(self):   # keep index and rows when Dask sends the error back
        return (type(self), (str(self), self.index, self.rows))


# ---------------------------------------------------------------------------------------------
# kernels: built once per worker process

_LRU_SIZE = 32
_built = collections.OrderedDict()     # token -> jitted function, in this process
_built_lock = threading.Lock()


class Kernel:
    """`ad.jit(f)` that pickles as (f, token): a process that unpickles it builds the jit once
    per token and reuses it for every later task, so a worker traces f once, not once per
    task. Calls on the caller's side use the caller's own jit."""

    def __init__(self, f, token=None):
        self.f = f
        self.token = token or uuid.uuid4().hex
        self._jitted = None

    def __call__(self, *args):
        j = self._jitted
        if j is None:
            j = self._jitted = _jitted_for(self.token, self.f)
        return j(*args)

    def __reduce__(self):
        return (Kernel, (self.f, self.token))

    def __dask_tokenize__(self):
        return self.token


def _jitted_for(token, f):
    with _built_lock:
        j = _built.get(token)
        if j is None:
            j = _built[token] = ad.jit(f)
            if len(_built) > _LRU_SIZE:
                _built.popitem(last=False)
        else:
            _built.move_to_end(token)
        return j


# The same function across calls (every L-BFGS iteration) keeps its token, hence its jit on
# every worker. Only the token is kept here: a value referring to the key would keep it alive.
_vg_tokens = weakref.WeakKeyDictionary()
_map_tokens = weakref.WeakKeyDictionary()


def _kernel_of(fn, tokens, make):
    try:
        token = tokens.get(fn)
        if token is None:
            token = tokens[fn] = uuid.uuid4().hex
    except TypeError:           # not weak-referenceable: a new token per call still works
        token = None
    return Kernel(make(fn), token)


# ---------------------------------------------------------------------------------------------
# data: dask arrays chunked along the first axis, the same row chunks for all

def _as_arrays(data, what):
    single = not isinstance(data, (tuple, list))
    arrays = [data] if single else list(data)
    if not arrays:
        raise ValueError(f"adjit.dask.{what}: data is empty; pass a dask array or a tuple of them")
    lead = next((a for a in arrays if isinstance(a, da.Array)), None)
    if lead is None:
        raise TypeError(f"adjit.dask.{what}: data must be a dask.array (or a tuple of them), got "
                        f"{', '.join(type(a).__name__ for a in arrays)}; wrap a NumPy array with "
                        "dask.array.from_array(x, chunks=(rows_per_chunk, -1))")
    out = []
    for j, a in enumerate(arrays):
        a = da.asarray(a)
        if a.ndim == 0:
            raise ValueError(f"adjit.dask.{what}: data[{j}] is a scalar; every array needs a "
                             "first axis of rows")
        if any(np.isnan(c) for cs in a.chunks for c in cs):
            raise ValueError(f"adjit.dask.{what}: data[{j}] has unknown chunk sizes; call "
                             ".compute_chunk_sizes() on it first")
        if a.shape[0] != lead.shape[0]:
            shapes = ", ".join(f"data[{k}] {b.shape}" for k, b in enumerate(arrays))
            raise ValueError(f"adjit.dask.{what}: the arrays in data must have the same number of "
                             f"rows (first axis), got {shapes}")
        # one chunk across the other axes, and the first array's row chunks for all
        a = a.rechunk((lead.chunks[0],) + (-1,) * (a.ndim - 1))
        out.append(a)
    return out, single


def _row_ranges(chunks):
    stops = np.cumsum(chunks)
    return [(int(s - c), int(s)) for c, s in zip(chunks, stops)]


def _blocks(arrays):
    return [a.to_delayed().reshape(-1) for a in arrays]


def _where(index, rows):
    return f"chunk {index} (rows {rows[0]}:{rows[1]})"


def _check_shapes(blocks, index, rows, declared, what):
    for j, (b, shape) in enumerate(zip(blocks, declared)):
        want = (rows[1] - rows[0],) + shape
        if np.shape(b) != want:
            raise ChunkError(f"adjit.dask.{what}: {_where(index, rows)} of data[{j}] has shape "
                             f"{np.shape(b)}, but the dask array declares {want} for it (a "
                             "from_delayed/map_blocks with a wrong shape?)", index, rows)


def _first_bad_row(blocks, index, rows, what):
    """A ChunkError for the first row holding NaN/inf in any array of the chunk, else None."""
    for j, b in enumerate(blocks):
        b = np.asarray(b)
        if b.dtype.kind not in "fc":
            continue
        bad = ~np.isfinite(b.reshape(b.shape[0], -1)).all(axis=1)
        if bad.any():
            r = int(np.argmax(bad))
            row = b[r]
            found = str(row)
            if row.ndim:     # the first few offending entries of the row
                found = ", ".join(
                    f"{row[tuple(i)]} at " + (f"column {i[0]}" if row.ndim == 1 else
                                              f"{tuple(int(k) for k in i)}")
                    for i in np.argwhere(~np.isfinite(row))[:5])
            return ChunkError(f"adjit.dask.{what}: {_where(index, rows)} has non-finite values "
                              f"in data[{j}]: row {rows[0] + r} (first of {int(bad.sum())} such "
                              f"rows in the chunk) has {found}; drop or impute such rows",
                              index, rows)
    return None


def _finite(tree):
    if isinstance(tree, (tuple, list)):
        return all(_finite(v) for v in tree)
    if isinstance(tree, dict):
        return all(_finite(v) for v in tree.values())
    return bool(np.all(np.isfinite(tree)))


def _add(a, b):
    if isinstance(a, (tuple, list)):
        return type(a)(_add(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return {k: _add(a[k], b[k]) for k in a}
    return a + b


# ---------------------------------------------------------------------------------------------
# value_and_grad

def _chunk_value_and_grad(kernel, params, index, rows, declared, single, *blocks):
    _check_shapes(blocks, index, rows, declared, "value_and_grad")
    chunk = blocks[0] if single else tuple(blocks)
    try:
        value, grads = kernel(params, chunk)
    except Exception as e:
        raise ChunkError(f"adjit.dask.value_and_grad: the loss failed on {_where(index, rows)} "
                         f"(shapes {[np.shape(b) for b in blocks]}): {type(e).__name__}: {e}",
                         index, rows) from e
    if not (_finite(value) and _finite(grads)):
        err = _first_bad_row(blocks, index, rows, "value_and_grad")
        if err is not None:
            raise err
    return value, grads


def _sum_parts(*parts):
    total = parts[0]
    for p in parts[1:]:
        total = _add(total, p)
    return total


def _tree_sum(parts, split_every):
    while len(parts) > 1:
        parts = [dask.delayed(_sum_parts, pure=False)(*parts[i:i + split_every])
                 for i in range(0, len(parts), split_every)]
    return parts[0]


def value_and_grad(loss, params, data, *, split_every=8, client=None, retries=None):
    """(value, gradient) of the sum over the chunks of `loss(params, chunk)`, one task per chunk.

    `data` is a dask array, or a tuple/list of them with the same number of rows, chunked along
    the first axis (other axes are gathered into one chunk; every array gets the first one's row
    chunks); `chunk` is then the block (or the tuple of blocks) of the same rows. `loss` must sum
    over the chunk's rows (not average) so that the chunks add up to the whole loss. `params` may
    be an array, a float or a tuple/list/dict of them, as `ad.grad` accepts; the gradient has
    the same structure. Returns NumPy values (computes now). `client`: a dask.distributed Client
    (default: Dask's usual choice: the `scheduler` config, else the current Client, else the
    local scheduler); `retries`: passed to `Client.compute` for tasks that raise (a task whose
    worker dies is rerun by Dask anyway).
    """
    if not callable(loss):
        raise TypeError(f"adjit.dask.value_and_grad: loss must be a function, got "
                        f"{type(loss).__name__}")
    arrays, single = _as_arrays(data, "value_and_grad")
    # one copy of the kernel and the parameters in the graph, shared by all tasks (embedded in
    # each task, the kernel would be pickled once per chunk: ~1 ms each)
    kernel = dask.delayed(_kernel_of(loss, _vg_tokens, ad.value_and_grad), traverse=False)
    declared = [a.shape[1:] for a in arrays]
    params = dask.delayed(params, traverse=False)
    task = dask.delayed(_chunk_value_and_grad, pure=False)
    parts = [task(kernel, params, i, rows, declared, single, *blks)
             for i, (rows, *blks) in enumerate(zip(_row_ranges(arrays[0].chunks[0]),
                                                   *_blocks(arrays)))]
    return _compute(_tree_sum(parts, max(2, int(split_every))), client, retries)


def _compute(obj, client, retries):
    if client is None:
        # Dask's choice (dask.config "scheduler", else the current distributed client, else
        # the local scheduler); `retries` needs a distributed Client
        client = getattr(dask.base.get_scheduler(), "__self__", None)
        if not hasattr(client, "compute"):
            return dask.compute(obj)[0]
    kw = {} if retries is None else {"retries": int(retries)}
    return client.compute(obj, **kw).result()


# ---------------------------------------------------------------------------------------------
# map

def _map_block(kernel, args, index, rows, declared, out_shape, dtype, block):
    _check_shapes([block], index, rows, [declared], "map")
    out = np.empty((len(block),) + out_shape, dtype)
    for r, point in enumerate(block):
        try:
            v = np.asarray(kernel(point, *args))
            if v.shape != out_shape:
                raise ValueError(f"the result has shape {v.shape}, the first point's had "
                                 f"{out_shape}")
        except Exception as e:
            raise ChunkError(f"adjit.dask.map: fn failed on row {rows[0] + r} in "
                             f"{_where(index, rows)}: {type(e).__name__}: {e}",
                             index, rows) from e
        out[r] = v
    if out.dtype.kind in "fc" and not np.isfinite(out).all():
        err = _first_bad_row([block], index, rows, "map")
        if err is not None:
            raise err
    return out


def map(fn, points, *args, out_shape=None, dtype=None, jit=True):  # noqa: A001 - adjit.dask.map
    """`fn(point, *args)` at every row of `points`, one task per block of rows: a lazy dask
    array of shape `(len(points),) + out_shape` with the row chunks of `points`.

    For Jacobians or Hessians at many points: `adjit.dask.map(ad.hessian(f), points)`. `points`
    is a dask array chunked along the first axis (one point per row); `args` are passed to every
    call unchanged (parameters, say). `fn` is compiled with `ad.jit` on the workers unless
    `jit=False`. `fn` must return one array (or float) of the same shape for every point;
    `out_shape`/`dtype` default to what `fn` returns at the first point, evaluated here (give
    both to skip that). A bad block raises ChunkError naming it when the array is computed.
    """
    if not callable(fn):
        raise TypeError(f"adjit.dask.map: fn must be a function, got {type(fn).__name__}")
    (points,), _ = _as_arrays(points, "map")
    if out_shape is None or dtype is None:
        if points.shape[0] == 0:
            raise ValueError("adjit.dask.map: no points; give out_shape= and dtype=")
        first = np.asarray(fn(np.asarray(points[0].compute()), *args))
        out_shape = first.shape if out_shape is None else out_shape
        dtype = first.dtype if dtype is None else dtype
    out_shape, dtype = tuple(int(n) for n in out_shape), np.dtype(dtype)
    kernel = dask.delayed(_kernel_of(fn, _map_tokens, lambda f: f) if jit else fn,
                          traverse=False)
    task = dask.delayed(_map_block, pure=False)
    args = dask.delayed(args, traverse=False)
    parts = [da.from_delayed(task(kernel, args, i, rows, points.shape[1:], out_shape, dtype, blk),
                             (rows[1] - rows[0],) + out_shape, dtype=dtype)
             for i, (rows, blk) in enumerate(zip(_row_ranges(points.chunks[0]),
                                                 points.to_delayed().reshape(-1)))]
    return da.concatenate(parts, axis=0)
