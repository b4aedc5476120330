"""The `loop` op: a loop whose body was traced once, as one row of the registry.

`ad.scan` / `ad.fori_loop` (and plain `for i in range(...)` loops rewritten by `ad.jit`, see
rewrite.py) trace their body once on fresh tracers into a `Body` (a small tape) and call

    loop(c0, *xs, *ks, body=Body)  ->  flat array [final carry (nc,), ys[0].ravel(), ...]

c0 is the carry packed into one flat float vector, xs the arrays scanned along their first
axis (row t is the body's input at step t), ks the values the body reads whole (closed over).
The step's index is i = start + step * t, t = 0 .. n-1 (n-1 .. 0 when reversed).

Because the loop is one op, every layer treats it like any other: the jit lowers it to one
numba loop (loopgen.py), reverse mode differentiates it with a reverse loop over the stored
carries whose body is the VJP of the body (traced once too), forward mode with a loop over
(carry, tangent). Those rules are written with `loop` and registry ops, so they differentiate
again.
"""
import numpy as np

from .. import ops
from ..core.registry import Traced, defop, new_level, primal_of
from ..forward.dual import Dual
from ..reverse.engine import run_backward
from ..reverse.tensor import Tensor
from .lowering import OPS as LOWERED
from .trace import Trace, Tracer


class NotLoopable(Exception):
    """The body cannot be expressed as one compiled loop (the caller runs a Python loop)."""


class Body:
    """A traced loop body. vars: the tape; ins: var ids of (i, c, *x rows, *ks); outs: var
    ids of (c', *y rows)."""

    def __init__(self, vars, ins, outs, n, start, step, reverse, nx):
        self.vars, self.ins, self.outs = vars, list(ins), list(outs)
        self.n, self.start, self.step, self.reverse, self.nx = n, start, step, reverse, nx
        self.guards = []
        v = vars
        self.nc = v[ins[1]].size
        self.yshapes = [v[o].shape for o in outs[1:]]
        self.ysizes = [v[o].size for o in outs[1:]]
        self.out_size = self.nc + n * sum(self.ysizes)
        self.compiled = None
        self.xused = [True] * nx

    @property
    def nk(self):
        return len(self.ins) - 2 - self.nx

    def replace(self, **kw):
        b = Body(self.vars, kw.get("ins", self.ins), kw.get("outs", self.outs), self.n,
                 self.start, self.step, kw.get("reverse", self.reverse), self.nx)
        b.xused = self.xused
        return b

    def index(self, t):
        return self.start + self.step * t

    def run(self, i, c, xs, ks):
        """Evaluate the tape on any values (NumPy, Tensors, duals, tracers): (c', ys)."""
        env = {}
        for vid, val in zip(self.ins, [i, c] + list(xs) + list(ks)):
            env[vid] = val
        for v in self.vars:
            if v.id in env:
                continue
            if v.kind == "const":
                env[v.id] = v.value
            elif v.kind == "op":
                p = dict(v.params)
                for k, j in v.tparams.items():
                    p[k] = env[j]
                env[v.id] = v.op(*[env[j] for j in v.inputs], **p)
        return env[self.outs[0]], [env[o] for o in self.outs[1:]]

    def __repr__(self):
        return f"<loop body: {len(self.vars)} vars, n={self.n}>"


class BodyTrace(Trace):
    """The trace of a loop body. `x[i + c]` on a value the body reads whole (a closed-over
    array) becomes a row of the slice x[start + c :: step] scanned with the loop (hoisted), so
    the loop reads one row per step and reverse mode returns one cotangent row per step
    instead of a whole array."""

    def __init__(self, level, index_id, n, start, step):
        super().__init__(level)
        self.index_id, self.n, self.start, self.step = index_id, n, start, step
        self.sources = {}   # var id of a whole value -> position among ks
        self.hoists = {}    # (k position, offset) -> row tracer
        self.hoisted = []   # [(k position, offset, row var id)]

    def offset_of(self, t):
        """c when tracer t is i + c (i the loop index), else None."""
        if type(t) is not Tracer or t._trace is not self:
            return None
        v = self.vars[t._id]
        if v.id == self.index_id:
            return 0
        if v.kind != "op" or v.op.name not in ("add", "sub") or v.tparams:
            return None
        a, b = (self.vars[j] for j in v.inputs)
        if a.id == self.index_id and b.kind == "const" and _int(b.value) is not None:
            c = _int(b.value)
            return c if v.op.name == "add" else -c
        if b.id == self.index_id and a.kind == "const" and v.op.name == "add" \
                and _int(a.value) is not None:
            return _int(a.value)
        return None

    def hoist(self, x, idx):
        k = self.sources.get(x._id) if x._trace is self else None
        if k is None or not idx:
            return None
        off = self.offset_of(idx[0])
        if off is None:
            return None
        full = x._val
        lo = self.start + off
        hi = lo + self.step * (self.n - 1)
        if not (0 <= lo < len(full) and 0 <= hi < len(full)):
            return None   # Python's negative indices wrap: keep the semantics, do not hoist
        row = self.hoists.get((k, off))
        if row is None:
            row = self.arg(np.asarray(full[lo]), None)
            self.hoists[(k, off)] = row
            self.hoisted.append((k, off, row._id))
        return row[idx[1:]] if len(idx) > 1 else row


