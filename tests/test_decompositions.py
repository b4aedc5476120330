"""Multi-output ops (ops/multi.py, ops/decompositions.py): slogdet, eigh, eigvalsh, svd, svdvals,
qr. Values against NumPy; reverse and forward derivatives against central differences for each
output used alone, together, and ignored; second order (forward-over-reverse and
reverse-over-reverse); ad.jit against eager; batched inputs; degenerate spectra."""
import warnings

import numpy as np
import pytest

import adjit as ad
from adjit.testing.gradcheck import gradcheck

rng = np.random.default_rng(20261128)


def val(v):
    """The value of an output, without going through np.asarray (which may refuse a graph
    tensor)."""
    return v.detach().numpy() if isinstance(v, ad.Tensor) else np.asarray(v)


def sym(t):
    return 0.5 * (t + t.mT)


def wellcond(shape):
    return rng.uniform(-1, 1, size=shape) + 3 * np.eye(shape[-1])


def weights(shape):
    return rng.uniform(0.5, 1.5, size=shape)


def slogdet_l(t):
    return ad.slogdet(t)[1]


# per op: (public function, a function of its outputs that uses them all, its sign-invariant
# variant for comparing ad.jit with eager (LAPACK builds may pick other signs of vectors))
def eigh_all(t):
    w, V = ad.linalg.eigh(sym(t))
    return ad.sum(w ** 3) + ad.sum(V ** 2 * np.arange(1.0, 1.0 + V.shape[-1]))


def svd_all(t):
    u, s, vh = ad.linalg.svd(t, full_matrices=False)
    return ad.sum(s ** 2) + ad.sum(u ** 2 * np.arange(1.0, 1.0 + u.shape[-1])) \
        + ad.sum(vh ** 2 * np.arange(1.0, 1.0 + vh.shape[-2])[:, None])


def qr_all(t):
    q, r = ad.linalg.qr(t)
    return ad.sum(q * np.arange(1.0, 1.0 + q.shape[-1])) + ad.sum(r ** 2)


def slogdet_all(t):
    s, l = ad.slogdet(t)
    return ad.sum(s * l)


# ---------------------------------------------------------------------------------------------
# values

