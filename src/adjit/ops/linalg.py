"""Linear algebra rows (last two axes are the matrix; rules never divide by det): matmul,
det, logabsdet, inv, solve, cholesky, and dot, outer, trace, logdet over them (slogdet and
the other multi-output ops: `decompositions`)."""
import builtins

import numpy as np

from ..core.complexrule import is_complex
from ..core.domain import Sample
from ..core.registry import Op, Traced, composite, defop, implements
from .axes import batch, cond_of, ndim, shape, shape_of_raw
from .elementwise import dtype_name
from .formulas import abs as abs_op
from .formulas import log, mul
from .reductions import max as max_red
from .reductions import min as min_red
from .reductions import prod_others
from .shape import getitem, mT, reshape, sum_op, transpose, tril, unbroadcast, where

# ---------------------------------------------------------------------------------------------
# linear algebra (last two axes are the matrix; rules never divide by det)


def _matmul_vjp(g, y, a, b, _needs=(True, True)):
    # _needs: skip the cotangent of a constant factor (for W @ x with a constant W, the outer
    # product g x^T would cost more than the rest of the backward pass)
    na, nb_ = ndim(a), ndim(b)
    ga = gb = None
    if na == 1 and nb_ == 1:
        return (g * b if _needs[0] else None), (g * a if _needs[1] else None)
    if nb_ == 1:
        if _needs[0]:
            ga = getitem(g, idx=(Ellipsis, None)) * b
        if _needs[1]:
            gb = getitem(matmul(getitem(g, idx=(Ellipsis, None, slice(None))), a),
                         idx=(Ellipsis, 0, slice(None)))
    elif na == 1:
        if _needs[0]:
            ga = getitem(matmul(b, getitem(g, idx=(Ellipsis, slice(None), None))),
                         idx=(Ellipsis, slice(None), 0))
        if _needs[1]:
            gb = (getitem(a, idx=(slice(None), None)) *
                  getitem(g, idx=(Ellipsis, None, slice(None))))
    else:
        if _needs[0]:
            ga = matmul(g, mT(b))
        if _needs[1]:
            gb = matmul(mT(a), g)
    return (None if ga is None else unbroadcast(ga, shape_of_raw(a)),
            None if gb is None else unbroadcast(gb, shape_of_raw(b)))


def _matmul_jvp(ts, y, a, b):
    # In matrix form (a vector a as a row, a vector b as a column), with the tangent's batch
    # axes in front and unit axes padding its matrix-batch axes to the output's, so that
    # NumPy's broadcasting of the other (unbatched) factor lines up.
    sa, sb = shape_of_raw(a), shape_of_raw(b)
    am = sa if len(sa) > 1 else (1,) + sa
    bm = sb if len(sb) > 1 else sb + (1,)
    nd = builtins.max(len(am), len(bm))
    ys = shape_of_raw(y)
    ta, tb = ts
    out = None
    if ta is not None:
        lead = batch(ta, a)
        if len(sb) == 1:
            out = matmul(ta, b)       # batch axes fit in front: (lead, ..., m, n) @ (n,)
        elif len(sb) == 2:
            # one matrix b: fold every other axis of ta into rows, one GEMM for k directions
            rows = int(np.prod(shape(ta)[:-1]))
            out = reshape(matmul(reshape(ta, (rows, sa[-1])), b), lead + ys)
        else:
            t = reshape(ta, lead + (1,) * (nd - len(am)) + am)
            out = reshape(matmul(t, b if len(sb) > 1 else reshape(b, bm)), lead + ys)
    if tb is not None:
        lead = batch(tb, b)
        if len(sb) == 1:
            if len(sa) == 1:
                c = matmul(tb, a)
            elif len(sa) == 2:
                c = matmul(tb, mT(a))    # (lead, n) @ (n, m): one GEMM for k directions
            else:
                t = reshape(tb, lead + (1,) * (nd - len(bm)) + bm)
                c = reshape(matmul(a, t), lead + ys)
        else:
            t = reshape(tb, lead + (1,) * (nd - len(bm)) + bm)
            c = reshape(matmul(a if len(sa) > 1 else reshape(a, am), t), lead + ys)
        out = c if out is None else out + c
    return out


