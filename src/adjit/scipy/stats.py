"""adjit.scipy.stats: scipy.stats' normal distributions, differentiable in every argument.

`norm.logpdf(x, loc=0, scale=1)`, `norm.pdf`, `norm.cdf`, `norm.logcdf`, `norm.sf`,
`norm.logsf`, `norm.ppf(q, loc, scale)` and `multivariate_normal.logpdf(x, mean, cov)` take
SciPy's arguments and give SciPy's values on arrays, Tensors, dual numbers and inside `ad.jit`
(SciPy itself does not dispatch to other array types).
"""
from ..ops import stats as _stats


class Distribution:
    """A distribution as SciPy's module-level object: its functions as attributes.

    Examples
    --------
    >>> from adjit.scipy.stats import norm
    >>> round(float(ad.grad(lambda s: norm.logpdf(1.0, 0.0, s))(2.0)), 12)   # (z^2 - 1) / s
    -0.375
    """

    def __init__(self, name, **functions):
        self.name = name
        self.__dict__.update(functions)

    def __repr__(self):
        return f"<adjit.scipy.stats.{self.name}>"


norm = Distribution("norm", logpdf=_stats.norm_logpdf, pdf=_stats.norm_pdf, cdf=_stats.norm_cdf,
                    logcdf=_stats.norm_logcdf, sf=_stats.norm_sf, logsf=_stats.norm_logsf,
                    ppf=_stats.norm_ppf)
multivariate_normal = Distribution("multivariate_normal",
                                   logpdf=_stats.multivariate_normal_logpdf)

__all__ = ["multivariate_normal", "norm"]
