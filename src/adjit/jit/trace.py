"""Tracing for `ad.jit`: run the user's function once on `Tracer`s and record a flat tape.

A `Tracer` is one more wrapper type of the registry (a `Traced` at a fresh level, below every
transform the traced function starts, so it is always peeled last). It holds the concrete value
it stands for, so the function runs exactly as in eager mode while every registry op applied to
a tracer is recorded (op, static params, input refs). Transforms inside the traced function
(`ad.grad`, `ad.jacfwd`, `ad.hessian` ...) run their Tensor / Dual layers on top of the tracers,
so their forward and backward computations land on the same tape as ordinary ops.

Python control flow reads a tracer through `bool()`, `float()`, `int()`, `.item()`: each such
read is recorded as a guard (the value it had); the compiled kernel re-checks its guards and a
mismatch makes `ad.jit` trace again for that input.
"""
import os

import numpy as np

from .. import ops
from ..core.registry import Traced
from ..ops.methods import attach, attach_inplace


class GuardFailure(Exception):
    """Raised by a compiled kernel when its input does not match what it was traced for
    (shapes, a branch taken by Python control flow, a value read with float()/int())."""


class Fallback(Exception):
    """Tracing cannot continue (something the compiler cannot express): run eagerly."""


class TraceTooLong(Fallback):
    """The trace grew past MAX_TRACE entries: compiling it would take long (numba's time grows
    faster than the function's length), so ad.jit runs the function eagerly instead."""


# ad.jit's vectorized programs trace a few hundred ops at most; a Python loop unrolled step by
# step grows the trace with every step (and numba's compile time with it: a 700-op trace takes
# ~10 s). Past this many entries tracing stops.
MAX_TRACE = int(os.environ.get("ADJIT_MAX_TRACE", "1000"))


class Var:
    """One value of a trace: a function argument, a constant or an op's result."""
    __slots__ = ("id", "kind", "op", "inputs", "params", "tparams", "shape", "dtype", "value",
                 "pos")

    def __init__(self, id, kind, shape, dtype, value=None, op=None, inputs=(), params=None,
                 tparams=None, pos=None):
        self.id, self.kind, self.shape, self.dtype = id, kind, tuple(shape), np.dtype(dtype)
        self.value, self.op, self.inputs = value, op, tuple(inputs)
        self.params = params or {}
        self.tparams = tparams or {}   # param name -> var id, for params holding traced values
        self.pos = pos                 # argument position (kind == "arg")

    @property
    def size(self):
        return int(np.prod(self.shape)) if self.shape else 1

    def __repr__(self):
        what = self.op.name if self.op is not None else self.kind
        return f"v{self.id}:{what}{list(self.inputs)}{self.shape}"


class Trace:
    def __init__(self, level):
        self.level = level
        self.vars = []
        self.guards = []          # (var id, kind "bool" | "eq", expected value)
        self._const_ids = {}      # id(python object) -> var id (object kept alive in Var.value)

    def _new(self, kind, value, **kw):
        v = Var(len(self.vars), kind, np.shape(value), _dtype_of(value), value=value, **kw)
        self.vars.append(v)
        return v

    def arg(self, value, pos):
        if isinstance(value, np.ndarray):
            value = value.copy()  # the trace must not see later in-place changes
        v = self._new("arg", value, pos=pos)
        return Tracer(self, v.id, value)

    def const(self, value):
        key = id(value)
        vid = self._const_ids.get(key)
        if vid is not None and self.vars[vid].value is value:
            return vid
        if isinstance(value, (list, tuple)):
            value = np.asarray(value)
        v = self._new("const", value)
        self._const_ids[key] = v.id
        return v.id

    def record(self, op, in_ids, params, tparams, out):
        if len(self.vars) >= MAX_TRACE:
            raise TraceTooLong(
                f"the traced function grew past {MAX_TRACE} operations (a Python loop traced "
                "step by step?), so it is not compiled. Write the loop with ad.fori_loop or "
                "ad.scan, or as `for i in range(n):` with a body that only assigns variables "
                "(ad.jit compiles those as one loop), or shorten it; the environment variable "
                "ADJIT_MAX_TRACE sets the limit")
        if isinstance(out, Traced):
            raise Fallback(f"op '{op.name}' returned a wrapped value on traced inputs")
        v = self._new("op", out, op=op, inputs=in_ids, params=params, tparams=tparams)
        v.value = None  # concrete values live in the tracers only
        return Tracer(self, v.id, out)

    def guard(self, vid, kind, expected):
        self.guards.append((vid, kind, expected))


def _dtype_of(value):
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype
    if isinstance(value, bool):
        return np.dtype(bool)
    if isinstance(value, int):
        return np.dtype(np.int64)
    if isinstance(value, float):
        return np.dtype(np.float64)
    if isinstance(value, complex):
        return np.dtype(np.complex128)
    return np.asarray(value).dtype


def held_value(a, trace, where):
    """The value inside f that a wrapper of a lower level stands for: a Tensor that does not
    require grad (made inside f by ad.ones / ad.zeros_like / ad.tensor, or closed over: a
    constant frozen at trace time, as closed-over arrays are) holds an array, or a tracer of
    this trace after `y[i] = x`. Eagerly such a Tensor's ops only read its data too."""
    c = a._constant() if a._level < trace.level else None
    if type(c) is Tracer and c._trace is trace:
        return c
    if c is None or isinstance(c, Traced):
        what = f"a {type(a).__name__}" + (
            (" that requires grad" if a._what == "tensor" else " that carries a derivative")
            if a._carries_derivative() else " of an outer transform")
        raise Fallback(f"{where} {what}, on which ad.jit records no graph: pass it as an "
                       "argument of the jitted function (ad.jit(ad.grad(f)) for its gradient) "
                       "or use its value (t.detach())")
    return c


