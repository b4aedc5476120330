"""Edge values (issue 7): derivatives at kinks, singularities and ties, pinned to the values
PyTorch gives for the same code (from its documented behaviour / derivative formulas), in
reverse mode (Tensor.backward and ad.grad) and forward mode (ad.jvp / jacfwd). Where adjit
deliberately differs from PyTorch (where() with NaN in the unselected branch, ties in
max/min along an axis, the exponent's gradient at a negative base) the test says so.
the README's "Edge values" section is the user-facing table of the same facts.
"""
import warnings

import numpy as np
import pytest

import adjit as ad

inf, nan = np.inf, np.nan


@pytest.fixture(autouse=True)
def _quiet():
    # log(0), 1/0 ... warn in NumPy; the values are what is under test here
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def backward_grad(f, x):
    """PyTorch-style: x.grad after f(x).sum().backward()."""
    t = ad.tensor(np.asarray(x, dtype=float), requires_grad=True)
    y = f(t)
    (y if y.size == 1 else y.sum()).backward()
    return y.numpy() if not y.requires_grad else y.detach().numpy(), t.grad.numpy()


def fwd(f, x, t=None):
    x = np.asarray(x, dtype=float)
    return ad.jvp(f, (x,), (np.ones_like(x) if t is None else np.asarray(t, dtype=float),))


def same(a, b):
    """Equal up to rounding; inf and NaN must sit in the same places. Tuples elementwise."""
    if isinstance(b, tuple):
        assert isinstance(a, tuple) and len(a) == len(b), (a, b)
        for u, v in zip(a, b):
            same(u, v)
        return
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=1e-12, atol=1e-15)


# --- kinks ------------------------------------------------------------------------------------

@pytest.mark.parametrize("f", [ad.abs, ad.relu, ad.sign], ids=["abs", "relu", "sign"])
def test_kinks_at_zero_have_gradient_zero(f):
    # PyTorch: abs'(0) = sign(0) = 0, relu'(0) = 0 (threshold_backward), sign' = 0
    y, g = backward_grad(f, 0.0)
    same(y, 0.0)
    same(g, 0.0)
    same(ad.grad(f)(0.0), 0.0)
    same(fwd(f, 0.0)[1], 0.0)
    # both one-sided slopes are not what we return: the choice is the subgradient 0
    same(backward_grad(f, [-1.0, 0.0, 2.0])[1], {"abs": [-1, 0, 1], "relu": [0, 0, 1],
                                                 "sign": [0, 0, 0]}[f.name])


def test_second_derivative_at_kinks_is_zero():
    same(ad.hessian(lambda x: ad.sum(ad.abs(x)))(np.zeros(2)), np.zeros((2, 2)))
    same(ad.hessian(lambda x: ad.sum(ad.relu(x)))(np.zeros(2)), np.zeros((2, 2)))


def test_clip_passes_the_gradient_at_its_bounds():
    # PyTorch clamp: gradient 1 where min <= x <= max (bounds included), 0 outside
    same(backward_grad(lambda x: ad.clip(x, -1.0, 1.0), [-2.0, -1.0, 0.0, 1.0, 2.0])[1],
         [0, 1, 1, 1, 0])


# --- singular derivatives ----------------------------------------------------------------------

def test_sqrt_at_zero_has_infinite_gradient():
    y, g = backward_grad(ad.sqrt, 0.0)
    same(y, 0.0)
    same(g, inf)                       # PyTorch: inf
    same(fwd(ad.sqrt, 0.0), (0.0, inf))
    # a zero tangent gives a zero tangent out (not 0 * inf = NaN): the Jacobian of sqrt on
    # [0, 1] by forward mode has exact zeros off the diagonal
    same(ad.jacfwd(ad.sqrt)(np.array([0.0, 1.0])), [[inf, 0.0], [0.0, 0.5]])
    same(ad.jacrev(ad.sqrt)(np.array([0.0, 1.0])), [[inf, 0.0], [0.0, 0.5]])


def test_log_at_zero_and_below():
    y, g = backward_grad(ad.log, [0.0, -1.0])
    same(y, [-inf, nan])               # log(0) = -inf, log(-1) = NaN (as NumPy and PyTorch)
    same(g, [inf, -1.0])               # PyTorch: grad / x
    same(fwd(ad.log, 0.0), (-inf, inf))


