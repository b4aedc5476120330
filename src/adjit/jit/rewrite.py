"""Plain Python loops as compiled loops: `for i in range(...)` inside a function given to
`ad.jit` runs as an `ad.fori_loop` while the function is traced.

    def energy(x):
        E = 0.0
        for i in range(len(x) - 1):
            E = E + k * (x[i + 1] - x[i] - L) ** 2
        return E

    ad.jit(ad.grad(energy))   # one numba loop (and one reverse loop), whatever len(x) is

What is recognised: a `for NAME in range(...)` statement (no `else`) in the function given to
`ad.jit`, or in a function it wraps (`ad.grad(f)`, `ad.jacobian(f)` ... through their
closures), whose body only assigns plain names (`E = ...`, `E += ...`, `a, b = ...`), with `if`
and nested loops allowed; no `break`, `continue`, `return`, `yield`, calls as statements
(`print`, `lst.append`), and no stores into arrays or attributes. The carried variables are the
names the body assigns that it reads before assigning them, or that the function reads outside
the loop; they must hold float64 values before the loop. Anything else, and any loop whose body
cannot be one compiled loop (see loops.py), runs as the Python loop it is: the rewritten
function tries the loop op first and falls back to the original statement.

The rewrite is done once per function (from its source, with `inspect`), and only while ad.jit
traces: eagerly the original function runs.
"""
import ast
import inspect
import textwrap
import types

from ..core.registry import Traced
from .loopop import NotLoopable
from .loops import compiled_loop, reasons
from .trace import TraceTooLong

_FORBIDDEN = (ast.Return, ast.Break, ast.Continue, ast.Global, ast.Nonlocal, ast.Delete,
              ast.Try, ast.With, ast.Raise, ast.FunctionDef, ast.AsyncFunctionDef,
              ast.ClassDef, ast.Yield, ast.YieldFrom, ast.Await, ast.NamedExpr, ast.Import,
              ast.ImportFrom)

_cache = {}   # code object -> rewritten function factory (or None)


def run_for(body, r, init):
    """What a rewritten loop calls: (True, carry, last index) when the loop ran as one loop
    op, (False, None, None) when the original statement must run instead."""
    if not isinstance(r, range) or len(r) == 0:
        return False, None, None
    try:
        carry = init()
    except NameError:
        return False, None, None
    try:
        return True, compiled_loop(body, r, carry), r[-1]
    except NotLoopable as e:
        reasons().append(str(e))
        return False, None, None


def call(f, args, kw):
    """f(*args, **kw) with the plain loops of f (and of the functions f wraps) rewritten."""
    swaps = []
    reasons().clear()
    if isinstance(f, types.MethodType):   # a bound method: its function, bound again
        top = rewritten(f.__func__)
        top = types.MethodType(top, f.__self__) if top is not None else None
    else:
        top = rewritten(f)
    _collect(f, swaps, 0, set())
    for cell, new, _ in swaps:
        cell.cell_contents = new
    try:
        return (top or f)(*args, **kw)
    except TraceTooLong as e:
        why = reasons()
        if why:   # say why the loop that grew the trace was not compiled as one loop
            raise TraceTooLong(f"{e}. A loop ran step by step because: {why[-1]}") from None
        raise
    finally:
        for cell, _, old in swaps:
            cell.cell_contents = old


def _collect(f, swaps, depth, seen):
    if depth > 4 or id(f) in seen:
        return
    seen.add(id(f))
    for cell in getattr(f, "__closure__", None) or ():
        try:
            v = cell.cell_contents
        except ValueError:
            continue
        if isinstance(v, types.MethodType) and isinstance(v.__func__, types.FunctionType):
            new = rewritten(v.__func__)
            if new is not None:
                swaps.append((cell, types.MethodType(new, v.__self__), v))
        elif isinstance(v, types.FunctionType) and not isinstance(v, Traced):
            new = rewritten(v)
            if new is not None:
                swaps.append((cell, new, v))
            _collect(v, swaps, depth + 1, seen)


