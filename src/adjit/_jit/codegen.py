"""Code generation for `ad.jit`: one numba function from a traced tape.

The tape is a list of `Var`s (arguments, constants, op results), each with a static shape and
dtype. Every op falls in one of a few classes, declared in one table (`OPS` below):

- pointwise ("pw"): elementwise formulas (the registry's `Elementwise.f` strings), `where`,
  comparisons, `clip`, `tril`, `strong_mul`;
- index maps ("ix"): `getitem` (basic indices), `broadcast_to`, `reshape`, `transpose`,
  `scatter_add` (basic indices): output element = input element at a mapped index (or 0);
- reductions ("red"): `sum mean prod max min norm` over any axes;
- `matmul` ("mm": BLAS through np.dot for 1-D/2-D operands held in arrays, as NumPy does,
  else loops), `concatenate` / `stack` ("cat"), `cumsum` ("scan"), `logsumexp softmax
  log_softmax` ("axis"), linear algebra ("lib": numba's np.linalg on contiguous arrays).

Fusion: a value is either *materialized* (an array written by one loop nest, or a scalar
variable for 0-d values) or *inline*: computed where it is used, inside the consumer's loop
body, at the index the consumer asks for (index maps only rewrite that index). A pointwise value
is inlined when that does not make it evaluated noticeably more often than it has elements
(one consumer of the same size, a reduction over it, a slice of it...), so chains of
elementwise ops, slices, broadcasts and scatters become single loops without temporaries, in
the forward and the backward pass alike.
"""
import hashlib

import numpy as np

from ..elementwise import Elementwise
from ..ops import _tr_axes


class Unsupported(Exception):
    """The tape holds an op (or a form of it) the compiler has no template for."""


# ---------------------------------------------------------------------------------------------
# the op table: op name -> class (Elementwise ops are "pw" through their formula)

OPS = {
    "strong_mul": "pw", "where": "pw", "clip": "pw", "tril": "pw",
    "greater": "pw", "greater_equal": "pw", "less": "pw", "less_equal": "pw", "equal": "pw",
    "not_equal": "pw",
    "getitem": "ix", "broadcast_to": "ix", "reshape": "ix", "transpose": "ix",
    "scatter_add": "ix",
    "sum": "red", "mean": "red", "prod": "red", "max": "red", "min": "red", "norm": "red",
    "matmul": "mm", "concatenate": "cat", "stack": "cat", "cumsum": "scan",
    "logsumexp": "axis", "softmax": "axis", "log_softmax": "axis",
    "det": "lib", "inv": "lib", "solve": "lib", "cholesky": "lib", "logabsdet": "lib",
    "index_update": "lib",
}

_CMP = {"greater": ">", "greater_equal": ">=", "less": "<", "less_equal": "<=", "equal": "==",
        "not_equal": "!="}

_NB_TYPES = {"float64": "float64", "float32": "float32", "int64": "int64", "int32": "int32",
             "bool": "boolean", "int8": "int8", "int16": "int16", "uint8": "uint8"}

def op_class(var):
    op = var.op
    if isinstance(op, Elementwise):
        return "pw"
    c = OPS.get(op.name)
    if c is None:
        raise Unsupported(op.name)
    if op.name == "scatter_add" and not _is_basic(var.params["idx"]):
        return "scat"   # np.add.at semantics: repeated indices accumulate
    return c


def _is_basic(idx):
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice))
               and not isinstance(i, (bool, np.bool_)) for i in idx)


def nb_type(dtype):
    t = _NB_TYPES.get(np.dtype(dtype).name)
    if t is None:
        raise Unsupported(f"dtype {np.dtype(dtype)}")
    return t


def lit(value, dtype=None):
    """Source literal for a scalar constant."""
    v = np.asarray(value).reshape(()).item()
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, int):
        return repr(v) if v >= 0 else f"({v})"
    if isinstance(v, float):
        if v != v:
            return "nan"
        if v in (float("inf"), float("-inf")):
            return "inf" if v > 0 else "(-inf)"
        s = repr(v)
        s = s if v >= 0 else f"({s})"
        if dtype is not None and np.dtype(dtype) == np.float32:
            return f"np.float32({s})"
        return s
    raise Unsupported(f"constant of type {type(v).__name__}")


def _prod(shape):
    return int(np.prod(shape)) if shape else 1


# ---------------------------------------------------------------------------------------------
# index expressions (strings)

_AFF = None


def affine(e):
    """(a, var, b) for an index expression a * var + b (var None for a constant), else None."""
    global _AFF
    if _AFF is None:
        import re
        _AFF = re.compile(r"^(?:(-?\d+) \* )?(i\d+)(?: ([+-]) (\d+))?$")
    if e.lstrip("-").isdigit():
        return 0, None, int(e)
    m = _AFF.match(e)
    if m is None:
        return None
    a = int(m.group(1)) if m.group(1) else 1
    b = int(m.group(4)) if m.group(4) else 0
    return a, m.group(2), (-b if m.group(3) == "-" else b)


def render(a, var, b):
    if var is None or a == 0:
        return str(b)
    e = var if a == 1 else f"{a} * {var}"
    return e if b == 0 else (f"{e} + {b}" if b > 0 else f"{e} - {-b}")


def _iadd(e, c):
    if c == 0:
        return e
    p = affine(e)
    if p is not None:
        return render(p[0], p[1], p[2] + c)
    return f"{e} + {c}" if c > 0 else f"{e} - {-c}"


def _imul(e, c):
    if c == 1:
        return e
    p = affine(e)
    if p is not None:
        return render(p[0] * c, p[1], p[2] * c)
    return f"{c} * ({e})"


def _paren(e):
    return e if e.replace("_", "").isalnum() else f"({e})"


def bmap(idx, in_shape, out_shape):
    """Index of a broadcast input for output index idx."""
    off = len(out_shape) - len(in_shape)
    return tuple("0" if in_shape[k] == 1 else idx[off + k] for k in range(len(in_shape)))


def _expand_idx(idx, nd):
    n_real = sum(1 for c in idx if c is not None and c is not Ellipsis)
    fill = (slice(None),) * (nd - n_real)
    for p, c in enumerate(idx):
        if c is Ellipsis:
            return tuple(idx[:p]) + fill + tuple(c2 for c2 in idx[p + 1:] if c2 is not Ellipsis)
    return tuple(idx) + fill