def test_norm_at_the_zero_vector_has_gradient_zero():
    y, g = backward_grad(ad.norm, np.zeros(3))
    same(y, 0.0)
    same(g, np.zeros(3))               # PyTorch: the subgradient 0 (masked), not NaN
    same(fwd(ad.norm, np.zeros(3)), (0.0, 0.0))
    # along an axis: only the zero row is special
    _, g = backward_grad(lambda x: ad.norm(x, axis=1), [[0.0, 0.0], [3.0, 4.0]])
    same(g, [[0, 0], [0.6, 0.8]])
    same(ad.hessian(ad.norm)(np.zeros(2)), np.zeros((2, 2)))


@pytest.mark.parametrize("p", [3, 0.5, 4.5])
def test_p_norm_at_the_zero_vector_has_gradient_zero(p):
    # issue 16 item 5: was NaN (0 * inf from the outer power)
    y, g = backward_grad(lambda x: ad.norm(x, p), np.zeros(3))
    same(y, 0.0)
    same(g, np.zeros(3))
    same(fwd(lambda x: ad.norm(x, p), np.zeros(3)), (0.0, 0.0))


def test_inf_norms_and_the_zero_norm():
    _, g = backward_grad(lambda x: ad.norm(x, -np.inf), [1.0, -3.0])
    same(g, [1.0, 0.0])                # was [0, -0]
    _, g = backward_grad(lambda x: ad.norm(x, np.inf), [1.0, -3.0])
    same(g, [0.0, -1.0])
    y, g = backward_grad(lambda x: ad.norm(x, 0), [0.0, 2.0, -1.0])
    same(y, 2.0)                       # was ZeroDivisionError
    same(g, np.zeros(3))


def test_std_of_constant_data_has_gradient_zero():
    # PyTorch std_backward masks std == 0 to a zero gradient
    same(ad.grad(ad.std)(np.full(3, 2.0)), np.zeros(3))
    same(ad.grad(lambda x: ad.sum(ad.std(x, axis=0)))(np.array([[1.0, 2.0], [1.0, 4.0]])),
         [[0.0, -0.5], [0.0, 0.5]])


def test_prod_with_zeros():
    same(ad.grad(ad.prod)(np.array([0.0, 2.0, 3.0])), [6, 0, 0])   # PyTorch: exact, no NaN
    same(ad.grad(ad.prod)(np.array([0.0, 2.0, 0.0])), [0, 0, 0])


# det at singular matrices: the gradient is the cofactor matrix (the adjugate transposed), as
# PyTorch's; 3x3 references: cofactors are 2x2 minors, the Hessian is linear in A
_LEVI = np.zeros((3, 3, 3))
for _p, _s in (((0, 1, 2), 1), ((1, 2, 0), 1), ((2, 0, 1), 1), ((0, 2, 1), -1), ((2, 1, 0), -1),
               ((1, 0, 2), -1)):
    _LEVI[_p] = _s


def cofactors(A):
    return np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(A, i, 0), j, 1))
                      for j in range(3)] for i in range(3)])


def det_hessian(A):
    """d2 det / dA_ij dA_kl = eps_ikm eps_jln A_mn (3x3)."""
    return np.einsum("ikm,jln,mn->ijkl", _LEVI, _LEVI, A)


def near(a, b):
    """Equal up to the SVD's rounding (1e-15 relative to the entries' size)."""
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-13)


RANK2 = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])   # LU: an exact zero pivot
RANK1 = np.outer([1.0, -2.0, 0.5], [3.0, 1.0, -1.0])


def test_det_at_a_singular_matrix_has_the_cofactor_matrix_as_gradient():
    S = np.array([[1.0, 2.0], [2.0, 4.0]])          # PyTorch: [[4, -2], [-2, 1]], no error
    same(backward_grad(ad.det, S), (0.0, [[4.0, -2.0], [-2.0, 1.0]]))
    same(ad.grad(ad.det)(S), [[4.0, -2.0], [-2.0, 1.0]])
    same(ad.jvp(ad.det, (S,), (np.eye(2),))[1], 5.0)            # trace of the adjugate
    for A in (RANK2, RANK1):
        near(ad.grad(ad.det)(A), cofactors(A))
        near(ad.jacfwd(ad.det)(A), cofactors(A))
        assert ad.gradcheck(ad.det, [A])                        # against finite differences
    # a batch mixing a singular and a regular matrix
    B = np.stack([RANK2, RANK2 + np.eye(3)])
    near(ad.grad(lambda x: ad.sum(ad.det(x)))(B), [cofactors(RANK2), cofactors(B[1])])


