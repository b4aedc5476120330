"""`ad.fft`: NumPy's discrete Fourier transforms, differentiable in both modes and to any order
(rows in ops/fft_rows.py), with NumPy's signatures: `n` / `s` (zero-pad or truncate),
`axis` / `axes`, `norm` ("backward", "ortho", "forward"). `np.fft.fft(t)` on a Tensor or a
dual number calls these too. Derivatives follow JAX's complex convention (see the README's
"Complex numbers"); under `ad.jit` the kernel calls NumPy's FFT itself (numba has none) in an
object-mode block, the rest of the function compiled (jit/fftlower.py).
"""
import numpy as np

from .core import registry as _registry
from .ops import fft_rows as _rows
from .ops import axes as _axes

__all__ = ["fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn",
           "rfftn", "irfftn", "fftshift", "ifftshift"]

_NORMS = ("backward", "ortho", "forward")


def _norm(norm, fname):
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise ValueError(f"adjit.fft.{fname}: invalid norm {norm!r}; use None, 'backward', "
                         "'ortho' or 'forward' (as NumPy)")
    return norm


def _no_out(out, fname):
    if out is not None:
        raise TypeError(f"adjit.fft.{fname}: out= is not supported; use the returned value")


def _plan(a, s, axes, fname):
    """(negative axes, sizes or None per axis) from NumPy's s / axes rules."""
    nd = _axes.ndim(a)
    if axes is None:
        axes = tuple(range(nd)) if s is None else tuple(range(nd - len(s), nd))
    axes = tuple(int(ax) for ax in np.atleast_1d(axes)) if not isinstance(axes, int) else (axes,)
    for ax in axes:
        if not -nd <= ax < nd:
            raise ValueError(f"adjit.fft.{fname}: axis {ax} is out of bounds for an array of "
                             f"dimension {nd}")
    axes = tuple(ax % nd - nd for ax in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"adjit.fft.{fname}: repeated axes {axes} are not supported; "
                         "transform twice instead")
    if s is None:
        return axes, (None,) * len(axes)
    s = tuple(s)
    if len(s) != len(axes):
        raise ValueError(f"adjit.fft.{fname}: s and axes have different lengths "
                         f"({len(s)} and {len(axes)})")
    sizes = []
    for n in s:
        if n is None or n == -1:
            sizes.append(None)
        elif int(n) < 1:
            raise ValueError(f"adjit.fft.{fname}: invalid number of FFT data points ({n}); "
                             "pass n >= 1")
        else:
            sizes.append(int(n))
    return axes, tuple(sizes)


def _resized(a, axes, sizes):
    shp = _axes.shape(a)
    todo = [(ax, n) for ax, n in zip(axes, sizes) if n is not None and n != shp[ax]]
    if not todo:
        return a
    return _rows.resize(a, axes=tuple(ax for ax, _ in todo), sizes=tuple(n for _, n in todo))


def _real_only(a, fname):
    dt = a.dtype if isinstance(a, _registry.Traced) else np.asarray(a).dtype
    if dt.kind == "c":
        raise TypeError(f"adjit.fft.{fname}: the input must be real (got {dt}); use "
                        f"fft{fname[4:] if fname.startswith('rfft') else ''} for complex input")


def _c2c(a, s, axes, norm, inverse, fname):
    axes, sizes = _plan(a, s, axes, fname)
    if not axes:
        return a
    return _rows.c2c(_resized(a, axes, sizes), axes=axes, norm=_norm(norm, fname),
                     inverse=inverse)


def _r2c(a, s, axes, norm, fname):
    _real_only(a, fname)
    axes, sizes = _plan(a, s, axes, fname)
    if not axes:
        raise ValueError(f"adjit.fft.{fname}: at least one axis is needed")
    return _rows.rfft(_resized(a, axes, sizes), axes=axes, norm=_norm(norm, fname))