matmul = defop("matmul", np.matmul, _matmul_vjp, _matmul_jvp, backward_name="MmBackward",
               vjp_needs=True, methods=("matmul", "mm"), operator="matmul", lower="mm",
               # each factor's cotangent reads only the other factor
               reads=lambda needs: (((1,) if needs[0] else ()) + ((0,) if needs[1] else ()),
                                    False),
               domain=[Sample(a, b) for a, b in [
                   ((3,), (3,)), ((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)),
                   ((2, 2, 3), (3, 4)), ((2, 1, 2, 3), (3, 3, 2)), ((3,), (2, 3, 4)),
                   ((2, 2, 3), (3,)), ((0, 3), (3, 2))]],
              numpy=(np.matmul, np.linalg.matmul))


def _diag_sum(m):
    n = shape(m)[-1]
    r = np.arange(n)
    return sum_op(getitem(m, idx=(Ellipsis, r, r)), axis=-1)


def _col(v):
    return getitem(v, idx=(Ellipsis, None, None))


def _vec_solve(A, v):
    return getitem(solve(A, getitem(v, idx=(Ellipsis, None))), idx=(Ellipsis, 0))


# det's derivative is the cofactor matrix C = det(x) inv(x)^T. Where x is well conditioned the
# rules use that product, through the registered inv when x is wrapped, so they can be
# differentiated again to any order. Near and at singular matrices (where inv raises, and where
# differentiating det * inv cancels catastrophically) C comes from the SVD x = U S Vh instead:
# C = det(U) det(Vh) U diag(prod_{j != i} s_j) Vh, exact at any rank, and its own derivative
# (det's Hessian) from the same SVD, so first and second derivatives exist everywhere; third
# and higher ones at such matrices raise NotImplementedError. Inside ad.jit the choice is a
# guard (a kernel traced at a regular matrix keeps the inverse and retraces when a matrix is
# ill-conditioned; one whose inv raises runs eagerly), and a trace at an ill-conditioned
# matrix runs eagerly.
DET_COND_MAX = 1e8   # 1-norm condition number above which det's rules use the SVD


def _det_inv(x):
    """inv(x) if every matrix of x is well conditioned (finite x with a 1-norm condition number
    below DET_COND_MAX), else None. A wrapped x gets the registered op. Under ad.jit the test
    is a guard: the kernel recomputes it and retraces where its outcome changes."""
    xc = cond_of(x)
    if isinstance(xc, Traced) and not xc._branches:
        return None   # ad.vmap: conditioning differs per element; the SVD path serves all
    try:
        xi = inv(xc) if isinstance(xc, Traced) else np.linalg.inv(np.asarray(xc))
    except np.linalg.LinAlgError:
        return None
    if isinstance(xc, Traced):
        c = (max_red(sum_op(abs_op(xc), axis=-2), axis=-1)
             * max_red(sum_op(abs_op(xi), axis=-2), axis=-1))
        ill = bool(where(max_red(c >= DET_COND_MAX), min_red(abs_op(xc) < np.inf), False))
    else:
        c = (np.abs(xc).sum(axis=-2).max(axis=-1, initial=0.0)
             * np.abs(xi).sum(axis=-2).max(axis=-1, initial=0.0))
        ill = np.any(c >= DET_COND_MAX) and np.all(np.isfinite(xc))
    if ill:
        return None
    return inv(x) if isinstance(x, Traced) else xi


def _det_svd(x):
    """(det(U) det(Vh), U, singular values, Vh) of x = U S Vh, det(U) det(Vh) with axes for
    broadcasting against matrices."""
    U, s, Vh = np.linalg.svd(x)
    return (np.linalg.det(U) * np.linalg.det(Vh))[..., None, None], U, s, Vh


def _cofactor_primal(x):
    # det(x) inv(x)^T = sign conj(U) diag(prod_others(s)) conj(Vh) (conj: complex x, whose
    # cofactor matrix is the transpose of Vh^H ... U^H)
    sign, U, s, Vh = _det_svd(x)
    return sign * ((U.conj() * prod_others(s, -1)[..., None, :]) @ Vh.conj())


