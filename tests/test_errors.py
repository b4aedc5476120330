"""Issue 2 §5: the errors a user meets, each with a message that says what to do."""
import numpy as np
import pytest

import adjit as ad


# -- backward ------------------------------------------------------------------------------------

def test_backward_on_non_scalar_without_gradient():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar "
                                           "outputs") as e:
        y.backward()
    assert "(2,)" in str(e.value) and "gradient=" in str(e.value)
    assert x.grad is None
    y.backward(ad.ones(2))  # the failed call did not free the graph
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_autograd_grad_on_non_scalar_without_grad_outputs():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        ad.autograd.grad(x * x, x)


def test_backward_when_nothing_requires_grad():
    x = ad.tensor([1.0, 2.0])
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match="does not require grad") as e:
        y.backward()
    msg = str(e.value)
    # setting requires_grad on the result does not help: set it on the leaf inputs first
    assert "leaf inputs" in msg and "before" in msg and "computed result does not help" in msg


def test_backward_of_result_computed_under_no_grad():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with ad.no_grad():
        y = (x * x).sum()
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()


def test_second_backward_through_freed_graph():
    x = ad.tensor(2.0, requires_grad=True)
    y = ad.exp(x) * x
    y.backward()
    with pytest.raises(RuntimeError, match=r"second time.*retain_graph=True"):
        y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        ad.autograd.grad(y, x)


def test_retain_graph_allows_second_backward():
    x = ad.tensor(2.0, requires_grad=True)
    y = ad.exp(x) * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 3 * np.exp(2.0))


def test_gradient_of_wrong_shape_names_both_shapes():
    x = ad.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"shape") as e:
        y.backward(ad.ones(3))
    assert "(3,)" in str(e.value) and "(1, 3)" in str(e.value)
    with pytest.raises(RuntimeError, match=r"\(2, 2\).*\(1, 3\)|\(1, 3\).*\(2, 2\)"):
        ad.autograd.grad(y, x, grad_outputs=np.ones((2, 2)))


# -- requires_grad -------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: ad.tensor([1, 2], requires_grad=True),
    lambda: ad.tensor([1, 2]).requires_grad_(),
    lambda: ad.arange(4, requires_grad=True),
    lambda: ad.tensor([True, False], requires_grad=True),
], ids=["tensor", "requires_grad_", "arange", "bool"])
def test_requires_grad_on_integer_tensor(make):
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients"):
        make()


def test_integer_tensor_setter():
    t = ad.tensor([1, 2])
    with pytest.raises(RuntimeError, match="only floating point"):
        t.requires_grad = True
    assert not t.requires_grad
    t.requires_grad = False  # switching it off is fine


def test_requires_grad_on_non_leaf():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf") as e:
        y.requires_grad = False
    assert "detach()" in str(e.value)
    assert y.requires_grad_(True) is y   # already requires grad: a no-op, as PyTorch (issue 16)
    # a detached copy is a new leaf
    z = y.detach().requires_grad_(True)
    assert z.is_leaf and z.requires_grad


def test_numpy_on_tensor_requiring_grad():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        x.numpy()
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        (x * 2).numpy()
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 2.0])


# -- in-place changes of saved values ------------------------------------------------------------

def test_inplace_on_output_saved_by_exp():
    x = ad.tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()  # exp's backward reads its output
    y += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as e:
        y.sum().backward()
    assert "ExpBackward" in str(e.value)
    assert x.grad is None


def test_inplace_on_non_leaf_input_saved_by_mul():
    w = ad.tensor([2.0, 3.0], requires_grad=True)
    a = ad.tensor([1.0, 1.0], requires_grad=True)
    x = a * 1.5
    y = w * x  # mul saves x for w's gradient
    x += 1
    with pytest.raises(RuntimeError, match=r"inplace operation.*version") as e:
        y.sum().backward()
    assert "MulBackward" in str(e.value) and "clone()" in str(e.value)


def test_inplace_on_leaf_under_no_grad_after_use():
    w = ad.tensor([2.0, 3.0], requires_grad=True)
    x = ad.tensor([1.0, 1.0], requires_grad=True)
    y = (w * x).sum()
    with ad.no_grad():
        x += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


