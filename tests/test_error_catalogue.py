"""The error catalogue (the README's "Error catalogue" section): one test per entry not already covered by
tests/test_errors.py (issue 2's list). Each checks the exception type and that the message
names what went wrong; and that no numba typing text or bare NumPy message reaches the user.
"""
import re
import warnings

import numpy as np
import pytest

import adjit as ad
from adjit.core.registry import Op

NUMBA_TEXT = re.compile(r"nopython|TypingError|Failed in|numba\.core|no callable|ufunc '")


def raises(exc, match, fn, *args, **kw):
    with pytest.raises(exc, match=match) as info:
        fn(*args, **kw)
    assert not NUMBA_TEXT.search(str(info.value)), str(info.value)
    return info.value


def _leaf(v=(1.0, 2.0)):
    return ad.tensor(list(v), requires_grad=True)


# --- reverse mode ----------------------------------------------------------------------------

@pytest.mark.parametrize("seed", ["ab", np.array([None, 1.0], dtype=object)],
                         ids=["str", "object"])
def test_non_numeric_backward_seed(seed):
    x = _leaf()
    raises(TypeError, r"gradient \(grad_output\[0\]\) must be numeric", (x * 2).backward, seed)
    raises(TypeError, "must be numeric", ad.autograd.grad, x * 2, x, grad_outputs=seed)


