"""einsum's subscripts as one list of labels per operand (a letter per named axis, the ints
-e..-1 for the axes '...' stands for, right-aligned so that they broadcast), and the order of
its pairwise contractions. NumPy's rules and error cases; no arrays here."""
from collections import Counter

import numpy as np

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _bad(msg):
    return ValueError(f"adjit.einsum: {msg}")


def _letters(chars, where):
    for c in chars:
        if c not in _LETTERS:
            raise _bad(f"invalid subscript {c!r} in {where}: subscripts are ASCII letters, "
                       "',', '->' and one '...'")
    return list(chars)


def _split_ellipsis(term, where):
    if term.count("...") > 1 or "." in term.replace("...", "", 1):
        raise _bad(f"{where} {term!r}: '.' may only appear as one '...' ellipsis")
    head, ell, tail = term.partition("...")
    return _letters(head, where), bool(ell), _letters(tail, where)


def _term(term, nd, i):
    """(labels, number of axes '...' stands for) of operand i with nd axes."""
    where = f"the subscripts of operand {i}"
    head, ell, tail = _split_ellipsis(term, where)
    n = len(head) + len(tail)
    if ell:
        if nd < n:
            raise _bad(f"{where} {term!r} name {n} axes, but the operand has {nd}")
        return head + list(range(n - nd, 0)) + tail, nd - n
    if nd != n:
        raise _bad(f"{where} {term!r} name {n} axes, but the operand has {nd} (use '...' for "
                   "axes to broadcast)")
    return head + tail, 0


def parse_subscripts(subscripts, ndims):
    """(labels of each operand, labels of the output) for a subscripts string and the
    operands' numbers of axes."""
    s = subscripts.replace(" ", "")
    ins, arrow, out = s.partition("->")
    if "-" in ins + out or ">" in ins + out:
        raise _bad(f"subscripts {subscripts!r}: '->' may appear once, between the inputs and "
                   "the output")
    terms = ins.split(",")
    if len(terms) != len(ndims):
        raise _bad(f"subscripts {subscripts!r} describe {len(terms)} operand(s), but "
                   f"{len(ndims)} were given")
    parsed = [_term(t, nd, i) for i, (t, nd) in enumerate(zip(terms, ndims))]
    labels = [p[0] for p in parsed]
    ne = max((p[1] for p in parsed), default=0)
    if not arrow:   # implicit output: '...' then the labels used once, alphabetically
        counts = Counter(lab for ls in labels for lab in ls if isinstance(lab, str))
        return labels, list(range(-ne, 0)) + sorted(c for c, k in counts.items() if k == 1)
    head, ell, tail = _split_ellipsis(out, "the output subscripts")
    named = {lab for ls in labels for lab in ls}
    for c, k in Counter(head + tail).items():
        if k > 1:
            raise _bad(f"the output subscripts {out!r} name {c!r} more than once")
        if c not in named:
            raise _bad(f"the output subscript {c!r} is not among the input subscripts")
    if ne and not ell:
        raise _bad(f"the output subscripts {out!r} have no '...' for the {ne} axes '...' "
                   "stands for in the inputs (NumPy does not sum over them either)")
    return labels, head + list(range(-ne, 0)) + tail


def _sublist(sub, where):
    out = []
    for v in sub:
        if v is Ellipsis:
            out.append("...")
        elif isinstance(v, (int, np.integer)) and 0 <= v < len(_LETTERS):
            out.append(_LETTERS[int(v)])
        else:
            raise _bad(f"{where}: subscripts in a sublist are ints in [0, 52) or Ellipsis, got "
                       f"{v!r}")
    return "".join(out)


def parse_sublists(args, ndims):
    """NumPy's sublist form einsum(op0, sublist0, op1, sublist1, ..., [sublistout])."""
    terms = [_sublist(args[k], f"the sublist of operand {k // 2}")
             for k in range(1, len(args) - len(args) % 2 + 1, 2)]
    s = ",".join(terms)
    if len(args) % 2:
        s += "->" + _sublist(args[-1], "the output sublist")
    return parse_subscripts(s, ndims)


_PATHS = {False: "greedy", None: "greedy", True: "greedy", "greedy": "greedy",
          "optimal": "optimal"}


def contraction_path(labels, sizes, out, optimize):
    """The groups of operands to contract, in order, as np.einsum_path's path: each group's
    positions in the current list, whose contraction is appended at its end. optimize=False
    (NumPy: one loop over every index) takes the greedy order too, which never costs more
    than left to right by much and is often far cheaper."""
    n = len(labels)
    if isinstance(optimize, (list, tuple)):
        if not optimize or optimize[0] != "einsum_path":
            raise TypeError("adjit.einsum: an explicit optimize= path starts with "
                            "'einsum_path', as np.einsum_path returns it")
        path = [tuple(int(i) for i in g) for g in optimize[1:]]
        left = n
        for g in path:
            if not g or any(not 0 <= i < left for i in g) or len(set(g)) != len(g):
                raise _bad(f"the path {optimize!r} does not fit {n} operands")
            left += 1 - len(g)
        return path
    if isinstance(optimize, str) and optimize not in _PATHS:
        raise _bad(f"unknown optimize={optimize!r}: use False, True, 'greedy', 'optimal' or a "
                   "path from np.einsum_path")
    if not isinstance(optimize, (bool, str, type(None))):
        raise TypeError(f"adjit.einsum: optimize={optimize!r} is not understood")
    if n < 3:
        return [tuple(range(n))] if n == 2 else []
    names = list(dict.fromkeys([lab for ls in labels for lab in ls] + list(out)))
    if len(names) > len(_LETTERS):
        return [tuple(range(n))]   # beyond NumPy's 52 labels: left to right
    ch = dict(zip(names, _LETTERS))
    spec = ",".join("".join(ch[lab] for lab in ls) for ls in labels)
    spec += "->" + "".join(ch[lab] for lab in out if any(lab in ls for ls in labels))
    dummies = [np.broadcast_to(np.empty((), dtype=np.uint8), [sizes[lab] for lab in ls])
               for ls in labels]
    path, _ = np.einsum_path(spec, *dummies, optimize=_PATHS[optimize])
    return [tuple(g) for g in path[1:]]
