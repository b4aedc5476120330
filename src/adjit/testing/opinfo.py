"""Op-info: sample inputs for every row of the op table, drawn from the rows' test domains.

A row declares its domain (`Op.domain`): elementwise rows a value range per input, `(lo, hi)`
or `(lo, hi, points to stay away from, gap)`, and get the standard shapes below (0-d, vectors,
matrices, size 0, broadcasting pairs); every other row a list of `core.domain.Sample`s (input
shapes, value range or kind, static params such as axes, indices, target shapes).
`cases()` turns them into `Case`s the generated sweep (tests/test_opinfo.py) checks: value
against NumPy, reverse and forward derivatives against central differences, second order,
`ad.jit` against eager. A new row is tested by declaring its domain; no test is written.
"""
import zlib

import numpy as np

from ..core.domain import Sample
from ..core.registry import CHECKED_COMPOSITES, OPS
from ..ops.elementwise import Elementwise

UNARY_SHAPES = [(2, 3), (), (3,), (0,)]
BINARY_SHAPES = [((2, 3), (3,)), ((2, 3), (2, 3)), ((2, 1), (1, 3)), ((), (2,)), ((0, 3), (3,)),
                 ((4, 1, 3), (2, 1)), ((2, 0), (1,))]
DEFAULT_RANGE = (-2.0, 2.0)

# ad.jit compiles a kernel per traced function (numba, ~0.5-2 s each the first time; later runs
# load it from the disk cache): the sweep compiles the first JIT_SAMPLES samples of each row
# (one kernel for the function and its gradient), so a row's first sample should exercise its
# lowering (arrays, not 0-d). test_jit.py covers the compiler's own cases.
JIT_SAMPLES = 1


class Case:
    """One sample of one row: `fn(*inputs)` calls the row (plain arrays, Tensors, duals and
    tracers alike) on `inputs` (arrays of `dtype`: float64 or float32) with the sample's static
    params."""

    def __init__(self, op, k, sample, inputs, second, jit):
        self.op, self.k, self.sample, self.inputs = op, k, sample, inputs
        self.dtype = inputs[0].dtype if inputs else np.dtype(np.float64)
        self.second, self.jit = second, jit
        params, call = sample.params, sample.call
        if call is None:
            self.fn = lambda *xs: op(*xs, **params)
        else:
            self.fn = lambda *xs: call(op, *xs, **params)

    def __repr__(self):
        tag = "" if self.dtype == np.float64 else f"-{self.dtype.name}"
        return f"{self.op.name}-{self.k}{tag}"


def rows():
    """The rows the sweep covers: every registered row that has a derivative (comparisons and
    other nondiff rows have none) and declares a domain (elementwise rows always do), then
    every public composite that declares one (`@composite(domain=...)`)."""
    return [op for op in OPS.values() if not op.nondiff
            and (isinstance(op, Elementwise) or op.domain is not None)] \
        + list(CHECKED_COMPOSITES.values())


def ranges(op):
    """An elementwise row's domain as one (lo, hi, away, gap) per input."""
    r, n = op.domain, len(op.args)
    if r is None:
        r = DEFAULT_RANGE
    per = list(r) if isinstance(r[0], (tuple, list)) else [r] * n
    out = []
    for q in per:
        lo, hi, away, gap = tuple(q) + ((), 0.05)[len(q) - 2:]
        out.append((lo, hi, tuple(away), gap))
    return out


def samples(op):
    """The row's samples as (Sample, per-input (lo, hi, away, gap), per-input kind)."""
    if isinstance(op, Elementwise):
        n = len(op.args)
        rs = ranges(op)
        shapes = UNARY_SHAPES if n == 1 else BINARY_SHAPES
        return [(Sample(*((s,) if n == 1 else s)), rs, (None,) * n) for s in shapes]
    out = []
    for s in op.domain:
        n = len(s.shapes)
        lo, hi = s.values
        kinds = s.kind if isinstance(s.kind, tuple) else (s.kind,) + (None,) * (n - 1)
        out.append((s, [(lo, hi, s.away, s.gap)] * n, kinds))
    return out


