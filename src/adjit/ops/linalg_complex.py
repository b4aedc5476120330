"""Complex rules of the linear-algebra rows whose real rules do not hold at complex values:
eigh, svd, qr, slogdet, cholesky, logabsdet (core/complexrule.py's `ComplexRule`s), and the
marking of the rows and composites whose own rules do hold (`Op.complex = True`).

JAX's convention (core/complexrule.py): a cotangent g pairs with a tangent t as Re(sum(g t)).
The JVPs are JAX's (jax/_src/lax/linalg.py). The VJPs are their transposes under that pairing:
t -> A t B pulls g back to A^T g B^T, t -> conj(t) to conj(g), t -> real(t) to real(g).
Equivalently, where a formula is easier in the adjoint form (PyTorch's, whose gradient is the
conjugate of JAX's), JAX's VJP is conj(adjoint rule(conj(g))): that is how the eigh and svd
rules below are written.

Eigenvectors and singular vectors have a phase at complex values: V diag(e^{i phi}) is as good
an eigenvector matrix as V (U and V of the SVD share one phase per singular triple). A
derivative exists only for a function that does not depend on those phases (|V|, V diag(w) V^H,
U @ Vh, singular values, eigenvalues ...). The rules here are JAX's: forward mode returns the
tangent of the gauge with V^H dV zero on the diagonal (any gauge-invariant function of it is
right; a gauge-dependent one gets a number that depends on that choice, as in JAX), and reverse
mode checks the cotangent: a function that depends on the phases (the imaginary part of
diag(V^T gV), of diag(U^T gU) + diag(V^T gV) for the SVD, is not zero) raises, as PyTorch does,
instead of returning JAX's arbitrary number (under ad.jit and ad.vmap the check has no values
to read and the phase-dependent part is dropped, as JAX does).
"""
import numpy as np

from ..core.complexrule import ComplexRule
from ..core.registry import CHECKED_COMPOSITES, OPS, Traced
from .axes import cond_of, ndim, neg_axes, shape, shape_of_raw
from .complex_rows import conj, imag, real
from .decompositions import (all_regular, as_col, as_row, diag_embed, diag_part, div_by_s,
                             gap_product, regularized, used_vectors)
from .elementwise import dtype_name
from . import matfuncs, solvers, triangular  # noqa: F401 - their rows are marked below
from .linalg import inv, matmul, solve
from .shape import expand, getitem, mT, sum_op, tril, where

PHASE_RTOL = 1e-6


def mH(x):   # noqa: N802 (the conjugate transpose, as mT)
    return conj(mT(x))


def _sym(t):
    # eigh and cholesky read one triangle of a Hermitian matrix; their derivative is that of
    # the Hermitian part (JAX symmetrizes the input, PyTorch the gradient)
    return 0.5 * (t + mH(t))


def _check_phase(name, *Ks):
    """Reverse mode: raise when the function depends on the vectors' phases: the imaginary
    part of the sum of the diagonals of Ks (the cotangent's component along the phase
    directions) is not zero to rounding."""
    ks = [cond_of(K) for K in Ks]
    if any(isinstance(k, Traced) for k in ks) or not ks[0].size:
        return
    im = np.abs(sum(np.imag(np.diagonal(k, axis1=-2, axis2=-1)) for k in ks))
    scale = sum(np.max(np.abs(k), axis=(-2, -1)) for k in ks)[..., None]
    if np.any(im > PHASE_RTOL * scale):
        raise ValueError(
            f"adjit.linalg.{name}: the function differentiated depends on the phases of the "
            f"complex {'eigenvectors' if name == 'eigh' else 'singular vectors'}, which are "
            "arbitrary (each vector is defined up to a factor e^(i phi)), so it has no "
            "derivative. Differentiate a function that does not depend on them (eigenvalues, "
            "|V|, V diag(f(w)) V^H, U @ Vh ...), as PyTorch requires; JAX would return a "
            "number that depends on LAPACK's choice of phases.")


def _diag_nan_safe(v):
    """diag_embed whose NaN entries (a phase at a zero singular value) stay on the diagonal
    (a product with the identity would spread them over the row)."""
    return where(np.eye(shape(v)[-1], dtype=bool), as_col(v), 0.0)


# ---------------------------------------------------------------------------------------------
# eigh: w real ascending, V unitary (the packed w has zero imaginary parts; the public function
# returns its real part)

def _eigh_vjp(gs, outs, x):
    gw, gV = gs
    w, V = real(outs[0]), outs[1]
    K = matmul(mT(V), gV)
    _check_phase("eigh", K)
    inner = diag_embed(real(gw)) + gap_product(w, 0.5 * (K - mH(K)), used_vectors(gV, -2))
    return (matmul(conj(V), matmul(inner, mT(V))),)


