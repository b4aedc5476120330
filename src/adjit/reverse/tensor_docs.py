"""The reference text of Tensor's own members (PyTorch keeps its tensor docs apart from the
code the same way, in `_tensor_docs.py`): tensor.py stays about behaviour. The methods every
wrapper gets from the op rows (t.sin(), t.sum() ...) are documented in ops/methods.py."""
from .tensor import Tensor

CLASS = """A multidimensional array that can record the operations applied to it (reverse mode).

As in PyTorch: a tensor created with ``requires_grad=True`` is a leaf; every op on it records
a node of the graph, and ``backward()`` on a scalar result accumulates the gradient into each
leaf's ``.grad``. Tensors also work with NumPy functions (``np.sin(t)``), inside ``ad.jit`` and
under the functional transforms (``ad.grad`` ...).

Parameters
----------
data : array_like
    The values (copied into a NumPy array; Python floats become float64, as NumPy).
requires_grad : bool, optional
    Record operations for ``backward`` (float or complex dtypes only).
dtype : numpy dtype, optional
    The dtype of the values.

Examples
--------
>>> x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y
tensor(14., grad_fn=<SumBackward>)
>>> y.backward()
>>> x.grad
tensor([2., 4., 6.])
"""

_X = ">>> x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)\n"

MEMBERS = {
    "backward": """Compute the gradient of this tensor with respect to the graph's leaves.

Parameters
----------
gradient : array_like, optional
    The cotangent of this tensor (required unless it has one element).
retain_graph : bool, optional
    Keep the saved values so that backward can run through the graph again.
create_graph : bool, optional
    Record the backward pass itself, for higher derivatives.
inputs : sequence of Tensor, optional
    Accumulate into these tensors' ``.grad`` only.

Examples
--------
""" + _X + """>>> (x ** 2).sum().backward()
>>> x.grad
tensor([2., 4., 6.])
""",
    "grad": """The gradient accumulated by ``backward`` (None until then); assignable.

Examples
--------
""" + _X + """>>> x.grad is None
True
>>> x.sum().backward()
>>> x.grad
tensor([1., 1., 1.])
""",
    "requires_grad": """Whether operations on this tensor are recorded (assignable on leaves).

Examples
--------
>>> ad.tensor([1.0]).requires_grad
False
""",
    "requires_grad_": """Set ``requires_grad`` in place and return the tensor.

Examples
--------
>>> ad.tensor([1.0]).requires_grad_().requires_grad
True
""",
    "is_leaf": """True for tensors not produced by a recorded operation.

Examples
--------
""" + _X + """>>> x.is_leaf, (2 * x).is_leaf
(True, False)
""",
    "grad_fn": """The graph node that produced this tensor (None for leaves).

Examples
--------
""" + _X + """>>> (x * 2).grad_fn.name()
'MulBackward'
""",
    "retain_grad": """Make ``backward`` keep this non-leaf tensor's gradient in ``.grad``.

Examples
--------
""" + _X + """>>> y = 2 * x
>>> y.retain_grad()
>>> y.sum().backward()
>>> y.grad
tensor([1., 1., 1.])
""",
    "register_hook": """Call ``fn(grad)`` with this tensor's gradient during ``backward``; a
tensor it returns replaces the gradient. Returns a handle whose ``remove()`` unregisters it.

Examples
--------
""" + _X + """>>> h = x.register_hook(lambda g: 2 * g)
>>> x.sum().backward()
>>> x.grad
tensor([2., 2., 2.])
>>> h.remove()
""",
    "detach": """The values as a tensor that does not require grad (shares the data).

Examples
--------
""" + _X + """>>> (x * 2).detach()
tensor([2., 4., 6.])
""",
    "detach_": """Detach this tensor from the graph in place (it becomes a leaf).

Examples
--------
""" + _X + """>>> y = x * 2
>>> y.detach_().requires_grad
False
""",
    "clone": """A copy of the tensor that stays in the graph (its gradient flows back).

Examples
--------
""" + _X + """>>> x.clone().sum().backward()
>>> x.grad
tensor([1., 1., 1.])
""",
    "item": """The value of a one-element tensor as a Python number.

Examples
--------
>>> ad.tensor([2.5]).item()
2.5
""",
    "tolist": """The values as (nested) Python lists.

Examples
--------
>>> ad.tensor([[1.0, 2.0]]).tolist()
[[1.0, 2.0]]
""",
    "numpy": """The values as a NumPy array. Like PyTorch's, it raises for a tensor that requires
grad (the derivative would be lost): call ``.detach().numpy()``.

Examples
--------
>>> ad.tensor([1.0, 2.0]).numpy()
array([1., 2.])
""",
    "data": """The values as a tensor outside the graph (assigning replaces them without
recording).

Examples
--------
""" + _X + """>>> x.data
tensor([1., 2., 3.])
""",
    "shape": """The tensor's shape (a tuple, as NumPy).

Examples
--------
>>> ad.tensor([[1.0, 2.0]]).shape
(1, 2)
""",
    "dtype": """The NumPy dtype of the values.

Examples
--------
>>> ad.tensor([1.0]).dtype
dtype('float64')
""",
    "size": """The number of elements (NumPy's ``size``; PyTorch's ``numel()`` works too).

Examples
--------
>>> ad.tensor([[1.0, 2.0]]).size
2
""",
    "ndim": """The number of dimensions.

Examples
--------
>>> ad.tensor([[1.0, 2.0]]).ndim
2
""",
    "zero_": """Fill the tensor with zeros in place (not on a leaf that requires grad).

Examples
--------
>>> t = ad.tensor([1.0, 2.0])
>>> t.zero_()
tensor([0., 0.])
""",
    "fill_": """Fill the tensor with a value in place (not on a leaf that requires grad).

Examples
--------
>>> ad.tensor([1.0, 2.0]).fill_(3.0)
tensor([3., 3.])
""",
}

