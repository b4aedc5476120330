"""Derivatives against central finite differences (reverse and forward mode)."""
import numpy as np

from ..core.grad_mode import enable_grad
from ..core.registry import primal_of
from ..forward.dual import Dual
from ..reverse.engine import grad
from ..reverse.tensor import Tensor


def _np(v):
    v = primal_of(v)
    return np.asarray(v, dtype=np.float64)


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
        fp = _np(fn(*a))
        a[i] = xm
        fm = _np(fn(*a))
        cols.append(((fp - fm) / (2 * eps)).reshape(-1))
    n_out = _np(fn(*xs)).size
    return np.stack(cols, axis=1) if cols else np.zeros((n_out, 0))


def reverse_jacobian(fn, xs, i):
    with enable_grad():
        ts = [Tensor(x, requires_grad=(j == i)) for j, x in enumerate(xs)]
        out = fn(*ts)
        n_out = _np(out).size
        if not isinstance(out, Tensor) or not out.requires_grad:
            return np.zeros((n_out, xs[i].size))
        rows = []
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
    out = fn(*a)
    if not isinstance(out, Dual):
        return np.zeros((_np(out).size, n))
    t = _np(out.tangent)
    return t.reshape(out.size, n)  # explicit rows: -1 is ambiguous for size-0 arrays


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


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, check_forward=True):
    """Compare reverse-mode (and forward-mode) derivatives of fn with central differences.

    fn takes the inputs (arrays or Tensors) and returns an array/Tensor. Returns True or raises
    AssertionError naming the input index, the element and both values."""
    if not isinstance(inputs, (list, tuple)):
        inputs = (inputs,)
    xs = [np.array(_np(x), dtype=np.float64) for x in inputs]
    for i in range(len(xs)):
        num = numerical_jacobian(fn, xs, i, eps)
        _compare("reverse", i, reverse_jacobian(fn, xs, i), num, atol, rtol)
        if check_forward:
            _compare("forward", i, forward_jacobian(fn, xs, i), num, atol, rtol)
    return True
