"""Complex values in the rows' derivative rules: which rows have a correct complex rule, and
adjit's clear error for the others (never a real-only rule applied to complex numbers).

The convention is JAX's. A cotangent `g` pairs with a tangent `t` as Re(g * t) (no
conjugate), so for a row whose tangent map is  t -> A t + B conj(t)  (A = df/dz, B = df/dz*)
the VJP is  g -> g A + conj(g B).  A holomorphic row (B = 0) therefore needs no conjugate at
all: the real formulas `g * f'(x)` hold unchanged for complex x, which is why these rows are
marked `complex = True` (ops/complex_rows.py). The gradient of a real f(z) is then
df/dx - i df/dy, and steepest descent is z - lr * conj(grad).

Op.complex (a class attribute, False by default, so a new row is refused until someone checks
it): True when the row's own rules hold for complex values; a `ComplexRule` when complex
inputs need other rules (abs: |z|'s derivative is not sign(z) * t); False: complex
differentiation raises `unsupported`.
"""


class ComplexRule:
    """The VJP and JVP a row uses for complex inputs (same signatures as the row's)."""

    def __init__(self, vjp, jvp):
        self.vjp, self.jvp = vjp, jvp


def is_complex(v):
    d = getattr(v, "dtype", None)
    if d is None:
        return type(v) is complex
    return d.kind == "c"


def any_complex(out, inputs):
    for v in inputs:
        d = getattr(v, "dtype", None)
        if d is None:
            if type(v) is complex:
                return True
        elif d.kind == "c":
            return True
    return out is not None and is_complex(out)


def unsupported(op):
    return TypeError(
        f"adjit.{op.name}: differentiating {op.name} at complex values is not supported (it "
        "has no complex derivative rule yet, and a real-only rule would give wrong numbers). "
        "Work around it by writing the computation on real and imaginary parts "
        "(ad.real(z), ad.imag(z)), or apply it to real values only (the README's 'Complex "
        "numbers' section lists the rows that differentiate complex values).")


def complex_backward(op, g, out, inputs, params, needs):
    """The VJP of a row at complex values (the row's `complex` is not True)."""
    rule = op.complex
    if not isinstance(rule, ComplexRule):
        raise unsupported(op)
    return rule.vjp(g, out, *inputs, **params)


def complex_forward(op, tangents, out, inputs, params):
    rule = op.complex
    if not isinstance(rule, ComplexRule):
        raise unsupported(op)
    return rule.jvp(tangents, out, *inputs, **params)
