"""What the transforms accept at complex values, as JAX: `grad` of a complex output only with
holomorphic=True (then the derivative f'(z)), `jacfwd` of complex inputs and `jacrev` of
complex outputs likewise; a jvp tangent has its primal's dtype kind (no silent real part)."""
import numpy as np

from ..core.registry import Traced


def _kind(v):
    return (v.dtype if isinstance(v, Traced) else np.asarray(v).dtype).kind


def check_tangent(p, t, fname):
    if _kind(t) == "c" and _kind(p) != "c":
        raise TypeError(
            f"adjit.{fname}: a complex tangent for a real primal (dtype "
            f"{np.asarray(p).dtype if not isinstance(p, Traced) else p.dtype}); the tangent "
            "must have its primal's kind, as in jax.jvp. Pass the primal as complex "
            "(x + 0j) to push complex directions, or split the tangent into real and "
            "imaginary parts.")


def check_cotangent(g, out):
    if _kind(g) == "c" and _kind(out) != "c":
        raise TypeError(f"adjit.vjp: a complex cotangent for a real output (dtype "
                        f"{np.dtype(_dt(out))}); a real output takes a real cotangent (JAX's "
                        "convention: pass its real part)")


def check_grad(out, inputs, holomorphic, fname):
    """Called before the backward pass of grad/value_and_grad."""
    if holomorphic:
        if _kind(out) != "c":
            raise TypeError(f"adjit.{fname}: holomorphic=True needs a complex output, but the "
                            f"function returned dtype {np.dtype(_dt(out))}; drop "
                            "holomorphic=True for real outputs.")
        for x in inputs:
            if _kind(x) != "c":
                raise TypeError(f"adjit.{fname}: holomorphic=True needs complex inputs, but "
                                f"got dtype {np.dtype(_dt(x))}; pass x + 0j.")
    elif _kind(out) == "c":
        raise TypeError(
            f"adjit.{fname}: the function returned a complex value. {fname} needs a real "
            "scalar output (a real function of complex inputs is fine, e.g. abs(z) ** 2 or "
            f"ad.real(...)); for a holomorphic function pass holomorphic=True to get f'(z), "
            "as jax.grad does, or use ad.vjp for any complex output.")


def check_jac(values, holomorphic, fname, what):
    """jacfwd's inputs / jacrev's outputs must be real unless holomorphic=True (JAX)."""
    for v in values:
        if _kind(v) == "c" and not holomorphic:
            raise TypeError(
                f"adjit.{fname}: got complex {what}; {fname} needs real {what} unless the "
                f"function is holomorphic (pass holomorphic=True for the complex Jacobian "
                "df/dz, as in JAX). For non-holomorphic functions of complex values use "
                "ad.jvp / ad.vjp directly, or differentiate real and imaginary parts.")
        if holomorphic and _kind(v) != "c":
            raise TypeError(f"adjit.{fname}: holomorphic=True needs complex {what}, got dtype "
                            f"{np.dtype(_dt(v))}")


def _dt(v):
    return v.dtype if isinstance(v, Traced) else np.asarray(v).dtype
