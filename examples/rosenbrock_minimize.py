"""Minimise the Rosenbrock function with scipy.optimize.minimize, giving it adjit's gradient
and Hessian (trust-exact uses the exact Hessian).

Run:  pip install -e ".[examples]" && python examples/rosenbrock_minimize.py [n]   (default n = 10)
"""
import sys

import numpy as np
from scipy.optimize import minimize

import adjit as ad


def rosen(x):
    return ad.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
x0 = np.full(n, -1.0)
x0[::2] = -1.2  # the classic start

grad = ad.grad(rosen)
hess = ad.hessian(rosen)

it = [0]


def report(xk, *_):
    it[0] += 1
    print(f"  iter {it[0]:3d}  f = {float(rosen(xk)):.6e}  |grad| = {np.linalg.norm(grad(xk)):.2e}")


print(f"trust-exact with ad.grad and ad.hessian, n = {n}, from x0 = {x0[:4]}...:")
res = minimize(rosen, x0, jac=grad, hess=hess, method="trust-exact", callback=report)
print(f"  -> {res.message}  iterations {res.nit}, f evaluations {res.nfev}")
print(f"  solution x = {np.array2string(res.x, precision=6)}")
print(f"  max |x - 1| = {np.max(np.abs(res.x - 1)):.2e}, f(x) = {res.fun:.3e}")

# for comparison: BFGS builds its own Hessian estimate from adjit's gradients
res2 = minimize(rosen, x0, jac=grad, method="BFGS")
print(f"BFGS with ad.grad only: {res2.nit} iterations, max |x - 1| = "
      f"{np.max(np.abs(res2.x - 1)):.2e}")
