"""Index and formula expressions (strings) for the generated loops: affine index maps,
getitem/scatter/reshape/broadcast maps, formula substitution and peephole simplification."""
import re

import numpy as np

from .lowering import Unsupported, is_basic, lit, prod_of

# ---------------------------------------------------------------------------------------------
# index expressions (strings)

_AFF = None


def affine(e):
    """(a, var, b) for an index expression a * var + b (var None for a constant), else None."""
    global _AFF
    if _AFF is None:
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


def iadd(e, c):
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
            res.append(iadd(_imul(out_idx[o], step), start))
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
            if c.ndim == 0:   # a[True]: NumPy's new axis of length 1 (or 0), not compiled
                raise Unsupported("a 0-d boolean index (a[True])")
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
            res.append(iadd(_imul(out_idx[o], step), start))
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
                e = iadd(i, -start) if step == 1 else f"({iadd(i, -start)}) // {step}"
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
                e = iadd(_imul(i, -1), start) if s == 1 else f"({start} - {i}) // {s}"
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
    res, stride = [], prod_of(shape)
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



def same_order(v, x):
    """True when index-map op v only regroups x's elements in C order (a reshape view)."""
    if v.op is None or v.size != x.size:
        return False
    m = v.op.jit.get("map")
    if m in ("reshape", "broadcast"):
        return True
    if m == "getitem" and is_basic(v.params["idx"]):
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


def num(e):
    """The value of a numeric literal expression, else None."""
    e = e.strip()
    if e.startswith("np.float32(") and e.endswith(")"):   # a float32 literal (lit)
        e = e[len("np.float32"):]
    while e.startswith("(") and e.endswith(")"):
        e = e[1:-1].strip()
    try:
        return float(e)
    except ValueError:
        return None


# the arithmetic formulas peephole knows, by the formula text of their rows
_ARITH = {"a + b": "add", "a - b": "sub", "a * b": "mul", "a / b": "div", "a ** b": "pow"}


def peephole(formula, args):
    """Simplify arithmetic with a literal operand (x * 1, x + 0, x ** 1, x ** 2 ...); None when
    nothing applies. Exact in IEEE arithmetic up to the sign of a zero."""
    name = _ARITH.get(formula)
    if name is None or len(args) != 2:
        return None
    a, b = args
    na, nb = num(a), num(b)
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


def subst(formula, names, args):
    m = dict(zip(names, args))
    return re.sub(r"\b(" + "|".join(names) + r")\b", lambda mo: _paren(m[mo.group(1)]), formula)


def cast(expr, dtype):
    if dtype == np.float32:
        return f"np.float32({expr})"
    return expr


def eq_guard(ref, expected, dtype):
    """The condition under which a value read into Python (float(), .item()) no longer holds
    the value it was traced at. A float value may differ by a few ulps: the kernel computes
    transcendental functions with libm, NumPy with its own vectorized code, so an exact test
    could reject the very input it was traced at; the function's result then moves by as
    little as the two libraries' results differ."""
    if isinstance(expected, float) and np.isfinite(expected):
        tol = 4.0 * float(np.spacing(np.abs(np.asarray(expected, dtype=dtype))))
        return f"abs({ref} - {lit(expected)}) > {tol!r}"
    if isinstance(expected, float) and expected != expected:
        return f"{ref} == {ref}"   # it was NaN
    return f"{ref} != {lit(expected)}"
