"""Derivatives at complex values against central differences of real and imaginary parts.

A function of complex values is a map between real vector spaces (each complex entry is two
real coordinates, its real and imaginary parts), and every mode must agree with that map's
real Jacobian, read off as follows:
  * central differences: perturb each input's real part by eps and its imaginary part by
    i * eps; the output's real and imaginary parts give two columns;
  * forward mode: push the tangent directions e_j and i e_j;
  * reverse mode (JAX's convention, a cotangent g pairs with a tangent t as Re(g t)): the
    cotangent e_k pulls back c with d Re(y_k) = Re(c t) = Re(c) dx - Im(c) dy, so the row of
    Re(y_k) is [Re c, -Im c]; Im(y_k) = Re(-i y_k) is pulled with g = -i e_k.
Real inputs and outputs keep one coordinate each.
"""
import numpy as np

from ..core.grad_mode import enable_grad
from ..core.registry import primal_of
from ..forward.dual import Dual
from ..reverse.engine import grad
from ..reverse.tensor import Tensor
from ..transforms.pytree import tree_flatten


def _arr(v):
    return np.asarray(primal_of(v))


def _real_coords(v):
    """The real coordinates of a value: its entries, or real then imaginary parts."""
    a = _arr(v).reshape(-1)
    if a.dtype.kind == "c":
        return np.concatenate([a.real, a.imag])
    return a.astype(np.float64)


def _out_coords(out):
    leaves = tree_flatten(out)[0]
    return np.concatenate([_real_coords(v) for v in leaves]) if leaves else np.zeros(0)


def _directions(x):
    """(unit perturbation, as a complex or real array of x's shape) per real coordinate."""
    cx = x.dtype.kind == "c"
    dirs = []
    for unit in ((1.0, 1j) if cx else (1.0,)):
        for j in range(x.size):
            e = np.zeros(x.size, dtype=x.dtype)
            e[j] = unit
            dirs.append(e.reshape(x.shape))
    return dirs


def numerical_jacobian(fn, xs, i, eps):
    cols = []
    for e in _directions(xs[i]):
        a = list(xs)
        a[i] = xs[i] + eps * e
        fp = _out_coords(fn(*a))
        a[i] = xs[i] - eps * e
        fm = _out_coords(fn(*a))
        cols.append((fp - fm) / (2 * eps))
    n = _out_coords(fn(*xs)).size
    return np.stack(cols, axis=1) if cols else np.zeros((n, 0))


def forward_jacobian(fn, xs, i):
    cols = []
    for e in _directions(xs[i]):
        a = list(xs)
        a[i] = Dual(xs[i], e)
        outs = tree_flatten(fn(*a))[0]
        col = []
        for o in outs:
            if isinstance(o, Dual):
                col.append(_real_coords(o.tangent))
            else:
                col.append(np.zeros_like(_real_coords(o)))
        cols.append(np.concatenate(col) if col else np.zeros(0))
    n = _out_coords(fn(*xs)).size
    return np.stack(cols, axis=1) if cols else np.zeros((n, 0))


def _row(c, x):
    c = np.zeros(x.shape, dtype=x.dtype) if c is None else _arr(c)
    c = c.reshape(-1)
    if x.dtype.kind == "c":
        c = c.astype(complex)
        return np.concatenate([c.real, -c.imag])
    if c.dtype.kind == "c":
        raise AssertionError("complexcheck: a real input got a complex cotangent")
    return c.astype(np.float64)


def reverse_jacobian(fn, xs, i):
    rows = []
    with enable_grad():
        ts = [Tensor(x, requires_grad=(j == i)) for j, x in enumerate(xs)]
        for out in tree_flatten(fn(*ts))[0]:
            o = _arr(out)
            units = (1.0, -1j) if o.dtype.kind == "c" else (1.0,)
            for unit in units:
                for k in range(o.size):
                    if not isinstance(out, Tensor) or not out.requires_grad:
                        rows.append(np.zeros(_row(None, xs[i]).size))
                        continue
                    g = np.zeros(o.size, dtype=o.dtype)
                    g[k] = unit
                    (gi,) = grad(out, ts[i], grad_outputs=g.reshape(o.shape),
                                 retain_graph=True, allow_unused=True)
                    rows.append(_row(gi, xs[i]))
    return np.stack(rows) if rows else np.zeros((0, _row(None, xs[i]).size))


def _compare(kind, i, a, b, atol, rtol):
    if a.shape != b.shape:
        raise AssertionError(f"complexcheck: {kind} Jacobian for input {i} has shape "
                             f"{a.shape}, numerical has {b.shape}")
    bad = ~np.isclose(a, b, atol=atol, rtol=rtol, equal_nan=True)
    if bad.any():
        k, j = np.argwhere(bad)[0]
        raise AssertionError(
            f"complexcheck: {kind}-mode derivative mismatch for input {i}: real coordinate "
            f"{k} of the output by real coordinate {j} of the input (real parts first, then "
            f"imaginary parts) is {a[k, j]!r} analytically but {b[k, j]!r} by central "
            f"differences ({int(bad.sum())} of {bad.size} entries differ)")


def complex_gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, check_forward=True):
    """gradcheck for functions of complex (and real) values: reverse mode (JAX's convention)
    and forward mode against central differences of real and imaginary parts.

    Examples
    --------
    >>> from adjit.testing.complexcheck import complex_gradcheck
    >>> complex_gradcheck(lambda z: ad.abs(z) * ad.exp(z), (np.array([1 + 2j, 0.5 - 1j]),))
    True
    """
    if not isinstance(inputs, (list, tuple)):
        inputs = (inputs,)
    xs = [np.array(_arr(x)) for x in inputs]
    for i in range(len(xs)):
        num = numerical_jacobian(fn, xs, i, eps)
        _compare("reverse", i, reverse_jacobian(fn, xs, i), num, atol, rtol)
        if check_forward:
            _compare("forward", i, forward_jacobian(fn, xs, i), num, atol, rtol)
    return True
