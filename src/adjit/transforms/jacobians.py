"""Jacobians by forward mode (jvp, jacfwd: k directions per pass) and reverse mode (jacrev:
k cotangent rows per pass)."""
import numpy as np

from .. import ops
from ..core.registry import Traced, new_level
from ..forward.dual import Dual
from ..reverse.engine import run_backward
from .args import (as_arg_tuple, as_value, bind_kwargs, cast, dtype_of, full_tangent,
                   parse_argnums, shape_of, unwrap)
from .complexargs import check_jac, check_tangent
from .pytree import num_leaves, tree_flatten, tree_unflatten
from .reverse_mode import check_out, record, size_of, tracked

# ---------------------------------------------------------------------------------------------
# Jacobians. Inputs: every array leaf of the differentiated arguments, flattened into one
# vector of N entries; outputs: every leaf of f's result, flattened into M entries. Forward
# mode pushes ceil(N / k) passes of k directions; reverse mode pulls ceil(M / k) passes of k
# cotangent rows. The result has JAX's structure: the output's pytree, each leaf holding the
# argument's pytree (a tuple over argnums when argnums is a tuple) of out.shape + in.shape
# blocks.

# Forward directions pushed per pass (jacfwd, jacobian, hessian) and cotangent rows pulled per
# reverse pass (jacrev, jacobian) when the caller does not pass chunk=. Chosen 2026-11-22 by
# `python benchmarks/calibrate.py`: whole-Jacobian time for k in 8..256 at (n_in, n_out) =
# (1024, 16), (1024, 256) forward and (16, 1024), (256, 1024) reverse; k = 128 was best or
# within ~10% of the best for both benchmark functions in both modes (k = 64 was 15-50%
# slower, k = 256 sometimes best, sometimes 20% slower). Every intermediate array of f is
# carried k times per pass, so for large intermediates a smaller chunk saves memory: pass
# e.g. ad.jacfwd(f, chunk=16), ad.jacrev(f, chunk=16), ad.jacobian(f, chunk=16),
# ad.hessian(f, chunk=16); chunk=1 gives classic one-direction passes.
DEFAULT_CHUNK = 128
REV_CHUNK = 128
# Up to this many output entries jacrev pulls plain one-row passes instead: a batched pass
# carries its rows as the tangent of a dual-number cotangent and costs about as much as three
# plain passes (calibrate.py: plain wins for n_out <= 3 on both functions).
REV_PLAIN_MAX = 3


def diff_leaves(args, nums):
    """Leaves of the differentiated arguments as values, with their specs per argnum."""
    flat, specs = [], []
    for i in nums:
        lv, spec = tree_flatten(args[i])
        flat.append([as_value(x) for x in lv])
        specs.append(spec)
    return flat, specs


def _assemble(blocks_per_out, ospec, specs, single):
    """blocks_per_out[j][i]: block for output leaf j, input leaf i (flat over argnums)."""
    res = []
    for blocks in blocks_per_out:
        per_arg, i = [], 0
        for spec in specs:
            n = num_leaves(spec)
            per_arg.append(tree_unflatten(spec, blocks[i:i + n]))
            i += n
        res.append(per_arg[0] if single else tuple(per_arg))
    return tree_unflatten(ospec, res)


def _seed(s, kk, lo, hi, shape, dtype):
    """Unit directions s .. s + kk - 1 of the flat vector of all leaves, restricted to the leaf
    at offsets lo .. hi (of the given shape and dtype): shape (kk,) + shape."""
    seed = np.zeros((kk, hi - lo), dtype=dtype)
    r = np.arange(max(lo, s), min(hi, s + kk))
    seed[r - s, r - lo] = 1.0
    return seed.reshape((kk,) + tuple(shape))


