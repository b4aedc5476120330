"""Elementwise ops declared by scalar formulas (the `derivatives.yaml` of adjit).

One formula string per partial derivative, in the input names and `y` (the output), is turned
into three things: a NumPy function (eager, small arrays), an ad-level function (Tensors and
duals, so `create_graph` and forward-over-reverse differentiate the rule itself), and a fused
numba ufunc computing `g * d(x, y)` in one pass (large arrays; VJP and JVP share it).
"""
import math

import numpy as np

from .. import kernels
from ..core.complexrule import any_complex, complex_backward, complex_forward
from ..core.registry import Op, Traced


# Namespaces the formulas are evaluated in. Each unary elementwise op adds its own NumPy primal
# to NP_NS when it is registered (the op table is the one list of them); AD_NS gets the ad ops.
NP_NS = {"where": np.where, "pi": math.pi, "inf": math.inf, "LN2": math.log(2.0),
         "LN10": math.log(10.0)}
AD_NS = {"pi": math.pi, "inf": math.inf, "LN2": math.log(2.0), "LN10": math.log(10.0)}


def _fn(expr, names, ns):
    return eval(f"lambda {', '.join(names)}: {expr}", ns)  # noqa: S307 - our own formulas


def _plain(*vals):
    for v in vals:
        if isinstance(v, Traced):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# "Strong zero" products: every elementwise VJP/JVP term is g * d(x, y), and a zero cotangent
# (or tangent) g gives 0 even where the partial d is inf or NaN. Without it the branch that
# `where` does not select leaks NaN: where(x > 0, sqrt(x), 0) at x = 0 sends a zero cotangent
# into sqrt, whose partial is inf, and 0 * inf = NaN (PyTorch and JAX give NaN there). A zero
# g means "this output does not influence the result", so its contribution is 0 (Enzyme's
# strong-zero option). The same fixes forward mode: a jacfwd column's zero tangent entries
# no longer turn inf partials into NaN Jacobian entries. NaN or inf in g itself still
# propagates. Cost on the eager path: one reduction of the product (~1 us), or of the partial
# when it is the smaller factor (batched tangents), and only then a re-mask if needed.

def strong_mul_np(g, d):
    r = g * d
    if type(r) is not np.ndarray:  # scalars (the small eager case) need no reduction
        return type(r)(0.0) if r != r and g == 0 else r
    tg = type(g)
    if (tg is float or tg is int or tg is np.float64) and g != 0:
        return r   # a nonzero scalar g has no zero entry to mask (pow's smul(b, a ** (b - 1)))
    td = type(d)
    if td is float or td is np.float64:
        if math.isfinite(d):  # a finite partial: a zero g gives a zero product already
            return r
    elif td is np.ndarray and d.size < r.size and d.dtype.kind == "f":
        # g carries batch axes (k tangents or cotangent rows): checking the partial that
        # broadcasts against them is k times cheaper than checking the product
        if math.isfinite(np.add.reduce(d, axis=None)):
            return r
    else:
        # a NaN in r makes its sum NaN; for small arrays Python's sum of the values is ~3x
        # cheaper than NumPy's reduction (~1 us of call overhead)
        if r.size <= 32:
            s = sum((r if r.ndim == 1 else r.ravel()).tolist())
        else:
            s = np.add.reduce(r, axis=None)
        if s == s:
            return r
    # a NaN somewhere (or inf - inf): zero the entries whose g is zero
    return np.where(np.asarray(g) == 0, 0.0, r)


def _strong_mul_vjp(g, y, a, b):
    # a is the cotangent slot: its own zeros mask the b term
    return strong_mul(g, b), strong_mul(a, g)


def _strong_mul_jvp(ts, y, a, b):
    ta, tb = ts
    out = None if ta is None else strong_mul(ta, b)
    if tb is not None:
        c = strong_mul(a, tb)
        out = c if out is None else out + c
    return out