def rewritten(f):
    """f with its plain range loops rewritten, or None (nothing to rewrite, no source, a
    function of adjit itself)."""
    if not isinstance(f, types.FunctionType) or \
            (f.__module__ or "").split(".")[0] == "adjit":
        return None
    code = f.__code__
    if "range" not in code.co_names:
        return None
    if code not in _cache:
        try:
            _cache[code] = _rewrite(f)
        except (OSError, TypeError, SyntaxError, IndentationError):
            _cache[code] = None
            reasons().append(f"the source of {f.__name__} is not available (defined by exec "
                             "or at the prompt), so its plain loops cannot be rewritten; write "
                             "them with ad.fori_loop / ad.scan")
    inner = _cache[code]
    if inner is None:
        return None
    cells = dict(zip(code.co_freevars, f.__closure__ or ()))
    closure = tuple(cells[n] if n in cells else types.CellType(run_for)
                    for n in inner.co_freevars)
    g = types.FunctionType(inner, f.__globals__, f.__name__, f.__defaults__, closure)
    g.__kwdefaults__ = f.__kwdefaults__
    return g


def _rewrite(f):
    src = textwrap.dedent(inspect.getsource(f))
    tree = ast.parse(src)
    fdef = tree.body[0]
    if not isinstance(fdef, ast.FunctionDef) or fdef.name != f.__name__:
        return None
    fdef.decorator_list = []
    rw = _Rewriter(fdef)
    rw.visit_body(fdef)
    if not rw.count:
        return None
    # a factory whose parameters are the free variables, so the function closes over them
    params = ["_adjit_for"] + list(f.__code__.co_freevars)
    factory = ast.FunctionDef(
        name="_adjit_factory",
        args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=p) for p in params],
                           kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=[fdef, ast.Return(value=ast.Name(id=fdef.name, ctx=ast.Load()))],
        decorator_list=[], returns=None, type_comment=None)
    mod = ast.Module(body=[factory], type_ignores=[])
    ast.fix_missing_locations(mod)
    ast.increment_lineno(mod, f.__code__.co_firstlineno - 1)
    code = compile(mod, f.__code__.co_filename, "exec")
    fcode = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    return next(c for c in fcode.co_consts
                if isinstance(c, types.CodeType) and c.co_name == fdef.name)


def _walk(node):
    """ast.walk that does not enter the body functions of inner loops already rewritten."""
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        if isinstance(n, ast.FunctionDef) and n.name.startswith("_adjit_body"):
            continue
        todo.extend(ast.iter_child_nodes(n))


def _names(node, ctx):
    out = {n.id for n in _walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)}
    if ctx is ast.Load:   # an inner loop's body function reads its free names
        for n in ast.walk(node):
            if isinstance(n, ast.FunctionDef) and n.name.startswith("_adjit_body"):
                inner = {m.id for m in ast.walk(n) if isinstance(m, ast.Name)
                         and isinstance(m.ctx, ast.Load)}
                local = {m.id for m in ast.walk(n) if isinstance(m, ast.Name)
                         and isinstance(m.ctx, ast.Store)} | {a.arg for a in n.args.args}
                out |= inner - local
    return out


