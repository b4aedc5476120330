"""Matrix decompositions with several outputs (rows of `multi.defop_multi`): slogdet, eigh,
eigvalsh, svd (reduced; svdvals), qr (reduced). Last two axes are the matrix; the rules are
written in ad ops, so they differentiate again.

Degenerate spectra. The eigenvector (singular vector) rules divide by gaps w_j - w_i
(s_j^2 - s_i^2). A pair whose gap is at most DEGENERATE_RTOL times the largest |w| (s) is
treated as degenerate: there the vectors are not differentiable (any rotation of the eigenspace
is as good), and the reverse rules put 0 for the pair where the function did not use either
vector (its cotangent is exactly zero there: a function of the eigenvalues alone, an unused
output) and NaN where it did (the derivative does not exist, or needs more than the
decomposition: a spectral function written as V diag(f(w)) V^T has one, but only its
eigenvalue form f(w) gives it here). The forward rules put NaN where the tangent mixes the
pair's vectors, which reaches the result only if the function uses them. So first derivatives
of functions of the eigenvalues (sum, norms, log-det of an SPD matrix ...) are exact at any
degeneracy, their second derivatives there are NaN (they go through the vectors), and nothing
returns a finite wrong number. The same holds for singular values at most DEGENERATE_RTOL times
the largest, which the singular-vector rules of a non-square matrix divide by.
Like cholesky, eigh reads the lower triangle but its derivative is the symmetric one (PyTorch's,
JAX's): perturbations are symmetrized. At complex values the rows use the rules of
`linalg_complex` (Hermitian matrices, the phases of the vectors).
"""
import numpy as np

from ..core.complexrule import is_complex
from ..core.domain import Sample
from ..core.registry import Traced, composite, implements
from .axes import cond_of, shape
from .complex_rows import conj, real
from .elementwise import dtype_name
from .linalg import inv, matmul, solve
from .multi import call_multi, defop_multi
from .reductions import max as ad_max
from .shape import getitem, mT, sum_op, tril, where

DEGENERATE_RTOL = 1e-10


def as_row(v):
    return getitem(v, idx=(Ellipsis, None, slice(None)))


def as_col(v):
    return getitem(v, idx=(Ellipsis, slice(None), None))


def diag_part(m):
    return sum_op(m * np.eye(shape(m)[-1], dtype=dtype_name(m)), axis=-1)   # float32 stays


def diag_embed(v):
    return as_col(v) * np.eye(shape(v)[-1], dtype=dtype_name(v))


def used_vectors(g, axis):
    """Per vector (column of V for axis=-2, row of Vh for axis=-1): whether the cotangent g is
    not exactly zero on it, i.e. whether the function used that vector at all (> 0)."""
    return ad_max(abs(cond_of(g)), axis=axis)


def gap_product(w, P, used=None, square=False):
    """F * P with F_ij = 1 / (w_j - w_i) off the diagonal (1 / (w_j^2 - w_i^2) if square) and
    0 on it. At a degenerate pair (module docstring) the product is NaN if the pair is
    coupled, else 0: in a VJP (used = used_vectors(...)) coupled means the function used either
    vector; in a JVP (used None) that the tangent mixes them (P_ij != 0). The masks are
    computed on the innermost values (recomputed by ad.jit kernels)."""
    wc = cond_of(w)
    if square:
        w, wc = w * w, wc * wc
    gap = as_row(wc) - as_col(wc)
    scale = as_col(ad_max(abs(wc), axis=-1, keepdims=True))
    deg = abs(gap) <= DEGENERATE_RTOL * scale
    F = 1.0 / where(deg, 1.0, as_row(w) - as_col(w))
    if used is None:
        coupled = cond_of(P) != 0
    else:
        uc = cond_of(used)
        coupled = (as_row(uc) + as_col(uc)) != 0
    n = shape(w)[-1]
    nan = np.array(np.nan, dtype=dtype_name(P))   # float32 stays float32
    undefined = where(np.eye(n, dtype=bool), 0.0, where(coupled, nan, 0.0))
    return where(deg, undefined, F * P)


# ---------------------------------------------------------------------------------------------
# slogdet: (sign, log|det|); the sign is piecewise constant (no derivative)

def all_regular(sign):
    """Whether no matrix is singular, known now (not under ad.jit, whose kernels keep the masked
    rule so that a later call at a singular matrix is handled)."""
    sc = cond_of(sign)
    return not isinstance(sc, Traced) and bool(np.all(sc != 0))