def test_nan_seed_is_allowed_and_propagates():
    x = _leaf()
    (x * 3).backward(np.array([np.nan, 1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [np.nan, 3.0])


def test_autograd_outputs_must_be_tensors():
    raises(TypeError, r"expected Tensors as outputs, got ndarray", ad.autograd.backward,
           [np.ones(2)])
    raises(TypeError, r"expected Tensors as outputs, got float", ad.autograd.grad, 1.0, _leaf())


def test_op_without_a_vjp_in_reverse_mode():
    op = Op("no_vjp_op", lambda x: x * 2.0)       # not registered: an internal-style op
    y = op(_leaf())
    raises(RuntimeError, r"op 'no_vjp_op' has no VJP rule", ad.sum(y).backward)


# --- tensors and values ----------------------------------------------------------------------

def test_tensor_from_a_dual():
    raises(TypeError, r"adjit\.tensor: cannot make a tensor from a dual", ad.tensor,
           ad.dual(1.0, 1.0))


def test_float_tensor_as_an_index():
    t = ad.tensor([1.0, 2.0, 3.0])
    raises(TypeError, "only integer tensors of a single element", lambda: [0, 1, 2][t[0]])


# --- ops -------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", ["sin", "erf", "sigmoid", "add", "maximum", "sum", "matmul"])
@pytest.mark.parametrize("bad", ["abc", np.array([1.0, None], dtype=object), None],
                         ids=["str", "object", "None"])
def test_non_numeric_input_to_any_op(op, bad):
    if bad is None and op == "sum":
        return  # np.sum(None) is None: NumPy raises nothing to translate
    f = getattr(ad, op)
    args = (bad, np.ones(2)) if op in ("add", "maximum", "matmul") else (bad,)
    raises(TypeError, rf"adjit\.{op}: unsupported input type", f, *args)
    # the same through a Tensor operand: the op still names itself
    if len(args) == 2:
        raises(TypeError, rf"adjit\.{op}: unsupported input type", f, _leaf(), bad)


def test_complex_input_to_a_compiled_kernel():
    raises(TypeError, r"adjit\.erf: unsupported input type", ad.erf, np.array([1 + 1j]))


def test_object_arrays_of_any_size_and_in_a_gradient():
    raises(TypeError, r"adjit\.sin: unsupported", ad.sin, np.ones(5000, dtype=object))
    raises(TypeError, r"cannot differentiate with respect to a value of type ndarray "
           r"\(dtype object\)", ad.grad(lambda x: ad.sum(ad.sin(x))),
           np.ones(3, dtype=object))


def test_axis_out_of_range():
    with pytest.raises(np.exceptions.AxisError if hasattr(np, "exceptions")
                       else np.AxisError, match="axis 5 is out of bounds"):
        ad.sum(_leaf(), axis=5)


def test_reshape_to_another_size():
    raises(ValueError, r"cannot reshape array of size 3 into shape \(2,\s?2\)", ad.reshape,
           ad.tensor([1.0, 2.0, 3.0], requires_grad=True), (2, 2))


def test_transpose_with_a_wrong_permutation():
    raises(ValueError, r"adjit\.transpose: axes .* not a permutation", ad.transpose,
           np.ones((2, 3)), (0, 0))


def test_trace_of_a_non_matrix():
    raises(ValueError, r"adjit\.trace: expected an array with at least 2 dimensions", ad.trace,
           np.ones(3))


@pytest.mark.parametrize("f", [ad.concatenate, ad.stack, ad.cat])
def test_joining_nothing(f):
    raises(ValueError, "expected a non-empty sequence", f, [])


def test_linear_algebra_errors_are_numpys():
    A = ad.tensor(np.zeros((2, 2)), requires_grad=True)
    with pytest.raises(np.linalg.LinAlgError, match="Singular matrix"):
        ad.inv(A)
    with pytest.raises(np.linalg.LinAlgError, match="positive definite"):
        ad.cholesky(ad.tensor(-np.eye(2), requires_grad=True))
    with pytest.raises(np.linalg.LinAlgError, match="square"):
        ad.det(ad.tensor(np.ones((2, 3)), requires_grad=True))
    # det and its derivative at a singular matrix are fine (0 and the cofactor matrix, as
    # PyTorch); only a third derivative there raises
    S = ad.tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    d = ad.det(S)
    assert abs(d.item()) < 1e-12
    d.backward()
    np.testing.assert_allclose(S.grad.numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-15)
    raises(NotImplementedError, "third and higher derivatives at an ill-conditioned or singular",
           ad.jacfwd(ad.hessian(ad.det)), S.detach().numpy())


# --- forward mode ----------------------------------------------------------------------------

@pytest.mark.parametrize("p,t,what", [("abc", 1.0, "primal"), (1.0, "a", "tangent"),
                                      (np.array([None]), [1.0], "primal")])
def test_non_numeric_dual(p, t, what):
    raises(TypeError, rf"adjit\.dual: the {what} must be numeric", ad.dual, p, t)


@pytest.mark.parametrize("fn", [np.asarray, lambda d: np.array(d, dtype=float)],
                         ids=["asarray", "np.array"])
def test_numpy_on_a_dual(fn):
    d = ad.dual(np.ones(3), np.ones(3))
    raises(TypeError, "a dual number cannot be turned into a NumPy array", fn, d)


@pytest.mark.parametrize("fn", [np.unique, np.spacing], ids=["np.unique", "np.spacing"])
def test_numpy_function_without_a_row(fn):
    # np.sin and the other NumPy functions with rows work on duals (tests/test_numpy_dispatch.py)
    for v in (ad.dual(np.ones(3), np.ones(3)), ad.tensor(np.ones(3), requires_grad=True)):
        raises(TypeError, rf"adjit: np\.{fn.__name__} is not differentiable yet; use", fn, v)


def test_graph_tensor_to_numpy_array():
    raises(TypeError, r"adjit: cannot convert a tensor that requires grad to a NumPy array",
           np.asarray, ad.tensor([1.0, 2.0], requires_grad=True))


def test_out_argument_with_a_differentiated_value():
    y = np.zeros(2)
    raises(TypeError, r"adjit: np\.add\(\.\.\., out=\.\.\.\) cannot write", np.add,
           ad.tensor([1.0, 2.0], requires_grad=True), 1.0, out=y)


def test_jvp_tangent_shape_mismatch():
    raises(ValueError, r"adjit\.jvp: tangent of shape \(2,\) does not match its primal of "
           r"shape \(3,\)", ad.jvp, ad.sin, (np.ones(3),), (np.ones(2),))


def test_jvp_counts_and_directions():
    raises(ValueError, r"adjit\.jvp: got 1 primals but 2 tangents", ad.jvp, ad.sin,
           (np.ones(3),), (np.ones(3), np.ones(3)))
    raises(ValueError, r"tangents carry different numbers of directions", ad.jvp, ad.mul,
           (np.ones(3), np.ones(3)), (np.ones((3, 2)), np.ones((3, 4))))


def test_len_of_a_scalar_dual():
    raises(TypeError, "len\\(\\) of a 0-d dual number", len, ad.dual(1.0, 1.0))


# --- functional transforms -------------------------------------------------------------------

@pytest.mark.parametrize("ret", ["abc", None, b"x"], ids=["str", "None", "bytes"])
@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "vjp", "jvp", "jacfwd",
                                       "jacrev", "jacobian", "hessian"])