def test_det_hessian_at_singular_and_near_singular_matrices():
    for A in (RANK2, RANK1, np.zeros((3, 3))):
        near(ad.hessian(ad.det)(A), det_hessian(A))                    # forward-over-reverse
        near(ad.jacrev(ad.grad(ad.det))(A), det_hessian(A))            # reverse-over-reverse
        t = ad.tensor(A, requires_grad=True)
        (g,) = ad.autograd.grad(ad.det(t), t, create_graph=True)
        (h,) = ad.autograd.grad(g[0, 1], t)
        near(h.numpy(), det_hessian(A)[0, 1])
    # 1e-12 away from rank 2 (1-norm condition ~1e13): differentiating det * inv(A)^T would
    # cancel catastrophically (errors ~1e-4 here); the SVD's Hessian is exact to rounding
    A = RANK2 + 1e-12 * np.array([[0.3, -0.1, 0.2], [0.5, 0.1, -0.4], [0.2, 0.7, 0.1]])
    near(ad.hessian(ad.det)(A), det_hessian(A))
    near(ad.grad(ad.det)(A), cofactors(A))


def test_det_third_derivative_at_a_singular_matrix_is_not_available():
    with pytest.raises(NotImplementedError, match="third and higher derivatives"):
        ad.jacfwd(ad.hessian(ad.det))(RANK2)
    # at a regular matrix it is (d3 det is constant for 3x3: the Levi-Civita symbols)
    H3 = ad.jacfwd(ad.hessian(ad.det))(0.1 * RANK2 + np.eye(3))
    near(H3, np.einsum("ikm,jln->ijklmn", _LEVI, _LEVI))


# --- powers ------------------------------------------------------------------------------------

def test_integer_powers_of_negative_bases():
    same(backward_grad(lambda x: x ** 3, -2.0), (-8.0, 12.0))      # 3 x^2
    same(backward_grad(lambda x: x ** 2, -3.0), (9.0, -6.0))       # 2 x
    same(backward_grad(lambda x: ad.pow(x, 2.0), -3.0), (9.0, -6.0))
    same(ad.grad(lambda x: x ** -1)(-2.0), -0.25)
    same(fwd(lambda x: x ** 3, -2.0), (-8.0, 12.0))
    same(ad.hessian(lambda x: x ** 3)(-2.0), -12.0)


def test_powers_at_zero():
    same(ad.value_and_grad(lambda x: x ** 0.0)(0.0), (1.0, 0.0))   # PyTorch: 0, not 0*inf
    same(ad.value_and_grad(lambda x: x ** 1.0)(0.0), (0.0, 1.0))
    same(ad.value_and_grad(lambda x: x ** 2.0)(0.0), (0.0, 0.0))
    same(ad.value_and_grad(lambda x: x ** 0.5)(0.0), (0.0, inf))
    same(ad.value_and_grad(lambda x: x ** -1.0)(0.0), (inf, -inf))
    # the same through the fused numba kernel (large arrays)
    big = np.zeros(5000)
    same(ad.grad(lambda x: ad.sum(x ** 0.0))(big), np.zeros(5000))


def test_gradient_of_the_exponent():
    # d/db a**b = a**b log a; at a == 0 it is 0 (PyTorch masks a == 0, b >= 0 too)
    same(ad.grad(lambda b: 0.0 ** b)(3.0), 0.0)
    same(ad.grad(lambda b: 2.0 ** b)(3.0), 8.0 * np.log(2.0))
    # at a negative base log a is undefined: adjit gives 0 (PyTorch gives NaN)
    same(ad.grad(lambda b: (-2.0) ** b)(3.0), 0.0)


# --- ties ------------------------------------------------------------------------------------