def _det_hessian_primal(t, x):
    """det's second derivative at x applied to t (d C[t]; t may carry leading batch axes): in
    the SVD's bases E = U^T t Vh^T, d C = diag(Q diag(E)) - E^T * Q with Q_ij the product of
    the singular values other than s_i and s_j (Q_ii = 0)."""
    sign, U, s, Vh = _det_svd(x)
    n = s.shape[-1]
    eye = np.eye(n, dtype=bool)
    Q = np.where(eye, 0.0, prod_others(np.where(eye, 1.0, s[..., None, :]), -1))
    E = np.swapaxes(U.conj(), -1, -2) @ t @ np.swapaxes(Vh.conj(), -1, -2)
    d = np.sum(Q * np.diagonal(E, axis1=-2, axis2=-1)[..., None, :], axis=-1)
    I = np.eye(n, dtype=d.dtype)   # noqa: E741 - float32 stays float32
    return sign * (U.conj() @ (d[..., None] * I - np.swapaxes(E, -1, -2) * Q) @ Vh.conj())


def _det_third():
    return NotImplementedError(
        "adjit.det: third and higher derivatives at an ill-conditioned or singular matrix (1-norm "
        f"condition number above {DET_COND_MAX:.0e}) are not available; the first and second "
        "derivatives are")


def _det_hessian_vjp(g, y, t, x, _needs=(True, True)):
    if _needs[1]:
        raise _det_third()
    return _det_hessian(g, x), None   # the Hessian is symmetric


def _det_hessian_jvp(ts, y, t, x):
    if ts[1] is not None:
        raise _det_third()
    return _det_hessian(ts[0], x)


# internal ops (not in OPS, and unknown to ad.jit's compiler, which then runs eagerly)
_cofactor = Op("det_cofactor", _cofactor_primal,
               lambda g, y, x: (_det_hessian(g, x),),
               lambda ts, y, x: _det_hessian(ts[0], x))
_det_hessian = Op("det_hessian", _det_hessian_primal, _det_hessian_vjp, _det_hessian_jvp,
                  vjp_needs=True)


def _det_vjp(g, y, x):
    xi = _det_inv(x)
    if xi is None:
        return (_col(g) * _cofactor(x),)
    return (_col(g * y) * mT(xi),)


def _det_jvp(ts, y, x):
    xi = _det_inv(x)
    return (y * sum_op(mT(xi) * ts[0], axis=(-2, -1)) if xi is not None
            else sum_op(_cofactor(x) * ts[0], axis=(-2, -1)))


_SQUARE = [Sample((3, 3), kind="wellcond"), Sample((2, 3, 3), kind="wellcond"),
           Sample((1, 1), kind="wellcond")]
det = defop("det", np.linalg.det, _det_vjp, _det_jvp, saves_out=True, methods=("det",),
            lower="lib", jit={"call": "np.linalg.det({0})", "core": 0}, domain=_SQUARE,
              numpy=(np.linalg.det,))


def _logabsdet_primal(x):
    return np.linalg.slogdet(x)[1]


def _singular_logdet():
    # PyTorch documents logdet as not differentiable at a singular matrix (its LU-based
    # backward returns non-finite numbers there); adjit says so instead
    return np.linalg.LinAlgError(
        "adjit.logdet: the derivative of log|det x| is inv(x)^T, which does not exist at this "
        "singular matrix. Differentiate at a regular matrix (e.g. x + eps * I with a small "
        "eps), or use ad.det, whose derivative exists everywhere.")


def _logabsdet_vjp(g, y, x):
    try:
        return (_col(g) * mT(inv(x)),)
    except np.linalg.LinAlgError:
        raise _singular_logdet() from None


def _logabsdet_jvp(ts, y, x):
    try:
        return _diag_sum(solve(x, ts[0]))
    except np.linalg.LinAlgError:
        raise _singular_logdet() from None


