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
from ..core.complexrule import is_complex
from ..core.registry import EAGER_LEVEL, OPS, Traced
from ..core.registry import primal_of as _inner
from ..ops.axes import cond_of as _value
from ..ops.complex_rows import real_cotangents
from ..ops.methods import attach, norm_index, stored
from ..ops.shape import index_update
from ..ops.shape import unbroadcast as _unbroadcast
from .convert import is_scalar, kept_unread, numeric_array, placeholder, shape_of, sum_to
from .hooks import RemovableHandle
from .inplace import apply_inplace, write
from .printing import tensor_repr


# Node creation counter. A node is made after the nodes of its inputs, so decreasing `seq` is a
# topological order of any graph (consumers before producers), as PyTorch's sequence numbers.
_created = itertools.count()


class Node:
    __slots__ = ("seq", "op", "next", "needs", "raw", "out", "params", "saved", "pre_hooks",
                 "retain", "level", "freed", "reads", "__weakref__")

    def __init__(self, op, nxt, needs, raw, out, params, saved, level, reads):
        self.seq = next(_created)  # after the nodes of its inputs: the engine's order
        self.op, self.next, self.needs, self.raw, self.out = op, nxt, needs, raw, out
        self.params, self.saved, self.level = params, saved, level
        self.reads = reads   # op.reads(needs): (inputs the VJP reads, whether it reads out)
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

    def free(self):
        """After a backward without retain_graph: drop the values the VJP reads (unless constant
        scalars), the others become shape-only placeholders (rules read shapes; arrays of up to
        64 elements stay). A node that kept all it reads can run again, as in PyTorch
        ((x + 1).sum() twice works, x.sin() raises)."""
        if self.freed:
            return
        rin, rout = self.reads
        # a transform's private graph never runs again (placeholders cost ~20% of an eager
        # ad.hessian); a node that read the output or a non-constant input cannot run again
        lost = rout or self.level != EAGER_LEVEL
        if not lost:
            raw, nxt = self.raw, self.next
            for j in rin:
                if nxt[j] is not None or not is_scalar(raw[j]):
                    lost = True   # kept: only constant scalars (the 2.0 of x * 2.0), as PyTorch
                    break
        if lost:
            self.raw = self.out = None
            self.freed = True
            return
        raw = self.raw
        for j, r in enumerate(raw):
            if j not in rin and not kept_unread(r):
                self.raw = tuple(r if j in rin else placeholder(r) for j, r in enumerate(raw))
                break
        if not kept_unread(self.out):
            self.out = placeholder(self.out)

    def apply(self, g, create_graph):
        if self.freed:
            self._check()
        for box, version in self.saved:
            if box[0] != version:
                self._check()
        op = self.op
        if create_graph and self.level == EAGER_LEVEL:
            inputs = tuple(_rebuild(r, n) for r, n in zip(self.raw, self.next))
            out = Tensor._make(self.out, self.level, self)
        else:
            inputs, out = self.raw, self.out
        cts = op.backward(g, out, inputs, self.params, self.needs)
        if op.broadcast:
            raw = self.raw
            for i, c in enumerate(cts):
                if c is not None:
                    r = raw[i]
                    try:   # arrays and NumPy scalars have .shape (np.shape costs ~0.3 us)
                        if c.shape == r.shape:
                            continue
                    except AttributeError:
                        pass
                    if shape_of(c) != shape_of(r):
                        if type(cts) is not list:
                            cts = list(cts)
                        cts[i] = sum_to(c, r) if type(c) is np.ndarray and \
                            type(r) is np.ndarray else _unbroadcast(c, np.shape(_inner(r)))
        o = self.out
        t = type(o)
        if t is np.ndarray:
            if o.dtype.kind == "c":
                cts = real_cotangents(cts, self.raw)
        elif t is not np.float64 and t is not float and is_complex(o):
            cts = real_cotangents(cts, self.raw)
        return cts


def _rebuild(raw, nxt):
    if nxt is None:
        return raw
    if isinstance(nxt, Tensor):
        return nxt
    return Tensor._make(raw, nxt.level, nxt)


def _as_array(data, dtype=None):
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, (list, tuple)):
        data = [d._data if isinstance(d, Tensor) else d for d in data]
    return numeric_array(data, dtype)


