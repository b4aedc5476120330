"""The batching layer of `ad.vmap`: a `Batched` wrapper of a fresh level carries its value with
the batch axis in front; an op on it runs once on the whole batch.

How a row batches follows from what the row already says:
- pointwise rows (`lower="pw"`: elementwise formulas, comparisons, where, clip, tril) broadcast
  over the leading axis once each batched operand has unit axes after its batch axis (as the
  forward layer expands tangents);
- linear rows with a `batched` rule (reshape, transpose, getitem, scatter_add, concatenate,
  stack, sum, mean) get their params from it: the same rule that shifts their axes for
  tangents with leading batch axes;
- reductions (prod, max, min, norm, logsumexp: axes as negative numbers, as `axes_batched`),
  softmax, log_softmax and cumsum (one axis), broadcast_to, index_update, and the linear algebra
  rows (last two axes are the matrix; vectors of matmul and solve become one-column matrices;
  the decompositions with several outputs pack them on a last axis);
- rows that name their rule with `Op.vmap` ("leading": expm and the FFTs; "broadcast": the
  pivots' permutations lu_swap and lu_unswap);
- the `loop` op (ad.fori_loop, ad.scan): one loop whose body is the batched body
  (jit/loopvmap.py, which registers its rule with `register_rule`);
- any other row (ops registered with ad.custom_op, for instance) runs once per batch element
  and the results are stacked: slower, always right, and it still differentiates.
"""
import numpy as np

from .. import ops
from ..core.registry import OPS, Traced
from ..ops.axes import neg_axes
from ..ops.methods import attach, attach_inplace
from ..ops.multi import MultiOp


def _shape(v):
    return tuple(v.shape) if isinstance(v, Traced) else np.shape(v)


def _reshape(v, shp):
    return ops.reshape(v, shape=shp) if isinstance(v, Traced) else np.reshape(v, shp)


class Batched(Traced):
    """A value inside `ad.vmap`: `_v` holds the whole batch on a leading axis; `shape` is the
    shape of one element, as the function being mapped sees it."""
    __slots__ = ("_v", "_level")
    _what = "batched value"
    _symbolic = True   # masks computed from it stay batched (`cond_of` stops here)
    _branches = False
    __array_priority__ = 1000

    def __init__(self, v, level):
        self._v, self._level = v, level

    def _raw(self):
        # Rules read shapes through primal_of: they get a stand-in of one element's shape.
        # Values are NaN, so a rule that wrongly reads values cannot pass for right.
        fill = np.nan if self.dtype.kind in "fc" else 0
        return np.broadcast_to(np.array(fill, dtype=self.dtype), self.shape)

    @property
    def shape(self):
        return _shape(self._v)[1:]

    @property
    def size(self):
        return int(np.prod(self.shape))

    @property
    def dtype(self):
        v = self._v
        return v.dtype if isinstance(v, Traced) else np.asarray(v).dtype

    def _no_value(self, what):
        raise TypeError(
            f"adjit.vmap: {what} of a batched value: inside ad.vmap a value stands for a whole "
            "batch of values, so Python control flow and conversions on it are not defined. "
            "Use ad.where for branches, or loop over the batch in Python instead of ad.vmap.")

    def __bool__(self):
        self._no_value("bool()")

    def item(self):
        self._no_value(".item()")

    def __array__(self, dtype=None, copy=None):
        self._no_value("a NumPy array (np.asarray)")

    def index_value(self):
        # x[mask] with a batched mask: each element would select a different number of entries
        self._no_value("an index (x[mask], x[i]) made")

    def _no_numpy_row(self, name):
        # core/numpy_protocol.py: a NumPy function without a row on a batched value
        raise TypeError(f"adjit.vmap: {name} (or these arguments of it: where=, dtype= ...) "
                        "has no adjit row, so it cannot map over a batch; use the adjit ops "
                        "(ad.*) that compute it, or loop over the batch in Python instead of "
                        "ad.vmap.")

    def __repr__(self):
        return f"Batched(shape={self.shape}, batch={_shape(self._v)[0]}, value={self._v!r})"

    def _become(self, fn, *args):
        # the in-place primitive of x[idx] = v and x += v (ops/methods.attach_inplace)
        res = fn(self, *args)
        if not (isinstance(res, Batched) and res._level == self._level):
            raise TypeError("adjit.vmap: cannot assign a value of an inner transform into a "
                            "batched value (x[idx] = v, x += v); build it with ad.where instead")
        self._v = res._v
        return self

    @staticmethod
    def _apply(op, args, params, level):
        vals, flags = [], []
        for a in args:
            mine = isinstance(a, Batched) and a._level == level
            vals.append(a._v if mine else a)
            flags.append(mine)
        bparams = {k: v._v for k, v in params.items()
                   if isinstance(v, Batched) and v._level == level}
        size = next(_shape(v)[0] for v, f in zip(vals + list(bparams.values()),
                                                  flags + [True] * len(bparams)) if f)
        rule = _rule(op)
        if bparams and rule is not _pointwise:
            rule = _loop
        return Batched(rule(op, vals, flags, params, bparams, size), level)