def test_function_returning_a_non_array(transform, ret):
    f = lambda x: ret                                           # noqa: E731
    x = np.ones(2)
    call = {
        "grad": lambda: ad.grad(f)(x), "value_and_grad": lambda: ad.value_and_grad(f)(x),
        "vjp": lambda: ad.vjp(f, x), "jvp": lambda: ad.jvp(f, (x,), (x,)),
        "jacfwd": lambda: ad.jacfwd(f)(x), "jacrev": lambda: ad.jacrev(f)(x),
        "jacobian": lambda: ad.jacobian(f, mode="reverse")(x),
        "hessian": lambda: ad.hessian(f)(x),
    }[transform]
    raises(TypeError, r"the function must return an array .* but it returned "
           + type(ret).__name__, call)


@pytest.mark.parametrize("ret", [lambda x: [x[0], x[1]], lambda x: (ad.sum(x),),
                                 lambda x: {"a": ad.sum(x)}], ids=["list", "tuple", "dict"])
def test_grad_of_a_function_returning_a_container(ret):
    raises(TypeError, r"adjit\.grad: the function must return a scalar, but it returned a",
           ad.grad(ret), np.ones(2))


def test_grad_of_a_constant_function_is_zero_not_an_error():
    assert ad.grad(lambda x: 3.0)(1.0) == 0.0
    np.testing.assert_array_equal(ad.grad(lambda x: np.float64(2.0))(np.ones(2)), [0.0, 0.0])


def test_grad_of_a_non_scalar_function():
    raises(TypeError, r"must return a scalar \(one element\), but it returned shape \(3,\)",
           ad.grad(lambda x: x * 2), np.ones(3))


@pytest.mark.parametrize("argnums", ["a", 0.5, [0.0], True, None], ids=repr)
def test_argnums_of_the_wrong_type(argnums):
    raises(TypeError, "argnums must be an int or a tuple of ints",
           ad.grad(lambda x, y: x * y, argnums=argnums), 1.0, 2.0)


def test_argnums_repeated_or_out_of_range():
    raises(ValueError, r"argnums=\(0, 0\) names an argument twice",
           ad.grad(lambda x, y: x * y, argnums=(0, 0)), 1.0, 2.0)
    raises(ValueError, r"argnums=\(0, -2\) names an argument twice",
           ad.grad(lambda x, y: x * y, argnums=(0, -2)), 1.0, 2.0)
    raises(ValueError, r"argnums=5 is out of range",
           ad.jacobian(lambda x: x, argnums=5), np.ones(2))
    # a differentiated argument passed by keyword: out of range, not "twice"
    raises(ValueError, r"argnums=\(0, 1\) is out of range .* passed by keyword",
           ad.grad(lambda x, y: x * y, argnums=(0, 1)), 1.5, y=2.0)
    # numpy integers are fine
    assert ad.grad(lambda x, y: x * y, argnums=np.int64(1))(2.0, 3.0) == 2.0


def test_differentiating_a_non_numeric_argument():
    raises(TypeError, "cannot differentiate with respect to a value of type str",
           ad.grad(lambda x: x), "abc")