@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1)], ids=str)
def test_values_match_numpy(shape):
    a = wellcond(shape)
    s = sym(a)
    for x in (a, ad.tensor(a, requires_grad=True)):
        sign, l = ad.slogdet(x)
        ref = np.linalg.slogdet(a)
        np.testing.assert_array_equal(val(sign), ref[0])
        np.testing.assert_allclose(val(l), ref[1], rtol=1e-12)
    for x in (s, ad.tensor(s, requires_grad=True)):
        w, V = ad.linalg.eigh(x)
        rw, rV = np.linalg.eigh(s)
        np.testing.assert_allclose(val(w), rw, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(val(V), rV, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(val(ad.linalg.eigvalsh(x)), np.linalg.eigvalsh(s),
                                   rtol=1e-12)
    for m in (shape, shape[:-2] + (shape[-1] + 2, shape[-1]), shape[:-1] + (shape[-1] + 2,)):
        b = rng.normal(size=m)
        for x in (b, ad.tensor(b, requires_grad=True)):
            u, sv, vh = ad.linalg.svd(x, full_matrices=False)
            ru, rs, rvh = np.linalg.svd(b, full_matrices=False)
            for got, want in ((u, ru), (sv, rs), (vh, rvh)):
                np.testing.assert_allclose(val(got), want, rtol=1e-12, atol=1e-13)
            np.testing.assert_allclose(val(ad.linalg.svdvals(x)), rs, rtol=1e-12)
            np.testing.assert_allclose(val(ad.linalg.svd(x, compute_uv=False)), rs,
                                       rtol=1e-12)
            q, r = ad.linalg.qr(x)
            rq, rr = np.linalg.qr(b)
            np.testing.assert_allclose(val(q), rq, rtol=1e-12, atol=1e-13)
            np.testing.assert_allclose(val(r), rr, rtol=1e-12, atol=1e-13)


def test_upper_triangle_float32_and_empty_batches():
    a = rng.normal(size=(3, 3))
    for uplo in ("L", "U"):
        w, V = ad.linalg.eigh(ad.tensor(a, requires_grad=True), UPLO=uplo)
        rw, rV = np.linalg.eigh(a, UPLO=uplo)
        np.testing.assert_allclose(val(w), rw, rtol=1e-12)
        # UPLO='U' decomposes the transpose's lower triangle: the same vectors up to sign
        np.testing.assert_allclose(np.abs(val(V)), np.abs(rV), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(val(ad.linalg.eigvalsh(ad.tensor(a), UPLO=uplo)), rw,
                                   rtol=1e-12)
    b = sym(a).astype(np.float32)
    for f in (lambda t: ad.linalg.eigh(t)[0], lambda t: ad.linalg.svd(t, full_matrices=False)[1],
              lambda t: ad.linalg.qr(t)[1]):
        assert f(ad.tensor(b)).dtype == np.float32
    f = lambda t: ad.linalg.eigh(t)[0]  # noqa: E731
    np.testing.assert_allclose(compiled(f, b), val(f(ad.tensor(b))), rtol=1e-5, atol=1e-6)
    z = np.zeros((0, 3, 3))
    assert ad.linalg.eigh(ad.tensor(z))[1].shape == (0, 3, 3)
    assert compiled(lambda t: ad.linalg.eigh(t)[1], z).shape == (0, 3, 3)
    assert ad.grad(lambda t: ad.sum(ad.linalg.eigh(t)[0]))(z).shape == (0, 3, 3)
    assert ad.slogdet(ad.tensor(z))[1].shape == (0,)


def test_names_and_method():
    assert ad.linalg.slogdet is ad.slogdet
    assert ad.linalg.eigh is ad.eigh and ad.linalg.eigvalsh is ad.eigvalsh
    a = wellcond((3, 3))
    t = ad.tensor(a, requires_grad=True)
    sign, l = t.slogdet()
    assert isinstance(l, ad.Tensor) and l.requires_grad
    np.testing.assert_allclose(l.item(), np.linalg.slogdet(a)[1], rtol=1e-12)
    l.backward()
    np.testing.assert_allclose(t.grad.numpy(), np.linalg.inv(a).T, rtol=1e-10)
    np.testing.assert_allclose(ad.logdet(sym(a) + 3 * np.eye(3)),
                               np.linalg.slogdet(sym(a) + 3 * np.eye(3))[1], rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# first derivatives (reverse and forward) of each output alone, together, others ignored

def eigh_cases():
    return {
        "w": lambda t: ad.linalg.eigh(sym(t))[0],
        "V": lambda t: ad.linalg.eigh(sym(t))[1] ** 2,   # squares: independent of V's signs
        "both": lambda t: ad.linalg.eigh(sym(t))[0][..., :, None] * ad.linalg.eigh(sym(t))[1]
        * ad.linalg.eigh(sym(t))[1][..., :1, :],
        "eigvalsh": lambda t: ad.linalg.eigvalsh(sym(t)),
    }


def svd_cases():
    f = lambda t: ad.linalg.svd(t, full_matrices=False)  # noqa: E731
    return {
        "u": lambda t: f(t)[0] * f(t)[0][..., :1, :],
        "s": lambda t: f(t)[1],
        "vh": lambda t: f(t)[2] * f(t)[2][..., :, :1],
        "all": lambda t: (f(t)[0] * f(t)[1][..., None, :]) @ f(t)[2],
        "svdvals": lambda t: ad.linalg.svdvals(t),
    }


def qr_cases():
    return {
        "q": lambda t: ad.linalg.qr(t)[0],
        "r": lambda t: ad.linalg.qr(t)[1],
        "both": lambda t: ad.linalg.qr(t)[0][..., :2, :] * ad.linalg.qr(t)[1][..., :2, :],
    }


@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3)], ids=str)
def test_slogdet_derivatives(shape):
    a = wellcond(shape)
    a[..., [0, 1], :] = a[..., [1, 0], :]  # a negative determinant
    gradcheck(slogdet_l, [a])
    gradcheck(lambda t: ad.slogdet(t)[0] * ad.slogdet(t)[1], [a])
    gradcheck(lambda t: ad.linalg.slogdet(t)[1] * ad.det(t), [a])


@pytest.mark.parametrize("case", list(eigh_cases()))
@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3)], ids=str)
def test_eigh_derivatives(case, shape):
    gradcheck(eigh_cases()[case], [rng.normal(size=shape)])


@pytest.mark.parametrize("case", list(svd_cases()))
@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (3, 4), (2, 4, 3)], ids=str)
def test_svd_derivatives(case, shape):
    gradcheck(svd_cases()[case], [rng.normal(size=shape)])


