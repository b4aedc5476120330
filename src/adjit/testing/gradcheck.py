"""Derivatives against central finite differences (reverse and forward mode)."""
import numpy as np

from ..core.grad_mode import enable_grad
from ..core.registry import primal_of
from ..forward.dual import Dual
from ..reverse.engine import grad
from ..reverse.tensor import Tensor
from ..transforms.pytree import tree_flatten


def _np(v):
    v = primal_of(v)
    return np.asarray(v, dtype=np.float64)


def _flat_out(out):
    """fn's output (an array or a pytree of them: tuple, list, dict) as one flat vector."""
    leaves = tree_flatten(out)[0]
    if not leaves:
        return np.zeros(0)
    return np.concatenate([_np(v).reshape(-1) for v in leaves])


def numerical_jacobian(fn, xs, i, eps):
    """d fn / d xs[i] by central differences, shape (out.size, xs[i].size)."""
    x = xs[i]
    cols = []
    for j in range(x.size):
        xp, xm = x.copy(), x.copy()
        xp.flat[j] += eps
        xm.flat[j] -= eps
        a = list(xs)
        a[i] = xp
        fp = _flat_out(fn(*a))
        a[i] = xm
        fm = _flat_out(fn(*a))
        cols.append((fp - fm) / (2 * eps))
    n_out = _flat_out(fn(*xs)).size
    return np.stack(cols, axis=1) if cols else np.zeros((n_out, 0))


def reverse_jacobian(fn, xs, i):
    rows = []
    with enable_grad():
        ts = [Tensor(x, requires_grad=(j == i)) for j, x in enumerate(xs)]
        for out in tree_flatten(fn(*ts))[0]:
            n_out = _np(out).size
            if not isinstance(out, Tensor) or not out.requires_grad:
                rows += [np.zeros(xs[i].size)] * n_out
                continue
            for k in range(n_out):
                g = np.zeros(n_out)
                g[k] = 1.0
                (gi,) = grad(out, ts[i], grad_outputs=g.reshape(out.shape), retain_graph=True,
                             allow_unused=True)
                rows.append(np.zeros(xs[i].size) if gi is None else _np(gi).reshape(-1))
    return np.stack(rows) if rows else np.zeros((0, xs[i].size))


def forward_jacobian(fn, xs, i):
    x = xs[i]
    n = x.size
    seed = np.eye(n).reshape(x.shape + (n,))
    a = list(xs)
    a[i] = Dual(x, seed)
    blocks = []
    for out in tree_flatten(fn(*a))[0]:
        if not isinstance(out, Dual):
            blocks.append(np.zeros((_np(out).size, n)))
        else:   # explicit rows: -1 is ambiguous for size-0 arrays
            blocks.append(_np(out.tangent).reshape(out.size, n))
    return np.concatenate(blocks) if blocks else np.zeros((0, n))


def _compare(kind, i, a, b, atol, rtol):
    bad = ~np.isclose(a, b, atol=atol, rtol=rtol, equal_nan=True)
    if a.shape != b.shape:
        raise AssertionError(f"gradcheck: {kind} Jacobian for input {i} has shape {a.shape}, "
                             f"numerical has {b.shape}")
    if bad.any():
        k, j = np.argwhere(bad)[0]
        raise AssertionError(
            f"gradcheck: {kind}-mode derivative mismatch for input {i}: d out[{k}] / d "
            f"in[{j}] (flat indices) is {a[k, j]!r} analytically but {b[k, j]!r} by central "
            f"differences ({int(bad.sum())} of {bad.size} entries differ)")


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, check_forward=True, dtype=None):
    """Compare reverse-mode (and forward-mode) derivatives of ``fn`` with central differences.

    Like ``torch.autograd.gradcheck``: every input's full Jacobian is computed by reverse
    mode (and forward mode) and compared elementwise with central finite differences.

    Parameters
    ----------
    fn : callable
        Takes the inputs (arrays or Tensors) and returns an array or Tensor, or a pytree of
        them (tuple, list, dict: their entries are compared as one flat output).
    inputs : array_like or sequence of array_like
        The point to check at; one array or a tuple/list of them.
    eps : float, optional
        Finite-difference step.
    atol, rtol : float, optional
        Absolute and relative tolerances of the comparison (as ``np.isclose``).
    check_forward : bool, optional
        Also check forward mode (dual numbers); default ``True``.
    dtype : numpy.dtype, optional
        The dtype the derivatives are computed in (default float64; e.g. ``np.float32`` with
        tolerances scaled to its eps). The central differences are always computed in float64
        from the same (rounded) inputs, so the reference is not the noisy part.

    Returns
    -------
    bool
        ``True`` when all derivatives agree.

    Raises
    ------
    AssertionError
        On a mismatch, naming the mode, the input index, the element and both values.

    Examples
    --------
    >>> ad.gradcheck(lambda x, y: ad.sin(x) * y, (np.array([0.5, 1.0]), np.array([2.0, 3.0])))
    True
    """
    if not isinstance(inputs, (list, tuple)):
        inputs = (inputs,)
    dtype = np.dtype(np.float64 if dtype is None else dtype)
    low = [np.array(_np(x), dtype=dtype) for x in inputs]
    xs = [x.astype(np.float64) for x in low]
    for i in range(len(xs)):
        num = numerical_jacobian(fn, xs, i, eps)
        _compare("reverse", i, reverse_jacobian(fn, low, i), num, atol, rtol)
        if check_forward:
            _compare("forward", i, forward_jacobian(fn, low, i), num, atol, rtol)
    return True
