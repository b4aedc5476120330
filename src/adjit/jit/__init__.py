"""`ad.jit`: trace a function once per signature, compile it (derivatives included) into one
numba kernel, cache the machine code on disk.

    g = ad.jit(ad.grad(f))
    g(x)          # first call for this shape/dtype: trace, generate, compile (or load from disk)
    g(x2)         # later calls: one compiled kernel, no Python per op

How it works (see trace.py and codegen.py): the function runs once on `Tracer`s, which record
every registry op into a flat tape. Transforms inside it run their Tensor/Dual layers on the
tracers, so the tape holds the forward and the backward (or tangent) computations as ordinary
ops. Codegen fuses the tape into loops and writes a module under the adjit cache directory,
compiled with `numba.njit(cache=True)`, so a new process loads it instead of compiling.

Signature of a specialisation: the structure of the arguments (tuples, lists, dicts), the shape
and dtype of every array, the type of every float (a float is an input of the kernel: a new
value never retraces, and a float64 after a float32 gets its own kernel instead of being
narrowed), and the value of every int / bool / other static argument. Shapes whose code
differs only in numbers share one kernel (template.py: the first call compiles it, tracing f a
second time at other sizes to find those numbers). Python control flow on
traced values (`if`, `while`, `float(x)`) is recorded as
guards that the kernel checks; when one fails, the function is traced again for that input and
the new specialisation kept too (up to `max_specializations` per signature; past that, and for
ops the compiler does not know, it runs eagerly with a one-time warning). float32 and float64
arrays get kernels of their own dtype; float16 arrays run the float32 kernel and its float32
results come back as float16 (numba has no CPU float16).

Runs eagerly (with a one-time RuntimeWarning naming the reason): custom ops (`ad.custom_op`),
NumPy functions without an adjit row applied to traced values (`np.sort(x)`, `np.asarray(x)`;
`np.sin(x)` and the other NumPy functions with rows are traced like `ad.sin`), integer-array
indices that are themselves traced (arguments: the warning says to close over them), rows
without a compiled form at complex values (complexlower.py lists the rows that have one: the
warning names the row). complex64 / complex128 arrays and scalars get kernels of their own
dtype; `ad.fft` runs NumPy's FFT from inside the kernel (fftlower.py). Called on Tensors or dual numbers (e.g.
`ad.grad(ad.jit(f))`) the function simply runs inline. Values read into Python with `float()`,
`int()`, `.item()` are guarded for equality, so they are correct but retrace for each new
value (a float read may differ from its traced value by a few ulps: libm and NumPy's
vectorized functions do). Closed-over arrays, globals and object state that f reads are
constants of the kernel, frozen at trace time as in `jax.jit`: pass arrays that change as
arguments. So are Tensors without requires_grad that f makes (ad.ones) or closes over (a
Tensor buffer `y = ad.zeros(n); y[i] = x` holds traced values); what f returns as a Tensor
comes back as one (trace.held_value). Kernels live in the adjit cache directory, pruned least recently used first (see
cache.py). Results: elementwise formulas are the registry's own; sums add in NumPy's pairwise
order; 1-D/2-D matrix products call BLAS like NumPy (batched ones are loops), so compiled
results agree with eager ones to the last bit except where libm's transcendental functions
(sin, tanh...) and NumPy's vectorized ones differ by an ulp.
"""
import os
import sys
import threading
import types
import warnings

import numpy as np

from .. import kernels
from . import cache
from ..core.registry import Traced, new_level
from ..transforms.pytree import tree_flatten, tree_unflatten
from ..transforms.vmap import vmap_of
from . import entry, progress, rewrite
from .parallel import call_on_threads, thread_count
from .trace import Fallback, GuardFailure, Trace, Tracer, held_value

__all__ = ["jit"]

MAX_SPECIALIZATIONS = 8


_DYN, _INT, _STATIC = 0, 1, 2


