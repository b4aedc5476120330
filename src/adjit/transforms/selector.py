"""Choosing forward or reverse mode for a Jacobian (a measured cost model), and the transforms
that choose: jacobian, hessian, hvp."""
import math

import numpy as np

from .args import as_arg_tuple, bind_kwargs, parse_argnums, shape_of
from .jacobians import (DEFAULT_CHUNK, REV_CHUNK, REV_PLAIN_MAX, diff_leaves, jacfwd,
                        jacfwd_impl, jacrev_impl, jvp)
from .pytree import tree_flatten
from .reverse_mode import grad, record, size_of

# ---------------------------------------------------------------------------------------------
# choosing the mode
#
# Cost model of one Jacobian with n_in inputs and n_out outputs, in units of one one-pass
# forward Jacobian of a small f (so f's own size cancels), with k = min(n_in, chunk) forward
# directions and k' = min(n_out, chunk) reverse rows per pass, s = n_in * n_out / SIZE_REF:
#
#   forward = FWD_BASE + ceil(n_in / k) * FWD_PASS + n_in * s * FWD_DIR
#   reverse = REV_BASE + n_out * REV_PLAIN                  (n_out <= REV_PLAIN_MAX: plain rows)
#                      + ceil(n_out / k') * REV_PASS        (otherwise: batched rows)
#                      + (n_out + 1) * s * REV_ROW          (the recording counts as one row)
#
# The *_PASS / *_PLAIN / *_BASE terms are the fixed Python cost of a pass (dispatch per op,
# seeds, assembling the result), the *_DIR / *_ROW terms the work each direction or row adds;
# s stands for that work, taken to grow like a dense layer's (n_in * n_out).
#
# Measured 2026-11-22 by `python benchmarks/calibrate.py` (2 shared cores, NumPy on
# single-threaded OpenBLAS): whole-Jacobian times of jacfwd and jacrev for f(x) = tanh(W x)
# and the nonlinearity-heavy function of benchmarks/bench_selector.py at 26 calibration shapes
# between (1, 8) and (512, 512) (not the benchmark grid), a non-negative least-squares fit of
# the constants on relative error per function (each function picks the faster mode at 26/26
# of its shapes with its own fit), and the medians over the two functions below. A batched
# reverse pass costs about 1.7 forward passes: the rows ride as the tangent of a dual-number
# cotangent, so every VJP op is also a JVP op. Checked on the benchmark grid
# (python benchmarks/bench_selector.py, 72 points): the faster mode picked at 67/72 (the five
# misses are ties within 3.3%), time(auto) <= 1.10 x the faster mode.
FWD_BASE = 0.0
FWD_PASS = 1.04
FWD_DIR = 0.0705
REV_BASE = 0.367
REV_PLAIN = 0.54
REV_PASS = 1.72
REV_ROW = 0.0791
SIZE_REF = 65536


def mode_costs(n_in, n_out, chunk=None):
    """(forward, reverse): the cost model's estimate for a Jacobian with n_in inputs and n_out
    outputs, in units of one small one-pass forward Jacobian (see the notes above)."""
    n_in, n_out = int(n_in), int(n_out)
    s = n_in * n_out / SIZE_REF
    kf = max(1, min(n_in, chunk or DEFAULT_CHUNK))
    fwd = FWD_BASE + math.ceil(n_in / kf) * FWD_PASS + n_in * s * FWD_DIR
    kr = max(1, min(n_out, chunk or REV_CHUNK))
    if kr == 1 or n_out <= REV_PLAIN_MAX:
        passes = n_out * REV_PLAIN
    else:
        passes = math.ceil(n_out / kr) * REV_PASS
    rev = REV_BASE + passes + (n_out + 1) * s * REV_ROW
    return fwd, rev


def select_mode(n_in, n_out, chunk=None):
    """Choose the faster differentiation mode for a Jacobian of the given size.

    Whichever the cost model (``mode_costs``, notes above) says takes less time for a
    Jacobian with ``n_in`` inputs and ``n_out`` outputs; ties go to forward mode.
    ``ad.jacobian(f, mode="auto")`` uses it; the mode it chose is ``jac.last_mode``.

    Parameters
    ----------
    n_in : int
        Total number of input elements.
    n_out : int
        Total number of output elements.
    chunk : int, optional
        Directions (forward) or cotangent rows (reverse) per pass, as given to
        ``ad.jacobian``.

    Returns
    -------
    str
        ``'forward'`` or ``'reverse'``.

    Examples
    --------
    >>> ad.select_mode(1000, 1)
    'reverse'
    >>> ad.select_mode(1, 1000)
    'forward'
    """
    fwd, rev = mode_costs(n_in, n_out, chunk)
    return "forward" if fwd <= rev else "reverse"


def _shape_key(args):
    key = []
    for a in args:
        if type(a) is np.ndarray:
            key.append(a.shape)
        elif isinstance(a, (float, int)):
            key.append(())
        else:
            for v in tree_flatten(a)[0]:
                try:
                    key.append(tuple(shape_of(v)))
                except Exception:  # noqa: BLE001 - anything unshaped keys by its type
                    key.append(type(v).__name__)
    return tuple(key)


