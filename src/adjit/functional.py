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
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for a in nums:
        if not -nargs <= a < nargs:
            raise ValueError(f"adjit: argnums={argnums} is out of range for a function called "
                             f"with {nargs} positional arguments")
    return single, tuple(a % nargs for a in nums)


def _shape(v):
    return v.shape if isinstance(v, Traced) else np.shape(v)


def _zeros_like(v):
    return np.zeros(_shape(v))


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
    res, i = [], 0
    for ts, spec in zip(leaves, specs):
        vals = []
        for t in ts:
            c = got[i]
            i += 1
            vals.append(_result(_zeros_like(t._data) if c is None else c, level))
        res.append(tree_unflatten(spec, vals))
    return res


def _scalar_out(out, fname):
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


def vjp(f, *primals):
    """(f(*primals), vjp_fn) with vjp_fn(g) -> tuple of cotangents, one per primal."""
    nums = tuple(range(len(primals)))
    out, level, leaves, specs = _record(f, primals, nums)

    def vjp_fn(g):
        gs = _shape(g)
        if tuple(gs) != tuple(_shape(out)):
            raise ValueError(f"adjit.vjp: cotangent has shape {tuple(gs)}, but the output has "
                             f"shape {tuple(_shape(out))}")
        return tuple(_pull(out, level, leaves, specs, _value(g), True))
    return _result(out, level), vjp_fn


def _flat_in(args, nums):
    """The differentiated inputs as arrays (for sizes and seeds)."""
    return [_value(args[i]) for i in nums]


def jacrev(f, argnums=0):
    """Jacobian by reverse mode: one backward pass per output element (the recorded graph is
    kept between passes). Shape out.shape + in.shape."""
    def jac(*args):
        single, nums = _argnums(argnums, len(args))
        out, level, leaves, specs = _record(f, args, nums)
        oshape = tuple(_shape(out))
        m = int(np.prod(oshape))
        rows = []
        for k in range(m):
            e = np.zeros(m)
            e[k] = 1.0
            rows.append(_pull(out, level, leaves, specs, e.reshape(oshape), True))
        res = []
        for j, i in enumerate(nums):
            ishape = tuple(_shape(_value(args[i])))
            if m == 0:
                res.append(np.zeros(oshape + ishape))
                continue
            res.append(ops.reshape(ops.stack([r[j] for r in rows]), shape=oshape + ishape))
        return res[0] if single else tuple(res)
    jac.__name__ = f"jacrev({getattr(f, '__name__', 'f')})"
    return jac


# ---------------------------------------------------------------------------------------------
# forward mode

# Directions pushed per forward pass when the caller does not say (see select_mode's notes).
DEFAULT_CHUNK = 64


