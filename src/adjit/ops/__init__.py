"""The op table: every op's primal, VJP and JVP side by side, one row per op.

Rows live in modules named for what they hold: `formulas` (elementwise, as scalar formulas),
`shape` (reshape, indexing, selection, sum), `reductions`, `linalg`, `decompositions` (ops
with several outputs, through `multi`). `axes` holds the shape helpers the rules share,
`methods` the operators and methods every wrapper type gets.
`__all__` (adjit's op exports) is derived from the rows: each exported row's public function
under its name and aliases, and the public compositions of rows (var, dot, ...).
"""
from .axes import (axis_arg, batch, cond_of, keep_shape, ndim, neg_axes, shape, shape_of_raw,  # noqa: F401
                   tr_axes, zeros_for)
from .decompositions import *  # noqa: F401,F403
from .formulas import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .norms import *  # noqa: F401,F403
from .reductions import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .joins import *  # noqa: F401,F403
from .selection import *  # noqa: F401,F403
from .rearrange import *  # noqa: F401,F403
from .tiling import *  # noqa: F401,F403
from .diagonals import *  # noqa: F401,F403
from .casts import *  # noqa: F401,F403
from .products import *  # noqa: F401,F403
from .matprod import *  # noqa: F401,F403
from .sorting import *  # noqa: F401,F403
from .scans import *  # noqa: F401,F403
from .statistics import *  # noqa: F401,F403
from . import special, stats  # noqa: F401  (the rows of adjit.scipy.special and .stats)
from . import complex_rows  # noqa: F401 - registers real, imag, conj, angle
from .solvers import *  # noqa: F401,F403
from .matfuncs import *  # noqa: F401,F403
from .triangular import *  # noqa: F401,F403
from . import linalg_complex  # noqa: F401 - complex rules of eigh, svd, qr, cholesky ...
from . import complex_composites  # noqa: F401 - composites in the complex sweep
from . import complex_elementwise  # noqa: F401 - arccosh, sinc, float_power at complex values
from ..core.registry import public_names as _public_names
from .docstrings import document_rows as _document_rows

_document_rows()

globals().update(_public_names())
__all__ = sorted(_public_names())