def getitem_map(idx, in_shape, out_idx):
    idx = _expand_idx(idx, len(in_shape))
    res, d, o = [], 0, 0
    for c in idx:
        if c is None:
            o += 1
        elif isinstance(c, slice):
            start, _, step = c.indices(in_shape[d])
            res.append(_iadd(_imul(out_idx[o], step), start))
            d += 1
            o += 1
        else:
            res.append(str(int(c) % in_shape[d]))
            d += 1
    return tuple(res)


def _norm_bool(idx):
    out = []
    for c in idx:
        if isinstance(c, np.ndarray) and c.dtype == bool:
            out.extend(np.nonzero(c))
        else:
            out.append(c)
    return tuple(out)


def getitem_map_adv(idx, in_shape, out_idx, cname):
    """getitem_map for an index with integer arrays (NumPy's advanced indexing): the arrays
    broadcast to one block of output axes, placed where the first of them is when they are
    adjacent, else in front; each becomes a constant index table read at the block's index."""
    nd = len(in_shape)
    idx = _expand_idx(_norm_bool(idx), nd)
    arrays = [p for p, c in enumerate(idx) if isinstance(c, np.ndarray)]
    adv = [p for p, c in enumerate(idx) if isinstance(c, np.ndarray) or
           (c is not None and not isinstance(c, slice))]
    B = np.broadcast_shapes(*[np.shape(idx[p]) for p in adv]) if arrays else ()
    nB = len(B)
    adjacent = adv == list(range(adv[0], adv[-1] + 1))
    res, d, o, block = [], 0, (0 if adjacent else nB), None
    for p, c in enumerate(idx):
        if p in adv:
            if block is None:
                if adjacent:
                    block, o = out_idx[o:o + nB], o + nB
                else:
                    block = out_idx[:nB]
            a = np.asarray(c).astype(np.int64) % in_shape[d]
            if a.ndim == 0:
                res.append(str(int(a)))
            else:
                bi = bmap(block, a.shape, B)
                res.append(f"{cname(a)}[{', '.join(bi)}]")
            d += 1
        elif c is None:
            o += 1
        else:
            start, _, step = c.indices(in_shape[d])
            res.append(_iadd(_imul(out_idx[o], step), start))
            d += 1
            o += 1
    return tuple(res)


def scatter_map(idx, shape, out_idx):
    """Where scatter_add's output element out_idx comes from: (index into g without clamping,
    the same clamped into g's bounds, conditions) or None when the scatter is empty. Conditions
    are (expr, op, value) with op ">=", "<=", "==" or "%" (value (start, step)); the element is
    g[index] where all hold and 0 elsewhere."""
    idx = _expand_idx(idx, len(shape))
    raw, clamped, conds, t = [], [], [], 0
    for c in idx:
        if c is None:
            raw.append("0")
            clamped.append("0")
        elif isinstance(c, slice):
            n = shape[t]
            start, stop, step = c.indices(n)
            L = len(range(start, stop, step))
            i = out_idx[t]
            if L == 0:
                return None
            if step == 1 and start == 0 and L == n:
                raw.append(i)
                clamped.append(i)
            elif step > 0:
                last = start + (L - 1) * step
                if start > 0:
                    conds.append((i, ">=", start))
                if last < n - 1:
                    conds.append((i, "<=", last))
                if step != 1:
                    conds.append((i, "%", (start, step)))
                e = _iadd(i, -start) if step == 1 else f"({_iadd(i, -start)}) // {step}"
                raw.append(e)
                clamped.append(f"min(max({e}, 0), {L - 1})")
            else:
                s = -step
                last = start - (L - 1) * s
                if start < n - 1:
                    conds.append((i, "<=", start))
                if last > 0:
                    conds.append((i, ">=", last))
                if s != 1:
                    conds.append((i, "%", (last, s)))
                e = _iadd(_imul(i, -1), start) if s == 1 else f"({start} - {i}) // {s}"
                raw.append(e)
                clamped.append(f"min(max({e}, 0), {L - 1})")
            t += 1
        else:
            conds.append((out_idx[t], "==", int(c) % shape[t]))
            t += 1
    return tuple(raw), tuple(clamped), conds


def cond_src(c):
    e, op, v = c
    if op == "%":
        return f"({_paren(e)} - {v[0]}) % {v[1]} == 0"
    return f"{e} {op} {v}"


def unravel(j, shape):
    """Multi-index (strings) of flat C-order index j into shape."""
    res, stride = [], _prod(shape)
    for k, n in enumerate(shape):
        stride //= n
        if n == 1:
            res.append("0")
            continue
        q = j if stride == 1 else f"{_paren(j)} // {stride}"
        lead = all(shape[m] == 1 for m in range(k))
        res.append(q if lead else f"({q}) % {n}")
    return tuple(res)


def reshape_map(out_idx, in_shape, out_shape):
    nz_in = [s for s in in_shape if s != 1]
    nz_out = [s for s in out_shape if s != 1]
    if nz_in == nz_out:
        it = iter([out_idx[d] for d, s in enumerate(out_shape) if s != 1])
        return tuple("0" if s == 1 else next(it) for s in in_shape)
    flat = "0"
    for e, s in zip(out_idx, out_shape):
        flat = e if flat == "0" else f"({flat}) * {s} + {e}"
    res, stride = [], 1
    strides = []
    for s in reversed(in_shape):
        strides.append(stride)
        stride *= s
    strides.reverse()
    for s, st in zip(in_shape, strides):
        if s == 1:
            res.append("0")
            continue
        q = flat if st == 1 else f"({flat}) // {st}"
        res.append(q if st * s == stride else f"({q}) % {s}")
    return tuple(res)


# ---------------------------------------------------------------------------------------------
# the generator

class Program:
    """What codegen hands back: module source, kernel signature and the entry's plan."""

    def __init__(self, source, digest, consts, outputs, out_arrays):
        self.source, self.digest, self.consts = source, digest, consts
        self.outputs = outputs          # per output leaf: ("ret", k) / ("out", j) / ("arg", i)
        self.out_arrays = out_arrays    # [(shape, dtype)] of out-parameters


