"""Reverse-mode transforms: grad, value_and_grad, vjp.

Each transform call takes a fresh level, wraps its inputs in Tensors (reverse) or Duals
(forward) of that level and unwraps the results, so transforms nest without confusing their
perturbations: hessian = jacfwd(grad(f)) runs Tensors whose data are Duals.
"""
import math

import numpy as np

from ..core.registry import Traced, new_level
from ..reverse.engine import run_backward
from ..reverse.tensor import Tensor
from .args import (as_value, bind_kwargs, cast, dtype_of, parse_argnums, shape_of, unwrap,
                   zeros_of)
from .complexargs import check_cotangent, check_grad
from .pytree import tree_flatten, tree_unflatten

# ---------------------------------------------------------------------------------------------
# reverse mode


def record(f, args, nums):
    """Run f with the chosen arguments as leaf Tensors of a fresh level."""
    level = new_level()
    args = list(args)
    leaves, specs = [], []
    for i in nums:
        flat, spec = tree_flatten(args[i])
        ts = []
        for x in flat:
            t = Tensor._make(as_value(x), level)
            t._rg = True
            ts.append(t)
        leaves.append(ts)
        specs.append(spec)
        args[i] = tree_unflatten(spec, ts)
    return f(*args), level, leaves, specs


def _pull(out, level, leaves, specs, g, retain):
    """Cotangents of the leaves for output cotangent g (zeros where unused)."""
    flat = [t for ts in leaves for t in ts]
    if isinstance(out, Tensor) and out._level == level and out._rg:
        got = run_backward([out], [g], retain, False, capture=flat)
    else:
        got = [None] * len(flat)
    return _grads_tree(got, leaves, specs, level)


def check_out(leaves, fname):
    """The function's outputs must be arrays (Tensors, duals, NumPy arrays or numbers)."""
    for v in leaves:
        if isinstance(v, Traced):
            continue
        if v is None or isinstance(v, (str, bytes)) or \
                getattr(np.asarray(v), "dtype", np.dtype(object)).kind not in "biufc":
            raise TypeError(f"adjit.{fname}: the function must return an array (a Tensor, a "
                            f"NumPy array or a number), but it returned {type(v).__name__} "
                            f"{v!r:.60}. Compute the result with ad.* ops and return it.")
    return leaves


def _scalar_out(out, fname):
    if isinstance(out, (list, tuple, dict)):
        raise TypeError(f"adjit.{fname}: the function must return a scalar, but it returned a "
                        f"{type(out).__name__}; return one array (e.g. ad.sum(ad.stack(...))), "
                        "or use ad.vjp / ad.jacobian for several outputs.")
    check_out([out], fname)
    kind = (out.dtype if isinstance(out, Traced) else np.asarray(out).dtype).kind
    if kind == "b":
        raise TypeError(f"adjit.{fname}: the function returned a bool (a comparison?), which "
                        "has no derivative; return the real-valued quantity instead.")
    shp = shape_of(out)
    if math.prod(shp) != 1:
        raise TypeError(f"adjit.{fname}: the function must return a scalar (one element), but "
                        f"it returned shape {tuple(shp)}. Reduce it (e.g. .sum()) or use "
                        "ad.jacobian / ad.vjp for non-scalar outputs.")


def value_and_grad(f, argnums=0, holomorphic=False):
    """Return a function computing both ``f(*args)`` and its gradient, in one reverse pass.

    Parameters
    ----------
    f : callable
        Function of arrays (or pytrees of arrays: tuples, lists, dicts) returning a real
        scalar (an array with one element). Keyword arguments given to the returned
        function are passed on to ``f`` and not differentiated.
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate with respect to (default 0).
    holomorphic : bool, optional
        For a holomorphic ``f`` of complex inputs with a complex output: the gradient is
        ``f'(z)``, as ``jax.grad(f, holomorphic=True)``. A real ``f`` of complex ``z`` needs
        no flag: its gradient is JAX's ``df/dx - i df/dy`` (descend with ``z - lr * conj(g)``).

    Returns
    -------
    callable
        ``vg(*args, **kwargs) -> (value, gradient)``. ``gradient`` has the structure of the
        differentiated argument, or is a tuple with one entry per argument when ``argnums``
        is a tuple. Results are NumPy arrays (or adjit values when nested inside another
        transform).

    Raises
    ------
    TypeError
        If ``f`` returns a non-scalar, bool or container output, or a complex one without
        ``holomorphic=True`` (use ``ad.vjp`` or
        ``ad.jacobian`` for non-scalar outputs).

    See Also
    --------
    grad : the gradient alone.

    Examples
    --------
    >>> f = lambda x: ad.sum(x ** 2)
    >>> value, g = ad.value_and_grad(f)(np.array([1.0, 2.0, 3.0]))
    >>> print(float(value))
    14.0
    >>> g
    array([2., 4., 6.])
    """
    def vg(*args, **kwargs):
        single, nums = parse_argnums(argnums, len(args))
        out, level, leaves, specs = record(bind_kwargs(f, kwargs), args, nums)
        _scalar_out(out, "grad")
        check_grad(out, [t._data for ts in leaves for t in ts], holomorphic, "grad")
        g = np.ones(shape_of(out), dtype=dtype_of(out))
        grads = _pull(out, level, leaves, specs, g, False)
        return unwrap(out, level), (grads[0] if single else tuple(grads))
    vg.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    vg.__wrapped__ = f
    return vg


