"""User ops: `ad.custom_op(name, primal, vjp, jvp=None)` registers numba-compiled rules in the
same registry as the built-in rows."""
import numpy as np

from .registry import Op, Traced, register


def custom_op(name, primal, vjp, jvp=None):
    """Register a user op with hand-written derivative rules, compiled with numba.

    Like ``torch.autograd.Function`` or ``jax.custom_vjp``: the op is a row of the same
    registry as the built-in ops. The functions must be numba-compilable (float64 arrays in,
    arrays out); they are compiled on first use. The VJP cannot itself be differentiated
    (``ad.hessian`` of a custom op raises ``NotImplementedError``); inside ``ad.jit`` the op
    runs eagerly.

    Parameters
    ----------
    name : str
        The op's name; it must not be registered already.
    primal : callable
        ``primal(*xs) -> out``.
    vjp : callable
        ``vjp(g, out, *xs) -> tuple`` of cotangents, one per input, each with its input's
        shape (``g`` has the output's shape).
    jvp : callable, optional
        ``jvp(tangents, out, *xs) -> tangent of out``, with ``tangents`` a tuple with one
        tangent per input. Without it, forward mode raises on this op.

    Returns
    -------
    Op
        The registry row; call it like a function on arrays, Tensors and dual numbers.

    Raises
    ------
    TypeError
        If ``name`` is not a non-empty string or a rule is not a function.
    ValueError
        If an op named ``name`` is already registered.

    Examples
    --------
    >>> def cube(x):
    ...     return x ** 3
    >>> def cube_vjp(g, out, x):
    ...     return (g * 3.0 * x ** 2,)
    >>> def cube_jvp(ts, out, x):
    ...     return 3.0 * x ** 2 * ts[0]
    >>> op = ad.custom_op("cube_example", cube, cube_vjp, cube_jvp)
    >>> x = np.array([1.0, 2.0])
    >>> op(x)
    array([1., 8.])
    >>> ad.grad(lambda x: ad.sum(op(x)))(x)
    array([ 3., 12.])
    >>> ad.jacfwd(op)(x)
    array([[ 3.,  0.],
           [ 0., 12.]])
    """
    import numba

    if not isinstance(name, str) or not name:
        raise TypeError("adjit.custom_op: name must be a non-empty string")
    for what, fn in (("primal", primal), ("vjp", vjp)):
        if not callable(fn):
            raise TypeError(f"adjit.custom_op('{name}'): {what} must be a function")
    cp, cv = lazy_njit(numba, primal, name), lazy_njit(numba, vjp, name)
    if jvp is not None and not callable(jvp):
        raise TypeError(f"adjit.custom_op('{name}'): jvp must be a function or None")
    cj = lazy_njit(numba, jvp, name) if jvp is not None else None

    def prim(*xs):
        comp, store = float_dtypes(*xs)
        return stored(cp(*[np.asarray(x, dtype=comp) for x in xs]), store)

    def vj(g, out, *xs):
        if any(isinstance(v, Traced) and v._carries_derivative() for v in (out,) + xs):
            raise not_twice(name)   # ad.hessian, create_graph=True
        if isinstance(g, Traced) or any(isinstance(v, Traced) for v in (out,) + xs):
            # wrapped values: the VJP as ops of (g, out, *xs), linear in g. jacrev's batched
            # rows ride as a dual cotangent's tangent (pushed one row at a time); ad.vmap's
            # batched values run one element at a time (ad.vmap(ad.grad(f)))
            return tuple(cotangent_op(i)(g, out, *xs) for i in range(len(xs)))
        return vjp_plain(g, out, *xs)

    def vjp_plain(g, out, *xs):
        comp, _ = float_dtypes(g, *xs)
        res = cv(np.asarray(g, dtype=comp), np.asarray(out, dtype=comp),
                 *[np.asarray(x, dtype=comp) for x in xs])
        if not isinstance(res, tuple):
            res = (res,)
        if len(res) != len(xs):
            raise ValueError(f"adjit: custom op '{name}': vjp returned {len(res)} cotangents "
                             f"for {len(xs)} inputs; return one per input, as a tuple")
        for i, (c, x) in enumerate(zip(res, xs)):
            if np.shape(c) != np.shape(x):
                raise ValueError(f"adjit: custom op '{name}': vjp returned a cotangent of shape "
                                 f"{np.shape(c)} for input {i} of shape {np.shape(x)}; each "
                                 "cotangent must have its input's shape")
        return tuple(stored(c, float_dtypes(x)[1]) for c, x in zip(res, xs))   # x's dtype

    def jv(tangents, out, *xs):
        # Tangents may carry leading batch axes; the user's kernel sees one direction at a time.
        ref = next(t for t, x in zip(tangents, xs) if t is not None)
        nb = np.ndim(ref) - np.ndim(next(x for t, x in zip(tangents, xs) if t is not None))
        comp, store = float_dtypes(*xs, *[t for t in tangents if t is not None])
        xs = [np.asarray(x, dtype=comp) for x in xs]

        def one(ts):
            ts = tuple(np.zeros_like(x) if t is None else np.asarray(t, dtype=comp)
                       for t, x in zip(ts, xs))
            return stored(cj(ts, np.asarray(out, dtype=comp), *xs), store)

        if nb == 0:
            return one(tangents)
        k = np.shape(ref)[0]
        return np.stack([one(tuple(None if t is None else t[j] for t in tangents))
                         for j in range(k)])

    cots = {}

    def cotangent_op(i):
        if i not in cots:
            cots[i] = linear_cotangent(name, vjp_plain, i)
        return cots[i]

    return register(Op(name, prim, vj, jv if jvp is not None else None))