def jacfwd_impl(f, args, nums, single, chunk, holomorphic=False):
    xs, specs = diff_leaves(args, nums)
    flat = [x for lv in xs for x in lv]
    check_jac(flat, holomorphic, "jacfwd", "inputs")
    xshapes = [tuple(shape_of(x)) for x in flat]
    sizes = [size_of(s) for s in xshapes]
    offs = np.cumsum([0] + sizes)
    N = int(offs[-1])
    k = max(1, min(N, chunk or DEFAULT_CHUNK))
    chunks, oinfo = [], None
    for s in range(0, N, k):
        kk = min(k, N - s)
        level = new_level()
        a = list(args)
        j = 0
        for i, lv, spec in zip(nums, xs, specs):
            vals = []
            for x in lv:
                lo, hi = int(offs[j]), int(offs[j + 1])
                if hi <= s or lo >= s + kk:
                    # no direction of this chunk: a constant, and a copy, so an f that
                    # changes its argument in place changes neither the caller's array nor
                    # the next chunk's
                    vals.append(x.copy() if isinstance(x, np.ndarray) else x)
                else:
                    seed = _seed(s, kk, lo, hi, xshapes[j], dtype_of(x))
                    vals.append(Dual._make(x, seed, level))
                j += 1
            a[i] = tree_unflatten(spec, vals)
        outs, ospec = tree_flatten(f(*a))
        check_out(outs, "jacfwd")
        ts = []
        for o in outs:
            if isinstance(o, Dual) and o._level == level:
                oshape = tuple(shape_of(o._p))
                ts.append(unwrap(full_tangent(o._t, (kk,) + oshape), level))
            else:
                oshape = tuple(shape_of(o))
                ts.append(np.zeros((kk,) + oshape, dtype=dtype_of(o)))
        oinfo = (ospec, [tuple(shape_of(t))[1:] for t in ts], [dtype_of(o) for o in outs])
        chunks.append(ts)
    if N == 0:
        outs, ospec = tree_flatten(f(*args))
        check_out(outs, "jacfwd")
        oinfo = (ospec, [tuple(shape_of(o)) for o in outs], [dtype_of(o) for o in outs])
    ospec, oshapes, odtypes = oinfo
    # block (out j, in i) in the promoted dtype of both (float32 in and out: float32)
    bdt = [[np.result_type(od, dtype_of(x)) for x in flat] for od in odtypes]
    per_out = []
    for jo, oshape in enumerate(oshapes):
        if N == 0:
            per_out.append([np.zeros(oshape + xs_, dtype=bdt[jo][j])
                            for j, xs_ in enumerate(xshapes)])
            continue
        cols = [c[jo] for c in chunks]
        T = cols[0] if len(cols) == 1 else ops.concatenate(cols, axis=0)   # (N,) + oshape
        nd = len(oshape)
        if nd:
            T = ops.transpose(T, axes=tuple(range(1, nd + 1)) + (0,))      # oshape + (N,)
        blocks = []
        for j, xshape in enumerate(xshapes):
            lo, hi = int(offs[j]), int(offs[j + 1])
            b = T if (lo, hi) == (0, N) else ops.getitem(T, idx=(Ellipsis, slice(lo, hi)))
            blocks.append(cast(unwrap(ops.reshape(b, shape=oshape + xshape), None), bdt[jo][j]))
        per_out.append(blocks)
    return _assemble(per_out, ospec, specs, single)


