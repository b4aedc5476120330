"""Reverse mode: PyTorch-style tensors, the recorded graph (tape) and the backward engine.

Each recorded op makes a `Node` holding the op, the values its VJP reads, and links to the
nodes (or leaf tensors) that produced its inputs. Nodes do not point back at tensors, so
dropping a result frees its graph, and a backward without retain_graph frees the saved values.
"""
import itertools
import weakref

import numpy as np

from .. import ops
from ..core import grad_mode
from ..core.registry import EAGER_LEVEL, Op, Traced
from ..core.registry import primal_of as _inner
from ..ops.axes import cond_of as _value
from ..ops.methods import attach, norm_index
from ..ops.shape import index_update
from ..ops.shape import unbroadcast as _unbroadcast


# Node creation counter. A node is made after the nodes of its inputs, so decreasing `seq` is a
# topological order of any graph (consumers before producers), as PyTorch's sequence numbers.
_created = itertools.count()


class Node:
    __slots__ = ("seq", "op", "next", "needs", "raw", "out", "params", "saved", "pre_hooks",
                 "retain", "level", "freed", "__weakref__")

    def __init__(self, op, nxt, needs, raw, out, params, saved, level):
        self.seq = next(_created)  # after the nodes of its inputs: the engine's order
        self.op, self.next, self.needs, self.raw, self.out = op, nxt, needs, raw, out
        self.params, self.saved, self.level = params, saved, level
        self.pre_hooks = self.retain = None
        self.freed = False

    def name(self):
        return self.op.backward_name

    def __repr__(self):
        return f"<{self.op.backward_name} object at {id(self):#x}>"

    @property
    def next_functions(self):
        return tuple((n if isinstance(n, Node) else None, 0) for n in self.next)

    def _check(self):
        if self.freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time.")
        for box, version in self.saved:
            if box[0] != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: the value saved by {self.op.backward_name} is at "
                    f"version {box[0]}; expected version {version} instead. Hint: clone() the "
                    "tensor before modifying it in place, or do the in-place change before "
                    "using the tensor in the computation.")

    def apply(self, g, create_graph):
        if self.freed:
            self._check()
        for box, version in self.saved:
            if box[0] != version:
                self._check()
        if create_graph and self.level == EAGER_LEVEL:
            inputs = tuple(_rebuild(r, n) for r, n in zip(self.raw, self.next))
            out = Tensor._make(self.out, self.level, self)
        else:
            inputs, out = self.raw, self.out
        cts = self.op.backward(g, out, inputs, self.params, self.needs)
        if self.op.broadcast:
            raw = self.raw
            for i, c in enumerate(cts):
                if c is not None:
                    r = raw[i]
                    if type(c) is np.ndarray and type(r) is np.ndarray and c.shape == r.shape:
                        continue
                    if _shape(c) != _shape(r):
                        if type(cts) is not list:
                            cts = list(cts)
                        cts[i] = _unbroadcast(c, np.shape(_inner(r)))
        return cts


def _shape(v):
    # np.shape costs ~0.3 us through its dispatcher; arrays and NumPy scalars have .shape
    s = getattr(v, "shape", None)
    return s if type(s) is tuple else np.shape(v)


def _rebuild(raw, nxt):
    if nxt is None:
        return raw
    if isinstance(nxt, Tensor):
        return nxt
    return Tensor._make(raw, nxt.level, nxt)


class RemovableHandle:
    def __init__(self, lst, fn):
        self._lst, self._fn = lst, fn

    def remove(self):
        try:
            self._lst.remove(self._fn)
        except ValueError:
            pass


def _as_array(data, dtype=None):
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, (list, tuple)):
        data = [d._data if isinstance(d, Tensor) else d for d in data]
    if isinstance(data, Traced):
        raise TypeError("adjit.tensor: cannot make a tensor from a dual number or traced value; "
                        "use the value directly")
    try:
        arr = np.array(data, dtype=dtype)
    except (ValueError, TypeError) as e:
        raise TypeError(f"adjit.tensor: could not convert {type(data).__name__} to a numeric "
                        f"array: {e}") from None
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"adjit.tensor: expected numbers, got an array of dtype {arr.dtype} "
                        f"(from {type(data).__name__}); adjit works on bool, int and float data")
    return arr