# a * b with 0 wherever a == 0; the ad-level form, so create_graph and forward-over-reverse
# differentiate elementwise rules with the same convention. An internal op: not in OPS (users
# never call it), checked by tests/test_properties.py.
strong_mul = Op("strong_mul", strong_mul_np, _strong_mul_vjp, _strong_mul_jvp, broadcast=True,
                backward_name="MulBackward", lower="pw", jit={"strong": "a * b"})
# formulas may use it as smul(a, b), e.g. pow's  b * a**(b - 1)  at b == 0
NP_NS["smul"], AD_NS["smul"] = strong_mul_np, strong_mul


def dtype_name(x):
    """The dtype of a value (wrapped or not) by name: a hashable op parameter."""
    return (x.dtype if isinstance(x, Traced) else np.asarray(x).dtype).name


def _astype_np(x, dtype):
    a = np.asarray(x).astype(dtype)
    return a if a.ndim else a[()]


# x in another float dtype: an internal op (not in OPS), so that a rule whose constants made a
# float64 partial (where(a > b, 1.0, 0.5), a count of ties) hands float32 cotangents back as
# float32 under every wrapper, ad.jit's tracers included. Linear; its VJP casts back.
astype = Op("astype", _astype_np, lambda g, y, x, dtype: (astype(g, dtype=dtype_name(x)),),
            linear=True, lower="pw", jit={"pw": lambda a, p, idx: a[0]})


