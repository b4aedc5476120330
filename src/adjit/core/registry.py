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

from .complexrule import any_complex, complex_backward, complex_forward
from .traced import Traced, primal_of  # noqa: F401  (the wrappers' base, re-exported)

OPS = {}
# NumPy callable -> the public adjit function with NumPy's signature that implements it on
# wrapped values (registered with @implements next to the function's definition)
NUMPY_WRAPPERS = {}
# scipy.special ufunc name -> the adjit function serving it: SciPy's ufuncs call
# __array_ufunc__ too, and are matched by name so that adjit never imports SciPy
SCIPY_UFUNCS = {}

# Level 0: eager PyTorch-style tensors. Level 1: duals made by `ad.dual`. Transforms: fresh.
EAGER_LEVEL = 0
USER_DUAL_LEVEL = 1
_levels = itertools.count(2)


def new_level():
    return next(_levels)


class Op:
    """One registry entry: everything about an op on one row.

    - broadcast: inputs broadcast against each other (reverse mode sums cotangents back).
    - nondiff: output carries no derivative (comparisons, argmax ...).
    - saves_in / saves_out: which values the VJP reads, for the in-place version check and for
      freeing them after a backward; `reads(needs)` refines it per call.
    - linear: the op is linear in its inputs, so its JVP is the op itself applied to the
      tangents (autograd's "same", JAX's deflinear); `batched(params, lead, out, *inputs)`
      gives the params for tangents with leading batch axes `lead`.
    - lower: how `ad.jit` compiles it (the code generator's class: "pw" pointwise, "ix" index
      map, "red" reduction, "mm", "cat", "scan", "axis", "lib", "update"), None if it cannot;
      `jit` holds the per-op data that class needs (see jit/lowering.py).
    - api: the public function serving the row (default the op itself), exported under `name`
      and `aliases` unless export=False; `methods` are the Tensor / Dual / Tracer method names
      it is reachable as, `operator` the Python operator.
    - domain: the inputs the op-info sweep tests it on (testing/opinfo.py reads it).
    - numpy: the NumPy callables the row serves on wrapped values (np.sin(t) runs sin): the
      row's `api` is called with NumPy's arguments (core/numpy_protocol.py).
    - complex: whether the rules hold at complex values (core/complexrule.py); False raises.
    - vmap: how ad.vmap batches it where transforms/batching.py's table does not say:
      "leading" (the row maps over leading axes itself: matrix rows, FFTs on negative axes) or
      "broadcast" (its operands' leading axes broadcast as elementwise ones do); None: one call
      per batch element, unless batching.register_rule names one (the loop op's).
    """
    complex = False
    vmap = None

    def __init__(self, name, primal, vjp=None, jvp=None, *, broadcast=False, nondiff=False,
                 saves_in=True, saves_out=False, backward_name=None, vjp_needs=False,
                 linear=False, batched=None, lower=None, jit=None, api=None, export=True,
                 aliases=(), methods=(), operator=None, domain=None, reads=None, numpy=()):
        self.name = name
        self.primal = primal
        self.vjp = vjp
        self.jvp = jvp
        self.linear, self.batched = linear, batched
        if linear:
            if jvp is not None:
                raise ValueError(f"adjit: op '{name}' is linear: its JVP is the op itself")
            self.jvp = self._linear_jvp
        self.lower = lower
        self.jit = dict(jit or {})
        self.api = self if api is None else api
        self.export, self.aliases, self.methods = export, tuple(aliases), tuple(methods)
        self.operator = operator   # Python operator it serves: "add" -> __add__ (and __radd__)
        self.domain = domain
        self.broadcast = broadcast
        self.nondiff = nondiff
        self.saves_in = saves_in
        self.saves_out = saves_out
        self.backward_name = backward_name or _camel(name) + "Backward"
        # vjp_needs: the VJP takes `_needs` (which inputs want a cotangent) and skips the rest
        self.vjp_needs = vjp_needs
        self.read_rule = reads
        # needs -> reads(needs), filled by the reverse layer (rules are pure in `needs`)
        self.reads_cache = {}
        # NumPy calls these with the op's inputs positionally (no params): core/numpy_protocol
        self.numpy = tuple(numpy)

    # rows whose NumPy result is a view of their first input (reshape, transpose ...): a
    # function (base, result) that ops/views.py sets, None for the others
    view_hook = None

    def __call__(self, *args, **params):
        # the wrapper with the highest level is peeled first (dispatch, inlined: this is the
        # hot path of every eager op)
        top = None
        for a in args:
            if isinstance(a, Traced) and (top is None or a._level > top._level):
                top = a
        if top is not None:
            if self.view_hook is None:
                return top._apply(self, args, params, top._level)
            out = top._apply(self, args, params, top._level)
            self.view_hook(args[0], out)
            return out
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

    def reads(self, needs):
        """(indices of the inputs whose values the VJP reads, whether it reads the output)
        when it computes the cotangents flagged in `needs`. Only these values are checked
        against in-place changes and kept after a backward; shapes are always available."""
        if self.read_rule is not None:
            return self.read_rule(needs)
        return (range(len(needs)) if self.saves_in else ()), self.saves_out

    # The layers call these; subclasses (elementwise formulas) specialise them.
    def backward(self, g, out, inputs, params, needs):
        if self.vjp is None:
            raise RuntimeError(f"adjit: op '{self.name}' has no VJP rule, so it cannot be "
                               "differentiated in reverse mode.")
        if self.complex is not True and any_complex(out, inputs):
            return complex_backward(self, g, out, inputs, params, needs)
        if self.vjp_needs:
            return self.vjp(g, out, *inputs, _needs=needs, **params)
        return self.vjp(g, out, *inputs, **params)

    def forward(self, tangents, out, inputs, params):
        if self.jvp is None:
            raise NotImplementedError(
                f"adjit: op '{self.name}' has no JVP rule, so it cannot be used in forward mode "
                "(ad.jvp, ad.jacfwd, ad.hessian, dual numbers). Register it with "
                f"ad.custom_op('{self.name}', primal, vjp, jvp=...) to add one.")
        if self.complex is not True and any_complex(out, inputs):
            return complex_forward(self, tangents, out, inputs, params)
        return self.jvp(tangents, out, *inputs, **params)

    def _linear_jvp(self, tangents, out, *inputs, **params):
        ref, x = next((t, x) for t, x in zip(tangents, inputs) if t is not None)
        lead = tuple(_shape(ref)[:len(_shape(ref)) - len(_shape(x))])
        dt = np.result_type(*[t.dtype for t in tangents if t is not None])   # float32 stays
        ts = [np.zeros(lead + _shape(x), dtype=dt) if t is None else t
              for t, x in zip(tangents, inputs)]
        if lead and self.batched is not None:
            params = self.batched(params, lead, out, *inputs)
        return self(*ts, **params)

    def public(self, fn=None, **flags):
        """Name the public function of this row (a decorator): `@row.public` over the
        NumPy/PyTorch-signature wrapper; flags as the constructor's (aliases, methods ...)."""
        def set_api(f):
            self.api = f
            for k, v in flags.items():
                setattr(self, k, tuple(v) if k in ("aliases", "methods", "numpy") else v)
            self.reads_cache = {}
            _table[0] = None   # the NumPy dispatch table maps to the api
            return f
        return set_api if fn is None else set_api(fn)

    def __repr__(self):
        return f"<adjit op {self.name}>"