def jacobian(f, argnums=0, mode="auto", chunk=None):
    """Return a function computing the Jacobian of ``f`` in the given mode.

    ``"auto"`` asks ``select_mode(n_in, n_out)``. To learn ``n_out``, it records ``f`` once
    per new combination of argument shapes (the choice is cached on the returned function);
    when it then picks reverse mode that recording is used, so the extra cost is one recorded
    evaluation of ``f`` on the first call only.

    Parameters
    ----------
    f : callable
        Function of arrays (or pytrees of arrays); its output may be an array or a pytree.
        Keyword arguments given to the returned function are passed on to ``f``.
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate with respect to (default 0).
    mode : {'auto', 'forward', 'reverse'}, optional
        Differentiation mode (default ``'auto'``).
    chunk : int, optional
        Directions (forward) or cotangent rows (reverse) per pass.

    Returns
    -------
    callable
        ``jac(*args, **kwargs)`` returning the Jacobian, of shape ``out.shape + in.shape``.
        Its ``last_mode`` attribute holds the mode the last call used (``None`` before the
        first call).

    Raises
    ------
    ValueError
        If ``mode`` is not one of the three above.

    See Also
    --------
    jacfwd, jacrev, select_mode

    Examples
    --------
    >>> jac = ad.jacobian(lambda x: ad.sum(x ** 2))
    >>> jac(np.array([1.0, 2.0, 3.0]))
    array([2., 4., 6.])
    >>> jac.last_mode
    'reverse'
    """
    if mode not in ("auto", "forward", "reverse"):
        raise ValueError(f"adjit.jacobian: mode must be 'auto', 'forward' or 'reverse', "
                         f"got {mode!r}")
    mode_cache = {}

    def jac(*args, **kwargs):
        single, nums = parse_argnums(argnums, len(args))
        f_ = bind_kwargs(f, kwargs)
        m = mode
        if m == "auto":
            key = (nums, _shape_key(args))
            m = mode_cache.get(key)
            if m is None:
                # first call with these shapes: record f to learn n_out, keep the recording
                n_in = sum(size_of(shape_of(x)) for lv in diff_leaves(args, nums)[0] for x in lv)
                out, level, leaves, specs = record(f_, args, nums)
                n_out = sum(size_of(shape_of(o)) for o in tree_flatten(out)[0])
                m = select_mode(n_in, n_out, chunk)
                if len(mode_cache) < 64:
                    mode_cache[key] = m
                jac.last_mode = m
                if m == "reverse":
                    return jacrev_impl(out, level, leaves, specs, single, chunk)
                return jacfwd_impl(f_, args, nums, single, chunk)
        jac.last_mode = m
        if m == "forward":
            return jacfwd_impl(f_, args, nums, single, chunk)
        out, level, leaves, specs = record(f_, args, nums)
        return jacrev_impl(out, level, leaves, specs, single, chunk)
    jac.last_mode = None
    jac.__name__ = f"jacobian({getattr(f, '__name__', 'f')})"
    return jac


def hessian(f, argnums=0, chunk=None):
    """Return a function computing the Hessian of the scalar-valued ``f``.

    Forward-over-reverse: ``jacfwd`` of ``grad``, ``chunk`` directions per forward pass.

    Parameters
    ----------
    f : callable
        Function of arrays returning a real scalar. Keyword arguments given to the returned
        function are passed on to ``f``.
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate with respect to (default 0). With a
        tuple the result is nested like JAX's: ``H[i][j] = d2 f / d arg_i d arg_j``.
    chunk : int, optional
        Tangent directions per forward pass.

    Returns
    -------
    callable
        ``hess(*args, **kwargs)`` returning the Hessian, of shape ``x.shape + x.shape``.

    Raises
    ------
    TypeError
        If ``f`` does not return a real scalar.

    See Also
    --------
    hvp : Hessian-vector products without forming the Hessian.

    Examples
    --------
    >>> ad.hessian(lambda x: ad.sum(x ** 3))(np.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    return jacfwd(grad(f, argnums), argnums, chunk)


def hvp(f, primals, tangents):
    """Gradient and Hessian-vector product of the scalar-valued ``f``, without the Hessian.

    Forward-over-reverse, like ``jax.jvp(jax.grad(f, argnums), primals, tangents)`` with
    ``argnums`` covering every primal.

    Parameters
    ----------
    f : callable
        Function of the primals returning a real scalar.
    primals : tuple
        The arguments of ``f``, as a tuple even for one argument: ``(x,)``.
    tangents : tuple
        The vectors to multiply by, with the structure and shapes of ``primals``.

    Returns
    -------
    grad : array or tuple
        ``grad f(*primals)``.
    hvp : array or tuple
        ``H @ tangents``. One primal gives two arrays; several primals give two tuples
        (one entry per primal).

    Raises
    ------
    TypeError
        If ``primals`` or ``tangents`` is a bare array rather than a tuple, or ``f`` does
        not return a real scalar.

    Examples
    --------
    >>> ad.hvp(lambda x: ad.sum(x ** 3), (np.array([1.0, 2.0]),), (np.array([1.0, 1.0]),))
    (array([ 3., 12.]), array([ 6., 12.]))
    """
    primals = as_arg_tuple(primals, "primals", "hvp")
    tangents = as_arg_tuple(tangents, "tangents", "hvp")
    nums = 0 if len(primals) == 1 else tuple(range(len(primals)))
    return jvp(grad(f, nums), primals, tangents)
