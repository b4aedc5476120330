"""Stacked matrix products (operands with batch axes, as np.matmul broadcasts them) through BLAS:
one gemm when the batch sits on the left operand only (its rows regrouped), one gemm for a
matrix times a stack of column vectors (what ad.vmap makes of W @ x), else one np.dot per
batch element on 2-D views. Elementwise chains around the product stay fused: only the
product's operands must be arrays (or transposed / broadcast / reshaped views of them); a
large product's operand computed on the fly is computed into an array first.
Around products in gradients: the sum over a batch of products is one gemm ("bsum"), the sum
over rows of a product is the rows' sum times the right operand ("rsum"), and the sums over
the rows of expressions of one shape share one pass ("rgroup").
A mixin of `codegen.Gen`."""
import numpy as np

from ..ops.axes import tr_axes
from .exprs import bmap, same_order
from .lowering import prod_of


class BatchedProducts:
    def nd_operand(self, j):
        """(expr, shape, transposed) of var j as a C-contiguous array expression `expr` of
        that shape, whose last two axes are swapped when `transposed`; None when j is
        not held in (a view of) an array. `shape` may have fewer axes than j (a broadcast)."""
        v = self.vars[j]
        if v.dtype not in (np.float64, np.float32) or 0 in v.shape:
            return None
        st = self.state.get(j)
        if st in ("array", "carray"):
            return self.name[j], v.shape, False
        if st == "fill":
            return self.arr(j), v.shape, False
        if st != "inline" or v.op is None:
            return None
        m = v.op.jit.get("map")
        x = v.inputs[0] if v.inputs else None
        xs = self.vars[x].shape if x is not None else None
        if m == "transpose" and len(v.shape) >= 2:
            nd = len(v.shape)
            if tr_axes(nd, v.params.get("axes")) != tuple(range(nd - 2)) + (nd - 1, nd - 2):
                return None
            r = self.nd_operand(x)
            if r is None or r[1] != xs:
                return None
            return r[0], v.shape, not r[2]   # a transpose of a transpose: the array itself
        if m == "broadcast" and len(xs) >= 1 and \
                all(a in (1, b) for a, b in zip(xs[::-1], v.shape[::-1])) and \
                xs[-2:] == v.shape[-2:]:
            r = self.nd_operand(x)   # the batch axes broadcast: each element is x's matrix
            return None if r is None or r[1] != xs else r
        if m is not None and same_order(v, self.vars[x]):
            r = self.view_ref(j)
            return None if r is None else (r, v.shape, False)
        return None

    def p_mm_batched(self, i, v, nm):
        """Emit the stacked product v = a @ b through BLAS; False when it does not apply
        (then p_mm's loops compute it)."""
        a, b = v.inputs
        if not (v.dtype == self.vars[a].dtype == self.vars[b].dtype) or v.size == 0:
            return False
        ra, rb = self.nd_operand(a), self.nd_operand(b)
        if ra is None or rb is None:
            return False
        ea, sa, ta = ra
        eb, sb, tb = rb
        so = v.shape
        ca, cb = min(len(sa), 2), min(len(sb), 2)   # core axes of each operand
        bshape = so[:len(so) - (ca == 2) - (cb == 2)]
        self.alloc(i)
        B = prod_of(bshape)
        full_a = len(sa) - 2 == len(bshape) and sa[:-2] == bshape
        full_b = len(sb) - 2 == len(bshape) and sb[:-2] == bshape
        if full_a and not ta and len(sb) <= 2:
            # the batch on the left only: its rows regrouped into one (B*m, k) matrix
            m, k = sa[-2], sa[-1]
            other = f"{eb}.T" if tb else eb
            n_out = so[-1] if len(sb) == 2 else None
            out = f"{nm}.reshape(({B * m}, {n_out}))" if n_out is not None else \
                f"{nm}.reshape(({B * m},))"
            if self.loop_product(i, out, f"{ea}.reshape(({B * m}, {k}))", B * m, k, eb, tb,
                                 n_out, v.dtype):   # on threads (parloops.py)
                return True
            self.emit(f"dot({ea}.reshape(({B * m}, {k})), {other}, {out})")
            return True
        if full_b and not tb and len(sa) <= 2 and sb[-1] == 1:
            # a matrix (or vector) times a stack of columns: (B, k) @ a.T, one gemm
            k = sb[-2]
            if self.loop_product(i, f"{nm}.reshape(({B}, {sa[-2]}))" if len(sa) == 2 else
                                 f"{nm}.reshape(({B},))", f"{eb}.reshape(({B}, {k}))", B, k, ea,
                                 not ta, sa[-2] if len(sa) == 2 else None, v.dtype):
                return True   # on threads (parloops.py)
            if len(sa) == 2:
                at = ea if ta else f"{ea}.T"
                self.emit(f"dot({eb}.reshape(({B}, {k})), {at}, "
                          f"{nm}.reshape(({B}, {sa[-2]})))")
            else:
                self.emit(f"dot({eb}.reshape(({B}, {k})), {ea}, {nm}.reshape(({B},)))")
            return True

        def elem(e, s, t, bidx):
            bi = bmap(bidx, s[:-2], bshape) if len(s) > 2 else ()
            r = f"{e}[{', '.join(bi)}]" if bi else e
            return f"{r}.T" if t else r

        def body(bidx):
            self.emit(f"dot({elem(ea, sa, ta, bidx)}, {elem(eb, sb, tb, bidx)}, "
                      f"{nm}[{', '.join(bidx)}])")
        self.split_ok, ok = False, self.split_ok
        self.loop_nest(bshape, body)
        self.split_ok = ok
        return True

    # -- operands computed on the fly: computed once into an array, for BLAS -----------------
    def blas_operands(self):
        """A large product whose operand is computed elementwise (a gather such as
        full[:, idx] building triangular matrices, a fused expression) would recompute it once
        per multiply-add in p_mm's loops, and without BLAS: that operand is computed into an
        array once (views of it, transposed, broadcast or reshaped, stay views)."""
        vs = self.vars
        self.find_row_sums()
        for i in sorted(self.live):
            v = vs[i]
            if self.cls.get(i) != "mm" or self.state.get(i) not in ("array", "scalar"):
                continue
            a, b = v.inputs
            if v.dtype not in (np.float64, np.float32) or \
                    not (vs[a].dtype == vs[b].dtype == v.dtype) or 0 in v.shape:
                continue
            k = vs[a].shape[-1] if vs[a].shape else 1
            if prod_of(v.shape) * k < MM_MIN_WORK:
                continue
            for j in (a, b):
                src = self.view_source(j)
                if src is not None:
                    self.state[src], self.name[src] = "array", f"v{src}"

    # -- the sum over rows of a product: the product of the rows' sum ------------------------
    def find_row_sums(self):
        """r = sum over the rows of c * (a @ b + y) (what the gradient of x - means broadcast
        over rows makes of g @ L) is c * (sum_rows(a) @ b + sum_rows(y)): one row times b
        instead of a whole product ("rsum"; the product is never built)."""
        vs = self.vars
        self.row_sums = getattr(self, "row_sums", {})
        for r in sorted(self.live):
            v = vs[r]
            if v.kind != "op" or v.op.name != "sum" or self.cls.get(r) != "red" or \
                    v.dtype != np.float64 or self.state.get(r) != "array":
                continue
            found = self.row_sum_path(v)
            if found is not None:
                self.cls[r] = "rsum"
                self.row_sums[r] = found
                self.state[found[0]] = "fused"
        self.find_row_groups()

    # -- sums over the rows of arrays of one shape: one pass -----------------------------------
    def find_row_groups(self):
        """Sums over the row axis (the second last) of expressions of one shape (a gradient's
        sums of g * x, g * q, g @ L over the data rows) are computed in one loop nest: the
        arrays they read are read once ("rgroup" computes its followers, "rdone")."""
        vs = self.vars
        self.row_groups = {}
        groups = {}
        for r in sorted(self.live):
            v = vs[r]
            c = self.cls.get(r)
            if c not in ("red", "rsum") or v.kind != "op" or v.op.name != "sum" or \
                    v.dtype != np.float64 or self.state.get(r) != "array":
                continue
            x = v.inputs[0]
            shape = vs[x].shape
            if len(shape) < 2 or _axes(v.params.get("axis"), len(shape)) != {len(shape) - 2} \
                    or vs[x].dtype != np.float64:
                continue
            lead = groups.get(shape)
            if lead is None:
                groups[shape] = r
                self.row_groups[r] = [r]
            elif all(j < lead or vs[j].kind != "op" for j in self.row_leaves(r)):
                self.row_groups[lead].append(r)
        for lead, members in list(self.row_groups.items()):
            if len(members) < 2:
                del self.row_groups[lead]
                continue
            self.cls[lead] = "rgroup"
            for r in members[1:]:
                self.cls[r] = "rdone"

    def row_leaves(self, r):
        """The materialized values a row sum reads (the product of a "rsum" excluded, its
        operands included)."""
        v = self.vars[r]
        stop, roots = set(), [v.inputs[0]]
        if r in self.row_sums:
            m = self.row_sums[r][0]
            stop.add(m)
            roots.extend(self.vars[m].inputs)
        out, seen, stack = set(), set(), list(roots)
        while stack:
            j = stack.pop()
            if j in seen or j in stop:
                continue
            seen.add(j)
            w = self.vars[j]
            if self.state.get(j) == "inline" and w.kind == "op":
                stack.extend(w.inputs)
                stack.extend(w.tparams.values())
            else:
                out.add(j)
        return out

    def p_rdone(self, i, v, nm):
        pass   # computed with its group (p_rgroup)

    def p_rgroup(self, i, v, nm):
        members = self.row_groups[i]
        shape = self.vars[v.inputs[0]].shape
        nd = len(shape)
        fused = [r for r in members if r in self.row_sums]
        for r in members:
            self.alloc(r)
            self.emit(f"{self.name[r]}[:] = 0.0")
        along = [r for r in fused if self.vars[self.vars[self.row_sums[r][0]].inputs[0]].shape
                 == shape]
        for r in fused:
            m = self.vars[self.row_sums[r][0]]
            if r in along:
                self.emit(f"rs{r}a = zeros({m.shape[:-2] + (m.shape[-1],)!r}, "
                          "np.float64)")
            self.state[m.id], self.name[m.id] = "fill", "0.0"   # the other terms' sum first

        def body(idx):
            for r in members:
                keep = self.vars[r].params.get("keepdims", False)
                oi = idx[:-2] + (("0",) if keep else ()) + idx[-1:]
                ref = f"{self.name[r]}[{', '.join(oi)}]"
                self.emit(f"{ref} = {ref} + {self.val(self.vars[r].inputs[0], idx)}")
            for r in along:   # the rows' sum of the product's left operand, same pass
                a = self.vars[self.row_sums[r][0]].inputs[0]
                self.emit(f"rs{r}a[{', '.join(idx[:-2] + idx[-1:])}] += {self.val(a, idx)}")
        self.loop_nest(shape, body)
        for r in fused:
            mv = self.row_sums[r][0]
            self.state[mv], self.name[mv] = "fused", f"v{mv}"
            self.row_sum_product(r, self.vars[r], self.name[r], r not in along)

    def row_sum_path(self, v):
        """(product var, coefficient) when v sums the row axis of a product reached through
        inline adds, subtractions and multiplications by nonzero constants, else None."""
        vs = self.vars
        x = v.inputs[0]
        shape = vs[x].shape
        nd = len(shape)
        if nd < 2 or _axes(v.params.get("axis"), nd) != {nd - 2}:
            return None
        coef, j = 1.0, x
        while True:
            w = vs[j]
            if w.kind != "op" or w.shape != shape or w.tparams or len(self.consumers[j]) != 1 \
                    or j in self.out_ids or any(g[0] == j for g in self.guards):
                return None
            if self.cls.get(j) == "mm":
                break
            if self.state.get(j) != "inline" or self.cls.get(j) != "pw":
                return None
            name, ins = w.op.name, w.inputs
            if name in ("add", "sub") and len(ins) == 2:
                nxt = [k for k in ins if self.mm_below(k)]
                if len(nxt) != 1 or vs[ins[0]].shape != vs[ins[1]].shape:
                    return None
                if name == "sub" and nxt[0] == ins[1]:
                    coef = -coef
                j = nxt[0]
            elif name in ("mul", "strong_mul") and len(ins) == 2:
                c = [k for k in ins if self.state.get(k) == "fill" and vs[k].shape == ()]
                other = [k for k in ins if k not in c]
                if not c or len(other) != 1:
                    return None
                f = float(np.asarray(vs[c[0]].value).flat[0])
                if f == 0.0 or not np.isfinite(f):
                    return None
                coef, j = coef * f, other[0]
            elif name == "neg" and len(ins) == 1:
                coef, j = -coef, ins[0]
            else:
                return None
        m = vs[j]
        a, b = m.inputs
        sa, sb = vs[a].shape, vs[b].shape
        if self.state.get(j) != "array" or m.dtype != np.float64 or len(sa) != nd or \
                sa[:-2] != shape[:-2] or not (len(sb) == 2 or sb[:-2] == shape[:-2]) or \
                vs[a].dtype != np.float64 or vs[b].dtype != np.float64 or \
                self.state.get(b) == "fill":
            return None
        return j, coef

    def mm_below(self, k):
        """True when var k is a product, or an inline elementwise expression with one."""
        w = self.vars[k]
        if w.kind != "op":
            return False
        if self.cls.get(k) == "mm":
            return True
        return self.state.get(k) == "inline" and self.cls.get(k) == "pw" and \
            any(self.mm_below(u) for u in w.inputs)

    def p_rsum(self, i, v, nm):
        mv = self.row_sums[i][0]
        # the sum of the other terms: the product reads as 0 there
        self.state[mv], self.name[mv] = "fill", "0.0"
        self.p_red(i, v, nm)
        self.state[mv], self.name[mv] = "fused", f"v{mv}"
        self.row_sum_product(i, v, nm, True)

    def row_sum_product(self, i, v, nm, rows_too):
        """nm += coef * sum_rows(a) @ b (sum_rows(a) in rs{i}a, summed here if rows_too)."""
        mv, coef = self.row_sums[i]
        m = self.vars[mv]
        a, b = m.inputs
        sa = self.vars[a].shape
        bshape, k, n = m.shape[:-2], sa[-1], m.shape[-1]
        sa_nm, sp_nm = f"rs{i}a", f"rs{i}p"
        if rows_too:
            self.emit(f"{sa_nm} = zeros({bshape + (k,)!r}, np.float64)")

            def abody(idx):
                self.emit(f"{sa_nm}[{', '.join(idx[:-2] + idx[-1:])}] += {self.val(a, idx)}")
            self.loop_nest(sa, abody)
        self.emit(f"{sp_nm} = empty({bshape + (n,)!r}, np.float64)")
        rb = self.nd_operand(b)
        if rb is not None and len(rb[1]) in (2, len(sa)):
            eb, sb, tb = rb

            def pbody(bidx):
                e = eb if len(sb) == 2 else f"{eb}[{', '.join(bidx)}]"
                e = f"{e}.T" if tb else e
                rowv = f"{sa_nm}[{', '.join(bidx)}]" if bidx else sa_nm
                out = f"{sp_nm}[{', '.join(bidx)}]" if bidx else sp_nm
                self.emit(f"dot({rowv}, {e}, {out})")
            self.loop_nest(bshape, pbody)
        else:
            sb = self.vars[b].shape

            def lbody(idx):
                bi, ni = idx[:-1], idx[-1]
                acc = f"acc{i}r"
                self.emit(f"{acc} = 0.0")

                def kbody(kidx):
                    bb = bi if len(sb) > 2 else ()
                    self.emit(f"{acc} += {sa_nm}[{', '.join(bi + kidx)}] * "
                              f"{self.val(b, bb + kidx + (ni,))}")
                self.loop_nest((k,), kbody)
                self.emit(f"{sp_nm}[{', '.join(idx)}] = {acc}")
            self.loop_nest(bshape + (n,), lbody)
        keep = v.params.get("keepdims", False)

        def obody(idx):
            pi = idx[:-2] + idx[-1:] if keep else idx
            self.emit(f"{nm}[{', '.join(idx)}] += {coef!r} * {sp_nm}[{', '.join(pi)}]")
        self.loop_nest(v.shape, obody)

    def view_source(self, j):
        """The var computed on the fly (state "inline", not a view) that var j is a view
        of, or j itself; None when j is held in an array or a view of one."""
        while True:
            st = self.state.get(j)
            v = self.vars[j]
            if st != "inline" or v.op is None:
                return None
            m = v.op.jit.get("map")
            x = v.inputs[0] if v.inputs else None
            if x is None or not (m in ("transpose", "broadcast") or
                                 (m is not None and same_order(v, self.vars[x]))):
                return j
            j = x

    # -- sum over the batch of a stacked product: one gemm ----------------------------------
    def find_batch_sums(self):
        """sum(a_b.T @ g_b over the batch b), a weight's gradient when the weight is shared by
        a stack (x @ W with x of shape (B, m, k)): the stack of products is never built, one
        gemm of the batch-and-rows-regrouped operands gives the sum ("bsum")."""
        vs = self.vars
        for r in sorted(self.live):
            v = vs[r]
            if v.kind != "op" or v.op.name != "sum" or self.cls.get(r) != "red":
                continue
            x = v.inputs[0]
            xv = vs[x]
            nb = len(xv.shape) - 2
            if self.cls.get(x) != "mm" or nb < 1 or self.consumers[x] != [r] or \
                    x in self.out_ids or any(g[0] == x for g in self.guards) or \
                    _axes(v.params.get("axis"), len(xv.shape)) != set(range(nb)):
                continue
            if self.batch_sum_operands(x) is not None:
                self.cls[r] = "bsum"
                self.state[x] = "fused"

    def batch_sum_operands(self, x):
        xv = self.vars[x]
        a, b = xv.inputs
        if not (xv.dtype == self.vars[a].dtype == self.vars[b].dtype) or xv.size == 0:
            return None
        ra, rb = self.nd_operand(a), self.nd_operand(b)
        bshape = xv.shape[:-2]
        if ra is None or rb is None or not ra[2] or rb[2] or ra[1][:-2] != bshape or \
                rb[1][:-2] != bshape:
            return None
        return ra, rb

    def p_bsum(self, i, v, nm):
        x = v.inputs[0]
        xv = self.vars[x]
        ops = self.batch_sum_operands(x)
        if ops is None:   # not expected: compute the stack, then sum it
            self.state[x], self.name[x] = "array", f"v{x}"
            self.produce(x)
            self.p_red(i, v, nm)
            return
        (ea, sa, _), (eb, sb, _) = ops
        inner = prod_of(xv.shape[:-2]) * sb[-2]   # batch and the summed axis, regrouped
        rows, n = xv.shape[-2], xv.shape[-1]
        self.alloc(i)
        self.emit(f"dot({ea}.reshape(({inner}, {rows})).T, {eb}.reshape(({inner}, {n})), "
                  f"{nm}.reshape(({rows}, {n})))")


# a product doing at least this many multiply-adds reads its operands from arrays (BLAS)
MM_MIN_WORK = 1 << 14


def _axes(axis, nd):
    if axis is None:
        return set(range(nd))
    return {int(a) % nd for a in ((axis,) if np.ndim(axis) == 0 else axis)}
