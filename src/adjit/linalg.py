"""`ad.linalg`: the linear-algebra ops of the registry under NumPy's names."""
from .ops import cholesky, det, inv, logdet, norm, slogdet, solve  # noqa: F401
