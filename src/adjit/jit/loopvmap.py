"""ad.vmap of the `loop` op: ONE loop whose body is the batched body.

Without a rule the loop op ran once per batch element (batching.py's per-element loop): B
times the Python overhead eagerly, and under ad.jit(ad.vmap(f)) B loop ops on the tape, past
the trace limit (eager) for a batch of a few hundred. Here the body's tape is run again on the
arguments of a fresh body trace wrapped in `Batched` values (of a level of their own, above
that trace), so each op of the body goes through its own batching rule exactly as under
ad.vmap, and what the new trace records is the batched body:

- the carry is one flat vector, batch-major: (B * nc,), element b's carry at b * nc; it is
  batched when c0 is, or when the body makes it depend on a batched input (traced again);
- a batched scanned input (B, n, ...) is transposed to (n, B, ...): row t is step t of every
  element; a batched whole value (ks) is read with its batch axis; unbatched inputs stay as
  they are (not repeated B times);
- an output block (the ys) that any batched y writes into is (nrows, B, ...), transposed back
  after the loop.

The result is again a `loop` op (and reshapes, transposes), so every derivative rule, the
jit's lowering and the rules of this module apply to it as to any loop. Where the batched body
cannot be traced as one loop (an op of the body raises on batched values, the trace grows past
ADJIT_MAX_TRACE), the rule returns None and the loop runs once per element, as before.
"""
import numpy as np

from .. import ops
from ..core.registry import Traced, new_level, primal_of
from ..transforms.batching import Batched, register_rule
from .loopad import loop
from .loopop import NotLoopable, hoist_source, pruned, trace_body


def _shape(v):
    return tuple(v.shape) if isinstance(v, Traced) else np.shape(v)


def _flat(v):
    return ops.reshape(v, (-1,))


# where the reason for running a loop once per element goes (loops.py adds its `reasons`,
# which ad.jit's trace-limit message quotes)
FALLBACK = []


def batch_loop(op, vals, flags, params, bparams, size):
    """The rule (transforms/batching.py's signature): the batched flat output (size,
    out_size), or None to run the loop once per element."""
    body = params["body"]
    try:
        return _batched(body, vals, flags, size)
    except NotLoopable as e:
        for note in FALLBACK:
            note(f"ad.vmap ran it once per batch element (its batched body is not one loop: "
                 f"{e})")
        return None


def _batched(body, vals, flags, B):
    nx = body.nx
    c0, xs, ks = vals[0], list(vals[1:1 + nx]), list(vals[1 + nx:])
    xf, kf = list(flags[1:1 + nx]), list(flags[1 + nx:])
    # the batch axis of a scanned input goes second (once per array passed several times)
    moved = {}
    for j, (x, f) in enumerate(zip(xs, xf)):
        if f:
            if id(x) not in moved:
                nd = len(_shape(x))
                moved[id(x)] = ops.transpose(x, axes=(1, 0) + tuple(range(2, nd)))
            xs[j] = moved[id(x)]
    traced = _trace(body, c0, xs, xf, ks, kf, B, flags[0])
    if traced is None:   # the body made the carry depend on the batch: carry it batched
        traced = _trace(body, c0, xs, xf, ks, kf, B, True)
    nb, hoisted, keep, cb, bblocks = traced
    if any(kf[k] for k, _, _ in hoisted):   # rows of a batched value are its elements
        raise NotLoopable("a row of a batched value was hoisted")
    # the blocks as the loop had them (rows of several steps may add into one), batched ones
    # with the batch axis after the rows
    nb = nb.replace(yspec=body.yspec, blocks=[(r, (B,) + tuple(s) if k in bblocks else s)
                                              for k, (r, s) in enumerate(body.blocks)])
    nc = body.nc
    if cb:
        cin = _flat(c0 if flags[0] else ops.broadcast_to(c0, (B, nc)))
    else:
        cin = c0
    nb, xpass = pruned(nb, xs)
    extra = [hoist_source(ks, k, p) for k, p, _ in hoisted]
    out = loop(cin, *xpass, *extra, *[ks[k] for k in keep], body=nb)
    # back to (B, out_size): the layout of the unbatched op's output on a leading batch axis
    if cb:
        parts = [ops.reshape(ops.getitem(out, idx=(slice(0, B * nc),)), (B, nc))]
        off = B * nc
    else:
        parts = [ops.broadcast_to(ops.reshape(ops.getitem(out, idx=(slice(0, nc),)), (1, nc)),
                                  (B, nc))]
        off = nc
    for k, ((r, s), m) in enumerate(zip(body.blocks, body.bsizes)):
        if k in bblocks:
            piece = ops.reshape(ops.getitem(out, idx=(slice(off, off + B * m),)),
                                (r, B, m // r if r else 0))
            parts.append(ops.reshape(ops.transpose(piece, axes=(1, 0, 2)), (B, m)))
            off += B * m
        else:
            piece = ops.reshape(ops.getitem(out, idx=(slice(off, off + m),)), (1, m))
            parts.append(ops.broadcast_to(piece, (B, m)))
            off += m
    return ops.concatenate(parts, axis=1)


def _trace(body, c0, xs, xf, ks, kf, B, cb):
    """(new body, hoisted, keep, carry batched, batched blocks), or None when the carry is
    not batched (cb False) but the body's new carry is."""
    nc = body.nc
    c0v = np.asarray(primal_of(c0), dtype=float)
    if cb:
        c0v = np.broadcast_to(c0v, (B, nc)).reshape(-1)
    x0s = [np.asarray(primal_of(x))[off] for x, (off, _) in zip(xs, body.xrows)]
    kvals = [primal_of(k) for k in ks]
    info = {}

    def step(i, c, rows, kv):
        level = new_level()

        def mine(v):
            return isinstance(v, Batched) and v._level == level
        cc = Batched(ops.reshape(c, (B, nc)), level) if cb else c
        rr = [Batched(r, level) if f else r for r, f in zip(rows, xf)]
        kk = [Batched(k, level) if f else k for k, f in zip(kv, kf)]
        c1, ys = body.run(i, cc, rr, kk)
        if mine(c1) and not cb:   # the body makes the carry depend on the batch
            info["retry"] = True
            c1 = c
        elif mine(c1):
            c1 = _flat(c1._v)
        elif cb:
            c1 = _flat(ops.broadcast_to(c1, (B, nc)))
        bblocks = {b for y, (b, _, _) in zip(ys, body.yspec) if mine(y)}
        info["blocks"] = bblocks
        out = []
        for y, (b, _, _), shp in zip(ys, body.yspec, body.yshapes):
            if mine(y):
                out.append(y._v)
            elif b in bblocks:
                out.append(ops.broadcast_to(y, (B,) + tuple(shp)))
            else:
                out.append(y)
        return c1, out

    nb, hoisted, keep = trace_body(step, body.n, body.start, body.step, body.reverse, c0v,
                                   x0s, kvals, xrows=body.xrows)
    if info.get("retry"):
        return None
    return nb, hoisted, keep, cb, info["blocks"]


register_rule("loop", batch_loop)
loop.vmap = "loop"
