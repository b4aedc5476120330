"""Tensor creation (PyTorch names). Python floats become float64, ints stay integer."""
import numpy as np

from ..core.registry import EAGER_LEVEL
from .tensor import Tensor

def shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(s) for s in shape)


def tensor(data, requires_grad=False, dtype=None):
    """A Tensor holding ``data``, as ``torch.tensor``.

    Python floats become float64, ints stay integer (integer and bool tensors cannot require
    grad).

    Parameters
    ----------
    data : array_like
        Numbers, nested lists or an array (copied).
    requires_grad : bool, optional
        Record ops on the tensor so ``.backward()`` fills its ``.grad``.
    dtype : numpy.dtype, optional
        The NumPy dtype (default: inferred from ``data``).

    Returns
    -------
    Tensor

    Raises
    ------
    TypeError
        If ``requires_grad=True`` for a non-floating dtype, or ``data`` is not numeric.

    Examples
    --------
    >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> x
    tensor([1., 2.], requires_grad=True)
    >>> (x ** 2).sum().backward()
    >>> x.grad
    tensor([2., 4.])
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def float_dtype(dtype):
    return np.float64 if dtype is None else dtype


def arange(start, stop=None, step=1, dtype=None, requires_grad=False):
    """Evenly spaced values in ``[start, stop)``, as ``torch.arange``.

    Parameters
    ----------
    start : number
        Start, or the stop when ``stop`` is not given (then the start is 0).
    stop : number, optional
        End (excluded).
    step : number, optional
        Spacing (default 1).
    dtype : numpy.dtype, optional
        The NumPy dtype (default: inferred from the arguments).
    requires_grad : bool, optional
        Record ops on the result for reverse mode.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> ad.arange(4)
    tensor([0, 1, 2, 3])
    >>> ad.arange(1.0, 2.0, 0.5)
    tensor([1.0000, 1.5000])
    """
    a = np.arange(start, stop, step) if stop is not None else np.arange(start)
    return Tensor(a, requires_grad=requires_grad, dtype=dtype)


def linspace(start, stop, num=50, dtype=None, requires_grad=False, *, steps=None):
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive (``np.linspace``).

    Parameters
    ----------
    start, stop : number
        The first and last values.
    num : int, optional
        How many values (default 50).
    dtype : numpy.dtype, optional
        The NumPy dtype (default float64).
    requires_grad : bool, optional
        Record ops on the result for reverse mode.
    steps : int, optional
        PyTorch's name for ``num``; overrides it when given.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> ad.linspace(0.0, 1.0, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    return Tensor(np.linspace(start, stop, num if steps is None else steps),
                  requires_grad=requires_grad, dtype=dtype)


def zeros(*shape, dtype=None, requires_grad=False):
    """A Tensor of zeros, as ``torch.zeros``.

    Parameters
    ----------
    *shape : int or tuple of int
        The shape, as separate ints or one tuple.
    dtype : numpy.dtype, optional
        The NumPy dtype (default float64).
    requires_grad : bool, optional
        Record ops on the result for reverse mode.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> ad.zeros(2, 3)
    tensor([[0., 0., 0.],
            [0., 0., 0.]])
    """
    return Tensor(np.zeros(shape_arg(shape), dtype=float_dtype(dtype)), requires_grad=requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    """A Tensor of ones, as ``torch.ones``.

    Parameters
    ----------
    *shape : int or tuple of int
        The shape, as separate ints or one tuple.
    dtype : numpy.dtype, optional
        The NumPy dtype (default float64).
    requires_grad : bool, optional
        Record ops on the result for reverse mode.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> ad.ones((2,))
    tensor([1., 1.])
    """
    return Tensor(np.ones(shape_arg(shape), dtype=float_dtype(dtype)), requires_grad=requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False):
    """A Tensor filled with ``fill_value``, as ``torch.full``.

    Parameters
    ----------
    shape : int or tuple of int
        The shape.
    fill_value : number
        The value of every element.
    dtype : numpy.dtype, optional
        The NumPy dtype (default: inferred from ``fill_value``).
    requires_grad : bool, optional
        Record ops on the result for reverse mode.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> ad.full((2,), 7.0)
    tensor([7., 7.])
    """
    shape = (shape,) if np.ndim(shape) == 0 else tuple(shape)
    return Tensor(np.full(shape, fill_value, dtype=dtype), requires_grad=requires_grad)


def like(t, dtype):
    """shape and dtype of t (a Tensor, array or number), without converting t to an array (a
    tensor that requires grad does not convert)."""
    if dtype is None:
        dtype = t.dtype if hasattr(t, "dtype") else np.asarray(t).dtype
    return tuple(t.shape) if hasattr(t, "shape") else np.shape(t), dtype


def zeros_like(t, dtype=None, requires_grad=False):
    """A Tensor of zeros with the shape and dtype of ``t``, as ``torch.zeros_like``.

    Parameters
    ----------
    t : Tensor, array_like or number
        Gives the shape (and the dtype unless ``dtype`` is given).
    dtype : numpy.dtype, optional
        The NumPy dtype (default ``t``'s).
    requires_grad : bool, optional
        Record ops on the result for reverse mode.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> ad.zeros_like(np.array([1, 2]))
    tensor([0, 0])
    """
    shape, dtype = like(t, dtype)
    return Tensor(np.zeros(shape, dtype=dtype), requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    """A Tensor of ones with the shape and dtype of ``t``, as ``torch.ones_like``.

    Parameters
    ----------
    t : Tensor, array_like or number
        Gives the shape (and the dtype unless ``dtype`` is given).
    dtype : numpy.dtype, optional
        The NumPy dtype (default ``t``'s).
    requires_grad : bool, optional
        Record ops on the result for reverse mode.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> ad.ones_like(ad.tensor([1.0, 2.0]))
    tensor([1., 1.])
    """
    shape, dtype = like(t, dtype)
    return Tensor(np.ones(shape, dtype=dtype), requires_grad=requires_grad)


def as_tensor(data, dtype=None):
    """``data`` as a Tensor, as ``torch.as_tensor``.

    A Tensor of the requested dtype is returned as it is (no copy); anything else is
    converted as by ``ad.tensor``.

    Parameters
    ----------
    data : Tensor or array_like
        The data.
    dtype : numpy.dtype, optional
        The NumPy dtype (default: kept or inferred).

    Returns
    -------
    Tensor

    Examples
    --------
    >>> t = ad.tensor([1.0, 2.0])
    >>> ad.as_tensor(t) is t
    True
    >>> ad.as_tensor([1, 2], dtype=np.float64)
    tensor([1., 2.])
    """
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype):
        return data
    return Tensor(data, dtype=dtype)


def from_numpy(array):
    """A Tensor viewing a NumPy array's memory (no copy), as ``torch.from_numpy``.

    Parameters
    ----------
    array : numpy.ndarray
        The array; writes to it show in the tensor.

    Returns
    -------
    Tensor

    Raises
    ------
    TypeError
        If ``array`` is not a NumPy array or its dtype is not supported.

    Examples
    --------
    >>> a = np.array([1.0, 2.0])
    >>> t = ad.from_numpy(a)
    >>> a[0] = 5.0
    >>> t
    tensor([5., 2.])
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"adjit.from_numpy: expected np.ndarray (got {type(array).__name__})")
    Tensor(np.empty(0, dtype=array.dtype))  # the dtype checks of ad.tensor
    return Tensor._make(array, EAGER_LEVEL)


def eye(n, m=None, dtype=None, requires_grad=False):
    """An identity matrix, as ``torch.eye``.

    Parameters
    ----------
    n : int
        Number of rows.
    m : int, optional
        Number of columns (default ``n``).
    dtype : numpy.dtype, optional
        The NumPy dtype (default float64).
    requires_grad : bool, optional
        Record ops on the result for reverse mode.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> ad.eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    """
    return Tensor(np.eye(n, m, dtype=float_dtype(dtype)), requires_grad=requires_grad)