logabsdet = defop("logabsdet", _logabsdet_primal, _logabsdet_vjp, _logabsdet_jvp,
                  backward_name="LogdetBackward", export=False, lower="lib",
                  jit={"call": "np.linalg.slogdet({0})[1]", "core": 0}, domain=_SQUARE)

inv = defop("inv", np.linalg.inv,
            lambda g, y, x: (-matmul(mT(y), matmul(g, mT(y))),),
            lambda ts, y, x: -matmul(y, matmul(ts[0], y)), saves_in=False, saves_out=True,
            backward_name="LinalgInvBackward", methods=("inverse",), lower="lib",
            jit={"call": "np.linalg.inv({0})", "core": 2}, domain=_SQUARE,
              numpy=(np.linalg.inv,))


def _solve_primal(A, b):
    if np.ndim(b) == 1:
        return np.linalg.solve(A, np.asarray(b)[..., None])[..., 0]
    return np.linalg.solve(A, b)


def _solve_vjp(g, y, A, b):
    if ndim(b) == 1:
        gb = _vec_solve(mT(A), g)
        gA = -(getitem(gb, idx=(Ellipsis, slice(None), None)) *
               getitem(y, idx=(Ellipsis, None, slice(None))))
    else:
        gb = solve(mT(A), g)
        gA = -matmul(gb, mT(y))
    return unbroadcast(gA, shape_of_raw(A)), unbroadcast(gb, shape_of_raw(b))


def _pad_batch(t, x, nd):
    """Unit axes between tangent t's batch axes and x's own axes, so t lines up with nd-dim
    values under NumPy broadcasting (x broadcast against a batched partner)."""
    k = nd - ndim(x)
    return t if t is None or k <= 0 else reshape(t, batch(t, x) + (1,) * k + shape_of_raw(x))


def _solve_jvp(ts, y, A, b):
    nd = ndim(y)
    tA, tb = _pad_batch(ts[0], A, nd), _pad_batch(ts[1], b, nd)
    r = tb
    if tA is not None:
        ty = (getitem(matmul(tA, getitem(y, idx=(Ellipsis, None))), idx=(Ellipsis, 0))
              if ndim(b) == 1 else matmul(tA, y))
        r = -ty if r is None else r - ty
    return _vec_solve(A, r) if ndim(b) == 1 else solve(A, r)


solve = defop("solve", _solve_primal, _solve_vjp, _solve_jvp, saves_out=True,
              backward_name="LinalgSolveBackward", lower="lib",
              jit={"call": "np.linalg.solve({0}, {1})", "core": 2, "vector_arg": 1},
              domain=[Sample(a, b, kind="wellcond") for a, b in [
                  ((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 1)), ((2, 3, 3), (3, 2)),
                  ((1, 3, 3), (2, 3, 1))]],
              numpy=(np.linalg.solve,))


def _phi(X):
    n = shape(X)[-1]
    return tril(X) * (1.0 - 0.5 * np.eye(n, dtype=dtype_name(X)))   # float32 stays


def _chol_vjp(g, L, A):
    # Murray (2016): A_bar = sym(L^-T Phi(L^T G) L^-1), with triangular solves, no inverse
    P = _phi(matmul(mT(L), g))
    Z = solve(mT(L), P)
    S = mT(solve(mT(L), mT(Z)))
    return (0.5 * (S + mT(S)),)


def _chol_jvp(ts, L, A):
    X = solve(L, ts[0])
    X = mT(solve(L, mT(X)))
    return matmul(L, _phi(X))


def _sym_call(op, a, **params):
    # cholesky reads one triangle; the sweep perturbs every entry, so it feeds sym(a) (the
    # Hermitian part at complex values; .conj() of arrays and wrappers: no import cycle)
    at = mT(a)
    return op(0.5 * (a + (at.conj() if np.dtype(dtype_name(a)).kind == "c" else at)), **params)