@pytest.mark.parametrize("case", list(qr_cases()))
@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (2, 5, 3)], ids=str)
def test_qr_derivatives(case, shape):
    gradcheck(qr_cases()[case], [rng.normal(size=shape)])


def test_only_the_sign_of_slogdet():
    # the sign is piecewise constant: derivative 0, and no inverse is needed (singular is fine)
    for a in (wellcond((3, 3)), np.ones((3, 3))):
        g = ad.grad(lambda t: ad.slogdet(t)[0] * ad.sum(t))(a)
        np.testing.assert_allclose(g, np.linalg.slogdet(a)[0] * np.ones((3, 3)))
        t = ad.tensor(a, requires_grad=True)
        (ad.slogdet(t)[0] * t.sum()).backward()
        np.testing.assert_allclose(t.grad.numpy(), g)
        np.testing.assert_allclose(
            ad.jacfwd(lambda t: ad.slogdet(t)[0] * ad.sum(t))(a), g)


# ---------------------------------------------------------------------------------------------
# second order: gradcheck of ad.grad passes duals (forward-over-reverse) and tensors
# (reverse-over-reverse) through the first derivative

@pytest.mark.parametrize("f,x", [
    (lambda t: slogdet_all(t), wellcond((3, 3))),
    (lambda t: eigh_all(t), rng.normal(size=(3, 3))),
    (lambda t: ad.sum(ad.linalg.eigvalsh(sym(t)) ** 3), rng.normal(size=(2, 3, 3))),
    (lambda t: svd_all(t), rng.normal(size=(3, 3))),
    (lambda t: svd_all(t), rng.normal(size=(4, 3))),
    (lambda t: ad.sum(ad.linalg.svdvals(t) ** 3), rng.normal(size=(3, 4))),
    (lambda t: qr_all(t), rng.normal(size=(4, 3))),
], ids=["slogdet", "eigh", "eigvalsh", "svd", "svd-tall", "svdvals-wide", "qr"])
def test_second_order(f, x):
    gradcheck(ad.grad(f), [x])
    h = ad.hessian(f)(x)
    n = x.size
    np.testing.assert_allclose(h.reshape(n, n), h.reshape(n, n).T, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------------------------
# ad.jit: compiled (no fallback) and equal to eager, in every mode

def compiled(f, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)   # a fallback to eager warns
        return ad.jit(f)(*args)


# numba compiles each distinct program once (seconds each on a fresh machine): every op's
# gradient, values and forward mode where the rules differ most, one batched program
@pytest.mark.parametrize("f,x,modes", [
    (slogdet_all, wellcond((3, 3)), "vgf"),
    (eigh_all, rng.normal(size=(3, 3)), "vgf"),
    (eigh_all, rng.normal(size=(2, 3, 3)), "g"),
    (svd_all, rng.normal(size=(4, 3)), "g"),
    (qr_all, rng.normal(size=(4, 3)), "g"),
], ids=["slogdet", "eigh", "eigh-batch", "svd", "qr"])
def test_jit_matches_eager(f, x, modes):
    if "v" in modes:
        np.testing.assert_allclose(compiled(f, x), f(x), rtol=1e-10)
    if "g" in modes:
        np.testing.assert_allclose(compiled(ad.grad(f), x), ad.grad(f)(x), rtol=1e-9,
                                   atol=1e-12)
    if "f" in modes:
        np.testing.assert_allclose(compiled(ad.jacfwd(f), x), ad.jacfwd(f)(x), rtol=1e-9,
                                   atol=1e-12)


def test_jit_second_order_matches_eager():
    x = rng.normal(size=(3, 3))
    np.testing.assert_allclose(compiled(ad.hessian(eigh_all), x), ad.hessian(eigh_all)(x),
                               rtol=1e-8, atol=1e-10)


def test_jit_outputs_are_tuples_and_unused_outputs():
    a = sym(rng.normal(size=(3, 3)))
    w, V = compiled(lambda t: ad.linalg.eigh(t), a)
    rw, rV = np.linalg.eigh(a)
    np.testing.assert_allclose(w, rw, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.abs(V), np.abs(rV), rtol=1e-10, atol=1e-12)
    g = compiled(ad.grad(lambda t: ad.sum(ad.linalg.eigvalsh(sym(t)) ** 2)), a)
    np.testing.assert_allclose(g, 2 * a, rtol=1e-10)


# ---------------------------------------------------------------------------------------------
# degenerate spectra: functions of the eigenvalues differentiate correctly; derivatives that
# depend on the choice of basis of a repeated eigenvalue's space are NaN, never finite and wrong

def degenerate(vals):
    Q = np.linalg.qr(rng.normal(size=(len(vals), len(vals))))[0]
    return (Q * np.asarray(vals, dtype=float)) @ Q.T


@pytest.mark.parametrize("a", [np.eye(3), np.diag([1.0, 1.0, 2.0]), degenerate([1, 1, 2]),
                               degenerate([-1, 2, 2, 2])],
                         ids=["eye", "diag", "rotated", "rotated-4"])
def test_eigenvalue_functions_at_degenerate_eigenvalues(a):
    def f(t):
        return ad.sum(ad.linalg.eigh(sym(t))[0] ** 2)   # = |A|_F^2: gradient 2A

    def g(t):
        return ad.sum(ad.linalg.eigvalsh(sym(t)))        # = trace A

    # (compiled once per function: the 4x4 case would compile its own kernels)
    jit_grad = [lambda h: ad.jit(ad.grad(h))] if len(a) == 3 else []
    for grad in [ad.grad, ad.jacfwd] + jit_grad:
        np.testing.assert_allclose(grad(f)(a), 2 * a, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(grad(g)(a), np.eye(len(a)), rtol=1e-10, atol=1e-12)
    gradcheck(f, [a])
    gradcheck(g, [a])


@pytest.mark.parametrize("a", [np.diag([1.0, 1.0, 2.0]), degenerate([1, 1, 2])],
                         ids=["diag", "rotated"])
def test_eigenvectors_at_degenerate_eigenvalues_are_nan_not_wrong(a):
    # at bit-equal eigenvalues the spectral function's coupling terms cancel exactly: a rule
    # that tested the coupling instead of the use of the vectors gave a finite wrong gradient
    w8 = weights((3, 3))

    def f(t):
        return ad.sum(ad.linalg.eigh(sym(t))[1] ** 2 * w8)

    def spectral(t):   # V diag(w^2) V^T: smooth, but not from the decomposition at degeneracy
        w, V = ad.linalg.eigh(sym(t))
        return ad.sum((V * w ** 2) @ V.mT)

    for h in (f, spectral):
        for d in (ad.grad(h)(a), ad.jacfwd(h)(a)):
            assert np.isnan(d).any()
    assert np.isnan(ad.jit(ad.grad(spectral))(a)).any()
    # the same spectral function away from degeneracy is exact
    gradcheck(spectral, [degenerate([1, 1.5, 2])])


def test_svd_repeated_and_zero_singular_values():
    q1 = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    q2 = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    for s in ([2.0, 2.0, 1.0], [3.0, 1.0, 0.0]):
        a = q1[:, :3] @ np.diag(s) @ q2
        # |A|_F^2 = sum s^2: gradient 2A
        np.testing.assert_allclose(ad.grad(lambda t: ad.sum(ad.linalg.svdvals(t) ** 2))(a),
                                   2 * a, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(
            ad.jacfwd(lambda t: ad.sum(ad.linalg.svdvals(t) ** 2))(a), 2 * a, rtol=1e-10,
            atol=1e-12)
        assert np.isnan(ad.grad(lambda t: ad.sum(ad.linalg.svd(t, full_matrices=False)[0]
                                                 * weights((4, 3))))(a)).any()


# ---------------------------------------------------------------------------------------------
# what is not differentiable says so

def test_clear_errors():
    t = ad.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        ad.linalg.svd(t)
    with pytest.raises(NotImplementedError, match="mode='reduced'"):
        ad.linalg.qr(t, mode="complete")
    w = ad.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    q, r = ad.linalg.qr(w)
    np.testing.assert_allclose(val(q) @ val(r), val(w), atol=1e-12)
    with pytest.raises(NotImplementedError, match="wide 3x4"):
        ad.sum(r).backward()
    with pytest.raises(NotImplementedError, match="wide 3x4"):
        ad.jacfwd(lambda x: ad.linalg.qr(x)[1])(w.detach().numpy())
    # plain arrays: NumPy's own results, every mode NumPy has
    a = rng.normal(size=(4, 3))
    assert ad.linalg.svd(a)[0].shape == (4, 4)
    assert ad.linalg.qr(a, mode="complete")[0].shape == (4, 4)
