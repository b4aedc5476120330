"""The op registry: one entry per op, consulted by every mode.

An op is called the same way whatever its arguments are. Plain NumPy arrays and Python
scalars go straight to the primal. Wrapped values (reverse-mode `Tensor`, forward-mode `Dual`,
the `ad.jit` tracer) subclass `Traced` and carry a *level*; the wrapper with the highest level
is peeled first, its layer computes the op on the unwrapped values (which may still hold
lower-level wrappers, e.g. a Tensor whose data is a Dual for forward-over-reverse) and records
or propagates derivatives. Levels are what keep nested derivatives apart (no perturbation
confusion): every transform takes a fresh level from `new_level()`.

Calling conventions (positional args are the differentiable inputs, keywords are static):
    primal(*inputs, **params) -> output
    vjp(g, out, *inputs, **params) -> tuple of cotangents (None for a zero)
    jvp(tangents, out, *inputs, **params) -> tangent (tangents aligned with inputs, None = zero)
Tangents may carry *leading* batch axes (k directions at once); rules are written with
negative axes so they work on them unchanged.
"""
import itertools

import numpy as np

OPS = {}

# Level 0: eager PyTorch-style tensors. Level 1: duals made by `ad.dual`. Transforms: fresh.
EAGER_LEVEL = 0
USER_DUAL_LEVEL = 1
_levels = itertools.count(2)


def new_level():
    return next(_levels)


class Traced:
    """Base of every wrapper type the registry dispatches on."""
    __slots__ = ()
    _level = -1
    # True for ad.jit's tracer: masks and conditions computed from it stay traced (`cond_of`)
    _symbolic = False

    _what = "value"  # the noun error messages use

    @staticmethod
    def _apply(op, args, params, level):  # pragma: no cover - overridden
        raise NotImplementedError

    # Python protocols shared by every wrapper (each class supplies shape, dtype, item)
    @property
    def ndim(self):
        return len(self.shape)

    def __len__(self):
        if not self.shape:
            raise TypeError(f"len() of a 0-d {self._what}")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError(f"iteration over a 0-d {self._what}")
        return (self[i] for i in range(self.shape[0]))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iub":
            raise TypeError(f"only integer {self._what}s of a single element can be used as an "
                            "index")
        return int(self.item())

    def __hash__(self):
        return id(self)


def primal_of(v):
    """The innermost NumPy value of a possibly wrapped value."""
    while isinstance(v, Traced):
        v = v._raw()
    return v


class Op:
    """One registry entry.

    broadcast: inputs broadcast against each other (reverse mode sums cotangents back).
    nondiff:   output carries no derivative (comparisons, argmax ...).
    saves_in / saves_out: which values the VJP reads, for the in-place version check.
    """

    def __init__(self, name, primal, vjp=None, jvp=None, *, broadcast=False, nondiff=False,
                 saves_in=True, saves_out=False, backward_name=None, vjp_needs=False):
        self.name = name
        self.primal = primal
        self.vjp = vjp
        self.jvp = jvp
        self.broadcast = broadcast
        self.nondiff = nondiff
        self.saves_in = saves_in
        self.saves_out = saves_out
        self.backward_name = backward_name or _camel(name) + "Backward"
        # vjp_needs: the VJP takes `_needs` (which inputs want a cotangent) and skips the rest
        self.vjp_needs = vjp_needs

    def __call__(self, *args, **params):
        # the wrapper with the highest level is peeled first (dispatch, inlined: this is the
        # hot path of every eager op)
        top = None
        for a in args:
            if isinstance(a, Traced) and (top is None or a._level > top._level):
                top = a
        if top is not None:
            return top._apply(self, args, params, top._level)
        try:
            return self.primal(*args, **params)
        except (ValueError, TypeError) as e:  # free unless raised: say which op and shapes
            err = _input_error(self, args, params, e)
            if err is None:
                raise
            raise err from None

    def call_primal(self, args, params):
        """The primal on values a layer has unwrapped and knows hold no wrapper."""
        try:
            return self.primal(*args, **params)
        except (ValueError, TypeError) as e:
            err = _input_error(self, args, params, e)
            if err is None:
                raise
            raise err from None

    # The layers call these; subclasses (elementwise formulas) specialise them.
    def backward(self, g, out, inputs, params, needs):
        if self.vjp is None:
            raise RuntimeError(f"adjit: op '{self.name}' has no VJP rule, so it cannot be "
                               "differentiated in reverse mode.")
        if self.vjp_needs:
            return self.vjp(g, out, *inputs, _needs=needs, **params)
        return self.vjp(g, out, *inputs, **params)

    def forward(self, tangents, out, inputs, params):
        if self.jvp is None:
            raise NotImplementedError(
                f"adjit: op '{self.name}' has no JVP rule, so it cannot be used in forward mode "
                "(ad.jvp, ad.jacfwd, ad.hessian, dual numbers). Register it with "
                f"ad.custom_op('{self.name}', primal, vjp, jvp=...) to add one.")
        return self.jvp(tangents, out, *inputs, **params)

    def __repr__(self):
        return f"<adjit op {self.name}>"


def _shapes(args, params):
    parts = [str(tuple(np.shape(a))) for a in args]
    desc = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    extra = [f"{k} of shape {np.shape(v)}" for k, v in params.items()
             if isinstance(v, np.ndarray) and v.ndim and v.dtype.kind == "b"]
    return desc + (f" (with {', '.join(extra)})" if extra else "")


def _input_error(op, args, params, e):
    """A clear error for bad inputs to an op's primal (numpy's or numba's text names neither
    the adjit op nor, for ufuncs, the shapes), or None to re-raise the original."""
    msg = str(e)
    if isinstance(e, np.linalg.LinAlgError):
        return None
    bad = [a for a in args if not isinstance(a, Traced)
           and np.asarray(a).dtype.kind not in "biufc"]
    if bad:  # strings, None, object arrays: NumPy's text ("no callable sin method") is obscure
        kinds = ", ".join(f"{type(a).__name__} of dtype {np.asarray(a).dtype}" for a in bad)
        return TypeError(f"adjit.{op.name}: unsupported input type(s) {kinds}; adjit ops take "
                         "numbers and numeric arrays (convert first: np.asarray(x, dtype=float))")
    if isinstance(e, ValueError) and "broadcast" in msg:
        return ValueError(f"adjit.{op.name}: operands with shapes {_shapes(args, params)} "
                          f"cannot be broadcast together ({msg.strip()})")
    if isinstance(e, ValueError) and "core dimension" in msg:
        return ValueError(f"adjit.{op.name}: operands with shapes {_shapes(args, params)} do "
                          f"not have matching matrix dimensions ({msg.strip()})")
    if isinstance(e, TypeError) and ("not supported for the input types" in msg
                                     or "did not contain a loop" in msg):
        kinds = ", ".join(str(getattr(a, "dtype", type(a).__name__)) for a in args)
        return TypeError(f"adjit.{op.name}: unsupported input type(s) {kinds}; adjit ops take "
                         "numbers and numeric arrays (float for differentiation)")
    return None


def _camel(name):
    return "".join(p[:1].upper() + p[1:] for p in name.strip("_").split("_"))


def dispatch(op, args, params):
    top = None
    for a in args:
        if isinstance(a, Traced) and (top is None or a._level > top._level):
            top = a
    return top._apply(op, args, params, top._level)


def register(op):
    if op.name in OPS:
        raise ValueError(f"adjit: an op named '{op.name}' is already registered")
    OPS[op.name] = op
    return op


def defop(name, primal, vjp=None, jvp=None, **flags):
    return register(Op(name, primal, vjp, jvp, **flags))
