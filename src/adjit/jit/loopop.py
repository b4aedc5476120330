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
(carry, tangent) (loopad.py, where the op's row is). Those rules are written with `loop` and
registry ops, so they differentiate again.
"""
import numpy as np

from ..core.registry import Traced, new_level
from .trace import Trace, Tracer


class NotLoopable(Exception):
    """The body cannot be expressed as one compiled loop (the caller runs a Python loop)."""


class Body:
    """A traced loop body.

    vars: the tape; ins: var ids of (i, c, *x rows, *ks); outs: var ids of (c', *ys).
    xrows: per scanned input X, (off, stride): the body's row at step t is X[off + stride * t]
    (plain xs: (0, 1); a hoisted x[i + c]: the whole x with (start + c, step)).
    blocks: [(nrows, rowshape)], the arrays the loop returns besides the carry; yspec: per
    output y, (block, off, stride): y of step t is added to row off + stride * t of its block
    (ys stacked: a block of n rows of its own with (0, 1); cotangents of hoisted rows: one
    block shaped like the whole x, several rows adding into it, as a hand-written gradient
    does).
    """

    def __init__(self, vars, ins, outs, n, start, step, reverse, xrows, yspec=None,
                 blocks=None):
        self.vars, self.ins, self.outs = vars, list(ins), list(outs)
        self.n, self.start, self.step, self.reverse = n, start, step, reverse
        self.xrows = list(xrows)
        self.nx = len(self.xrows)
        self.nc = vars[ins[1]].size
        self.yshapes = [vars[o].shape for o in outs[1:]]
        if yspec is None:
            yspec = [(k, 0, 1) for k in range(len(self.yshapes))]
            blocks = [(n, s) for s in self.yshapes]
        self.yspec, self.blocks = list(yspec), list(blocks)
        self.bsizes = [r * (int(np.prod(s)) if s else 1) for r, s in self.blocks]
        self.out_size = self.nc + sum(self.bsizes)
        self.compiled = None
        self.live = None
        self.xused = [True] * self.nx

    def replace(self, **kw):
        b = Body(self.vars, kw.get("ins", self.ins), kw.get("outs", self.outs), self.n,
                 self.start, self.step, kw.get("reverse", self.reverse),
                 kw.get("xrows", self.xrows), kw.get("yspec", self.yspec),
                 kw.get("blocks", self.blocks))
        b.xused = kw.get("xused", self.xused)
        return b

    def index(self, t):
        return self.start + self.step * t

    def stacked(self, b):
        """Block b is written once per row (no zero fill, no adding)."""
        ys = [s for s in self.yspec if s[0] == b]
        return len(ys) == 1 and ys[0][1:] == (0, 1) and self.blocks[b][0] == self.n

    def run(self, i, c, xs, ks):
        """Evaluate the tape on any values (NumPy, Tensors, duals, tracers): (c', ys)."""
        env = {}
        for vid, val in zip(self.ins, [i, c] + list(xs) + list(ks)):
            env[vid] = val
        if self.live is None:
            self.live = sorted(_live(self.vars, self.outs))
        for v in map(self.vars.__getitem__, self.live):
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
        """The row tracer for x[idx] when idx is (p..., i + c, rest...) with x a whole value,
        p plain ints or whole integer values (an enclosing loop's index); else None."""
        k = self.sources.get(x._id) if x._trace is self else None
        if k is None or not idx:
            return None
        prefix, pos = [], None
        for d, e in enumerate(idx):
            off = self.offset_of(e)
            if off is not None:
                pos = d
                break
            if isinstance(e, (int, np.integer)) and not isinstance(e, (bool, np.bool_)):
                prefix.append(("int", int(e)))
            elif type(e) is Tracer and e._trace is self and e._id in self.sources \
                    and np.shape(e._val) == () and np.asarray(e._val).dtype.kind in "iu":
                prefix.append(("k", self.sources[e._id]))
            else:
                return None
        if pos is None:
            return None
        full = x._val[tuple(v if kind == "int" else int(self.vars[self._src_var(v)].value)
                            for kind, v in prefix)] if prefix else x._val
        if np.ndim(full) == 0:
            return None
        lo = self.start + off
        hi = lo + self.step * (self.n - 1)
        if not (0 <= lo < len(full) and 0 <= hi < len(full)):
            return None   # Python's negative indices wrap: keep the semantics, do not hoist
        key = (k, tuple(prefix), off)
        row = self.hoists.get(key)
        if row is None:
            row = self.arg(np.asarray(full[lo]), None)
            self.hoists[key] = row
            self.hoisted.append(key + (row._id,))
        rest = idx[pos + 1:]
        return row[rest] if rest else row

    def _src_var(self, k):
        for vid, pos in self.sources.items():
            if pos == k:
                return vid
        raise KeyError(k)


def hoist_source(ks, k, prefix):
    """The array whose rows a hoisted x[p..., i + c] reads: ks[k][p...] (indexed with Python's
    [] so that an enclosing loop's body hoists it in turn)."""
    if not prefix:
        return ks[k]
    return ks[k][tuple(v if kind == "int" else ks[v] for kind, v in prefix)]


def _int(v):
    a = np.asarray(v)
    if a.shape == () and a.dtype.kind in "iu":
        return int(a)
    return None


def trace_body(fn, n, start, step, reverse, c0, x0s, ks, xrows=None):
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
    args = [ti, tc] + txs + tks
    ids = [t._id for t in args]
    try:
        c1, ys = fn(ti, tc, txs, tks)
    except NotLoopable:
        raise
    except Exception as e:  # noqa: BLE001 - the Python loop will report a genuine error
        raise NotLoopable(f"{type(e).__name__}: {e}") from None
    # A write into what the loop reads (a scanned row, a closed-over array, a slice of one)
    # changes it for the steps after, and for the code after the loop, as NumPy's views do;
    # the loop op reads its inputs once, so such a body runs as the Python loop it is.
    if [t._id for t in args] != ids or any(
            tr.hoists[h[:3]]._id != h[3] for h in tr.hoisted):
        raise NotLoopable("the body writes into an array the loop reads (a scanned row, an "
                          "array it closes over, or a slice of one)")
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
    hoisted = [(k, prefix, off) for k, prefix, off, vid in tr.hoisted]
    ins = [ti._id, tc._id] + [t._id for t in txs] + [h[-1] for h in tr.hoisted] + \
        [tks[k]._id for k in keep]
    xrows = list(xrows) if xrows is not None else [(0, 1)] * len(txs)
    xrows += [(start + off, step) for _, _, off in hoisted]
    body = Body(tr.vars, ins, outs, n, start, step, reverse, xrows)
    body.xused = [t._id in live for t in txs]
    return body, hoisted, keep


def pruned(body, xs):
    """The body without the scanned inputs it does not read, and the xs still passed."""
    if all(body.xused):
        return body, list(xs)
    nx = len(body.xused)
    use = body.xused + [True] * (body.nx - nx)
    ins = body.ins[:2] + [v for v, u in zip(body.ins[2:2 + body.nx], use) if u] + \
        body.ins[2 + body.nx:]
    b = body.replace(ins=ins, xrows=[r for r, u in zip(body.xrows, use) if u],
                     xused=[True] * sum(use))
    return b, [x for x, u in zip(xs, use[:nx]) if u]


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


def primal(c0, *rest, body):
    if COMPILERS:
        k = COMPILERS[0](body, (c0,) + rest)
        if k is not None:
            return k(c0, *rest)
    return interpret(body, c0, rest)


def interpret(body, c0, rest):
    xs, ks = rest[:body.nx], rest[body.nx:]
    c = np.asarray(c0, dtype=float)
    blocks = [np.zeros((r,) + s) for r, s in body.blocks]
    order = range(body.n - 1, -1, -1) if body.reverse else range(body.n)
    for t in order:
        rows = [x[off + st * t] for x, (off, st) in zip(xs, body.xrows)]
        c, ys = body.run(np.int64(body.index(t)), c, rows, ks)
        c = np.asarray(c, dtype=float)
        for y, (b, off, st) in zip(ys, body.yspec):
            blocks[b][off + st * t] += y
    return np.concatenate([c.ravel()] + [b.ravel() for b in blocks])
