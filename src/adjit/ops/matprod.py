"""Products of vectors and chains of matrices as compositions of rows: cross (components by
indexing), matrix_power (repeated squaring), multi_dot (the cheapest order of matmuls). The
helpers for axes are `products`'."""
import math

import numpy as np

from ..core.domain import Sample
from ..core.registry import composite, implements
from .axes import ndim, shape
from .linalg import dot, inv, matmul, outer
from .products import as_value, axis_index, moved_axis, reshaped
from .shape import getitem, stack, sum_op


def _cross_parts(a, b):
    """The cross product's components for 3- and 2-vectors (a 2-vector's third component is
    0) on the last axes; one component (the z of two 2-vectors) as NumPy gives it."""
    da, db = shape(a)[-1], shape(b)[-1]
    ca = [getitem(a, idx=(Ellipsis, i)) for i in range(da)]
    cb = [getitem(b, idx=(Ellipsis, i)) for i in range(db)]
    z = ca[0] * cb[1] - ca[1] * cb[0]
    if da == 2 and db == 2:
        return [z]
    if da == 2:
        return [ca[1] * cb[2], -(ca[0] * cb[2]), z]
    if db == 2:
        return [-(ca[2] * cb[1]), ca[2] * cb[0], z]
    return [ca[1] * cb[2] - ca[2] * cb[1], ca[2] * cb[0] - ca[0] * cb[2], z]