def _classify(leaf):
    """(kind, key part) of one argument leaf."""
    t = type(leaf)
    if t is np.ndarray:
        if leaf.dtype.kind not in "biufc":
            return _STATIC, None        # strings, objects: _unsupported_leaf
        return _DYN, (leaf.shape, leaf.dtype.str)
    if t is float or isinstance(leaf, np.floating) or t is complex or \
            isinstance(leaf, np.complexfloating):
        return _DYN, t
    if t is bool or t is int or isinstance(leaf, (np.integer, np.bool_)):
        return _INT, (t, leaf)
    try:
        hash(leaf)
    except TypeError:
        return _STATIC, None
    return _STATIC, (t, leaf)


def _unsupported_leaf(lf):
    """The fallback warning for an argument the compiler cannot take."""
    from .lowering import SUPPORTED_DTYPES
    if type(lf) is np.ndarray:
        return (f"an argument of dtype {lf.dtype} is not supported by the compiler (supported: "
                f"{SUPPORTED_DTYPES}); running eagerly")
    return (f"an argument of type {type(lf).__name__} is neither an array nor hashable; "
            "running eagerly")


# ---------------------------------------------------------------------------------------------

class _Spec:
    __slots__ = ("entry", "path")


class JitState:
    """Per-function cache of specialisations (what `ad.jit` keeps between calls)."""

    def __init__(self, f, max_specializations):
        self.f = f
        self.max_spec = max_specializations
        self.cache = {}
        self.fast = None
        self.n_traces = 0
        self.n_eager = 0
        self.eager_keys = set()
        self.warned = set()
        self.lock = threading.RLock()
        self.parallel = False   # kernels whose loops over the batch run on threads (parloops)

    # -- slow path: signature lookup, retrace, fallback ------------------------------------
    # self.cache[key] is a tuple, replaced (never changed in place) under self.lock: a thread
    # iterating it sees one consistent snapshot while another adds or reorders entries.
    def call(self, args, kw):
        leaves, spec = tree_flatten((args, kw))
        if any(type(lf) is np.ndarray and lf.dtype == np.float16 for lf in leaves):
            return self.half(args, kw, leaves, spec)
        parts, kparams = [], []
        for lf in leaves:
            if isinstance(lf, Traced):
                return self.f(*args, **kw)   # called inside another transform: run inline
            kind, part = _classify(lf)
            if part is None:
                return self.eager(args, kw, None, _unsupported_leaf(lf))
            parts.append((kind, part))
            if kind != _STATIC:
                if type(lf) is np.ndarray and not (lf.flags.c_contiguous and lf.flags.writeable):
                    # the kernels take writable C arrays (ascontiguousarray would also turn a
                    # 0-d array into shape (1,))
                    lf = np.array(lf, order="C")
                kparams.append(lf)
        key = (spec, tuple(parts))
        if key in self.eager_keys:
            return self.eager(args, kw, key, None)
        tried = self.cache.get(key, ())
        hit = self._try(tried, kparams, args, kw, key)
        if hit is not None:
            return hit[0]
        with self.lock:
            # another thread may have traced this input meanwhile: try what it added
            specs = self.cache.get(key, ())
            hit = self._try([s for s in specs if s not in tried], kparams, args, kw, key)
            if hit is not None:
                return hit[0]
            if key in self.eager_keys:
                return self.eager(args, kw, key, None)
            if len(specs) >= self.max_spec:
                self.eager_keys.add(key)
                return self.eager(args, kw, key,
                                  f"more than {self.max_spec} specialisations for one signature "
                                  "(Python control flow on values took too many different "
                                  "paths); running eagerly from now on for this signature")
            try:
                s = self.specialise(args, kw, leaves, spec, parts, kparams)
            except Fallback as e:
                self.eager_keys.add(key)
                return self.eager(args, kw, key, f"{e}; running eagerly")
            except _Unsupported as e:
                self.eager_keys.add(key)
                return self.eager(args, kw, key, f"{e}; running eagerly")
            except _CompileError as e:
                self.eager_keys.add(key)
                return self.eager(args, kw, key, f"internal error compiling {e}; running "
                                  "eagerly (please report this)")
            self.cache[key] = specs + (s,)
            try:
                r = s.entry(*kparams)
            except GuardFailure:
                # The input sits on a branch boundary that the kernel's arithmetic (libm's
                # transcendental functions may differ from NumPy's by an ulp) sees on the other
                # side: this one call runs eagerly; the kernel stays valid for other inputs.
                self.n_eager += 1
                return self.f(*args, **kw)
            except Exception:
                return self.eager(args, kw, None, None)
            self._promote(key, s, args, kw)
            return r

    def _try(self, specs, kparams, args, kw, key):
        """(result,) of the first specialisation whose guards accept the input, else None."""
        for s in specs:
            try:
                r = s.entry(*kparams)
            except GuardFailure:
                continue
            except Exception:
                # run eagerly: a genuine error then names the user's line
                return (self.eager(args, kw, None, None),)
            self._promote(key, s, args, kw)
            return (r,)
        return None

    def _promote(self, key, s, args, kw):
        with self.lock:
            specs = self.cache.get(key, ())
            if specs and specs[0] is not s and s in specs:
                self.cache[key] = (s,) + tuple(o for o in specs if o is not s)
            # the fast path calls the entry with the positional arguments as they are; numba
            # would convert a scalar of another type (2.5 -> 2, float64 -> float32) and take an
            # ndarray subclass (a masked array) as a plain array, so it checks every type first
            aspec = key[0][2][0]
            if kw or not all(kind != _STATIC for kind, _ in key[1]):
                self.fast = None
            elif aspec == (tuple, None, (None,) * len(args)):
                self.fast = (s.entry, len(args), tuple((k, type(a)) for k, a in enumerate(args)))
            else:   # containers among the arguments: a generated entry checks them
                self.fast = (entry.flat_entry(s.entry, aspec, args), len(args), ())

    def half(self, args, kw, leaves, spec):
        """float16 arguments: numba has no float16 on the CPU, so the kernel of the float32
        signature computes (in float32, as NumPy's float16 loops do inside) and its float32
        results are stored back as float16."""
        if any(not isinstance(lf, Traced) and np.asarray(lf).dtype.kind == "f"
               and np.asarray(lf).dtype.itemsize > 2 and type(lf) is not float for lf in leaves):
            return self.eager(args, kw, None, "float16 arguments mixed with wider floats run "
                              "eagerly (cast them to one dtype to compile)")
        wide = [lf.astype(np.float32) if type(lf) is np.ndarray and lf.dtype == np.float16
                else lf for lf in leaves]
        a, k = tree_unflatten(spec, wide)
        out = self.call(a, k)
        oleaves, ospec = tree_flatten(out)
        back = [np.float16(o) if isinstance(o, (float, np.float32)) and type(o) is not bool
                else o.astype(np.float16) if isinstance(o, np.ndarray) and o.dtype == np.float32
                else o for o in oleaves]
        return tree_unflatten(ospec, back)

    def eager(self, args, kw, key, why):
        if why is not None and why not in self.warned:
            self.warned.add(why)
            name = getattr(self.f, "__name__", "function")
            warnings.warn(f"adjit.jit({name}): {why}", RuntimeWarning, stacklevel=4)
        self.n_eager += 1
        return self.f(*args, **kw)

    # -- tracing and compiling ---------------------------------------------------------------
    def specialise(self, args, kw, leaves, spec, parts, kparams):
        if self.parallel:
            try:
                return self.specialise_as(leaves, spec, parts, kparams, True)
            except _CompileError:
                pass   # numba could not compile the parallel loops: the serial kernel
        return self.specialise_as(leaves, spec, parts, kparams, False)

    def specialise_as(self, leaves, spec, parts, kparams, parallel):
        from . import template
        self.n_traces += 1
        prog, ospec, oleaves, trace = self.generate(leaves, spec, parts, kparams, parallel)
        # a kernel shared with other shapes: an earlier one, or one made from this call traced
        # again at other sizes, so that a new batch size compiles nothing (template.py). Not
        # for loops: tracing one at other sizes may compile the loop's own kernel (seconds).
        loops = any(v.kind == "op" and v.op.lower == "loop" for v in trace.vars)
        t, extra = template.choose(self, prog, None if loops else
                                   lambda: self.phantom(leaves, spec, parts, parallel))
        with progress.notice(f"{getattr(self.f, '__name__', 'f')} ({len(trace.vars)} traced "
                             "values)"):
            try:
                kernel, path = _load(prog if t is None else template.template_program(t, prog))
            except _CompileError:
                if t is None:
                    raise
                t.bad, extra = True, ()
                kernel, path = _load(prog)
        s = _Spec()
        s.path = path
        s.entry = entry.make_entry(prog, kernel, ospec, oleaves, len(kparams), extra)
        if trace.tensor_outputs:
            s.entry = entry.rewrapped(s.entry, ospec, trace.tensor_outputs)
        return s

    def generate(self, leaves, spec, parts, kparams, parallel=False):
        """Trace f on the argument leaves and generate its kernel (with the batch loops of a
        vmap as pranges when `parallel`): (codegen.Program, output structure, output leaves,
        the Trace)."""
        from . import codegen
        trace = Trace(new_level())
        targs, kvars = [], []
        for lf, (kind, _) in zip(leaves, parts):
            if kind == _DYN:
                t = trace.arg(lf, len(kvars))
                kvars.append(t._id)
                targs.append(t)
            else:
                if kind == _INT:
                    kvars.append(None)
                targs.append(lf)
        a, k = tree_unflatten(spec, targs)
        out = rewrite.call(self.f, a, k)   # plain `for i in range` loops as loop ops
        oleaves, ospec = tree_flatten(out)
        out_ids = []
        trace.tensor_outputs = []   # (leaf, type): Tensors f made (ad.ones, y[i] = x ...)
        for k, o in enumerate(oleaves):
            if isinstance(o, Traced) and type(o) is not Tracer:
                trace.tensor_outputs.append((k, type(o)))
                o = oleaves[k] = held_value(o, trace, "the function returned")
            if type(o) is Tracer and o._trace is trace:
                out_ids.append(o._id)
            elif isinstance(o, Traced):
                raise Fallback(f"the function returned a {type(o).__name__}, not an array")
            else:
                out_ids.append(None)
        try:
            gen = codegen.Gen(trace, kvars, out_ids)
            gen.parallel = parallel
            prog = gen.generate(kparams)
        except codegen.Unsupported as e:
            raise _Unsupported(str(e)) from None
        except Exception as e:  # a bug of the code generator: never the user's error
            raise _CompileError(f"{getattr(self.f, '__name__', 'f')} ({type(e).__name__}: "
                                f"{e})") from None
        return prog, ospec, oleaves, trace

    def phantom(self, leaves, spec, parts, parallel=False):
        """The program of this call with its arrays at other sizes (template.resized), or
        None: only compared with the real one, never run, so anything failing is ignored."""
        from . import template
        big = template.resized(leaves, [kind == _DYN for kind, _ in parts])
        if big is None:
            return None
        kparams = [lf for lf, (kind, _) in zip(big, parts) if kind != _STATIC]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return self.generate(big, spec, parts, kparams, parallel)[0]
        except Exception:   # noqa: BLE001 - f may not run at other sizes: no shared kernel
            return None


