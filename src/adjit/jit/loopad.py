"""The `loop` op's row (loopop.py holds the traced `Body`): its derivatives are loops too.

VJP: a reverse loop over the carries entering each step (stored by a loop that also outputs
them, only when the body's derivative reads them), whose body is the VJP of the body traced
once; the cotangent rows of scanned inputs add into one block per input array. JVP: a loop
over (carry, tangent) whose body pushes the body's tangents. When such a body cannot be traced
as one loop, the rules fall back to the steps unrolled with registry ops (never wrong).
"""
import numpy as np

from .. import ops
from ..core.registry import Op, new_level, primal_of
from ..forward.dual import Dual
from ..reverse.engine import run_backward
from ..reverse.tensor import Tensor
from .loopop import NotLoopable, hoist_source, primal, pruned, trace_body


def _split(out, body):
    """(final carry, [blocks]) views of the flat output."""
    nc = body.nc
    c = ops.getitem(out, idx=(slice(0, nc),))
    blocks, off = [], nc
    for (r, s), m in zip(body.blocks, body.bsizes):
        blocks.append(ops.reshape(ops.getitem(out, idx=(slice(off, off + m),)), (r,) + s))
        off += m
    return c, blocks


def _flat(v):
    return ops.reshape(v, (-1,))


def _zeros_like(v):
    return np.zeros(np.shape(primal_of(v)))


def _vjp(g, out, c0, *rest, body, _needs):
    nx, nc = body.nx, body.nc
    xs, ks = rest[:nx], rest[nx:]
    gc, gblocks = _split(g, body)
    kshapes = [np.shape(primal_of(k)) for k in ks]
    ksizes = [int(np.prod(s)) if s else 1 for s in kshapes]
    xneed, kneed = _needs[1:1 + nx], _needs[1 + nx:]
    K = sum(m for m, nd in zip(ksizes, kneed) if nd)
    init = ops.concatenate([gc, np.zeros(K)]) if K else gc
    # the cotangent of each needed scanned input is one block shaped like it; rows of the
    # same array (x[i] and x[i + 1]) add into the same block
    blocks, yspec, xblock = [], [], {}
    for j, x in enumerate(xs):
        if not xneed[j]:
            continue
        b = xblock.get(id(x))
        if b is None:
            shp = np.shape(primal_of(x))
            b = xblock[id(x)] = len(blocks)
            blocks.append((shp[0], tuple(shp[1:])))
        yspec.append((b,) + tuple(body.xrows[j]))

    def rev(i, carry, rows, kv):
        gcar = ops.getitem(carry, idx=(slice(0, nc),))
        gk = ops.getitem(carry, idx=(slice(nc, nc + K),)) if K else None
        c_t, x_t, gy_t = rows[0], rows[1:1 + nx], rows[1 + nx:]
        level = new_level()
        leaves = [_leaf(c_t, level)] + [_leaf(x, level) if nd else x
                                        for x, nd in zip(x_t, xneed)] + \
            [_leaf(k, level) if nd else k for k, nd in zip(kv, kneed)]
        c1, ys = body.run(i, leaves[0], leaves[1:1 + nx], leaves[1 + nx:])
        roots, grads = [], []
        for o, go in zip([c1] + list(ys), [gcar] + list(gy_t)):
            if isinstance(o, Tensor) and o._level == level and o._rg:
                roots.append(o)
                grads.append(go)
        cap = [t for t in leaves if isinstance(t, Tensor) and t._level == level]
        got = run_backward(roots, grads, True, False, capture=cap) if roots else [None] * len(cap)
        got = dict(zip(map(id, cap), got))

        def ct(t, like):
            r = got.get(id(t)) if isinstance(t, Tensor) else None
            return _zeros_like(like) if r is None else r
        dc = ct(leaves[0], c_t)
        dxs = [ct(t, x) for t, x, nd in zip(leaves[1:1 + nx], x_t, xneed) if nd]
        if K:
            dk = [_flat(ct(t, k)) for t, k, nd in zip(leaves[1 + nx:], kv, kneed) if nd]
            dc = ops.concatenate([_flat(dc)] + [ops.add(gk, ops.concatenate(dk))])
        return dc, dxs

    # scanned by the reverse loop: the carries entering each step, the inputs' rows, the
    # rows of the output cotangent each step's ys received
    gy_in = [gblocks[b] for b, _, _ in body.yspec]
    gy_rows = [(off, st) for _, off, st in body.yspec]
    rows0 = [np.asarray(primal_of(c0), dtype=float)] + \
        [primal_of(x)[off] for x, (off, _) in zip(xs, body.xrows)] + \
        [primal_of(gb)[off] for gb, (off, _) in zip(gy_in, gy_rows)]
    rbody, hoisted, keep = trace_body(
        rev, body.n, body.start, body.step, not body.reverse, primal_of(init), rows0,
        [primal_of(k) for k in ks], xrows=[(0, 1)] + body.xrows + gy_rows)
    rbody = rbody.replace(yspec=yspec, blocks=blocks)
    if rbody.xused[0]:
        # the carries entering each step, stored (one more output block: the step's input)
        hist_body = body.replace(outs=body.outs + [body.ins[1]],
                                 yspec=body.yspec + [(len(body.blocks), 0, 1)],
                                 blocks=body.blocks + [(body.n, (nc,))])
        carries = _split(loop(c0, *xs, *ks, body=hist_body), hist_body)[1][-1]
    else:   # the body's derivatives do not read the carry: nothing to store
        carries = None
    rbody, allx = pruned(rbody, [carries] + list(xs) + gy_in)
    extra = [hoist_source(ks, k, p) for k, p, _ in hoisted]
    rout = loop(init, *allx, *extra, *[ks[k] for k in keep], body=rbody)
    gfin, gx = _split(rout, rbody)
    res = [ops.getitem(gfin, idx=(slice(0, nc),))]
    seen = set()
    for j, x in enumerate(xs):
        if not xneed[j] or id(x) in seen:
            res.append(None)   # an input passed twice gets its whole cotangent once
            continue
        seen.add(id(x))
        res.append(ops.reshape(gx[xblock[id(x)]], np.shape(primal_of(x))))
    off = nc
    for s, m, nd in zip(kshapes, ksizes, kneed):
        if nd:
            res.append(ops.reshape(ops.getitem(gfin, idx=(slice(off, off + m),)), s))
            off += m
        else:
            res.append(None)
    return tuple(res)


