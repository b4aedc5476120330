"""Grad mode (per thread): whether eager tensor ops are recorded for reverse mode."""
import functools
import inspect
import threading

class _State(threading.local):
    enabled = True  # the default of every thread


# read directly by the eager op path (`state.enabled`), which runs for every op
state = _State()


def is_grad_enabled():
    """Whether eager tensor ops are recorded for reverse mode in this thread.

    Returns
    -------
    bool
        ``True`` unless switched off by ``no_grad`` or ``set_grad_enabled(False)``.

    Examples
    --------
    >>> ad.is_grad_enabled()
    True
    >>> with ad.no_grad():
    ...     print(ad.is_grad_enabled())
    False
    """
    return state.enabled


def _set(mode):
    state.enabled = bool(mode)


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
    """Context manager and decorator that switches off recording, as ``torch.no_grad``.

    Inside it, ops on Tensors with ``requires_grad=True`` give results that do not require
    grad and record nothing (saving memory and time), e.g. for parameter updates or
    evaluation. The previous mode is restored on exit. As a decorator it also applies to
    generator functions, step by step. It does not affect the functional transforms
    (``ad.grad`` and the others), which record their own levels.

    Examples
    --------
    >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> with ad.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    >>> @ad.no_grad()
    ... def double(t):
    ...     return t * 2
    >>> double(x).requires_grad
    False
    """
    _mode = False


class enable_grad(_Mode):
    """Context manager and decorator that switches recording on, as ``torch.enable_grad``.

    Useful inside a ``no_grad`` block; the previous mode is restored on exit.

    Examples
    --------
    >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> with ad.no_grad():
    ...     with ad.enable_grad():
    ...         y = x * 2
    >>> y.requires_grad
    True
    """
    _mode = True


class set_grad_enabled(_Mode):
    """Switch recording on or off, as ``torch.set_grad_enabled``.

    A plain call switches the mode at once; as a context manager or decorator it applies
    inside only and restores the previous mode on exit.

    Parameters
    ----------
    mode : bool
        ``True`` to record eager tensor ops for reverse mode, ``False`` not to.

    Examples
    --------
    >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> with ad.set_grad_enabled(False):
    ...     y = x * 2
    >>> y.requires_grad
    False
    >>> _ = ad.set_grad_enabled(False)
    >>> ad.is_grad_enabled()
    False
    >>> _ = ad.set_grad_enabled(True)
    >>> ad.is_grad_enabled()
    True
    """

    def __init__(self, mode):
        self._prev = is_grad_enabled()
        self._mode = bool(mode)
        _set(mode)

    def __enter__(self):
        return self

    def __call__(self, fn):
        _set(self._prev)  # used as a decorator: the switch applies inside fn only
        return super().__call__(fn)
