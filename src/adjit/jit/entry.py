"""The Python entry of a compiled kernel: a small generated function that allocates the output
arrays, calls the kernel and rebuilds the output pytree (skipped when it would do nothing)."""
import numpy as np

from ..transforms.pytree import tree_flatten, tree_unflatten


def make_entry(prog, kernel, ospec, oleaves, nparams, extra=()):
    """A small Python function (generated) that allocates the output arrays, calls the kernel
    and rebuilds the output structure; the kernel itself when that would be a no-op."""
    rets = [o for o in prog.outputs if o[0] == "ret"]
    # numba returns a float32 scalar as a Python float: NumPy's float32 is restored here
    narrow = {n for n, dt in enumerate(prog.ret_dtypes) if dt == np.float32}
    narrow_c = {n for n, dt in enumerate(prog.ret_dtypes) if dt == np.complex64}
    if len(rets) == len(prog.outputs) and [o[1] for o in rets] == list(range(len(rets))) \
            and not prog.out_arrays and not narrow and not narrow_c and not extra:
        if (len(rets) == 1 and ospec is None) or \
                (len(rets) > 1 and ospec == (tuple, None, (None,) * len(rets))):
            return kernel
    ns = {"_kernel": kernel, "_empty": np.empty, "_f32": np.float32, "_c64": np.complex64}
    params = [f"a{k}" for k in range(nparams)]
    lines = [f"def entry({', '.join(params)}):"]
    outs = []
    for j, (shape, dtype) in enumerate(prog.out_arrays):
        ns[f"_dt{j}"] = dtype
        lines.append(f"    o{j} = _empty({shape!r}, _dt{j})")
        outs.append(f"o{j}")
    nret = len({o[1] for o in prog.outputs if o[0] == "ret"})
    call = f"_kernel({', '.join(params + outs + [repr(x) for x in extra])})"
    if nret:
        lines.append(f"    r = {call}")
    else:
        lines.append(f"    {call}")
    exprs = []
    for k, (kind, n) in enumerate(prog.outputs):
        if kind == "ret":
            e = "r" if nret == 1 else f"r[{n}]"
            exprs.append(f"_f32({e})" if n in narrow else f"_c64({e})" if n in narrow_c else e)
        elif kind == "out":
            exprs.append(f"o{n}")
        elif kind == "arg":
            exprs.append(f"a{n}")
        else:
            v = oleaves[k]
            if kind == "const":
                v = v._val
            ns[f"_k{k}"] = v
            exprs.append(f"_k{k}.copy()" if isinstance(v, np.ndarray) else f"_k{k}")
    lines.append(f"    return {build(ospec, iter(exprs), ns)}")
    exec("\n".join(lines), ns)  # noqa: S102 - our own generated source
    return ns["entry"]


def build(spec, it, ns):
    """Source of an expression rebuilding the pytree `spec` (see pytree.py) from `it`."""
    if spec is None:
        return next(it)
    kind, keys, children = spec
    inner = [build(s, it, ns) for s in children]
    if kind is dict:
        ns_key = f"_keys{len(ns)}"
        ns[ns_key] = keys
        return "{" + ", ".join(f"{ns_key}[{i}]: {e}" for i, e in enumerate(inner)) + "}"
    if kind is tuple:
        return "(" + "".join(e + ", " for e in inner) + ")"
    if kind is list:
        return "[" + ", ".join(inner) + "]"
    ns_key = f"_type{len(ns)}"
    ns[ns_key] = kind
    if hasattr(kind, "_fields"):   # a namedtuple takes its fields as arguments
        return f"{ns_key}({', '.join(inner)})"
    return f"{ns_key}([{', '.join(inner)}])"


def rewrapped(run, ospec, wrap):
    """The entry of a kernel whose function returned Tensors it made (constants, or holding
    traced values after y[i] = x): the kernel's arrays come back as such Tensors, as eagerly."""
    def tensor_entry(*a):
        leaves = tree_flatten(run(*a))[0]
        for k, cls in wrap:
            leaves[k] = cls(leaves[k])
        return tree_unflatten(ospec, leaves)
    return tensor_entry


class _Miss(Exception):
    """The arguments are not of the structure a fast entry was made for."""


def flat_entry(run, aspec, args):
    """run(*leaves of args) as a generated function of the arguments themselves, for the fast
    path of `Jitted.__call__`: it checks the container types and lengths of aspec (the
    arguments' pytree spec) and the type of each leaf (numba would convert a scalar of another
    type, and take an ndarray subclass as an ndarray), raising _Miss on a mismatch; numba
    checks the arrays' dtypes and layouts.
    `ad.jit(ad.grad(loss))(params, x, y)` with params a tuple skips tree_flatten and the
    signature lookup (~30 us a call of a kernel of a few us)."""
    ns = {"_run": run, "_Miss": _Miss}
    checks, leaves = [], []

    def walk(spec, expr, val):
        if spec is None:
            ns[f"_t{len(ns)}"] = type(val)
            checks.append(f"type({expr}) is not _t{len(ns) - 1}")
            leaves.append(expr)
            return
        kind, keys, children = spec
        ns[f"_t{len(ns)}"] = kind
        checks.append(f"type({expr}) is not _t{len(ns) - 1} or len({expr}) != {len(children)}")
        for j, c in enumerate(children):
            if kind is dict:
                ns[f"_k{len(ns)}"] = keys[j]
                walk(c, f"{expr}[_k{len(ns) - 1}]", val[keys[j]])
            else:
                walk(c, f"{expr}[{j}]", val[j])

    params = [f"a{k}" for k in range(len(args))]
    for k, (c, v) in enumerate(zip(aspec[2], args)):
        walk(c, params[k], v)
    lines = [f"def entry({', '.join(params)}):"]
    # containers are checked before they are indexed: `or` stops at the first mismatch
    if checks:
        lines.append("    if " + " or ".join(f"({c})" for c in checks) + ":")
        lines.append("        raise _Miss")
    lines.append(f"    return _run({', '.join(leaves)})")
    exec("\n".join(lines), ns)  # noqa: S102 - our own generated source
    return ns["entry"]