def _leaf(v, level):
    t = Tensor._make(v, level)
    t._rg = True
    return t


def _lead_axis_first(t, nb):
    """A tangent with nb batch axes in front, the array's first axis moved before them."""
    nd = len(np.shape(primal_of(t)))
    return ops.transpose(t, axes=(nb,) + tuple(range(nb)) + tuple(range(nb + 1, nd)))


def _jvp(ts, out, c0, *rest, body):
    nx, nc = body.nx, body.nc
    xs, ks = rest[:nx], rest[nx:]
    nb, bshape = None, ()
    for t, p in zip(ts, (c0,) + rest):
        if t is not None:
            nb = len(np.shape(primal_of(t))) - len(np.shape(primal_of(p)))
            bshape = tuple(np.shape(primal_of(t))[:nb])
            break
    if nb is None:
        return None
    B = int(np.prod(bshape)) if bshape else 1
    tc0 = ts[0] if ts[0] is not None else np.zeros(bshape + (nc,))
    init = ops.concatenate([_flat(c0), _flat(tc0)])
    txs, tks = ts[1:1 + nx], list(ts[1 + nx:])
    has_tx = [t is not None for t in txs]
    has_tk = [t is not None for t in tks]
    tx_in = [_lead_axis_first(t, nb) for t in txs if t is not None]
    tx_rows = [r for r, h in zip(body.xrows, has_tx) if h]

    def tan(i, carry, rows, kv):
        c = ops.getitem(carry, idx=(slice(0, nc),))
        tc = ops.reshape(ops.getitem(carry, idx=(slice(nc, nc + B * nc),)), bshape + (nc,))
        x_t, tx_t = rows[:nx], iter(rows[nx:])
        k_v, tk_v = kv[:len(ks)], iter(kv[len(ks):])
        level = new_level()
        dc = Dual._make(c, tc, level)
        dx = [Dual._make(x, next(tx_t), level) if h else x for x, h in zip(x_t, has_tx)]
        dk = [Dual._make(k, next(tk_v), level) if h else k for k, h in zip(k_v, has_tk)]
        c1, ys = body.run(i, dc, dx, dk)

        def split(o, shape):
            if isinstance(o, Dual) and o._level == level:
                return o._p, o._t
            return o, np.zeros(bshape + tuple(shape))
        p1, t1 = split(c1, (nc,))
        outs = [split(y, s) for y, s in zip(ys, body.yshapes)]
        return ops.concatenate([_flat(p1), _flat(t1)]), [p for p, _ in outs] + \
            [t for _, t in outs]

    rows0 = [primal_of(x)[off] for x, (off, _) in zip(xs, body.xrows)] + \
        [primal_of(t)[off] for t, (off, _) in zip(tx_in, tx_rows)]
    kall = list(ks) + [t for t in tks if t is not None]
    tbody, hoisted, keep = trace_body(
        tan, body.n, body.start, body.step, body.reverse, primal_of(init), rows0,
        [primal_of(k) for k in kall], xrows=list(body.xrows) + tx_rows)
    nblk = len(body.blocks)
    tbody = tbody.replace(
        yspec=list(body.yspec) + [(b + nblk, off, st) for b, off, st in body.yspec],
        blocks=list(body.blocks) + [(r, bshape + s) for r, s in body.blocks])
    tbody, txs_in = pruned(tbody, list(xs) + tx_in)
    extra = [hoist_source(kall, k, p) for k, p, _ in hoisted]
    tout = loop(init, *txs_in, *extra, *[kall[k] for k in keep], body=tbody)
    fin, blocks = _split(tout, tbody)
    parts = [ops.reshape(ops.getitem(fin, idx=(slice(nc, nc + B * nc),)), bshape + (nc,))]
    for tb in blocks[nblk:]:   # (rows,) + batch + rowshape -> batch + (rows * rowsize,)
        nd = len(np.shape(primal_of(tb)))
        tb = ops.transpose(tb, axes=tuple(range(1, nb + 1)) + (0,) + tuple(range(nb + 1, nd)))
        parts.append(ops.reshape(tb, bshape + (-1,)))
    return ops.concatenate(parts, axis=-1)


