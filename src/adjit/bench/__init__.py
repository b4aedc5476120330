"""`adjit bench`: forward against reverse mode on this machine (`cli` is the command line,
`runner.run` the sections in order, `report` the text, plot and JSON output).

Kept light: the command line imports this package before it sets the BLAS thread variables.
"""
# the BLAS thread variables `adjit bench` sets (and reports)
BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
