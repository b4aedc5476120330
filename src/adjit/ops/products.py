"""Products of arrays as compositions of rows: einsum, tensordot, inner, vdot, kron, NumPy 2's
vecdot/matvec/vecmat (cross, matrix_power, multi_dot: `matprod`). Every contraction is a
transpose/reshape into a matrix product (matmul: BLAS in every mode and under ad.jit) or a
broadcast multiply, diagonals are index arrays (getitem) and lone indices are summed, so each
differentiates in every mode, to every order, and compiles; their derivatives are contractions
of the same kind. `einsum`'s subscripts are parsed by `einsum_spec`."""
import math

import numpy as np

from ..core.complexrule import is_complex
from ..core.domain import Sample
from ..core.registry import Traced, composite, implements
from .axes import ndim, shape
from .complex_rows import conj
from .einsum_spec import contraction_path, parse_sublists, parse_subscripts
from .linalg import matmul
from .shape import getitem, reshape, sum_op, transpose


def as_value(x):
    """x itself if wrapped, else x as an array."""
    return x if isinstance(x, Traced) else np.asarray(x)


def permuted(x, axes):
    """x with its axes permuted (x itself for the identity)."""
    axes = tuple(axes)
    return x if axes == tuple(range(len(axes))) else transpose(x, axes=axes)


def reshaped(x, shp):
    """x reshaped (x itself if it has that shape)."""
    shp = tuple(int(s) for s in shp)
    return x if tuple(shape(x)) == shp else reshape(x, shp)


def moved_axis(x, src, dst):
    nd = ndim(x)
    order = [i for i in range(nd) if i != src]
    order.insert(dst, src)
    return permuted(x, order)


def axis_index(name, axis, nd):
    """axis as a non-negative index into nd axes, or NumPy's AxisError naming adjit.<name>."""
    a = int(axis)
    if not -nd <= a < nd:
        raise np.exceptions.AxisError(f"adjit.{name}: axis {axis} is out of bounds for an "
                                      f"array of dimension {nd}")
    return a % nd


# ---------------------------------------------------------------------------------------------
# einsum: operands with a label per axis, contracted pairwise


def _diagonals(x, labels):
    """Labels repeated within one operand ('ii'): the diagonal, as one axis at the end."""
    labels = list(labels)
    for lab in dict.fromkeys(labels):
        pos = [i for i, l_ in enumerate(labels) if l_ == lab]
        if len(pos) < 2:
            continue
        rest = [i for i in range(len(labels)) if i not in pos]
        x = permuted(x, rest + pos)
        r = np.arange(shape(x)[-1])
        x = getitem(x, idx=(Ellipsis,) + (r,) * len(pos))
        labels = [labels[i] for i in rest] + [lab]
    return x, labels


def _squeeze_broadcast(x, labels, sizes):
    """Drop the unit axes broadcast against a longer axis of another operand (the value does
    not depend on them there)."""
    shp = shape(x)
    keep = [i for i, lab in enumerate(labels) if not (shp[i] == 1 and sizes[lab] != 1)]
    if len(keep) == len(labels):
        return x, labels
    return reshaped(x, [shp[i] for i in keep]), [labels[i] for i in keep]


def _sum_out(x, labels, needed):
    """Sum the axes whose labels no other operand and not the output has."""
    drop = tuple(i for i, lab in enumerate(labels) if lab not in needed)
    if not drop:
        return x, labels
    return sum_op(x, axis=drop), [lab for lab in labels if lab in needed]