@pytest.mark.parametrize("change", ["zero_", "setitem", "mul", "div", "sub", "fill_"])
def test_every_inplace_form_bumps_the_version(change):
    w = ad.tensor([2.0, 3.0], requires_grad=True)
    x = ad.tensor([1.0, 4.0])  # a constant that mul saves for w's gradient
    y = (w * x).sum()
    if change == "zero_":
        x.zero_()
    elif change == "setitem":
        x[0] = 5.0
    elif change == "mul":
        x *= 2
    elif change == "div":
        x /= 2
    elif change == "sub":
        x -= 1
    else:
        x.fill_(3.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_inplace_on_a_value_not_saved_is_fine():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    c = ad.tensor([5.0, 6.0])
    y = (x + c).sum()  # add saves nothing
    c += 1
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


@pytest.mark.parametrize("change", ["iadd", "zero_", "setitem", "fill_"])
def test_inplace_on_leaf_requiring_grad_outside_no_grad(change):
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf.*in-place.*no_grad"):
        if change == "iadd":
            w += 1
        elif change == "zero_":
            w.zero_()
        elif change == "setitem":
            w[0] = 3.0
        else:
            w.fill_(0.0)
    np.testing.assert_array_equal(w.detach().numpy(), [1.0, 2.0])  # left unchanged
    with ad.no_grad():
        w += 1  # the usual update step is allowed
    np.testing.assert_array_equal(w.detach().numpy(), [2.0, 3.0])
    assert w.is_leaf and w.requires_grad


# -- shapes that do not broadcast ----------------------------------------------------------------

@pytest.mark.parametrize("how", ["tensor_op", "function", "numpy_left", "arrays", "dual",
                                 "compare"])
def test_shapes_that_do_not_broadcast(how):
    a = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = np.ones(4)
    pattern = (r"adjit\.(add|mul|greater): operands with shapes (\(3,\) and \(4,\)|\(4,\) "
               r"and \(3,\)) cannot be broadcast")
    with pytest.raises(ValueError, match=pattern):
        if how == "tensor_op":
            a + ad.tensor(b)
        elif how == "function":
            ad.mul(a, b)
        elif how == "numpy_left":
            assert (b[:, None] * a).shape == (4, 3)  # broadcasts: fine
            b[:3] + a
            b + a
        elif how == "arrays":
            ad.add(np.ones(3), b)
        elif how == "dual":
            ad.dual(np.ones(3), np.ones(3)) * b
        else:
            a > ad.tensor(b)


def test_broadcast_error_names_where_and_matmul():
    with pytest.raises(ValueError, match=r"adjit\.where.*\(3,\).*\(4,\)"):
        ad.where(np.ones(3, dtype=bool), ad.ones(3), ad.ones(4))
    with pytest.raises(ValueError, match=r"adjit\.matmul.*\(2, 3\).*\(4, 2\)"):
        ad.ones(2, 3) @ ad.ones(4, 2)
    with pytest.raises(ValueError, match=r"adjit\.solve.*\(3, 3\).*\(4,\)"):
        ad.solve(ad.eye(3), ad.ones(4))


def test_setitem_with_wrong_shape():
    t = ad.zeros(3, 4)
    with pytest.raises(ValueError, match=r"adjit\.index_update.*\(3,\)"):
        t[0] = ad.ones(3)
    np.testing.assert_array_equal(t.numpy(), np.zeros((3, 4)))
    assert t._box[0] == 0  # the failed assignment did not count as a change


# -- bad data ------------------------------------------------------------------------------------

@pytest.mark.parametrize("data", ["abc", ["a", "b"], np.array([object(), 1]), {"a": 1},
                                  [[1.0, 2.0], [3.0]], None], ids=str)
def test_non_numeric_data_into_tensor(data):
    with pytest.raises(TypeError, match=r"adjit\.tensor"):
        ad.tensor(data)


def test_strings_into_ops_give_a_clear_type_error():
    with pytest.raises(TypeError, match=r"adjit\.sin.*unsupported"):
        ad.sin("abc")
    with pytest.raises(TypeError, match=r"adjit\.erf.*unsupported"):
        ad.erf("abc")  # a numba ufunc: no numba text reaches the user
    with pytest.raises(TypeError, match=r"adjit\.mul.*unsupported"):
        ad.tensor([1.0, 2.0], requires_grad=True) * "x"


def test_custom_op_that_numba_cannot_compile():
    def primal(x):
        return x.no_such_attribute

    def vjp(g, out, x):
        return (g,)

    op = ad.OPS.get("test_errors_bad") or ad.custom_op("test_errors_bad", primal, vjp)
    with pytest.raises(TypeError, match=r"custom op 'test_errors_bad'.*numba could not compile"
                       ) as e:
        op(np.ones(3))
    assert e.value.__cause__ is None and "Traceback" not in str(e.value)


def test_custom_op_arguments_checked():
    with pytest.raises(TypeError, match="name"):
        ad.custom_op("", lambda x: x, lambda g, o, x: (g,))
    with pytest.raises(TypeError, match="vjp must be a function"):
        ad.custom_op("test_errors_novjp", lambda x: x, None)


# -- smaller misuse ------------------------------------------------------------------------------

def test_item_bool_len_on_wrong_sizes():
    with pytest.raises(ValueError, match="3 elements cannot be converted"):
        ad.ones(3).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ad.ones(3))
    with pytest.raises(TypeError, match="0-d"):
        len(ad.tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(ad.tensor(1.0))


def test_autograd_grad_input_not_requiring_grad():
    x = ad.tensor(1.0, requires_grad=True)
    c = ad.tensor(2.0)
    with pytest.raises(RuntimeError, match="does not require grad"):
        ad.autograd.grad(x * c, [x, c])


def test_grad_assignment_of_wrong_shape():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2,\)"):
        x.grad = ad.ones(3)


def test_hook_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ad.ones(2).register_hook(lambda g: g)


def test_axis_and_dim_together():
    with pytest.raises(TypeError, match="either axis= or its alias dim="):
        ad.sum(ad.ones(2, 2), axis=0, dim=1)


def test_dual_with_mismatched_tangent():
    with pytest.raises(ValueError, match=r"tangent of shape \(4,\).*primal of shape \(3,\)"):
        ad.dual(np.ones(3), np.ones(4))
