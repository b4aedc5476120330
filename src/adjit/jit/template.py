"""Kernels shared across shapes. The generated code writes shapes as literals (loop bounds,
allocations, guards, 1/n factors), so a new batch size is a new kernel and numba compiles
again (seconds). Tracing and generating the code again is cheap (milliseconds); when the new
source differs from an earlier one of the same function only in numeric literals, those
literals become parameters of one shared kernel (a *template*), compiled once and called with
each shape's own values. A shape whose source matches a template needs no compile at all.

Never a different computation: the template with a shape's values is, token for token, the
source that shape would have compiled; only kernels with the same constants are shared."""
import ast
import hashlib
import io
import re
import tokenize

import numpy as np

from .codegen import Program

MAX_RECENT = 4   # earlier programs of a function kept to find a template with


class Template:
    def __init__(self, parts, fixed, slots, kinds, consts):
        self.parts = parts          # source between the kernel's literals
        self.fixed = fixed          # literal text per position (None: a parameter)
        self.slots = slots          # positions that are parameters
        self.kinds = kinds          # "int64" / "float64" per parameter
        self.consts = consts
        self.prog = None            # the compiled template (a codegen.Program)
        self.bad = False            # numba could not compile it: never used again

    def values(self, prog):
        """The parameter values of prog when it is this template with other literals."""
        split = _split(prog.source)
        if split is None or not _same_consts(self.consts, prog.consts):
            return None
        parts, lits = split
        if parts != self.parts:
            return None
        for f, t in zip(self.fixed, lits):
            if f is not None and f != t:
                return None
        vals = []
        for k, kind in zip(self.slots, self.kinds):
            v = _value(lits[k])
            if v is None or isinstance(v, int) != (kind == "int64"):
                return None   # an int literal stays an int, a float a float
            vals.append(v)
        return vals


def choose(state, prog):
    """(program to load, extra kernel arguments) for a new trace of the function whose
    `JitState` is state: a matching template, a new template from an earlier program, or prog
    itself."""
    temps = state.__dict__.setdefault("templates", [])
    recent = state.__dict__.setdefault("recent_progs", [])
    for t in temps:
        if not t.bad:
            vals = t.values(prog)
            if vals is not None:
                return t, vals
    for old in recent:
        t = _make(old, prog)
        if t is not None:
            temps.append(t)
            return t, t.values(prog)
    recent.insert(0, prog)
    del recent[MAX_RECENT:]
    return None, ()


def template_program(t, like):
    """The Program of template t (made once): its literals as parameters p0, p1 ... of the
    kernel, typed in the signature."""
    if t.prog is not None:
        return t.prog
    src = []
    for k, part in enumerate(t.parts):
        src.append(part)
        if k < len(t.fixed):
            src.append(t.fixed[k] if t.fixed[k] is not None else f"p{t.slots.index(k)}")
    text = "".join(src)
    names = ", ".join(f"p{n}" for n in range(len(t.slots)))
    text = re.sub(r"def kernel\((.*?)\):", lambda m: f"def kernel({m.group(1)}, {names}):"
                  if m.group(1) else f"def kernel({names}):", text, count=1)
    m = re.search(r"@njit\(('[^']*'|\"[^\"]*\")", text)
    sig = ast.literal_eval(m.group(1))   # "ret(args)": the parameters' types go last
    new = sig[:-1] + (", " if not sig.endswith("()") else "") + ", ".join(t.kinds) + ")"
    text = text[:m.start(1)] + repr(new) + text[m.end(1):]
    h = hashlib.sha1(text.encode())
    for c in t.consts:
        h.update(str((c.shape, c.dtype.str)).encode())
        h.update(c.tobytes())
    t.prog = Program(text, h.hexdigest()[:16], like.consts, like.outputs, like.out_arrays,
                     like.ret_dtypes)
    return t.prog


def _make(a, b):
    sa, sb = _split(a.source), _split(b.source)
    if sa is None or sb is None or sa[0] != sb[0] or not _same_consts(a.consts, b.consts):
        return None
    la, lb = sa[1], sb[1]
    slots, kinds = [], []
    for k, (x, y) in enumerate(zip(la, lb)):
        if x == y:
            continue
        vx, vy = _value(x), _value(y)
        if vx is None or vy is None or type(vx) is not type(vy):
            return None
        slots.append(k)
        kinds.append("int64" if isinstance(vx, int) else "float64")
    if not slots:
        return None
    fixed = [None if k in slots else x for k, x in enumerate(la)]
    return Template(sa[0], fixed, slots, kinds, a.consts)


def _split(source):
    """(text between numeric literals, the literals) of the kernel's body; None if the source
    does not tokenize."""
    start = source.find("def kernel(")
    if start < 0:
        return None
    body = source[start:]
    parts, lits, pos = [], [], 0
    lines = body.splitlines(keepends=True)
    offs = np.cumsum([0] + [len(s) for s in lines])
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(body).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    for tok in toks:
        if tok.type != tokenize.NUMBER:
            continue
        s = int(offs[tok.start[0] - 1]) + tok.start[1]
        e = int(offs[tok.end[0] - 1]) + tok.end[1]
        parts.append(body[pos:s])
        lits.append(body[s:e])
        pos = e
    parts.append(body[pos:])
    parts[0] = source[:start] + parts[0]
    return parts, lits


def _value(text):
    try:
        v = int(text)
        return v
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return None


def _same_consts(a, b):
    return len(a) == len(b) and all(
        x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True)
        for x, y in zip(a, b))