def _int(v):
    a = np.asarray(v)
    if a.shape == () and a.dtype.kind in "iu":
        return int(a)
    return None


def trace_body(fn, n, start, step, reverse, c0, x0s, ks):
    """Trace fn(i, c, xs_rows, ks) -> (c', ys) once into a Body. c0: flat carry value, x0s:
    the rows of step 0, ks: whole values (concrete). Returns (body, hoisted) with hoisted =
    [(k position, offset)] of the extra xs the caller must pass (in that order, after xs);
    raises NotLoopable."""
    tr = BodyTrace(new_level(), None, n, start, step)
    ti = tr.arg(np.int64(start), None)
    tr.index_id = ti._id
    tc = tr.arg(np.asarray(c0), None)
    txs = [tr.arg(np.asarray(x), None) for x in x0s]
    tks = []
    for k, v in enumerate(ks):
        t = tr.arg(np.asarray(v), None)
        tr.sources[t._id] = k
        tks.append(t)
    try:
        c1, ys = fn(ti, tc, txs, tks)
    except NotLoopable:
        raise
    except Exception as e:  # noqa: BLE001 - the Python loop will report a genuine error
        raise NotLoopable(f"{type(e).__name__}: {e}") from None
    outs = []
    for o in [c1] + list(ys):
        if type(o) is Tracer and o._trace is tr:
            outs.append(o._id)
        elif isinstance(o, Traced):
            raise NotLoopable(f"the body returned a {type(o).__name__} from outside the loop")
        else:
            outs.append(tr.const(np.asarray(o, dtype=float)))
    if tr.guards:
        raise NotLoopable("the body's Python control flow (if, while, float(), int()) reads "
                          "values computed in the loop")
    if tr.vars[outs[0]].shape != np.shape(c0):
        raise NotLoopable("the carry changes shape in the body")
    # the whole values a hoisted row replaced may be unused now: drop them
    live = _live(tr.vars, outs)
    keep = [k for k, t in enumerate(tks) if t._id in live]
    hoisted = [(k, off) for k, off, vid in tr.hoisted]
    ins = [ti._id, tc._id] + [t._id for t in txs] + [vid for _, _, vid in tr.hoisted] + \
        [tks[k]._id for k in keep]
    body = Body(tr.vars, ins, outs, n, start, step, reverse, len(txs) + len(hoisted))
    body.xused = [t._id in live for t in txs]
    return body, hoisted, keep


def pruned(body, xs):
    """The body without the scanned inputs it does not read, and the xs still passed."""
    if all(body.xused):
        return body, list(xs)
    nx = len(body.xused)
    ins = body.ins[:2] + [v for v, u in zip(body.ins[2:2 + nx], body.xused) if u] + \
        body.ins[2 + nx:]
    b = Body(body.vars, ins, body.outs, body.n, body.start, body.step, body.reverse,
             body.nx - nx + sum(body.xused))
    return b, [x for x, u in zip(xs, body.xused) if u]


def _live(vars, roots):
    live, stack = set(), list(roots)
    while stack:
        i = stack.pop()
        if i in live:
            continue
        live.add(i)
        stack.extend(vars[i].inputs)
        stack.extend(vars[i].tparams.values())
    return live


# ---------------------------------------------------------------------------------------------
# the op

COMPILERS = []   # loopgen registers the function compiling a standalone kernel for a loop


def _primal(c0, *rest, body):
    if COMPILERS:
        k = COMPILERS[0](body, (c0,) + rest)
        if k is not None:
            return k(c0, *rest)
    return _interpret(body, c0, rest)


def _interpret(body, c0, rest):
    xs, ks = rest[:body.nx], rest[body.nx:]
    c = np.asarray(c0, dtype=float)
    rows = [np.empty((body.n,) + s) for s in body.yshapes]
    order = range(body.n - 1, -1, -1) if body.reverse else range(body.n)
    for t in order:
        c, ys = body.run(np.int64(body.index(t)), c, [x[t] for x in xs], ks)
        c = np.asarray(c, dtype=float)
        for r, y in zip(rows, ys):
            r[t] = y
    return np.concatenate([c.ravel()] + [r.ravel() for r in rows])


def _split(out, body):
    """(final carry, [ys stacked]) views of the flat output."""
    nc = body.nc
    c = ops.getitem(out, idx=(slice(0, nc),))
    ys, off = [], nc
    for s, m in zip(body.yshapes, body.ysizes):
        k = body.n * m
        ys.append(ops.reshape(ops.getitem(out, idx=(slice(off, off + k),)), (body.n,) + s))
        off += k
    return c, ys


