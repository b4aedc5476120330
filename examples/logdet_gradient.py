"""The gradient of log det(A) is the inverse transpose of A.

Run:  python examples/logdet_gradient.py
"""
import numpy as np

import adjit as ad

rng = np.random.default_rng(0)
n = 5
A = rng.standard_normal((n, n)) + n * np.eye(n)  # well conditioned, det > 0

# reverse mode with tensors
X = ad.tensor(A, requires_grad=True)
ld = ad.logdet(X)
ld.backward()
print(f"logdet(A) = {ld.item():.12f}   (NumPy: {np.log(np.linalg.det(A)):.12f})")
inv_T = np.linalg.inv(A).T
err_rev = np.max(np.abs(X.grad.numpy() - inv_T))
print(f"reverse mode:  max |d logdet / dA - inv(A).T| = {err_rev:.2e}")

# the functional API, and forward mode (one pass per entry of A, pushed in chunks)
G = ad.grad(ad.logdet)(A)
Gf = ad.jacfwd(ad.logdet)(A)
print(f"ad.grad:       max |grad - inv(A).T|        = {np.max(np.abs(G - inv_T)):.2e}")
print(f"ad.jacfwd:     max |jacfwd - inv(A).T|      = {np.max(np.abs(Gf - inv_T)):.2e}")

# and one directional derivative checked against a finite difference
V = rng.standard_normal((n, n))
_, dld = ad.jvp(ad.logdet, (A,), (V,))
h = 1e-6
fd = (np.log(np.linalg.det(A + h * V)) - np.log(np.linalg.det(A - h * V))) / (2 * h)
print(f"jvp along V:   {float(dld):.10f}   central difference: {fd:.10f}   "
      f"trace(inv(A) V): {np.trace(np.linalg.solve(A, V)):.10f}")
ok = max(err_rev, np.max(np.abs(G - inv_T)), np.max(np.abs(Gf - inv_T))) < 1e-10
print("gradient equals inverse transpose:", ok)
