"""f(x) = sin(x) and its derivative by automatic differentiation (no cos written anywhere),
plotted to a PNG.

Run:  pip install -e ".[examples]" && python examples/sin_derivative.py [out.png]   (default
sin_derivative.png). The plot needs matplotlib (in the extra); without it the script still computes the
derivative and prints its largest difference from the exact derivative.
"""
import sys

import numpy as np

import adjit as ad

path = sys.argv[1] if len(sys.argv) > 1 else "sin_derivative.png"

x = ad.linspace(-2 * np.pi, 2 * np.pi, 200).requires_grad_()
y = ad.sin(x)
y.backward(gradient=ad.ones_like(x))  # elementwise f: J^T 1 is f'(x) at every point
dydx = x.grad.numpy()

# the same with the functional API: grad of a scalar function, mapped over the points
g = ad.grad(lambda t: ad.sin(t))
assert np.allclose([g(v) for v in x.detach().numpy()[::20]], dydx[::20])

err = np.max(np.abs(dydx - np.cos(x.detach().numpy())))  # cos only to check the result
print(f"max |AD derivative - cos(x)| over {x.shape[0]} points: {err:.3e}")

try:
    import matplotlib
except ImportError:
    print('note: matplotlib is not installed, so no plot; pip install -e ".[plot]" to get it')
else:
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    xs = x.detach().numpy()
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(xs, y.detach().numpy(), label="sin(x)")
    ax.plot(xs, dydx, "--", label="d/dx sin(x) by AD")
    ax.axhline(0, color="gray", lw=0.5)
    ax.set_xlabel("x")
    ax.legend()
    ax.set_title("sin and its derivative computed by adjit")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")