def jvp(f, primals, tangents):
    """(f(*primals), J @ tangents), like jax.jvp. A tangent may have a trailing axis of k
    directions; the tangent out then has one too."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"adjit.jvp: got {len(primals)} primals but {len(tangents)} tangents")
    level = new_level()
    duals, k = [], None
    for p, t in zip(primals, tangents):
        p = _value(p)
        ps, ts = tuple(_shape(p)), tuple(np.shape(t) if not isinstance(t, Traced) else t.shape)
        if ts == ps:
            tt = t if isinstance(t, Traced) else np.asarray(t, dtype=float)
        elif len(ts) == len(ps) + 1 and ts[:-1] == ps:
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
    out = f(*duals)
    return _split_dual(out, level, k)


def _split_dual(out, level, k):
    if isinstance(out, Dual) and out._level == level:
        t = out._t
        if k is not None:
            nd = len(_shape(t))
            t = ops.transpose(t, axes=tuple(range(1, nd)) + (0,))
        return _result(out._p, level), _result(t, level)
    shp = tuple(_shape(out))
    return _result(out, level), np.zeros(shp + ((k,) if k is not None else ()))


def jacfwd(f, argnums=0, chunk=None):
    """Jacobian by forward mode, ceil(n / chunk) passes of `chunk` directions each."""
    def jac(*args):
        single, nums = _argnums(argnums, len(args))
        xs = _flat_in(args, nums)
        res = []
        for j, i in enumerate(nums):
            x = xs[j]
            xshape = tuple(_shape(x))
            n = int(np.prod(xshape))
            k = max(1, min(n, chunk or DEFAULT_CHUNK))
            cols, oshape = [], None
            for s in range(0, n, k):
                kk = min(k, n - s)
                seed = np.zeros((kk, n))
                seed[np.arange(kk), s + np.arange(kk)] = 1.0
                level = new_level()
                a = list(args)
                a[i] = Dual._make(x, seed.reshape((kk,) + xshape), level)
                out = f(*a)
                if isinstance(out, Dual) and out._level == level:
                    oshape = tuple(_shape(out._p))
                    cols.append(_result(out._t, level))
                else:
                    oshape = tuple(_shape(out))
                    cols.append(np.zeros((kk,) + oshape))
            if n == 0:
                oshape = tuple(_shape(f(*args)))
                res.append(np.zeros(oshape + xshape))
                continue
            t = cols[0] if len(cols) == 1 else ops.concatenate(cols, axis=0)
            nd = len(oshape)
            t = ops.transpose(t, axes=tuple(range(1, nd + 1)) + (0,))
            res.append(ops.reshape(t, shape=oshape + xshape))
        return res[0] if single else tuple(res)
    jac.__name__ = f"jacfwd({getattr(f, '__name__', 'f')})"
    return jac


# ---------------------------------------------------------------------------------------------
# choosing the mode

# Cost model, in units of one primal evaluation of f (measured by benchmarks/bench_selector.py):
# a forward pass pushing k directions costs FWD_PASS + FWD_DIR * k, a reverse pass REV_PASS.
FWD_PASS = 1.2
FWD_DIR = 0.05
REV_PASS = 3.0


def select_mode(n_in, n_out, chunk=None):
    """'forward' or 'reverse': whichever the cost model says needs less work for a Jacobian
    with n_in inputs and n_out outputs."""
    n_in, n_out = int(n_in), int(n_out)
    k = max(1, min(n_in, chunk or DEFAULT_CHUNK))
    fwd = math.ceil(n_in / k) * (FWD_PASS + FWD_DIR * k)
    rev = n_out * REV_PASS
    return "forward" if fwd <= rev else "reverse"


def jacobian(f, argnums=0, mode="auto"):
    """Jacobian in the given mode; "auto" asks select_mode. The mode used last is kept in the
    returned function's `last_mode` attribute."""
    if mode not in ("auto", "forward", "reverse"):
        raise ValueError(f"adjit.jacobian: mode must be 'auto', 'forward' or 'reverse', "
                         f"got {mode!r}")
    fwd, rev = jacfwd(f, argnums), jacrev(f, argnums)

    def jac(*args):
        m = mode
        if m == "auto":
            _, nums = _argnums(argnums, len(args))
            n_in = sum(int(np.prod(_shape(_value(args[i])))) for i in nums)
            n_out = int(np.prod(_shape(f(*args))))
            m = select_mode(n_in, n_out)
        jac.last_mode = m
        return fwd(*args) if m == "forward" else rev(*args)
    jac.last_mode = None
    jac.__name__ = f"jacobian({getattr(f, '__name__', 'f')})"
    return jac


def hessian(f, argnums=0):
    """Hessian as forward-over-reverse: jacfwd of grad, chunked."""
    return jacfwd(grad(f, argnums), argnums)


def hvp(f, primals, tangents):
    """(grad f(primals), H @ tangents), like jax.jvp(jax.grad(f), primals, tangents)."""
    primals, tangents = tuple(primals), tuple(tangents)
    nums = tuple(range(len(primals)))
    g = grad(f, nums if len(primals) > 1 else 0)
    if len(primals) == 1:
        return jvp(g, primals, tangents)
    return jvp(lambda *a: ops.concatenate([ops.reshape(v, shape=(-1,)) for v in g(*a)]),
               primals, tangents)
