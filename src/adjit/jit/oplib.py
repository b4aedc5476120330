"""The numba implementations op rows bring (`numba=`, e.g. the multi-output decompositions),
as attributes of this module: generated kernels call `oplib.<op name>(...)`, and numba
resolves the attribute (PEP 562 `__getattr__`) when it compiles the kernel."""
import hashlib
import inspect

from numba import njit

from ..core.registry import OPS
from .lowering import lib_impl

_compiled = {}


def __getattr__(name):
    op = OPS.get(name)
    f = None if op is None else lib_impl(op)
    if f is None:
        raise AttributeError(f"adjit: op '{name}' has no numba implementation")
    if name not in _compiled:
        _compiled[name] = njit(cache=True, error_model="numpy", nogil=True)(f)
    return _compiled[name]


def digest(op):
    """A digest of op's numba source, written into the kernels that call it: a changed
    implementation changes the kernel's text, so a kernel cached with the old one is not
    reused."""
    return hashlib.sha1(inspect.getsource(lib_impl(op)).encode()).hexdigest()[:12]
