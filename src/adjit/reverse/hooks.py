"""What `Tensor.register_hook` returns: a handle whose `remove()` takes the hook off again."""


class RemovableHandle:
    def __init__(self, lst, fn):
        self._lst, self._fn = lst, fn

    def remove(self):
        try:
            self._lst.remove(self._fn)
        except ValueError:
            pass