def _eigh_jvp(ts, outs, x):
    w, V = real(outs[0]), outs[1]
    P = matmul(mH(V), matmul(_sym(ts[0]), V))
    return real(diag_part(P)), matmul(V, gap_product(w, P))


# ---------------------------------------------------------------------------------------------
# svd (reduced): JAX's svd_jvp_rule; the VJP as PyTorch's svd_backward in the adjoint form

def _svd_vjp(gs, outs, x):
    gU, gS, gVh = conj(gs[0]), real(gs[1]), conj(gs[2])   # the adjoint form's cotangents
    U, S, Vh = outs
    S = real(S)
    m, n = shape(x)[-2:]
    k = min(m, n)
    V, gV = mH(Vh), mH(gVh)
    UgU = matmul(mH(U), gU)
    VgV = matmul(mH(V), gV)
    _check_phase("svd", UgU, VgV)
    skU, skV = UgU - mH(UgU), VgV - mH(VgV)
    used = used_vectors(gU, -2) + used_vectors(gVh, -1)
    inner = (gap_product(S, skU * as_row(S) + as_col(S) * skV, used, square=True)
             + diag_embed(gS)
             # the phase U's vectors take from the cotangent (PyTorch's complex term)
             + _diag_nan_safe(getitem(div_by_s(as_row(0.5 * diag_part(skU)), S, used),
                                  idx=(Ellipsis, 0, slice(None)))))
    if m > k:
        gUs = div_by_s(gU, S, used)
        gA = matmul(matmul(U, inner) + gUs - matmul(U, matmul(mH(U), gUs)), Vh)
    elif n > k:
        gVs = div_by_s(gV, S, used)
        gA = matmul(U, matmul(inner, Vh) + mH(gVs) - matmul(matmul(mH(gVs), V), Vh))
    else:
        gA = matmul(U, matmul(inner, Vh))
    return (conj(gA),)


def _svd_jvp(ts, outs, x):
    U, S, Vh = outs
    S = real(S)
    t = ts[0]
    m, n = shape(x)[-2:]
    V = mH(Vh)
    dS = matmul(mH(U), matmul(t, V))
    dSS = dS * as_row(S)
    SdS = as_col(S) * dS
    # the imaginary part of diag(dS) is a relative phase of u_j and v_j: JAX gives it to u_j
    phase = getitem(div_by_s(as_row(1j * imag(diag_part(dS))), S), idx=(Ellipsis, 0, slice(None)))
    dU = matmul(U, gap_product(S, dSS + mH(dSS), square=True) + _diag_nan_safe(phase))
    dV = matmul(V, gap_product(S, SdS + mH(SdS), square=True))
    if m > n:
        tV = matmul(t, V)
        dU = dU + div_by_s(tV - matmul(U, matmul(mH(U), tV)), S)
    if n > m:
        tU = matmul(mH(t), U)
        dV = dV + div_by_s(tU - matmul(V, matmul(Vh, tU)), S)
    return dU, real(diag_part(dS)), mH(dV)


# ---------------------------------------------------------------------------------------------
# qr (reduced, m >= n): LAPACK's R has a real diagonal, which fixes the phases (no gauge)

def _qr_jvp(ts, outs, x):
    Q, R = outs
    t = ts[0]
    m, n = shape(x)[-2:]
    if m < n:
        raise qr_wide(m, n)
    X = mT(solve(mT(R), mT(t)))            # t R^-1
    Y = matmul(mH(Q), X)
    low = tril(Y, k=-1)
    D = low - mH(low) + diag_embed(1j * imag(diag_part(Y)))   # keeps diag(dR) real
    return matmul(Q, D - Y) + X, matmul(Y - D, R)


def _qr_vjp(gs, outs, x):
    # the transpose of _qr_jvp: C is the cotangent of D, gY that of Y
    gQ, gR = gs
    Q, R = outs
    m, n = shape(x)[-2:]
    if m < n:
        raise qr_wide(m, n)
    C = matmul(mT(Q), gQ) - matmul(gR, mT(R))
    gY = tril(C - mH(C), k=-1) - C + diag_embed(1j * imag(diag_part(C)))
    B = gQ + matmul(conj(Q), gY)
    return (mT(solve(R, mT(B))),)


def qr_wide(m, n):
    return NotImplementedError(
        f"adjit.linalg.qr: derivatives of the QR decomposition of a wide {m}x{n} matrix "
        "(m < n) are not implemented; differentiate qr of its first m columns, or of its "
        "transpose")