def _contract(a, la, b, lb, keep):
    """The pairwise contraction of a (labels la) and b (labels lb) over their shared labels
    not in `keep`: a transpose/reshape into a batched matrix product, or a broadcast multiply
    when nothing is summed. Returns (result, labels): shared kept labels, a's own, b's own."""
    a, la = _sum_out(a, la, set(lb) | keep)
    b, lb = _sum_out(b, lb, set(la) | keep)
    sz = dict(zip(lb, shape(b)))
    sz.update(zip(la, shape(a)))
    bat = [lab for lab in la if lab in lb and lab in keep]
    con = [lab for lab in la if lab in lb and lab not in keep]
    ao = [lab for lab in la if lab not in lb]
    bo = [lab for lab in lb if lab not in la]
    nbat, nao, nbo = ([sz[lab] for lab in ls] for ls in (bat, ao, bo))
    at = permuted(a, [la.index(lab) for lab in bat + ao + con])
    bt = permuted(b, [lb.index(lab) for lab in bat + con + bo])
    if not con:   # an outer product (per batch entry): broadcasting, no sum
        out = (reshaped(at, nbat + nao + [1] * len(bo))
               * reshaped(bt, nbat + [1] * len(ao) + nbo))
        return out, bat + ao + bo
    m, k, n = math.prod(nao), math.prod(sz[lab] for lab in con), math.prod(nbo)
    if bat:
        nb = math.prod(nbat)
        out = matmul(reshaped(at, (nb, m, k)), reshaped(bt, (nb, k, n)))
    else:   # 1-D factors where a side has no free axis: a matrix-vector or dot product
        out = matmul(reshaped(at, (m, k) if ao else (k,)), reshaped(bt, (k, n) if bo else (k,)))
    return reshaped(out, nbat + nao + nbo), bat + ao + bo


def _einsum(terms, out_labels, operands, optimize):
    sizes = {}
    for x, labels in zip(operands, terms):
        for lab, s in zip(labels, shape(x)):
            if s != 1:
                if sizes.get(lab, 1) not in (1, s):
                    raise ValueError(f"adjit.einsum: the axes labelled {_shown(lab)} have "
                                     f"different lengths ({sizes[lab]} and {s}) and cannot be "
                                     "broadcast together")
                sizes[lab] = s
            else:
                sizes.setdefault(lab, 1)
    ops = []
    for x, labels in zip(operands, terms):
        x, labels = _diagonals(x, labels)
        ops.append(list(_squeeze_broadcast(x, labels, sizes)))
    out_set = set(out_labels)
    for i, (x, labels) in enumerate(ops):
        others = {lab for j, (_, ls) in enumerate(ops) if j != i for lab in ls}
        ops[i] = list(_sum_out(x, labels, others | out_set))
    for group in contraction_path([ls for _, ls in ops], sizes, out_labels, optimize):
        members = [ops.pop(i) for i in sorted(group, reverse=True)][::-1]
        x, lx = members[0]
        for m in range(1, len(members)):
            keep = out_set | {lab for _, ls in ops + members[m + 1:] for lab in ls}
            x, lx = _contract(x, lx, *members[m], keep)
        ops.append([x, lx])
    while len(ops) > 1:   # a path that stops early: the rest left to right
        (a, la), (b, lb) = ops.pop(0), ops.pop(0)
        keep = out_set | {lab for _, ls in ops for lab in ls}
        ops.insert(0, list(_contract(a, la, b, lb, keep)))
    x, labels = _sum_out(*ops[0], out_set)
    x = permuted(x, [labels.index(lab) for lab in out_labels if lab in labels])
    # an output label every operand broadcast (length 1 throughout) and that was squeezed
    return reshaped(x, [sizes[lab] for lab in out_labels])


def _shown(lab):
    return repr(lab) if isinstance(lab, str) else "by '...'"


def _einsum_call(op, *xs, subscripts, **kw):
    return op(subscripts, *xs, **kw)


_EINSUM_SAMPLES = [  # (subscripts, shapes, keywords)
    ("ij,jk->ik", ((2, 3), (3, 4)), {}), ("ii->i", ((3, 3),), {}), ("ii", ((3, 3),), {}),
    ("ij->", ((2, 3),), {}), ("i,i", ((3,), (3,)), {}), ("bij,bjk->bik", ((2, 2, 3), (2, 3, 2)), {}),
    ("...ij,...jk", ((2, 1, 2, 3), (3, 3, 2)), {}), ("ij,jk,kl->il", ((2, 3), (3, 4), (4, 2)), {}),
    ("i,j->ij", ((3,), (2,)), {}), ("ij,jk,kl->il", ((2, 3), (3, 4), (4, 2)), {"optimize": True}),
    ("iij,kj->ki", ((3, 3, 2), (2, 2)), {"optimize": "optimal"}), ("ji", ((2, 3),), {}),
    ("i,i->i", ((1,), (3,)), {}), (",ij->j", ((), (2, 3)), {}), ("ij,jk->ik", ((0, 3), (3, 2)), {}),
    ("abc,cd,db->a", ((2, 3, 2), (2, 3), (3, 3)), {"optimize": "greedy"})]