attach(Batched)
attach_inplace(Batched)


def _rank(v, batched):
    return len(_shape(v)) - (1 if batched else 0)


def _expand(v, rank, size):
    """A batched value with unit axes after its batch axis, up to `rank` axes of its own."""
    s = _shape(v)
    if len(s) - 1 == rank:
        return v
    return _reshape(v, (size,) + (1,) * (rank - len(s) + 1) + s[1:])


def _materialise(v, size):
    """An unbatched operand as a batched one (the same value for every element)."""
    return ops.broadcast_to(v, (size,) + tuple(_shape(v)))


def _stand_in(v, batched):
    """A value of one element's shape, for the params rules that read shapes."""
    s = _shape(v)[1:] if batched else _shape(v)
    return np.zeros(s)


def _pointwise(op, vals, flags, params, bparams, size):
    rank = max([_rank(v, f) for v, f in zip(vals, flags)]
               + [len(_shape(v)) - 1 for v in bparams.values()]
               + [np.ndim(v) for k, v in params.items() if k not in bparams
                  and isinstance(v, np.ndarray)])
    vals = [_expand(v, rank, size) if f else v for v, f in zip(vals, flags)]
    params = dict(params, **{k: _expand(v, rank, size) for k, v in bparams.items()})
    out = op(*vals, **params)
    if len(_shape(out)) != rank + 1:   # only a mask was batched, and of lower rank
        out = ops.broadcast_to(out, (size,) + tuple(_shape(out)))
    return out


def _linear(op, vals, flags, params, bparams, size):
    vals = [v if f else _materialise(v, size) for v, f in zip(vals, flags)]
    ins = [_stand_in(v, True) for v in vals]
    y = op.primal(*ins, **params)
    return op(*vals, **op.batched(params, (size,), y, *ins))


def _reduction(op, vals, flags, params, bparams, size):
    (x,) = vals
    return op(x, **dict(params, axis=neg_axes(params.get("axis"), _rank(x, True))))


def _one_axis(op, vals, flags, params, bparams, size):
    (x,) = vals
    r = _rank(x, True)
    axis = params.get("axis", -1 if op.name != "cumsum" else None)
    if axis is None:   # cumsum of the flattened element
        x, axis, r = _reshape(x, (size, -1)), -1, 1
    return op(x, **dict(params, axis=int(axis) % max(r, 1) - max(r, 1)))


def _broadcast_to(op, vals, flags, params, bparams, size):
    # the target shape comes as a keyword or as the second positional argument
    shp = tuple(params["shape"] if "shape" in params else vals[1])
    return op(_expand(vals[0], len(shp), size), (size,) + shp)


def _index_update(op, vals, flags, params, bparams, size):
    x, v = vals
    x = x if flags[0] else _materialise(x, size)
    idx = OPS["getitem"].batched(params, (size,), None, None)["idx"]
    if flags[1]:
        sel = np.shape(_stand_in(x, True)[params["idx"]])
        v = _expand(v, max(len(sel), _rank(v, True)), size)
    return op(x, v, idx=idx)


