"""JAX-style transforms over the registry: grad, vjp, jvp, jacfwd, jacrev, jacobian, hessian.

Each transform call takes a fresh level, wraps its inputs in Tensors (reverse) or Duals
(forward) of that level and unwraps the results, so transforms nest without confusing their
perturbations: hessian = jacfwd(grad(f)) runs Tensors whose data are Duals.
"""
import math

import numpy as np

from . import ops
from .autograd import run_backward
from .dual import Dual
from .registry import Traced, new_level
from .tensor import Tensor

# ---------------------------------------------------------------------------------------------
# pytrees: tuples, lists and dicts of arrays


def tree_flatten(x):
    if isinstance(x, (tuple, list)):
        leaves, defs = [], []
        for v in x:
            lv, d = tree_flatten(v)
            leaves += lv
            defs.append((len(lv), d))
        return leaves, (type(x), defs)
    if isinstance(x, dict):
        keys = sorted(x)
        lv, d = tree_flatten([x[k] for k in keys])
        return lv, (dict, (keys, d))
    return [x], None


def tree_unflatten(spec, leaves):
    leaves = list(leaves)
    if spec is None:
        return leaves[0]
    kind, defs = spec
    if kind is dict:
        keys, d = defs
        return dict(zip(keys, tree_unflatten(d, leaves)))
    out, i = [], 0
    for n, d in defs:
        out.append(tree_unflatten(d, leaves[i:i + n]))
        i += n
    return kind(out)


def _value(x):
    """An input as the value a wrapper holds: arrays stay arrays, wrappers stay wrappers."""
    if isinstance(x, Traced):
        return x
    a = np.asarray(x)
    if a.dtype.kind not in "fc":
        if a.dtype.kind in "biu":
            a = a.astype(np.float64)
        else:
            raise TypeError(f"adjit: cannot differentiate with respect to a value of type "
                            f"{type(x).__name__} (dtype {a.dtype}); pass floats or float arrays")
    return a


def _result(v, level):
    """Peel this level's wrapper off a result; arrays come back as NumPy values."""
    if isinstance(v, Tensor) and v._level == level:
        v = v._data
    if isinstance(v, Traced):
        return v
    return np.asarray(v)[()] if np.ndim(v) == 0 else np.asarray(v)


def _argnums(argnums, nargs):
    single = isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool)
    nums = (argnums,) if single else tuple(argnums) \
        if isinstance(argnums, (tuple, list)) else None
    if nums is None or any(isinstance(a, bool) or not isinstance(a, (int, np.integer))
                           for a in nums):
        raise TypeError(f"adjit: argnums must be an int or a tuple of ints, got {argnums!r}")
    if len(set(a % nargs if nargs else a for a in nums)) != len(nums):
        raise ValueError(f"adjit: argnums={argnums} names an argument twice")
    for a in nums:
        if not -nargs <= a < nargs:
            raise ValueError(f"adjit: argnums={argnums} is out of range for a function called "
                             f"with {nargs} positional arguments")
    return single, tuple(a % nargs for a in nums)


def _shape(v):
    return v.shape if isinstance(v, Traced) else np.shape(v)


def _zeros_like(v):
    return np.zeros(_shape(v))


def _full(t, shape):
    """A tangent at its full shape (rules may return one that still needs broadcasting)."""
    return t if tuple(_shape(t)) == shape else ops.broadcast_to(t, shape)


# ---------------------------------------------------------------------------------------------
# reverse mode


def _record(f, args, nums):
    """Run f with the chosen arguments as leaf Tensors of a fresh level."""
    level = new_level()
    args = list(args)
    leaves, specs = [], []
    for i in nums:
        flat, spec = tree_flatten(args[i])
        ts = []
        for x in flat:
            t = Tensor._make(_value(x), level)
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


def _check_out(leaves, fname):
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
    _check_out([out], fname)
    shp = _shape(out)
    if int(np.prod(shp)) != 1:
        raise TypeError(f"adjit.{fname}: the function must return a scalar (one element), but "
                        f"it returned shape {tuple(shp)}. Reduce it (e.g. .sum()) or use "
                        "ad.jacobian / ad.vjp for non-scalar outputs.")


def value_and_grad(f, argnums=0):
    def vg(*args):
        single, nums = _argnums(argnums, len(args))
        out, level, leaves, specs = _record(f, args, nums)
        _scalar_out(out, "grad")
        g = np.ones(_shape(out))
        grads = _pull(out, level, leaves, specs, g, False)
        return _result(out, level), (grads[0] if single else tuple(grads))
    vg.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    vg.__wrapped__ = f
    return vg