def _c2r(a, s, axes, norm, fname):
    axes, sizes = _plan(a, s, axes, fname)
    if not axes:
        raise ValueError(f"adjit.fft.{fname}: at least one axis is needed")
    shp = _axes.shape(a)
    lengths = tuple(shp[ax] if n is None else n for ax, n in zip(axes[:-1], sizes[:-1]))
    last = 2 * (shp[axes[-1]] - 1) if sizes[-1] is None else sizes[-1]
    if last < 1:
        raise ValueError(f"adjit.fft.{fname}: invalid number of output points ({last}); pass "
                         "n (or s) explicitly")
    lengths += (last,)
    x = _resized(a, axes, lengths[:-1] + (last // 2 + 1,))
    return _rows.irfft(x, axes=axes, norm=_norm(norm, fname), lengths=lengths)


@_registry.implements(np.fft.fft)
def fft(a, n=None, axis=-1, norm=None, out=None):
    _no_out(out, "fft")
    return _c2c(a, None if n is None else (n,), (axis,), norm, False, "fft")


@_registry.implements(np.fft.ifft)
def ifft(a, n=None, axis=-1, norm=None, out=None):
    _no_out(out, "ifft")
    return _c2c(a, None if n is None else (n,), (axis,), norm, True, "ifft")


@_registry.implements(np.fft.rfft)
def rfft(a, n=None, axis=-1, norm=None, out=None):
    _no_out(out, "rfft")
    return _r2c(a, None if n is None else (n,), (axis,), norm, "rfft")


@_registry.implements(np.fft.irfft)
def irfft(a, n=None, axis=-1, norm=None, out=None):
    _no_out(out, "irfft")
    return _c2r(a, None if n is None else (n,), (axis,), norm, "irfft")


@_registry.implements(np.fft.fftn)
def fftn(a, s=None, axes=None, norm=None, out=None):
    _no_out(out, "fftn")
    return _c2c(a, s, axes, norm, False, "fftn")


@_registry.implements(np.fft.ifftn)
def ifftn(a, s=None, axes=None, norm=None, out=None):
    _no_out(out, "ifftn")
    return _c2c(a, s, axes, norm, True, "ifftn")


@_registry.implements(np.fft.rfftn)
def rfftn(a, s=None, axes=None, norm=None, out=None):
    _no_out(out, "rfftn")
    return _r2c(a, s, axes, norm, "rfftn")


@_registry.implements(np.fft.irfftn)
def irfftn(a, s=None, axes=None, norm=None, out=None):
    _no_out(out, "irfftn")
    return _c2r(a, s, axes, norm, "irfftn")


@_registry.implements(np.fft.fft2)
def fft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    _no_out(out, "fft2")
    return _c2c(a, s, axes, norm, False, "fft2")


@_registry.implements(np.fft.ifft2)
def ifft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    _no_out(out, "ifft2")
    return _c2c(a, s, axes, norm, True, "ifft2")


@_registry.implements(np.fft.rfft2)
def rfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    _no_out(out, "rfft2")
    return _r2c(a, s, axes, norm, "rfft2")


@_registry.implements(np.fft.irfft2)
def irfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    _no_out(out, "irfft2")
    return _c2r(a, s, axes, norm, "irfft2")


def _shift(x, axes, inverse):
    nd = _axes.ndim(x)
    axes = tuple(range(nd)) if axes is None else \
        (axes,) if isinstance(axes, (int, np.integer)) else tuple(axes)
    axes = tuple(int(ax) % nd - nd for ax in axes) if nd else ()
    if not axes:
        return x
    return _rows.shift(x, axes=axes, inverse=inverse)


@_registry.implements(np.fft.fftshift)
def fftshift(x, axes=None):
    return _shift(x, axes, False)


@_registry.implements(np.fft.ifftshift)
def ifftshift(x, axes=None):
    return _shift(x, axes, True)


_P1 = """a : array_like, Tensor or dual number
n : int, optional
    Length of the transformed axis of the input (NumPy's: truncated or zero-padded at the end;
    for irfft the output length, default ``2 * (m - 1)``).
axis : int, optional
    The axis to transform (default -1).
norm : {"backward", "ortho", "forward"}, optional
    Which direction is scaled, as NumPy (default "backward")."""
_PN = """a : array_like, Tensor or dual number
s : sequence of ints, optional
    Lengths of the transformed axes of the input (truncated or zero-padded at the end; for
    irfft2/irfftn the output lengths).
axes : sequence of ints, optional
    The axes to transform ({default}).
norm : {{"backward", "ortho", "forward"}}, optional
    Which direction is scaled, as NumPy (default "backward")."""
_COMMON = ("Differentiable in both modes and to any order, with JAX's complex convention; "
           "``np.fft.{name}`` on Tensors and dual numbers calls it. Under ``ad.jit`` it runs "
           "eagerly (numba has no FFT).")
_DOCS = {
    "fft": ("One-dimensional discrete Fourier transform, as ``np.fft.fft``.", _P1,
            "complex array or Tensor",
            """>>> ad.fft.fft(np.array([1.0, 0.0, 0.0, 0.0]))
array([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j])
>>> ad.grad(lambda x: ad.sum(ad.abs(ad.fft.fft(x)) ** 2))(np.array([1.0, 2.0]))
array([4., 8.])"""),
    "ifft": ("One-dimensional inverse discrete Fourier transform, as ``np.fft.ifft``.", _P1,
             "complex array or Tensor",
             """>>> ad.fft.ifft(np.array([4.0, 0.0, 0.0, 0.0]))
array([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j])"""),
    "rfft": ("Discrete Fourier transform of real input (the n // 2 + 1 non-negative "
             "frequencies), as ``np.fft.rfft``.", _P1, "complex array or Tensor",
             """>>> ad.fft.rfft(np.array([1.0, 1.0, 1.0, 1.0]))
array([4.+0.j, 0.+0.j, 0.+0.j])"""),
    "irfft": ("Inverse of rfft: real output of length n from n // 2 + 1 frequencies, as "
              "``np.fft.irfft``.", _P1, "real array or Tensor",
              """>>> ad.fft.irfft(np.array([4.0, 0.0, 0.0]))
array([1., 1., 1., 1.])"""),
    "fftn": ("N-dimensional discrete Fourier transform, as ``np.fft.fftn``.",
             _PN.format(default="all, or the last len(s)"), "complex array or Tensor",
             """>>> ad.fft.fftn(np.ones((2, 2)))
array([[4.+0.j, 0.+0.j],
       [0.+0.j, 0.+0.j]])"""),
    "ifftn": ("N-dimensional inverse discrete Fourier transform, as ``np.fft.ifftn``.",
              _PN.format(default="all, or the last len(s)"), "complex array or Tensor",
              """>>> ad.fft.ifftn(np.array([[4.0, 0.0], [0.0, 0.0]]))
array([[1.+0.j, 1.+0.j],
       [1.+0.j, 1.+0.j]])"""),
    "rfftn": ("N-dimensional discrete Fourier transform of real input, as ``np.fft.rfftn``.",
              _PN.format(default="all, or the last len(s)"), "complex array or Tensor",
              """>>> ad.fft.rfftn(np.ones((2, 2)))
array([[4.+0.j, 0.+0.j],
       [0.+0.j, 0.+0.j]])"""),
    "irfftn": ("Inverse of rfftn, as ``np.fft.irfftn``.",
               _PN.format(default="all, or the last len(s)"), "real array or Tensor",
               """>>> ad.fft.irfftn(np.array([[4.0, 0.0], [0.0, 0.0]]))
array([[1., 1.],
       [1., 1.]])"""),
    "fft2": ("Two-dimensional discrete Fourier transform, as ``np.fft.fft2``.",
             _PN.format(default="the last two"), "complex array or Tensor",
             """>>> ad.fft.fft2(np.ones((2, 2)))
array([[4.+0.j, 0.+0.j],
       [0.+0.j, 0.+0.j]])"""),
    "ifft2": ("Two-dimensional inverse discrete Fourier transform, as ``np.fft.ifft2``.",
              _PN.format(default="the last two"), "complex array or Tensor",
              """>>> ad.fft.ifft2(np.array([[4.0, 0.0], [0.0, 0.0]]))
array([[1.+0.j, 1.+0.j],
       [1.+0.j, 1.+0.j]])"""),
    "rfft2": ("Two-dimensional discrete Fourier transform of real input, as "
              "``np.fft.rfft2``.", _PN.format(default="the last two"),
              "complex array or Tensor",
              """>>> ad.fft.rfft2(np.ones((2, 2)))
array([[4.+0.j, 0.+0.j],
       [0.+0.j, 0.+0.j]])"""),
    "irfft2": ("Inverse of rfft2, as ``np.fft.irfft2``.", _PN.format(default="the last two"),
               "real array or Tensor",
               """>>> ad.fft.irfft2(np.array([[4.0, 0.0], [0.0, 0.0]]))
array([[1., 1.],
       [1., 1.]])"""),
    "fftshift": ("The zero-frequency term moved to the centre, as ``np.fft.fftshift``.",
                 """x : array_like, Tensor or dual number
axes : int or sequence of ints, optional
    The axes to shift (default all).""", "array or Tensor",
                 """>>> ad.fft.fftshift(np.array([0.0, 1.0, 2.0, -2.0, -1.0]))
array([-2., -1.,  0.,  1.,  2.])"""),
    "ifftshift": ("The inverse of fftshift, as ``np.fft.ifftshift``.",
                  """x : array_like, Tensor or dual number
axes : int or sequence of ints, optional
    The axes to shift (default all).""", "array or Tensor",
                  """>>> ad.fft.ifftshift(np.array([-2.0, -1.0, 0.0, 1.0, 2.0]))
array([ 0.,  1.,  2., -2., -1.])"""),
}
for _name, (_summary, _params, _returns, _examples) in _DOCS.items():
    globals()[_name].__doc__ = (
        f"{_summary}\n\n{_COMMON.format(name=_name)}\n\nParameters\n----------\n{_params}\n"
        f"\nReturns\n-------\n{_returns}\n\nExamples\n--------\n{_examples}\n")