cholesky = defop("cholesky", np.linalg.cholesky, _chol_vjp, _chol_jvp, saves_in=False,
                 saves_out=True, backward_name="LinalgCholeskyBackward", methods=("cholesky",),
                 lower="lib", jit={"call": "np.linalg.cholesky({0})", "core": 2},
                 domain=[Sample(s, kind="spd", call=_sym_call) for s in ((3, 3), (2, 4, 4), (1, 1))],
                 numpy=(np.linalg.cholesky,))


@composite(methods=("dot",), numpy=(np.dot,),
           domain=[Sample((2, 3), (3, 4)), Sample((3,), (3,)), Sample((2, 3), (2, 3, 4)),
                   Sample((), (2, 3))])
def dot(a, b):
    """np.dot: a product with a scalar, matmul when b is 1-D or 2-D (or a is 1-D), and for N-D
    b the sum over the last axis of a and the second-to-last of b, with the result shape
    a.shape[:-1] + b.shape[:-2] + b.shape[-1:]."""
    na, nb = ndim(a), ndim(b)
    if na == 0 or nb == 0:
        return mul(a, b)
    if nb <= 2 or na == 1:
        return matmul(a, b)
    sa, sb = shape(a), shape(b)
    # b as (n, rest * m): one matrix product with a as (rows, n)
    bt = transpose(b, axes=(nb - 2,) + tuple(range(nb - 2)) + (nb - 1,))
    out = matmul(reshape(a, (-1, sa[-1])), reshape(bt, (sb[-2], -1)))
    return reshape(out, sa[:-1] + sb[:-2] + sb[-1:])


@composite(methods=("outer",), numpy=(np.outer,),
           domain=[Sample((3,), (2,)), Sample((0,), (2,)), Sample((2, 2), (3,))])
def outer(a, b):
    return mul(reshape(a, (-1, 1)), reshape(b, (1, -1)))


@composite(methods=("trace",), numpy=(np.trace,),
           domain=[Sample((3, 3)), Sample((2, 4)), Sample((2, 3, 3), offset=1, axis1=-1, axis2=0)])
def trace(x, offset=0, axis1=0, axis2=1):
    """np.trace: the sum along the offset diagonal of the 2-D slices over (axis1, axis2), the
    other axes kept in order; any shape, square or not."""
    nd = ndim(x)
    if nd < 2:
        raise ValueError(f"adjit.trace: expected an array with at least 2 dimensions, got "
                         f"shape {shape(x)}")
    a1, a2 = int(axis1) % nd, int(axis2) % nd
    if a1 == a2:
        raise ValueError(f"adjit.trace: axis1 and axis2 must differ, got {axis1} and {axis2}")
    offset = int(offset)
    rest = tuple(i for i in range(nd) if i not in (a1, a2))
    n, m = shape(x)[a1], shape(x)[a2]
    i = np.arange(builtins.max(0, -offset), builtins.max(0, builtins.min(n, m - offset)))
    diag = getitem(transpose(x, axes=rest + (a1, a2)), idx=(Ellipsis, i, i + offset))
    return sum_op(diag, axis=-1)


@implements(np.linalg.trace)
def _np_linalg_trace(x, offset=0):
    return trace(x, offset, -2, -1)


@implements(np.matrix_transpose, np.linalg.matrix_transpose)
def _np_matrix_transpose(x):
    return mT(x)


@composite(methods=("logdet",))
def logdet(x):
    """log det x; NaN where det < 0 and -inf where det == 0, as PyTorch. Of complex x the
    principal complex logarithm of det x (PyTorch's), differentiable: d = tr(x^-1 dx)."""
    if is_complex(x):
        return log(det(x))
    xc = cond_of(x)
    if isinstance(xc, Traced):
        # ad.jit: the sign is part of the traced computation (a constant of the derivative)
        d = det(xc)
        return logabsdet(x) + where(d > 0, 0.0, where(d < 0, np.nan, -np.inf))
    sgn = np.linalg.slogdet(xc)[0]
    if np.all(sgn > 0):
        return logabsdet(x)  # the usual case: one op, grad_fn LogdetBackward as in PyTorch
    with np.errstate(divide="ignore", invalid="ignore"):
        return logabsdet(x) + np.log(np.where(sgn < 0, np.nan, sgn))
