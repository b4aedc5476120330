"""numba's start-up without `import scipy.linalg`.

When numba first compiles or loads a function in a process, its target context imports
`numba.np.arraymath`, whose import checks for BLAS with `import scipy.linalg.cython_blas`: that
imports the whole `scipy.linalg` package first (~0.2 s on a quiet machine, 0.5 s on a busy one:
most of a cached `ad.jit` kernel's load time), although numba only needs the Cython module's
table of BLAS function pointers. `preload()` loads that extension module alone, under its own
name, before numba starts; numba's imports of it (and its C helpers' lookups of the BLAS
functions) then find it in `sys.modules`. A later `import scipy.linalg` runs as usual; a finder
binds the preloaded module as the package's `cython_blas` attribute then, as a normal import
would have.
"""
import importlib.machinery
import importlib.util
import os
import sys

_NAME = "scipy.linalg.cython_blas"


class _BindOnImport:
    """Meta-path finder, active until scipy.linalg is imported: the package gets its
    `cython_blas` attribute (the preloaded module) before its code runs."""

    def find_spec(self, name, path=None, target=None):
        if name != "scipy.linalg":
            return None
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            mod = sys.modules.get(_NAME)
            if mod is not None:
                module.cython_blas = mod
            run(module)
        spec.loader.exec_module = exec_module
        return spec


def preload():
    """Load scipy.linalg.cython_blas without its package (once; does nothing when SciPy is
    missing, when scipy.linalg is already imported, or on any surprise: numba then imports it
    as it always did)."""
    if _NAME in sys.modules or "scipy.linalg" in sys.modules:
        return
    try:
        import scipy
        d = os.path.join(os.path.dirname(scipy.__file__), "linalg")
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(d, "cython_blas" + suffix)
            if os.path.exists(path):
                break
        else:
            return
        spec = importlib.util.spec_from_file_location(_NAME, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = mod
        try:
            spec.loader.exec_module(mod)
        except BaseException:
            sys.modules.pop(_NAME, None)
            raise
        sys.meta_path.insert(0, _BindOnImport())
    except Exception:  # noqa: BLE001 - an optimisation only: numba imports it itself
        return