def regularized(sign, x):
    """x with its singular matrices (sign 0) replaced by the identity, so that the rules'
    solves never raise there; the results at those matrices are masked by the caller."""
    sc = getitem(cond_of(sign), idx=(Ellipsis, None, None))
    return sc, where(sc == 0, np.eye(shape(x)[-1], dtype=dtype_name(x)), x)


def _slogdet_vjp(gs, outs, x):
    gl = gs[1]
    if not isinstance(gl, Traced) and not np.any(gl):
        return (None,)     # only the sign was used: nothing to pull (and no inverse needed)
    gl = getitem(gl, idx=(Ellipsis, None, None))
    if all_regular(outs[0]):
        return (gl * mT(inv(x)),)
    sc, xr = regularized(outs[0], x)
    # log|det| has no derivative at a singular matrix: NaN there, unless nothing used it
    nan = np.array(np.nan, dtype=dtype_name(x))
    return (where(sc == 0, where(cond_of(gl) != 0, nan, 0.0), gl * mT(inv(xr))),)


def _slogdet_jvp(ts, outs, x):
    if all_regular(outs[0]):
        return None, sum_op(diag_part(solve(x, ts[0])), axis=-1)
    sc, xr = regularized(outs[0], x)
    dl = sum_op(diag_part(solve(xr, ts[0])), axis=-1)
    return None, where(sc[..., 0, 0] == 0, np.array(np.nan, dtype=dtype_name(x)), dl)


def _slogdet_nb(a):
    s, l = np.linalg.slogdet(a)
    out = np.empty(2, dtype=a.dtype)
    out[0] = s
    out[1] = l
    return out


# the op-info sweep (testing/opinfo.py) checks each row on its packed output; the vector
# outputs squared there, as their signs are LAPACK's choice (|.|^2 at complex values: their
# phases are, ops/linalg_complex.py)
def _squared(op, a):
    y = op(a)
    return real(y * conj(y)) if is_complex(y) else y ** 2


def _sym_squared(op, a):
    return _squared(op, 0.5 * (a + (conj(mT(a)) if is_complex(a) else mT(a))))


_slogdet = defop_multi("slogdet", np.linalg.slogdet, _slogdet_vjp, _slogdet_jvp,
                       cores=lambda xs: ((), ()), numba=_slogdet_nb,
                       backward_name="LinalgSlogdetBackward", methods=("slogdet",),
                       domain=[Sample((3, 3), kind="wellcond"),
                               Sample((2, 3, 3), kind="wellcond")])


@_slogdet.public
@implements(np.linalg.slogdet)
def slogdet(x):
    """(sign, log|det|) of x (..., n, n), as np.linalg.slogdet; the sign has no derivative
    (of real x; of complex x it is det / |det|, differentiable)."""
    out = call_multi(_slogdet, x)
    if isinstance(x, Traced) and is_complex(x):
        return out[0], real(out[1])   # packed with the complex sign
    return out


# ---------------------------------------------------------------------------------------------
# eigh: eigenvalues ascending, eigenvectors in columns

def _eigh_vjp(gs, outs, x):
    gw, gV = gs
    w, V = outs
    K = matmul(mT(V), gV)
    inner = diag_embed(gw) + gap_product(w, 0.5 * (K - mT(K)), used_vectors(gV, -2))
    return (matmul(V, matmul(inner, mT(V))),)


def _eigh_jvp(ts, outs, x):
    w, V = outs
    t = ts[0]
    P = matmul(mT(V), matmul(0.5 * (t + mT(t)), V))
    return diag_part(P), matmul(V, gap_product(w, P))


def _eigh_nb(a):
    w, v = np.linalg.eigh(a)
    n = w.shape[0]
    out = np.empty(n + n * n, dtype=a.dtype)
    out[:n] = w
    for i in range(n):
        for j in range(n):
            out[n + i * n + j] = v[i, j]
    return out


_eigh = defop_multi("eigh", np.linalg.eigh, _eigh_vjp, _eigh_jvp,
                    cores=lambda xs: ((xs[-1],), (xs[-1], xs[-1])), numba=_eigh_nb,
                    backward_name="LinalgEighBackward",
                    domain=[Sample((3, 3), call=_sym_squared),
                            Sample((2, 3, 3), call=_sym_squared)])


