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
from .args import as_value, bind_kwargs, parse_argnums, shape_of, unwrap, zeros_of
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
    if kind == "c":
        raise TypeError(f"adjit.{fname}: the function returned a complex value; {fname} needs a "
                        "real scalar output (a complex one has no gradient without a "
                        "convention). Return a real quantity, e.g. abs(z) ** 2.")
    if kind == "b":
        raise TypeError(f"adjit.{fname}: the function returned a bool (a comparison?), which "
                        "has no derivative; return the real-valued quantity instead.")
    shp = shape_of(out)
    if int(np.prod(shp)) != 1:
        raise TypeError(f"adjit.{fname}: the function must return a scalar (one element), but "
                        f"it returned shape {tuple(shp)}. Reduce it (e.g. .sum()) or use "
                        "ad.jacobian / ad.vjp for non-scalar outputs.")


def value_and_grad(f, argnums=0):
    def vg(*args, **kwargs):
        single, nums = parse_argnums(argnums, len(args))
        out, level, leaves, specs = record(bind_kwargs(f, kwargs), args, nums)
        _scalar_out(out, "grad")
        g = np.ones(shape_of(out))
        grads = _pull(out, level, leaves, specs, g, False)
        return unwrap(out, level), (grads[0] if single else tuple(grads))
    vg.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    vg.__wrapped__ = f
    return vg


def grad(f, argnums=0):
    vg = value_and_grad(f, argnums)

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
            vals.append(unwrap(zeros_of(t._data) if c is None else c, level))
        res.append(tree_unflatten(spec, vals))
    return res


def vjp(f, *primals):
    """``(f(*primals), vjp_fn)`` with ``vjp_fn(g)`` -> tuple of cotangents, one per primal. The output
    and g may be pytrees (tuples, lists, dicts) of arrays, of the same structure."""
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
                roots.append(o)
                grads.append(as_value(gi))
        got = (run_backward(roots, grads, True, False, capture=flat_in) if roots
               else [None] * len(flat_in))
        return tuple(_grads_tree(got, leaves, specs, level))
    return tree_unflatten(ospec, [unwrap(o, level) for o in outs]), vjp_fn


