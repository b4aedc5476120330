"""Stacked matrix products (operands with batch axes, as np.matmul broadcasts them) through BLAS:
one gemm when the batch sits on the left operand only (its rows regrouped), one gemm for a
matrix times a stack of column vectors (what ad.vmap makes of W @ x), else one np.dot per
batch element on 2-D views. Elementwise chains around the product stay fused: only the
product's operands must be arrays (or transposed / broadcast / reshaped views of them).
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
            if r is None or r[2] or r[1] != xs:
                return None
            return r[0], v.shape, True
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
            self.emit(f"dot({ea}.reshape(({B * m}, {k})), {other}, {out})")
            return True
        if full_b and not tb and len(sa) <= 2 and sb[-1] == 1:
            # a matrix (or vector) times a stack of columns: (B, k) @ a.T, one gemm
            k = sb[-2]
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


def _axes(axis, nd):
    if axis is None:
        return set(range(nd))
    return {int(a) % nd for a in ((axis,) if np.ndim(axis) == 0 else axis)}