# ---------------------------------------------------------------------------------------------
# slogdet: sign = det / |det| (complex, differentiable), log|det| real. With tau = tr(x^-1 t):
# d log|det| = Re(tau), d sign = i Im(tau) sign (JAX's)

def _nan_where_singular(sc, used, v, x):
    nan = np.array(np.nan, dtype=dtype_name(x))
    return where(sc == 0, where(cond_of(used) != 0, nan, 0.0), v)


def _slogdet_vjp(gs, outs, x):
    gsign, gl = gs
    sign = outs[0]
    gsgn = gsign * sign
    gtau = real(gl) + 1j * imag(gsgn)
    gtau = getitem(gtau, idx=(Ellipsis, None, None))
    if all_regular(sign):
        return (gtau * mT(inv(x)),)
    sc, xr = regularized(sign, x)
    return (_nan_where_singular(sc, gtau, gtau * mT(inv(xr)), x),)


def _slogdet_jvp(ts, outs, x):
    sign = outs[0]
    if all_regular(sign):
        tau = sum_op(diag_part(solve(x, ts[0])), axis=-1)
    else:
        sc, xr = regularized(sign, x)
        tau = sum_op(diag_part(solve(xr, ts[0])), axis=-1)
        tau = where(sc[..., 0, 0] == 0, np.array(np.nan, dtype=dtype_name(x)), tau)
    return 1j * imag(tau) * sign, real(tau)


# ---------------------------------------------------------------------------------------------
# cholesky (Hermitian positive definite): dL = L phi(L^-1 sym(t) L^-H)

def _phi(X):
    n = shape(X)[-1]
    return tril(X) * (1.0 - 0.5 * np.eye(n))


def _chol_jvp(ts, L, A):
    X = solve(L, _sym(ts[0]))
    X = mT(solve(conj(L), mT(X)))           # X L^-H
    return matmul(L, _phi(X))


def _chol_vjp(g, L, A):
    P = _phi(matmul(mT(L), g))
    Z = solve(mT(L), P)                     # L^-T P
    Z = mT(solve(mH(L), mT(Z)))             # ... conj(L)^-1
    return (_sym(Z),)


# log|det x|: its derivative is Re(tr(x^-1 t))
def _logabsdet_vjp(g, y, x):
    return (getitem(real(g), idx=(Ellipsis, None, None)) * mT(inv(x)),)


def _logabsdet_jvp(ts, y, x):
    return real(sum_op(diag_part(solve(x, ts[0])), axis=-1))


# the 2-norm row (the public norm takes |x| first; the row's own value is NumPy's): the
# derivative of |x| is Re(conj(x) t) / |x|
def _recip(y):
    return 1.0 / where(cond_of(y) == 0, np.inf, y)   # 0 at the zero vector, as the real row


def _norm_vjp(g, y, x, axis=None, keepdims=False):
    return (conj(x) * expand(g * _recip(y), shape_of_raw(x), axis, keepdims),)


def _norm_jvp(ts, y, x, axis=None, keepdims=False):
    t = real(ts[0] * conj(x))
    return sum_op(t, axis=neg_axes(axis, ndim(x)), keepdims=keepdims) * _recip(y)


OPS["norm"].complex = ComplexRule(_norm_vjp, _norm_jvp)
OPS["eigh"].complex = ComplexRule(_eigh_vjp, _eigh_jvp)
OPS["svd"].complex = ComplexRule(_svd_vjp, _svd_jvp)
OPS["qr"].complex = ComplexRule(_qr_vjp, _qr_jvp)
OPS["slogdet"].complex = ComplexRule(_slogdet_vjp, _slogdet_jvp)
OPS["cholesky"].complex = ComplexRule(_chol_vjp, _chol_jvp)
OPS["logabsdet"].complex = ComplexRule(_logabsdet_vjp, _logabsdet_jvp)

# Rows whose own rules hold at complex values (holomorphic: no conjugate anywhere in them)
COMPLEX_LINALG_ROWS = ("prod", "cumprod_last", "triu", "expm", "lu_factor", "lu_swap",
                       "lu_unswap")
for _n in COMPLEX_LINALG_ROWS:
    OPS[_n].complex = True

# Composites made of complex rows, checked by the complex op-info sweep as the rows are
COMPLEX_COMPOSITES = ("dot", "outer", "trace", "einsum", "tensordot", "inner", "vdot", "kron",
                      "vecdot", "matvec", "vecmat", "cross", "matrix_power", "multi_dot",
                      "cumprod", "pinv", "lstsq", "cond", "tensorsolve", "tensorinv",
                      "vector_norm", "matrix_norm", "solve_triangular", "cho_factor",
                      "cho_solve", "lu_solve")
for _n in COMPLEX_COMPOSITES:
    CHECKED_COMPOSITES[_n].complex = True
