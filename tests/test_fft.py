"""ad.fft (issue 13): every transform with n / s, axis / axes and each norm, checked as the op-info
sweep checks a row: value against NumPy (plain arrays, Tensors, duals, np.fft.* on them),
reverse and forward derivatives against central differences of real and imaginary parts,
second order, and jax.vjp / jax.jvp where JAX is installed."""
import os
import warnings

import numpy as np
import pytest

import adjit as ad
from adjit.testing.complexcheck import complex_gradcheck

R = np.random.default_rng(7)


def _real(*shape):
    return R.normal(size=shape)


def _cx(*shape):
    return R.normal(size=shape) + 1j * R.normal(size=shape)


# (name, input, kwargs)
CASES = []
for _norm in (None, "ortho", "forward"):
    CASES += [
        ("fft", _real(5), dict(norm=_norm)),
        ("fft", _cx(3, 4), dict(axis=0, norm=_norm)),
        ("ifft", _cx(4), dict(n=6, norm=_norm)),
        ("rfft", _real(5), dict(norm=_norm)),
        ("rfft", _real(4, 3), dict(axis=0, n=6, norm=_norm)),
        ("irfft", _cx(3), dict(norm=_norm)),
        ("irfft", _cx(4), dict(n=7, norm=_norm)),
        ("fft2", _cx(3, 4), dict(s=(4, 3), norm=_norm)),
        ("ifft2", _real(2, 3, 4), dict(norm=_norm)),
        ("rfft2", _real(3, 4), dict(norm=_norm)),
        ("irfft2", _cx(3, 3), dict(s=(3, 5), norm=_norm)),
        ("fftn", _cx(2, 3, 4), dict(axes=(0, 2), norm=_norm)),
        ("ifftn", _cx(2, 3), dict(s=(3, 2), axes=(0, 1), norm=_norm)),
        ("rfftn", _real(2, 3, 4), dict(axes=(2, 0), norm=_norm)),
        ("irfftn", _cx(2, 3, 3), dict(norm=_norm)),
    ]
CASES += [
    ("fft", _cx(4), dict(n=3)), ("rfft", _real(6), dict(n=4)), ("irfft", _cx(5), dict(n=4)),
    ("irfft", _cx(4, 3), dict(axis=0, n=5)),
    ("fftshift", _cx(5), {}), ("fftshift", _real(3, 4), dict(axes=0)),
    ("ifftshift", _cx(4, 5), {}), ("ifftshift", _real(3, 4), dict(axes=(1,))),
]


def _id(c):
    return f"{c[0]}-{c[1].dtype.kind}{c[1].shape}-" + "-".join(f"{k}={v}" for k, v in
                                                                 c[2].items())


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_value(case):
    name, x, kw = case
    want = getattr(np.fft, name)(x, **kw)
    np.testing.assert_allclose(getattr(ad.fft, name)(x, **kw), want, rtol=1e-12, atol=1e-12)
    t = getattr(np.fft, name)(ad.tensor(x, requires_grad=True), **kw)   # NumPy's spelling
    assert isinstance(t, ad.Tensor)
    np.testing.assert_allclose(t.detach().numpy(), want, rtol=1e-12, atol=1e-12)
    d = getattr(np.fft, name)(ad.dual(x, np.ones_like(x)), **kw)
    np.testing.assert_allclose(d.primal, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_first_order(case):
    name, x, kw = case
    f = getattr(ad.fft, name)
    assert complex_gradcheck(lambda v: f(v, **kw), (x,))


def _weights(y):
    w = np.cos(1.3 * np.arange(y.size) + 0.4).reshape(y.shape)
    return w * (0.6 - 0.8j) + 0.3j if np.iscomplexobj(y) else w


@pytest.mark.parametrize("case", CASES[:15] + CASES[-8:], ids=[_id(c) for c in
                                                                CASES[:15] + CASES[-8:]])
def test_second_order(case):
    name, x, kw = case
    f = getattr(ad.fft, name)
    w = _weights(np.asarray(f(x, **kw)))
    g = ad.grad(lambda v: ad.sum(ad.abs(ad.real(f(v, **kw) * w)) ** 2 * 0.5 +
                                  ad.real(f(v, **kw) * w) ** 3))
    assert complex_gradcheck(g, (x,), eps=1e-5, atol=1e-4)


def test_jacobians_of_real_to_complex():
    x = _real(4)
    J = ad.jacfwd(ad.fft.fft)(x)
    np.testing.assert_allclose(J, np.fft.fft(np.eye(4), axis=0))
    Jr = ad.jacrev(lambda v: ad.real(ad.fft.rfft(v)))(x)
    np.testing.assert_allclose(Jr, np.real(np.fft.rfft(np.eye(4), axis=0)), atol=1e-12)


def test_errors():
    with pytest.raises(TypeError, match="must be real"):
        ad.fft.rfft(_cx(4))
    with pytest.raises(ValueError, match="invalid norm"):
        ad.fft.fft(_real(4), norm="bogus")
    with pytest.raises(ValueError, match="invalid number of FFT data points"):
        ad.fft.fft(_real(4), n=0)


def _jit_cases():
    """Each transform under ad.jit: every fifth case in CI (each compiles a kernel), all of
    them in the thorough profile."""
    thorough = os.environ.get("ADJIT_HYPOTHESIS_PROFILE") == "thorough"
    return CASES if thorough else CASES[::5]


@pytest.mark.parametrize("case", _jit_cases(), ids=[_id(c) for c in _jit_cases()])
def test_under_jit_compiles_and_matches_eager(case):
    """ad.jit compiles the FFT (NumPy's, called from the kernel: jit/fftlower.py) with the
    function and its gradient: no fallback, values equal to eager."""
    name, x, kw = case
    f = getattr(ad.fft, name)
    w = _weights(np.asarray(f(x, **kw)))

    def both(v):
        y = f(ad.sin(v) if np.iscomplexobj(x) else v * 0.5, **kw)
        return y, ad.grad(lambda u: ad.sum(ad.real(f(u, **kw) * w) ** 2))(v)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)   # a fallback to eager fails the test
        got = ad.jit(both)(x)
    want = both(x)
    for g, e in zip(got, want):
        assert np.asarray(g).dtype == np.asarray(e).dtype
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


# -- against JAX -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def jax_np():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    with jax.disable_jit():   # op by op: each primitive compiles once per shape, then reused
        yield jax, jnp


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_vjp_and_jvp_match_jax(case, jax_np):
    jax, jnp = jax_np
    name, x, kw = case
    f, jf = getattr(ad.fft, name), getattr(jnp.fft, name)
    y, pull = ad.vjp(lambda v: f(v, **kw), x)
    jy, jpull = jax.vjp(lambda v: jf(v, **kw), x)
    np.testing.assert_allclose(y, np.asarray(jy), rtol=1e-10, atol=1e-12)
    g = _cx(*np.shape(y)) if np.iscomplexobj(y) else _real(*np.shape(y))
    np.testing.assert_allclose(pull(g)[0], np.asarray(jpull(g)[0]), rtol=1e-10, atol=1e-12)
    t = _cx(*x.shape) if np.iscomplexobj(x) else _real(*x.shape)
    _, tan = ad.jvp(lambda v: f(v, **kw), (x,), (t,))
    _, jtan = jax.jvp(lambda v: jf(v, **kw), (x,), (t,))
    np.testing.assert_allclose(tan, np.asarray(jtan), rtol=1e-10, atol=1e-12)


def test_no_complex_warning_anywhere():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ad.grad(lambda x: ad.sum(ad.fft.irfft(ad.fft.rfft(x) * (1 + 1j)) ** 2))(_real(6))