def grad(f, argnums=0):
    vg = value_and_grad(f, argnums)

    def g(*args):
        return vg(*args)[1]
    g.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    g.__wrapped__ = f
    return g


def _tracked(v, level):
    return isinstance(v, Tensor) and v._level == level and v._rg


def _size(shape):
    return int(math.prod(shape))


def _grads_tree(got, leaves, specs, level):
    """Captured cotangents (None = unused, zero) back into the arguments' structures."""
    res, i = [], 0
    for ts, spec in zip(leaves, specs):
        vals = []
        for t in ts:
            c = got[i]
            i += 1
            vals.append(_result(_zeros_like(t._data) if c is None else c, level))
        res.append(tree_unflatten(spec, vals))
    return res


def vjp(f, *primals):
    """(f(*primals), vjp_fn) with vjp_fn(g) -> tuple of cotangents, one per primal. The output
    and g may be pytrees (tuples, lists, dicts) of arrays, of the same structure."""
    nums = tuple(range(len(primals)))
    out, level, leaves, specs = _record(f, primals, nums)
    outs, ospec = tree_flatten(out)
    _check_out(outs, "vjp")
    flat_in = [t for ts in leaves for t in ts]

    def vjp_fn(g):
        gl, gspec = tree_flatten(g)
        if len(gl) != len(outs) or (ospec is not None and gspec != ospec):
            raise ValueError(f"adjit.vjp: the cotangent's structure ({len(gl)} arrays) does not "
                             f"match the output's ({len(outs)} arrays)")
        for gi, o in zip(gl, outs):
            if tuple(_shape(gi)) != tuple(_shape(o)):
                raise ValueError(f"adjit.vjp: cotangent has shape {tuple(_shape(gi))}, but the "
                                 f"output has shape {tuple(_shape(o))}")
        roots, grads = [], []
        for o, gi in zip(outs, gl):
            if _tracked(o, level):
                roots.append(o)
                grads.append(_value(gi))
        got = (run_backward(roots, grads, True, False, capture=flat_in) if roots
               else [None] * len(flat_in))
        return tuple(_grads_tree(got, leaves, specs, level))
    return tree_unflatten(ospec, [_result(o, level) for o in outs]), vjp_fn


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


def _diff_leaves(args, nums):
    """Leaves of the differentiated arguments as values, with their specs per argnum."""
    flat, specs = [], []
    for i in nums:
        lv, spec = tree_flatten(args[i])
        flat.append([_value(x) for x in lv])
        specs.append(spec)
    return flat, specs


def _assemble(blocks_per_out, ospec, specs, single):
    """blocks_per_out[j][i]: block for output leaf j, input leaf i (flat over argnums)."""
    res = []
    for blocks in blocks_per_out:
        per_arg, i = [], 0
        for spec in specs:
            n = _count_leaves(spec)
            per_arg.append(tree_unflatten(spec, blocks[i:i + n]))
            i += n
        res.append(per_arg[0] if single else tuple(per_arg))
    return tree_unflatten(ospec, res)


def _count_leaves(spec):
    if spec is None:
        return 1
    kind, defs = spec
    if kind is dict:
        return _count_leaves(defs[1])
    return sum(n for n, _ in defs)


def _seed(s, kk, lo, hi, shape):
    """Unit directions s .. s + kk - 1 of the flat vector of all leaves, restricted to the leaf
    at offsets lo .. hi (of the given shape): shape (kk,) + shape."""
    seed = np.zeros((kk, hi - lo))
    r = np.arange(max(lo, s), min(hi, s + kk))
    seed[r - s, r - lo] = 1.0
    return seed.reshape((kk,) + tuple(shape))