class Gen:
    def __init__(self, trace, arg_ids, out_ids):
        self.vars = list(trace.vars)
        self.guards = trace.guards
        self.arg_ids = list(arg_ids)     # var id per kernel argument (dynamic leaf)
        self.out_ids = out_ids           # var id per traced output leaf (None: not traced)
        self.lines = []
        self.ind = 1
        self.memo = {}
        self.ntemp = 0
        self.nidx = 0
        self.consts = []                 # arrays passed as module globals
        self.name = {}
        self.state = {}
        self.ranges = {}                 # loop variable -> (lo, hi) of the loop being emitted
        self.splits = {}                 # loop variable -> indices where a condition flips
        self.split_ok = True
        self._const_names = {}
        self._pw_used = False

    # -- small helpers -----------------------------------------------------------------------
    def emit(self, line):
        self.lines.append("    " * self.ind + line)

    def temp(self, expr):
        t = f"t{self.ntemp}"
        self.ntemp += 1
        self.emit(f"{t} = {expr}")
        return t

    def new_index(self):
        i = f"i{self.nidx}"
        self.nidx += 1
        return i

    def add_const(self, value):
        value = np.asarray(value)
        from .trace import Var
        v = Var(len(self.vars), "const", value.shape, value.dtype, value=value)
        self.vars.append(v)
        self._classify_const(v)
        return v.id

    def scope(self):
        saved = self.memo
        self.memo = dict(saved)
        return saved

    # -- loops -------------------------------------------------------------------------------
    def loop_nest(self, shape, body):
        """Emit loops over shape with body(idx) innermost (unit dims get index "0"). A loop is
        split where a scatter's condition on its index changes value (found by a dry run), so
        each piece runs without per-element tests or clamped indices, and can vectorize."""
        names = [None if n == 1 else self.new_index() for n in shape]
        segs = {}
        if any(n is not None for n in names) and self.split_ok:
            for n, m in zip(names, shape):
                if n is not None:
                    self.ranges[n] = (0, m)
            mark, saved, ind = len(self.lines), self.memo, self.ind
            self.memo = dict(saved)
            self._nest(names, shape, 0, (), body, {})
            del self.lines[mark:]
            self.memo, self.ind = saved, ind
            total = 1
            for n, m in zip(names, shape):
                if n is None:
                    continue
                cuts = sorted(t for t in self.splits.get(n, ()) if 0 < t < m)
                if cuts and total * (len(cuts) + 1) <= 16:
                    segs[n] = cuts
                    total *= len(cuts) + 1
        self._nest(names, shape, 0, (), body, segs)

    def _nest(self, names, shape, d, idx, body, segs):
        if d == len(shape):
            saved = self.scope()
            body(idx)
            self.memo = saved
            return
        n, m = names[d], shape[d]
        if n is None:
            self._nest(names, shape, d + 1, idx + ("0",), body, segs)
            return
        cuts = [0] + segs.get(n, []) + [m]
        for lo, hi in zip(cuts, cuts[1:]):
            saved = self.scope()
            if hi - lo == 1 and len(cuts) > 2:
                self._nest(names, shape, d + 1, idx + (str(lo),), body, segs)
            else:
                self.emit(f"for {n} in range({hi}):" if lo == 0 else
                          f"for {n} in range({lo}, {hi}):")
                self.ind += 1
                self.ranges[n] = (lo, hi)
                self._nest(names, shape, d + 1, idx + (n,), body, segs)
                self.ranges[n] = (0, m)
                self.ind -= 1
            self.memo = saved

    def static_cond(self, c):
        """True / False when condition c holds / fails on the whole current loop range, else
        None (and the enclosing loop is asked to split where it changes)."""
        e, op, v = c
        p = affine(e)
        if p is None:
            return None
        a, var, b = p
        if var is None or a == 0:
            lo = hi = b
        else:
            r = self.ranges.get(var)
            if r is None:
                return None
            lo, hi = (a * r[0] + b, a * (r[1] - 1) + b) if a > 0 else \
                     (a * (r[1] - 1) + b, a * r[0] + b)
        if op == "%":
            return (lo - v[0]) % v[1] == 0 if lo == hi else None
        if op == "==":
            if lo == hi:
                return lo == v
            if v < lo or v > hi:
                return False
            if a == 1:
                self.splits.setdefault(var, set()).update((v - b, v - b + 1))
            return None
        if op == ">=":
            if lo >= v:
                return True
            if hi < v:
                return False
            cut = -((b - v) // a) if a > 0 else None   # first i with a*i + b >= v
        else:
            if hi <= v:
                return True
            if lo > v:
                return False
            cut = (v - b) // a + 1 if a > 0 else None  # first i with a*i + b > v
        if cut is not None:
            self.splits.setdefault(var, set()).add(cut)
        return None

    def _classify_const(self, v):
        a = np.asarray(v.value)
        if a.dtype.kind not in "biuf":
            raise Unsupported(f"constant of dtype {a.dtype}")
        if a.size == 0:
            self.state[v.id] = "carray"
        elif a.size == 1 or (a.dtype.kind != "f" or not np.isnan(a).any()) and \
                np.all(a == a.flat[0]):
            self.state[v.id] = "fill"
            self.name[v.id] = lit(a.flat[0], a.dtype)
            return
        else:
            self.state[v.id] = "carray"
        self.name[v.id] = f"_c{len(self.consts)}"
        self.consts.append(np.ascontiguousarray(a))

    def analyse(self):
        vs = self.vars
        roots = [i for i in self.out_ids if i is not None] + [g[0] for g in self.guards]
        live = set()
        stack = list(roots)
        while stack:
            i = stack.pop()
            if i in live:
                continue
            live.add(i)
            v = vs[i]
            stack.extend(v.inputs)
            stack.extend(v.tparams.values())
        self.live = live
        self.cls = {}
        for i in sorted(live):
            v = vs[i]
            if v.kind == "op":
                self.cls[i] = op_class(v)
                nb_type(v.dtype)
        # static array params become constants the kernel reads
        for i in sorted(live):
            v = vs[i]
            if v.kind != "op":
                continue
            if v.op.name == "where" and "cond" not in v.tparams:
                v.tparams = dict(v.tparams, cond=self.add_const(np.asarray(v.params["cond"])))
            if v.op.name == "clip":
                for k in ("lo", "hi"):
                    if v.params.get(k) is not None and np.ndim(v.params[k]) > 0:
                        v.tparams = dict(v.tparams, **{k: self.add_const(v.params[k])})
        self.consumers = {i: [] for i in range(len(vs))}
        for i in sorted(live):
            v = vs[i]
            if v.kind == "op":
                for j in list(v.inputs) + list(v.tparams.values()):
                    self.consumers[j].append(i)
        forced = set(self.out_ids[k] for k in range(len(self.out_ids))
                     if self.out_ids[k] is not None)
        forced |= {g[0] for g in self.guards}
        # decide, consumers first
        E = {}
        for i in sorted(live, reverse=True):
            v = vs[i]
            if v.kind == "arg":
                self.state[i] = "scalar" if v.shape == () else "array"
                self.name[i] = f"a{self.arg_ids.index(i)}" if i in self.arg_ids else None
                continue
            if v.kind == "const":
                self._classify_const(v)
                continue
            c = self.cls[i]
            e = 0
            must = i in forced or c not in ("pw", "ix")
            for u in self.consumers[i]:
                cu = self.cls[u]
                vu = vs[u]
                if cu == "lib" or cu == "axis" or cu == "scan":
                    must = True
                elif cu == "mm":
                    a, b = vu.inputs
                    k = vs[a].shape[-1] if vs[a].shape else 1
                    e += _prod(vu.shape) * k
                elif cu in ("red", "cat", "scat"):
                    e += v.size
                elif self.state.get(u) == "inline":
                    e += E[u]
                else:
                    e += vu.size
            E[i] = e
            if v.shape == ():
                self.state[i] = "scalar"
                self.name[i] = f"v{i}"
            elif must or (c == "pw" and e > 1.25 * v.size + 16):
                self.state[i] = "array"
                self.name[i] = f"v{i}"
            else:
                self.state[i] = "inline"

    # -- values inside loop bodies -----------------------------------------------------------
    def val(self, i, idx):
        st = self.state[i]
        if st in ("scalar", "fill"):
            return self.name[i]
        key = (i, idx)
        r = self.memo.get(key)
        if r is not None:
            return r
        if st in ("array", "carray"):
            r = self.temp(f"{self.name[i]}[{', '.join(idx)}]" if idx else f"{self.name[i]}[()]")
        else:
            r = self.compute(i, idx)
        self.memo[key] = r
        return r

    def compute(self, i, idx):
        """Emit the statements for element idx of op var i; returns its expression."""
        v = self.vars[i]
        op = v.op
        name = op.name
        ins = v.inputs
        vs = self.vars
        if isinstance(op, Elementwise):
            args = [self.val(j, bmap(idx, vs[j].shape, v.shape)) for j in ins]
            if v.dtype == np.float64 and all(vs[j].dtype == np.float64 for j in ins):
                r = _peephole(name, args)
                if r is not None:
                    return r if _num(r) is not None or r in args else self.temp(r)
            expr = _subst(op.f, op.args, args)
            return self.temp(_cast(expr, v.dtype))
        if name == "strong_mul":
            a, b = (self.val(j, bmap(idx, vs[j].shape, v.shape)) for j in ins)
            na, nb = _num(a), _num(b)
            if na == 0.0:
                return "0.0"
            if na is not None or (nb is not None and np.isfinite(nb)):
                # a * b already is 0 where a == 0 (the strong zero only matters for inf/nan b)
                r = _peephole("mul", [a, b]) if v.dtype == np.float64 and all(
                    vs[j].dtype == np.float64 for j in ins) else None
                return r if r is not None and (_num(r) is not None or r in (a, b)) else \
                    self.temp(r or f"{a} * {b}")
            return self.temp(f"0.0 if {a} == 0.0 else {a} * {b}")
        if name in _CMP:
            a, b = (self.val(j, bmap(idx, vs[j].shape, v.shape)) for j in ins)
            return self.temp(f"{a} {_CMP[name]} {b}")
        if name == "where":
            a, b = (self.val(j, bmap(idx, vs[j].shape, v.shape)) for j in ins)
            c = v.tparams["cond"]
            cv = self.val(c, bmap(idx, vs[c].shape, v.shape))
            return self.temp(_cast(f"{a} if {cv} else {b}", v.dtype))
        if name == "clip":
            x = self.val(ins[0], bmap(idx, vs[ins[0]].shape, v.shape))
            e = x
            for k, f in (("lo", "max"), ("hi", "min")):
                if k in v.tparams:
                    j = v.tparams[k]
                    e = f"{f}({e}, {self.val(j, bmap(idx, vs[j].shape, v.shape))})"
                elif v.params.get(k) is not None:
                    e = f"{f}({e}, {lit(v.params[k])})"
            return self.temp(_cast(e, v.dtype))
        if name == "tril":
            x = self.val(ins[0], idx)
            k = int(v.params.get("k", 0))
            return self.temp(f"{x} if {idx[-1]} - {idx[-2]} <= {k} else 0.0")
        # index maps
        x = ins[0]
        xs = vs[x].shape
        if name == "getitem":
            ix = v.params["idx"]
            if _is_basic(ix):
                return self.val(x, getitem_map(ix, xs, idx))
            return self.val(x, getitem_map_adv(ix, xs, idx, self.index_const))
        if name == "broadcast_to":
            return self.val(x, bmap(idx, xs, v.shape))
        if name == "reshape":
            return self.val(x, reshape_map(idx, xs, v.shape))
        if name == "transpose":
            axes = _tr_axes(len(xs), v.params.get("axes"))
            src = [None] * len(xs)
            for d, a in enumerate(axes):
                src[a] = idx[d]
            return self.val(x, tuple(src))
        if name == "scatter_add":
            m = scatter_map(v.params["idx"], v.shape, idx)
            if m is None:
                return "0.0"
            raw, clamped, conds = m
            unknown = []
            for c in conds:
                st = self.static_cond(c)
                if st is False:
                    return "0.0"
                if st is None:
                    unknown.append(c)
            if not unknown:
                return self.val(x, raw)
            t = self.val(x, clamped)
            return self.temp(f"{t} if {' and '.join(cond_src(c) for c in unknown)} else 0.0")
        raise Unsupported(name)  # pragma: no cover - op_class screens

    # -- materialized values -----------------------------------------------------------------
    def alloc(self, i):
        v = self.vars[i]
        if self.name[i].startswith("o"):
            return
        self.emit(f"{self.name[i]} = np.empty({v.shape!r}, np.{v.dtype.name})")

    def produce(self, i):
        v = self.vars[i]
        c = self.cls[i]
        nm = self.name[i]
        if c in ("pw", "ix"):
            if v.shape == ():
                self.emit(f"{nm} = {self.val_top(i)}")
                return
            self.alloc(i)
            self.loop_store(i, nm)
            return
        getattr(self, "p_" + c)(i, v, nm)

    def val_top(self, i):
        saved = self.scope()
        r = self.compute(i, ())
        self.memo = saved
        return r

    def loop_store(self, i, nm):
        v = self.vars[i]
        if v.size == 0:
            return

        def body(idx):
            r = self.compute(i, idx)
            self.emit(f"{nm}[{', '.join(idx)}] = {r}")
        self.loop_nest(v.shape, body)

    def p_red(self, i, v, nm):
        name = v.op.name
        x = v.inputs[0]
        xv = self.vars[x]
        xs = xv.shape
        nd = len(xs)
        axis = v.params.get("axis")
        keep = v.params.get("keepdims", False)
        if axis is None:
            axes = set(range(nd))
        else:
            axes = {int(a) % nd for a in ((axis,) if np.ndim(axis) == 0 else axis)}
        count = _prod([xs[a] for a in axes])
        isf = v.dtype.kind == "f"
        init = {"sum": "0.0" if isf else "0", "mean": "0.0", "norm": "0.0",
                "prod": "1.0" if isf else "1", "max": "-inf" if isf else None,
                "min": "inf" if isf else None}[name]
        if v.dtype.kind == "b":
            init = "False" if name == "max" else "True"
        elif init is None:
            init = lit(np.iinfo(v.dtype).min if name == "max" else np.iinfo(v.dtype).max)

        def acc(a, t):
            if xv.dtype.kind == "b" and name not in ("max", "min"):
                t = f"(1 if {t} else 0)"
            if name in ("sum", "mean"):
                return f"{a} + {t}"
            if name == "norm":
                return f"{a} + {t} * {t}"
            if name == "prod":
                return f"{a} * {t}"
            if name == "max":
                return f"{t} if ({t} > {a} or {t} != {t}) else {a}"
            return f"{t} if ({t} < {a} or {t} != {t}) else {a}"

        def post(a):
            if name == "mean":
                return f"{a} / {count}"
            if name == "norm":
                return f"sqrt({a})"
            return a

        outer = [d for d in range(nd) if d not in axes]
        if v.shape != ():
            self.alloc(i)
        a = f"acc{i}"
        if outer == list(range(len(outer))):
            # reduced axes trailing: a scalar accumulator per output element
            ishape = tuple(xs[d] for d in range(len(outer), nd))
            pairwise = name in ("sum", "mean", "norm") and isf and xv.dtype.kind == "f" \
                and count >= 8

            def obody(oidx):
                if pairwise:
                    self.pairwise_sum(a, count, lambda j: self.val(
                        x, tuple(oidx) + unravel(j, ishape)), square=name == "norm")
                else:
                    self.emit(f"{a} = {init}")

                    def ibody(iidx):
                        self.emit(f"{a} = {acc(a, self.val(x, tuple(oidx) + tuple(iidx)))}")
                    self.loop_nest(ishape, ibody)
                if v.shape == ():
                    self.emit(f"{nm} = {post(a)}")
                else:
                    if keep:
                        it = iter(oidx)
                        oi = tuple("0" if d in axes else next(it) for d in range(nd))
                    else:
                        oi = tuple(oidx)
                    self.emit(f"{nm}[{', '.join(oi)}] = {post(a)}")
            self.loop_nest(tuple(xs[d] for d in outer), obody)
            return
        # general: accumulate into the output array in input order
        self.emit(f"{nm}[:] = {init}")

        def body(idx):
            t = self.val(x, idx)
            if keep:
                oi = tuple("0" if d in axes else idx[d] for d in range(nd))
            else:
                oi = tuple(idx[d] for d in outer)
            ref = f"{nm}[{', '.join(oi)}]"
            self.emit(f"{ref} = {acc(ref, t)}")
        self.loop_nest(xs, body)
        if name in ("mean", "norm"):
            def pbody(oidx):
                ref = f"{nm}[{', '.join(oidx)}]"
                self.emit(f"{ref} = {post(ref)}")
            self.loop_nest(v.shape, pbody)

    def pairwise_sum(self, res, n, elem, square=False):
        """res = the sum of elem(j), j < n, added in NumPy's order (pairwise: blocks of at
        most 128 summed with 8 interleaved accumulators, blocks combined as a binary tree), so
        compiled sums equal eager ones bit for bit, and the 8 chains pipeline."""
        plan = []

        def walk(s, m):
            if m <= 128:
                plan.append((s, m))
                return
            m2 = m // 2
            m2 -= m2 % 8
            walk(s, m2)
            walk(s + m2, m - m2)
            plan.append((0, 0))    # combine the top two partial sums
        walk(0, n)
        self._pw_used = True
        table = self.index_const(np.array(plan, dtype=np.int64))

        def sq(t):
            return f"{t} * {t}" if square else t
        q, sp, st, ln, L8 = (self.new_index() for _ in range(5))
        self.emit(f"{sp} = 0")
        self.emit(f"for {q} in range({len(plan)}):")
        self.ind += 1
        self.emit(f"{st} = {table}[{q}, 0]")
        self.emit(f"{ln} = {table}[{q}, 1]")
        self.emit(f"if {ln} == 0:")
        self.emit(f"    {sp} -= 1")
        self.emit(f"    _pws[{sp} - 1] = _pws[{sp} - 1] + _pws[{sp}]")
        self.emit("else:")
        self.ind += 1
        self.emit(f"{L8} = {st} + {ln} - {ln} % 8")
        j = self.new_index()
        # size of one element's code: small bodies are unrolled 8 times (register accumulators)
        mark, saved = len(self.lines), self.scope()
        elem(j)
        size = len(self.lines) - mark
        del self.lines[mark:]
        self.memo = saved
        if size <= 24:
            r = [f"{res}_{k}" for k in range(8)]
            for k in range(8):
                self.emit(f"{r[k]} = 0.0")
            self.emit(f"for {j} in range({st}, {L8}, 8):")
            self.ind += 1
            for k in range(8):
                saved = self.scope()
                t = elem(_iadd(j, k))
                self.emit(f"{r[k]} += {sq(t)}")
                self.memo = saved
            self.ind -= 1
            self.emit(f"{res} = (({r[0]} + {r[1]}) + ({r[2]} + {r[3]})) + "
                      f"(({r[4]} + {r[5]}) + ({r[6]} + {r[7]}))")
        else:
            self.emit("_pwr[:] = 0.0")
            saved = self.scope()
            self.emit(f"for {j} in range({st}, {L8}):")
            self.ind += 1
            t = elem(j)
            self.emit(f"_pwr[({j} - {st}) & 7] += {sq(t)}")
            self.ind -= 1
            self.memo = saved
            self.emit(f"{res} = ((_pwr[0] + _pwr[1]) + (_pwr[2] + _pwr[3])) + "
                      "((_pwr[4] + _pwr[5]) + (_pwr[6] + _pwr[7]))")
        saved = self.scope()
        self.emit(f"for {j} in range({L8}, {st} + {ln}):")
        self.ind += 1
        t = elem(j)
        self.emit(f"{res} += {sq(t)}")
        self.ind -= 1
        self.memo = saved
        self.emit(f"_pws[{sp}] = {res}")
        self.emit(f"{sp} += 1")
        self.ind -= 2
        self.emit(f"{res} = _pws[0]")

    def blas_ref(self, j):
        """An array expression numba's np.dot takes for var j (contiguous, possibly a
        transposed view), or None."""
        st = self.state.get(j)
        v = self.vars[j]
        if v.dtype != np.float64 or len(v.shape) not in (1, 2) or 0 in v.shape:
            return None
        if st in ("array", "carray"):
            return self.name[j]
        if st == "fill":
            return self.arr(j)
        if st == "inline" and v.op.name == "transpose" and len(v.shape) == 2:
            r = self.blas_ref(v.inputs[0])
            return None if r is None or r.endswith(".T") else f"{r}.T"
        return self.view_ref(j)

    def view_ref(self, j):
        """A C-contiguous array expression for var j: its array, or a reshape view of one."""
        st = self.state.get(j)
        if st in ("array", "carray"):
            return self.name[j]
        v = self.vars[j]
        if st == "inline" and _same_order(v, self.vars[v.inputs[0]]):
            r = self.view_ref(v.inputs[0])
            return None if r is None else f"{r}.reshape({v.shape!r})"
        return None

    def p_mm(self, i, v, nm):
        a, b = v.inputs
        sa, sb, so = self.vars[a].shape, self.vars[b].shape, v.shape
        K = sa[-1]
        ra, rb = self.blas_ref(a), self.blas_ref(b)
        if ra is not None and rb is not None and v.dtype == np.float64:
            # BLAS, as NumPy's matmul: the same sums in the same order, bit for bit
            if v.shape == ():
                self.emit(f"{nm} = np.dot({ra}, {rb})")
            else:
                self.alloc(i)
                self.emit(f"np.dot({ra}, {rb}, {nm})")
            return
        if v.shape != ():
            self.alloc(i)
        acc = f"acc{i}"

        def body(oidx):
            if len(sa) == 1 and len(sb) == 1:
                ai, bi, batch = (), (), ()
            elif len(sa) == 1:
                batch, ai, bi = oidx[:-1], (), (oidx[-1],)
            elif len(sb) == 1:
                batch, ai, bi = oidx[:-1], (oidx[-1],), ()
            else:
                batch, ai, bi = oidx[:-2], (oidx[-2],), (oidx[-1],)
            ab = bmap(batch, sa[:-2], so[:len(batch)]) if len(sa) > 2 else ()
            bb = bmap(batch, sb[:-2], so[:len(batch)]) if len(sb) > 2 else ()
            self.emit(f"{acc} = 0.0")

            def kbody(kidx):
                k = kidx[0]
                av = self.val(a, (k,) if len(sa) == 1 else ab + ai + (k,))
                bv = self.val(b, (k,) if len(sb) == 1 else bb + (k,) + bi)
                self.emit(f"{acc} += {av} * {bv}")
            self.loop_nest((K,), kbody)
            if v.shape == ():
                self.emit(f"{nm} = {acc}")
            else:
                self.emit(f"{nm}[{', '.join(oidx)}] = {acc}")
        self.loop_nest(so, body)

    def p_cat(self, i, v, nm):
        axis = int(v.params.get("axis", 0))
        nd = len(v.shape)
        ax = axis % nd
        self.alloc(i)
        off = 0
        for j in v.inputs:
            xs = self.vars[j].shape
            if _prod(xs) == 0:
                continue

            def body(idx, j=j, off=off):
                oi = list(idx)
                if v.op.name == "concatenate":
                    oi[ax] = _iadd(idx[ax], off)
                else:
                    oi.insert(ax, str(off))
                self.emit(f"{nm}[{', '.join(oi)}] = {self.val(j, idx)}")
            self.loop_nest(xs, body)
            off += xs[ax] if v.op.name == "concatenate" else 1

    def p_scan(self, i, v, nm):
        x = v.inputs[0]
        xs = self.vars[x].shape
        axis = v.params.get("axis")
        self.alloc(i)
        acc = f"acc{i}"
        zero = "0.0" if v.dtype.kind == "f" else "0"
        if axis is None:  # over the flattened input: the output is 1-D
            self.emit(f"{acc} = {zero}")

            def body(idx):
                self.emit(f"{acc} += {self.val(x, idx)}")
                flat = "0"
                for e, s in zip(idx, xs):
                    flat = e if flat == "0" else f"({flat}) * {s} + {e}"
                self.emit(f"{nm}[{flat}] = {acc}")
            self.split_ok, ok = False, self.split_ok
            self.loop_nest(xs, body)
            self.split_ok = ok
            return
        nd = len(xs)
        ax = int(axis) % nd

        def obody(oidx):
            self.emit(f"{acc} = {zero}")

            def kbody(kidx):
                full = list(oidx)
                full.insert(ax, kidx[0])
                self.emit(f"{acc} += {self.val(x, tuple(full))}")
                self.emit(f"{nm}[{', '.join(full)}] = {acc}")
            self.loop_nest((xs[ax],), kbody)
        self.loop_nest(tuple(xs[d] for d in range(nd) if d != ax), obody)

    def p_axis(self, i, v, nm):
        """logsumexp / softmax / log_softmax along axes: max, then sum of exp, per outer index."""
        name = v.op.name
        x = v.inputs[0]
        xs = self.vars[x].shape
        nd = len(xs)
        axis = v.params.get("axis", -1 if name != "logsumexp" else None)
        axes = set(range(nd)) if axis is None else \
            {int(a) % nd for a in ((axis,) if np.ndim(axis) == 0 else axis)}
        outer = [d for d in range(nd) if d not in axes]
        ishape = tuple(xs[d] for d in range(nd) if d in axes)
        if v.shape != ():
            self.alloc(i)
        m, s = f"m{i}", f"s{i}"

        def obody(oidx):
            def full(iidx):
                r, it, jt = [], iter(oidx), iter(iidx)
                for d in range(nd):
                    r.append(next(jt) if d in axes else next(it))
                return tuple(r)

            def mbody(iidx):
                t = self.val(x, full(iidx))
                self.emit(f"{m} = {t} if {t} > {m} else {m}")

            def sbody(iidx):
                self.emit(f"{s} += exp({self.val(x, full(iidx))} - {m})")

            self.emit(f"{m} = -inf")
            self.loop_nest(ishape, mbody)
            self.emit(f"if not ({m} > -inf and {m} < inf): {m} = 0.0")
            self.emit(f"{s} = 0.0")
            self.loop_nest(ishape, sbody)
            if name == "logsumexp":
                r = f"log({s}) + {m}"
                if v.shape == ():
                    self.emit(f"{nm} = {r}")
                    return
                if v.params.get("keepdims", False):
                    it = iter(oidx)
                    oi = tuple("0" if d in axes else next(it) for d in range(nd))
                else:
                    oi = tuple(oidx)
                self.emit(f"{nm}[{', '.join(oi)}] = {r}")
                return
            if name == "log_softmax":
                self.emit(f"{s} = log({s}) + {m}")

            def wbody(iidx):
                fi = full(iidx)
                t = self.val(x, fi)
                r = f"exp({t} - {m}) / {s}" if name == "softmax" else f"{t} - {s}"
                self.emit(f"{nm}[{', '.join(fi)}] = {r}")
            self.loop_nest(ishape, wbody)
        self.loop_nest(tuple(xs[d] for d in outer), obody)

    def arr(self, j):
        """Name of an array holding var j (materialized, argument or constant)."""
        st = self.state[j]
        if st in ("array", "carray"):
            return self.name[j]
        if st == "fill":
            v = self.vars[j]
            a = np.full(v.shape, np.asarray(v.value).flat[0], dtype=v.dtype)
            return self.index_const(a)
        raise Unsupported(f"an array input in state {st}")  # pragma: no cover

    def index_const(self, a):
        """Module-global name of a constant array (index tables, filled arrays)."""
        a = np.ascontiguousarray(a)
        key = (a.shape, a.dtype.str, a.tobytes())
        nm = self._const_names.get(key)
        if nm is None:
            nm = f"_c{len(self.consts)}"
            self.consts.append(a)
            self._const_names[key] = nm
        return nm

    def p_scat(self, i, v, nm):
        """scatter_add with integer-array indices: zeros, then out[idx[j]] += g[j]."""
        g = v.inputs[0]
        self.alloc(i)
        self.emit(f"{nm}[:] = 0")

        def body(gidx):
            tgt = getitem_map_adv(v.params["idx"], v.shape, gidx, self.index_const)
            ref = f"{nm}[{', '.join(tgt)}]"
            self.emit(f"{ref} = {ref} + {self.val(g, gidx)}")
        self.loop_nest(self.vars[g].shape, body)

    def p_lib(self, i, v, nm):
        name = v.op.name
        shapes = [self.vars[j].shape for j in v.inputs]
        if name == "index_update":
            x, val_ = v.inputs
            self.alloc(i)
            self.loop_nest(v.shape, lambda idx: self.emit(
                f"{nm}[{', '.join(idx)}] = {self.val(x, idx)}"))
            # then the region, as a getitem view of the output
            region = np.empty(v.shape)[v.params["idx"]].shape
            vs = self.vars[val_].shape

            def body(idx):
                tgt = getitem_map(v.params["idx"], v.shape, idx)
                self.emit(f"{nm}[{', '.join(tgt)}] = {self.val(val_, bmap(idx, vs, region))}")
            self.loop_nest(region, body)
            return
        ins = [self.arr(j) for j in v.inputs]
        vec = name == "solve" and len(shapes[1]) == 1
        call = {"det": "np.linalg.det({0})", "inv": "np.linalg.inv({0})",
                "cholesky": "np.linalg.cholesky({0})",
                "logabsdet": "np.linalg.slogdet({0})[1]",
                "solve": "np.linalg.solve({0}, {1})"}[name]
        core = {"det": 0, "logabsdet": 0, "inv": 2, "cholesky": 2,
                "solve": 1 if vec else 2}[name]
        bshape = v.shape[:len(v.shape) - core]
        if not bshape:
            c = call.format(*ins)
            if v.shape == ():
                self.emit(f"{nm} = {c}")
            elif nm.startswith("o"):
                self.emit(f"{nm}[{', '.join([':'] * core)}] = {c}")
            else:
                self.emit(f"{nm} = {c}")
            return
        # a batch of matrices: one call per matrix, on contiguous 2-D views
        self.alloc(i)

        def body(bidx):
            views = []
            for j, s_ in zip(ins, shapes):
                m = 1 if (vec and j == ins[1]) else 2
                bi = bmap(bidx, s_[:len(s_) - m], bshape)
                views.append(f"{j}[{', '.join(bi)}]" if bi else j)
            tgt = ", ".join(list(bidx) + [":"] * core)
            self.emit(f"{nm}[{tgt}] = {call.format(*views)}")
        self.split_ok, ok = False, self.split_ok
        self.loop_nest(bshape, body)
        self.split_ok = ok

    # -- guards and the whole kernel ---------------------------------------------------------
    def scalar_ref(self, i):
        v = self.vars[i]
        if v.shape == ():
            return self.name[i]
        return f"{self.name[i]}[{', '.join(['0'] * len(v.shape))}]"

    def generate(self, arg_vals):
        self.analyse()
        vs = self.vars
        # outputs: 0-d values are returned, arrays written into out-parameters
        outputs, rets, outs = [], [], []
        for k, i in enumerate(self.out_ids):
            if i is None:
                outputs.append(("py", k))
                continue
            v = vs[i]
            if v.kind == "arg":
                outputs.append(("arg", self.arg_ids.index(i)))
            elif v.kind == "const":
                outputs.append(("const", k))
            elif v.shape == ():
                if i not in rets:
                    rets.append(i)
                outputs.append(("ret", rets.index(i)))
            else:
                if i not in outs:
                    outs.append(i)
                    self.name[i] = f"o{outs.index(i)}"
                outputs.append(("out", outs.index(i)))
        # header: shapes and static values are guarded
        params = [f"a{k}" for k in range(len(self.arg_ids))] + [f"o{j}" for j in range(len(outs))]
        for k, i in enumerate(self.arg_ids):
            a = arg_vals[k]
            if i is None:   # a static int / bool: part of the signature, checked by value
                self.emit(f"if a{k} != {lit(a)}: raise GuardFailure")
                continue
            v = vs[i]
            if isinstance(a, np.ndarray):
                if v.shape == ():
                    self.emit(f"v{i} = a{k}[()]")
                    self.state[i], self.name[i] = "scalar", f"v{i}"
                else:
                    cond = " or ".join(f"a{k}.shape[{d}] != {s}" for d, s in enumerate(v.shape))
                    self.emit(f"if {cond}: raise GuardFailure")
        head = len(self.lines)
        guards = {}
        for gi, (i, kind, expected) in enumerate(self.guards):
            guards.setdefault(i, []).append((kind, expected))
        for i in sorted(self.live):
            v = vs[i]
            if v.kind == "op" and self.state[i] != "inline":
                self.produce(i)
            for kind, expected in guards.get(i, ()):
                ref = self.scalar_ref(i)
                if kind == "bool":
                    self.emit(f"if ({ref} != 0) != {bool(expected)}: raise GuardFailure")
                else:
                    self.emit(f"if {ref} != {lit(expected)}: raise GuardFailure")
        if self._pw_used:   # scratch of the pairwise sums
            self.lines.insert(head, "    _pwr = np.empty(8)\n    _pws = np.empty(64)")
        if rets:
            self.emit("return " + ", ".join(self.name[i] for i in rets))
        # signature
        sig_args = []
        for k, i in enumerate(self.arg_ids):
            a = arg_vals[k]
            if i is None:
                sig_args.append("boolean" if isinstance(a, (bool, np.bool_)) else
                                nb_type(np.asarray(a).dtype))
                continue
            v = vs[i]
            if isinstance(a, np.ndarray):
                sig_args.append(f"Array({nb_type(v.dtype)}, {len(v.shape)}, 'C')")
            else:
                sig_args.append(nb_type(v.dtype))
        for i in outs:
            sig_args.append(f"Array({nb_type(vs[i].dtype)}, {len(vs[i].shape)}, 'C')")
        if len(rets) == 1:
            ret = nb_type(vs[rets[0]].dtype)
        elif rets:
            ret = f"Tuple(({', '.join(nb_type(vs[i].dtype) for i in rets)}))"
        else:
            ret = "none"
        sig = f"{ret}({', '.join(sig_args)})"
        body = "\n".join(self.lines) if self.lines else "    pass"
        consts_src = "".join(f"_c{k} = _CONSTS[{k}]\n" for k in range(len(self.consts)))
        src = (f"@njit({sig!r}, cache=True, error_model='numpy', nogil=True)\n"
               f"def kernel({', '.join(params)}):\n{body}\n")
        h = hashlib.sha1(src.encode())
        for c in self.consts:
            h.update(str((c.shape, c.dtype.str)).encode())
            h.update(c.tobytes())
        digest = h.hexdigest()[:16]
        full = ("# Generated by adjit.jit. Do not edit.\n"
                "from adjit._jit.rt import *\n"
                "from adjit._jit.rt import _load_consts\n"
                f"_CONSTS = _load_consts(__file__)\n{consts_src}\n{src}")
        return Program(full, digest, self.consts, outputs,
                       [(vs[i].shape, vs[i].dtype) for i in outs])


def _same_order(v, x):
    """True when index-map op v only regroups x's elements in C order (a reshape view)."""
    if v.op is None or v.size != x.size:
        return False
    if v.op.name in ("reshape", "broadcast_to"):
        return True
    if v.op.name == "getitem" and _is_basic(v.params["idx"]):
        idx = _expand_idx(v.params["idx"], len(x.shape))
        d = 0
        for c in idx:
            if c is None:
                continue
            n = x.shape[d]
            d += 1
            if isinstance(c, slice):
                if c.indices(n) != (0, n, 1):
                    return False
            elif n != 1:
                return False
        return True
    return False


def _num(e):
    """The value of a numeric literal expression, else None."""
    e = e.strip()
    while e.startswith("(") and e.endswith(")"):
        e = e[1:-1].strip()
    try:
        return float(e)
    except ValueError:
        return None


def _peephole(name, args):
    """Simplify arithmetic with a literal operand (x * 1, x + 0, x ** 1, x ** 2 ...); None when
    nothing applies. Exact in IEEE arithmetic up to the sign of a zero."""
    if len(args) != 2:
        return None
    a, b = args
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        if name in ("add", "sub", "mul"):
            return lit({"add": na + nb, "sub": na - nb, "mul": na * nb}[name])
        return None
    if name == "mul":
        for x, n in ((b, na), (a, nb)):
            if n == 1.0:
                return x
            if n == -1.0:
                return f"-{_paren(x)}"
    elif name == "add":
        if na == 0.0:
            return b
        if nb == 0.0:
            return a
    elif name == "sub":
        if nb == 0.0:
            return a
        if na == 0.0:
            return f"-{_paren(b)}"
    elif name == "div":
        if nb == 1.0:
            return a
    elif name == "pow":
        if nb == 1.0:
            return a
        if nb == 2.0:
            return f"{_paren(a)} * {_paren(a)}"
        if nb == 0.0:
            return "1.0"
    return None


def _subst(formula, names, args):
    import re
    m = dict(zip(names, args))
    return re.sub(r"\b(" + "|".join(names) + r")\b", lambda mo: _paren(m[mo.group(1)]), formula)


def _cast(expr, dtype):
    if dtype == np.float32:
        return f"np.float32({expr})"
    return expr
