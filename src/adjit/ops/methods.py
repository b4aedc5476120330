"""Operators and methods every wrapper type (Tensor, Dual, ad.jit's Tracer) gets, all routed
through the op rows: the rows' `operator` and `methods` declare them (derived below); the
PyTorch-signature methods that are not one row's public function are written here."""
import numpy as np

from .. import ops
from ..core import numpy_protocol
from ..core.registry import OPS, Traced, method_table
from . import views
from .axes import cond_of
from .docstrings import OWN, pointer


def _rev(op):
    return lambda self, other: op(other, self)


def norm_index(idx):
    """An indexing key as the getitem row takes it: a tuple, with traced indices read as arrays
    and 0-d integer arrays as ints."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    for i in idx:
        if isinstance(i, Traced):
            v = cond_of(i)
            # an ad.jit tracer cannot become a concrete index: it says why (trace.py)
            i = v.index_value() if isinstance(v, Traced) else np.asarray(v)
        elif isinstance(i, list):
            # NumPy reads an empty list as an empty integer index (np.asarray([]) is float)
            i = np.asarray([cond_of(v) if isinstance(v, Traced) else v for v in i],
                           dtype=None if i else np.intp)
        elif isinstance(i, (bool, np.bool_)):
            # a scalar bool is NumPy's 0-d mask (a new axis of length 1 or 0), not the integer
            # 1 or 0 that a bool also is (ad.jit's kernel read a[True] as a[1])
            i = np.asarray(i)
        if isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iu":
            i = int(i)
        out.append(i)
    return tuple(out)


def stored(target, value):
    """value as `target[idx] = value` stores it: in target's dtype (NumPy casts unsafely: a
    float into an integer array truncates, carrying no derivative; float64 into float32 stays
    float32 and differentiates). Complex values and non-numeric targets are left to the
    index_update row."""
    dt = np.dtype(target.dtype)
    vdt = value.dtype if isinstance(value, Traced) else np.asarray(value).dtype
    if vdt == dt or dt.kind not in "biuf" or np.dtype(vdt).kind not in "biuf":
        return value
    if isinstance(value, Traced):
        return ops.astype(value, dt)
    return np.asarray(value).astype(dt)


def _getitem(self, idx):
    idx = norm_index(idx)
    out = ops.getitem(self, idx=idx)
    views.note_view(self, out, idx)   # a later write into either shows in the other (NumPy)
    return out


def _setitem(self, idx, value):
    """a[idx] = v: a becomes index_update(a, v, idx), recorded like any op (inside ad.jit the
    kernel writes into a copy: the caller's array is never changed); its NumPy views follow
    (ops/views.py)."""
    idx = norm_index(idx)
    views.check_write(self, idx)
    self._become(lambda a, v: ops.index_update(a, v, idx=idx), stored(self, value))
    views.written(self, idx)


def attach_inplace(cls):
    """`a[idx] = v`, `a += b` ... change `a` itself and its views, as NumPy's, for a wrapper
    class with `_become` (dual numbers, ad.jit's tracers, ad.vmap's values; Tensor records its
    own in reverse/inplace.py)."""
    cls.__setitem__ = _setitem
    views.inplace_operators(cls)


def _transpose(self, *dims, dim0=None, dim1=None):
    # PyTorch: t.transpose(d0, d1) swaps two dims (NumPy's t.transpose(1, 0) would permute)
    if dim0 is not None:
        dims = (dim0, dim1)
    if len(dims) != 2 or not all(isinstance(d, (int, np.integer)) for d in dims):
        return ops.transpose(self, *dims)  # NumPy's permutation, for any other arguments
    nd = self.ndim
    axes = list(range(nd))
    a, b = int(dims[0]) % nd, int(dims[1]) % nd
    axes[a], axes[b] = axes[b], axes[a]
    return ops.transpose(self, axes=tuple(axes))


def _squeeze(self, axis=None, dim=None):
    # PyTorch: t.squeeze(d) leaves a dim of size != 1 alone (NumPy's squeeze raises)
    axis = axis if dim is None else dim
    if axis is not None:
        nd = self.ndim
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        for a in axes:
            if not -nd <= int(a) < max(nd, 1):
                raise np.exceptions.AxisError(int(a), nd, "squeeze")
        axis = tuple(a for a in axes if nd and self.shape[int(a) % nd] == 1)
        if not axis:
            return ops.reshape(self, shape=self.shape)
    return ops.squeeze(self, axis)


def _permute(self, *dims):
    return ops.transpose(self, *dims)


def _reshape(self, *shape, order="C"):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if order == "F":   # NumPy's column-major order: reverse the axes around a C reshape
        shape = tuple(int(s) for s in shape)[::-1]
        return ops.transpose(ops.reshape(ops.transpose(self), shape=shape))
    if order not in ("C", "A"):   # a wrapper's values are laid out in C order ('A' is 'C')
        raise ValueError(f"adjit: reshape order must be 'C', 'F' or 'A', not {order!r}")
    return ops.reshape(self, shape=shape)


def _view(self, *shape):
    # no shape: NumPy's x.view(), a view of all of x (writes go both ways); a shape: PyTorch's
    if not shape:
        return _getitem(self, Ellipsis)
    return _reshape(self, *shape)


def _numpy_kw(k):
    """np.sum(t) and friends call t.sum(axis=..., out=None, dtype=None): accept the defaults."""
    for name in ("out", "dtype"):
        if name in k:
            if k[name] is not None:
                raise TypeError(f"adjit: {name}= is not supported by tensor reductions")
            del k[name]
    return k


def _method(f):
    def method(self, *a, **k):
        return f(self, *a, **_numpy_kw(k)) if k else f(self, *a)
    return method


# the methods the rows and composites declare (sum, sin, asin, det, inverse, var ...)
_METHODS = {name: _method(f) for name, f in method_table().items()}
_METHODS.update({
    "__neg__": lambda self: ops.mul(self, -1),  # an int -1 keeps integer tensors integer
    "__pos__": lambda self: self,
    "__abs__": lambda self: ops.abs(self),
    "__getitem__": _getitem,
    "T": property(lambda self: ops.transpose(self)),
    "mT": property(lambda self: ops.mT(self)),
    "transpose": _transpose,
    "permute": _permute,
    "reshape": _reshape,
    "view": _view,
    "flatten": lambda self, order="C": _reshape(self, -1, order=order),
    "clamp": lambda self, min=None, max=None: ops.clip(self, min, max),
    "squeeze": _squeeze,
    "unsqueeze": lambda self, dim: ops.expand_dims(self, dim),
    # no row: NumPy's own function, which computes on constants and raises adjit's clear error
    # on a differentiated value (a bare TypeError "unsupported operand type(s) for //" before)
    "__floordiv__": lambda self, other: np.floor_divide(self, other),
    "__rfloordiv__": lambda self, other: np.floor_divide(other, self),
})


def _astype(self, dtype, copy=True):
    """A cast, as NumPy's astype / PyTorch's .to(dtype): between float dtypes it is
    differentiable (the cotangent is cast back); to an integer or bool dtype the result carries
    no derivative, as integer tensors cannot. As NumPy's, a new value unless copy=False (a
    write into x.astype(x.dtype) must not change x)."""
    return ops.astype(self, dtype, copy=copy)   # ops/casts.py


def _t(self):
    # PyTorch's .t(): a 0-d or 1-d tensor as it is, a matrix transposed
    if self.ndim > 2:
        raise ValueError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D; "
                         "use .transpose(d0, d1) or .mT")
    return self if self.ndim < 2 else ops.transpose(self)


_METHODS.update({
    "astype": _astype,
    "float": lambda self: _astype(self, np.float32, copy=False),
    "double": lambda self: _astype(self, np.float64, copy=False),
    "t": _t,
    "numel": lambda self: int(np.prod(self.shape)) if self.shape else 1,
})
# NumPy's and PyTorch's attributes (rows of ops/complex_rows.py)
_METHODS.update({
    "real": property(lambda self: ops.real(self), doc="""The real part, as NumPy's ``.real``:
of real values the values themselves (differentiable, JAX's complex convention).

Examples
--------
>>> ad.tensor([1.5, -2.0]).real
tensor([ 1.5000, -2.0000])
"""),
    "imag": property(lambda self: ops.imag(self), doc="""The imaginary part, as NumPy's
``.imag``: of real values zeros, whose derivative is zero (differentiable at complex values,
JAX's convention).

Examples
--------
>>> ad.tensor([1.5, -2.0]).imag
tensor([0., 0.])
""")})

def _document():
    table = method_table()
    for name, fn in list(_METHODS.items()):
        text = OWN.get(name) or (pointer(name, table[name]) if name in table else None)
        if text is None:
            continue
        if isinstance(fn, property):
            _METHODS[name] = property(fn.fget, fn.fset, fn.fdel, text)
        else:
            fn.__doc__ = text


_document()


def _fwd(op):
    return lambda self, other: op(self, other)


def attach(cls):
    """Give a wrapper type (Tensor, Dual, ad.jit's Tracer) the operators and methods above."""
    for op in OPS.values():
        if op.operator is not None:
            setattr(cls, f"__{op.operator}__", _fwd(op))
            # comparisons reflect by themselves (a < b is b > a); Tensors compare to boolean
            # tensors, duals and tracers compare their values (control flow)
            if not op.nondiff:
                setattr(cls, f"__r{op.operator}__", _rev(op))
    for name, fn in _METHODS.items():
        setattr(cls, name, fn)


# NumPy's dispatch protocols, shared by every wrapper type (Tensor, Dual, ad.jit's Tracer)
numpy_protocol.attach(Traced)
