"""Kernels shared across shapes. The generated code writes shapes as literals (loop bounds,
allocations, guards, 1/n factors), so a new batch size would be a new kernel and numba would
compile again (seconds). Tracing and generating the code again is cheap (milliseconds); when the
new source differs from an earlier one of the same function only in numeric literals, those
literals become parameters of one shared kernel (a *template*), compiled once and called with
each shape's own values. A shape whose source matches a template needs no compile at all.

The first call already compiles a template: the function is traced a second time with its
arrays at other sizes (`resized`: every axis longer than 1 doubled, the data repeated), and the
literals that differ between the two programs are the template's parameters. That second
program is only compared with the first, never compiled or run; when it cannot be made (the
function fails or branches differently at those sizes) the first kernel keeps its literals and
a template is made from the next shape's program instead.

Never a different computation: the template with a shape's values is, token for token, the
source that shape would have compiled; only kernels with the same constants are shared."""
import ast
import hashlib
import io
import json
import re
import tokenize

import numpy as np

from . import cache
from .codegen import Program

MAX_RECENT = 4   # earlier programs of a function kept to find a template with
# the resized second trace runs the function eagerly at up to 2**ndim times the input's size:
# not for inputs past this many elements (their first kernel keeps its literals)
MAX_RESIZED = 1 << 20


class Template:
    def __init__(self, parts, fixed, slots, kinds, consts, params=None):
        self.parts = parts          # source between the kernel's literals
        self.fixed = fixed          # literal text per position (None: a parameter)
        self.slots = slots          # positions that are parameters
        # the parameter of each slot: slots whose literals were equal in both programs share
        # one (a batch size written in every loop bound and allocation is one argument, not
        # thirty: fewer arguments to unbox per call, a smaller kernel to compile)
        self.params = list(range(len(slots))) if params is None else params
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
        vals, texts = [None] * len(self.kinds), [None] * len(self.kinds)
        for k, p in zip(self.slots, self.params):
            if texts[p] is not None:
                if texts[p] != lits[k]:
                    return None   # a shared parameter: the same literal at all its slots
                continue
            v = _value(lits[k])
            if v is None or isinstance(v, int) != (self.kinds[p] == "int64"):
                return None   # an int literal stays an int, a float a float
            vals[p], texts[p] = v, lits[k]
        return vals


def choose(state, prog, resized=None):
    """(program to load, extra kernel arguments) for a new trace of the function whose
    `JitState` is state: a matching template, a new template from an earlier program or from
    `resized()` (the same call's program at other sizes, or None), or prog itself."""
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
    t = _saved(prog)   # what an earlier process found for this program: no second trace
    if t is None:
        other = resized() if resized is not None else None
        t = _make(prog, other) if other is not None else None
        _save(prog, t)
    if t:
        vals = t.values(prog)
        if vals is not None:
            temps.append(t)
            return t, vals
    return None, ()


# The parameters found for a program are kept next to its kernel (adjit_jit_<digest>.tpl), so a
# new process loading the kernel from the disk cache skips the second trace. Any choice of
# parameters is correct for the program they were found for (the template with that program's
# values is its source), so the file only saves time.

def _saved(prog):
    """The template recorded for prog, False if none could be made, None if not recorded."""
    text = cache.read_note(prog.digest, "tpl")
    if text is None:
        return None
    try:
        rec = json.loads(text)
        slots, kinds = rec["slots"], rec["kinds"]
        if slots is None:
            return False
        params = rec.get("params", list(range(len(slots))))
        parts, lits = _split(prog.source)
        if not slots or len(params) != len(slots) or \
                sorted(set(params)) != list(range(len(kinds))) or \
                any(not 0 <= k < len(lits) for k in slots) or \
                any(k not in ("int64", "float64") for k in kinds):
            return None
    except (ValueError, KeyError, TypeError):
        return None
    fixed = [None if k in slots else x for k, x in enumerate(lits)]
    return Template(parts, fixed, list(slots), list(kinds), prog.consts, list(params))


def _save(prog, t):
    cache.write_note(prog.digest, "tpl", json.dumps(
        {"slots": t.slots if t else None, "kinds": t.kinds if t else None,
         "params": t.params if t else None}))


def resized(leaves, dynamic):
    """The argument leaves with every array (those flagged dynamic) resized: each axis longer
    than 1 doubled (equal sizes stay equal, divisibility holds, broadcast axes stay 1), the
    values repeated (so they stay in the domain the function expects, and index arrays in
    range); None when no array has such an axis or the arrays would grow past MAX_RESIZED."""
    out, total, changed = [], 0, False
    for lf, dyn in zip(leaves, dynamic):
        if dyn and type(lf) is np.ndarray and lf.ndim:
            shape = tuple(2 * n if n > 1 else n for n in lf.shape)
            changed |= shape != lf.shape
            total += int(np.prod(shape))
            lf = np.resize(lf, shape)
        out.append(lf)
    return out if changed and total <= MAX_RESIZED else None


def template_program(t, like):
    """The Program of template t (made once): its literals as parameters p0, p1 ... of the
    kernel, typed in the signature."""
    if t.prog is not None:
        return t.prog
    src = []
    for k, part in enumerate(t.parts):
        src.append(part)
        if k < len(t.fixed):
            src.append(t.fixed[k] if t.fixed[k] is not None else
                       f"p{t.params[t.slots.index(k)]}")
    text = "".join(src)
    names = ", ".join(f"p{n}" for n in range(len(t.kinds)))
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
    slots, kinds, params, seen = [], [], [], {}
    for k, (x, y) in enumerate(zip(la, lb)):
        if x == y:
            continue
        vx, vy = _value(x), _value(y)
        if vx is None or vy is None or type(vx) is not type(vy):
            return None
        slots.append(k)
        if (x, y) not in seen:   # the same pair of literals: the same parameter
            seen[(x, y)] = len(kinds)
            kinds.append("int64" if isinstance(vx, int) else "float64")
        params.append(seen[(x, y)])
    if not slots:
        return None
    fixed = [None if k in slots else x for k, x in enumerate(la)]
    return Template(sa[0], fixed, slots, kinds, a.consts, params)


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