def _uplo(x, UPLO):
    if UPLO not in ("L", "U"):
        raise ValueError(f"adjit.linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    if UPLO == "L":
        return x
    return conj(mT(x)) if is_complex(x) else mT(x)   # the upper triangle: the adjoint's lower


@_eigh.public
@implements(np.linalg.eigh)
def eigh(x, UPLO="L"):  # noqa: N803 (NumPy's name)
    """(w, V) of a symmetric x (..., n, n), eigenvalues ascending, as np.linalg.eigh (reads the
    lower triangle, or the upper with UPLO='U': then of wrapped values as the transpose's lower
    one, whose eigenvectors may differ from NumPy's in sign). See the module docstring for
    degenerate eigenvalues."""
    if not isinstance(x, Traced):
        return np.linalg.eigh(x, UPLO=UPLO)
    w, V = call_multi(_eigh, _uplo(x, UPLO))
    return (real(w), V) if is_complex(x) else (w, V)   # packed with V: complex


@composite
@implements(np.linalg.eigvalsh)
def eigvalsh(x, UPLO="L"):  # noqa: N803
    """The eigenvalues of a symmetric x, ascending (np.linalg.eigvalsh)."""
    if not isinstance(x, Traced):
        return np.linalg.eigvalsh(x, UPLO=UPLO)
    return eigh(x, UPLO)[0]


# ---------------------------------------------------------------------------------------------
# svd (reduced): u (..., m, k), s (..., k) descending, vh (..., k, n), k = min(m, n)

def div_by_s(G, s, used=None):
    """G / s along G's last axis. Where s is zero (at most DEGENERATE_RTOL times the largest)
    the vectors of a non-square matrix are not unique: NaN if they were used (VJP: `used` per
    vector; JVP: G != 0), else 0."""
    sc = cond_of(s)
    zero = sc <= DEGENERATE_RTOL * ad_max(sc, axis=-1, keepdims=True)
    q = G / as_row(where(zero, 1.0, s))
    coupled = cond_of(G) != 0 if used is None else as_row(cond_of(used)) != 0
    return where(as_row(zero), where(coupled, np.array(np.nan, dtype=dtype_name(q)), 0.0), q)


def _svd_vjp(gs, outs, x):
    # PyTorch's svd_backward (real case), with the gap and 1/s terms guarded as for eigh
    gU, gS, gVh = gs
    U, S, Vh = outs
    m, n = shape(x)[-2:]
    k = min(m, n)
    V, gV = mT(Vh), mT(gVh)
    UgU = matmul(mT(U), gU)
    VgV = matmul(mT(V), gV)
    num = (UgU - mT(UgU)) * as_row(S) + as_col(S) * (VgV - mT(VgV))
    used = used_vectors(gU, -2) + used_vectors(gVh, -1)
    inner = gap_product(S, num, used, square=True) + diag_embed(gS)
    if m > k:
        gUs = div_by_s(gU, S, used)
        gA = matmul(U, inner) + gUs - matmul(U, matmul(mT(U), gUs))
        return (matmul(gA, Vh),)
    if n > k:
        gVs = div_by_s(gV, S, used)
        gA = matmul(inner, Vh) + mT(gVs) - matmul(matmul(mT(gVs), V), Vh)
        return (matmul(U, gA),)
    return (matmul(U, matmul(inner, Vh)),)


def _svd_jvp(ts, outs, x):
    # JAX's svd_jvp_rule (real case)
    U, S, Vh = outs
    t = ts[0]
    m, n = shape(x)[-2:]
    V = mT(Vh)
    dS = matmul(mT(U), matmul(t, V))
    dSS = dS * as_row(S)
    SdS = as_col(S) * dS
    dU = matmul(U, gap_product(S, dSS + mT(dSS), square=True))
    dV = matmul(V, gap_product(S, SdS + mT(SdS), square=True))
    if m > n:
        tV = matmul(t, V)
        dU = dU + div_by_s(tV - matmul(U, matmul(mT(U), tV)), S)
    if n > m:
        tU = matmul(mT(t), U)
        dV = dV + div_by_s(tU - matmul(V, matmul(Vh, tU)), S)
    return dU, diag_part(dS), mT(dV)


def _svd_nb(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    m, k = u.shape
    n = vh.shape[1]
    out = np.empty(m * k + k + k * n, dtype=a.dtype)
    for i in range(m):
        for j in range(k):
            out[i * k + j] = u[i, j]
    for j in range(k):
        out[m * k + j] = s[j]
    for i in range(k):
        for j in range(n):
            out[m * k + k + i * n + j] = vh[i, j]
    return out


def _svd_cores(xs):
    m, n = xs[-2:]
    k = min(m, n)
    return (m, k), (k,), (k, n)


_svd = defop_multi("svd", lambda x: np.linalg.svd(x, full_matrices=False), _svd_vjp, _svd_jvp,
                   cores=_svd_cores, numba=_svd_nb, backward_name="LinalgSvdBackward",
                   domain=[Sample((4, 3), call=_squared), Sample((3, 4), call=_squared),
                           Sample((2, 3, 3), call=_squared)])


@_svd.public
@implements(np.linalg.svd)
def svd(x, full_matrices=True, compute_uv=True, hermitian=False):
    """(u, s, vh) as np.linalg.svd; s alone with compute_uv=False. Differentiable with
    full_matrices=False (or a square x): the extra columns of the full u or vh are not unique.
    hermitian=True is accepted for NumPy's signature (wrapped values use the general SVD: the
    same factors up to the signs of the singular vectors). See the module docstring for
    repeated (and zero) singular values."""
    if not isinstance(x, Traced):
        return np.linalg.svd(x, full_matrices=full_matrices, compute_uv=compute_uv,
                             hermitian=hermitian)
    if not compute_uv:
        return svdvals(x)
    m, n = shape(x)[-2:]
    if full_matrices and m != n:
        raise NotImplementedError(
            f"adjit.linalg.svd: full_matrices=True of a {m}x{n} matrix is not differentiable "
            "(the extra singular vectors are not unique); pass full_matrices=False")
    u, s, vh = call_multi(_svd, x)
    return (u, real(s), vh) if is_complex(x) else (u, s, vh)


@composite
@implements(*[f for f in (getattr(np.linalg, "svdvals", None),) if f])
def svdvals(x):
    """The singular values of x, descending (np.linalg.svd(x, compute_uv=False))."""
    if not isinstance(x, Traced):
        return np.linalg.svd(x, compute_uv=False)
    s = call_multi(_svd, x)[1]
    return real(s) if is_complex(x) else s


# ---------------------------------------------------------------------------------------------
# qr (reduced): q (..., m, k), r (..., k, n); derivatives for m >= n (r invertible)

def _qr_wide(m, n):
    return NotImplementedError(
        f"adjit.linalg.qr: derivatives of the QR decomposition of a wide {m}x{n} matrix "
        "(m < n) are not implemented; differentiate qr of its first m columns, or of its "
        "transpose")


def _qr_vjp(gs, outs, x):
    # A_bar = (G_Q + Q copyltu(M)) R^-T, M = R G_R^T - G_Q^T Q (Liao et al. 2019)
    gQ, gR = gs
    Q, R = outs
    m, n = shape(x)[-2:]
    if m < n:
        raise _qr_wide(m, n)
    M = matmul(R, mT(gR)) - matmul(mT(gQ), Q)
    B = gQ + matmul(Q, tril(M) + mT(tril(M, k=-1)))
    return (mT(solve(R, mT(B))),)


def _qr_jvp(ts, outs, x):
    # JAX's qr_jvp_rule
    Q, R = outs
    t = ts[0]
    m, n = shape(x)[-2:]
    if m < n:
        raise _qr_wide(m, n)
    t_rinv = mT(solve(mT(R), mT(t)))
    qt = matmul(mT(Q), t_rinv)
    low = tril(qt, k=-1)
    do = low - mT(low)
    return matmul(Q, do - qt) + t_rinv, matmul(qt - do, R)


def _qr_nb(a):
    q, r = np.linalg.qr(a)
    m, k = q.shape
    n = r.shape[1]
    out = np.empty(m * k + k * n, dtype=a.dtype)
    for i in range(m):
        for j in range(k):
            out[i * k + j] = q[i, j]
    for i in range(k):
        for j in range(n):
            out[m * k + i * n + j] = r[i, j]
    return out


def _qr_cores(xs):
    m, n = xs[-2:]
    k = min(m, n)
    return (m, k), (k, n)


_qr = defop_multi("qr", lambda x: np.linalg.qr(x, mode="reduced"), _qr_vjp, _qr_jvp,
                  cores=_qr_cores, numba=_qr_nb, backward_name="LinalgQrBackward",
                  domain=[Sample((4, 3)), Sample((2, 3, 3))])


@_qr.public
@implements(np.linalg.qr)
def qr(x, mode="reduced"):
    """(q, r) as np.linalg.qr(x, mode='reduced'); differentiable for m >= n."""
    if mode != "reduced":
        if not isinstance(x, Traced):
            return np.linalg.qr(x, mode=mode)
        raise NotImplementedError(f"adjit.linalg.qr: mode={mode!r} is not differentiable; "
                                  "use mode='reduced'")
    return call_multi(_qr, x)
