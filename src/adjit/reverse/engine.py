"""The backward engine: `run_backward` walks the recorded graph; `backward` and `grad` are
`ad.autograd`'s entry points and `Tensor.backward` is attached here (the Tensor module does not
import the engine)."""
import operator

import numpy as np

from ..core import grad_mode
from ..core.registry import EAGER_LEVEL, Traced
from ..core.registry import primal_of as _inner
from .tensor import Node, Tensor


def _topo(roots):
    """Nodes reachable from roots, each after every node that consumes it: reachability, then
    decreasing creation order (Node.seq), cheaper than an ordering depth-first search."""
    seen = set(roots)
    stack = list(seen)
    while stack:
        for c in stack.pop().next:
            if type(c) is Node and c not in seen:
                seen.add(c)
                stack.append(c)
    return sorted(seen, key=_SEQ, reverse=True)


_SEQ = operator.attrgetter("seq")


def _wrap(g, level):
    return g if isinstance(g, Tensor) and g._level == level else Tensor._make(g, level)


def _unwrap_hook_result(r, level, create_graph):
    if isinstance(r, Tensor) and r._level == level:
        return r if create_graph else r._data
    return r


def _run_hooks(hooks, g, level, create_graph):
    """Tensor hooks see the gradient as a Tensor and may return a replacement, or change the
    one they got in place (g.mul_(2)) and return None, as in PyTorch."""
    for h in list(hooks):
        w = _wrap(g, level)
        r = h(w)
        new = _unwrap_hook_result(w if r is None else r, level, create_graph)
        ns, gs = _shape_of(new), _shape_of(g)
        if ns != gs:
            raise RuntimeError(
                f"adjit: hook {getattr(h, '__name__', h)!s} returned a gradient of shape {ns} "
                f"for a tensor of shape {gs}; a hook must return None or a gradient of the "
                "same shape")
        g = new
    return g


def _shape_of(v):
    return tuple(v.shape) if isinstance(v, Traced) else np.shape(v)


def run_backward(roots, grads, retain_graph, create_graph, capture=None):
    """Propagate `grads` (one per root tensor) backwards.

    capture: None to accumulate into leaves' .grad (Tensor.backward); otherwise a list of
    tensors whose gradients are returned instead (autograd.grad), .grad left untouched.
    """
    level = roots[0]._level
    eager = level == EAGER_LEVEL
    if not eager:
        create_graph = False  # functional levels differentiate through their raw values
    # cotangents per call (keyed by node), so threads and re-entrant backward calls on one
    # shared graph do not mix
    node_g, leaf_g, root_nodes = {}, {}, []
    for t, g in zip(roots, grads):
        n = t._grad_fn
        if n is None:
            prev = leaf_g.get(id(t))
            leaf_g[id(t)] = [t, g, False] if prev is None else [t, prev[1] + g, False]
        else:
            prev = node_g.get(n)
            node_g[n] = g if prev is None else prev + g
            root_nodes.append(n)
    cap_nodes = None
    if capture is not None:
        cap_nodes = {}
        for i, t in enumerate(capture):
            if t._grad_fn is not None:
                cap_nodes.setdefault(id(t._grad_fn), []).append(i)
        captured = [None] * len(capture)
    else:
        captured = None
    order = _topo(root_nodes)
    mode = grad_mode.state
    prev_mode = mode.enabled
    mode.enabled = bool(create_graph) if eager else prev_mode
    # inf partials at domain edges (sqrt'(0), log'(0)) are expected values of a backward
    # pass, as in PyTorch; NumPy's warnings about them would only be noise
    errs = np.errstate(divide="ignore", invalid="ignore")
    errs.__enter__()
    try:
        for node in order:
            g = node_g.pop(node, None)
            if g is None:
                continue
            if node.pre_hooks or node.retain is not None or cap_nodes:
                g = _visit(node, g, level, create_graph, capture, cap_nodes, captured)
            cts = node.apply(g, create_graph)
            if not retain_graph:
                node.free()
            for c, nx in zip(cts, node.next):
                if c is None or nx is None:
                    continue
                if type(nx) is Node:
                    prev = node_g.get(nx)
                    node_g[nx] = c if prev is None else prev + c
                else:
                    k = id(nx)
                    prev = leaf_g.get(k)
                    if prev is None:
                        leaf_g[k] = [nx, c, False]
                    else:
                        # a sum made here: no one else holds it, .grad may take it uncopied
                        prev[1] = prev[1] + c
                        prev[2] = True
        for leaf, g, own in leaf_g.values():
            if leaf._hooks:
                g = _run_hooks(leaf._hooks, g, level, create_graph)
                own = False
            if capture is None:
                _accumulate(leaf, g, create_graph, level, own)
            else:
                for i, t in enumerate(capture):
                    if t is leaf:
                        captured[i] = g
    finally:
        mode.enabled = prev_mode
        errs.__exit__(None, None, None)
    return captured if capture is not None else None