def draw(rng, shape, rng_range, kind=None):
    """Values for one input of a sample."""
    lo, hi, away, gap = rng_range
    shape = tuple(shape)
    if kind == "wellcond":   # diagonally dominant: well conditioned, det > 0
        n = shape[-1]
        return rng.uniform(-0.5, 0.5, size=shape) + n * np.eye(n)
    if kind == "spd":
        n = shape[-1]
        b = rng.uniform(-1.0, 1.0, size=shape)
        return b @ np.swapaxes(b, -1, -2) + n * np.eye(n)
    if kind == "distinct":   # no ties: gaps of at least 0.2, far above the difference step
        size = int(np.prod(shape))
        return (rng.permutation(size) * 0.3 - 0.15 * size).reshape(shape) \
            + rng.uniform(0.0, 0.1, size=shape)
    x = rng.uniform(lo, hi, size=shape)
    for _ in range(100):
        bad = np.zeros(np.shape(x), dtype=bool)
        for p in away:
            bad |= np.abs(x - p) < gap
        if not bad.any():
            break
        x = np.where(bad, rng.uniform(lo, hi, size=shape), x)
    else:
        raise ValueError(f"adjit.opinfo: cannot draw values in [{lo}, {hi}] at least {gap} "
                         f"away from {away}")
    if kind == "with_zero" and x.size:
        x.flat[0] = 0.0
    return np.asarray(x, dtype=np.float64)


def cases(ops=None, dtype=np.float64):
    """Every sample of every row (or of the given rows), with its inputs drawn (the same
    values for every dtype, rounded to it)."""
    out = []
    for op in rows() if ops is None else ops:
        for k, (s, ranges, kinds) in enumerate(samples(op)):
            rng = np.random.default_rng(zlib.crc32(f"{op.name}/{k}".encode()))
            xs = [draw(rng, shp, r, kd).astype(dtype)
                  for shp, r, kd in zip(s.shapes, ranges, kinds)]
            out.append(Case(op, k, s, xs, s.second, k < JIT_SAMPLES))
    return out


def weights(shape, dtype=np.float64):
    """Fixed, uneven output weights for scalarising an op's output (a plain sum would hide
    e.g. softmax's whole Jacobian), in the dtype of the case (float64 weights would promote)."""
    size = int(np.prod(shape)) if shape else 1
    return np.cos(1.3 * np.arange(size) + 0.4).reshape(shape).astype(dtype)


def tolerances(dtype, order=1):
    """(rtol, atol) for derivatives computed in `dtype` against central differences computed in
    float64: the rounding of the analytic derivative dominates, so both scale with the dtype's
    eps (float64: the sweep's historical 1e-3 / 1e-5, bounded by the differences' own error)."""
    eps = float(np.finfo(dtype).eps)
    if eps <= np.finfo(np.float64).eps:
        return (1e-3, 1e-5) if order == 1 else (1e-3, 1e-4)
    scale = 2e3 if order == 1 else 2e4      # condition of the rows' samples times rounding
    return scale * eps, scale * eps


def complex_rows():
    """The swept rows whose rules hold at complex values (Op.complex not False)."""
    return [op for op in rows() if getattr(op, "complex", False) is not False]


def complex_cases(ops=None):
    """complex128 samples of the rows with complex rules: the real parts drawn as the real
    sweep's, imaginary parts in +-(0.1, 1) (off the real axis: clear of log's and angle's
    branch cut, of abs's kink), small ones (+-0.3) for well-conditioned matrices."""
    out = []
    for op in complex_rows() if ops is None else ops:
        for k, (s, ranges, kinds) in enumerate(samples(op)):
            rng = np.random.default_rng(zlib.crc32(f"{op.name}/{k}/complex".encode()))
            xs = []
            for shp, r, kd in zip(s.shapes, ranges, kinds):
                re = draw(rng, shp, r, kd)
                scale = 0.3 if kd == "wellcond" else 1.0
                im = rng.uniform(0.1, 1.0, size=tuple(shp)) * rng.choice([-1.0, 1.0],
                                                                        size=tuple(shp))
                xs.append(np.asarray(re + 1j * scale * im, dtype=np.complex128))
            out.append(Case(op, k, s, xs, s.second, k < JIT_SAMPLES))
    return out
