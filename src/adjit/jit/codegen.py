"""Code generation for `ad.jit`: one numba function from a traced tape.

The tape is a list of `Var`s (arguments, constants, op results), each with a static shape and
dtype. Every op falls in one of a few classes, declared on its row (`op.lower`, with the per-op
data the class needs in `op.jit`; see lowering.py):

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

from ..ops.elementwise import Elementwise
from . import complexlower
from .cache import runtime_stamp
from .diagmm import DiagProducts, diag_read
from .fftlower import FftProducts
from .exprs import bmap, cast, eq_guard, num, peephole, subst
from .indexmaps import IndexMaps
from .loopgen import LoopProducer, loop_view
from .lowering import SUPPORTED_DTYPES, Unsupported, lit, nb_type, op_class, prod_of
from .parloops import ParallelLoops
from .producers import Producers
from .trace import Var

# ---------------------------------------------------------------------------------------------
# the generator

class Program:
    """What codegen hands back: module source, kernel signature and the entry's plan."""

    def __init__(self, source, digest, consts, outputs, out_arrays, ret_dtypes=()):
        self.source, self.digest, self.consts = source, digest, consts
        self.ret_dtypes = list(ret_dtypes)   # dtype per returned scalar
        self.outputs = outputs          # per output leaf: ("ret", k) / ("out", j) / ("arg", i)
        self.out_arrays = out_arrays    # [(shape, dtype)] of out-parameters


