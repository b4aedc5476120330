"""Tensor creation (PyTorch names). Python floats become float64, ints stay integer."""
import numpy as np

from ..core.registry import EAGER_LEVEL
from .tensor import Tensor

_rng = [np.random.default_rng()]


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(s) for s in shape)


def tensor(data, requires_grad=False, dtype=None):
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _float(dtype):
    return np.float64 if dtype is None else dtype


def arange(start, stop=None, step=1, dtype=None, requires_grad=False):
    a = np.arange(start, stop, step) if stop is not None else np.arange(start)
    return Tensor(a, requires_grad=requires_grad, dtype=dtype)


def linspace(start, stop, num=50, dtype=None, requires_grad=False, *, steps=None):
    return Tensor(np.linspace(start, stop, num if steps is None else steps),
                  requires_grad=requires_grad, dtype=dtype)


def zeros(*shape, dtype=None, requires_grad=False):
    return Tensor(np.zeros(_shape(shape), dtype=_float(dtype)), requires_grad=requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    return Tensor(np.ones(_shape(shape), dtype=_float(dtype)), requires_grad=requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False):
    shape = (shape,) if np.ndim(shape) == 0 else tuple(shape)
    return Tensor(np.full(shape, fill_value, dtype=dtype), requires_grad=requires_grad)


def _like(t, dtype):
    """shape and dtype of t (a Tensor, array or number), without converting t to an array (a
    tensor that requires grad does not convert)."""
    if dtype is None:
        dtype = t.dtype if hasattr(t, "dtype") else np.asarray(t).dtype
    return tuple(t.shape) if hasattr(t, "shape") else np.shape(t), dtype


def zeros_like(t, dtype=None, requires_grad=False):
    shape, dtype = _like(t, dtype)
    return Tensor(np.zeros(shape, dtype=dtype), requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    shape, dtype = _like(t, dtype)
    return Tensor(np.ones(shape, dtype=dtype), requires_grad=requires_grad)


def as_tensor(data, dtype=None):
    """`data` as a Tensor: a Tensor of the requested dtype is returned as it is (as PyTorch)."""
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype):
        return data
    return Tensor(data, dtype=dtype)


def from_numpy(array):
    """A Tensor viewing a NumPy array's memory (no copy), as torch.from_numpy."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"adjit.from_numpy: expected np.ndarray (got {type(array).__name__})")
    Tensor(np.empty(0, dtype=array.dtype))  # the dtype checks of ad.tensor
    return Tensor._make(array, EAGER_LEVEL)


def eye(n, m=None, dtype=None, requires_grad=False):
    return Tensor(np.eye(n, m, dtype=_float(dtype)), requires_grad=requires_grad)


def manual_seed(seed):
    _rng[0] = np.random.default_rng(seed)


def rand(*shape, dtype=None, requires_grad=False):
    return Tensor(_rng[0].random(_shape(shape)).astype(_float(dtype)),
                  requires_grad=requires_grad)


def randn(*shape, dtype=None, requires_grad=False):
    return Tensor(_rng[0].standard_normal(_shape(shape)).astype(_float(dtype)),
                  requires_grad=requires_grad)


def _float_dtype(dtype, ref=None):
    if dtype is not None:
        return dtype
    if ref is not None and np.dtype(ref).kind == "f":
        return ref
    return np.float64


def randn_like(t, dtype=None, requires_grad=False):
    shape, d = _like(t, None)
    return randn(shape, dtype=_float_dtype(dtype, d), requires_grad=requires_grad)


def rand_like(t, dtype=None, requires_grad=False):
    shape, d = _like(t, None)
    return rand(shape, dtype=_float_dtype(dtype, d), requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, dtype=None, requires_grad=False):
    """Samples of N(mean, std^2) (torch.normal): mean and std broadcast; size= for scalars."""
    mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
    if np.any(std < 0):
        raise ValueError("adjit.normal: std must be non-negative")
    if size is None:
        size = np.broadcast_shapes(mean.shape, std.shape)
    size = (size,) if np.ndim(size) == 0 else tuple(size)
    z = mean + std * _rng[0].standard_normal(size)
    return Tensor(z.astype(_float(dtype)), requires_grad=requires_grad)


def randint(low, high=None, size=(), *, dtype=np.int64):
    """Integers uniform in [low, high) (torch.randint: randint(high, size) or
    randint(low, high, size)). Integer tensors cannot require grad."""
    if high is None or (size == () and isinstance(high, (tuple, list))):
        low, high, size = 0, low, (high if high is not None else size)
    size = (size,) if np.ndim(size) == 0 else tuple(size)
    if high <= low:
        raise ValueError(f"adjit.randint: high ({high}) must be larger than low ({low})")
    return Tensor(_rng[0].integers(low, high, size=size, dtype=dtype))
