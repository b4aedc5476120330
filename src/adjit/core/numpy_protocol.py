"""NumPy's dispatch protocols on adjit's wrapped values (issue 11, "NumPy as written").

`np.sin(t)`, `np.linalg.solve(A, b)`, `W @ x` with a NumPy `W`, `np.sum(x, axis=0)` on Tensors,
dual numbers and ad.jit tracers run the registry op that serves the NumPy function, so they
record, propagate tangents or trace exactly as the `ad.*` spelling does. The table comes from
the op rows (`Op.numpy`) and from the public wrappers registered with `@implements(np.f)` next
to their definitions (`registry.numpy_table()`); nothing here lists NumPy functions.

A NumPy function without a row must never turn a differentiated value into a constant (NumPy
would call `__array__` and the derivative would silently be zero):
- no argument carries a derivative (constant Tensors): NumPy runs on the plain values;
- its results are integers, booleans, dtypes or strings (argmax, isnan, shape, array2string):
  no derivative exists, the result is NumPy's (under ad.jit the value would be frozen into the
  kernel, so the tracer makes the function run eagerly instead);
- anything else raises `TypeError: adjit: np.<name> is not differentiable yet; use ...`.
"""
import inspect
import sys

import numpy as np

from .registry import SCIPY_UFUNCS, Op, Traced, numpy_table, primal_of

# ufunc keywords NumPy passes with their default values; any other value is refused clearly
_UFUNC_DEFAULTS = {"out": None, "where": True, "casting": "same_kind", "order": "K",
                   "dtype": None, "subok": True, "signature": None}


def np_name(func):
    """'sin', 'linalg.solve', 'add.reduce' (called as np.<name>), or 'scipy.special.erf' for
    the SciPy ufuncs that dispatch too: the name a user calls the function by."""
    name = getattr(func, "__name__", repr(func))
    if getattr(np, name, None) is func:
        return name
    for sub in ("linalg", "fft", "random", "polynomial"):
        if getattr(getattr(np, sub, None), name, None) is func:
            return f"{sub}.{name}"
    special = sys.modules.get("scipy.special")
    if special is not None and getattr(special, name, None) is func:
        return "scipy.special." + name
    return name


def _shown(name):
    return name if name.startswith("scipy.") else "np." + name


def not_differentiable(name):
    f = _shown(name)
    return TypeError(
        f"adjit: {f} is not differentiable yet; use the adjit ops (ad.*) that compute it, call "
        f"{f} on .detach()ed tensors (or a dual's .primal) if a constant is meant, or register "
        "its derivative with ad.custom_op. The NumPy functions adjit differentiates are listed "
        "in the README ('Differentiating existing NumPy code').")


def _unsupported_kw(name, key):
    if key == "out":
        return TypeError(f"adjit: {_shown(name)}(..., out=...) cannot write a differentiated value "
                         "into an array; use the returned value (y = np.f(x) instead of "
                         "np.f(x, out=y), y = y + x instead of y += x on a NumPy y)")
    return TypeError(f"adjit: {_shown(name)}(..., {key}=...) is not supported yet on "
                     "differentiated values; leave it at its default or use the ad.* op")


def _walk(v, fn):
    if isinstance(v, (list, tuple)):
        return type(v)(_walk(u, fn) for u in v)
    if isinstance(v, dict):
        return {k: _walk(u, fn) for k, u in v.items()}
    return fn(v)


def _scan(values):
    """Whether any (nested) argument carries a derivative."""
    found = []

    def look(v):
        while isinstance(v, Traced):
            if v._carries_derivative():
                found.append(v)
                return v
            v = v._raw()
        return v
    _walk(values, look)
    return bool(found)


def _plain(v):
    # A constant Tensor converts (a traced value underneath makes ad.jit run eagerly)
    return np.asarray(v) if isinstance(v, Traced) else v


def _probe(v):
    # the innermost values, copied so that a function writing into its arguments does not
    # change a Tensor's data
    if isinstance(v, Traced):
        return np.array(primal_of(v), copy=True)
    return v


def _no_derivative(res):
    if isinstance(res, (tuple, list)):
        return all(_no_derivative(r) for r in res)
    if isinstance(res, (bool, int, str, np.bool_, np.integer, np.dtype, type)):
        return True
    return isinstance(res, np.ndarray) and res.dtype.kind in "biu"


def _symbolic(values):
    found = []

    def look(v):
        while isinstance(v, Traced):
            if v._symbolic:
                found.append(v)
            v = v._raw()
        return v
    _walk(values, look)
    return found


# functions of the shapes and dtypes alone: no derivative, and safe under ad.jit (which
# specialises on shapes and dtypes)
_STRUCTURAL = frozenset([np.shape, np.ndim, np.size, np.iscomplexobj, np.isrealobj,
                         np.result_type])


def _without_row(name, call, args, kwargs):
    if call in _STRUCTURAL:
        return call(*_walk(args, primal_of), **_walk(kwargs, primal_of))
    if not _scan((args, kwargs)):
        traced = _symbolic((args, kwargs))
        if traced:
            traced[0]._no_numpy_row(_shown(name))
        return call(*_walk(args, _plain), **_walk(kwargs, _plain))
    try:
        res = call(*_walk(args, _probe), **_walk(kwargs, _probe))
    except Exception as e:  # noqa: BLE001 - e.g. ad.vmap's NaN stand-ins in np.linalg.eigvals
        traced = _symbolic((args, kwargs))
        if traced:
            traced[0]._no_numpy_row(_shown(name))
        raise not_differentiable(name) from e
    if not _no_derivative(res):
        raise not_differentiable(name)
    traced = _symbolic((args, kwargs))
    if traced:  # ad.jit's tracer: the value must not be frozen into the kernel (runs eagerly)
        traced[0]._no_numpy_row(_shown(name))
    return res