for _name, _op, _out in (("add_", "+", "[3., 4.]"), ("sub_", "-", "[-1.,  0.]"),
                         ("mul_", "*", "[2., 4.]"), ("div_", "/", "[0.5000, 1.0000]")):
    MEMBERS[_name] = (
        f"In-place ``t {_op}= other``, recorded in the graph (as PyTorch, not on a leaf that "
        "requires grad; a value a recorded op saved cannot change afterwards).\n\n"
        "Examples\n--------\n>>> t = ad.tensor([1.0, 2.0])\n"
        f">>> t.{_name}(2.0)\ntensor({_out})\n")

MEMBERS.update({
    "argmax": """The index of the largest value (flattened, or along ``dim``/``axis``); an integer
tensor without a derivative.

Examples
--------
>>> ad.tensor([1.0, 3.0, 2.0]).argmax()
tensor(1)
""",
    "argmin": """The index of the smallest value (flattened, or along ``dim``/``axis``); an integer
tensor without a derivative.

Examples
--------
>>> ad.tensor([1.0, 3.0, 2.0]).argmin()
tensor(0)
""",
    "copy": """NumPy's name for ``clone()``: a copy that stays in the graph.

Examples
--------
>>> ad.tensor([1.0, 2.0]).copy()
tensor([1., 2.])
""",
    "exp_": """``t = exp(t)`` in place, recorded in the graph.

Examples
--------
>>> ad.tensor([0.0]).exp_()
tensor([1.])
""",
    "any": """Whether any value is nonzero (a boolean tensor).

Examples
--------
>>> bool(ad.tensor([0.0, 2.0]).any())
True
""",
    "all": """Whether every value is nonzero (a boolean tensor).

Examples
--------
>>> bool(ad.tensor([0.0, 2.0]).all())
False
""",
})


def document(cls):
    """Attach the texts above to `cls` (Tensor): functions and properties alike."""
    cls.__doc__ = CLASS
    for name, text in MEMBERS.items():
        attr = cls.__dict__.get(name)
        if attr is None:
            continue
        if isinstance(attr, property):
            setattr(cls, name, property(attr.fget, attr.fset, attr.fdel, text))
        else:
            attr.__doc__ = text


document(Tensor)
