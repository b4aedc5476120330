"""Forward mode: dual numbers (primal + tangent) pushed through the registry's JVP rules.

Internally a tangent carries its k directions on a *leading* axis (NumPy broadcasting then
serves elementwise rules unchanged); the public `.tangent` shows them trailing, as API.md says.
"""
import numpy as np

from .. import ops
from ..core.registry import USER_DUAL_LEVEL, Traced, primal_of
from ..ops.methods import attach, attach_inplace


def _shape(v):
    # np.shape costs ~0.3 us through its dispatcher; arrays and NumPy scalars have .shape
    s = getattr(v, "shape", None)
    return s if type(s) is tuple else np.shape(v)


class Dual(Traced):
    """A dual number (forward mode): ``.primal`` with ``.tangent`` directions attached.

    Create one with ``ad.dual(primal, tangent)``; see there. Ops on dual numbers push the
    tangent through each op's JVP rule, so ``f(dual(x, v)).tangent`` is ``J @ v``.

    Examples
    --------
    >>> y = ad.sin(ad.dual(np.array([0.0]), np.array([1.0])))
    >>> y.tangent
    array([1.])
    """
    __slots__ = ("_p", "_t", "_level")
    _what = "dual number"
    __array_priority__ = 1000

    def __init__(self, primal, tangent, level=USER_DUAL_LEVEL):
        p = primal if isinstance(primal, Traced) else np.asarray(primal)
        t = tangent if isinstance(tangent, Traced) else np.asarray(tangent)
        for what, v in (("primal", p), ("tangent", t)):
            if not isinstance(v, Traced) and v.dtype.kind not in "biufc":
                raise TypeError(f"adjit.dual: the {what} must be numeric, got dtype {v.dtype}")
        if not isinstance(p, Traced) and p.dtype.kind not in "fc":
            p = p.astype(np.float64)
        if not isinstance(t, Traced) and t.dtype.kind == "c" and (
                isinstance(p, Traced) or p.dtype.kind != "c"):
            raise TypeError("adjit.dual: a complex tangent for a real primal; the tangent must "
                            "have its primal's kind (pass the primal as complex, x + 0j)")
        if not isinstance(t, Traced):   # the tangent lives in the primal's dtype (float32 stays)
            t = t.astype(p.dtype if not isinstance(p, Traced) else np.float64, copy=False)
        ps, ts = tuple(_shape(p)), tuple(_shape(t))
        if ts == ps:
            pass
        elif len(ts) == len(ps) + 1 and ts[:-1] == ps:
            t = np.moveaxis(t, -1, 0) if not isinstance(t, Traced) else _moveaxis_last(t)
        else:
            raise ValueError(f"adjit.dual: tangent of shape {ts} does not match primal of shape "
                             f"{ps}; pass a tangent of shape {ps} (one direction) or "
                             f"{ps + ('k',)} (k directions)")
        self._p, self._t, self._level = p, t, level

    @classmethod
    def _make(cls, p, t, level):
        d = cls.__new__(cls)
        d._p, d._t, d._level = p, t, level
        return d

    def _raw(self):
        return self._p

    @property
    def primal(self):
        return self._p

    @property
    def tangent(self):
        nb = len(_shape(self._t)) - len(_shape(self._p))
        if nb == 0:
            return self._t
        if isinstance(self._t, Traced):
            nd = len(_shape(self._t))
            return ops.transpose(self._t, axes=tuple(range(1, nd)) + (0,))
        return np.moveaxis(self._t, 0, -1)

    @property
    def shape(self):
        return tuple(_shape(self._p))

    @property
    def size(self):
        return int(np.prod(self.shape))

    @property
    def dtype(self):
        v = primal_of(self._p)
        d = getattr(v, "dtype", None)  # no conversion: a dtype is not a read of the values
        return d if d is not None else np.asarray(v).dtype

    def __bool__(self):
        if isinstance(self._p, Traced):
            return bool(self._p)  # a traced value underneath (ad.jit) records the branch
        return bool(np.asarray(primal_of(self._p)))

    def item(self):
        self._check_number(".item()")
        return self._item()

    def _item(self):
        if isinstance(self._p, Traced):
            return self._p._item()
        return np.asarray(primal_of(self._p)).item()

    def tolist(self):
        self._check_number(".tolist()")
        return np.asarray(primal_of(self._p)).tolist()

    def _drops_derivative(self):
        # a dual of a transform (ad.jvp, ad.jacfwd ...), as JAX's tracers; a dual the user
        # made with ad.dual converts, as a Tensor of the Tensor API does
        return self._level != USER_DUAL_LEVEL

    def _carries_derivative(self):
        return True

    def __array__(self, dtype=None, copy=None):
        raise TypeError("adjit: a dual number cannot be turned into a NumPy array (that would "
                        "drop its tangent). Use ad.* ops or the NumPy functions adjit "
                        "implements inside differentiated code, or take .primal explicitly.")

    def __repr__(self):
        return f"Dual(primal={self._p!r}, tangent={self.tangent!r})"

    def _become(self, fn, *args):
        # the in-place primitive of d[idx] = v and d += v (ops/methods.attach_inplace)
        res = fn(self, *args)
        if not (isinstance(res, Dual) and res._level == self._level):
            raise TypeError(
                f"adjit: cannot assign a {type(args[-1]).__name__} of an inner transform into a "
                "dual number of an outer one (d[idx] = v or d += v inside nested transforms); "
                "build the new array with ad.where or ad.concatenate instead")
        self._p, self._t = res._p, res._t
        return self

    # -- the forward-mode layer --------------------------------------------------------------
    @staticmethod
    def _apply(op, args, params, level):
        prim, tans = [], []
        lead = None  # the batch axes of the tangents (the first tangent's leading axes)
        for a in args:
            if isinstance(a, Dual) and a._level == level:
                p, t = a._p, a._t
                prim.append(p)
                tans.append(t)
                if lead is None:
                    ts = tuple(_shape(t))
                    lead = ts[:len(ts) - len(_shape(p))]
            else:
                prim.append(a)
                tans.append(None)
        out = op(*prim, **params)
        if op.nondiff or lead is None:
            return out
        oshape = tuple(_shape(out))
        if op.broadcast:
            ond = len(oshape)
            tans = [t if t is None else _expand(t, p, ond) for t, p in zip(tans, prim)]
        t = op.forward(tuple(tans), out, tuple(prim), params)
        if t is None:
            return out
        want = lead + oshape
        if tuple(_shape(t)) != want:
            t = ops.broadcast_to(t, want)
        return Dual._make(out, t, level)