def test_vjp_cotangent_shape_and_structure():
    _, f = ad.vjp(ad.sin, np.ones(3))
    raises(ValueError, r"adjit\.vjp: cotangent has shape \(2,\), but the output has shape "
           r"\(3,\)", f, np.ones(2))
    _, f2 = ad.vjp(lambda x: (ad.sin(x), ad.cos(x)), np.ones(3))
    raises(ValueError, r"adjit\.vjp: the cotangent's structure", f2, np.ones(3))


def test_jacobian_mode():
    raises(ValueError, r"mode must be 'auto', 'forward' or 'reverse', got 'sideways'",
           ad.jacobian, ad.sin, mode="sideways")


def test_jit_of_a_non_function():
    raises(TypeError, r"adjit\.jit: expected a function, got int", ad.jit, 3)


# --- custom ops ------------------------------------------------------------------------------

_count = iter(range(10 ** 6))


def _name():
    return f"catalogue_op_{next(_count)}"


def test_custom_op_jvp_must_be_callable():
    raises(TypeError, r"jvp must be a function or None", ad.custom_op, _name(),
           lambda x: x, lambda g, y, x: (g,), jvp=3)


def test_custom_op_vjp_returns_the_wrong_number_of_cotangents():
    op = ad.custom_op(_name(), lambda x: x * 2.0, lambda g, y, x: (g, g))
    x = ad.tensor(np.ones(3), requires_grad=True)
    raises(ValueError, r"vjp returned 2 cotangents for 1 inputs", ad.sum(op(x)).backward)


def test_custom_op_vjp_returns_a_cotangent_of_the_wrong_shape():
    op = ad.custom_op(_name(), lambda x: x * 2.0, lambda g, y, x: (2.0 * g[:1],))
    x = ad.tensor(np.ones(3), requires_grad=True)
    raises(ValueError, r"vjp returned a cotangent of shape \(1,\) for input 0 of shape \(3,\)",
           ad.sum(op(x)).backward)
    assert x.grad is None                    # nothing wrongly shaped was accumulated


def test_custom_op_without_jvp_in_forward_mode():
    name = _name()
    op = ad.custom_op(name, lambda x: x * 2.0, lambda g, y, x: (2.0 * g,))
    for call in (lambda: ad.jvp(op, (np.ones(2),), (np.ones(2),)),
                 lambda: ad.jacfwd(op)(np.ones(2)),
                 lambda: op(ad.dual(np.ones(2), np.ones(2)))):
        raises(NotImplementedError, rf"op '{name}' has no JVP rule", call)


def test_custom_op_compiled_vjp_cannot_be_differentiated_again():
    name = _name()
    op = ad.custom_op(name, lambda x: x * x, lambda g, y, x: (2.0 * g * x,),
                      jvp=lambda ts, y, x: 2.0 * x * ts[0])
    np.testing.assert_allclose(ad.grad(lambda v: ad.sum(op(v)))(np.ones(2)), [2.0, 2.0])
    raises(NotImplementedError, rf"custom op '{name}' has a compiled VJP, which cannot itself "
           "be differentiated", ad.hessian(lambda v: ad.sum(op(v))), np.ones(2))
    x = ad.tensor(np.ones(2), requires_grad=True)
    raises(NotImplementedError, "compiled VJP", ad.autograd.grad, ad.sum(op(x)), x,
           create_graph=True)


def test_custom_op_given_a_string():
    op = ad.custom_op(_name(), lambda x: x * 2.0, lambda g, y, x: (2.0 * g,))
    raises(TypeError, r"unsupported input type\(s\) str", op, "abc")


# --- gradcheck -------------------------------------------------------------------------------