def unrolled(body, c0, xs, ks):
    """The loop op computed step by step with registry ops (what its derivative rules fall
    back to when the derivative's body cannot be traced as one loop)."""
    c = c0
    contrib = [dict() for _ in body.blocks]
    order = range(body.n - 1, -1, -1) if body.reverse else range(body.n)
    for t in order:
        rows = [ops.getitem(x, idx=(off + st * t,)) for x, (off, st) in zip(xs, body.xrows)]
        c, ys = body.run(np.int64(body.index(t)), c, rows, ks)
        for y, (b, off, st) in zip(ys, body.yspec):
            r = off + st * t
            prev = contrib[b].get(r)
            contrib[b][r] = y if prev is None else ops.add(prev, y)
    parts = [_flat(c)]
    for (nrows, shape), cb in zip(body.blocks, contrib):
        if nrows:
            parts.append(_flat(ops.stack([cb[r] if r in cb else np.zeros(shape)
                                          for r in range(nrows)])))
    return ops.concatenate(parts)


def _vjp_rule(g, out, c0, *rest, body, _needs):
    try:
        return _vjp(g, out, c0, *rest, body=body, _needs=_needs)
    except NotLoopable:
        pass
    level = new_level()
    leaves = [_leaf(v, level) if nd else v for v, nd in zip((c0,) + rest, _needs)]
    o = unrolled(body, leaves[0], leaves[1:1 + body.nx], leaves[1 + body.nx:])
    cap = [t for t in leaves if isinstance(t, Tensor) and t._level == level]
    got = iter(run_backward([o], [g], True, False, capture=cap) if isinstance(o, Tensor)
               else [None] * len(cap))
    return tuple(next(got) if isinstance(t, Tensor) and t._level == level else None
                 for t in leaves)


def _jvp_rule(ts, out, c0, *rest, body):
    try:
        return _jvp(ts, out, c0, *rest, body=body)
    except NotLoopable:
        pass
    level = new_level()
    ins = [Dual._make(v, t, level) if t is not None else v for v, t in zip((c0,) + rest, ts)]
    o = unrolled(body, ins[0], ins[1:1 + body.nx], ins[1 + body.nx:])
    return o._t if isinstance(o, Dual) and o._level == level else None


# An internal row, not entered in ad.OPS: its parameter is a traced body, which the op-info
# sweep cannot sample (tests/test_loops.py covers it in every mode).
loop = Op("loop", primal, _vjp_rule, _jvp_rule, saves_in=True, vjp_needs=True,
          backward_name="LoopBackward", lower="loop", export=False)
