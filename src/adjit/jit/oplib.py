"""The numba implementations op rows bring (`numba=`, e.g. the multi-output decompositions),
as attributes of this module: generated kernels call `oplib.<op name>(...)` (a row's
`jit["call"]`), and numba resolves the attribute (PEP 562 `__getattr__`) when it compiles the
kernel."""
from numba import njit

from ..core.registry import OPS

_compiled = {}


def __getattr__(name):
    op = OPS.get(name)
    f = None if op is None else getattr(op, "numba", None)
    if f is None:
        raise AttributeError(f"adjit: op '{name}' has no numba implementation")
    if name not in _compiled:
        _compiled[name] = njit(cache=True, error_model="numpy", nogil=True)(f)
    return _compiled[name]