def jacrev_impl(out, level, leaves, specs, single, chunk, holomorphic=False):
    """Jacobian from a recorded f: ceil(M / k) reverse passes through the kept graph."""
    outs, ospec = tree_flatten(out)
    check_jac(outs, holomorphic, "jacrev", "outputs")
    check_out(outs, "jacrev")
    flat_in = [t for ts in leaves for t in ts]
    xshapes = [tuple(shape_of(t._data)) for t in flat_in]
    oshapes = [tuple(shape_of(o)) for o in outs]
    odt = [dtype_of(o) for o in outs]
    bdt = [[np.result_type(od, dtype_of(t._data)) for t in flat_in] for od in odt]
    sizes = [size_of(s) for s in oshapes]
    offs = np.cumsum([0] + sizes)
    M = int(offs[-1])
    k = max(1, min(M, chunk or REV_CHUNK))
    pieces = [[] for _ in flat_in]
    if k == 1 or M <= REV_PLAIN_MAX:
        for jo, o in enumerate(outs):
            for r in range(sizes[jo]):
                got = None
                if tracked(o, level):
                    e = np.zeros(sizes[jo], dtype=odt[jo])
                    e[r] = 1.0
                    got = run_backward([o], [e.reshape(oshapes[jo])], True, False,
                                       capture=flat_in)
                for i, xshape in enumerate(xshapes):
                    c = None if got is None else got[i]
                    pieces[i].append(np.zeros((1,) + xshape, dtype=bdt[jo][i]) if c is None else
                                     ops.reshape(c, shape=(1,) + xshape))
    else:
        for s in range(0, M, k):
            kk = min(k, M - s)
            lv = new_level()
            roots, grads = [], []
            for jo, o in enumerate(outs):
                lo, hi = int(offs[jo]), int(offs[jo + 1])
                if hi <= s or lo >= s + kk or not tracked(o, level):
                    continue
                # a dual cotangent: the VJP rules are linear in g and written with ad ops, so
                # its tangent carries kk cotangent rows through one backward pass
                roots.append(o)
                grads.append(Dual._make(np.zeros(oshapes[jo], dtype=odt[jo]),
                                        _seed(s, kk, lo, hi, oshapes[jo], odt[jo]), lv))
            got = (run_backward(roots, grads, True, False, capture=flat_in) if roots
                   else [None] * len(flat_in))
            for i, xshape in enumerate(xshapes):
                c = got[i]
                if isinstance(c, Dual) and c._level == lv:
                    pieces[i].append(full_tangent(c._t, (kk,) + xshape))
                else:   # the cotangent is linear in g: anything not carrying lv is zero
                    pieces[i].append(np.zeros((kk,) + xshape, dtype=dtype_of(flat_in[i]._data)))
    per_in = []
    for i in range(len(flat_in)):
        p = pieces[i]
        per_in.append(None if M == 0 else p[0] if len(p) == 1 else ops.concatenate(p, axis=0))
    per_out = []
    for jo, oshape in enumerate(oshapes):
        lo, hi = int(offs[jo]), int(offs[jo + 1])
        blocks = []
        for i, xshape in enumerate(xshapes):
            R = per_in[i]
            if R is None or lo == hi:
                blocks.append(np.zeros(oshape + xshape, dtype=bdt[jo][i]))
                continue
            b = R if (lo, hi) == (0, M) else ops.getitem(R, idx=(slice(lo, hi),))
            blocks.append(cast(unwrap(ops.reshape(b, shape=oshape + xshape), level), bdt[jo][i]))
        per_out.append(blocks)
    return _assemble(per_out, ospec, specs, single)


