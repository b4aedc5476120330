"""Operators and methods every wrapper type (Tensor, Dual, ad.jit's Tracer) gets, all routed
through the op rows."""
import numpy as np

from .. import ops
from ..core.registry import Traced
from .axes import cond_of


def _rev(op):
    return lambda self, other: op(other, self)


_BINOPS = {
    "add": ops.add, "sub": ops.sub, "mul": ops.mul, "truediv": ops.div, "pow": ops.pow,
    "matmul": ops.matmul,
}

_CMP = {"gt": ops.greater, "ge": ops.greater_equal, "lt": ops.less, "le": ops.less_equal,
        "eq": ops.equal, "ne": ops.not_equal}


def norm_index(idx):
    """An indexing key as the getitem row takes it: a tuple, with traced indices read as arrays
    and 0-d integer arrays as ints."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    for i in idx:
        if isinstance(i, Traced):
            i = np.asarray(cond_of(i))
        elif isinstance(i, list):
            i = np.asarray([cond_of(v) if isinstance(v, Traced) else v for v in i])
        if isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iu":
            i = int(i)
        out.append(i)
    return tuple(out)


def _getitem(self, idx):
    return ops.getitem(self, idx=norm_index(idx))


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


def _permute(self, *dims):
    return ops.transpose(self, *dims)


def _reshape(self, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return ops.reshape(self, shape=shape)


def _numpy_kw(k):
    """np.sum(t) and friends call t.sum(axis=..., out=None, dtype=None): accept the defaults."""
    for name in ("out", "dtype"):
        if name in k:
            if k[name] is not None:
                raise TypeError(f"adjit: {name}= is not supported by tensor reductions")
            del k[name]
    return k


_METHODS = {
    "__neg__": lambda self: ops.mul(self, -1.0),
    "__pos__": lambda self: self,
    "__abs__": lambda self: ops.abs(self),
    "__getitem__": _getitem,
    "T": property(lambda self: ops.transpose(self)),
    "mT": property(lambda self: ops.mT(self)),
    "transpose": _transpose,
    "permute": _permute,
    "reshape": _reshape,
    "view": _reshape,
    "flatten": lambda self: ops.reshape(self, shape=(-1,)),
    "dot": lambda self, other: ops.dot(self, other),
    "matmul": lambda self, other: ops.matmul(self, other),
    "outer": lambda self, other: ops.outer(self, other),
    "det": lambda self: ops.det(self),
    "logdet": lambda self: ops.logdet(self),
    "slogdet": lambda self: ops.slogdet(self),
    "inverse": lambda self: ops.inv(self),
    "trace": lambda self: ops.trace(self),
    "cholesky": lambda self: ops.cholesky(self),
    "pow": lambda self, e: ops.pow(self, e),
    "clip": lambda self, *a, **k: ops.clip(self, *a, **k),
    "clamp": lambda self, min=None, max=None: ops.clip(self, min, max),
    "squeeze": lambda self, axis=None, dim=None: ops.squeeze(self, axis if dim is None else dim),
    "unsqueeze": lambda self, dim: ops.expand_dims(self, dim),
}
for _name in ["sum", "mean", "prod", "max", "min", "norm", "var", "std", "logsumexp",
              "softmax", "log_softmax", "cumsum"]:
    _METHODS[_name] = (lambda f: lambda self, *a, **k: f(self, *a, **_numpy_kw(k)))(
        getattr(ops, _name))
for _name in ["sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "exp",
              "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "square", "abs", "sign",
              "sigmoid", "relu", "softplus", "erf"]:
    _METHODS[_name] = (lambda f: lambda self: f(self))(getattr(ops, _name))
_METHODS.update({"asin": _METHODS["arcsin"], "acos": _METHODS["arccos"],
                 "atan": _METHODS["arctan"]})

def _fwd(op):
    return lambda self, other: op(self, other)


def attach(cls):
    """Give a wrapper type (Tensor, Dual, ad.jit's Tracer) the operators and methods above."""
    for name, op in _BINOPS.items():
        setattr(cls, f"__{name}__", _fwd(op))
        setattr(cls, f"__r{name}__", _rev(op))
    # Tensors compare to boolean tensors; duals and tracers compare their values (control flow)
    for name, op in _CMP.items():
        setattr(cls, f"__{name}__", _fwd(op))
    for name, fn in _METHODS.items():
        setattr(cls, name, fn)