def _array(a):
    """a as an array, or None for a ragged nested list."""
    try:
        return np.asarray(a)
    except ValueError:
        return None


def _shape(v):
    return tuple(v.shape) if isinstance(v, Traced) else np.shape(v)


# Public functions that are not rows themselves (compositions of rows, e.g. var, dot):
# name -> (function, method names). Rows carry their own api/methods.
COMPOSITES = {}
# Composites that declare a test domain: name -> Composite (the op-info sweep checks them as
# it checks rows).
CHECKED_COMPOSITES = {}


class Composite:
    """A public function built from rows, as the op-info sweep sees it: called like a row,
    with a name, a domain and the NumPy callables it serves."""
    nondiff = False

    def __init__(self, fn, name, aliases, methods, domain, numpy, export):
        self.api, self.name, self.aliases, self.methods = fn, name, aliases, methods
        self.domain, self.numpy, self.export = domain, numpy, export

    def __call__(self, *args, **params):
        return self.api(*args, **params)

    def __repr__(self):
        return f"<adjit composite {self.name}>"


# Public functions whose results are integers (argsort, argmax ...): no derivative (README table)
INTEGER_RESULTS = set()


def composite(fn=None, *, methods=(), aliases=(), numpy=(), domain=None, export=True,
              integer=False):
    """Mark a public function built from rows: the method names wrappers get it as, the NumPy
    callables it serves on wrapped values (with NumPy's signature, as @implements), and its
    test domain (a list of core.domain.Sample, checked by the op-info sweep like a row's).
    export=False: not one of adjit's top-level names (e.g. adjit.scipy.special's); integer=True:
    its results are integer arrays without a derivative (argsort)."""
    def mark(f):
        if integer:
            INTEGER_RESULTS.add(f)
        if export:
            for n in (f.__name__,) + tuple(aliases):
                COMPOSITES[n] = (f, tuple(methods) if n == f.__name__ else ())
        if numpy:
            implements(*numpy)(f)
        if domain is not None:
            CHECKED_COMPOSITES[f.__name__] = Composite(f, f.__name__, tuple(aliases),
                                                       tuple(methods), domain, tuple(numpy),
                                                       export)
        return f
    return mark if fn is None else mark(fn)