def jacrev(f, argnums=0, chunk=None, holomorphic=False):
    """Return a function computing the Jacobian of ``f`` by reverse mode, as ``jax.jacrev``.

    ``f`` is recorded once, then ``ceil(M / chunk)`` backward passes through the kept graph
    pull ``chunk`` cotangent rows each (M = output size; default ``REV_CHUNK``; plain one-row
    passes when M <= ``REV_PLAIN_MAX``). Cheapest when the output is smaller than the input.

    Parameters
    ----------
    f : callable
        Function of arrays (or pytrees of arrays); its output may be an array or a pytree.
        Keyword arguments given to the returned function are passed on to ``f``.
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate with respect to (default 0).
    chunk : int, optional
        Cotangent rows pulled per backward pass.
    holomorphic : bool, optional
        Complex outputs need it (as in JAX): the Jacobian is then ``df/dz`` of a
        holomorphic ``f``.

    Returns
    -------
    callable
        ``jac(*args, **kwargs)`` returning the Jacobian, of shape
        ``out.shape + in.shape`` (nested like the output and ``argnums`` for pytrees and
        tuples of arguments).

    See Also
    --------
    jacfwd, jacobian

    Examples
    --------
    >>> ad.jacrev(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    def jac(*args, **kwargs):
        single, nums = parse_argnums(argnums, len(args))
        out, level, leaves, specs = record(bind_kwargs(f, kwargs), args, nums)
        return jacrev_impl(out, level, leaves, specs, single, chunk, holomorphic)
    jac.__name__ = f"jacrev({getattr(f, '__name__', 'f')})"
    return jac



# ---------------------------------------------------------------------------------------------
# forward mode


def jvp(f, primals, tangents):
    """Evaluate ``f`` and its directional derivative by forward mode, as ``jax.jvp``.

    Parameters
    ----------
    f : callable
        Function of the primals; its output may be an array or a pytree of arrays.
    primals : tuple
        The arguments of ``f`` (arrays or pytrees), as a tuple even for one argument:
        ``(x,)``.
    tangents : tuple
        Tangent directions, with the structure and shapes of ``primals``. A tangent may have
        one extra trailing axis of ``k`` directions; the output tangents then have one too.

    Returns
    -------
    out : array or pytree
        ``f(*primals)``.
    tangent_out : array or pytree
        ``J @ tangents``, with the structure of ``out``.

    Raises
    ------
    TypeError
        If ``primals`` or ``tangents`` is a bare array rather than a tuple.
    ValueError
        If the tangents' structure or shapes do not match the primals'.

    Examples
    --------
    >>> ad.jvp(lambda x: x ** 2, (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
    (array([1., 4.]), array([2., 0.]))
    """
    primals = as_arg_tuple(primals, "primals", "jvp")
    tangents = as_arg_tuple(tangents, "tangents", "jvp")
    if len(primals) != len(tangents):
        raise ValueError(f"adjit.jvp: got {len(primals)} primals but {len(tangents)} tangents")
    pl, pspec = tree_flatten(primals)
    tl, tspec = tree_flatten(tangents)
    if len(pl) != len(tl):
        raise ValueError(f"adjit.jvp: the tangents' structure ({len(tl)} arrays) does not match "
                         f"the primals' ({len(pl)} arrays)")
    level = new_level()
    duals, k = [], None
    for p, t in zip(pl, tl):
        p = as_value(p)
        check_tangent(p, t, "jvp")
        ps, ts = tuple(shape_of(p)), tuple(shape_of(t))
        if ts == ps:
            tt = t if isinstance(t, Traced) else np.asarray(t, dtype=dtype_of(p))
        elif len(ts) == len(ps) + 1 and ts[:-1] == ps and not isinstance(t, Traced):
            if k is not None and ts[-1] != k:
                raise ValueError(f"adjit.jvp: tangents carry different numbers of directions "
                                 f"({k} and {ts[-1]})")
            k = ts[-1]
            tt = np.moveaxis(np.asarray(t, dtype=dtype_of(p)), -1, 0)
        else:
            raise ValueError(f"adjit.jvp: tangent of shape {ts} does not match its primal of "
                             f"shape {ps}")
        duals.append(Dual._make(p, tt, level))
    if k is not None:
        duals = [d if len(shape_of(d._t)) > len(shape_of(d._p)) else
                 Dual._make(d._p, ops.broadcast_to(d._t, (k,) + tuple(shape_of(d._p))), level)
                 for d in duals]
    out = f(*tree_unflatten(pspec, duals))
    outs, ospec = tree_flatten(out)
    check_out(outs, "jvp")
    split = [_split_dual(o, level, k) for o in outs]
    return (tree_unflatten(ospec, [p for p, _ in split]),
            tree_unflatten(ospec, [t for _, t in split]))


def _split_dual(out, level, k):
    if isinstance(out, Dual) and out._level == level:
        t = full_tangent(out._t, ((k,) if k is not None else ()) + tuple(shape_of(out._p)))
        if k is not None:
            nd = len(shape_of(t))
            t = ops.transpose(t, axes=tuple(range(1, nd)) + (0,))
        return unwrap(out._p, level), cast(unwrap(t, level), dtype_of(out._p))
    shp = tuple(shape_of(out))
    return unwrap(out, level), np.zeros(shp + ((k,) if k is not None else ()), dtype=dtype_of(out))


def jacfwd(f, argnums=0, chunk=None, holomorphic=False):
    """Return a function computing the Jacobian of ``f`` by forward mode, as ``jax.jacfwd``.

    ``ceil(N / chunk)`` forward passes push ``chunk`` tangent directions each (N = total
    input size, default ``DEFAULT_CHUNK``). Cheapest when the input is smaller than the
    output.

    Parameters
    ----------
    f : callable
        Function of arrays (or pytrees of arrays); its output may be an array or a pytree.
        Keyword arguments given to the returned function are passed on to ``f``.
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate with respect to (default 0).
    chunk : int, optional
        Tangent directions pushed per forward pass.
    holomorphic : bool, optional
        Complex inputs need it (as in JAX): the Jacobian is then ``df/dz`` of a
        holomorphic ``f``.

    Returns
    -------
    callable
        ``jac(*args, **kwargs)`` returning the Jacobian, of shape
        ``out.shape + in.shape`` (nested like the output and ``argnums`` for pytrees and
        tuples of arguments).

    See Also
    --------
    jacrev, jacobian

    Examples
    --------
    >>> ad.jacfwd(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    >>> ad.jacfwd(lambda x: x[0] * x)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [2., 1.]])
    """
    def jac(*args, **kwargs):
        single, nums = parse_argnums(argnums, len(args))
        return jacfwd_impl(bind_kwargs(f, kwargs), args, nums, single, chunk, holomorphic)
    jac.__name__ = f"jacfwd({getattr(f, '__name__', 'f')})"
    return jac