def test_max_min_full_reduction_split_ties_evenly():
    # PyTorch max()/min() without dim (and amax/amin) distribute evenly among equal values
    same(backward_grad(ad.max, [1.0, 3.0, 3.0]), (3.0, [0, 0.5, 0.5]))
    same(backward_grad(ad.min, [1.0, 1.0, 3.0]), (1.0, [0.5, 0.5, 0]))
    same(backward_grad(ad.max, [2.0, 2.0, 2.0, 2.0])[1], [0.25] * 4)
    # forward mode: the mean of the tied entries' tangents
    same(fwd(ad.max, [1.0, 3.0, 3.0], [5.0, 1.0, 3.0]), (3.0, 2.0))


def test_max_along_an_axis_splits_ties_too():
    # adjit splits evenly here as well (PyTorch's max(dim) picks one index; amax(dim) splits)
    _, g = backward_grad(lambda x: ad.max(x, axis=1), [[1.0, 1.0], [0.0, 2.0]])
    same(g, [[0.5, 0.5], [0, 1]])


def test_maximum_minimum_ties_give_half_to_each():
    # PyTorch maximum/minimum: grad / 2 to both inputs where they are equal
    a = ad.tensor(1.0, requires_grad=True)
    b = ad.tensor(1.0, requires_grad=True)
    ad.maximum(a, b).backward()
    same((a.grad.numpy(), b.grad.numpy()), (0.5, 0.5))
    same(ad.grad(lambda a, b: ad.minimum(a, b), argnums=(0, 1))(2.0, 2.0), (0.5, 0.5))
    same(ad.jvp(ad.maximum, (1.0, 1.0), (1.0, 3.0))[1], 2.0)
    same(ad.grad(lambda x: ad.sum(ad.maximum(x, 0.0)))(np.array([-1.0, 0.0, 1.0])),
         [0, 0.5, 1])


# --- where with NaN / inf in the branch not taken -----------------------------------------------

X = np.array([-1.0, 0.0, 4.0])


@pytest.mark.parametrize("name,f,want", [
    ("sqrt", lambda x: ad.where(x > 0, ad.sqrt(x), 0.0), [0.0, 0.0, 0.25]),
    ("log", lambda x: ad.where(x > 0, ad.log(x), 0.0), [0.0, 0.0, 0.25]),
    ("recip", lambda x: ad.where(x != 0, 1.0 / x, 0.0), [-1.0, 0.0, -1 / 16]),
    ("pow", lambda x: ad.where(x > 0, x ** 0.5, x), [1.0, 1.0, 0.25]),
    ("arcsin", lambda x: ad.where(ad.abs(x) < 1, ad.arcsin(x), 0.0), [0.0, 1.0, 0.0]),
])
def test_where_does_not_leak_nan_from_the_unselected_branch(name, f, want):
    # PyTorch and JAX give NaN at the unselected entries here (0 * inf in the branch's VJP);
    # adjit's elementwise rules use strong-zero products, so a zero cotangent stays zero
    same(backward_grad(f, X)[1], want)
    same(ad.grad(lambda x: ad.sum(f(x)))(X), want)
    same(np.diag(ad.jacfwd(f)(X)), want)                 # forward mode, one column per input
    same(np.diag(ad.jacrev(f)(X)), want)
    # the fused numba kernels (large arrays) follow the same rule
    big = np.tile(X, 2000)
    same(ad.grad(lambda x: ad.sum(f(x)))(big), np.tile(want, 2000))


def test_where_second_order_stays_finite():
    f = lambda x: ad.sum(ad.where(x > 0, ad.sqrt(x) ** 3, 0.0))   # noqa: E731
    same(ad.hessian(f)(np.array([0.0, 1.0])), [[0.0, 0.0], [0.0, 0.75]])
    x = ad.tensor([0.0, 1.0], requires_grad=True)
    (g,) = ad.autograd.grad(f(x), x, create_graph=True)
    same(g.detach().numpy(), [0.0, 1.5])
    (gg,) = ad.autograd.grad(g.sum(), x)
    same(gg.numpy(), [0.0, 0.75])


def test_where_selected_branch_keeps_its_true_value():
    # the selected entries' derivatives are untouched, inf and NaN included
    same(backward_grad(lambda x: ad.where(x > 0, x, ad.log(x)), [1.0, 0.0, -1.0])[1],
         [1.0, inf, -1.0])


