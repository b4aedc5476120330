"""The reference text (NumPy docstring conventions) of the public functions of the shape,
reduction and linear-algebra rows, kept apart from their rules so that the rule modules stay
about behaviour (PyTorch keeps `_torch_docs.py` the same way). `docstrings.document_rows`
attaches each text to the public function of its name."""

_ANY = ("Works on arrays, Tensors, dual numbers and inside ``ad.jit``, differentiable to any "
        "order.")


def _doc(summary, params, returns, examples, notes=""):
    text = summary + "\n\n" + _ANY + "\n"
    if notes:
        text += "\n" + notes + "\n"
    text += "\nParameters\n----------\n" + params.strip("\n") + "\n"
    text += "\nReturns\n-------\n" + returns.strip("\n") + "\n"
    return text + "\nExamples\n--------\n" + examples.strip("\n") + "\n"


_AXIS = """x : array_like or Tensor
axis, dim : int or tuple of ints, optional
    The axes to reduce (all by default); ``dim`` is PyTorch's name.
keepdims, keepdim : bool, optional
    Keep the reduced axes with length one."""
_M = ">>> m = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)\n"
_S = ">>> a = np.array([[4.0, 1.0], [1.0, 3.0]])\n"

TEXT = {
    "sum": _doc("Sum of the elements over the given axes, as ``np.sum`` / ``torch.sum``.",
                _AXIS, "array or Tensor", _M + """>>> ad.sum(m, axis=0)
tensor([4., 6.], grad_fn=<SumBackward>)
>>> ad.sum(m).backward()
>>> m.grad
tensor([[1., 1.],
        [1., 1.]])"""),
    "mean": _doc("Mean over the given axes, as ``np.mean``.", _AXIS, "array or Tensor",
                 """>>> ad.mean(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=1)
array([1.5, 3.5])
>>> ad.grad(ad.mean)(np.array([1.0, 3.0]))
array([0.5, 0.5])"""),
    "prod": _doc("Product over the given axes, as ``np.prod``; the gradient is exact with zeros "
                 "in the input.", _AXIS, "array or Tensor",
                 """>>> float(ad.prod(np.array([2.0, 3.0, 4.0])))
24.0
>>> ad.grad(ad.prod)(np.array([2.0, 0.0, 4.0]))
array([0., 8., 0.])"""),
    "max": _doc("Maximum over the given axes, as ``np.max``. Ties share the gradient equally "
                "(as JAX; PyTorch's ``max()`` without dim does the same).", _AXIS,
                "array or Tensor", """>>> float(ad.max(np.array([1.0, 3.0, 2.0])))
3.0
>>> ad.grad(ad.max)(np.array([3.0, 1.0, 3.0]))
array([0.5, 0. , 0.5])"""),
    "min": _doc("Minimum over the given axes, as ``np.min`` (ties share the gradient).", _AXIS,
                "array or Tensor", """>>> float(ad.min(np.array([1.0, 3.0, 2.0])))
1.0
>>> ad.grad(ad.min)(np.array([1.0, 3.0, 2.0]))
array([1., 0., 0.])"""),
    "logsumexp": _doc("``log(sum(exp(x)))`` over the given axes, computed stably (the maximum "
                      "is factored out).", _AXIS, "array or Tensor",
                      """>>> float(ad.logsumexp(np.array([1000.0, 1000.0])))
1000.693147...
>>> ad.grad(ad.logsumexp)(np.array([0.0, 0.0]))
array([0.5, 0.5])"""),
    "softmax": _doc("``exp(x) / sum(exp(x))`` along ``axis`` (the last by default), stably.",
                    """x : array_like or Tensor
axis, dim : int, optional""", "array or Tensor", """>>> ad.softmax(np.array([0.0, 0.0]))
array([0.5, 0.5])"""),
    "log_softmax": _doc("``x - logsumexp(x)`` along ``axis`` (the last by default), stably.",
                        """x : array_like or Tensor
axis, dim : int, optional""", "array or Tensor",
                        """>>> np.round(ad.log_softmax(np.array([0.0, 0.0])), 4)
array([-0.6931, -0.6931])"""),
    "cumsum": _doc("Cumulative sum along ``axis`` (flattened when None), as ``np.cumsum``.",
                   """x : array_like or Tensor
axis, dim : int, optional""", "array or Tensor", """>>> ad.cumsum(np.array([1.0, 2.0, 3.0]))
array([1., 3., 6.])"""),
    "expand_dims": _doc("A new axis of length one at ``axis``, as ``np.expand_dims``.",
                        """x : array_like or Tensor
axis : int or tuple of ints""", "array or Tensor",
                        """>>> ad.expand_dims(np.zeros(3), 0).shape
(1, 3)"""),
    "concatenate": _doc("Join a sequence of arrays along an existing axis, as "
                        "``np.concatenate`` / ``torch.cat``.", """tensors : sequence of array_like or Tensor
axis, dim : int, optional""", "array or Tensor",
                        """>>> x = ad.tensor([1.0, 2.0], requires_grad=True)
>>> ad.concatenate([x, 3 * x])
tensor([1., 2., 3., 6.], grad_fn=<CatBackward>)"""),
    "stack": _doc("Join a sequence of same-shaped arrays along a new axis, as ``np.stack``.",
                  """tensors : sequence of array_like or Tensor
axis, dim : int, optional""", "array or Tensor",
                  """>>> ad.stack([np.zeros(2), np.ones(2)]).shape
(2, 2)"""),
    "where": _doc("Elements of ``a`` where ``cond`` is true, else of ``b`` (broadcast), as "
                  "``np.where``; the branch not taken gets a zero gradient, even when it holds "
                  "NaN or inf (see the README's edge values).", """cond : array_like of bool
a, b : array_like or Tensor""", "array or Tensor",
                  """>>> x = np.array([-1.0, 2.0])
>>> ad.where(x > 0, x, 0.0)
array([0., 2.])
>>> ad.grad(lambda v: ad.sum(ad.where(v > 0, v * v, 0.0)))(x) + 0.0
array([0., 4.])"""),
    "clip": _doc("Values limited to ``[a_min, a_max]``, as ``np.clip`` / ``torch.clamp``; a "
                 "bound may be None or a Tensor (it gets the gradient where it is the value).",
                 """x : array_like or Tensor
a_min, a_max (min, max) : scalar, array_like, Tensor or None""", "array or Tensor",
                 """>>> ad.clip(np.array([-1.0, 0.5, 2.0]), 0.0, 1.0)
array([0. , 0.5, 1. ])
>>> ad.grad(lambda v: ad.sum(ad.clip(v, 0.0, 1.0)))(np.array([-1.0, 0.5, 2.0]))
array([0., 1., 0.])"""),
    "outer": _doc("Outer product of two vectors (flattened), as ``np.outer``.",
                  "a, b : array_like or Tensor", "array or Tensor",
                  """>>> ad.outer(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
array([[3., 4.],
       [6., 8.]])"""),
    "dot": _doc("``np.dot``: a product with a scalar, ``matmul`` when b is 1-D or 2-D (or a is "
                "1-D), and for N-D b the sum over the last axis of a and the second-to-last "
                "of b (result shape ``a.shape[:-1] + b.shape[:-2] + b.shape[-1:]``).",
                "a, b : array_like or Tensor", "array or Tensor",
                """>>> float(ad.dot(np.array([1.0, 2.0]), np.array([3.0, 4.0])))
11.0
>>> ad.grad(lambda v: ad.dot(v, v))(np.array([1.0, 2.0]))
array([2., 4.])"""),
    "matmul": _doc("Matrix product with NumPy's broadcasting of batch axes, as ``np.matmul`` "
                   "and ``@``; matrix products call BLAS, under ``ad.jit`` too.",
                   "a, b : array_like or Tensor", "array or Tensor", _M + """>>> (m @ m).sum().backward()
>>> m.grad
tensor([[ 7., 11.],
        [ 9., 13.]])"""),
    "trace": _doc("Sum along the ``offset`` diagonal of the 2-D slices over (axis1, axis2), the "
                  "other axes kept in order, as ``np.trace`` (any shape, square or not).",
                  """x : array_like or Tensor
offset, axis1, axis2 : int, optional""", "array or Tensor",
                  """>>> float(ad.trace(np.array([[1.0, 2.0], [3.0, 4.0]])))
5.0
>>> ad.grad(ad.trace)(np.zeros((2, 2)))
array([[1., 0.],
       [0., 1.]])"""),
    "transpose": _doc("Reverse the axes, or permute them (``transpose(x, (1, 0, 2))`` or "
                      "``transpose(x, 1, 0, 2)``), as ``np.transpose``.",
                      """x : array_like or Tensor
axes : tuple of ints, optional""", "array or Tensor",
                      """>>> ad.transpose(np.zeros((2, 3, 4))).shape
(4, 3, 2)"""),
    "reshape": _doc("The values in a new shape: ``reshape(x, (2, 3))``, ``reshape(x, 2, 3)`` or "
                    "``reshape(x, shape=(2, 3))``; one entry may be -1.",
                    """x : array_like or Tensor
shape : tuple of ints""", "array or Tensor", """>>> ad.reshape(np.arange(6.0), (2, -1)).shape
(2, 3)"""),
    "squeeze": _doc("Remove axes of length one, as ``np.squeeze`` (an axis named explicitly "
                    "must have length one; ``Tensor.squeeze(dim)`` skips it, as PyTorch).",
                    """x : array_like or Tensor
axis : int or tuple of ints, optional""", "array or Tensor",
                    """>>> ad.squeeze(np.zeros((1, 3, 1))).shape
(3,)"""),
    "var": _doc("Variance over the given axes; ``ddof=0`` as NumPy and JAX (PyTorch's default is "
                "unbiased: pass ``ddof=1``, or ``correction=``/``unbiased=``).",
                _AXIS + "\nddof : int, optional", "array or Tensor",
                """>>> float(ad.var(np.array([1.0, 2.0, 3.0, 4.0])))
1.25
>>> ad.grad(ad.var)(np.array([1.0, 3.0]))
array([-1.,  1.])"""),
    "std": _doc("Standard deviation, as ``norm(x - mean) / sqrt(n - ddof)``: the gradient is 0 "
                "where the data are constant (as PyTorch), not NaN.",
                _AXIS + "\nddof : int, optional", "array or Tensor",
                """>>> float(ad.std(np.array([1.0, 3.0])))
1.0
>>> ad.grad(ad.std)(np.array([2.0, 2.0]))
array([0., 0.])"""),
    "norm": _doc("Vector and matrix norms, as ``np.linalg.norm``: ``ord=None`` the 2-norm over "
                 "the given axes (all by default); vector ``ord`` any real or ``inf``; matrix "
                 "``ord`` 1, -1, 2, -2, inf, -inf, 'fro', 'nuc' (2, -2 and 'nuc' through the "
                 "singular values). The gradient at the zero vector is 0 (a subgradient), as "
                 "PyTorch.", """x : array_like or Tensor
ord : {None, int, float, inf, -inf, 'fro', 'nuc'}, optional
axis, dim : int or pair of ints, optional
keepdims, keepdim : bool, optional""", "array or Tensor",
                 """>>> float(ad.norm(np.array([3.0, 4.0])))
5.0
>>> float(ad.norm(np.array([[1.0, 2.0], [3.0, 4.0]]), ord=1))
6.0
>>> ad.grad(ad.norm)(np.array([3.0, 4.0]))
array([0.6, 0.8])"""),
    "det": _doc("Determinant of square matrices (batched over leading axes), as "
                "``np.linalg.det``.", "x : array_like or Tensor (..., n, n)",
                "array or Tensor", _S + """>>> round(float(ad.det(a)), 10)
11.0
>>> ad.grad(ad.det)(a)
array([[ 3., -1.],
       [-1.,  4.]])"""),
    "logdet": _doc("``log det x``: NaN where det < 0 and -inf where det == 0, as PyTorch.",
                   "x : array_like or Tensor (..., n, n)", "array or Tensor",
                   _S + """>>> round(float(ad.logdet(a)), 4)
2.3979"""),
    "slogdet": _doc("``(sign, log|det|)`` of square matrices, as ``np.linalg.slogdet``; the "
                    "sign has no derivative. Each output may be used alone.",
                    "x : array_like or Tensor (..., n, n)",
                    "sign, logabsdet : array or Tensor",
                    _S + """>>> sign, logabsdet = ad.slogdet(a)
>>> float(sign), round(float(logabsdet), 4)
(1.0, 2.3979)"""),
    "inv": _doc("Inverse of square matrices (batched), as ``np.linalg.inv``.",
                "x : array_like or Tensor (..., n, n)", "array or Tensor",
                """>>> ad.inv(np.array([[2.0, 0.0], [0.0, 4.0]]))
array([[0.5 , 0.  ],
       [0.  , 0.25]])"""),
    "solve": _doc("Solution x of ``a @ x = b`` (batched; b a vector or matrices), as "
                  "``np.linalg.solve``.", """a : array_like or Tensor (..., n, n)
b : array_like or Tensor
    Of shape (..., n) or (..., n, k).""", "array or Tensor",
                  _S + """>>> ad.solve(a, np.array([5.0, 4.0]))
array([1., 1.])"""),
    "cholesky": _doc("Lower Cholesky factor of symmetric positive definite matrices, as "
                     "``np.linalg.cholesky`` (reads the lower triangle).",
                     "x : array_like or Tensor (..., n, n)", "array or Tensor",
                     """>>> ad.cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
array([[2., 0.],
       [1., 2.]])"""),
    "eigh": _doc("``(w, V)`` of symmetric matrices, eigenvalues ascending, as "
                 "``np.linalg.eigh`` (reads the ``UPLO`` triangle). Derivatives of V are "
                 "undefined where eigenvalues repeat (adjit gives the finite part, as JAX).",
                 """x : array_like or Tensor (..., n, n)
UPLO : {'L', 'U'}, optional""", "w : array or Tensor\n    The eigenvalues, shape (..., n).\nV : array or Tensor\n    The eigenvectors (columns), shape (..., n, n).",
                 """>>> w, V = ad.eigh(np.array([[2.0, 0.0], [0.0, 1.0]]))
>>> w
array([1., 2.])"""),
    "eigvalsh": _doc("Eigenvalues of symmetric matrices, ascending, as ``np.linalg.eigvalsh``.",
                     """x : array_like or Tensor (..., n, n)
UPLO : {'L', 'U'}, optional""", "array or Tensor",
                     """>>> g = ad.grad(lambda m: ad.sum(ad.eigvalsh(m)))(np.array([[2.0, 1.0], [1.0, 3.0]]))
>>> bool(np.allclose(g, np.eye(2)))   # d trace / d m
True"""),
    "svd": _doc("``(u, s, vh)`` as ``np.linalg.svd`` (``s`` alone with ``compute_uv=False``). "
                "Differentiable with ``full_matrices=False`` and distinct singular values.",
                """x : array_like or Tensor (..., m, n)
full_matrices, compute_uv, hermitian : bool, optional""", "u, s, vh : arrays or Tensors",
                """>>> u, s, vh = ad.svd(np.array([[3.0, 0.0], [0.0, 2.0]]), full_matrices=False)
>>> s
array([3., 2.])"""),
    "svdvals": _doc("Singular values, descending, as ``np.linalg.svdvals``.",
                    "x : array_like or Tensor (..., m, n)", "array or Tensor",
                    """>>> ad.svdvals(np.array([[0.0, 2.0], [1.0, 0.0]]))
array([2., 1.])"""),
    "qr": _doc("``(q, r)`` as ``np.linalg.qr(x, mode='reduced')``; differentiable for m >= n.",
               """x : array_like or Tensor (..., m, n)
mode : {'reduced'}, optional""", "q, r : arrays or Tensors",
               """>>> q, r = ad.qr(np.array([[1.0, 0.0], [0.0, 2.0]]))
>>> np.abs(r)
array([[1., 0.],
       [0., 2.]])"""),
    "round": _doc("``np.round``: half to even at ``decimals`` digits, as NumPy; the derivative "
                  "is 0 (piecewise constant).", """x : array_like or Tensor
decimals : int, optional""", "array or Tensor", """>>> ad.round(np.array([0.5, 1.5, 2.345]), 1)
array([0.5, 1.5, 2.3])"""),
}
TEXT["around"] = TEXT["round"]
TEXT["cat"] = TEXT["concatenate"]
