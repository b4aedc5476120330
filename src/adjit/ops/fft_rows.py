"""The FFT rows behind `ad.fft` (public functions with NumPy's signatures in adjit/fft.py).

Every FFT is linear, so each row's JVP is the row applied to the tangent, and its VJP is its
*transpose* (JAX's convention pairs a cotangent g with a tangent t as Re(g t), no conjugate;
core/complexrule.py):
- fftn / ifftn (any norm): the DFT matrix is symmetric, so the transpose is the same
  transform with the same norm;
- rfftn = (the first n//2 + 1 bins of) fftn of a real input: transpose = real part of fftn of
  the cotangent zero-padded back to n bins;
- irfftn: the Hermitian extension doubles every bin but DC (and Nyquist for even n): transpose
  = conj(mask * rfftn(g)) with mask [1, 2, ..., 2(, 1)] and the dual norm (backward <->
  forward, ortho itself), as JAX's `_irfft_transpose`;
- resize (NumPy's n= / s=: truncate or zero-pad at the end): transpose = resize back;
- fftshift / ifftshift: permutations, transpose = the other one.
Axes are stored as negative numbers, so tangents with leading batch axes (jacfwd's k
directions) run the rows unchanged.

These rows are not in the op table (OPS): numba has no FFT, so ad.jit compiles them as a
call of their NumPy function from the kernel (`lower="fft"`, jit/fftlower.py), not as the
sweep's rows are. tests/test_fft.py checks them as the sweep would (values vs NumPy, both
modes and second order vs central differences of real and imaginary parts, ad.jit vs eager,
and against JAX where it is installed).
"""
import numpy as np

from ..core.registry import Op
from .axes import shape
from .complex_rows import conj, real
from .formulas import mul

_DUAL_NORM = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _resize_np(x, axes, sizes):
    x = np.asarray(x)
    idx, pad = [slice(None)] * x.ndim, [(0, 0)] * x.ndim
    for a, n in zip(axes, sizes):
        m = x.shape[a]
        if n < m:
            idx[a] = slice(0, n)
        elif n > m:
            pad[a] = (0, n - m)
    y = x[tuple(idx)]
    return np.pad(y, pad) if any(p != (0, 0) for p in pad) else y.copy()


def _resize_vjp(g, y, x, axes, sizes):
    shp = shape(x)
    return (resize(g, axes=axes, sizes=tuple(shp[a] for a in axes)),)


resize = Op("fft_resize", _resize_np, _resize_vjp, linear=True, saves_in=False,
            backward_name="FftResizeBackward")


def _c2c_np(x, axes, norm, inverse):
    return (np.fft.ifftn if inverse else np.fft.fftn)(x, axes=axes, norm=norm)


c2c = Op("fftn", _c2c_np,
         lambda g, y, x, axes, norm, inverse: (c2c(g, axes=axes, norm=norm, inverse=inverse),),
         linear=True, saves_in=False, backward_name="FftC2CBackward")


def _rfft_vjp(g, y, x, axes, norm):
    n = shape(x)[axes[-1]]
    full = resize(g, axes=axes[-1:], sizes=(n,))
    return (real(c2c(full, axes=axes, norm=norm, inverse=False)),)


rfft = Op("rfftn", lambda x, axes, norm: np.fft.rfftn(x, axes=axes, norm=norm), _rfft_vjp,
          linear=True, saves_in=False, backward_name="FftR2CBackward")


def hermitian_mask(n, axis, dtype):
    """[1, 2, ..., 2(, 1)]: how often each of irfft's n//2 + 1 input bins occurs in the
    Hermitian extension (DC once, Nyquist once for even n), shaped to broadcast on `axis`."""
    m = n // 2 + 1
    w = np.full(m, 2.0, dtype=dtype)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    return w.reshape((m,) + (1,) * (-axis - 1))


def _irfft_vjp(g, y, x, axes, norm, lengths):
    r = rfft(g, axes=axes, norm=_DUAL_NORM[norm])
    w = hermitian_mask(lengths[-1], axes[-1], getattr(g, "dtype", np.dtype(np.float64)))
    return (conj(mul(r, w)),)


irfft = Op("irfftn",
           lambda x, axes, norm, lengths: np.fft.irfftn(x, s=lengths, axes=axes, norm=norm),
           _irfft_vjp, linear=True, saves_in=False, backward_name="FftC2RBackward")


def _shift_np(x, axes, inverse):
    return (np.fft.ifftshift if inverse else np.fft.fftshift)(x, axes=axes)


shift = Op("fftshift", _shift_np,
           lambda g, y, x, axes, inverse: (shift(g, axes=axes, inverse=not inverse),),
           linear=True, saves_in=False, backward_name="FftShiftBackward")

for _op in (resize, c2c, rfft, irfft, shift):
    _op.complex = True
    _op.lower = "fft"   # ad.jit: NumPy's FFT called from the kernel (jit/fftlower.py)
    _op.vmap = "leading"   # ad.vmap: the axes are negative, a leading batch axis is left alone