class Tensor(Traced):
    __slots__ = ("_data", "_level", "_rg", "_grad_fn", "_grad", "_box", "_hooks", "_base")
    _what = "tensor"
    __array_priority__ = 1000  # so ndarray <op> Tensor defers to Tensor's reflected operators

    def __init__(self, data, requires_grad=False, dtype=None):
        self._data = _as_array(data, dtype)
        self._level = EAGER_LEVEL
        self._grad_fn = None
        self._grad = None
        self._box = [0]
        self._hooks = None
        self._base = None
        self._rg = False
        if requires_grad:
            if self._data.dtype.kind not in "fc":
                self.requires_grad = True  # raises the explanatory error
            self._rg = True

    @classmethod
    def _make(cls, data, level, node=None):
        t = cls.__new__(cls)
        t._data, t._level, t._grad_fn, t._grad = data, level, node, None
        t._box, t._hooks, t._rg, t._base = [0], None, node is not None, None
        return t

    def _raw(self):
        return self._data

    # -- the reverse-mode layer --------------------------------------------------------------
    @staticmethod
    def _apply(op, args, params, level):
        # the hot path of every eager op: one pass over the inputs, the primal called here
        # (no dispatch layer in between when no wrapper is left), the node built only when
        # something is recorded
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
        if plain:
            try:
                out = op.primal(*raw, **params)
            except (ValueError, TypeError):
                out = op.call_primal(raw, params)   # raises adjit's clear error
        else:
            out = op(*raw, **params)
        res = Tensor.__new__(Tensor)
        res._data = out
        res._level = level
        res._grad = res._hooks = res._base = None
        res._box = box = [0]
        if not rec or op.nondiff or (level == EAGER_LEVEL and not grad_mode.state.enabled):
            res._grad_fn = None
            res._rg = False
            return res
        needs = tuple(needs)
        reads = op.reads_cache.get(needs)
        if reads is None:
            if len(op.reads_cache) > 256:   # n-ary ops (stack of many tensors): stay bounded
                op.reads_cache.clear()
            reads = op.reads_cache[needs] = \
                op.reads(needs) if op.saves_in or op.saves_out else ((), False)
        rin, rout = reads
        saved = []
        # only the values the VJP reads for these cotangents are version-checked: in
        # b = a * 3 the cotangent of a needs 3, so a += 1 afterwards is harmless
        for j in rin:
            a = args[j]
            if isinstance(a, Tensor) and a._level == level:
                saved.append((a._box, a._box[0]))
        if rout:
            saved.append((box, 0))
        res._grad_fn = Node(op, nxt, needs, raw, out, params, saved, level, reads)
        res._rg = True
        return res

    # -- attributes --------------------------------------------------------------------------
    @property
    def data(self):
        """The value as a tensor that does not require grad. As in PyTorch it is an alias:
        in-place changes of it (`w.data.zero_()`, `w.data[1] = 7`) change this tensor's value,
        without recording anything or moving its version (the graph keeps the values it saw)."""
        t = Tensor._make(self._data, self._level)
        t._base = self
        return t

    @data.setter
    def data(self, value):
        # `w.data = v` (and `w.data += 1`): a new value for w, recorded nowhere, as PyTorch
        self._data = _as_array(value) if not isinstance(value, Tensor) else value._data

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
            if flag:
                return   # a computed result already requires grad: a no-op, as PyTorch
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

    def _drops_derivative(self):
        # a Tensor of a transform (ad.grad ...), as JAX's tracers; the Tensor API's own
        # tensors convert as PyTorch's do (loss.item() detaches)
        return self._rg and self._level != EAGER_LEVEL

    def item(self):
        self._check_number(".item()")
        return self._item()

    def _item(self):
        d = _inner(self._data)
        if np.size(d) != 1:
            raise ValueError(f"a Tensor with {np.size(d)} elements cannot be converted to "
                             "Scalar; index it or reduce it first (e.g. .sum())")
        if isinstance(self._data, Traced):
            return self._data._item()  # a traced value underneath (ad.jit) records the read
        return np.asarray(d).item()

    def tolist(self):
        self._check_number(".tolist()")
        return np.asarray(_value(self._data)).tolist()

    def numpy(self):
        if self._rg:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return np.asarray(_value(self._data))

    def _carries_derivative(self):
        return self._rg

    def _constant(self):
        return None if self._rg else self._data

    def _holding(self, value):
        return Tensor._make(value, self._level)

    def __array__(self, dtype=None, copy=None):
        if self._rg:  # as PyTorch's .numpy(): converting would silently drop the gradient
            raise TypeError(
                "adjit: cannot convert a tensor that requires grad to a NumPy array (np.asarray "
                "or np.array of it, of a Python list holding it, or writing it into a NumPy "
                "array): its gradient would be lost. Use t.detach() for the value; keep "
                "differentiating with ad.* ops or the NumPy functions adjit implements (and "
                "ad.stack for a list of tensors, ad.zeros(n) with y[i] = v for a buffer).")
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
        return tensor_repr(_inner(self._data), self._grad_fn, self._rg)

    # -- in place ----------------------------------------------------------------------------
    def _inplace(self, fn, *args):
        """Rebind self to fn(self, *args), recorded when it must be, NumPy's views following
        (reverse/inplace.py)."""
        return write(Tensor, self, fn, args)

    def _become(self, fn, *args):   # the same without the views (ops/views.py calls it)
        return apply_inplace(Tensor, self, fn, *args)

    def zero_(self):
        d = self._data
        if type(d) is np.ndarray and self._base is None and not hasattr(self, "_views") and (
                self._grad_fn is None and not self._rg or not grad_mode.state.enabled):
            self._data = np.zeros(d.shape, d.dtype)  # .grad.zero_(): nothing to record
            self._box[0] += 1
            return self
        return self.fill_(0)

    def fill_(self, value):
        # recorded as where(True, value, t): the value everywhere, a zero gradient to the old
        # value (as PyTorch's FillBackward), and no 0 * inf = NaN
        return self._inplace(lambda t: ops.where(np.True_, np.asarray(value, dtype=t.dtype), t))

    def __setitem__(self, idx, value):
        idx = norm_index(idx)
        write(Tensor, self, lambda t, v: index_update(t, v, idx=idx), (stored(self, value),), idx)


