"""Vector and matrix norms as np.linalg.norm computes them, written with the rows of
reductions and linalg (the matrix 2-, -2- and nuclear norms through the singular values).
Every order is swept by the op-info table through linalg.vector_norm / matrix_norm (solvers)."""
import numpy as np

from ..core.complexrule import is_complex
from .axes import axis_arg, cond_of, keep_shape, ndim, shape
from .formulas import abs, sign
from .decompositions import svdvals
from .reductions import max, min, norm2, sum
from .rearrange import squeeze
from .shape import getitem, reshape, transpose, where


@norm2.public(methods=("norm",), numpy=(np.linalg.norm,))
def norm(x, ord=None, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """np.linalg.norm: with ord=None the 2-norm over the given axes (all by default); else a
    vector norm over one axis (axis=None on 1-D input) or a matrix norm over two (axis=None on
    2-D input, or a 2-tuple)."""
    axis, keepdims = axis_arg(axis, dim), bool(keepdims or keepdim)
    if is_complex(x):
        x = _complex_abs(x, ord, axis)
    if ord is None:
        return norm2(x, axis=axis, keepdims=keepdims)
    nd = ndim(x)
    if axis is None:
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        axis = (int(axis),)
    if len(axis) == 1:
        return _vector_norm(x, ord, axis[0], keepdims)
    if len(axis) == 2:
        return _matrix_norm(x, ord, axis, keepdims)
    raise ValueError(f"adjit.norm: ord={ord!r} needs one axis (a vector norm) or two (a matrix "
                     f"norm); got axes {axis} of an array of shape {shape(x)}")


def _complex_abs(x, ord, axis):
    """Every norm but the singular-value ones is the same norm of |x| (NumPy's values; the
    gradient through abs's complex rule, JAX's convention); those take the complex singular
    values (ops/linalg_complex.py)."""
    two = (len(axis) == 2 if isinstance(axis, tuple) else axis is None and ndim(x) == 2)
    if two and ord in (2, -2, "nuc"):
        return x
    return abs(x)


def _vector_norm(x, ord, axis, keepdims):
    if isinstance(ord, str):
        raise ValueError(f"adjit.norm: invalid norm order {ord!r} for vectors")
    if ord == 2:
        return norm2(x, axis=axis, keepdims=keepdims)
    if ord == np.inf:
        return max(abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return min(abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:  # the number of nonzeros: piecewise constant (sign's derivative is 0)
        return sum(sign(abs(x)), axis=axis, keepdims=keepdims)
    if ord == 1:
        return sum(abs(x), axis=axis, keepdims=keepdims)
    # (sum |x|^p)^(1/p). At the zero vector s = 0, where the outer power's derivative is
    # infinite and the inner one's zero: the where passes the outer one a zero cotangent, so
    # the gradient is 0 (as PyTorch gives) instead of inf * 0 = NaN.
    s = sum(abs(x) ** ord, axis=axis, keepdims=keepdims)
    zero = cond_of(s) == 0
    return where(zero, 0.0, where(zero, 1.0, s) ** (1.0 / ord))


def _matrix_norm(x, ord, axis, keepdims):
    nd = ndim(x)
    r, c = (int(a) % nd for a in axis)
    if r == c:
        raise ValueError(f"adjit.norm: duplicate axes {axis}")
    if ord in ("fro", "f"):
        res = norm2(x, axis=(r, c), keepdims=True)
    elif ord in (1, -1, np.inf, -np.inf):
        # 1 / -1: the largest / smallest column sum of |x|; inf / -inf: the same over rows
        inner, outer = (r, c) if ord in (1, -1) else (c, r)
        ext = max if ord in (1, np.inf) else min
        res = ext(sum(abs(x), axis=inner, keepdims=True), axis=outer, keepdims=True)
    elif ord in (2, -2, "nuc"):
        res = _singular_norm(x, ord, r, c)
    else:
        raise ValueError(f"adjit.norm: invalid norm order {ord!r} for matrices")
    return res if keepdims else squeeze(res, axis=(r, c))


def _singular_norm(x, ord, r, c):
    """The 2-, -2- and nuclear norms: the largest, smallest and summed singular values
    (svdvals: derivatives of every order where the singular values used are distinct, and
    first derivatives of the 2- and -2-norms at repeated ones; decompositions' docstring)."""
    nd = ndim(x)
    rest = tuple(i for i in range(nd) if i not in (r, c))
    s = svdvals(transpose(x, axes=rest + (r, c)))
    v = (getitem(s, idx=(Ellipsis, 0)) if ord == 2 else
         getitem(s, idx=(Ellipsis, -1)) if ord == -2 else sum(s, axis=-1))
    return reshape(v, keep_shape(shape(x), (r, c)))