def _matrix(op, vals, flags, params, bparams, size):
    """matmul and solve: a batched vector becomes a one-column (one-row for matmul's left
    factor) matrix, so NumPy does not read the batch axis as the matrix's rows; batched
    operands get unit axes to the other's rank; the unit axis goes again at the end."""
    a, b = vals
    ra, rb = _rank(a, flags[0]), _rank(b, flags[1])
    drop = set()
    if op.name == "matmul" and ra == 1 and flags[0]:
        a, ra = _reshape(a, (size, 1, -1)), 2
        drop.add(-2 if rb > 1 or flags[1] else -1)
    if rb == 1 and flags[1]:
        b, rb = _reshape(b, _shape(b) + (1,)), 2
        drop.add(-1)
    elif op.name == "solve" and rb == 1:   # a batched, b one vector: NumPy batches it right
        pass
    rank = max(ra, rb)
    a = _expand(a, rank, size) if flags[0] else a
    b = _expand(b, rank, size) if flags[1] else b
    out = op(a, b, **params)
    if drop:
        s = _shape(out)
        out = _reshape(out, tuple(n for i, n in enumerate(s) if i - len(s) not in drop))
    return out


def _leading(op, vals, flags, params, bparams, size):
    return op(*vals, **params)


def _loop(op, vals, flags, params, bparams, size):
    """One call per batch element, stacked (rows without a batching rule)."""
    outs = []
    for i in range(size):
        xs = [ops.getitem(v, idx=(i,)) if f else v for v, f in zip(vals, flags)]
        ps = dict(params, **{k: ops.getitem(v, idx=(i,)) for k, v in bparams.items()})
        outs.append(op(*xs, **ps))
    return ops.stack(outs, axis=0)


_RULES = {"prod": _reduction, "max": _reduction, "min": _reduction, "norm": _reduction,
          "logsumexp": _reduction, "softmax": _one_axis, "log_softmax": _one_axis,
          "cumsum": _one_axis, "broadcast_to": _broadcast_to, "index_update": _index_update,
          "matmul": _matrix, "solve": _matrix, "det": _leading, "logabsdet": _leading,
          "inv": _leading, "cholesky": _leading, "det_cofactor": _leading}


def _last_rows(op, vals, flags, params, bparams, size):
    """Rows over the rows of 2-D arrays (ops/sorting.py's argsort_last, gather_last ...): the
    batch merges into the rows (an unbatched permutation is repeated for every element)."""
    if any(_rank(v, f) != 2 for v, f in zip(vals, flags)):
        return _loop(op, vals, flags, params, bparams, size)
    vals = [v if f else _materialise(v, size) for v, f in zip(vals, flags)]
    m = _shape(vals[0])[1]
    out = op(*[_reshape(v, (size * m,) + tuple(_shape(v)[2:])) for v in vals], **params)
    return _reshape(out, (size, m) + tuple(_shape(out)[1:]))


_RULES.update(dict.fromkeys(("argsort_last", "argmax_last", "argmin_last", "gather_last",
                             "scatter_last", "cumprod_last"), _last_rows))


# rows that name their rule (`Op.vmap`): matrix functions (expm), the pivots' permutations
# (lu_swap, lu_unswap: their operands' batch axes broadcast), the FFTs (negative axes)
_BY_ROW = {"leading": _leading, "broadcast": _pointwise}


def _rule(op):
    if isinstance(op, MultiOp):   # slogdet, eigh, svd, qr: per matrix, outputs packed last
        return _leading
    if op.lower == "pw":
        return _pointwise
    if op.vmap is not None:
        return _BY_ROW[op.vmap]
    if op.linear and op.batched is not None:
        return _linear
    return _RULES.get(op.name, _loop)


def loop_rows():
    """Names of the registered rows that batch by the per-element loop."""
    return sorted(n for n, op in OPS.items() if _rule(op) is _loop)


def register_rule(name, rule):
    """Name a rule defined outside this module (set `Op.vmap = name` on the row): the loop
    op's (jit/loopvmap.py), which imports this module. rule(op, vals, flags, params, bparams,
    size) returns the batched value, or None where it cannot batch: the per-element loop then
    (always right)."""
    def run(op, vals, flags, params, bparams, size):
        out = rule(op, vals, flags, params, bparams, size)
        return _loop(op, vals, flags, params, bparams, size) if out is None else out
    _BY_ROW[name] = run
