"""In-place operations on Tensors (y[idx] = v, y += v, t.add_(...)): the value changes, the op
is recorded when something requires grad, and the version counter moves so that a backward
that saved the old value raises."""
import numpy as np

from ..core import grad_mode
from ..core.registry import EAGER_LEVEL, Op, Traced, primal_of
from .. import ops
from ..ops import views


def write(Tensor, self, fn, args, idx=None):
    """A user's in-place operation: self becomes fn(self, *args), and what NumPy would see
    through views follows (ops/views.py): views of self are recomputed, and a view writes itself
    back into its base. A view of a leaf that requires grad cannot be written (PyTorch)."""
    if not views.linked(self):
        return apply_inplace(Tensor, self, fn, *args)
    base, _ = views.base_of(self)
    while base is not None:
        if isinstance(base, Tensor) and base._grad_fn is None and base._rg and \
                grad_mode.is_grad_enabled():
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation (the write would change the leaf). Wrap the update in "
                "`with ad.no_grad():`, or write into a copy (y = x.clone(); y[1:] ...).")
        base, _ = views.base_of(base)
    views.check_write(self, idx)
    apply_inplace(Tensor, self, fn, *args)
    views.written(self, idx)
    return self


def apply_inplace(Tensor, self, fn, *args):
    """Rebind self to fn(self, *args). Under no_grad (or with nothing to record) only the
    value changes; otherwise the op is recorded and self becomes its result. Either way the
    version counter moves, so a backward that saved the old value raises. As in NumPy and
    PyTorch the result must keep self's shape and be castable to its dtype. (Tensor is
    passed in: reverse/tensor.py imports this module.)"""
    if self._grad_fn is None and self._rg and grad_mode.is_grad_enabled():
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation. "
            "Wrap the update in `with ad.no_grad():` (as for `w -= lr * w.grad`).")
    if not grad_mode.state.enabled or not (
            self._rg or any(isinstance(a, Tensor) and a._rg for a in args)):
        d = self._data
        if type(d) is np.ndarray and isinstance(fn, Op) and len(args) == 1 \
                and self._base is None:
            # the optimizer step (w -= lr * w.grad under no_grad): NumPy values only, no
            # tensor or graph in between
            o = args[0]
            if isinstance(o, Tensor) and o._level == self._level:
                o = o._data
            if not isinstance(o, Traced):
                new = fn.call_primal((d, o), {})
                if type(new) is np.ndarray and new.dtype == d.dtype \
                        and new.shape == d.shape:
                    self._data = new
                    self._box[0] += 1
                    return self
                # anything else (a broadcast or a cast) takes the checked path below
        outer = any(isinstance(a, Traced) and a._level > self._level for a in args)
        res = fn(self._data if outer else Tensor._make(self._data, self._level), *args)
        new = res._data if isinstance(res, Tensor) else res
        if isinstance(new, Traced) and new._level > self._level and not new._fills_tensor:
            raise written_into(new)
        check_inplace(self, new)
        self._data = np.asarray(new).astype(self.dtype, copy=False) \
            if not isinstance(new, Traced) else new
    else:
        snap = Tensor._make(self._data, self._level, self._grad_fn)
        snap._rg, snap._box = self._rg, [self._box[0]]
        # a constant buffer written with a value of a transform (y = ad.zeros(3); y[0] = v
        # inside ad.grad) becomes that transform's tensor: it takes the result's level
        res = fn(snap if self._rg else self._data, *args)
        if not isinstance(res, Tensor):
            raise written_into(res)
        check_inplace(self, res._data)
        if res.dtype != self.dtype:   # as NumPy's: a float32 array stays float32 under += f64
            res = ops.astype(res, self.dtype)
        self._data, self._grad_fn, self._rg, self._level = \
            res._data, res._grad_fn, res._rg, res._level
    self._box[0] += 1
    base = self
    while base._base is not None:   # an alias made by .data: the value is the owner's
        base = base._base
        base._data = primal_of(self._data) if base._level == EAGER_LEVEL else self._data
    return self

def check_inplace(self, new):
    shp = tuple(new.shape if isinstance(new, Traced) else np.shape(new))
    if shp != self.shape:
        raise ValueError(
            f"adjit: in-place operation on a tensor of shape {self.shape}: the result has the "
            f"broadcast shape {shp}, which does not fit (NumPy and PyTorch raise too). Write "
            "`a = a + b` to get the larger result as a new tensor.")
    dt = np.asarray(primal_of(new)).dtype if not isinstance(new, Traced) else new.dtype
    if not np.can_cast(dt, self.dtype, casting="same_kind"):
        raise TypeError(
            f"adjit: in-place operation on a tensor of dtype {self.dtype}: the result has "
            f"dtype {dt}, which cannot be stored in it (NumPy and PyTorch raise too). Convert "
            "first (ad.tensor(t, dtype=...)) or write `a = a + b`.")


def written_into(value):
    return TypeError(
        f"adjit: an in-place write (y[idx] = v, y += v) puts a {type(value).__name__} of a "
        "transform (jvp, jacfwd, vmap ...) into a tensor created outside it; the tensor cannot "
        "carry its derivative. Build the array functionally instead (ad.stack, "
        "ad.concatenate, ad.where, ad.put_along_axis), or use reverse mode (ad.grad, "
        "ad.jacrev), where tensor buffers work.")