attach(Tensor)
# t.add_(v) ... as PyTorch: the in-place operators
for _name, _op in (("add_", "__iadd__"), ("sub_", "__isub__"), ("mul_", "__imul__"),
                   ("div_", "__itruediv__")):
    setattr(Tensor, _name, lambda self, other, _op=_op: getattr(self, _op)(other))


def _operator(op, reflected):
    # Tensor's own operators skip the registry's dispatch when this tensor is the top wrapper
    # (the other operand is plain or a tensor of the same level): one layer less per op
    if reflected:
        def method(self, other):
            if not isinstance(other, Traced) or \
                    type(other) is Tensor and other._level == self._level:
                return Tensor._apply(op, (other, self), {}, self._level)
            return op(other, self)
    else:
        def method(self, other):
            if not isinstance(other, Traced) or \
                    type(other) is Tensor and other._level == self._level:
                return Tensor._apply(op, (self, other), {}, self._level)
            return op(self, other)
    return method


for _op in OPS.values():
    if _op.operator is not None:
        setattr(Tensor, f"__{_op.operator}__", _operator(_op, False))
        if not _op.nondiff:
            setattr(Tensor, f"__r{_op.operator}__", _operator(_op, True))


def _make_inplace(op):
    def method(self, other):
        return self._inplace(op, other)
    return method


for _name, _op in (("iadd", ops.add), ("isub", ops.sub), ("imul", ops.mul), ("itruediv", ops.div)):
    setattr(Tensor, f"__{_name}__", _make_inplace(_op))


def _index_of(npf):
    # no derivative: the indices of the innermost values (PyTorch's argmax/argmin, dim= or axis=)
    def method(self, dim=None, keepdim=False, *, axis=None):
        r = npf(_value(self._data), axis=dim if axis is None else axis, keepdims=keepdim)
        # under ad.jit the innermost value is a tracer: its indices are one too (computed by
        # the kernel), not a Tensor's data
        return r if isinstance(r, Traced) else Tensor(r)
    return method


Tensor.argmax, Tensor.argmin = _index_of(np.argmax), _index_of(np.argmin)
Tensor.copy = lambda self: self.clone()
Tensor.exp_ = lambda self: self._inplace(ops.exp)
Tensor.any = lambda self: Tensor(np.any(np.asarray(_value(self._data))))
Tensor.all = lambda self: Tensor(np.all(np.asarray(_value(self._data))))