class _Unsupported(Exception):
    pass


class _CompileError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# loading generated modules

def _load(prog):
    try:
        mod = cache.load_module(prog)
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        path = os.path.join(kernels.cache_dir(), f"adjit_jit_{prog.digest}.py")
        raise _CompileError(f"{path}: {type(e).__name__}: {first}") from None
    return mod.kernel, mod.__file__


# ---------------------------------------------------------------------------------------------

class Jitted:
    """What `ad.jit(f)` returns: f, called through its compiled kernels.

    It pickles as f and the options, never as compiled state (plain pickle where f is
    importable, cloudpickle otherwise), so it can be sent to another process (multiprocessing,
    Dask workers), which traces f again and loads the kernel from the disk cache or compiles
    it. Defined at module level with `@ad.jit`, it pickles by name, like a function."""

    def __init__(self, f, max_specializations, threads=None):
        self._jit = JitState(f, max_specializations)
        self._threads = threads
        self._split = vmap_of(f) is not None
        self._pjit = None   # the multi-threaded kernels of a vmap (a Jitted of their own)
        self.__wrapped__ = f
        self.__name__ = self.__qualname__ = f"jit({getattr(f, '__name__', 'f')})"
        self.__doc__ = getattr(f, "__doc__", None)
        # where pickle looks for it by name (a decorated module-level function)
        self.__module__ = getattr(f, "__module__", None)

    def __call__(self, *args, **kw):
        # the steady call of a small kernel: its entry, directly (each Python call level costs
        # a sizeable part of a microsecond-scale kernel: through _call, a scalar gradient took
        # 3.4x its kernel's time instead of 2x)
        fast = self._jit.fast
        if fast is not None and not kw and len(args) == fast[1] and not self._split:
            for k, t in fast[2]:
                if type(args[k]) is not t:
                    break
            else:
                try:
                    return fast[0](*args)
                except Exception:
                    return self._jit.call(args, kw)
        if self._split and not kw:   # ad.jit(ad.vmap(f)): loops over the batch on threads
            n = thread_count(self._threads)
            if n > 1:
                if self._pjit is None:
                    self._pjit = Jitted(self._jit.f, self._jit.max_spec, 1)
                    self._pjit._jit.parallel = True
                return call_on_threads(n, self._pjit._call, args)
        return self._call(*args, **kw)

    def _call(self, *args, **kw):
        state = self._jit
        fast = state.fast
        if fast is not None and not kw and len(args) == fast[1]:
            for k, t in fast[2]:
                if type(args[k]) is not t:
                    break
            else:
                try:
                    return fast[0](*args)
                except Exception:
                    pass
        return state.call(args, kw)

    def __get__(self, obj, objtype=None):
        # a method when it decorates one, as the function it replaces would be
        return self if obj is None else types.MethodType(self, obj)

    def __reduce__(self):
        f = self._jit.f
        name = getattr(f, "__qualname__", None)
        if self.__module__ not in (None, "__main__") and name and \
                _lookup(self.__module__, name) is self:
            return name
        return (Jitted, (f, self._jit.max_spec, self._threads))

    @property
    def last_mode(self):
        """For ``ad.jit(ad.jacobian(f))``: the mode ``ad.jacobian`` chose when the kernel was
        traced (the kernel runs that mode's computation)."""
        try:
            return self.__wrapped__.last_mode
        except AttributeError:
            raise AttributeError(f"{self.__name__} has no last_mode (only a jitted "
                                 "ad.jacobian has one)") from None


