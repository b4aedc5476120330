"""Reference text generated from the rows or kept apart from the code it documents:
- the methods every wrapper type (Tensor, Dual, ad.jit's Tracer) gets from ops/methods.py: a
  method that is an op's public function under another spelling points to that function (whose
  docstring has the details and examples); the PyTorch/NumPy-signature methods written in
  methods.py get their own text here;
- the elementwise rows' docstrings, written from their formulas (primal, partials, NumPy
  function, test domain), with an example that checks the value against NumPy and the
  derivatives against central differences."""
from ..core.registry import OPS, public_names
from .elementwise import Elementwise
from .reference_text import TEXT

OWN = {
    "T": """The transpose (all axes reversed), as NumPy's ``.T``.

Examples
--------
>>> ad.tensor([[1.0, 2.0]]).T.shape
(2, 1)
""",
    "mT": """The last two axes swapped (a batch of matrices transposed), as NumPy's ``.mT``.

Examples
--------
>>> ad.tensor(np.zeros((4, 2, 3))).mT.shape
(4, 3, 2)
""",
    "transpose": """PyTorch's ``t.transpose(d0, d1)`` swaps two axes; any other arguments
permute as NumPy's ``t.transpose(*axes)``.

Examples
--------
>>> ad.tensor(np.zeros((2, 3, 4))).transpose(0, 2).shape
(4, 3, 2)
""",
    "permute": """The axes in the given order (PyTorch's ``permute``).

Examples
--------
>>> ad.tensor(np.zeros((2, 3, 4))).permute(2, 0, 1).shape
(4, 2, 3)
""",
    "reshape": """The values in a new shape: ``t.reshape(2, 3)`` or ``t.reshape((2, 3))``.

Examples
--------
>>> ad.tensor(np.arange(6.0)).reshape(2, 3).shape
(2, 3)
""",
    "view": """PyTorch's name for ``reshape`` (adjit does not distinguish views).

Examples
--------
>>> ad.tensor(np.arange(6.0)).view(3, -1).shape
(3, 2)
""",
    "flatten": """The values as one axis.

Examples
--------
>>> ad.tensor(np.zeros((2, 3))).flatten().shape
(6,)
""",
    "clamp": """PyTorch's ``clamp(min=None, max=None)``: ``ad.clip`` (bounds may be tensors).

Examples
--------
>>> ad.tensor([-1.0, 0.5, 2.0]).clamp(0.0, 1.0)
tensor([0.0000, 0.5000, 1.0000])
""",
    "squeeze": """Remove axes of length one (``axis``/``dim``: only those; as PyTorch, a named
axis whose length is not one is left alone).

Examples
--------
>>> ad.tensor(np.zeros((1, 3, 1))).squeeze().shape
(3,)
""",
    "unsqueeze": """A new axis of length one at ``dim`` (PyTorch's ``unsqueeze``).

Examples
--------
>>> ad.tensor([1.0, 2.0]).unsqueeze(0).shape
(1, 2)
""",
    "astype": """The values cast to ``dtype``: between float dtypes differentiable (the cotangent
is cast back), to an integer or bool dtype without a derivative.

Examples
--------
>>> ad.tensor([1.5]).astype(np.float32).dtype
dtype('float32')
""",
    "float": """The values as float32 (PyTorch's ``.float()``), differentiable.

Examples
--------
>>> ad.tensor([1.5]).float().dtype
dtype('float32')
""",
    "double": """The values as float64 (PyTorch's ``.double()``), differentiable.

Examples
--------
>>> ad.tensor(np.float32([1.5])).double().dtype
dtype('float64')
""",
    "t": """PyTorch's ``t()``: a matrix transposed; 0-d and 1-d tensors as they are.

Examples
--------
>>> ad.tensor(np.zeros((2, 3))).t().shape
(3, 2)
""",
    "numel": """The number of elements (PyTorch's ``numel()``).

Examples
--------
>>> ad.tensor(np.zeros((2, 3))).numel()
6
""",
}


def pointer(method, fn):
    """The text of a method that is the public function `fn` under another spelling."""
    name = getattr(fn, "__name__", None) or getattr(fn, "name", method)
    text = (f"``t.{method}(*args, **kwargs)`` is ``ad.{name}(t, *args, **kwargs)``: see "
            f":func:`adjit.{name}`.\n")
    if isinstance(fn, Elementwise) and len(fn.args) == 1:
        text += (f"\nExamples\n--------\n>>> t = ad.tensor({_points(fn, 0, (0.31, 0.73))})\n"
                 f">>> bool(np.allclose(t.{method}().numpy(), ad.{name}(t).numpy()))\nTrue\n")
    return text


def _points(op, i, fractions):
    """Example inputs inside the row's domain, away from its kinks."""
    r = op.domain if op.domain is not None else (-2.0, 2.0)
    q = r[i] if isinstance(r[0], (tuple, list)) else r
    lo, hi = q[0], q[1]
    away, gap = (tuple(q[2]) if len(q) > 2 else ()), (q[3] if len(q) > 3 else 0.05)
    out = []
    for f in fractions:
        v = lo + (hi - lo) * f
        while any(abs(v - p) < 2 * gap for p in away):
            v += 2 * gap
        out.append(round(v, 3))
    return out


def elementwise_doc(op):
    """The docstring of an elementwise row."""
    args = op.args
    npf = op.numpy[0] if op.numpy else None
    np_name = f"``np.{npf.__name__}``" if npf is not None else "the formula"
    parts = "; ".join(f"d/d{a} = ``{p}``" for a, p in zip(args, op.partials))
    lines = [f"{op.name}({', '.join(args)})", "",
             f"Elementwise, as {np_name}: ``y = {op.f}``; {parts}"
             f"{' (in terms of the output y)' if any('y' in p.split() for p in op.partials) else ''}.",
             "Arrays give arrays; Tensors, dual numbers and ``ad.jit``'s traced values give the "
             "same type, differentiable to any order"
             f"{' (inputs broadcast as in NumPy)' if len(args) > 1 else ''}.", "",
             "Parameters", "----------"]
    lines += [f"{a} : array_like or Tensor" for a in args]
    lines += ["", "Returns", "-------", "array or Tensor", "", "Examples", "--------"]
    fr = [(0.31, 0.73), (0.62, 0.27)]
    for i, a in enumerate(args):
        lines.append(f">>> {a} = np.array({_points(op, i, fr[i % 2])})")
    call = ", ".join(args)
    if npf is not None:
        lines += [f">>> bool(np.allclose(ad.{op.name}({call}), np.{npf.__name__}({call})))", "True"]
    lines += [f">>> ad.gradcheck(ad.{op.name}, ({call}{',' if len(args) == 1 else ''}))", "True"]
    return "\n".join(lines) + "\n"


def document_rows():
    """Give every exported elementwise row without its own docstring the generated one, and
    the public functions of reference_text.TEXT theirs."""
    for op in OPS.values():
        if isinstance(op, Elementwise) and op.export and "__doc__" not in op.__dict__:
            op.__doc__ = elementwise_doc(op)
    names = public_names()
    for name, text in TEXT.items():
        if name in names:
            names[name].__doc__ = text
