"""`ad.vmap`: map a function over a batch axis of its arguments (JAX's semantics), with the
batching layer of `batching.py`. It composes with every transform in both orders, because a
vmap is one more level: `ad.vmap(ad.grad(loss), in_axes=(None, 0))` gives per-example
gradients, `ad.jacfwd(ad.vmap(f))`, `ad.vmap(ad.hessian(f))` and `ad.jit(ad.vmap(f))` work."""
import functools
import weakref

import numpy as np

from .. import ops
from ..core.registry import Traced, new_level
from .batching import Batched
from .pytree import num_leaves, tree_flatten, tree_unflatten


def _shape(v):
    return tuple(v.shape) if isinstance(v, Traced) else np.shape(v)


def leaf_axes(axes, spec, what):
    """One axis (int or None) per leaf of the tree `spec`, from `axes`: an int/None for the
    whole tree or a prefix of it (JAX's in_axes / out_axes)."""
    if axes is None or isinstance(axes, (int, np.integer)):
        return [None if axes is None else int(axes)] * num_leaves(spec)
    if spec is None:
        raise ValueError(f"adjit.vmap: {what} {axes!r} is a container where the value is a "
                         "single array; pass an int or None there")
    kind, keys, children = spec
    if kind is dict:
        if not isinstance(axes, dict) or set(axes) != set(keys):
            raise ValueError(f"adjit.vmap: {what} {axes!r} does not match a dict with keys "
                             f"{list(keys)}")
        parts = [axes[k] for k in keys]
    else:
        if not isinstance(axes, (tuple, list)) or len(axes) != len(children):
            raise ValueError(f"adjit.vmap: {what} {axes!r} does not match a {kind.__name__} "
                             f"of {len(children)} entries")
        parts = list(axes)
    out = []
    for a, c in zip(parts, children):
        out += leaf_axes(a, c, what)
    return out


def _move(v, src, dst):
    nd = len(_shape(v))
    if src == dst:
        return v
    if not isinstance(v, Traced):
        return np.moveaxis(v, src, dst)
    perm = [i for i in range(nd) if i != src]
    perm.insert(dst, src)
    return ops.transpose(v, axes=tuple(perm))


def _check_axis(ax, nd, what):
    if not -nd <= ax < nd:
        raise ValueError(f"adjit.vmap: {what} {ax} is out of range for a value with {nd} "
                         "axes")
    return ax % nd


def vmap(f, in_axes=0, out_axes=0):
    """Map ``f`` over an axis of its arguments, in one pass of batched ops.

    ``vmap(f)(xs)`` equals ``stack([f(x) for x in xs])``, with JAX's semantics. It composes with
    every transform in both orders: ``ad.vmap(ad.grad(loss), in_axes=(None, 0))`` gives
    per-example gradients; ``ad.jacfwd(ad.vmap(f))``, ``ad.vmap(ad.hessian(f))`` and
    ``ad.jit(ad.vmap(f))`` (its loops over the batch on threads) work too.

    Parameters
    ----------
    f : callable
        The function of one element.
    in_axes : int, None or tuple, optional
        The axis of each argument that holds the batch: an int for all of them, or a tuple
        with one entry per argument (``None``: the argument is the same for every element);
        an entry may be a pytree prefix of its argument. Default 0.
    out_axes : int, None or pytree, optional
        Where the batch axis goes in each output (``None``: the output does not depend on
        the batch). Default 0.

    Returns
    -------
    callable
        The mapped function.

    Raises
    ------
    ValueError
        If the batched arguments differ in size, or no argument is batched.
    TypeError
        If ``f`` uses Python control flow (``if``, ``float()``) on a batched value; use
        ``ad.where`` instead.

    Examples
    --------
    >>> loss = lambda w, x: ad.sum((x * w) ** 2)
    >>> ad.vmap(ad.grad(loss), in_axes=(None, 0))(np.array([1.0, 2.0]),
    ...                                           np.array([[1.0, 0.0], [0.0, 1.0]]))
    array([[2., 0.],
           [0., 4.]])
    """
    @functools.wraps(f)
    def mapped(*args):
        if isinstance(in_axes, list):
            axes = tuple(in_axes)
        else:
            axes = in_axes
        if isinstance(axes, tuple) and len(axes) != len(args):
            raise ValueError(f"adjit.vmap: in_axes has {len(axes)} entries but the function "
                             f"got {len(args)} arguments")
        leaves, spec = tree_flatten(tuple(args))
        lax = leaf_axes(axes if isinstance(axes, tuple) else
                         (axes,) * len(args), spec, "in_axes")
        size, level, wrapped = None, new_level(), []
        for i, (v, ax) in enumerate(zip(leaves, lax)):
            if ax is None:
                wrapped.append(v)
                continue
            if not isinstance(v, Traced):
                v = np.asarray(v)
                if v.dtype.kind in "iu" or v.dtype.kind == "b":
                    pass
                elif v.dtype.kind not in "fc":
                    v = v.astype(np.float64)
            nd = len(_shape(v))
            if nd == 0:
                raise ValueError(f"adjit.vmap: in_axes {ax} for a 0-d argument (leaf {i}); "
                                 "pass None for arguments that are not batched")
            ax = _check_axis(ax, nd, "in_axes")
            n = _shape(v)[ax]
            if size is not None and n != size:
                raise ValueError(f"adjit.vmap: batched arguments have different sizes along "
                                 f"their in_axes: {size} and {n} (leaf {i})")
            size = n
            wrapped.append(Batched(_move(v, ax, 0), level))
        if size is None:
            raise ValueError("adjit.vmap: no argument is batched (in_axes is None for all); "
                             "give at least one argument an int in_axes")
        out = f(*tree_unflatten(spec, wrapped))
        oleaves, ospec = tree_flatten(out)
        oax = leaf_axes(out_axes, ospec, "out_axes")
        res = []
        for v, ax in zip(oleaves, oax):
            mine = isinstance(v, Batched) and v._level == level
            if ax is None:
                if mine:
                    raise ValueError("adjit.vmap: out_axes is None for an output that depends "
                                     "on the batch; give it an int out_axes")
                res.append(v)
                continue
            if mine:
                v = v._v
            else:   # the same for every element: JAX repeats it along the batch axis
                v = np.asarray(v) if not isinstance(v, Traced) else v
                v = ops.broadcast_to(v, (size,) + _shape(v))
            res.append(_move(v, 0, _check_axis(ax, len(_shape(v)), "out_axes")))
        return tree_unflatten(ospec, res)
    # what ad.jit reads to run the batch's loops on several threads (jit/parallel.py); not
    # an attribute, which functools.wraps would copy onto e.g. ad.grad(vmapped)
    _MAPPED[mapped] = (f, tuple(in_axes) if isinstance(in_axes, list) else in_axes, out_axes)
    return mapped


_MAPPED = weakref.WeakKeyDictionary()


def vmap_of(fn):
    """(f, in_axes, out_axes) if fn is `ad.vmap(f, in_axes, out_axes)` itself, else None."""
    try:
        return _MAPPED.get(fn)
    except TypeError:   # not weak-referenceable: not a vmap
        return None
