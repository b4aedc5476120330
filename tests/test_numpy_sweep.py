"""The sweep of issue 11: every function in NumPy's main namespace and np.linalg that takes
arrays, called on Tensors that require grad, either gives the derivative central finite
differences give (and NumPy's values) or raises adjit's clear error. No third outcome.

Each function is first called on plain arrays with the first argument recipe that NumPy
accepts (a generic list, plus a small table for functions whose arguments are not arrays
alone); functions no recipe fits do not take arrays in a way the sweep can exercise and count
as not applicable. Then every float array among the arguments becomes a Tensor that requires
grad and the function is called again. Run this file alone with `-s` to print the counts.
"""
import re
import warnings

import numpy as np
import pytest

import adjit as ad

# side effects (files, global print/error state, the test runner) or no array arguments
SKIP = {"test", "info", "load", "loadtxt", "genfromtxt", "fromfile", "fromregex", "save",
        "savez", "savez_compressed", "savetxt", "set_printoptions", "printoptions",
        "setbufsize", "seterr", "seterrcall", "show_config", "show_runtime", "get_include",
        "get_printoptions", "getbufsize", "geterr", "geterrcall", "show"}

X = np.array([[2.13, 0.31, 0.17], [0.27, 1.62, 0.23], [0.11, 0.37, 1.87]])
Y = np.array([[0.71, 1.43, 0.52], [1.21, 0.64, 1.33], [0.47, 0.93, 1.76]])
IDX = np.array([[0, 1, 2], [2, 0, 1], [1, 2, 0]])

# generic recipes: functions of one array, two arrays, an array and an int, a sequence ...
GENERIC = [lambda x, y: ((x,), {}), lambda x, y: ((x, y), {}), lambda x, y: ((x, 1), {}),
           lambda x, y: (([x, y],), {}), lambda x, y: ((x, 0.5), {}),
           lambda x, y: ((x, x, y), {}), lambda x, y: ((x, 0.5, 1.5), {}),
           lambda x, y: ((x, 0, 1), {}), lambda x, y: ((x,), {"axis": 0}),
           lambda x, y: ((x[0],), {}), lambda x, y: ((x[0], y[0]), {}),
           lambda x, y: ((x[0], 1), {})]

# functions whose arguments are not arrays alone
RECIPES = {
    "bmat": lambda x, y: (([x, y],), {}),   # an ndarray alone: bmat returns None for others
    "einsum": lambda x, y: (("ij,jk->ik", x, y), {}),
    "einsum_path": lambda x, y: (("ij,jk->ik", x, y), {}),
    "apply_along_axis": lambda x, y: ((np.sum, 0, x), {}),
    "apply_over_axes": lambda x, y: ((np.sum, x, [0]), {}),
    "piecewise": lambda x, y: ((x, [x > 1.0], [lambda v: v * 2.0, 0.5]), {}),
    "select": lambda x, y: (([x > 1.0], [x], 0.5), {}),
    "choose": lambda x, y: ((IDX % 2, [x, y]), {}),
    "where": lambda x, y: ((x > 1.0, x, y), {}),
    "interp": lambda x, y: ((x, np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 1.0, 4.0, 9.0])),
                            {}),
    "insert": lambda x, y: ((x, 1, 0.5), {}),
    "take": lambda x, y: ((x, IDX), {}),
    "take_along_axis": lambda x, y: ((x, IDX), {"axis": 0}),
    "put_along_axis": lambda x, y: ((x, IDX, y), {"axis": 0}),
    "reshape": lambda x, y: ((x, (9,)), {}),
    "resize": lambda x, y: ((x, (2, 5)), {}),
    "broadcast_to": lambda x, y: ((x, (2, 3, 3)), {}),
    "transpose": lambda x, y: ((x, (1, 0)), {}),
    "linalg.tensorsolve": lambda x, y: ((x, y[0]), {}),
    "linalg.solve": lambda x, y: ((x, y), {}),
    "linalg.matrix_power": lambda x, y: ((x, 3), {}),
    "histogram2d": lambda x, y: ((x.reshape(-1), y.reshape(-1)), {}),
    "polyfit": lambda x, y: ((x[0], y[0], 1), {}),
    "fill_diagonal": lambda x, y: ((x, 0.5), {}),
    "place": lambda x, y: ((x, x > 1.0, 0.5), {}),
    "put": lambda x, y: ((x, [0, 4], [0.5, 0.25]), {}),
    "putmask": lambda x, y: ((x, x > 1.0, 0.5), {}),
    "compress": lambda x, y: (([True, False, True], x), {"axis": 0}),
    "searchsorted": lambda x, y: ((np.array([0.0, 1.0, 2.0, 3.0]), x), {}),
    "digitize": lambda x, y: ((x, np.array([0.0, 1.0, 2.0, 3.0])), {}),
    "full_like": lambda x, y: ((x, 0.5), {}),
    "astype": lambda x, y: ((x, np.float64), {}),
}
# the remainders jump where x / y is an integer, and X / Y has one (2.13 / 0.71 = 3): divide by
# 0.9 * Y, whose quotients are at least 0.18 from an integer
for _n in ("fmod", "mod", "remainder"):
    RECIPES[_n] = lambda x, y: ((x, y * 0.9), {})