def _visit(node, g, level, create_graph, capture, cap_nodes, captured):
    """A node's hooks, retain_grad and capture (autograd.grad's inputs) before its VJP runs."""
    if node.pre_hooks:
        g = _run_hooks(node.pre_hooks, g, level, create_graph)
    if node.retain is not None and capture is None:
        t = node.retain()
        if t is not None:
            _accumulate(t, g, create_graph, level)
    if cap_nodes and id(node) in cap_nodes:
        for i in cap_nodes[id(node)]:
            captured[i] = g
    return g


def _accumulate(t, g, create_graph, level, own=False):
    """Add g into t.grad; own: g is an array this backward made and no one else holds."""
    if create_graph:
        g = _wrap(g, level)
        t._grad = g if t._grad is None else t._grad + g
        return
    d = t._data
    if own and t._grad is None and type(g) is np.ndarray and type(d) is np.ndarray \
            and g.dtype == d.dtype and g.flags.writeable:
        t._grad = Tensor._make(g, level)   # a large gradient is not copied once more
        return
    g = np.array(_inner(g) if isinstance(g, Tensor) else g,
                 dtype=d.dtype if type(d) is np.ndarray else t.dtype, copy=True)
    if t._grad is None:
        t._grad = Tensor._make(g, level)
    else:
        t._grad._data = t._grad._data + g


def _root_grads(tensors, grad_tensors, create_graph):
    out = []
    for i, t in enumerate(tensors):
        g = None if grad_tensors is None else grad_tensors[i]
        d = t._data
        if g is None:
            seed = _seed(d)
            if seed is not None:  # the common case, fast
                out.append(Tensor._make(seed, t._level) if create_graph else seed)
                continue
        if g is None:
            if t.dtype.kind == "c":
                raise RuntimeError(
                    "grad can be implicitly created only for real scalar outputs (this one is "
                    f"{t.dtype}); pass gradient= (the cotangent, JAX's convention), or "
                    "backward from a real quantity, e.g. ad.real(y) or abs(y) ** 2")
            if t.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs (this output has "
                    f"shape {t.shape}); pass gradient= (a tensor of shape {t.shape}), or "
                    "reduce the output first, e.g. y.sum().backward()")
            g = np.ones(t.shape, dtype=t.dtype)
        else:
            if not isinstance(g, Traced) and (
                    g is None or np.asarray(g).dtype.kind not in "biufc"):
                raise TypeError(
                    f"gradient (grad_output[{i}]) must be numeric, got {type(g).__name__} "
                    f"{g!r:.40}; pass a float array or tensor of shape {t.shape}")
            gs = g.shape if isinstance(g, Traced) else np.shape(g)
            if tuple(gs) != t.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {tuple(gs)} and "
                    f"output[{i}] has a shape of {t.shape}. Pass a gradient of shape {t.shape}.")
            if isinstance(g, Tensor) and g._level == t._level:
                g = g if create_graph else g._data
            elif not isinstance(g, Traced):
                if np.asarray(g).dtype.kind == "c" and t.dtype.kind != "c":
                    raise TypeError(
                        f"gradient (grad_output[{i}]) is complex but output[{i}] is real "
                        f"({t.dtype}); a real output takes a real cotangent (JAX's convention)")
                g = np.asarray(g, dtype=t.dtype)
        out.append(Tensor._make(g, t._level) if create_graph and not isinstance(g, Tensor)
                   else g)
    return out


