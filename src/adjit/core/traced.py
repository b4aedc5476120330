"""The base of every wrapper the registry dispatches on (reverse-mode Tensor, forward-mode Dual,
ad.jit's Tracer, ad.vmap's Batched): the Python protocols they share, and primal_of."""
import numpy as np


class Traced:
    """Base of every wrapper type the registry dispatches on."""
    # NumPy's views of a value and what it is a view of (ops/views.py); unset until used
    __slots__ = ("_views", "_view_of", "__weakref__")
    _level = -1
    # True for ad.jit's tracer: masks and conditions computed from it stay traced (`cond_of`)
    _symbolic = False
    # False for a value that stands for many (ad.vmap's batch): rules must not branch on it,
    # they take their general branch instead of a guarded fast one
    _branches = True
    # a constant Tensor may hold it as its data after y[idx] = v (ad.jit's tracers: the eager
    # code is traced as written); a dual or batched value may not (reverse/tensor.py raises)
    _fills_tensor = False

    _what = "value"  # the noun error messages use

    def __getstate__(self):
        # copies and pickles carry the value, not its NumPy view links (weak references, which
        # do not pickle; a copy of a view is a new array, as in NumPy)
        slots = {}
        for cls in type(self).__mro__:
            for name in getattr(cls, "__slots__", ()):
                if name not in ("_views", "_view_of", "__weakref__") and hasattr(self, name):
                    slots[name] = getattr(self, name)
        return None, slots

    @staticmethod
    def _apply(op, args, params, level):  # pragma: no cover - overridden
        raise NotImplementedError

    def _carries_derivative(self):
        """True for values whose derivative NumPy would drop (a Tensor that requires grad, a
        dual number): NumPy functions without a row refuse them (core/numpy_protocol.py)."""
        return False

    def _constant(self):
        """What the wrapper holds when it is nothing but a container of it (a Tensor that does
        not require grad: its data), else None. ad.jit reads such a value as the traced
        function's constant (or, when it holds a tracer, as that traced value)."""
        return None

    def _holding(self, value):
        """A wrapper like this one (same type and level) holding `value`: ad.jit wraps what
        an op on a `_constant` wrapper gives, as the op eagerly would."""
        raise NotImplementedError

    # Python protocols shared by every wrapper (each class supplies shape, dtype, item)
    @property
    def ndim(self):
        """The number of dimensions.

        Examples
        --------
        >>> ad.tensor([[1.0, 2.0]]).ndim
        2
        """
        return len(self.shape)

    def __len__(self):
        if not self.shape:
            raise TypeError(f"len() of a 0-d {self._what}")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError(f"iteration over a 0-d {self._what}")
        return (self[i] for i in range(self.shape[0]))

    def _drops_derivative(self):
        """True where float() / .item() / .tolist() would lose a derivative being taken."""
        return False

    def _check_number(self, what):
        if self._drops_derivative():
            raise TypeError(
                f"adjit: {what} of a value being differentiated (inside ad.grad, ad.jacfwd, "
                "ad.hessian, ...) is a Python number without its derivative, so the result "
                "would be silently wrong. Use NumPy's or adjit's functions on the value instead "
                "of math's (np.exp(x), not math.exp(x)); for a value meant as a constant of the "
                "derivative, take ad.stop_gradient(x) first.")

    def _item(self):
        # the number, derivative or not: int() and indices (piecewise constant, derivative 0)
        return self.item()

    def __float__(self):
        self._check_number("float()")
        return float(self._item())

    def __complex__(self):
        self._check_number("complex()")
        return complex(self._item())

    def __int__(self):
        return int(self._item())

    def __index__(self):
        if self.dtype.kind not in "iub":
            raise TypeError(f"only integer {self._what}s of a single element can be used as an "
                            "index")
        return int(self._item())

    def __format__(self, spec):
        # f"{loss:.4f}" of a 0-d value: its number, as PyTorch's (display: no derivative check)
        if spec and not self.shape:
            return format(np.asarray(primal_of(self)).item(), spec)
        return object.__format__(self, spec)

    def __hash__(self):
        return id(self)


def primal_of(v):
    """The innermost NumPy value of a possibly wrapped value."""
    while isinstance(v, Traced):
        v = v._raw()
    return v