def _jacfwd_impl(f, args, nums, single, chunk):
    xs, specs = _diff_leaves(args, nums)
    flat = [x for lv in xs for x in lv]
    xshapes = [tuple(_shape(x)) for x in flat]
    sizes = [_size(s) for s in xshapes]
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
                    vals.append(x)            # no direction of this chunk: a constant
                else:
                    vals.append(Dual._make(x, _seed(s, kk, lo, hi, xshapes[j]), level))
                j += 1
            a[i] = tree_unflatten(spec, vals)
        outs, ospec = tree_flatten(f(*a))
        _check_out(outs, "jacfwd")
        ts = []
        for o in outs:
            if isinstance(o, Dual) and o._level == level:
                oshape = tuple(_shape(o._p))
                ts.append(_result(_full(o._t, (kk,) + oshape), level))
            else:
                oshape = tuple(_shape(o))
                ts.append(np.zeros((kk,) + oshape))
        oinfo = (ospec, [tuple(_shape(t))[1:] for t in ts])
        chunks.append(ts)
    if N == 0:
        outs, ospec = tree_flatten(f(*args))
        _check_out(outs, "jacfwd")
        oinfo = (ospec, [tuple(_shape(o)) for o in outs])
    ospec, oshapes = oinfo
    per_out = []
    for jo, oshape in enumerate(oshapes):
        if N == 0:
            per_out.append([np.zeros(oshape + xs_) for xs_ in xshapes])
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
            blocks.append(_result(ops.reshape(b, shape=oshape + xshape), None))
        per_out.append(blocks)
    return _assemble(per_out, ospec, specs, single)


def _jacrev_impl(out, level, leaves, specs, single, chunk):
    """Jacobian from a recorded f: ceil(M / k) reverse passes through the kept graph."""
    outs, ospec = tree_flatten(out)
    _check_out(outs, "jacrev")
    flat_in = [t for ts in leaves for t in ts]
    xshapes = [tuple(_shape(t._data)) for t in flat_in]
    oshapes = [tuple(_shape(o)) for o in outs]
    sizes = [_size(s) for s in oshapes]
    offs = np.cumsum([0] + sizes)
    M = int(offs[-1])
    k = max(1, min(M, chunk or REV_CHUNK))
    pieces = [[] for _ in flat_in]
    if k == 1 or M <= REV_PLAIN_MAX:
        for jo, o in enumerate(outs):
            for r in range(sizes[jo]):
                got = None
                if _tracked(o, level):
                    e = np.zeros(sizes[jo])
                    e[r] = 1.0
                    got = run_backward([o], [e.reshape(oshapes[jo])], True, False,
                                       capture=flat_in)
                for i, xshape in enumerate(xshapes):
                    c = None if got is None else got[i]
                    pieces[i].append(np.zeros((1,) + xshape) if c is None else
                                     ops.reshape(c, shape=(1,) + xshape))
    else:
        for s in range(0, M, k):
            kk = min(k, M - s)
            lv = new_level()
            roots, grads = [], []
            for jo, o in enumerate(outs):
                lo, hi = int(offs[jo]), int(offs[jo + 1])
                if hi <= s or lo >= s + kk or not _tracked(o, level):
                    continue
                # a dual cotangent: the VJP rules are linear in g and written with ad ops, so
                # its tangent carries kk cotangent rows through one backward pass
                roots.append(o)
                grads.append(Dual._make(np.zeros(oshapes[jo]), _seed(s, kk, lo, hi, oshapes[jo]),
                                        lv))
            got = (run_backward(roots, grads, True, False, capture=flat_in) if roots
                   else [None] * len(flat_in))
            for i, xshape in enumerate(xshapes):
                c = got[i]
                if isinstance(c, Dual) and c._level == lv:
                    pieces[i].append(_full(c._t, (kk,) + xshape))
                else:   # the cotangent is linear in g: anything not carrying lv is zero
                    pieces[i].append(np.zeros((kk,) + xshape))
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
                blocks.append(np.zeros(oshape + xshape))
                continue
            b = R if (lo, hi) == (0, M) else ops.getitem(R, idx=(slice(lo, hi),))
            blocks.append(_result(ops.reshape(b, shape=oshape + xshape), level))
        per_out.append(blocks)
    return _assemble(per_out, ospec, specs, single)


def jacrev(f, argnums=0, chunk=None):
    """Jacobian by reverse mode: f is recorded once, then ceil(M / chunk) backward passes
    through the kept graph pull `chunk` cotangent rows each (M = output size; default
    REV_CHUNK; plain one-row passes when M <= REV_PLAIN_MAX). Shape out.shape + in.shape."""
    def jac(*args):
        single, nums = _argnums(argnums, len(args))
        out, level, leaves, specs = _record(f, args, nums)
        return _jacrev_impl(out, level, leaves, specs, single, chunk)
    jac.__name__ = f"jacrev({getattr(f, '__name__', 'f')})"
    return jac


# ---------------------------------------------------------------------------------------------
# forward mode


