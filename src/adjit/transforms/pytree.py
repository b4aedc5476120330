"""Pytrees: nested tuples, lists, namedtuples and dicts of arrays (as JAX).

`tree_flatten(x)` gives the leaves (everything that is not one of those containers) in order
and a hashable spec of the structure; `tree_unflatten(spec, leaves)` rebuilds it. Every
transform and `ad.jit` use these two, so all of them treat the same things as containers.
Dicts are flattened in sorted key order and come back as plain dicts; namedtuples come back
as their own type.
"""


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def tree_flatten(x):
    """(leaves, spec): the leaves of x in order and its structure (hashable; None = a leaf)."""
    leaves = []
    spec = _flatten(x, leaves)
    return leaves, spec


def _flatten(x, leaves):
    if isinstance(x, (tuple, list)):
        return (type(x), None, tuple(_flatten(v, leaves) for v in x))
    if isinstance(x, dict):
        keys = tuple(sorted(x))
        return (dict, keys, tuple(_flatten(x[k], leaves) for k in keys))
    leaves.append(x)
    return None


def tree_unflatten(spec, leaves):
    """The structure `spec` (from tree_flatten) with `leaves` in its places."""
    it = iter(leaves)
    out = _unflatten(spec, it)
    return out


def _unflatten(spec, it):
    if spec is None:
        return next(it)
    kind, keys, children = spec
    vals = [_unflatten(c, it) for c in children]
    if kind is dict:
        return dict(zip(keys, vals))
    if issubclass(kind, tuple) and hasattr(kind, "_fields"):
        return kind(*vals)
    return kind(vals)


def num_leaves(spec):
    """How many leaves a structure holds."""
    if spec is None:
        return 1
    return sum(num_leaves(c) for c in spec[2])
