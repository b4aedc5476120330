"""Random tensors (PyTorch names): manual_seed, rand, randn, rand_like, randn_like, normal,
randint. One generator, seeded by `ad.manual_seed`."""
import numpy as np

from .creation import float_dtype, like, shape_arg
from .tensor import Tensor

_rng = [np.random.default_rng()]


def manual_seed(seed):
    """Seed the generator of ``ad.rand``, ``ad.randn`` and the other random functions.

    Parameters
    ----------
    seed : int
        The seed (a fresh ``np.random.default_rng(seed)`` replaces the generator).

    Examples
    --------
    >>> ad.manual_seed(0)
    >>> a = ad.rand(3)
    >>> ad.manual_seed(0)
    >>> bool((ad.rand(3) == a).all())
    True
    """
    _rng[0] = np.random.default_rng(seed)


def rand(*shape, dtype=None, requires_grad=False):
    """Uniform random numbers in ``[0, 1)``, as ``torch.rand``.

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

    See Also
    --------
    manual_seed : make the draws reproducible.

    Examples
    --------
    >>> ad.rand(2, 3).shape
    (2, 3)
    """
    return Tensor(_rng[0].random(shape_arg(shape)).astype(float_dtype(dtype)),
                  requires_grad=requires_grad)


def randn(*shape, dtype=None, requires_grad=False):
    """Standard normal random numbers, as ``torch.randn``.

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

    See Also
    --------
    manual_seed : make the draws reproducible.

    Examples
    --------
    >>> ad.randn(2, 3).shape
    (2, 3)
    """
    return Tensor(_rng[0].standard_normal(shape_arg(shape)).astype(float_dtype(dtype)),
                  requires_grad=requires_grad)


def _float_of_like(dtype, ref=None):
    if dtype is not None:
        return dtype
    if ref is not None and np.dtype(ref).kind == "f":
        return ref
    return np.float64


def randn_like(t, dtype=None, requires_grad=False):
    """Standard normal random numbers with the shape of ``t``, as ``torch.randn_like``.

    Parameters
    ----------
    t : Tensor, array_like or number
        Gives the shape, and the dtype when it is a floating one (else float64).
    dtype : numpy.dtype, optional
        The NumPy dtype.
    requires_grad : bool, optional
        Record ops on the result for reverse mode.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> ad.randn_like(np.zeros((2, 2), dtype=np.float32)).dtype
    dtype('float32')
    """
    shape, d = like(t, None)
    return randn(shape, dtype=_float_of_like(dtype, d), requires_grad=requires_grad)


def rand_like(t, dtype=None, requires_grad=False):
    """Uniform random numbers in ``[0, 1)`` with the shape of ``t``, as ``torch.rand_like``.

    Parameters
    ----------
    t : Tensor, array_like or number
        Gives the shape, and the dtype when it is a floating one (else float64).
    dtype : numpy.dtype, optional
        The NumPy dtype.
    requires_grad : bool, optional
        Record ops on the result for reverse mode.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> ad.rand_like(ad.zeros(3)).shape
    (3,)
    """
    shape, d = like(t, None)
    return rand(shape, dtype=_float_of_like(dtype, d), requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, dtype=None, requires_grad=False):
    """Samples of N(mean, std^2), as ``torch.normal``.

    Parameters
    ----------
    mean, std : float or array_like, optional
        Mean and standard deviation (default 0 and 1); they broadcast against each other.
    size : int or tuple of int, optional
        The shape (default: the broadcast shape of ``mean`` and ``std``).
    dtype : numpy.dtype, optional
        The NumPy dtype (default float64).
    requires_grad : bool, optional
        Record ops on the result for reverse mode.

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        If ``std`` is negative.

    Examples
    --------
    >>> ad.normal(0.0, 1.0, size=(2,)).shape
    (2,)
    >>> ad.normal(np.zeros(3), 1.0).shape
    (3,)
    """
    mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
    if np.any(std < 0):
        raise ValueError("adjit.normal: std must be non-negative")
    if size is None:
        size = np.broadcast_shapes(mean.shape, std.shape)
    size = (size,) if np.ndim(size) == 0 else tuple(size)
    z = mean + std * _rng[0].standard_normal(size)
    return Tensor(z.astype(float_dtype(dtype)), requires_grad=requires_grad)


def randint(low, high=None, size=(), *, dtype=np.int64):
    """Random integers uniform in ``[low, high)``, as ``torch.randint``.

    Called as ``randint(high, size)`` or ``randint(low, high, size)``. Integer tensors cannot
    require grad.

    Parameters
    ----------
    low : int
        Lowest value (or ``high`` in the two-argument form, with ``low`` = 0).
    high : int, optional
        One above the highest value.
    size : int or tuple of int, optional
        The shape (default: a scalar).
    dtype : numpy.dtype, optional
        An integer NumPy dtype (default int64).

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        If ``high <= low``.

    Examples
    --------
    >>> r = ad.randint(0, 10, (5,))
    >>> r.shape, r.dtype
    ((5,), dtype('int64'))
    >>> 0 <= int(r.min()) and int(r.max()) < 10
    True
    """
    if high is None or (size == () and isinstance(high, (tuple, list))):
        low, high, size = 0, low, (high if high is not None else size)
    size = (size,) if np.ndim(size) == 0 else tuple(size)
    if high <= low:
        raise ValueError(f"adjit.randint: high ({high}) must be larger than low ({low})")
    return Tensor(_rng[0].integers(low, high, size=size, dtype=dtype))