def public_names():
    """name -> public function, for every exported row and composite (adjit's op exports)."""
    out = {}
    for op in OPS.values():
        if op.export:
            for n in (op.name,) + op.aliases:
                out[n] = op.api
    out.update({n: f for n, (f, _) in COMPOSITES.items()})
    return out


def method_table():
    """method name -> public function, for every row and composite that declares methods."""
    out = {}
    for op in OPS.values():
        for m in op.methods:
            out[m] = op.api
    for f, ms in COMPOSITES.values():
        for m in ms:
            out[m] = f
    return out


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
    for a in args:
        if isinstance(a, (list, tuple)) and _holds_traced(a):
            return TypeError(
                f"adjit.{op.name}: got a Python {type(a).__name__} holding differentiated "
                "values, which NumPy would turn into a constant. Stack them into one array "
                "first (ad.stack(xs)); a list passed to ad.grad is a pytree whose elements are "
                "differentiated one by one.")
    if isinstance(e, (np.linalg.LinAlgError, np.exceptions.AxisError)):
        return None
    for i, a in enumerate(args):
        if not isinstance(a, Traced) and _array(a) is None:
            return ValueError(f"adjit.{op.name}: input {i} is a ragged nested list (rows of "
                              "different lengths), not an array; pass a rectangular array")
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
    if isinstance(e, ValueError) and "zero-size array" in msg:
        return ValueError(f"adjit.{op.name}: cannot reduce an empty array of shape "
                          f"{_shapes(args, params)}{_axis_text(params)}: {op.name} of no values "
                          "is undefined (NumPy and PyTorch raise too)")
    if isinstance(e, TypeError) and ("not supported for the input types" in msg
                                     or "did not contain a loop" in msg):
        kinds = ", ".join(str(getattr(a, "dtype", type(a).__name__)) for a in args)
        return TypeError(f"adjit.{op.name}: unsupported input type(s) {kinds}; adjit ops take "
                         "numbers and numeric arrays of dtype bool, int, float32 or float64 "
                         "(float for differentiation)")
    if isinstance(e, ValueError):  # any other: at least say which op and which shapes
        return ValueError(f"adjit.{op.name}: inputs of shapes {_shapes(args, params)}: "
                          f"{msg.strip()}")
    return None


def _axis_text(params):
    return f" along axis {params['axis']}" if params.get("axis") is not None else ""


def _holds_traced(seq):
    return any(isinstance(v, Traced) or isinstance(v, (list, tuple)) and _holds_traced(v)
               for v in seq)


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


def implements(*np_funcs):
    """Register the decorated public function (written with NumPy's signature) as adjit's
    implementation of np_funcs on wrapped values: @implements(np.concatenate)."""
    def deco(fn):
        for f in np_funcs:
            NUMPY_WRAPPERS[f] = fn
        return fn
    return deco


_table = [None, None]


def numpy_table():
    """NumPy callable -> adjit implementation, built from the op rows' `numpy` callables and
    the wrappers registered with @implements (which take NumPy's full signature)."""
    key = (len(OPS), len(NUMPY_WRAPPERS))
    if _table[0] != key:
        t = {f: op.api for op in OPS.values() for f in op.numpy}
        t.update(NUMPY_WRAPPERS)
        _table[0], _table[1] = key, t
    return _table[1]


def defop(name, primal, vjp=None, jvp=None, **flags):
    return register(Op(name, primal, vjp, jvp, **flags))
