"""Tensor creation (PyTorch names). Python floats become float64, ints stay integer."""
import numpy as np

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


def zeros_like(t, dtype=None, requires_grad=False):
    return Tensor(np.zeros(np.shape(t), dtype=dtype or np.asarray(t).dtype),
                  requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return Tensor(np.ones(np.shape(t), dtype=dtype or np.asarray(t).dtype),
                  requires_grad=requires_grad)


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
