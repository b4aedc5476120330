"""`ad.linalg`: the linear-algebra ops of the registry under NumPy's names."""
from .ops import (cholesky, det, eigh, eigvalsh, inv, logdet, norm, qr, slogdet,  # noqa: F401
                  solve, svd, svdvals)
from .ops import matrix_power, multi_dot  # noqa: F401