class Tracer(Traced):
    """A value inside a function being traced by `ad.jit`."""
    __slots__ = ("_trace", "_id", "_val", "_level")
    _fills_tensor = True
    _what = "traced value"
    __array_priority__ = 2000  # ndarray <op> tracer defers to the tracer's reflected operators
    _symbolic = True

    def __init__(self, trace, vid, value):
        self._trace, self._id, self._val, self._level = trace, vid, value, trace.level

    def _raw(self):
        # Rules of the op table read primal values (masks, shapes) through here: they see the
        # concrete value of this trace.
        return self._val

    # -- the tracing layer -------------------------------------------------------------------
    @staticmethod
    def _apply(op, args, params, level):
        if op.lower is None:
            raise Fallback(f"op {op.name} is not supported by the compiler")
        trace = None
        for a in args:
            if type(a) is Tracer and a._level == level:
                trace = a._trace
                break
        if trace is None:   # only a param is traced (e.g. where's condition)
            for p in params.values():
                if type(p) is Tracer and p._level == level:
                    trace = p._trace
                    break
        vals, ins = [], []
        holder = None   # a Tensor made in f: eagerly the op gives a Tensor, so it does here
        for a in args:
            if type(a) is Tracer:
                if a._level != level:
                    raise Fallback("a traced value escaped the ad.jit call that made it")
                vals.append(a._val)
                ins.append(a._id)
            elif isinstance(a, Traced):
                c = held_value(a, trace, f"op '{op.name}' mixes a traced value with")
                holder = a
                if type(c) is Tracer:
                    vals.append(c._val)
                    ins.append(c._id)
                else:
                    vals.append(c)
                    ins.append(trace.const(c))
            else:
                vals.append(a)
                ins.append(trace.const(a))
        tparams = {}
        if params:
            pv = {}
            for k, p in params.items():
                if type(p) is Tracer:
                    if p._level != level:
                        raise Fallback("a traced value escaped the ad.jit call that made it")
                    tparams[k] = p._id
                    pv[k] = p._val
                elif isinstance(p, Traced):
                    raise Fallback(f"op '{op.name}' got a {type(p).__name__} parameter")
                else:
                    pv[k] = p
            out = op(*vals, **pv)
            params = {k: v for k, v in params.items() if k not in tparams}
        else:
            out = op(*vals)
        res = trace.record(op, tuple(ins), params, tparams, out)
        return res if holder is None else holder._holding(res)

    # -- attributes --------------------------------------------------------------------------
    @property
    def shape(self):
        return tuple(np.shape(self._val))

    @property
    def size(self):
        return int(np.size(self._val))

    @property
    def dtype(self):
        return _dtype_of(self._val)

    def __repr__(self):
        return f"Tracer(shape={self.shape}, dtype={self.dtype}, value={self._val!r})"

    # -- reading the value: guards -----------------------------------------------------------
    def _one(self, what):
        if np.size(self._val) != 1:
            raise RuntimeError(f"{what} of a traced value with {np.size(self._val)} elements is "
                               "ambiguous; use .any() or .all(), or reduce it first")
        return np.asarray(self._val).reshape(()).item()

    def __bool__(self):
        r = bool(self._one("Boolean value"))
        self._trace.guard(self._id, "bool", r)
        return r

    def item(self):
        r = self._one("item()")
        self._trace.guard(self._id, "eq", r)
        return r

    def tolist(self):
        raise Fallback(".tolist() of a traced value")

    def __array__(self, dtype=None, copy=None):
        raise Fallback("a traced value was converted to a NumPy array (np.asarray, or a NumPy "
                       "function given a list of traced values); use ad.* ops or the NumPy "
                       "functions adjit implements inside jitted functions")

    def index_value(self):
        """Used as an index (x[i], x[[i, j]]): the compiler has no gather by run-time indices."""
        raise Fallback("an index array that is an argument of the jitted function (x[i] with i "
                       "traced) is not compiled yet; close over it instead (a constant of the "
                       "kernel: ad.jit(lambda x: f(x, i))), or index outside ad.jit")

    def _no_numpy_row(self, name):
        # core/numpy_protocol.py: a NumPy function without a row would freeze its value
        raise Fallback(f"{name} is a NumPy function without an adjit row, so it cannot be "
                       "compiled")

    def numpy(self):
        raise Fallback(".numpy() of a traced value")

    # -- item assignment ---------------------------------------------------------------------
    def _become(self, fn, *args):
        # the in-place primitive of t[idx] = v and t += v (ops/methods.attach_inplace): this
        # tracer now stands for the op's result
        res = fn(self, *args)
        if type(res) is not Tracer or res._trace is not self._trace:
            raise Fallback(f"a {type(args[-1]).__name__} was written into a traced array")
        self._id, self._val = res._id, res._val
        return self


attach(Tracer)
attach_inplace(Tracer)
Tracer.any = lambda self: ops.max(ops.not_equal(self, 0))
Tracer.all = lambda self: ops.min(ops.not_equal(self, 0))


def _getitem_in_loops(self, idx, _plain=Tracer.__getitem__):
    # inside an ad.scan / ad.fori_loop body (loopop.BodyTrace) x[i + c] reads a row of a
    # slice scanned with the loop instead of indexing x with the traced loop index
    hoist = getattr(self._trace, "hoist", None)
    if hoist is not None:
        r = hoist(self, idx if isinstance(idx, tuple) else (idx,))
        if r is not None:
            return r
    return _plain(self, idx)


Tracer.__getitem__ = _getitem_in_loops
