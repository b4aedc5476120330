"""Test domains of the op rows: the inputs the op-info sweep (`testing/opinfo.py`) checks a row
on. Data only; the sweep draws the values."""


class Sample:
    """One sample of a row's domain.

    shapes:  one per differentiable input (positional), e.g. Sample((2, 3), (3,)).
    values, away, gap: values uniform in values = (lo, hi), at least `gap` from each point in
             `away` (kinks, poles: central differences are meaningless there).
    kind:    a named kind of input instead: "wellcond" (square, well conditioned, det > 0),
             "spd" (symmetric positive definite), "distinct" (no ties within 0.2),
             "with_zero" (an exact zero); a string is the first input's kind, a tuple one
             per input (None: uniform values).
    call:    call(op, *inputs, **params) instead of op(*inputs, **params), for inputs an op
             reads only partly (cholesky reads one triangle: feed it a symmetric matrix).
    second:  False skips the second-order checks (say why where it is used).
    params:  the op's static keyword parameters (axis=..., idx=..., shape=...).
    """

    def __init__(self, *shapes, values=(-2.0, 2.0), away=(), gap=0.05, kind=None, call=None,
                 second=True, **params):
        self.shapes = tuple(tuple(s) for s in shapes)
        self.values, self.away, self.gap = tuple(values), tuple(away), gap
        self.kind, self.call, self.second = kind, call, second
        self.params = params

    def __repr__(self):
        p = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"Sample({', '.join(map(str, self.shapes))}{p})"
