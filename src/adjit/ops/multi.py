"""Ops with several outputs (slogdet's sign and log|det|, eigh's eigenvalues and vectors ...).

A multi-output op is ONE registry op whose primal packs its outputs into one array, flattened
one after the other along a last axis (`batch + (total,)`), and whose public function unpacks
that array with ordinary getitem and reshape ops. So no engine needs to know about tuples: in
reverse mode an unused output's cotangent arrives as zeros (getitem's VJP), in forward mode the
tangents of unused outputs are computed and dropped, and ad.jit compiles the packed op through
the row's numba implementation (one call per matrix, `numba=`) and the unpacking as index maps.

The rules are written per output, on unpacked values, in ad ops (so they differentiate again):
    vjp(gs, outs, *inputs, **params) -> cotangents of the inputs (gs: one per output)
    jvp(tangents, outs, *inputs, **params) -> one tangent per output (None for a zero)
"""
import hashlib
import math

import numpy as np

from ..core.complexrule import ComplexRule, any_complex, unsupported
from ..core.registry import Op, Traced, register
from .axes import batch, shape
from .shape import concatenate, getitem, reshape


class MultiOp(Op):
    """A registry row with several outputs, packed into one array (see the module docstring).

    cores(*input_shapes, **params) -> the core shape of each output (the batch shape is the
    inputs' shape without their last `core_in` axes). numba: a Python function of one input's
    core arrays (2-d) returning the packed 1-d result, compiled by ad.jit (`jit/oplib.py`)."""

    def __init__(self, name, primal, vjp, jvp, *, cores, numba=None, core_in=2, **flags):
        flags.setdefault("saves_out", True)
        if numba is not None:
            # ad.jit: one call per matrix of the batch (producers.p_lib); the code's digest in
            # the kernel's text, so a kernel cached with an older implementation is not reused
            # (numba's cache does not track the functions a kernel calls)
            code = numba.__code__
            digest = hashlib.sha1(code.co_code + repr(code.co_consts).encode()).hexdigest()[:12]
            flags.setdefault("lower", "lib")
            flags.setdefault("jit", {"call": f"oplib.{name}({{0}})  # numba code {digest}",
                                     "core": 1})
        super().__init__(name, self._packed(primal), vjp, jvp, **flags)
        self.unpacked_primal = primal
        self.cores = cores
        self.numba = numba
        self.core_in = core_in

    def _packed(self, primal):
        def packed(*inputs, **params):
            outs = primal(*inputs, **params)
            b = self.batch_of(inputs)
            dt = np.result_type(*outs)
            # explicit sizes: -1 is ambiguous for an empty batch
            return np.concatenate([np.reshape(np.asarray(o, dtype=dt),
                                              b + (int(np.prod(np.shape(o)[len(b):])),))
                                   for o in outs], axis=-1)
        return packed

    def batch_of(self, inputs):
        return tuple(np.broadcast_shapes(*(shape(x)[:len(shape(x)) - self.core_in]
                                           for x in inputs)))

    def _cores_of(self, inputs, params):
        return self.cores(*(shape(x) for x in inputs), **params)

    # -- unpacking: works on arrays, Tensors, duals and tracers alike -------------------------
    def unpack(self, packed, inputs, params):
        """The outputs of a packed value (or cotangent): as few ops as the core shapes need (a
        plain array, e.g. a first-order cotangent, is simply sliced)."""
        cores = self._cores_of(inputs, params)
        b = tuple(shape(packed)[:-1])
        plain = not isinstance(packed, Traced)
        outs, start = [], 0
        for c in cores:
            c = tuple(c)
            n = math.prod(c)
            if plain:
                piece = np.reshape(packed[..., start:start + n], b + c)
            elif not c:
                piece = getitem(packed, idx=(Ellipsis, start))
            else:
                piece = getitem(packed, idx=(Ellipsis, slice(start, start + n)))
                if len(c) > 1:
                    piece = reshape(piece, b + c)
            outs.append(piece)
            start += n
        return tuple(outs)

    # -- the layers call these ------------------------------------------------------------------
    def _complex_rule(self, out, inputs):
        """The ComplexRule to use at complex values (its rules see unpacked outputs, as the
        row's own), or None for the row's rules."""
        if self.complex is True or not any_complex(out, inputs):
            return None
        if not isinstance(self.complex, ComplexRule):
            raise unsupported(self)
        return self.complex

    def backward(self, g, out, inputs, params, needs):
        rule = self._complex_rule(out, inputs)
        gs = self.unpack(g, inputs, params)
        outs = self.unpack(out, inputs, params)
        if rule is not None:
            return rule.vjp(gs, outs, *inputs, **params)
        if self.vjp_needs:
            return self.vjp(gs, outs, *inputs, _needs=needs, **params)
        return self.vjp(gs, outs, *inputs, **params)

    def forward(self, tangents, out, inputs, params):
        rule = self._complex_rule(out, inputs)
        outs = self.unpack(out, inputs, params)
        ts = (self.jvp if rule is None else rule.jvp)(tangents, outs, *inputs, **params)
        k = next(i for i, t in enumerate(tangents) if t is not None)
        b = tuple(batch(tangents[k], inputs[k])) + tuple(shape(out)[:-1])
        nb = len(shape(out)) - 1
        pieces = []
        for t, o in zip(ts, outs):
            n = int(np.prod(shape(o)[nb:], dtype=int))
            pieces.append(np.zeros(b + (n,)) if t is None else reshape(t, b + (n,)))
        if len(pieces) == 1:
            return pieces[0]
        return concatenate(pieces, axis=-1)


def defop_multi(name, primal, vjp, jvp, **flags):
    return register(MultiOp(name, primal, vjp, jvp, **flags))


def call_multi(op, *inputs, **params):
    """Call a multi-output op: a tuple of outputs. Plain arrays go straight to the primal (and
    get NumPy's result, e.g. its named tuple)."""
    if not any(isinstance(x, Traced) for x in inputs):
        return op.unpacked_primal(*inputs, **params)
    return op.unpack(op(*inputs, **params), inputs, params)
