"""scipy.stats' normal distributions over the rows (adjit.scipy.stats gathers them as
`norm.logpdf`, `multivariate_normal.logpdf` ...): compositions of the special-function rows
(ndtr, log_ndtr, ndtri) and of cholesky and solve, so they differentiate in x, loc and scale
(mean and cov) in every mode, to every order, and compile under ad.jit."""
import math

import numpy as np

from ..core.domain import Sample
from ..core.registry import composite
from .axes import ndim, shape
from .elementwise import dtype_name
from .formulas import exp, log
from .linalg import cholesky, solve
from .reductions import sum as sum_
from .shape import getitem, reshape, transpose
from .special import log_ndtr, ndtr, ndtri

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)

# x, loc, scale (scale > 0: every input is drawn from the values range)
_NORM_DOMAIN = [Sample((2, 3), (3,), (2, 3), values=(0.3, 2.0)),
                Sample((4,), (), (), values=(0.3, 2.0)), Sample((), (), (), values=(0.3, 2.0))]


def _z(x, loc, scale):
    return (x - loc) / scale


@composite(export=False, domain=_NORM_DOMAIN)
def norm_logpdf(x, loc=0.0, scale=1.0):
    """log of the normal density, as scipy.stats.norm.logpdf.

    Parameters
    ----------
    x, loc, scale : array_like
        Points, mean and standard deviation (broadcasting; all differentiable).

    Returns
    -------
    -((x - loc) / scale)**2 / 2 - log(scale) - log(2 pi) / 2

    Examples
    --------
    >>> from adjit.scipy.stats import norm
    >>> round(float(norm.logpdf(0.0)), 12)
    -0.918938533205
    """
    z = _z(x, loc, scale)
    return -0.5 * z * z - log(scale) - _LOG_SQRT_2PI


@composite(export=False, domain=_NORM_DOMAIN)
def norm_pdf(x, loc=0.0, scale=1.0):
    """The normal density, as scipy.stats.norm.pdf.

    Examples
    --------
    >>> from adjit.scipy.stats import norm
    >>> round(float(norm.pdf(0.0)), 12)
    0.398942280401
    """
    return exp(norm_logpdf(x, loc, scale))


@composite(export=False, domain=_NORM_DOMAIN)
def norm_cdf(x, loc=0.0, scale=1.0):
    """The normal distribution function ndtr((x - loc) / scale), as scipy.stats.norm.cdf.

    Examples
    --------
    >>> from adjit.scipy.stats import norm
    >>> float(norm.cdf(1.0, loc=1.0))
    0.5
    """
    return ndtr(_z(x, loc, scale))


@composite(export=False, domain=_NORM_DOMAIN)
def norm_logcdf(x, loc=0.0, scale=1.0):
    """log_ndtr((x - loc) / scale), accurate far in the left tail, as scipy.stats.norm.logcdf.

    Examples
    --------
    >>> from adjit.scipy.stats import norm
    >>> round(float(norm.logcdf(-40.0)), 6)
    -804.608442
    """
    return log_ndtr(_z(x, loc, scale))


@composite(export=False, domain=_NORM_DOMAIN)
def norm_sf(x, loc=0.0, scale=1.0):
    """The survival function 1 - cdf, as ndtr(-(x - loc) / scale) (scipy.stats.norm.sf).

    Examples
    --------
    >>> from adjit.scipy.stats import norm
    >>> float(norm.sf(0.0))
    0.5
    """
    return ndtr(-_z(x, loc, scale))


@composite(export=False, domain=_NORM_DOMAIN)
def norm_logsf(x, loc=0.0, scale=1.0):
    """log of the survival function, as scipy.stats.norm.logsf.

    Examples
    --------
    >>> from adjit.scipy.stats import norm
    >>> round(float(norm.logsf(40.0)), 6)
    -804.608442
    """
    return log_ndtr(-_z(x, loc, scale))


@composite(export=False, domain=[Sample((2, 3), (3,), (2, 3), values=(0.1, 0.9)),
                                 Sample((), (), (), values=(0.1, 0.9))])
def norm_ppf(q, loc=0.0, scale=1.0):
    """The quantile function loc + scale * ndtri(q), as scipy.stats.norm.ppf.

    Examples
    --------
    >>> from adjit.scipy.stats import norm
    >>> float(norm.ppf(0.5, loc=2.0))
    2.0
    """
    return loc + scale * ndtri(q)


def _mvn_call(op, x, mean, cov):
    # a well-conditioned SPD matrix for any cov the sweep perturbs: cov itself is symmetrised
    # inside, and its entries are drawn from [0.3, 2]
    n = shape(cov)[-1]
    return op(x, mean, cov + n * 2.0 * np.eye(n, dtype=dtype_name(cov)))   # float32 stays


@composite(export=False, domain=[
    Sample((4, 3), (3,), (3, 3), values=(0.3, 2.0), call=_mvn_call),
    Sample((3,), (3,), (3, 3), values=(0.3, 2.0), call=_mvn_call),
    Sample((2, 2, 2), (2,), (2, 2), values=(0.3, 2.0), call=_mvn_call)])
def multivariate_normal_logpdf(x, mean=None, cov=1.0):
    """log of the multivariate normal density, as scipy.stats.multivariate_normal.logpdf.

    Computed through the Cholesky factor L of cov (symmetrised first, so a derivative in cov
    is the symmetric one): ``-(sum(z**2) + 2 sum(log(diag(L))) + d log(2 pi)) / 2`` with
    ``z = solve(L, x - mean)``.

    Parameters
    ----------
    x : array_like
        Points, the last axis indexing the d components (shape (..., d)); for d == 1 a
        vector of points as SciPy.
    mean : array_like, optional
        Mean, shape (d,) (zeros by default).
    cov : array_like, optional
        Covariance: a (d, d) symmetric positive definite matrix, a vector (its diagonal) or a
        scalar (times the identity).

    Returns
    -------
    Log-densities of shape x.shape[:-1].

    Examples
    --------
    >>> from adjit.scipy.stats import multivariate_normal
    >>> round(float(multivariate_normal.logpdf(np.zeros(2), np.zeros(2), np.eye(2))), 12)
    -1.837877066409
    """
    d = _dimension(x, mean, cov)
    if ndim(cov) < 2:
        eye = np.eye(d, dtype=dtype_name(cov))
        cov = cov * eye if ndim(cov) == 0 else eye * reshape(cov, (1, d))
    if ndim(x) == 0 or (d == 1 and shape(x)[-1] != 1):
        x = reshape(x, shape(x) + (1,))
    diff = x if mean is None else x - mean
    batch = shape(diff)[:-1]
    L = cholesky(0.5 * (cov + transpose(cov)))
    r = np.arange(d)
    logdet = 2.0 * sum_(log(getitem(L, idx=(r, r))))
    z = solve(L, transpose(reshape(diff, (-1, d))))        # (d, n)
    maha = reshape(sum_(z * z, axis=0), batch)
    return -0.5 * (maha + logdet + d * 2.0 * _LOG_SQRT_2PI)


def _dimension(x, mean, cov):
    if mean is not None and ndim(mean) == 1:
        return shape(mean)[0]
    return shape(cov)[-1] if ndim(cov) else 1