def jvp(f, primals, tangents):
    """(f(*primals), J @ tangents), like jax.jvp: primals and tangents are tuples (of arrays or
    pytrees) of the same structure; the output may be a pytree. A tangent may have a trailing
    axis of k directions; the output tangents then have one too."""
    primals, tangents = tuple(primals), tuple(tangents)
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
        p = _value(p)
        ps, ts = tuple(_shape(p)), tuple(_shape(t))
        if ts == ps:
            tt = t if isinstance(t, Traced) else np.asarray(t, dtype=float)
        elif len(ts) == len(ps) + 1 and ts[:-1] == ps and not isinstance(t, Traced):
            if k is not None and ts[-1] != k:
                raise ValueError(f"adjit.jvp: tangents carry different numbers of directions "
                                 f"({k} and {ts[-1]})")
            k = ts[-1]
            tt = np.moveaxis(np.asarray(t, dtype=float), -1, 0)
        else:
            raise ValueError(f"adjit.jvp: tangent of shape {ts} does not match its primal of "
                             f"shape {ps}")
        duals.append(Dual._make(p, tt, level))
    if k is not None:
        duals = [d if len(_shape(d._t)) > len(_shape(d._p)) else
                 Dual._make(d._p, ops.broadcast_to(d._t, (k,) + tuple(_shape(d._p))), level)
                 for d in duals]
    out = f(*tree_unflatten(pspec, duals))
    outs, ospec = tree_flatten(out)
    _check_out(outs, "jvp")
    split = [_split_dual(o, level, k) for o in outs]
    return (tree_unflatten(ospec, [p for p, _ in split]),
            tree_unflatten(ospec, [t for _, t in split]))


def _split_dual(out, level, k):
    if isinstance(out, Dual) and out._level == level:
        t = _full(out._t, ((k,) if k is not None else ()) + tuple(_shape(out._p)))
        if k is not None:
            nd = len(_shape(t))
            t = ops.transpose(t, axes=tuple(range(1, nd)) + (0,))
        return _result(out._p, level), _result(t, level)
    shp = tuple(_shape(out))
    return _result(out, level), np.zeros(shp + ((k,) if k is not None else ()))


def jacfwd(f, argnums=0, chunk=None):
    """Jacobian by forward mode: ceil(N / chunk) passes pushing `chunk` directions each
    (N = total input size, default DEFAULT_CHUNK). Shape out.shape + in.shape."""
    def jac(*args):
        single, nums = _argnums(argnums, len(args))
        return _jacfwd_impl(f, args, nums, single, chunk)
    jac.__name__ = f"jacfwd({getattr(f, '__name__', 'f')})"
    return jac


# ---------------------------------------------------------------------------------------------
# choosing the mode
#
# Cost model of one Jacobian with n_in inputs and n_out outputs, in units of one one-pass
# forward Jacobian of a small f (so f's own size cancels), with k = min(n_in, chunk) forward
# directions and k' = min(n_out, chunk) reverse rows per pass, s = n_in * n_out / SIZE_REF:
#
#   forward = FWD_BASE + ceil(n_in / k) * FWD_PASS + n_in * s * FWD_DIR
#   reverse = REV_BASE + n_out * REV_PLAIN                  (n_out <= REV_PLAIN_MAX: plain rows)
#                      + ceil(n_out / k') * REV_PASS        (otherwise: batched rows)
#                      + (n_out + 1) * s * REV_ROW          (the recording counts as one row)
#
# The *_PASS / *_PLAIN / *_BASE terms are the fixed Python cost of a pass (dispatch per op,
# seeds, assembling the result), the *_DIR / *_ROW terms the work each direction or row adds;
# s stands for that work, taken to grow like a dense layer's (n_in * n_out).
#
# Measured 2026-11-22 by `python benchmarks/calibrate.py` (2 shared cores, NumPy on
# single-threaded OpenBLAS): whole-Jacobian times of jacfwd and jacrev for f(x) = tanh(W x)
# and the nonlinearity-heavy function of benchmarks/bench_selector.py at 26 calibration shapes
# between (1, 8) and (512, 512) (not the benchmark grid), a non-negative least-squares fit of
# the constants on relative error per function (each function picks the faster mode at 26/26
# of its shapes with its own fit), and the medians over the two functions below. A batched
# reverse pass costs about 1.7 forward passes: the rows ride as the tangent of a dual-number
# cotangent, so every VJP op is also a JVP op. Checked on the benchmark grid
# (python benchmarks/bench_selector.py, 72 points): the faster mode picked at 67/72 (the five
# misses are ties within 3.3%), time(auto) <= 1.10 x the faster mode.
FWD_BASE = 0.0
FWD_PASS = 1.04
FWD_DIR = 0.0705
REV_BASE = 0.367
REV_PLAIN = 0.54
REV_PASS = 1.72
REV_ROW = 0.0791
SIZE_REF = 65536


