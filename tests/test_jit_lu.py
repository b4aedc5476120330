"""lu_factor / lu_solve under ad.jit: at a singular matrix the compiled derivatives give eager's
clear LinAlgError (never a numba traceback), whether the kernel was traced there or compiled
at a regular matrix first, on one thread or several; a float32 matrix with a float64 right
side compiles (numba's np.linalg.solve wants one dtype: before, "internal error compiling ...
TypingError" and an eager run)."""
import warnings

import numpy as np
import pytest

import adjit as ad
from adjit.jit import parloops
from adjit.scipy import linalg as sl

REGULAR = np.array([[1.0, 2.0, 0.5], [3.0, 4.0, 1.0], [0.25, 0.5, 2.0]])
SINGULAR = np.array([[1.0, 2.0, 0.5], [3.0, 4.0, 1.0], [4.0, 6.0, 1.5]])   # row 3 = 1 + 2
CLEAR = r"lu_factor: the LU factors of a singular matrix \(U has a zero pivot\) have no derivative"


def lu_loss(a):
    lu, piv = sl.lu_factor(a)
    return ad.sum(lu * lu)


def solve_loss(a):
    return ad.sum(sl.lu_solve(sl.lu_factor(a), np.ones(3)) ** 2)


TRANSFORMS = {"grad": ad.grad, "jacfwd": ad.jacfwd, "hessian": ad.hessian}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("t", TRANSFORMS)
@pytest.mark.parametrize("first", ["regular", "singular"])
def test_singular_matrix_gives_eagers_clear_error(t, first, dtype):
    f = TRANSFORMS[t](lu_loss)
    jitted = ad.jit(f)
    A, S = REGULAR.astype(dtype), SINGULAR.astype(dtype)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    with pytest.raises(np.linalg.LinAlgError, match=CLEAR):
        f(S)
    if first == "regular":
        np.testing.assert_allclose(jitted(A), f(A), **tol)
    with pytest.raises(np.linalg.LinAlgError, match=CLEAR) as err:
        jitted(S)
    assert "numba" not in str(err.value).lower()
    np.testing.assert_allclose(jitted(A), f(A), **tol)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_singular_matrix_in_a_batch_on_threads(threads):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(parloops.PAR_MIN + 3, 3, 3)) + 3 * np.eye(3)
    pe = ad.vmap(ad.grad(lu_loss))
    jitted = ad.jit(pe, threads=threads)
    np.testing.assert_allclose(jitted(X), pe(X), rtol=1e-12)
    X[5] = SINGULAR
    with pytest.raises(np.linalg.LinAlgError, match=CLEAR):
        jitted(X)


@pytest.mark.parametrize("f,batched", [
    (lambda a: ad.linalg.solve(a, np.ones(3)), False),
    (lambda a: ad.linalg.solve(a, np.ones((3, 2))), False),
    (lambda a: sl.lu_solve(sl.lu_factor(a), np.ones(3)), False),
    (ad.grad(solve_loss), False),
    (ad.vmap(ad.grad(solve_loss)), True),
], ids=["solve_vec", "solve_mat", "lu_solve", "grad_lu_solve", "vmap_grad_lu_solve"])
def test_float32_matrix_with_a_float64_right_side_compiles(f, batched):
    A = (REGULAR + np.eye(3)).astype(np.float32)
    if batched:
        A = np.stack([A, 2 * A])
    jitted = ad.jit(f, threads=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no "internal error compiling ... running eagerly"
        got = jitted(A)
    want = f(A)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert np.asarray(got).dtype == np.asarray(want).dtype
