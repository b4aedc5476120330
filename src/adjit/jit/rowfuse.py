"""One fork/join for a run of parallel loops over the batch: consecutive top-level
`for i in prange(N)` loops of a parallel kernel (parloops.py) that only meet at their own row
(every array one of them writes is read and written by all of them at index [i, ...]) become
one `prange` over chunks of rows, each chunk running the loops one after the other:

    for _k0 in prange(64):
        _lo0 = _k0 * 64
        _hi0 = min(_lo0 + 64, 4096)
        for i0 in range(_lo0, _hi0): ...     # the first loop's body, as it was
        for i3 in range(_lo0, _hi0): ...     # the second's

Each element is computed by the same statements as before (bit for bit). What it saves: a
join per loop (at each one a thread waits for the slowest, which on a busy machine may be
descheduled) and a pass over the whole batch per loop (a chunk's rows stay in cache).
Allocations and array views between the loops (`v9 = empty(...)`, `_pa11 = v9.reshape(...)`)
move before the fused loop; anything else between two loops ends a run.

It works on the generated text, whose forms it knows (codegen.py, parloops.py); a line it does
not recognise ends the run, so the worst case is the unfused kernel."""
import re

_LOOP = re.compile(r"^    for (i\d+) in prange\((\d+)\):(  # small)?$")
_EMPTY = re.compile(r"^    (\w+) = (?:np\.)?empty\(\((\d+)[,)].*\)$")
_VIEW = re.compile(r"^    (_p[awo]\d+) = (\w+)((?:\.reshape\(\(\d+(?:, \d+)*,?\)\))*)$")
_SUB = re.compile(r"(\w+)\[([^\[\]]*)\]")
_STORE = re.compile(r"^\s*(\w+)\[([^\[\]]*)\] \+?= ")
_BARE = re.compile(r"\b(\w+)\b(?!\[)")
CHUNKS = 64        # chunks of the batch (numba hands each thread an equal share)
MIN_CHUNK = 32     # rows


def _parse(lines):
    """Items ["loop", var, n, body lines] and ["stmt", line] of the kernel's top level."""
    items = []
    for ln in lines:
        m = _LOOP.match(ln)
        if m:
            items.append(["loop", m.group(1), int(m.group(2)), [], bool(m.group(3))])
        elif ln.startswith("     ") and items and items[-1][0] == "loop":
            items[-1][3].append(ln)
        else:
            items.append(["stmt", ln])
    return items


def _note(line, rows, alias):
    """Record an allocation's rows or a view's base."""
    m = _EMPTY.match(line)
    if m:
        rows[m.group(1)] = int(m.group(2))
        return
    m = _VIEW.match(line)
    if m:
        name, base, chain = m.group(1), m.group(2), m.group(3)
        firsts = [int(x) for x in re.findall(r"\.reshape\(\((\d+)", chain)]
        if base in alias:
            base, more = alias[base]
            firsts = more + firsts
        alias[name] = (base, firsts)


def _accesses(var, body, rows, alias, n):
    """{base array: (written, every access at row `var`)} of a loop body; None when an access
    is not understood (a nested subscript, an array used whole)."""
    arrays = set(rows) | set(alias)
    acc = {}
    for ln in body:
        subs = list(_SUB.finditer(ln))
        if ln.count("[") != len(subs):
            return None
        for m in _BARE.finditer(ln):
            if m.group(1) in arrays or re.fullmatch(r"o\d+", m.group(1)):
                return None
        st = _STORE.match(ln)
        for m in subs:
            name, idx = m.group(1), m.group(2)
            if name in alias:   # a view: its rows are the base's when all first axes are n
                base, firsts = alias[name]
                same = rows.get(base) == n and all(f == n for f in firsts)
            else:
                base, same = name, True
            row = same and idx.split(",")[0].strip() == var
            w, r = acc.get(base, (False, True))
            wrote = st is not None and m.start() == st.start(1)
            acc[base] = (w or wrote, r and row)
    return acc


def _compatible(ga, la):
    """Whether a loop with accesses la may run chunk by chunk after the group with ga: every
    array one of them writes is accessed by both at their own row only."""
    for base in set(ga) & set(la):
        gw, grow = ga[base]
        lw, lrow = la[base]
        if (gw or lw) and not (grow and lrow):
            return False
    return True


def _merge(a, b):
    res = dict(a)
    for base, (w, r) in b.items():
        w0, r0 = res.get(base, (False, True))
        res[base] = (w0 or w, r0 and r)
    return res


def fuse_row_loops(lines):
    """The kernel body's lines with runs of row-wise prange loops fused (see the module)."""
    items = _parse([s for ln in lines for s in ln.split("\n")])
    rows, alias = {}, {}
    out, k, g = [], 0, 0
    while k < len(items):
        it = items[k]
        if it[0] == "stmt":
            _note(it[1], rows, alias)
            out.append(it[1])
            k += 1
            continue
        n = it[2]
        ga = _accesses(it[1], it[3], rows, alias, n)
        run, pending = [it], []   # the run's loops and the statements between them, in order
        j = k + 1
        while ga is not None and j < len(items):
            nx = items[j]
            if nx[0] == "stmt":
                if not (_EMPTY.match(nx[1]) or _VIEW.match(nx[1])):
                    break
                _note(nx[1], rows, alias)
                pending.append(nx)
                j += 1
                continue
            la = None if nx[2] != n else _accesses(nx[1], nx[3], rows, alias, n)
            if la is None or not _compatible(ga, la):
                break
            ga = _merge(ga, la)
            run += pending + [nx]
            pending = []
            j += 1
        loops = [x for x in run if x[0] == "loop"]
        if len(loops) == 1 or all(lp[4] for lp in loops) or n < 2 * MIN_CHUNK:
            # each loop on its own (a few rows are not worth chunks); a small loop alone is
            # not worth a fork/join
            for x in run:
                if x[0] == "stmt":
                    out.append(x[1])
                    continue
                out.append(f"    for {x[1]} in {'range' if x[4] else 'prange'}({n}):")
                out += x[3]
        else:
            out += [x[1] for x in run if x[0] == "stmt"]   # allocations and views first
            ch = max(MIN_CHUNK, -(-n // CHUNKS))
            kv, lo, hi = f"_k{g}", f"_lo{g}", f"_hi{g}"
            g += 1
            out.append(f"    for {kv} in prange({-(-n // ch)}):")
            out.append(f"        {lo} = {kv} * {ch}")
            out.append(f"        {hi} = min({lo} + {ch}, {n})")
            for lp in loops:
                out.append(f"        for {lp[1]} in range({lo}, {hi}):")
                out += ["    " + b for b in lp[3]]
        out += [x[1] for x in pending]   # after the run's last loop, in order
        k = j
    return out