class Gen(Producers, LoopProducer, IndexMaps, DiagProducts, FftProducts, ParallelLoops):
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
        self.diag_lits = {}

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
                self.emit(self.loop_head(n, lo, hi))
                self.ind += 1
                self.ranges[n] = (lo, hi)
                self._nest(names, shape, d + 1, idx + (n,), body, segs)
                self.ranges[n] = (0, m)
                self.ind -= 1
            self.memo = saved

    def _classify_const(self, v):
        a = np.asarray(v.value)
        if a.dtype.kind not in "biufc":
            raise Unsupported(f"a constant of dtype {a.dtype} is not supported by the compiler "
                              f"(supported: {SUPPORTED_DTYPES})")
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
                complexlower.check(v, vs)   # complex operands: the rows that compile them
        self.find_diag_products()   # seed @ B: "dmm", inline like an index map
        # static array params become constants the kernel reads
        for i in sorted(live):
            v = vs[i]
            if v.kind != "op":
                continue
            for k in v.op.jit.get("arrays", ()):   # e.g. where's cond, clip's bounds
                if k not in v.tparams and v.params.get(k) is not None:
                    v.tparams = dict(v.tparams, **{k: self.add_const(np.asarray(v.params[k]))})
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
            must = i in forced or c not in ("pw", "ix", "dmm")
            for u in self.consumers[i]:
                cu = self.cls[u]
                vu = vs[u]
                if cu in ("lib", "update", "axis", "scan") or (
                        cu == "loop" and not loop_view(v, vu, vs)):
                    must = True
                elif cu == "loop":   # read in place through a view (loopgen.loop_view)
                    e += v.size
                elif cu == "mm":
                    a, b = vu.inputs
                    k = vs[a].shape[-1] if vs[a].shape else 1
                    e += prod_of(vu.shape) * k
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
        self.find_batch_sums()   # sum over a batch of products: one gemm (batchmm.py)
        self.blas_operands()   # a large product's computed operands: arrays, BLAS (batchmm.py)

    # -- values inside loop bodies -----------------------------------------------------------
    def val(self, i, idx):
        st = self.state[i]
        if st in ("scalar", "fill"):
            return self.name[i]
        key = (i, idx)
        r = self.memo.get(key)
        if r is not None:
            return r
        if st == "carray" and i in self.diag_lits:   # a seed's diagonal: a literal
            d, lv = self.diag_lits[i]
            r = diag_read(self.vars[i].shape, idx, d, lv)
            if r is not None:
                self.memo[key] = r
                return r
        if st in ("array", "carray"):
            r = self.temp(f"{self.name[i]}[{', '.join(idx)}]" if idx else f"{self.name[i]}[()]")
        else:
            r = self.compute(i, idx)
        self.memo[key] = r
        return r

    def compute(self, i, idx):
        """Emit the statements for element idx of op var i; returns its expression. Pointwise
        and index-map ops say how through their row (`op.f`, `op.jit`)."""
        v = self.vars[i]
        op = v.op
        vs = self.vars
        if v.op.lower == "ix":
            return getattr(self, "map_" + op.jit["map"])(v, idx)
        if self.cls[i] == "dmm":
            return self.compute_dmm(i, idx)
        args = [self.val(j, bmap(idx, vs[j].shape, v.shape)) for j in v.inputs]
        if complexlower.involves(v, vs):
            return self.temp(complexlower.element(self, v, args, idx))
        if v.dtype == np.float32:
            # a float64 input of a float32 result is a Python float (NumPy's weak scalar):
            # NumPy rounds it to float32 first
            args = [cast(a, v.dtype) if vs[j].dtype == np.float64 else a
                    for a, j in zip(args, v.inputs)]
        f64 = v.dtype == np.float64 and all(vs[j].dtype == np.float64 for j in v.inputs)
        # float32: the same simplifications (x ** 1.0 would call float64 pow), then the cast
        f32 = v.dtype == np.float32
        if isinstance(op, Elementwise):
            r = peephole(op.f, args) if f64 or f32 else None
            if r is not None and f32:
                return self.temp(cast(r, v.dtype))
            if r is not None:
                return r if num(r) is not None or r in args else self.temp(r)
            return self.temp(cast(subst(op.f, op.args, args), v.dtype))
        if "strong" in op.jit:   # the formula, 0 wherever the first operand is 0
            a, b = args
            na, nb = num(a), num(b)
            if na == 0.0:
                return "0.0"
            plain = subst(op.jit["strong"], ("a", "b"), args)
            if na is not None or (nb is not None and np.isfinite(nb)):
                # the product already is 0 where a == 0 (the strong zero only matters for inf/nan)
                r = peephole(op.jit["strong"], args) if f64 or f32 else None
                if f32:
                    return self.temp(cast(r or plain, v.dtype))
                return r if r is not None and (num(r) is not None or r in args) else \
                    self.temp(r or plain)
            return self.temp(cast(f"0.0 if {a} == 0.0 else {plain}", v.dtype))
        p = dict(v.params)
        for k, j in v.tparams.items():   # array params are read at the element's index
            p[k] = self.val(j, bmap(idx, vs[j].shape, v.shape))
        return self.temp(cast(op.jit["pw"](args, p, idx), v.dtype))

    # -- materialized values -----------------------------------------------------------------
    def alloc(self, i):
        v = self.vars[i]
        if self.name[i].startswith("o"):
            return
        self.emit(f"{self.name[i]} = empty({v.shape!r}, np.{v.dtype.name})")

    def produce(self, i):
        v = self.vars[i]
        c = self.cls[i]
        nm = self.name[i]
        if c in ("pw", "ix", "dmm"):
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
        par = self.par_map(v.size)   # a pure map: on threads in a parallel kernel
        self.loop_nest(v.shape, body)
        self.end_par_map(par)


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
            if v.kind == "op" and self.state[i] not in ("inline", "fused"):
                self.produce(i)
            for kind, expected in guards.get(i, ()):
                ref = self.scalar_ref(i)
                if kind == "bool":
                    self.emit(f"if ({ref} != 0) != {bool(expected)}: raise GuardFailure")
                else:
                    self.emit(f"if {eq_guard(ref, expected, v.dtype)}: raise GuardFailure")
        if self._pw_used:   # scratch of the pairwise sums
            self.lines.insert(head, "    _pwr = empty(8, np.float64)\n    _pws = empty(64, np.float64)")
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
        body = "\n".join(self.body_lines()) if self.lines else "    pass"
        consts_src = "".join(f"_c{k} = _CONSTS[{k}]\n" for k in range(len(self.consts)))
        # an objmode block (fftlower.py) takes the GIL: such a kernel keeps it throughout
        nogil = not getattr(self, "uses_objmode", False)
        src = (f"@njit({sig!r}, cache=True, error_model='numpy', nogil={nogil}"
               f"{self.njit_flags()})\n"
               f"def kernel({', '.join(params)}):\n{body}\n")
        full = ("# Generated by adjit.jit. Do not edit.\n"
                f"# runtime {runtime_stamp()}\n"   # its inlined code: a new one recompiles
                "from adjit.jit.rt import *\n"
                "from adjit.jit.rt import load_consts\n"
                f"_CONSTS = load_consts(__file__)\n{consts_src}\n{src}")
        # the whole module text is hashed (its import lines too), so a file written by an
        # adjit with another layout is never picked up
        h = hashlib.sha1(full.encode())
        for c in self.consts:
            h.update(str((c.shape, c.dtype.str)).encode())
            h.update(c.tobytes())
        digest = h.hexdigest()[:16]
        return Program(full, digest, self.consts, outputs,
                       [(vs[i].shape, vs[i].dtype) for i in outs], [vs[i].dtype for i in rets])