class Elementwise(Op):
    """An op given by scalar formulas: `f` for the primal, `partials[i]` = d y / d input_i."""

    def __init__(self, name, args, f, partials, np_primal=None, **flags):
        names = tuple(args) + ("y",)
        uses = " ".join(partials)
        flags.setdefault("lower", "pw")   # ad.jit compiles the formula
        super().__init__(name, None, broadcast=len(args) > 1,
                         saves_in=any(_mentions(uses, a) for a in args),
                         saves_out=_mentions(uses, "y"), **flags)
        self.args, self.f, self.partials = tuple(args), f, tuple(partials)
        # _terms masks selecting input i alone
        self._only = tuple(tuple(j == i for j in range(len(args))) for i in range(len(args)))
        # per input: the inputs and whether the output its partial mentions (mul's d/da is b:
        # a's own value may change in place after a * b without harming a's cotangent)
        self._reads = [(tuple(j for j, a in enumerate(args) if _mentions(p, a)),
                        _mentions(p, "y")) for p in partials]
        self._reads_by_needs = {}
        kernels.declare(f"{name}__f", args, f)
        for i, p in enumerate(partials):
            if p not in ("0", "1", "-1"):
                kernels.declare(f"{name}__d{i}", ("g",) + names,
                                f"0.0 if g == 0.0 else g * ({p})")  # strong zero
        self._np_primal = np_primal
        # a constant partial (1, -1, 0) as a number, else None: no formula to evaluate
        self._const = tuple({"1": 1, "-1": -1, "0": 0}.get(p) for p in partials)
        self._np_d = [_fn(p, names, NP_NS) for p in partials]
        self._ad_d = None
        self.primal = np_primal if np_primal is not None else self._compiled_primal
        if len(args) == 1:
            NP_NS[name] = self.primal

    def reads(self, needs):
        got = self._reads_by_needs.get(needs)
        if got is None:
            ins, out = set(), False
            for i, n in enumerate(needs):
                if n:
                    ins.update(self._reads[i][0])
                    out = out or self._reads[i][1]
            got = self._reads_by_needs[needs] = (tuple(sorted(ins)), out)
        return got

    def _compiled_primal(self, *xs):
        return kernels.ufunc(f"{self.name}__f")(*xs)   # float16 stays float16 (Kernel)

    def _ad(self, i):
        if self._ad_d is None:
            names = self.args + ("y",)
            self._ad_d = [_fn(p, names, AD_NS) for p in self.partials]
        return self._ad_d[i]

    def _terms(self, g, out, inputs, which):
        """g * d y / d input_i for each i whose entry in the mask `which` is true (None
        elsewhere)."""
        plain = not isinstance(g, Traced) and not isinstance(out, Traced)
        if plain:
            for v in inputs:
                if isinstance(v, Traced):
                    plain = False
                    break
        # (a cheap size test first: most eager values are far below the fusing size)
        fused = plain and type(g) is np.ndarray and g.size >= kernels.FUSE_MIN \
            and kernels.fusable(out, *inputs) and g.size >= out.size
        res = [None] * len(inputs)
        for i, want in enumerate(which):
            if not want:
                continue
            p = self.partials[i]
            if p == "1":
                res[i] = g
            elif p == "-1":
                res[i] = -g
            elif p == "0":
                res[i] = g * 0.0
            elif fused:
                res[i] = kernels.ufunc(f"{self.name}__d{i}")(g, *inputs, out)
            elif plain:
                try:
                    d = self._np_d[i](*inputs, out)
                except ZeroDivisionError:  # a Python 0 in a denominator, e.g. div(x, 0.0)
                    d = self._np_d[i](*_np_scalars(inputs), out)
                res[i] = strong_mul_np(g, narrow(d, g, out))
            else:
                try:
                    d = self._ad(i)(*inputs, out)
                except ZeroDivisionError:
                    d = self._ad(i)(*_np_scalars(inputs), out)
                res[i] = strong_mul(g, narrow(d, g, out))
        return res

    def backward(self, g, out, inputs, params, needs):
        # the common eager case first: float64 arrays and scalars only (so neither complex
        # nor narrower dtypes, nor wrappers) and below the fusing size: g * partial, with
        # the strong zero, and nothing else to decide
        t, to = type(g), type(out)
        if (t is np.float64 or t is np.ndarray and g.dtype is _F64
                and g.size < kernels.FUSE_MIN) and \
                (to is np.float64 or to is np.ndarray and out.dtype is _F64):
            for v in inputs:
                t = type(v)
                if not (t is np.ndarray and v.dtype is _F64 or t is np.float64 or t is float
                        or t is int):   # x ** 2's 2 is plain too
                    break
            else:
                res = [None] * len(inputs)
                for i, want in enumerate(needs):
                    if want:
                        k = self._const[i]
                        if k is None:
                            try:
                                d = self._np_d[i](*inputs, out)
                            except ZeroDivisionError:   # a Python 0 in a denominator
                                d = self._np_d[i](*_np_scalars(inputs), out)
                            res[i] = strong_mul_np(g, d)
                        else:
                            res[i] = g if k == 1 else -g if k == -1 else g * 0.0
                return res
        if self.complex is not True and any_complex(out, inputs):
            return complex_backward(self, g, out, inputs, params, needs)
        return self._terms(g, out, inputs, needs)

    def forward(self, tangents, out, inputs, params):
        if self.complex is not True and any_complex(out, inputs):
            return complex_forward(self, tangents, out, inputs, params)
        acc = None
        for i, t in enumerate(tangents):
            if t is not None:
                c = self._terms(t, out, inputs, self._only[i])[i]
                acc = c if acc is None else acc + c
        return acc


def narrow(d, g, out):
    """A partial made of constants only (maximum's where(a > b, 1.0, 0.5), NumPy scalars of
    _np_scalars) is float64: it must not upcast a float32/float16 cotangent."""
    if not isinstance(d, (np.ndarray, np.floating, Traced)):
        return d
    n = d.dtype.itemsize
    gd, od = getattr(g, "dtype", None), getattr(out, "dtype", None)
    if gd is not None and od is not None and gd.itemsize >= n and od.itemsize >= n:
        return d   # the usual case, without result_type's ~3 us: nothing narrower than d
    dt = np.result_type(*[v.dtype if isinstance(v, Traced) else v for v in (g, out)])
    if dt.kind == "f" and d.dtype.kind == "f" and d.dtype.itemsize > dt.itemsize:
        return astype(d, dtype=dt.name) if isinstance(d, Traced) else d.astype(dt)
    return d


_F64 = np.dtype(np.float64)


def _np_scalars(vals):
    """Python numbers as NumPy scalars, which divide by zero as IEEE floats (inf, NaN)."""
    return [np.float64(v) if type(v) in (int, float) else v for v in vals]


def _mentions(text, name):
    import re
    return re.search(rf"\b{name}\b", text) is not None