# functions documented for ndarray (or buffer) arguments only, not array_like ones
NDARRAY_ONLY = {"isfortran", "frombuffer"}

# inputs whose derivative is defined on a subspace: cholesky reads the lower triangle of a
# symmetric matrix (adjit, like PyTorch, returns the symmetric gradient)
SYMMETRIC = {"linalg.cholesky", "linalg.eigh", "linalg.eigvalsh"}

# functions that write into their first argument (NumPy returns None): on a Tensor adjit updates
# it in place, recorded as t[i] = v is; the sweep calls them on a copy (writing into a leaf that
# requires grad raises, as in PyTorch) and checks the written copy as their result
WRITES_FIRST = {"put_along_axis"}


def _written(f):
    def call(target, *rest, **kw):
        target = target + 0.0
        f(target, *rest, **kw)
        return target
    return call


CLEAR = re.compile(r"adjit: (np\.[\w.]+ is not differentiable yet; use|cannot convert a tensor "
                   r"that requires grad)")


def functions():
    out = []
    for mod, prefix in ((np, ""), (np.linalg, "linalg.")):
        for name in sorted(dir(mod)):
            f = getattr(mod, name)
            if name.startswith("_") or prefix + name in SKIP or isinstance(f, type) \
                    or not callable(f) or type(f).__name__ in ("module", "PytestTester"):
                continue
            out.append((prefix + name, _written(f) if prefix + name in WRITES_FIRST else f))
    return out


def _leaves(v, out):
    if isinstance(v, (tuple, list)):
        for u in v:
            _leaves(u, out)
    else:
        out.append(v)
    return out


def _value(v):
    if isinstance(v, ad.Tensor):
        return v.detach().numpy()
    return v


def _plain_call(f, args, kw):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return f(*args, **kw)


def _usable(res):
    for leaf in _leaves(res, []):
        if isinstance(leaf, (np.ndarray, np.generic, float, complex)):
            a = np.asarray(leaf)
            if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
                return False
            if a.dtype.kind == "O":
                return False
        elif callable(leaf) and not isinstance(leaf, np.dtype):
            return False
    return True


def find_recipe(name, f):
    recipes = [RECIPES[name]] if name in RECIPES else GENERIC
    for rec in recipes:
        for scale in (lambda a: a.copy(), lambda a: a / 3.0, lambda a: a + 1.0):
            x, y = scale(X), scale(Y)
            args, kw = rec(x, y)
            try:
                res = _plain_call(f, args, kw)
            except Exception:
                continue
            if _usable(res):
                return rec, scale
    return None


def _loss_plain(f, rec, x, y, ws):
    args, kw = rec(x.copy(), y.copy())
    res = _leaves(_plain_call(f, args, kw), [])
    return sum(float(np.sum(np.asarray(r) * w)) for r, w in zip(res, ws) if w is not None)


