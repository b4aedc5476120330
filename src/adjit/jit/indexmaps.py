"""The index-map ops of generated code (getitem, broadcast_to, reshape, transpose, scatter_add):
an output element is an input element at a mapped index, or 0. A mixin of `codegen.Gen`."""
from ..ops.axes import tr_axes
from .exprs import affine, bmap, cond_src, getitem_map, getitem_map_adv, reshape_map, scatter_map
from .lowering import is_basic


class IndexMaps:
    # index maps: output element = an input element at a mapped index (or 0); the row names its
    # map (`jit={"map": ...}`)
    def map_getitem(self, v, idx):
        x = v.inputs[0]
        ix = v.params["idx"]
        if is_basic(ix):
            return self.val(x, getitem_map(ix, self.vars[x].shape, idx))
        return self.val(x, getitem_map_adv(ix, self.vars[x].shape, idx, self.index_const))

    def map_broadcast(self, v, idx):
        x = v.inputs[0]
        return self.val(x, bmap(idx, self.vars[x].shape, v.shape))

    def map_reshape(self, v, idx):
        x = v.inputs[0]
        return self.val(x, reshape_map(idx, self.vars[x].shape, v.shape))

    def map_transpose(self, v, idx):
        x = v.inputs[0]
        xs = self.vars[x].shape
        axes = tr_axes(len(xs), v.params.get("axes"))
        src = [None] * len(xs)
        for d, a in enumerate(axes):
            src[a] = idx[d]
        return self.val(x, tuple(src))

    def map_scatter(self, v, idx):
        x = v.inputs[0]
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
