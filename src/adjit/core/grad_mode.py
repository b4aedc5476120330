"""Grad mode (per thread): whether eager tensor ops are recorded for reverse mode."""
import functools
import inspect
import threading

_state = threading.local()


def is_grad_enabled():
    return getattr(_state, "enabled", True)


def _set(mode):
    _state.enabled = bool(mode)


class _Mode:
    """Context manager and decorator; a fresh instance per `with` keeps re-entry safe."""
    _mode = True

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set(self._mode)
        return self

    def __exit__(self, *exc):
        _set(self._prev)
        return False

    def __call__(self, fn):
        mode = self._mode
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(fn, mode)

        @functools.wraps(fn)
        def wrapper(*a, **k):
            prev = is_grad_enabled()
            _set(mode)
            try:
                return fn(*a, **k)
            finally:
                _set(prev)
        return wrapper


def _wrap_generator(fn, mode):
    """A generator function runs its body at every next()/send()/throw(), not when it is
    called: switch the mode around each step (and restore the caller's in between), as
    PyTorch's decorators do."""
    def step(gen, how, *arg):
        prev = is_grad_enabled()
        _set(mode)
        try:
            return getattr(gen, how)(*arg)
        finally:
            _set(prev)

    @functools.wraps(fn)
    def wrapper(*a, **k):
        gen = fn(*a, **k)
        try:
            response = step(gen, "send", None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    step(gen, "close")
                    raise
                except BaseException as e:  # noqa: BLE001 - thrown into us: pass it on
                    response = step(gen, "throw", e)
                else:
                    response = step(gen, "send", request)
        except StopIteration as e:
            return e.value
    return wrapper


class no_grad(_Mode):
    _mode = False


class enable_grad(_Mode):
    _mode = True


class set_grad_enabled(_Mode):
    """`set_grad_enabled(False)` switches the mode at once (plain call); as a context manager
    or decorator it restores the previous mode on exit."""

    def __init__(self, mode):
        self._prev = is_grad_enabled()
        self._mode = bool(mode)
        _set(mode)

    def __enter__(self):
        return self

    def __call__(self, fn):
        _set(self._prev)  # used as a decorator: the switch applies inside fn only
        return super().__call__(fn)