@composite(numpy=(np.einsum,),
           domain=[Sample(*shapes, subscripts=s, call=_einsum_call, **kw)
                   for s, shapes, kw in _EINSUM_SAMPLES])
def einsum(subscripts, *operands, optimize=False, dtype=None, order="K", casting="safe"):
    """Einstein summation, as ``np.einsum``: products of the operands summed over the indices
    not in the output.

    Parameters
    ----------
    subscripts : str
        The index labels of each operand, comma-separated, with an optional ``->output``;
        ``...`` stands for broadcast axes, a label repeated within one operand takes a
        diagonal. NumPy's sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` works too.
    *operands : array_like
    optimize : {False, True, 'greedy', 'optimal'} or list
        The order of the pairwise contractions, as NumPy's (a path from ``np.einsum_path``
        is used as given); any order gives the same values up to rounding.
    dtype, order, casting
        NumPy's; ``dtype`` must be None (cast the operands instead), ``order`` and
        ``casting`` are accepted and ignored.

    Returns
    -------
    array or Tensor
        The contraction.

    Examples
    --------
    >>> A = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> ad.einsum("ii", A)
    tensor(5., grad_fn=<SumBackward>)
    >>> ad.grad(lambda A: ad.einsum("ij,jk->", A, A))(np.eye(2)).tolist()
    [[2.0, 2.0], [2.0, 2.0]]
    """
    if dtype is not None:
        raise TypeError("adjit.einsum: dtype= is not supported; cast the operands instead "
                        "(x.astype(...))")
    if isinstance(subscripts, str):
        xs = [as_value(x) for x in operands]
        terms, out = parse_subscripts(subscripts, [ndim(x) for x in xs])
    else:
        args = (subscripts,) + operands
        xs = [as_value(x) for x in args[:len(args) - len(args) % 2:2]]
        terms, out = parse_sublists(args, [ndim(x) for x in xs])
    if not xs:
        raise ValueError("adjit.einsum: at least one operand is required")
    return _einsum(terms, out, xs, optimize)


# ---------------------------------------------------------------------------------------------
# tensordot, inner, vdot, kron


def _axes_list(ax):
    return [int(ax)] if np.ndim(ax) == 0 else [int(a) for a in ax]


@composite(numpy=(np.tensordot,),
           domain=[Sample((2, 3, 4), (3, 4, 2)), Sample((2, 3), (3, 4), axes=1),
                   Sample((2, 3, 4), (4, 2, 3), axes=([1, 2], [2, 0])),
                   Sample((2, 3), (3, 2), axes=0), Sample((3, 2), (2, 3), axes=(0, 1))])
def tensordot(a, b, axes=2):
    """The sum of products over the given axes, as ``np.tensordot``.

    Parameters
    ----------
    a, b : array_like
    axes : int or (sequence of ints, sequence of ints)
        N: the last N axes of ``a`` with the first N of ``b``; a pair: those axes of ``a``
        with those of ``b``, in order.

    Returns
    -------
    array or Tensor
        The product; its axes are ``a``'s free axes then ``b``'s.

    Examples
    --------
    >>> ad.tensordot(np.ones((2, 3)), np.ones((3, 4)), axes=1).shape
    (2, 4)
    """
    a, b = as_value(a), as_value(b)
    na, nb = ndim(a), ndim(b)
    if np.ndim(axes) == 0:
        n = int(axes)
        if n < 0 or n > min(na, nb):
            raise ValueError(f"adjit.tensordot: axes={n} for arrays of {na} and {nb} dimensions")
        axa, axb = list(range(na - n, na)), list(range(n))
    else:
        try:
            pa, pb = axes
        except (TypeError, ValueError):
            raise TypeError("adjit.tensordot: axes must be an int or a pair of sequences of "
                            f"ints, got {axes!r}") from None
        axa = [axis_index("tensordot", x, na) for x in _axes_list(pa)]
        axb = [axis_index("tensordot", x, nb) for x in _axes_list(pb)]
    sa, sb = shape(a), shape(b)
    if len(axa) != len(axb) or any(sa[i] != sb[j] for i, j in zip(axa, axb)):
        raise ValueError(f"adjit.tensordot: shape-mismatch for sum: axes {axa} of shape {sa} "
                         f"and axes {axb} of shape {sb}")
    la = [("a", i) for i in range(na)]
    lb = [("b", j) for j in range(nb)]
    for i, j in zip(axa, axb):
        lb[j] = la[i]
    x, labels = _contract(a, la, b, lb, set(la[i] for i in range(na) if i not in axa)
                          | set(lb[j] for j in range(nb) if j not in axb))
    return x