@composite(numpy=(np.cross,),
           domain=[Sample((3,), (3,)), Sample((2, 3), (3,)), Sample((3, 2), (2, 3), axisa=0),
                   Sample((2, 3, 4), (4, 3), axisa=1, axisb=-1, axisc=0),
                   Sample((4, 3, 2), (1, 3, 2), axis=1), Sample((2,), (2,)),
                   Sample((2, 2), (3,)), Sample((3,), (2, 2))])
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors (or 2-vectors: a 0 third component; two 2-vectors give
    the z component alone), as ``np.cross``, broadcasting over the other axes.

    Parameters
    ----------
    a, b : array_like
        Vectors along ``axisa`` / ``axisb``.
    axisa, axisb, axisc : int
        The vectors' axis in a, b and the result; ``axis`` sets all three.

    Returns
    -------
    array or Tensor
        The cross products (for two 2-vectors their z components).

    Examples
    --------
    >>> ad.cross(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])).tolist()
    [0.0, 0.0, 1.0]
    """
    a, b = as_value(a), as_value(b)
    if axis is not None:
        axisa = axisb = axisc = axis
    if ndim(a) == 0 or ndim(b) == 0:
        raise ValueError("adjit.cross: the operands must be arrays of vectors, got shapes "
                         f"{shape(a)} and {shape(b)}")
    a = moved_axis(a, axis_index("cross", axisa, ndim(a)), ndim(a) - 1)
    b = moved_axis(b, axis_index("cross", axisb, ndim(b)), ndim(b) - 1)
    if shape(a)[-1] not in (2, 3) or shape(b)[-1] not in (2, 3):
        raise ValueError("adjit.cross: incompatible dimensions for cross product (dimension "
                         f"must be 2 or 3), got vectors of {shape(a)[-1]} and {shape(b)[-1]}")
    parts = _cross_parts(a, b)
    if len(parts) == 1:
        return parts[0]
    c = stack(parts, axis=-1)
    return moved_axis(c, ndim(c) - 1, axis_index("cross", axisc, ndim(c)))


@implements(np.linalg.cross)
def _np_linalg_cross(x1, x2, axis=-1):
    for x in (x1, x2):
        if ndim(x) == 0 or shape(x)[axis] != 3:
            raise ValueError("adjit: np.linalg.cross takes arrays of 3-vectors along axis "
                             f"{axis}, got shapes {shape(x1)} and {shape(x2)}")
    return cross(x1, x2, axis=axis)


def _identity_like(a):
    """Identity matrices of a's shape and dtype, wired to a with a zero derivative (a sum over
    an empty slice of a: exactly 0, even where a is inf or nan)."""
    sa = shape(a)
    zero = sum_op(getitem(a, idx=(Ellipsis, slice(0, 0), slice(0, 0))), axis=(-2, -1))
    return reshaped(zero, sa[:-2] + (1, 1)) + np.eye(sa[-1], dtype=a.dtype)


@composite(numpy=(np.linalg.matrix_power,),
           domain=[Sample((3, 3), n=3), Sample((2, 3, 3), n=2), Sample((3, 3), n=1),
                   Sample((3, 3), n=5), Sample((3, 3), kind="wellcond", n=-2),
                   Sample((2, 2), n=0), Sample((2, 3, 3), n=0)])
def matrix_power(a, n):
    """The n-th power of square matrices (the last two axes), as ``np.linalg.matrix_power``:
    repeated squaring, the identity for n = 0, powers of the inverse for n < 0.

    Parameters
    ----------
    a : array_like
        Square matrices in the last two axes.
    n : int
        The exponent.

    Returns
    -------
    array or Tensor
        The matrices' n-th powers (for n = 0 the identity, whose derivative is 0).

    Examples
    --------
    >>> ad.matrix_power(np.array([[1.0, 1.0], [0.0, 1.0]]), 3).tolist()
    [[1.0, 3.0], [0.0, 1.0]]
    """
    a = as_value(a)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"adjit.matrix_power: the exponent must be an integer, got {n!r}")
    n = int(n)
    if ndim(a) < 2 or shape(a)[-1] != shape(a)[-2]:
        raise np.linalg.LinAlgError("adjit.matrix_power: expected square matrices in the last "
                                    f"two axes, got shape {shape(a)}")
    if n == 0:
        return _identity_like(a)
    if n < 0:
        a, n = inv(a), -n
    if n <= 3:   # NumPy's products, so the values agree to the last bit
        out = a
        for _ in range(n - 1):
            out = matmul(out, a)
        return out
    z = out = None
    while n > 0:
        z = a if z is None else matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            out = z if out is None else matmul(out, z)
    return out


def _list_call(op, *xs):
    return op(list(xs))


def _chain_order(dims):
    """s[i][j]: where the cheapest product of matrices i..j splits (NumPy's recurrence)."""
    n = len(dims) - 1
    m = [[0] * n for _ in range(n)]
    s = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            m[i][j] = math.inf
            for k in range(i, j):
                cost = m[i][k] + m[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost < m[i][j]:
                    m[i][j], s[i][j] = cost, k
    return s


def _chain(xs, s, i, j):
    if i == j:
        return xs[i]
    return matmul(_chain(xs, s, i, s[i][j]), _chain(xs, s, s[i][j] + 1, j))


@composite(numpy=(np.linalg.multi_dot,),
           domain=[Sample(*shapes, call=_list_call) for shapes in [
               ((2, 3), (3, 4), (4, 2)), ((3,), (3, 4), (4, 2), (2,)),
               ((2, 5), (5, 3), (3, 1), (1, 4)), ((3,), (3, 2)), ((2, 3), (3, 4), (4,))]])
def multi_dot(arrays, *, out=None):
    """The product of a chain of matrices in the cheapest order, as
    ``np.linalg.multi_dot``; the first may be a row vector and the last a column vector
    (1-D).

    Parameters
    ----------
    arrays : sequence of array_like
        Matrices whose shapes chain; the first and last may be 1-D.

    Returns
    -------
    array or Tensor
        The product: a matrix, a vector where one end is 1-D, a scalar where both are.

    Examples
    --------
    >>> float(ad.multi_dot([np.ones(2), np.eye(2), np.ones(2)]))
    2.0
    """
    if out is not None:
        raise TypeError("adjit.multi_dot: out= cannot hold a differentiated value; use the "
                        "returned value")
    xs = [as_value(x) for x in arrays]
    if len(xs) < 2:
        raise ValueError("adjit.multi_dot: expecting at least two arrays")
    if len(xs) == 2:
        return dot(xs[0], xs[1])
    first, last = ndim(xs[0]) == 1, ndim(xs[-1]) == 1
    if first:
        xs[0] = reshaped(xs[0], (1,) + tuple(shape(xs[0])))
    if last:
        xs[-1] = reshaped(xs[-1], tuple(shape(xs[-1])) + (1,))
    for i, x in enumerate(xs):
        if ndim(x) != 2:
            raise ValueError(f"adjit.multi_dot: array {i} has shape {shape(x)}; the arrays "
                             "must be 2-D (the first and last may be 1-D)")
    dims = [shape(x)[0] for x in xs] + [shape(xs[-1])[1]]
    if any(shape(x)[1] != shape(y)[0] for x, y in zip(xs, xs[1:])):
        raise ValueError("adjit.multi_dot: shapes " + ", ".join(str(shape(x)) for x in xs)
                         + " are not aligned")
    res = _chain(xs, _chain_order(dims), 0, len(xs) - 1)
    if first and last:
        return getitem(res, idx=(0, 0))
    return reshaped(res, (-1,)) if first or last else res


@implements(np.linalg.outer)
def _np_linalg_outer(x1, x2):
    # np.outer flattens its inputs; np.linalg.outer takes vectors only
    if ndim(x1) != 1 or ndim(x2) != 1:
        raise ValueError("adjit: np.linalg.outer takes 1-D arrays, got shapes "
                         f"{shape(x1)} and {shape(x2)} (np.outer flattens them)")
    return outer(x1, x2)