class Tensor(Traced):
    __slots__ = ("_data", "_level", "_rg", "_grad_fn", "_grad", "_box", "_hooks", "__weakref__")
    _what = "tensor"
    __array_priority__ = 1000  # so ndarray <op> Tensor defers to Tensor's reflected operators

    def __init__(self, data, requires_grad=False, dtype=None):
        self._data = _as_array(data, dtype)
        self._level = EAGER_LEVEL
        self._grad_fn = None
        self._grad = None
        self._box = [0]
        self._hooks = None
        self._rg = False
        if requires_grad:
            if self._data.dtype.kind not in "fc":
                self.requires_grad = True  # raises the explanatory error
            self._rg = True

    @classmethod
    def _make(cls, data, level, node=None):
        t = cls.__new__(cls)
        t._data, t._level, t._grad_fn, t._grad = data, level, node, None
        t._box, t._hooks, t._rg = [0], None, node is not None
        return t

    def _raw(self):
        return self._data

    # -- the reverse-mode layer --------------------------------------------------------------
    @staticmethod
    def _apply(op, args, params, level):
        raw, nxt, needs = [], [], []
        rec = False
        plain = True  # no wrapper left among the raw values: call the primal directly
        for a in args:
            if isinstance(a, Tensor):
                if a._level == level:
                    if a._rg:
                        rec = True
                        nxt.append(a._grad_fn or a)
                        needs.append(True)
                    else:
                        nxt.append(None)
                        needs.append(False)
                    a = a._data
                else:
                    nxt.append(None)
                    needs.append(False)
                    if not a._rg:
                        a = a._data
            else:
                nxt.append(None)
                needs.append(False)
            if plain and isinstance(a, Traced):
                plain = False
            raw.append(a)
        out = op.call_primal(raw, params) if plain else op(*raw, **params)
        res = Tensor.__new__(Tensor)
        res._data, res._level, res._grad, res._box, res._hooks = out, level, None, [0], None
        if not rec or op.nondiff or (level == EAGER_LEVEL and not grad_mode.state.enabled):
            res._grad_fn = None
            res._rg = False
            return res
        saved = [(a._box, a._box[0]) for a in args
                 if isinstance(a, Tensor) and a._level == level] if op.saves_in else []
        if op.saves_out:
            saved.append((res._box, 0))
        res._grad_fn = Node(op, nxt, needs, raw, out, params, saved, level)
        res._rg = True
        return res

    # -- attributes --------------------------------------------------------------------------
    @property
    def data(self):
        return Tensor._make(self._data, self._level)

    @property
    def shape(self):
        s = getattr(self._data, "shape", None)
        return s if type(s) is tuple else tuple(np.shape(self._data))

    @property
    def dtype(self):
        d = _inner(self._data)
        return d.dtype if hasattr(d, "dtype") else np.asarray(d).dtype

    @property
    def size(self):
        return int(np.size(_inner(self._data)))

    @property
    def requires_grad(self):
        return self._rg

    @requires_grad.setter
    def requires_grad(self, flag):
        if self._grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. This tensor is the "
                f"result of {self._grad_fn.name()}; set requires_grad on the leaf inputs before "
                "computing it, or use .detach() to get a new leaf.")
        if flag and self.dtype.kind not in "fc":
            raise RuntimeError(
                f"only floating point tensors can require gradients (this one has dtype "
                f"{self.dtype}); create it with a float dtype, e.g. ad.tensor([1., 2.]) or "
                "dtype=np.float64")
        self._rg = bool(flag)

    def requires_grad_(self, flag=True):
        self.requires_grad = flag
        return self

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None and not isinstance(value, Tensor):
            value = Tensor(value)
        if value is not None and value.shape != self.shape:
            raise RuntimeError(f"assigned grad has shape {value.shape}, but the tensor has "
                               f"shape {self.shape}")
        self._grad = value

    def retain_grad(self):
        if self._grad_fn is None:
            return
        self._grad_fn.retain = weakref.ref(self)

    def register_hook(self, fn):
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            if self._grad_fn.pre_hooks is None:
                self._grad_fn.pre_hooks = []
            lst = self._grad_fn.pre_hooks
        else:
            if self._hooks is None:
                self._hooks = []
            lst = self._hooks
        lst.append(fn)
        return RemovableHandle(lst, fn)

    def detach(self):
        return Tensor._make(self._data, self._level)

    def detach_(self):
        self._grad_fn, self._rg = None, False
        return self

    def clone(self):
        if self._rg:
            return ops.mul(self, 1.0)
        return Tensor._make(np.array(self._data, copy=True), self._level)

    def item(self):
        d = _inner(self._data)
        if np.size(d) != 1:
            raise ValueError(f"a Tensor with {np.size(d)} elements cannot be converted to "
                             "Scalar; index it or reduce it first (e.g. .sum())")
        if isinstance(self._data, Traced):
            return self._data.item()  # a traced value underneath (ad.jit) records the read
        return np.asarray(d).item()

    def tolist(self):
        return np.asarray(_value(self._data)).tolist()

    def numpy(self):
        if self._rg:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return np.asarray(_value(self._data))

    def __array__(self, dtype=None, copy=None):
        a = np.asarray(_value(self._data))
        return a.astype(dtype) if dtype is not None else a

    def __bool__(self):
        d = _inner(self._data)
        if np.size(d) != 1:
            raise RuntimeError(f"Boolean value of Tensor with {np.size(d)} elements is "
                               "ambiguous; use .any() or .all()")
        if isinstance(self._data, Traced):
            return bool(self._data)  # a traced value underneath (ad.jit) records the branch
        return bool(np.asarray(d).item())

    def __repr__(self):
        return _repr(self)

    # -- in place ----------------------------------------------------------------------------
    def _inplace(self, fn, *args):
        """Rebind self to fn(self, *args). Under no_grad (or with nothing to record) only the
        value changes; otherwise the op is recorded and self becomes its result. Either way the
        version counter moves, so a backward that saved the old value raises."""
        if self._grad_fn is None and self._rg and grad_mode.is_grad_enabled():
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation. "
                "Wrap the update in `with ad.no_grad():` (as for `w -= lr * w.grad`).")
        if not grad_mode.state.enabled or not (
                self._rg or any(isinstance(a, Tensor) and a._rg for a in args)):
            d = self._data
            if type(d) is np.ndarray and isinstance(fn, Op) and len(args) == 1:
                # the optimizer step (w -= lr * w.grad under no_grad): NumPy values only, no
                # tensor or graph in between
                o = args[0]
                if isinstance(o, Tensor) and o._level == self._level:
                    o = o._data
                if not isinstance(o, Traced):
                    new = fn.call_primal((d, o), {})
                    self._data = new if type(new) is np.ndarray and new.dtype == d.dtype \
                        else np.asarray(new).astype(d.dtype, copy=False)
                    self._box[0] += 1
                    return self
            res = fn(Tensor._make(self._data, self._level), *args)
            new = res._data if isinstance(res, Tensor) else res
            self._data = np.asarray(new).astype(self.dtype, copy=False) \
                if not isinstance(new, Traced) else new
        else:
            snap = Tensor._make(self._data, self._level, self._grad_fn)
            snap._rg, snap._box = self._rg, [self._box[0]]
            res = fn(snap, *args)
            self._data, self._grad_fn, self._rg = res._data, res._grad_fn, res._rg
        self._box[0] += 1
        return self

    def zero_(self):
        d = self._data
        if type(d) is np.ndarray and (self._grad_fn is None and not self._rg
                                      or not grad_mode.state.enabled):
            self._data = np.zeros(d.shape, d.dtype)  # .grad.zero_(): nothing to record
            self._box[0] += 1
            return self
        return self._inplace(lambda t: np.zeros_like(np.asarray(_inner(t._data))))

    def fill_(self, value):
        return self._inplace(lambda t: np.full_like(np.asarray(_inner(t._data)), value))

    def add_(self, other):
        return self.__iadd__(other)

    def sub_(self, other):
        return self.__isub__(other)

    def mul_(self, other):
        return self.__imul__(other)

    def div_(self, other):
        return self.__itruediv__(other)

    def __setitem__(self, idx, value):
        idx = norm_index(idx)
        self._inplace(lambda t, v: index_update(t, v, idx=idx), value)