def float_dtypes(*vals):
    """(dtype the user's kernels compute in, dtype the results are stored in) for these
    values: float32 and float64 as they are (numba compiles the kernels per dtype), float16
    computed in float32 (numba has no CPU float16), integers and bools as float64, complex
    as it is (never cast to real: its derivative raises adjit's complex error)."""
    store = np.result_type(*[np.asarray(v) for v in vals])
    if store.kind not in "fc":
        store = np.dtype(np.float64)
    return (np.dtype(np.float32) if store == np.float16 else store), store


def stored(r, store):
    if isinstance(r, tuple):
        return tuple(stored(v, store) for v in r)
    if isinstance(r, np.ndarray):
        return r.astype(store) if r.dtype.kind == "f" and r.dtype != store else r
    return store.type(r) if isinstance(r, (float, np.floating)) else r


def not_twice(name):
    return NotImplementedError(
        f"adjit: custom op '{name}' has a compiled VJP, which cannot itself be differentiated "
        "(create_graph=True, ad.hessian). Compose it from ad.* ops instead.")


def linear_cotangent(name, vjp_plain, i):
    """The i-th cotangent of a custom op as an (internal, unregistered) op of (g, out, *xs),
    linear in g: its JVP in g applies the compiled VJP to each tangent row; no other
    derivative exists."""
    def jvp(ts, y, g, out, *xs):
        if any(t is not None for t in ts[1:]) or isinstance(ts[0], Traced):
            raise not_twice(name)
        t = np.asarray(ts[0])
        nb = t.ndim - np.ndim(g)
        if nb == 0:
            return vjp_plain(t, out, *xs)[i]
        rows = [vjp_plain(r, out, *xs)[i] for r in t.reshape((-1,) + np.shape(g))]
        return np.stack(rows).reshape(t.shape[:nb] + np.shape(rows[0]))

    def vjp(ct, y, g, out, *xs):
        raise not_twice(name)

    return Op(f"{name}_vjp{i}", lambda g, out, *xs: vjp_plain(g, out, *xs)[i], vjp, jvp)


def lazy_njit(numba, fn, name):
    compiled = []

    def call(*a):
        if not compiled:
            compiled.append(numba.njit(fn))
        try:
            return compiled[0](*a)
        except numba.core.errors.TypingError as e:
            raise TypeError(f"adjit: custom op '{name}': numba could not compile "
                            f"{getattr(fn, '__name__', fn)} for arguments "
                            f"{[getattr(x, 'dtype', type(x).__name__) for x in a]}: "
                            f"{str(e).splitlines()[0]}") from None
    return call