class _Rewriter:
    def __init__(self, fdef):
        self.fdef = fdef
        self.count = 0

    def visit_body(self, node):
        for field in ("body", "orelse"):
            stmts = getattr(node, field, None)
            if not isinstance(stmts, list):
                continue
            out = []
            for s in stmts:
                if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                  ast.Lambda)):
                    out.append(s)
                    continue
                self.visit_body(s)   # inner loops first
                new = self.loop(s) if isinstance(s, ast.For) else None
                out.extend(new if new is not None else [s])
            setattr(node, field, out)

    def loop(self, s):
        it = s.iter
        if not (isinstance(s.target, ast.Name) and not s.orelse and isinstance(it, ast.Call)
                and isinstance(it.func, ast.Name) and it.func.id == "range"
                and 1 <= len(it.args) <= 3 and not it.keywords):
            return None
        for node in s.body:
            for sub in _walk(node):
                if isinstance(sub, ast.FunctionDef) and sub.name.startswith("_adjit_body"):
                    continue   # an inner loop, rewritten already
                if isinstance(sub, _FORBIDDEN):
                    return None
                if isinstance(sub, ast.Expr) and not isinstance(sub.value, ast.Constant):
                    return None
                if isinstance(sub, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                    targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
                    for t in targets:
                        if not _plain_target(t):
                            return None
        var = s.target.id
        stored = set()
        for node in s.body:
            stored |= _names(node, ast.Store)
        if var in stored or not stored:
            return None
        carried = sorted(self.carried(s, stored))
        if not carried:
            return None
        k = self.count
        self.count += 1
        body_name, r_name, res = f"_adjit_body{k}", f"_adjit_range{k}", f"_adjit_res{k}"
        tup = ", ".join(carried) + ","
        head = ast.parse(
            f"def {body_name}({var}, _adjit_carry):\n"
            f"    ({tup}) = _adjit_carry\n"
            f"    return ({tup})\n").body[0]
        head.body[1:1] = s.body
        pre = ast.parse(f"{r_name} = None\n{res} = _adjit_for({body_name}, {r_name}, "
                        f"lambda: ({tup}))\n").body
        pre[0].value = s.iter
        s.iter = ast.Name(id=r_name, ctx=ast.Load())
        branch = ast.parse(f"if {res}[0]:\n    ({tup}) = {res}[1]\n    {var} = {res}[2]\n"
                           f"else:\n    pass\n").body[0]
        branch.orelse = [s]
        stmts = [head] + pre + [branch]
        for st in stmts:
            ast.copy_location(st, s)
            for sub in ast.walk(st):
                if not hasattr(sub, "lineno") or sub.lineno is None:
                    ast.copy_location(sub, s)
        return stmts

    def carried(self, s, stored):
        """The names the loop carries from step to step (and out of the loop)."""
        out = _read_first(s.body, set()) & stored
        # read anywhere else in the function (after the loop, or by a later step of an
        # enclosing loop): carried
        body_ids = {id(n) for node in s.body for n in ast.walk(node)}
        for node in ast.walk(self.fdef):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) \
                    and id(node) not in body_ids and node.id in stored:
                out.add(node.id)
        return out


def _read_first(stmts, assigned):
    """Names the statements read before assigning them (assigned: names already set)."""
    out = set()
    for st in stmts:
        if isinstance(st, (ast.Assign, ast.AnnAssign)):
            if st.value is not None:
                out |= _names(st.value, ast.Load) - assigned
            targets = st.targets if isinstance(st, ast.Assign) else [st.target]
            for t in targets:
                assigned |= _names(t, ast.Store)
        elif isinstance(st, ast.AugAssign):
            out |= (_names(st.value, ast.Load) | {st.target.id}) - assigned
            assigned.add(st.target.id)
        elif isinstance(st, ast.If):
            out |= _names(st.test, ast.Load) - assigned
            a1, a2 = set(assigned), set(assigned)
            out |= _read_first(st.body, a1) | _read_first(st.orelse, a2)
            assigned |= a1 & a2
        elif isinstance(st, (ast.For, ast.While)):
            head = st.iter if isinstance(st, ast.For) else st.test
            out |= _names(head, ast.Load) - assigned
            a = set(assigned)
            if isinstance(st, ast.For):
                a |= _names(st.target, ast.Store)
            out |= _read_first(st.body, a) | _read_first(st.orelse, set(assigned))
        else:
            out |= _names(st, ast.Load) - assigned
            assigned |= _names(st, ast.Store)
    return out


def _plain_target(t):
    if isinstance(t, ast.Name):
        return True
    if isinstance(t, (ast.Tuple, ast.List)):
        return all(_plain_target(e) for e in t.elts)
    return False
