"""Pytrees: tuples, lists and dicts of arrays (the one implementation every transform and
ad.jit use)."""

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