@implements(np.linalg.tensordot)
def _np_linalg_tensordot(x1, x2, axes=2):
    return tensordot(x1, x2, axes)


@composite(numpy=(np.inner,),
           domain=[Sample((3,), (3,)), Sample((2, 3), (4, 3)), Sample((2, 2, 3), (3,)),
                   Sample((), (2, 3))])
def inner(a, b):
    """The sum of products over the last axes, as ``np.inner`` (a product with a scalar).

    Parameters
    ----------
    a, b : array_like
        Arrays whose last axes have the same length.

    Returns
    -------
    array or Tensor
        The sums, of shape ``a.shape[:-1] + b.shape[:-1]``.

    Examples
    --------
    >>> float(ad.inner(np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    11.0
    """
    a, b = as_value(a), as_value(b)
    if ndim(a) == 0 or ndim(b) == 0:
        return a * b
    if shape(a)[-1] != shape(b)[-1]:
        raise ValueError(f"adjit.inner: the last axes of shapes {shape(a)} and {shape(b)} "
                         "differ in length")
    return tensordot(a, b, axes=([-1], [-1]))


@composite(numpy=(np.vdot,),
           domain=[Sample((3,), (3,)), Sample((2, 3), (3, 2)), Sample((), ())])
def vdot(a, b):
    """The dot product of the flattened arrays, as ``np.vdot`` (real values).

    Parameters
    ----------
    a, b : array_like
        Arrays of the same size (any shapes).

    Returns
    -------
    array or Tensor
        The scalar sum of their elementwise products.

    Examples
    --------
    >>> float(ad.vdot(np.array([[1.0, 2.0]]), np.array([3.0, 4.0])))
    11.0
    """
    a, b = as_value(a), as_value(b)
    a = conj(a) if is_complex(a) else a   # as NumPy: the first argument conjugated
    na, nb = math.prod(shape(a)), math.prod(shape(b))
    if na != nb:
        raise ValueError(f"adjit.vdot: arrays of {na} and {nb} elements (shapes {shape(a)} and "
                         f"{shape(b)}) have different sizes")
    return matmul(reshaped(a, (na,)), reshaped(b, (nb,)))


@composite(numpy=(np.kron,),
           domain=[Sample((2, 2), (3, 2)), Sample((2,), (3,)), Sample((2, 3), (2,)),
                   Sample((), (2, 2)), Sample((2, 1, 2), (2, 2))])
def kron(a, b):
    """The Kronecker product, as ``np.kron``: blocks a[i, j] * b (the shorter shape padded with
    leading ones).

    Parameters
    ----------
    a, b : array_like

    Returns
    -------
    array or Tensor
        An array of shape ``a.shape * b.shape`` (elementwise, after the padding).

    Examples
    --------
    >>> ad.kron(np.eye(2), np.ones((2, 3))).shape
    (4, 6)
    """
    a, b = as_value(a), as_value(b)
    if ndim(a) == 0 or ndim(b) == 0:
        return a * b
    nd = max(ndim(a), ndim(b))
    sa = (1,) * (nd - ndim(a)) + tuple(shape(a))
    sb = (1,) * (nd - ndim(b)) + tuple(shape(b))
    ai = reshaped(a, [d for s in sa for d in (s, 1)])
    bi = reshaped(b, [d for s in sb for d in (1, s)])
    return reshaped(ai * bi, [p * q for p, q in zip(sa, sb)])


