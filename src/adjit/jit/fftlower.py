"""`ad.fft` inside `ad.jit` kernels: numba has no FFT, so a kernel calls NumPy's (pocketfft)
in an object-mode block (`numba.objmode`) and the rest of the kernel stays compiled.

The FFT rows (ops/fft_rows.py: fftn/ifftn, rfftn, irfftn, the n= resize, fftshift) have
`lower="fft"`. Their input is copied into a C array when it is not one already (an inline
value is computed element by element into it), the row's own NumPy function runs on it with
the row's params (the very call eager mode makes, so the values are NumPy's to the bit) and
its result, made C-contiguous and of the traced dtype, is the value's array. One call costs
~50-70 us on top of NumPy's FFT (objmode's boxing and GIL round trip; measured at n = 8: a
compiled ad.fft.fft 92 us, np.fft.fft 23 us), which the compiled rest of the function repays:
the gradient of sum(|fft(sin(z) * 2 + z)| ** 2) at n = 8 took 0.25 ms compiled, 1.3 ms eager
(the eager fallback this replaces); at n = 10,000 see benchmarks/bench_complex.py."""
import numpy as np

from ..ops import fft_rows
from .lowering import nb_type

_ROWS = {op.name: op for op in (fft_rows.resize, fft_rows.c2c, fft_rows.rfft, fft_rows.irfft,
                                fft_rows.shift)}
NAMES = frozenset(_ROWS)


def run(name, x, params, dtype):
    """Called by kernels in object mode: the row's NumPy function on x."""
    return np.ascontiguousarray(_ROWS[name](x, **params), dtype=dtype)


def _array_type(shape, dtype):
    dims = len(shape)
    if dims == 0:
        return nb_type(dtype)
    return f"{nb_type(dtype)}[{', '.join([':'] * (dims - 1) + ['::1'])}]"


class FftProducts:
    """A mixin of the code generator (codegen.Gen)."""

    def p_fft(self, i, v, nm):
        x = v.inputs[0]
        xv = self.vars[x]
        src = self.name[x] if self.state.get(x) in ("array", "carray") else None
        if src is None:   # inline, a fill or a scalar: its elements into a C array
            src = f"f{i}"
            self.emit(f"{src} = empty({xv.shape!r}, np.{xv.dtype.name})")
            self.loop_nest(xv.shape, lambda idx: self.emit(
                f"{src}[{', '.join(idx)}] = {self.val(x, idx)}"))
        r = f"r{i}"
        self.uses_objmode = True
        params = {k: (tuple(int(a) for a in p) if isinstance(p, tuple) else p)
                  for k, p in v.params.items()}
        self.emit(f"with objmode({r}={_array_type(v.shape, v.dtype)!r}):")
        self.emit(f"    {r} = fftlower.run({v.op.name!r}, {src}, {params!r}, "
                  f"np.{v.dtype.name})")
        if nm.startswith("o"):   # an output parameter
            self.emit(f"{nm}[{', '.join([':'] * len(v.shape))}] = {r}")
        else:
            self.emit(f"{nm} = {r}")
