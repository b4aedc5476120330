"""Shape and axis helpers shared by the op rows (they work on arrays, Tensors, duals and
ad.jit tracers alike). Tangents may carry *leading* batch axes (k directions), which is why
rules name axes as negative numbers."""
import numpy as np

from ..core.registry import Traced, primal_of

# ---------------------------------------------------------------------------------------------
# helpers used inside rules (work on arrays, Tensors and duals alike)

def cond_of(v):
    """The innermost value for a mask or condition: like primal_of, but it stops at an ad.jit
    tracer, so comparisons on it are recorded and the mask is recomputed by the compiled kernel
    instead of being frozen at its traced value."""
    while isinstance(v, Traced) and not v._symbolic:
        v = v._raw()
    return v


def shape(v):
    return np.shape(v) if not isinstance(v, Traced) else v.shape


def ndim(v):
    return len(shape(v))


def neg_axes(axis, nd):
    """Axes as negative numbers (so leading batch axes of tangents are left alone)."""
    if axis is None:
        return tuple(range(-nd, 0))
    if isinstance(axis, (tuple, list)):
        return tuple(int(a) % nd - nd for a in axis) if nd else ()
    return (int(axis) % nd - nd,) if nd else ()


def keep_shape(xshape, axis):
    """Shape of a reduction's result with keepdims=True."""
    nd = len(xshape)
    axes = {a % nd for a in (neg_axes(axis, nd))} if nd else set()
    return tuple(1 if i in axes else s for i, s in enumerate(xshape))


def batch(t, x):
    """The leading batch shape a tangent t carries relative to primal x."""
    return shape(t)[:ndim(t) - ndim(x)]


def zeros_for(x, ref_t):
    return np.zeros(batch(ref_t, x) + shape(x), dtype=ref_t.dtype)   # float32 tangents stay


def shape_of_raw(x):
    return np.shape(primal_of(x))


def tr_axes(nd, axes):
    return tuple(range(nd))[::-1] if axes is None else tuple(int(a) % nd for a in axes)


def axis_arg(axis, dim):
    if dim is not None:
        if axis is not None:
            raise TypeError("adjit: pass either axis= or its alias dim=, not both")
        return tuple(dim) if isinstance(dim, list) else dim
    return tuple(axis) if isinstance(axis, list) else axis