def check(name, f):
    """'differentiates', 'no derivative' (integer/bool/str results), 'raises' or
    'not applicable'; any other outcome fails with the reason."""
    found = find_recipe(name, f)
    if found is None or name in NDARRAY_ONLY:
        return "not applicable"
    rec, scale = found
    x, y = scale(X), scale(Y)
    args, kw = rec(x.copy(), y.copy())
    want = _plain_call(f, args, kw)
    tx, ty = ad.tensor(x, requires_grad=True), ad.tensor(y, requires_grad=True)
    try:
        targs, tkw = rec(tx, ty)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            got = f(*targs, **tkw)
    except Exception as e:  # noqa: BLE001 - the sweep classifies every exception
        if isinstance(e, TypeError) and CLEAR.search(str(e)):
            return "raises"
        raise AssertionError(f"np.{name}: third outcome: {type(e).__name__}: {e}") from None
    if want is None:  # a function that writes into its argument: the write must not be lost
        raise AssertionError(f"np.{name}: third outcome: returned None on a tensor")
    wl, gl = _leaves(want, []), _leaves(got, [])
    assert len(wl) == len(gl), f"np.{name}: {len(gl)} results, NumPy gives {len(wl)}"
    floats = False
    for w, g in zip(wl, gl):
        gv = _value(g)
        if isinstance(w, (np.ndarray, np.generic, int, float, complex, bool)):
            wa = np.asarray(w)
            assert np.shape(gv) == wa.shape, f"np.{name}: shape {np.shape(gv)} != {wa.shape}"
            np.testing.assert_allclose(np.asarray(gv, dtype=wa.dtype), wa, rtol=1e-10,
                                       atol=1e-12, err_msg=f"np.{name}: value")
            floats = floats or wa.dtype.kind in "fc"
        else:
            assert gv == w or str(gv) == str(w), f"np.{name}: {gv!r} != {w!r}"
    if not floats:
        return "no derivative"
    # the derivative of sum_k sum(w_k * result_k) against central differences
    rng = np.random.default_rng(len(name))
    ws = [rng.uniform(0.5, 1.5, size=np.shape(w))
          if np.asarray(w).dtype.kind in "fc" else None for w in wl]
    loss = None
    for g, w in zip(gl, ws):
        if w is not None and isinstance(g, ad.Tensor) and g.requires_grad:
            term = ad.sum(g * w)
            loss = term if loss is None else loss + term
    grads = (ad.autograd.grad(loss, [tx, ty], allow_unused=True) if loss is not None
             else (None, None))
    eps = 1e-6
    for which, base, gr in (("x", x, grads[0]), ("y", y, grads[1])):
        fd = np.zeros_like(base)
        for j in np.ndindex(base.shape):
            vals = []
            for s in (eps, -eps):
                b = base.copy()
                b[j] += s
                vals.append(_loss_plain(f, rec, b, y, ws) if which == "x"
                            else _loss_plain(f, rec, x, b, ws))
            fd[j] = (vals[0] - vals[1]) / (2 * eps)
        an = np.zeros_like(base) if gr is None else gr.numpy()
        if name in SYMMETRIC:
            an, fd = an + an.T, fd + fd.T
        np.testing.assert_allclose(an, fd, rtol=1e-4, atol=1e-5,
                                   err_msg=f"np.{name}: derivative wrt {which}")
    return "differentiates"


FUNCTIONS = functions()
_RESULTS = {}


@pytest.mark.parametrize("name,f", FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_sweep(name, f):
    _RESULTS[name] = check(name, f)
    assert _RESULTS[name] in ("differentiates", "no derivative", "raises", "not applicable")


def test_counts():
    counts = {}
    for name, f in FUNCTIONS:
        try:
            r = _RESULTS.get(name) or check(name, f)
        except AssertionError:
            r = "FAILED"
        counts.setdefault(r, []).append(name)
    print("\nnumpy sweep:", {k: len(v) for k, v in sorted(counts.items())})
    print("differentiates:", " ".join(counts.get("differentiates", [])))
    assert "FAILED" not in counts, counts.get("FAILED")
    # the sweep exercises most of NumPy (2.x: ~400 callables, ~340 taking arrays), and every
    # function with a row differentiates (issue 11: 110 on NumPy 2.4, with the elementwise rows)
    assert len(FUNCTIONS) - len(counts.get("not applicable", [])) >= 300
    assert len(counts["differentiates"]) >= 105