def _flat(v):
    return ops.reshape(v, (-1,))


def _vjp(g, out, c0, *rest, body, _needs):
    nx, nc = body.nx, body.nc
    xs, ks = rest[:nx], rest[nx:]
    gc, gys = _split(g, body)
    kshapes = [np.shape(primal_of(k)) for k in ks]
    ksizes = [int(np.prod(s)) if s else 1 for s in kshapes]
    kneed = _needs[1 + nx:]
    K = sum(m for m, nd in zip(ksizes, kneed) if nd)
    init = ops.concatenate([gc, np.zeros(K)]) if K else gc

    def rev(i, carry, rows, kv):
        gcar = ops.getitem(carry, idx=(slice(0, nc),))
        gk = ops.getitem(carry, idx=(slice(nc, nc + K),)) if K else None
        c_t, x_t, gy_t = rows[0], rows[1:1 + nx], rows[1 + nx:]
        level = new_level()
        leaves = [_leaf(c_t, level)] + [_leaf(x, level) for x in x_t] + \
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
            return np.zeros(np.shape(primal_of(like))) if r is None else r
        dc = ct(leaves[0], c_t)
        dxs = [ct(t, x) for t, x in zip(leaves[1:1 + nx], x_t)]
        if K:
            dk = [_flat(ct(t, k)) for t, k, nd in zip(leaves[1 + nx:], kv, kneed) if nd]
            dc = ops.concatenate([_flat(dc)] + [ops.add(gk, ops.concatenate(dk))])
        return dc, dxs

    rows0 = [np.asarray(primal_of(c0), dtype=float)] + [_row0(x) for x in xs] + \
        [_row0(y) for y in gys]
    rbody, hoisted, keep = trace_body(
        rev, body.n, body.start, body.step, not body.reverse, primal_of(init),
        [primal_of(r) for r in rows0], [primal_of(k) for k in ks])
    if rbody.xused[0]:
        # the carries entering each step, stored (one more output row: the step's input)
        hist_body = body.replace(outs=body.outs + [body.ins[1]])
        carries = _split(loop(c0, *xs, *ks, body=hist_body), hist_body)[1][-1]
    else:   # the body's derivatives do not read the carry: nothing to store
        carries = None
    allx = [carries] + list(xs) + list(gys)
    extra = [hoisted_rows(ks[k], off, body) for k, off in hoisted]
    rbody, allx = pruned(rbody, allx)
    rout = loop(init, *allx, *extra, *[ks[k] for k in keep], body=rbody)
    gfin, dxs = _split(rout, rbody)
    res = [ops.getitem(gfin, idx=(slice(0, nc),))] + list(dxs)
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


def _row0(x):
    return ops.getitem(x, idx=(0,)) if np.shape(primal_of(x))[0] else x


def hoisted_rows(k, off, body):
    lo = body.start + off
    hi = lo + body.step * body.n
    return ops.getitem(k, idx=(slice(lo, hi if hi >= 0 else None, body.step),))


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
    txs = [t for t in ts[1:1 + nx]]
    tks = list(ts[1 + nx:])
    # tangent rows scanned with the loop: batch axes after the step axis
    tx_in = [ops.transpose(t, axes=(nb,) + tuple(range(nb)) + tuple(
        range(nb + 1, len(np.shape(primal_of(t)))))) for t in txs if t is not None]
    has_tx = [t is not None for t in txs]
    has_tk = [t is not None for t in tks]

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
        return ops.concatenate([_flat(p1), _flat(t1)]), [p for p, _ in outs] + [t for _, t in outs]

    rows0 = [_row0(x) for x in xs] + [_row0(t) for t in tx_in]
    kall = list(ks) + [t for t in tks if t is not None]
    tbody, hoisted, keep = trace_body(
        tan, body.n, body.start, body.step, body.reverse, primal_of(init),
        [primal_of(r) for r in rows0], [primal_of(k) for k in kall])
    extra = [hoisted_rows(kall[k], off, body) for k, off in hoisted]
    tbody, txs_in = pruned(tbody, list(xs) + tx_in)
    tout = loop(init, *txs_in, *extra, *[kall[k] for k in keep], body=tbody)
    fin, ys = _split(tout, tbody)
    ny = len(body.yshapes)
    parts = [ops.reshape(ops.getitem(fin, idx=(slice(nc, nc + B * nc),)), bshape + (nc,))]
    for ty in ys[ny:]:   # (n,) + batch + yshape -> batch + (n * ysize,)
        nd = len(np.shape(primal_of(ty)))
        ty = ops.transpose(ty, axes=tuple(range(1, nb + 1)) + (0,) + tuple(range(nb + 1, nd)))
        parts.append(ops.reshape(ty, bshape + (-1,)))
    return ops.concatenate(parts, axis=-1)


loop = defop("loop", _primal, _vjp, _jvp, saves_in=True, vjp_needs=True,
             backward_name="LoopBackward")
LOWERED["loop"] = "loop"
