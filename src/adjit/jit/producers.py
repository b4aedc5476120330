"""Loop nests and library calls that materialize one value of the tape each: reductions,
matrix products (BLAS), concatenation, scans, axis ops, scatters, linear algebra. A mixin of
the code generator (`codegen.Gen`)."""
import numpy as np

from .batchmm import BatchedProducts
from .pairwise import PairwiseSums
from .exprs import (bmap, getitem_map, getitem_map_adv, iadd, same_order, unravel)
from .lowering import Unsupported, is_basic, lit, prod_of


class Producers(BatchedProducts, PairwiseSums):
    def p_red(self, i, v, nm):
        j = v.op.jit   # the row's init value, accumulation and finishing step
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
        count = prod_of([xs[a] for a in axes])
        isf = v.dtype.kind in "fc"
        init0 = float(j["init"])
        extremum = np.isinf(init0)   # max / min: bools stay bools, ints start at their limits
        if v.dtype.kind == "b":
            init = "False" if init0 < 0 else "True"
        elif extremum and not isf:
            info = np.iinfo(v.dtype)
            init = lit(info.min if init0 < 0 else info.max)
        else:
            init = lit(init0 if isf else int(init0))

        def acc(a, t):
            if xv.dtype.kind == "b" and not extremum:
                t = f"(1 if {t} else 0)"
            return j["acc"].format(a=a, t=t)

        def post(a):
            return j["post"].format(a=a, n=count) if "post" in j else a

        outer = [d for d in range(nd) if d not in axes]
        if v.shape != ():
            self.alloc(i)
        a = f"acc{i}"
        if outer == list(range(len(outer))):
            # reduced axes trailing: a scalar accumulator per output element
            ishape = tuple(xs[d] for d in range(len(outer), nd))
            pairwise = "pairwise" in j and isf and xv.dtype.kind == "f" and count >= 8
            # one block summed in registers: no scratch shared between output elements
            regs = pairwise and self.pairwise_in_registers(count, lambda q: self.val(
                x, tuple("0" for _ in outer) + unravel(q, ishape)))

            # one accumulator per output element: a pure map; a pairwise sum of more than one
            # block (or of a long body) there takes scratch of its own per iteration
            par = self.par_map(xv.size)
            local = par and pairwise and not regs

            def obody(oidx):
                if pairwise:
                    self.pairwise_sum(a, count, lambda q: self.val(
                        x, tuple(oidx) + unravel(q, ishape)), square=j["pairwise"] == "square",
                        in_registers=regs or None, local=local)
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
            self.end_par_map(par)
            return
        # general: accumulate into the output array in input order; when the first axis is
        # kept (a vmap's batch), its iterations write apart: a pure map, the order of each
        # output element's additions unchanged
        self.emit(f"{nm}[:] = {init}")
        par = 0 in outer and self.par_map(xv.size)

        def body(idx):
            t = self.val(x, idx)
            if keep:
                oi = tuple("0" if d in axes else idx[d] for d in range(nd))
            else:
                oi = tuple(idx[d] for d in outer)
            ref = f"{nm}[{', '.join(oi)}]"
            self.emit(f"{ref} = {acc(ref, t)}")
        self.loop_nest(xs, body)
        self.end_par_map(par)
        if "post" in j:
            def pbody(oidx):
                ref = f"{nm}[{', '.join(oidx)}]"
                self.emit(f"{ref} = {post(ref)}")
            self.loop_nest(v.shape, pbody)

    def blas_ref(self, j):
        """An array expression blas.dot takes for var j (contiguous, possibly a
        transposed view), or None."""
        st = self.state.get(j)
        v = self.vars[j]
        if v.dtype not in (np.float64, np.float32, np.complex128, np.complex64) or \
                len(v.shape) not in (1, 2) or 0 in v.shape:
            return None
        if st in ("array", "carray"):
            return self.name[j]
        if st == "fill":
            return self.arr(j)
        if st == "inline" and v.op.jit.get("map") == "transpose" and len(v.shape) == 2:
            r = self.blas_ref(v.inputs[0])
            return None if r is None or r.endswith(".T") else f"{r}.T"
        return self.view_ref(j)

    def view_ref(self, j):
        """A C-contiguous array expression for var j: its array, or a reshape view of one."""
        st = self.state.get(j)
        if st in ("array", "carray"):
            return self.name[j]
        v = self.vars[j]
        if st == "inline" and same_order(v, self.vars[v.inputs[0]]):
            r = self.view_ref(v.inputs[0])
            return None if r is None else f"{r}.reshape({v.shape!r})"
        return None

    def p_mm(self, i, v, nm):
        a, b = v.inputs
        sa, sb, so = self.vars[a].shape, self.vars[b].shape, v.shape
        K = sa[-1]
        if max(len(sa), len(sb)) > 2 and self.p_mm_batched(i, v, nm):
            return
        ra, rb = self.blas_ref(a), self.blas_ref(b)
        if ra is not None and rb is not None and \
                v.dtype == self.vars[a].dtype == self.vars[b].dtype:   # sgemm for float32
            # BLAS, as NumPy's matmul: the same sums in the same order, bit for bit
            if v.shape == ():
                self.emit(f"{nm} = vdot({ra}, {rb})")
            else:
                self.alloc(i)
                self.emit(f"dot({ra}, {rb}, {nm})")
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
        par = v.shape != () and self.par_map(prod_of(so) * K)   # one entry per iteration
        self.loop_nest(so, body)
        self.end_par_map(par)

    def p_cat(self, i, v, nm):
        stack = v.op.jit.get("new_axis", False)
        axis = int(v.params.get("axis", 0))
        nd = len(v.shape)
        ax = axis % nd
        self.alloc(i)
        off = 0
        for j in v.inputs:
            xs = self.vars[j].shape
            if prod_of(xs) == 0:
                continue

            def body(idx, j=j, off=off):
                oi = list(idx)
                if not stack:
                    oi[ax] = iadd(idx[ax], off)
                else:
                    oi.insert(ax, str(off))
                self.emit(f"{nm}[{', '.join(oi)}] = {self.val(j, idx)}")
            self.loop_nest(xs, body)
            off += 1 if stack else xs[ax]

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
        """logsumexp / softmax / log_softmax along axes: max, then sum of exp, per outer index;
        then the row's reduction (`jit["reduce"]`) or per-element result (`jit["each"]`)."""
        j = v.op.jit
        x = v.inputs[0]
        xs = self.vars[x].shape
        nd = len(xs)
        axis = v.params.get("axis", j["axis"])
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
            if "reduce" in j:
                r = j["reduce"].format(s=s, m=m)
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
            if "pre" in j:
                self.emit(f"{s} = {j['pre'].format(s=s, m=m)}")

            def wbody(iidx):
                fi = full(iidx)
                t = self.val(x, fi)
                r = j["each"].format(t=t, s=s, m=m)
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
        raise Unsupported(f"an array input in state {st} is not supported")  # pragma: no cover

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

    def p_update(self, i, v, nm):
        """index_update: a copy of x, then the region, as a getitem view of the output."""
        x, val_ = v.inputs
        self.alloc(i)
        self.loop_nest(v.shape, lambda idx: self.emit(
            f"{nm}[{', '.join(idx)}] = {self.val(x, idx)}"))
        region = np.empty(v.shape)[v.params["idx"]].shape
        vs = self.vars[val_].shape

        ix = v.params["idx"]

        def body(idx):
            # an index with arrays (t[[0, 2], 1] = v) maps through NumPy's advanced indexing
            tgt = (getitem_map(ix, v.shape, idx) if is_basic(ix)
                   else getitem_map_adv(ix, v.shape, idx, self.index_const))
            self.emit(f"{nm}[{', '.join(tgt)}] = {self.val(val_, bmap(idx, vs, region))}")
        self.loop_nest(region, body)

    def p_lib(self, i, v, nm):
        """A linear-algebra call from the row (`jit["call"]`), per matrix of a batch."""
        jd = v.op.jit
        shapes = [self.vars[j].shape for j in v.inputs]
        ins = [self.arr(j) for j in v.inputs]
        # operands of mixed float dtypes (a float32 matrix, a float64 right side) in their
        # common one, as NumPy promotes them: numba's np.linalg wants one dtype (the rows' own
        # numba code, oplib's, takes pivots of another dtype as they are)
        call = jd["call"]
        dts = [self.vars[j].dtype for j in v.inputs]
        common = np.result_type(*[d for d in dts if d.kind in "fc"] or [v.dtype])
        cast = [call.startswith("np.linalg.") and d.kind in "fc" and d != common for d in dts]
        if any(cast):
            call = call.format(*[f"{{{k}}}.astype(np.{common.name})" if c else f"{{{k}}}"
                                 for k, c in enumerate(cast)])
        va = jd.get("vector_arg")
        vec = va is not None and len(shapes[va]) == 1
        core = 1 if vec else jd["core"]
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
                m = 1 if (vec and j == ins[va]) else 2
                bi = bmap(bidx, s_[:len(s_) - m], bshape)
                views.append(f"{j}[{', '.join(bi)}]" if bi else j)
            tgt = ", ".join(list(bidx) + [":"] * core)
            self.emit(f"{nm}[{tgt}] = {call.format(*views)}")
        self.split_ok, ok = False, self.split_ok
        self.loop_nest(bshape, body)
        self.split_ok = ok