def _check_roots(tensors):
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"adjit.autograd: expected Tensors as outputs, got "
                            f"{type(t).__name__} at position {i}")
        if not t._rg:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn. "
                "Set requires_grad=True on the leaf inputs *before* computing the result "
                "(setting it on a computed result does not help), and make sure the "
                "computation did not run under ad.no_grad().")


def _as_list(x):
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of `tensors` into the leaves' ``.grad``, as
    ``torch.autograd.backward``.

    Parameters
    ----------
    tensors : Tensor or sequence of Tensor
    grad_tensors : array_like or sequence, optional
        The cotangents (required for tensors with more than one element).
    retain_graph, create_graph : bool, optional
        Keep the graph's saved values; record the backward pass (higher derivatives).
    inputs : sequence of Tensor, optional
        Accumulate into these tensors only.

    Examples
    --------
    >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> ad.autograd.backward([(x * x).sum()])
    >>> x.grad
    tensor([2., 4.])
    """
    tensors = _as_list(tensors)
    if grad_tensors is not None:
        grad_tensors = _as_list(grad_tensors)
    _check_roots(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    gs = _root_grads(tensors, grad_tensors, create_graph)
    if inputs is not None:
        inputs = _as_list(inputs)
        res = run_backward(tensors, gs, retain_graph, create_graph, capture=inputs)
        for t, g in zip(inputs, res):
            if g is not None:
                _accumulate(t, g, create_graph, t._level)
        return
    run_backward(tensors, gs, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """The gradients of `outputs` with respect to `inputs`, returned (not accumulated into
    ``.grad``), as ``torch.autograd.grad``.

    Parameters
    ----------
    outputs, inputs : Tensor or sequence of Tensor
    grad_outputs : array_like or sequence, optional
        The cotangents of the outputs (required for outputs with more than one element).
    retain_graph, create_graph : bool, optional
        ``create_graph=True`` records the gradient's computation (differentiate it again).
    allow_unused : bool, optional
        Return None for an input the outputs do not depend on, instead of raising.

    Returns
    -------
    tuple of Tensor

    Examples
    --------
    >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> (g,) = ad.autograd.grad((x ** 3).sum(), x, create_graph=True)
    >>> g
    tensor([ 3., 12.], grad_fn=<MulBackward>)
    >>> ad.autograd.grad(g.sum(), x)
    (tensor([ 6., 12.]),)
    """
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t._rg:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require "
                               "grad; set requires_grad=True on it before computing outputs")
    _check_roots(outputs)
    if grad_outputs is not None:
        grad_outputs = _as_list(grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    gs = _root_grads(outputs, grad_outputs, create_graph)
    res = run_backward(outputs, gs, retain_graph, create_graph, capture=inputs)
    out = []
    for i, (t, g) in enumerate(zip(inputs, res)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {i}) appears to not have been "
                    "used in the graph. Set allow_unused=True if this is the desired behavior.")
            out.append(None)
            continue
        if create_graph:
            out.append(_wrap(g, t._level))
        else:
            g = np.array(_inner(g), copy=True) if not isinstance(g, Traced) or \
                isinstance(g, Tensor) else g
            out.append(Tensor._make(g, t._level) if not isinstance(g, Traced) else g)
    return tuple(out)


def _tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    if gradient is None and inputs is None and not create_graph and self._rg:
        # the common case (loss.backward()), without backward()'s argument handling
        seed = _seed(self._data)
        if seed is not None:
            run_backward([self], [seed], bool(retain_graph), False)
            return
    backward([self], None if gradient is None else [gradient], retain_graph, create_graph,
             inputs=inputs)


def _seed(d):
    """The cotangent 1 of a real one-element value d, a fresh array (None for any other
    value: the checked path). A NumPy scalar (the sum of an array) gets a 0-d array."""
    t = type(d)
    if t is np.float64:
        return _ones((), d.dtype)
    if t is np.ndarray and d.size == 1 and d.dtype.kind == "f":
        return _ones(d.shape, d.dtype)
    return None


def _ones(shape, dtype):
    # a copy of a cached template: np.ones costs ~1 us through its Python wrapper
    key = (shape, dtype)
    one = _ONES.get(key)
    if one is None:
        if len(_ONES) > 64:
            _ONES.clear()
        one = _ONES[key] = np.ones(shape, dtype)
    return one.copy()


_ONES = {}


Tensor.backward = _tensor_backward
