"""The public composites that differentiate complex values because every row they are built
from does (rearranging, joining, selecting, differencing, averaging; sorting and order statistics in
NumPy's lexicographic order of complex values, real parts first): marked for the complex
op-info sweep (tests/test_opinfo_complex.py), which checks them as it checks the rows."""
from ..core.registry import CHECKED_COMPOSITES, OPS
from . import (diagonals, joins, linalg_complex, rearrange, reductions, scans,  # noqa: F401
               selection, sorting, special, statistics, tiling)

COMPLEX_COMPOSITES = (
    "split", "array_split", "hsplit", "vsplit", "dsplit", "hstack", "vstack", "dstack",
    "column_stack", "append", "take", "take_along_axis", "put_along_axis", "select", "choose",
    "compress", "swapaxes", "moveaxis", "rollaxis", "flip", "fliplr", "flipud", "rot90", "roll",
    "ravel", "repeat", "tile", "atleast_1d", "atleast_2d", "atleast_3d", "diag", "diagflat",
    "diagonal", "pad", "diff", "ediff1d", "gradient", "average", "nansum", "nanmean", "var",
    "std", "sort", "partition", "median", "nanmax", "nanmin", "ptp", "quantile", "percentile")
for _n in COMPLEX_COMPOSITES:
    CHECKED_COMPOSITES[_n].complex = True

# rows that select or move entries (max / min: of NumPy's lexicographic order of complex
# values, the real parts first), so their own rules hold at complex values
for _n in ("gather_last", "scatter_last", "max", "min"):
    OPS[_n].complex = True
# holomorphic (their rules have no conjugate): logsumexp's principal value as SciPy's
for _n in ("logsumexp", "softmax", "log_softmax"):
    OPS[_n].complex = True
for _n in ("scipy_logsumexp", "scipy_softmax", "scipy_log_softmax"):
    CHECKED_COMPOSITES[_n].complex = True
