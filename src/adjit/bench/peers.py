"""Optional peers timed on the same problems (JAX, PyTorch, HIPS autograd), each skipped with a
note when it is not installed."""
import numpy as np

from .timing import check_and_time

# ---------------------------------------------------------------------------------------------
# peers: JAX, PyTorch, HIPS autograd (each optional)

class Peer:
    """One other AD library. Subclasses give `setup()` (import, may raise ImportError) and
    the functions; each returns a NumPy-in/NumPy-out callable."""
    name = "?"

    def _run(self, make, expected, settings, clock):
        try:
            fn = make()
            return check_and_time(fn, expected, settings, clock)
        except Exception as e:
            return {"error": f"{type(e).__name__}: {e}"}

    def jacobian(self, W, x, J, settings, clock):
        out = {}
        for mode in ("forward", "reverse"):
            mk = getattr(self, "jac_" + mode, None)
            out[mode] = (self._run(lambda mk=mk: mk(W, x), J, settings, clock) if mk else
                         {"note": f"n/a: {self.name} has no {mode}-mode Jacobian"})
        return out

    def rosen_grad(self, x, g_ref, settings, clock):
        return {"reverse": self._run(lambda: self.grad(x), g_ref, settings, clock)}

    def rosen_hessian(self, x, H_ref, settings, clock):
        return {"hessian": self._run(lambda: self.hessian(x), H_ref, settings, clock)}


class JaxPeer(Peer):
    name = "jax"

    def setup(self):
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        self.jax, self.jnp = jax, jnp
        self.version = jax.__version__

    def _rosen(self, x):
        return self.jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    def _wrap(self, fn, x):
        xj = self.jnp.asarray(x)
        return lambda: np.asarray(fn(xj).block_until_ready())

    def jac_forward(self, W, x):
        Wj = self.jnp.asarray(W)
        return self._wrap(self.jax.jit(self.jax.jacfwd(lambda v: self.jnp.tanh(Wj @ v))), x)

    def jac_reverse(self, W, x):
        Wj = self.jnp.asarray(W)
        return self._wrap(self.jax.jit(self.jax.jacrev(lambda v: self.jnp.tanh(Wj @ v))), x)

    def grad(self, x):
        return self._wrap(self.jax.jit(self.jax.grad(self._rosen)), x)

    def hessian(self, x):
        return self._wrap(self.jax.jit(self.jax.hessian(self._rosen)), x)


class TorchPeer(Peer):
    name = "torch"

    def setup(self):
        import torch
        import torch.func  # noqa: F401
        self.torch = torch
        self.version = torch.__version__

    def _rosen(self, x):
        return ((100.0 * (x[1:] - x[:-1] ** 2) ** 2) + (1.0 - x[:-1]) ** 2).sum()

    def _wrap(self, fn, x):
        xt = self.torch.tensor(x, dtype=self.torch.float64)
        return lambda: fn(xt).detach().numpy()

    def jac_forward(self, W, x):
        Wt = self.torch.tensor(W, dtype=self.torch.float64)
        return self._wrap(self.torch.func.jacfwd(lambda v: self.torch.tanh(Wt @ v)), x)

    def jac_reverse(self, W, x):
        Wt = self.torch.tensor(W, dtype=self.torch.float64)
        return self._wrap(self.torch.func.jacrev(lambda v: self.torch.tanh(Wt @ v)), x)

    def grad(self, x):
        return self._wrap(self.torch.func.grad(self._rosen), x)

    def hessian(self, x):
        return self._wrap(self.torch.func.hessian(self._rosen), x)


class AutogradPeer(Peer):
    name = "autograd"

    def setup(self):
        import autograd
        import autograd.numpy as anp
        self.autograd, self.anp = autograd, anp
        self.version = getattr(autograd, "__version__", "?")

    def _rosen(self, x):
        return self.anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    def jac_reverse(self, W, x):
        fn = self.autograd.jacobian(lambda v: self.anp.tanh(self.anp.dot(W, v)))
        return lambda: np.asarray(fn(x))

    def grad(self, x):
        fn = self.autograd.grad(self._rosen)
        return lambda: np.asarray(fn(x))

    def hessian(self, x):
        fn = self.autograd.hessian(self._rosen)
        return lambda: np.asarray(fn(x))


PEERS = (JaxPeer, TorchPeer, AutogradPeer)


def load_peers():
    """(available peers, notes about every peer)."""
    got, notes = [], {}
    for cls in PEERS:
        p = cls()
        try:
            p.setup()
        except ModuleNotFoundError:
            notes[p.name] = {"available": False, "note": f"{p.name} is not installed; skipped"}
            continue
        except Exception as e:  # a broken install
            notes[p.name] = {"available": False,
                             "note": f"{p.name} failed to import ({type(e).__name__}: {e}); "
                                     "skipped"}
            continue
        if p.version == "?":
            try:
                from importlib.metadata import version
                p.version = version(p.name)
            except Exception:
                pass
        notes[p.name] = {"available": True, "version": p.version}
        got.append(p)
    return got, notes