# ---------------------------------------------------------------------------------------------
# calling an implementation with NumPy's arguments

_BINDERS = {}


def _binder(func, impl):
    """A function (args, kwargs) -> impl's result, taking NumPy's signature of func: an op row
    takes NumPy's arguments positionally; a wrapper takes the first (and positional-only) ones
    positionally and the rest by NumPy's names. Arguments the implementation does not know
    are dropped at their NumPy default and refused otherwise."""
    name = np_name(func)
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        sig = None
    if sig is None:
        return lambda args, kwargs: impl(*args, **kwargs)
    params = list(sig.parameters.values())
    if isinstance(impl, Op):
        accepted, var_kw = None, False
    else:
        ip = inspect.signature(impl).parameters
        var_kw = any(p.kind is p.VAR_KEYWORD for p in ip.values())
        accepted = {n for n, p in ip.items() if p.kind is not p.VAR_POSITIONAL}

    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    by_name = {p.name: p for p in params if p.kind is not p.POSITIONAL_ONLY}
    simple = all(p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params)

    def bind(args, kwargs):
        # inspect's Signature.bind costs ~30 us a call; this covers NumPy's plain signatures
        if not simple:
            return sig.bind(*args, **kwargs).arguments
        if len(args) > len(positional):
            raise TypeError(f"takes at most {len(positional)} positional arguments")
        got = {p.name: v for p, v in zip(positional, args)}
        for k, v in kwargs.items():
            if k not in by_name or k in got:
                raise TypeError(f"got an unexpected or repeated argument {k!r}")
            got[k] = v
        return got

    # one precomputed action per NumPy parameter (Parameter.kind is a slow property)
    plan = []
    for i, p in enumerate(params):
        if p.kind is p.VAR_POSITIONAL:
            act = "extend"
        elif p.kind is p.VAR_KEYWORD:
            act = "update"
        elif accepted is None:   # an op row: NumPy's array arguments, in order
            act = "pos" if i == 0 else "op"
        elif i == 0 or p.kind is p.POSITIONAL_ONLY:
            act = "pos"          # the arrays: by position (names differ: a, x, arrays ...)
        elif p.name in accepted:
            act = "kw"
        else:
            act = "var_kw" if var_kw else "refuse"
        plan.append((p.name, act, p))

    def call(args, kwargs):
        try:
            bound = bind(args, kwargs)
        except TypeError as e:
            raise TypeError(f"adjit: {_shown(name)}: {e}") from None
        pos, kw = [], {}
        for pname, act, p in plan:
            if pname not in bound:
                continue
            v = bound[pname]
            if act == "pos":
                pos.append(v)
            elif act == "kw":
                kw[pname] = v
            elif act == "extend":
                pos.extend(v)
            elif act == "update":
                kw.update(v)
            elif _is_default(p, v):
                continue
            elif act == "op" and p.kind is not p.KEYWORD_ONLY:
                pos.append(v)
            elif act == "var_kw":
                kw[pname] = v
            else:
                raise _unsupported_kw(name, pname)
        return impl(*pos, **kw)
    return call


def _is_default(p, v):
    if p.name in ("out", "dtype") and v is None:
        return True
    d = p.default
    if d is inspect.Parameter.empty:
        return False
    if d is np._NoValue or v is np._NoValue:
        return v is d
    try:
        return bool(v == d) if type(v) is type(d) else v is d
    except Exception:  # noqa: BLE001 - arrays and odd types are not defaults
        return False


def _implementation(func):
    impl = numpy_table().get(func)
    if impl is None:
        return None
    b = _BINDERS.get(func)
    if b is None or b[0] is not impl:
        b = _BINDERS[func] = (impl, _binder(func, impl))
    return b[1]


# ---------------------------------------------------------------------------------------------
# the protocols


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    impl = numpy_table().get(ufunc) if method == "__call__" else None
    if impl is not None and not kwargs:
        return impl(*inputs)    # the usual case: np.sin(t), W @ t, 2 * t
    name = np_name(ufunc) if method == "__call__" else f"{np_name(ufunc)}.{method}"
    if impl is None and name.startswith("scipy.special."):   # scipy.special.gammaln(t)
        impl = SCIPY_UFUNCS.get(name[len("scipy.special."):])
    diff = _scan((inputs, kwargs))
    for k, v in kwargs.items():
        if not (k in _UFUNC_DEFAULTS and _same(v, _UFUNC_DEFAULTS[k])):
            if diff:    # out= (also from y += t on a NumPy y), where=, dtype= ...
                raise _unsupported_kw(name, k)
            impl = None     # constants: NumPy does it
    if impl is not None:
        return impl(*inputs)
    return _without_row(name, ufunc if method == "__call__" else getattr(ufunc, method),
                        inputs, kwargs)


def _same(v, d):
    return v is d or (type(v) is type(d) and v == d)


def array_function(self, func, types, args, kwargs):
    call = _implementation(func)
    if call is not None:
        return call(args, kwargs)
    return _without_row(np_name(func), func, args, kwargs)


def _dlpack(self, **kwargs):
    # np.from_dlpack(t): the array of a constant; a differentiated value refuses (__array__)
    return np.asarray(self).__dlpack__(**kwargs)


def _dlpack_device(self):
    return np.asarray(primal_of(self)).__dlpack_device__()


def attach(cls):
    cls.__array_ufunc__ = array_ufunc
    cls.__array_function__ = array_function
    cls.__dlpack__ = _dlpack
    cls.__dlpack_device__ = _dlpack_device