def test_strong_zero_consequence_at_a_non_differentiable_composition():
    # sqrt(x)**2 at 0: the chain rule meets 0 * inf; adjit gives 0 (PyTorch/JAX give NaN,
    # the true derivative is 1). Documented in the README's "Edge values" section.
    same(ad.grad(lambda x: ad.sqrt(x) ** 2)(0.0), 0.0)


# --- NaN and inf in seeds and inputs ---------------------------------------------------------

def test_nan_seed_propagates_like_pytorch():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).backward(np.array([nan, 1.0]))
    same(x.grad.numpy(), [nan, 2.0])
    (g,) = ad.vjp(lambda x: ad.exp(x), np.zeros(2))[1](np.array([nan, 1.0]))
    same(g, [nan, 1.0])
    same(ad.jvp(ad.sin, (np.zeros(2),), (np.array([nan, 1.0]),))[1], [nan, 1.0])


def test_nan_and_inf_inputs():
    same(ad.value_and_grad(lambda x: 2 * x)(nan), (nan, 2.0))
    same(ad.value_and_grad(ad.sin)(inf), (nan, nan))
    same(ad.value_and_grad(ad.exp)(1000.0), (inf, inf))


def test_division_by_zero():
    same(ad.value_and_grad(lambda x: x / 0.0)(1.0), (inf, inf))   # not ZeroDivisionError
    same(ad.grad(lambda b: 1.0 / b)(0.0), -inf)


# --- saturating functions stay finite ----------------------------------------------------------

def test_saturating_functions_are_stable():
    same(ad.value_and_grad(ad.sigmoid)(-1000.0), (0.0, 0.0))
    same(ad.value_and_grad(ad.sigmoid)(1000.0), (1.0, 0.0))
    same(ad.value_and_grad(ad.softplus)(1000.0), (1000.0, 1.0))
    same(ad.value_and_grad(ad.softplus)(-1000.0), (0.0, 0.0))
    same(ad.value_and_grad(ad.tanh)(1000.0), (1.0, 0.0))
    v, g = ad.value_and_grad(ad.logsumexp)(np.array([1000.0, 1000.0]))
    np.testing.assert_allclose(v, 1000.0 + np.log(2.0))
    same(g, [0.5, 0.5])
    same(ad.value_and_grad(ad.logsumexp)(np.array([-inf, 0.0])), (0.0, [0.0, 1.0]))
    same(ad.jacrev(ad.softmax)(np.array([1000.0, 0.0])), np.zeros((2, 2)))


# --- empty and 0-d ------------------------------------------------------------------------------

def test_empty_inputs():
    same(ad.value_and_grad(ad.sum)(np.zeros(0)), (0.0, np.zeros(0)))
    assert ad.jacfwd(ad.sin)(np.zeros(0)).shape == (0, 0)
    assert ad.jacrev(ad.sin)(np.zeros((0, 2))).shape == (0, 2, 0, 2)


# --- NaN inputs (issue 16 item 24) and logdet at a singular matrix (item 20) ---------------------

def test_nan_inputs():
    same(backward_grad(ad.max, [1.0, nan, 3.0]), (nan, [nan, nan, nan]))
    same(backward_grad(ad.min, [1.0, nan, 3.0]), (nan, [nan, nan, nan]))
    same(fwd(ad.max, [1.0, nan, 3.0]), (nan, nan))
    same(ad.grad(lambda v: ad.sum(ad.max(v, axis=1)))(np.array([[1.0, nan], [1.0, 2.0]])),
         [[nan, nan], [0.0, 1.0]])
    same(ad.grad(lambda a, b: ad.sum(ad.maximum(a, b)), (0, 1))(np.array([nan]), np.array([0.5])),
         ([1.0], [1.0]))
    same(ad.grad(lambda a, b: ad.sum(ad.minimum(a, b)), (0, 1))(np.array([nan]), np.array([0.5])),
         ([1.0], [1.0]))
    same(backward_grad(ad.relu, [nan]), ([nan], [1.0]))
    same(backward_grad(ad.sign, [nan]), ([nan], [0.0]))
    same(fwd(ad.relu, [nan]), ([nan], [1.0]))


def test_logdet_at_a_singular_matrix():
    A = np.array([[1.0, 2.0], [2.0, 4.0]])
    same(ad.logdet(A), -inf)
    with pytest.raises(np.linalg.LinAlgError, match="adjit.logdet"):
        ad.grad(ad.logdet)(A)