def mode_costs(n_in, n_out, chunk=None):
    """(forward, reverse): the cost model's estimate for a Jacobian with n_in inputs and n_out
    outputs, in units of one small one-pass forward Jacobian (see the notes above)."""
    n_in, n_out = int(n_in), int(n_out)
    s = n_in * n_out / SIZE_REF
    kf = max(1, min(n_in, chunk or DEFAULT_CHUNK))
    fwd = FWD_BASE + math.ceil(n_in / kf) * FWD_PASS + n_in * s * FWD_DIR
    kr = max(1, min(n_out, chunk or REV_CHUNK))
    if kr == 1 or n_out <= REV_PLAIN_MAX:
        passes = n_out * REV_PLAIN
    else:
        passes = math.ceil(n_out / kr) * REV_PASS
    rev = REV_BASE + passes + (n_out + 1) * s * REV_ROW
    return fwd, rev


def select_mode(n_in, n_out, chunk=None):
    """'forward' or 'reverse': whichever the cost model (mode_costs, notes above) says takes
    less time for a Jacobian with n_in inputs and n_out outputs; ties go to forward mode.
    ad.jacobian(f, mode="auto") uses it; the mode it chose is `jac.last_mode`."""
    fwd, rev = mode_costs(n_in, n_out, chunk)
    return "forward" if fwd <= rev else "reverse"


def _shape_key(args):
    key = []
    for a in args:
        if type(a) is np.ndarray:
            key.append(a.shape)
        elif isinstance(a, (float, int)):
            key.append(())
        else:
            for v in tree_flatten(a)[0]:
                try:
                    key.append(tuple(_shape(v)))
                except Exception:  # noqa: BLE001 - anything unshaped keys by its type
                    key.append(type(v).__name__)
    return tuple(key)


def jacobian(f, argnums=0, mode="auto", chunk=None):
    """Jacobian in the given mode; "auto" asks select_mode(n_in, n_out). The mode used by the
    last call is kept in the returned function's `last_mode` attribute.

    To learn n_out, "auto" records f once per new combination of argument shapes (the choice
    is cached on the returned function); when it then picks reverse mode that recording is
    used, so the extra cost is one recorded evaluation of f on the first call only."""
    if mode not in ("auto", "forward", "reverse"):
        raise ValueError(f"adjit.jacobian: mode must be 'auto', 'forward' or 'reverse', "
                         f"got {mode!r}")
    mode_cache = {}

    def jac(*args):
        single, nums = _argnums(argnums, len(args))
        m = mode
        if m == "auto":
            key = (nums, _shape_key(args))
            m = mode_cache.get(key)
            if m is None:
                # first call with these shapes: record f to learn n_out, keep the recording
                n_in = sum(_size(_shape(x)) for lv in _diff_leaves(args, nums)[0] for x in lv)
                out, level, leaves, specs = _record(f, args, nums)
                n_out = sum(_size(_shape(o)) for o in tree_flatten(out)[0])
                m = select_mode(n_in, n_out, chunk)
                if len(mode_cache) < 64:
                    mode_cache[key] = m
                jac.last_mode = m
                if m == "reverse":
                    return _jacrev_impl(out, level, leaves, specs, single, chunk)
                return _jacfwd_impl(f, args, nums, single, chunk)
        jac.last_mode = m
        if m == "forward":
            return _jacfwd_impl(f, args, nums, single, chunk)
        out, level, leaves, specs = _record(f, args, nums)
        return _jacrev_impl(out, level, leaves, specs, single, chunk)
    jac.last_mode = None
    jac.__name__ = f"jacobian({getattr(f, '__name__', 'f')})"
    return jac


def hessian(f, argnums=0, chunk=None):
    """Hessian as forward-over-reverse: jacfwd of grad, `chunk` directions per forward pass.
    With argnums a tuple the result is nested like JAX's: H[i][j] = d2 f / d arg_i d arg_j."""
    return jacfwd(grad(f, argnums), argnums, chunk)


def hvp(f, primals, tangents):
    """(grad f(primals), H @ tangents) by forward-over-reverse, like
    jax.jvp(jax.grad(f, argnums), primals, tangents) with argnums covering every primal: one
    primal gives two arrays, several primals give two tuples (one entry per primal)."""
    primals, tangents = tuple(primals), tuple(tangents)
    nums = 0 if len(primals) == 1 else tuple(range(len(primals)))
    return jvp(grad(f, nums), primals, tangents)