def _expand(t, p, ond):
    """Insert unit axes after the batch axes so a tangent broadcasts like its primal."""
    pnd = len(_shape(p))
    if pnd == ond:
        return t
    ts = tuple(_shape(t))
    nb = len(ts) - pnd
    return ops.reshape(t, ts[:nb] + (1,) * (ond - pnd) + ts[nb:])


def _moveaxis_last(t):
    nd = len(_shape(t))
    return ops.transpose(t, axes=(nd - 1,) + tuple(range(nd - 1)))


def dual(primal, tangent):
    """A dual number for forward mode: a value with a tangent (direction) attached.

    Ops on a dual number (``ad.*`` functions, operators, methods and NumPy functions with an
    adjit row) return dual numbers whose ``.tangent`` is the directional derivative, as
    ``torch.autograd.forward_ad.make_dual``.

    Parameters
    ----------
    primal : array_like
        The value (integers become float64).
    tangent : array_like
        The direction: of ``primal``'s shape, or of shape ``primal.shape + (k,)`` to push
        ``k`` directions at once (the output tangents then have a trailing axis of ``k``).

    Returns
    -------
    Dual
        With ``.primal`` and ``.tangent``.

    Raises
    ------
    ValueError
        If the tangent's shape matches neither form.
    TypeError
        If the primal or the tangent is not numeric.

    See Also
    --------
    jvp : the functional form.

    Examples
    --------
    >>> d = ad.dual(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    >>> y = d ** 2
    >>> y.primal
    array([1., 4.])
    >>> y.tangent
    array([2., 0.])
    >>> (ad.dual(np.array([1.0, 2.0]), np.eye(2)) ** 2).tangent
    array([[2., 0.],
           [0., 4.]])
    """
    return Dual(primal, tangent)


attach(Dual)
attach_inplace(Dual)