def test_gradcheck_reports_the_offending_entry():
    op = ad.custom_op(_name(), lambda x: x * 2.0, lambda g, y, x: (3.0 * g,),
                      jvp=lambda ts, y, x: 2.0 * ts[0])
    e = raises(AssertionError, r"reverse-mode derivative mismatch for input 0: d out\[0\] / d "
               r"in\[0\].* is .*3\.0.* analytically but .* by central differences",
               ad.gradcheck, op, (np.ones(2),))
    assert "2 of 4 entries differ" in str(e)
    bad_fwd = ad.custom_op(_name(), lambda x: x * 2.0, lambda g, y, x: (2.0 * g,),
                           jvp=lambda ts, y, x: 5.0 * ts[0])
    raises(AssertionError, "forward-mode derivative mismatch", ad.gradcheck, bad_fwd,
           (np.ones(2),))


def test_no_warning_noise_from_the_error_paths():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        raises(TypeError, "unsupported", ad.sin, "abc")
        raises(ValueError, "cannot be broadcast", ad.add, np.ones(3), np.ones(2))


# --- issue 16: errors that came from NumPy without the op's name ------------------------------

def test_in_place_shape_and_dtype():
    a = ad.tensor([1.0, 2.0])
    raises(ValueError, r"in-place operation on a tensor of shape \(2,\)", a.__iadd__,
           ad.tensor([[1.0, 2.0], [3.0, 4.0]]))
    raises(TypeError, r"dtype int64: the result has dtype float64", ad.tensor([1, 2]).__iadd__,
           1.5)


def test_hook_of_the_wrong_shape():
    x = _leaf()
    y = x * 2
    y.register_hook(lambda g: np.ones(3))
    raises(RuntimeError, r"hook .* shape \(3,\) for a tensor of shape \(2,\)", ad.sum(y).backward)


def test_ragged_empty_and_mismatched_inputs_name_the_op():
    raises(ValueError, "adjit.sin: input 0 is a ragged nested list", ad.sin, [[1.0, 2.0], [3.0]])
    raises(ValueError, r"adjit.max: cannot reduce an empty array of shape \(0,\)", ad.max,
           np.ones(0))
    raises(ValueError, r"adjit.concatenate: inputs of shapes \(2, 3\) and \(3, 4\)", ad.cat,
           [np.ones((2, 3)), np.ones((3, 4))])
    raises(ValueError, r"adjit.squeeze: cannot squeeze axis 0", ad.squeeze, np.ones((2, 3)), 0)
    raises(TypeError, r"adjit.erf: unsupported input type\(s\) float128", ad.erf,
           np.ones(3, dtype=np.longdouble))


def test_logdet_derivative_at_a_singular_matrix():
    raises(np.linalg.LinAlgError, "adjit.logdet: the derivative", ad.grad(ad.logdet),
           np.array([[1.0, 2.0], [2.0, 4.0]]))


# --- NumPy code on differentiated values (README: "Differentiating existing NumPy code") -------

def test_numpy_keyword_adjit_does_not_take():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    raises(TypeError, r"adjit: np\.sum\(\.\.\., where=\.\.\.\) is not supported yet", np.sum, x,
           where=np.array([True, False]))
    raises(TypeError, r"adjit: np\.reshape\(\.\.\., order=\.\.\.\) is not supported yet",
           np.reshape, x, (2, 1), order="F")


def test_list_of_differentiated_values_into_an_op():
    raises(TypeError, r"adjit\.sum: got a Python list holding differentiated values",
           ad.grad(lambda x: ad.sum(x)), [1.0, 2.0])


def test_grad_of_a_complex_or_bool_output():
    raises(TypeError, r"adjit\.grad: the function returned a complex value", ad.grad(
        lambda x: x * 1j), 1.0)
    raises(TypeError, r"adjit\.grad: the function returned a bool", ad.grad(lambda x: x > 0), 1.0)


def test_scipy_ufunc_without_a_row():
    special = pytest.importorskip("scipy.special")
    raises(TypeError, r"adjit: scipy\.special\.erfcx is not differentiable yet", special.erfcx,
           ad.tensor([0.5], requires_grad=True))