# ---------------------------------------------------------------------------------------------
# NumPy 2's vector products (gufuncs: np.vecdot(x1, x2) dispatches without keywords)


def _since(*names):
    # np.matvec / np.vecmat are NumPy >= 2.2
    return tuple(f for f in (getattr(np, n, None) for n in names) if f is not None)


@composite(numpy=(np.linalg.vecdot,),
           domain=[Sample((2, 3), (3,)), Sample((2, 3), (2, 1), axis=0), Sample((3,), (3,)),
                   Sample((2, 3), (2,), axis=0)])
def vecdot(x1, x2, axis=-1):
    """The dot products of the vectors along ``axis``, broadcasting the other axes, as
    ``np.vecdot`` / ``np.linalg.vecdot`` (real values).

    Parameters
    ----------
    x1, x2 : array_like
        Arrays that broadcast together.
    axis : int
        The vectors' axis in each operand; the other axes broadcast.

    Returns
    -------
    array or Tensor
        The sums of the products along ``axis``.

    Examples
    --------
    >>> ad.vecdot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0])).tolist()
    [3.0, 7.0]
    """
    xs = [as_value(x) for x in (x1, x2)]
    xs[0] = conj(xs[0]) if is_complex(xs[0]) else xs[0]   # as NumPy: x1 conjugated
    if min(ndim(x) for x in xs) == 0:
        raise ValueError("adjit.vecdot: the operands must be arrays of vectors, got shapes "
                         f"{shape(xs[0])} and {shape(xs[1])}")
    # as NumPy's gufunc: `axis` is each operand's own vector axis, the rest broadcast
    a, b = (moved_axis(x, axis_index("vecdot", axis, ndim(x)), ndim(x) - 1) for x in xs)
    if shape(a)[-1] != shape(b)[-1]:
        raise ValueError(f"adjit.vecdot: vectors of lengths {shape(a)[-1]} and {shape(b)[-1]} "
                         f"(shapes {shape(xs[0])} and {shape(xs[1])}, axis {axis})")
    return sum_op(a * b, axis=-1)


implements(np.vecdot)(vecdot)


def _check_ranks(name, x1, n1, x2, n2):
    if ndim(x1) < n1 or ndim(x2) < n2:
        raise ValueError(f"adjit.{name}: expected at least {n1} and {n2} dimensions, got shapes "
                         f"{shape(x1)} and {shape(x2)}")


@composite(numpy=_since("matvec"), domain=[Sample((2, 3), (3,)), Sample((2, 2, 3), (3, 1, 3))])
def matvec(x1, x2):
    """Matrix-vector products, broadcasting the stacks, as ``np.matvec``.

    Parameters
    ----------
    x1 : array_like
        Matrices (..., m, n).
    x2 : array_like
        Vectors (..., n).

    Returns
    -------
    array or Tensor
        The products (..., m).

    Examples
    --------
    >>> ad.matvec(np.eye(2), np.array([1.0, 2.0])).tolist()
    [1.0, 2.0]
    """
    _check_ranks("matvec", x1, 2, x2, 1)
    return getitem(matmul(x1, getitem(as_value(x2), idx=(Ellipsis, None))), idx=(Ellipsis, 0))


@composite(numpy=_since("vecmat"), domain=[Sample((3,), (3, 2)), Sample((2, 1, 3), (2, 3, 2))])
def vecmat(x1, x2):
    """Vector-matrix products, broadcasting the stacks, as ``np.vecmat`` (real values).

    Parameters
    ----------
    x1 : array_like
        Vectors (..., m).
    x2 : array_like
        Matrices (..., m, n).

    Returns
    -------
    array or Tensor
        The products (..., n).

    Examples
    --------
    >>> ad.vecmat(np.array([1.0, 2.0]), np.eye(2)).tolist()
    [1.0, 2.0]
    """
    _check_ranks("vecmat", x1, 1, x2, 2)
    x1 = as_value(x1)
    x1 = conj(x1) if is_complex(x1) else x1   # as NumPy: the vectors conjugated
    row = getitem(x1, idx=(Ellipsis, None, slice(None)))
    return getitem(matmul(row, x2), idx=(Ellipsis, 0, slice(None)))
