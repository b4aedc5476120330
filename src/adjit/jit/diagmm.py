"""Matrix products with a diagonal operand. Jacobians seed their directions as rows of the
identity (jacfwd's tangents of x, jacrev's cotangent rows), so the first matrix product a
tangent meets is often I @ B, or (I * d) @ B after an elementwise rule. As a BLAS gemm that
costs n^3 flops against zeros; here it is one product per output element,
out[i, j] = a[i, i + d] * b[i + d, j], computed inline in the consumer's loop like an index map
(class "dmm"), so a square Jacobian fuses into one loop as a hand-written one would.

For finite operands the value is NumPy's bit for bit (BLAS adds one product and exact zeros);
where the other operand holds an inf or a nan, the entries the zeros of the seed meet stay 0
here (the exact derivative) where a dense product would give nan. A mixin of `codegen.Gen`."""
import numpy as np

from ..ops.elementwise import Elementwise
from .exprs import iadd, num, same_order
from .lowering import lit


class DiagProducts:
    def find_diag_products(self):
        """Reclassify matrix products with a structurally diagonal 2-D operand as "dmm"."""
        self.dmm = {}
        self._diag = {}
        self.diag_lits = {}   # const var id -> (offset, literal of its uniform diagonal)
        vs = self.vars
        for i in sorted(self.live):
            v = vs[i]
            if v.kind != "op" or self.cls[i] != "mm" or v.dtype.kind != "f":
                continue
            a, b = v.inputs
            sa, sb = vs[a].shape, vs[b].shape
            if vs[a].dtype != v.dtype or vs[b].dtype != v.dtype:
                continue
            if len(sa) == 2 and len(sb) in (1, 2):
                d = self.diag_offset(a)
                if d is not None and d >= 0 and sa[0] + d <= sa[1]:
                    self.dmm[i] = ("left", d, self._diag_lit(a, d))
                    self.cls[i] = "dmm"
                    continue
            if len(sb) == 2 and len(sa) in (1, 2):
                d = self.diag_offset(b)
                if d is not None and d <= 0 and sb[1] - d <= sb[0]:
                    self.dmm[i] = ("right", d, self._diag_lit(b, d))
                    self.cls[i] = "dmm"

    def diag_offset(self, j):
        """d when 2-D var j is zero wherever column != row + d (a seed, or a product of one
        that keeps its zeros exactly), else None."""
        if j in self._diag:
            return self._diag[j]
        self._diag[j] = None   # no cycles in a tape, but keep the recursion finite
        v = self.vars[j]
        d = None
        if len(_squeezed(v.shape)) == 2:
            if v.kind == "const":
                a = np.asarray(v.value).reshape(_squeezed(v.shape))
                r, c = np.nonzero(a)
                if len(r) and np.all(c - r == c[0] - r[0]):
                    d = int(c[0] - r[0])
                    if np.all(a[r, c] == a[r[0], c[0]]):   # read as a literal (diag_read)
                        self.diag_lits[j] = (d, lit(a[r[0], c[0]], v.dtype))
            elif v.kind == "op":
                d = self._diag_of_op(v)
        self._diag[j] = d
        return d

    def _diag_of_op(self, v):
        vs = self.vars
        ins = v.inputs
        m = v.op.jit.get("map")
        if m is not None and len(ins) == 1:
            x = vs[ins[0]]
            if m == "transpose" and len(v.shape) == 2:
                d = self.diag_offset(ins[0])
                return None if d is None else -d
            if m != "scatter" and same_order(v, x) and \
                    _squeezed(v.shape) == _squeezed(x.shape):   # unit axes in or out
                return self.diag_offset(ins[0])
            return None
        if "strong" in v.op.jit and vs[ins[0]].shape == v.shape:
            return self.diag_offset(ins[0])   # the strong product is 0 wherever a == 0
        if isinstance(v.op, Elementwise) and v.op.name in ("mul", "negative"):
            for k, j in enumerate(ins):
                if vs[j].shape != v.shape:
                    continue
                others = [o for n, o in enumerate(ins) if n != k]
                if all(self._finite_const(o) for o in others):
                    return self.diag_offset(j)
        return None

    def _finite_const(self, j):
        v = self.vars[j]
        return v.kind == "const" and np.all(np.isfinite(np.asarray(v.value)))

    def _diag_lit(self, j, d):
        """The literal of a constant diagonal whose entries are all equal, else None."""
        v = self.vars[j]
        if v.kind != "const":
            return None
        a = np.asarray(v.value)
        n = min(a.shape[0], a.shape[1] - d) if d >= 0 else min(a.shape[0] + d, a.shape[1])
        diag = np.diagonal(a, offset=d)[:n]
        if diag.size and np.all(diag == diag[0]):
            return lit(diag[0], v.dtype)
        return None

    def compute_dmm(self, i, idx):
        v = self.vars[i]
        a, b = v.inputs
        side, d, c = self.dmm[i]
        sa, sb = self.vars[a].shape, self.vars[b].shape
        if side == "left":
            r = idx[0] if len(sa) == 2 and len(v.shape) >= 1 else "0"
            k = iadd(r, d)
            dv = c if c is not None else self.val(a, (r, k))
            ov = self.val(b, (k,) if len(sb) == 1 else (k, idx[-1]))
        else:
            col = idx[-1]
            k = iadd(col, -d)
            dv = c if c is not None else self.val(b, (k, col))
            ov = self.val(a, (k,) if len(sa) == 1 else (idx[0], k))
        if num(dv) == 1.0:
            return ov
        return self.temp(f"{ov} * {dv}" if side == "right" else f"{dv} * {ov}")


def _squeezed(shape):
    return tuple(n for n in shape if n != 1)


def diag_read(shape, idx, d, value):
    """value when idx (of a constant of that shape) is on its diagonal of offset d, else None."""
    rc = [e for e, n in zip(idx, shape) if n != 1]
    if len(rc) == 2 and iadd(rc[0], d) == rc[1]:
        return value
    return None