def _lookup(module, qualname):
    obj = sys.modules.get(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


def jit(f=None, *, max_specializations=MAX_SPECIALIZATIONS, threads=None):
    """Compile ``f`` into one numba kernel per signature, derivatives included.

    ``f`` may be a transform such as ``ad.grad(g)``; the compiled function gives the same
    results as calling ``f``. The first call for a new signature (argument structure, shapes,
    dtypes, static values) traces ``f`` and compiles it, or loads the kernel from the disk
    cache; later calls run the kernel with no Python per op. Closed-over arrays are constants
    of the kernel, frozen at trace time as in ``jax.jit``. Ops the compiler does not know run
    eagerly with a one-time ``RuntimeWarning``. See the module docstring for the details.

    Parameters
    ----------
    f : callable, optional
        The function to compile. Without it, ``jit`` returns a decorator:
        ``@ad.jit(max_specializations=4)``.
    max_specializations : int, optional
        How many specializations (retraces after a failed guard on Python control flow) to
        keep per signature before running eagerly.
    threads : int, optional
        For ``f = ad.vmap(g)``: how many threads run the kernel's loops over the batch
        (numba ``prange``; 1: the serial kernel). Default: numba's setting
        (``NUMBA_NUM_THREADS``, else all cores); capped at numba's pool size.

    Returns
    -------
    Jitted
        A callable with ``f``'s name and docstring; it pickles as ``f`` and its options.
        A jitted ``ad.jacobian`` has the ``last_mode`` attribute of the function it wraps.

    Raises
    ------
    TypeError
        If ``f`` is not callable.

    Examples
    --------
    >>> g = ad.jit(ad.grad(lambda x: ad.sum(x ** 2)))
    >>> g(np.array([1.0, 2.0, 3.0]))
    array([2., 4., 6.])
    """
    if f is None:
        return lambda g: jit(g, max_specializations=max_specializations, threads=threads)
    if not callable(f):
        raise TypeError(f"adjit.jit: expected a function, got {type(f).__name__}")
    return Jitted(f, int(max_specializations), threads)