def grad(f, argnums=0, holomorphic=False):
    """Return a function computing the gradient of the scalar-valued ``f``, as ``jax.grad``.

    Parameters
    ----------
    f : callable
        Function of arrays (or pytrees of arrays: tuples, lists, dicts) returning a real
        scalar (an array with one element). Keyword arguments given to the returned
        function are passed on to ``f`` and not differentiated.
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate with respect to (default 0).
    holomorphic : bool, optional
        For a holomorphic ``f`` of complex inputs with a complex output: the gradient is
        ``f'(z)``, as ``jax.grad(f, holomorphic=True)``. A real ``f`` of complex ``z`` needs
        no flag: its gradient is JAX's ``df/dx - i df/dy`` (descend with ``z - lr * conj(g)``).

    Returns
    -------
    callable
        ``g(*args, **kwargs) -> gradient``, with the structure of the differentiated argument,
        or a tuple with one entry per argument when ``argnums`` is a tuple. Transforms nest:
        ``ad.grad(ad.grad(f))`` is a second derivative.

    Raises
    ------
    TypeError
        If ``f`` returns a non-scalar, bool or container output, or a complex one without
        ``holomorphic=True`` (use ``ad.vjp`` or
        ``ad.jacobian`` for non-scalar outputs).

    See Also
    --------
    value_and_grad : the value and the gradient in one pass.

    Examples
    --------
    >>> f = lambda x: ad.sum(x ** 2)
    >>> ad.grad(f)(np.array([1.0, 2.0, 3.0]))
    array([2., 4., 6.])
    >>> ad.grad(lambda x, y: ad.sum(x * y), argnums=(0, 1))(np.array([1.0, 2.0]),
    ...                                                     np.array([3.0, 4.0]))
    (array([3., 4.]), array([1., 2.]))
    >>> ad.grad(lambda x, scale: scale * ad.sum(x ** 2))(np.array([1.0, 2.0]), scale=3.0)
    array([ 6., 12.])
    """
    vg = value_and_grad(f, argnums, holomorphic)

    def g(*args, **kwargs):
        return vg(*args, **kwargs)[1]
    g.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    g.__wrapped__ = f
    return g


def tracked(v, level):
    return isinstance(v, Tensor) and v._level == level and v._rg


def size_of(shape):
    return int(math.prod(shape))


def _grads_tree(got, leaves, specs, level):
    """Captured cotangents (None = unused, zero) back into the arguments' structures."""
    res, i = [], 0
    for ts, spec in zip(leaves, specs):
        vals = []
        for t in ts:
            c = got[i]
            i += 1
            # in the argument's dtype: float32 x, float64 y -> float32 d/dx (as JAX, PyTorch)
            vals.append(cast(unwrap(zeros_of(t._data) if c is None else c, level),
                             dtype_of(t._data)))
        res.append(tree_unflatten(spec, vals))
    return res


def vjp(f, *primals):
    """Evaluate ``f`` and return a function pulling cotangents back, as ``jax.vjp``.

    Parameters
    ----------
    f : callable
        Function of the primals; its output may be an array or a pytree (tuples, lists,
        dicts) of arrays.
    *primals : array_like or pytree
        The point at which ``f`` is evaluated and linearized.

    Returns
    -------
    out : array or pytree
        ``f(*primals)``.
    vjp_fn : callable
        ``vjp_fn(g)`` returns a tuple of cotangents ``g @ J``, one per primal, each with its
        primal's structure. ``g`` must have the output's structure and shapes.

    Raises
    ------
    ValueError
        From ``vjp_fn`` when ``g``'s structure or shapes do not match the output.

    Examples
    --------
    >>> out, vjp_fn = ad.vjp(lambda x: x ** 2, np.array([1.0, 2.0]))
    >>> out
    array([1., 4.])
    >>> vjp_fn(np.array([1.0, 1.0]))
    (array([2., 4.]),)
    """
    nums = tuple(range(len(primals)))
    out, level, leaves, specs = record(f, primals, nums)
    outs, ospec = tree_flatten(out)
    check_out(outs, "vjp")
    flat_in = [t for ts in leaves for t in ts]

    def vjp_fn(g):
        gl, gspec = tree_flatten(g)
        if len(gl) != len(outs) or (ospec is not None and gspec != ospec):
            raise ValueError(f"adjit.vjp: the cotangent's structure ({len(gl)} arrays) does not "
                             f"match the output's ({len(outs)} arrays)")
        for gi, o in zip(gl, outs):
            if tuple(shape_of(gi)) != tuple(shape_of(o)):
                raise ValueError(f"adjit.vjp: cotangent has shape {tuple(shape_of(gi))}, but the "
                                 f"output has shape {tuple(shape_of(o))}")
        roots, grads = [], []
        for o, gi in zip(outs, gl):
            if tracked(o, level):
                check_cotangent(gi, o)
                roots.append(o)
                grads.append(cast(as_value(gi), dtype_of(o)))
        got = (run_backward(roots, grads, True, False, capture=flat_in) if roots
               else [None] * len(flat_in))
        return tuple(_grads_tree(got, leaves, specs, level))
    return tree_unflatten(ospec, [unwrap(o, level) for o in outs]), vjp_fn