def _repr(t):
    data = np.asarray(_inner(t._data))
    # as PyTorch prints: integral floats as "4.", otherwise four fixed decimals
    fixed = data.dtype.kind == "f" and data.size and not np.all(
        np.equal(np.mod(data[np.isfinite(data)], 1), 0))
    body = np.array2string(data, separator=", ", prefix="tensor(", precision=4,
                           floatmode="fixed" if fixed else "maxprec")
    extras = []
    if data.dtype.kind == "f" and data.dtype != np.float64:
        extras.append(f"dtype={data.dtype}")
    if t._grad_fn is not None:
        extras.append(f"grad_fn=<{t._grad_fn.name()}>")
    elif t._rg:
        extras.append("requires_grad=True")
    inner = ", ".join([body] + extras)
    return f"tensor({inner})"


attach(Tensor)


def _make_inplace(op):
    def method(self, other):
        return self._inplace(op, other)
    return method


Tensor.__iadd__ = _make_inplace(ops.add)
Tensor.__isub__ = _make_inplace(ops.sub)
Tensor.__imul__ = _make_inplace(ops.mul)
Tensor.__itruediv__ = _make_inplace(ops.div)
Tensor.any = lambda self: Tensor(np.any(np.asarray(self)))
Tensor.all = lambda self: Tensor(np.all(np.asarray(self)))
