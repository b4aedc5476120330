"""Differential test: random small programs of ad ops, differentiated by adjit (reverse mode,
forward mode, reverse-over-reverse, jacrev, hessian) and by central finite differences of the
very same program run on plain NumPy arrays (where the ad ops just compute values), and
compiled by `ad.jit` (of f, of its gradient and of its Hessian) against eager adjit.

Size: the hypothesis profile of conftest.py (ADJIT_HYPOTHESIS_PROFILE) also sizes this file:
"ci" (default) runs 300 programs through reverse and forward mode, 100 through jacrev, hessian
and Hessian-vector products, and 5 per jit path (each is a numba compile, ~1-2 s cold; later
runs load the kernels from the cache); "thorough" runs 2,000 programs per path. The jit part
also runs as a script that counts instead of stopping at the first failure:
`python tests/test_random_programs.py FIRST_SEED LAST_SEED`. An `ad.jit` fallback to eager is a bug
here: every jit test turns RuntimeWarnings into errors.

Programs may take kinks (abs, relu, clip, max, where, a Python `if` on a traced value) and read
values into Python (`float(ad.tanh(x[0]))`): finite differences are skipped where two step
sizes disagree (a kink within the step), and the steps that read a value into Python (whose
derivative adjit, like PyTorch and JAX, treats as a constant) are only compared with eager."""
import os
import warnings

import numpy as np
import pytest

import adjit as ad

THOROUGH = os.environ.get("ADJIT_HYPOTHESIS_PROFILE", "ci") == "thorough"
N_PROGRAMS = 2000 if THOROUGH else 300
STEP_2ND = 1 if THOROUGH else 3     # every STEP_2ND-th program through jacrev / hessian / H v
N_JIT = 2000 if THOROUGH else 5     # programs compiled per jit path (f, grad, hessian)
SHAPES = [(2, 3), (3,), ()]
W3 = np.array([[0.5, -1.0, 0.3], [0.2, 0.7, -0.4], [-0.6, 0.1, 0.9]])
MASK = np.array([True, False, True])

# unary steps: bounded or slowly growing, smooth everywhere
UNARY = {
    "sin": ad.sin, "cos": ad.cos, "tanh": ad.tanh, "sigmoid": ad.sigmoid, "arctan": ad.arctan,
    "softplus": ad.softplus, "erf": ad.erf,
    "log_sq1": lambda x: ad.log(x * x + 1.0),
    "sqrt_sq1": lambda x: ad.sqrt(ad.square(x) + 1.0),
    "gauss": lambda x: ad.exp(-x * x),
    "log1p_sq": lambda x: ad.log1p(x ** 2),
    "cauchy": lambda x: 1.0 / (1.0 + x * x),
    "cube_tanh": lambda x: ad.tanh(x) ** 3,
    "neg": lambda x: -x,
    "scale": lambda x: 0.7 * x - 0.2,
    "cosh_tanh": lambda x: ad.cosh(ad.tanh(x)),
    "exp2_sin": lambda x: ad.exp2(ad.sin(x)),
    "log2_sq": lambda x: ad.log2(x * x + 2.0) + ad.log10(ad.square(x) + 1.5),
    "expm1_tanh": lambda x: ad.expm1(ad.tanh(x)),
    "arcsin_tanh": lambda x: ad.arcsin(0.9 * ad.tanh(x)),
    "arccos_sig": lambda x: ad.arccos(ad.sigmoid(x) - 0.5),
    "tan_tanh": lambda x: ad.tan(ad.tanh(x)),
    "sinh_tanh": lambda x: ad.sinh(ad.tanh(x)),
}
# steps that need an axis (ndim >= 1)
AXIS_UNARY = {
    "softmax": lambda x: ad.softmax(x, axis=-1),
    "log_softmax": lambda x: ad.log_softmax(x, dim=-1),
    "cumsum": lambda x: ad.cumsum(x, axis=-1),
    "flip": lambda x: x[..., ::-1],
    "gather": lambda x: x[..., [2, 0, 2]],
    "matmul_w": lambda x: x @ W3,
    "w_matmul": lambda x: ad.matmul(W3, ad.transpose(x)).T if x.ndim == 2 else W3 @ x,
    "sum_keep": lambda x: ad.sum(x, axis=-1, keepdims=True),
    "mean_keep": lambda x: ad.mean(x, dim=-1, keepdim=True),
    "lse_keep": lambda x: ad.logsumexp(x, axis=-1, keepdims=True),
    "norm_keep": lambda x: ad.norm(x, axis=-1, keepdims=True),
    "var_keep": lambda x: ad.var(x, axis=-1, keepdims=True),
    "std_keep": lambda x: ad.std(x * x + 1.0, axis=-1, keepdims=True),
    "prod_keep": lambda x: ad.prod(ad.sigmoid(x) + 0.5, axis=-1, keepdims=True),
    "where_mask": lambda x: ad.where(MASK, x, 0.5 * x * x),
    "stack_mean": lambda x: ad.mean(ad.stack([x, ad.sin(x)], axis=0), axis=0),
    "cat_split": lambda x: ad.concatenate([x[..., 1:], x[..., :1]], axis=-1),
    "reshape_rt": lambda x: ad.reshape(ad.reshape(x, (-1,)), x.shape),
}
I3 = np.eye(3)


def _mat(x):
    """A well-conditioned (..., 3, 3) matrix that depends on x (..., 3)."""
    return 2.0 * W3 + 3.0 * I3 + 0.1 * x[..., :, None] * x[..., None, :]


def _spd(x):
    return 2.0 * I3 + 0.2 * x[..., :, None] * x[..., None, :]


def _branch(x):
    # Python control flow on a traced value: ad.jit guards it and retraces on the other side
    return ad.sin(x) if ad.sum(x) > 0.0 else ad.cos(x) * 0.5


AXIS_UNARY.update({
    "solve": lambda x: ad.solve(_mat(x), x) if x.ndim == 1 else
        ad.sum(_mat(x) * x[..., None, :], axis=-1),
    "det": lambda x: ad.det(_mat(x))[..., None] * x,
    "logdet": lambda x: ad.logdet(_mat(x))[..., None] + x,
    "inv": lambda x: ad.sum(ad.inv(_mat(x)), axis=-1),
    "chol": lambda x: ad.sum(ad.cholesky(_spd(x)), axis=-1),
    "prod": lambda x: ad.prod(x, axis=-1, keepdims=True) * x,
    "first": lambda x: x[..., 0:1] * x,
    "elem0": lambda x: x * x[..., 1][..., None],
})
# steps with kinks (finite differences checked only where two step sizes agree)
KINKED = {
    "abs": ad.abs, "relu": ad.relu,
    "clip": lambda x: ad.clip(x, -0.5, 0.7),
    "clamp": lambda x: ad.clip(x, min=-0.3),
    "max": lambda x: ad.max(x) + 0.0 * x,
    "min_keep": lambda x: ad.min(x, axis=-1, keepdims=True) * x if _shape(x) else x,
    "branch": _branch,
    "sign_mul": lambda x: ad.sign(x) * x * x,
}
KINKED_BINARY = {
    "maximum": ad.maximum, "minimum": ad.minimum,
    "where_gt": lambda a, b: ad.where(a > b, a, b * b),
    "where_const": lambda a, b: ad.where(a > 0.1, 1.0, ad.sin(b)) * a,
    "clip_lo": lambda a, b: ad.clip(a, b, None),
    "clip_hi": lambda a, b: ad.clip(a, None, b + 0.5),
    "clip_both": lambda a, b: ad.clip(a, b - 0.3, 0.8),
}
# steps that read a value into Python (no derivative through the read: float() of a value
# being differentiated raises, ad.stop_gradient says the read is meant as a constant)
READS = {
    "float_tanh": lambda x: x * float(ad.stop_gradient(ad.tanh(ad.sum(x)))),
    "float_first": lambda x: x * float(ad.stop_gradient(ad.tanh(ad.reshape(x, (-1,))[0]))),
}

REDUCE = {
    "sum": ad.sum, "mean": ad.mean, "lse": ad.logsumexp,
    "sum0": lambda x: ad.sum(x, axis=0),
}
BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0), "rdiv": lambda a, b: ad.div(a, ad.exp(b * 0.3)),
    "hypot": lambda a, b: ad.sqrt(a * a + b * b + 1.0),
    "pow": lambda a, b: ad.pow(a * a + 0.5, ad.tanh(b)),
    "add_fn": ad.add, "mul_fn": ad.mul, "sub_fn": ad.sub,
    "sin_mix": lambda a, b: ad.sin(a) * ad.cos(b) + 0.1 * a,
}


def _shape(v):
    s = getattr(v, "shape", None)
    return tuple(s) if s is not None else np.shape(v)


def make_program(rng):
    """A list of steps (kind, name, operand indices) over 1-3 inputs with random shapes."""
    n_in = int(rng.integers(1, 4))
    shapes = [SHAPES[int(rng.integers(len(SHAPES)))] for _ in range(n_in)]
    val_shapes = list(shapes)
    steps = []
    for _ in range(int(rng.integers(4, 12))):
        r = rng.uniform()
        i = int(rng.integers(len(val_shapes)))
        s = val_shapes[i]
        if r < 0.1:
            name = list(KINKED)[int(rng.integers(len(KINKED)))]
            steps.append(("k", name, (i,)))
            val_shapes.append(s)
        elif r < 0.14:
            name = list(READS)[int(rng.integers(len(READS)))]
            steps.append(("p", name, (i,)))
            val_shapes.append(s)
        elif r < 0.22:
            j = int(rng.integers(len(val_shapes)))
            try:
                out = np.broadcast_shapes(s, val_shapes[j])
            except ValueError:
                j, out = i, s
            name = list(KINKED_BINARY)[int(rng.integers(len(KINKED_BINARY)))]
            steps.append(("kb", name, (i, j)))
            val_shapes.append(out)
        elif r < 0.4 or len(val_shapes) < 2 and r < 0.6:
            name = list(UNARY)[int(rng.integers(len(UNARY)))]
            steps.append(("u", name, (i,)))
            val_shapes.append(s)
        elif r < 0.55 and len(s) >= 1 and s[-1] == 3:
            name = list(AXIS_UNARY)[int(rng.integers(len(AXIS_UNARY)))]
            steps.append(("a", name, (i,)))
            out = np.broadcast_shapes(s)
            if name.endswith("_keep"):
                out = s[:-1] + (1,)
            val_shapes.append(out)
        elif r < 0.62 and len(s) >= 1:
            name = list(REDUCE)[int(rng.integers(len(REDUCE)))]
            steps.append(("r", name, (i,)))
            val_shapes.append(s[1:] if name == "sum0" else ())
        else:
            j = int(rng.integers(len(val_shapes)))
            try:
                out = np.broadcast_shapes(s, val_shapes[j])
            except ValueError:
                j = i
                out = s
            name = list(BINARY)[int(rng.integers(len(BINARY)))]
            steps.append(("b", name, (i, j)))
            val_shapes.append(out)
    return shapes, steps


TABLES = {"u": UNARY, "a": AXIS_UNARY, "r": REDUCE, "b": BINARY, "k": KINKED,
          "kb": KINKED_BINARY, "p": READS}


def run(steps, inputs):
    vals = list(inputs)
    for kind, name, idx in steps:
        vals.append(TABLES[kind][name](*[vals[k] for k in idx]))
    # a weighted sum of the last two values, so that no gradient cancels by symmetry
    out = 0.0
    for c, v in ((1.0, vals[-1]), (0.5, vals[-2])):
        sh = _shape(v)
        w = (np.cos(np.arange(int(np.prod(sh))) * 1.3) + 1.5).reshape(sh)
        out = out + c * ad.sum(v * w)
    return out


def fd_gradient(steps, xs, eps=1e-6):
    """Central differences of the program on plain NumPy arrays; None where the program reads
    a value into Python or a kink lies within the step (two step sizes disagree)."""
    if any(kind == "p" for kind, _, _ in steps):
        return None
    grads = [_fd(steps, xs, eps), _fd(steps, xs, eps / 4)]
    kinked = any(kind in ("k", "kb") for kind, _, _ in steps)
    if kinked:
        for a, b in zip(*grads):
            if not np.allclose(a, b, rtol=1e-4, atol=1e-5):
                return None
    return grads[0]


def _fd(steps, xs, eps):
    grads = []
    for i, x in enumerate(xs):
        g = np.zeros(x.shape)
        for k in range(x.size):
            xp, xm = [a.copy() for a in xs], [a.copy() for a in xs]
            xp[i].flat[k] += eps
            xm[i].flat[k] -= eps
            fp, fm = run(steps, xp), run(steps, xm)
            assert isinstance(fp, (float, np.floating, np.ndarray)), type(fp)
            g.flat[k] = (float(fp) - float(fm)) / (2 * eps)
        grads.append(g)
    return grads


def program(seed):
    rng = np.random.default_rng(1000 + seed)
    shapes, steps = make_program(rng)
    xs = [rng.uniform(-1.5, 1.5, size=s) for s in shapes]
    return steps, xs


def describe(steps, xs):
    return f"inputs {[x.shape for x in xs]}, steps {[(k, n, i) for k, n, i in steps]}"


def flat(steps, xs):
    """The program as a function of one vector z (all inputs raveled and concatenated), the
    form jacrev / hessian / the jit take here; and z."""
    sizes = [x.size for x in xs]
    shapes = [x.shape for x in xs]

    def F(z):
        parts, o = [], 0
        for n, s in zip(sizes, shapes):
            parts.append(ad.reshape(z[o:o + n], s))
            o += n
        return run(steps, parts)
    F.__name__ = "program"
    return F, np.concatenate([x.ravel() for x in xs])


def _close(got, want, what, steps, xs, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol,
                               err_msg=f"{what}: {describe(steps, xs)}")


@pytest.mark.parametrize("seed", range(N_PROGRAMS))
def test_random_program_reverse_and_forward(seed):
    steps, xs = program(seed)
    ref = fd_gradient(steps, xs)
    # reverse mode
    ts = [ad.tensor(x, requires_grad=True) for x in xs]
    out = run(steps, ts)
    assert isinstance(out, ad.Tensor) and out.shape == ()
    assert out.item() == pytest.approx(float(run(steps, xs)), rel=1e-12, abs=1e-12)
    out.backward()
    rev = [np.zeros(t.shape) if t.grad is None else t.grad.numpy() for t in ts]
    if ref is None:
        ref = rev   # reverse mode is then the reference of forward mode
    for i, (g, r) in enumerate(zip(rev, ref)):
        _close(g, r, f"reverse, input {i}", steps, xs)
    # forward mode: one pass per input with all its directions at once
    for i, x in enumerate(xs):
        n = x.size
        args = list(xs)
        args[i] = ad.dual(x, np.eye(n).reshape(x.shape + (n,)))
        d = run(steps, args)
        tan = np.zeros(n) if not isinstance(d, ad.Dual) else np.asarray(d.tangent).reshape(n)
        _close(tan, ref[i].reshape(n), f"forward, input {i}", steps, xs)


@pytest.mark.parametrize("seed", range(0, N_PROGRAMS, STEP_2ND))
def test_random_program_jacrev_and_hessian(seed):
    """jacrev against finite differences of f, hessian against differences of the gradient."""
    steps, xs = program(seed)
    F, z = flat(steps, xs)
    ref = fd_gradient(steps, xs)
    g = ad.grad(F)(z)
    if ref is not None:
        _close(g, np.concatenate([r.ravel() for r in ref]), "grad", steps, xs)
    _close(ad.jacrev(F)(z), g, "jacrev", steps, xs, rtol=1e-12, atol=1e-12)
    H = ad.hessian(F)(z)
    if any(kind == "p" for kind, _, _ in steps):
        # a value read into Python is a constant of the derivative but moves with z: compare
        # forward-over-reverse with reverse-over-reverse instead of with differences
        _close(H, ad.jacrev(ad.grad(F))(z), "hessian", steps, xs, rtol=1e-9, atol=1e-10)
        return

    def diff(eps):
        return np.stack([(ad.grad(F)(z + e) - ad.grad(F)(z - e)) / (2 * eps)
                         for e in np.eye(z.size) * eps], axis=1)

    Hfd = diff(1e-5)
    if any(kind in ("k", "kb") for kind, _, _ in steps) and \
            not np.allclose(Hfd, diff(2.5e-6), rtol=1e-3, atol=1e-4):
        return   # a kink within the step
    _close(H, Hfd, "hessian", steps, xs, rtol=1e-4, atol=1e-4)


JIT_PATHS = {"f": lambda F: F, "grad": ad.grad, "hessian": ad.hessian}


def jit_check(seed, path):
    """ad.jit of the program (of f, its gradient or its Hessian) against eager adjit; any
    fallback to eager is an error (RuntimeWarning -> error)."""
    steps, xs = program(seed)
    F, z = flat(steps, xs)
    g = JIT_PATHS[path](F)
    want = g(z)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        got = ad.jit(g)(z)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11,
                               err_msg=f"jit({path}), seed {seed}: {describe(steps, xs)}")


@pytest.mark.parametrize("path", sorted(JIT_PATHS))
@pytest.mark.parametrize("seed", range(N_JIT))
def test_random_program_jit(seed, path):
    jit_check(seed, path)


if __name__ == "__main__":   # a long run with counts: python tests/test_random_programs.py A B
    import sys
    import time
    lo, hi = int(sys.argv[1]), int(sys.argv[2])
    counts = {}
    t0 = time.time()
    for seed in range(lo, hi):
        for path in sorted(JIT_PATHS):
            try:
                jit_check(seed, path)
                what = "ok"
            except AssertionError as e:
                what = "mismatch"
                print(f"MISMATCH {seed} {path}: {str(e)[:300]}", flush=True)
            except RuntimeWarning as e:
                what = "fallback"
                print(f"FALLBACK {seed} {path}: {str(e)[:300]}", flush=True)
            except Exception as e:  # noqa: BLE001 - counted and printed
                what = "crash"
                print(f"CRASH {seed} {path}: {type(e).__name__}: {str(e)[:300]}", flush=True)
            counts[(path, what)] = counts.get((path, what), 0) + 1
        if seed % 20 == 0:
            print(f"seed {seed} {time.time() - t0:.0f}s {sorted(counts.items())}", flush=True)
    print("TOTAL", sorted(counts.items()), f"{time.time() - t0:.0f}s", flush=True)


@pytest.mark.parametrize("seed", range(0, N_PROGRAMS, STEP_2ND))
def test_random_program_second_order(seed):
    """Hessian-vector products through create_graph against differences of the gradient."""
    steps, xs = program(seed)
    rng = np.random.default_rng(seed)
    vs = [rng.standard_normal(x.shape) for x in xs]

    def gradient(arrays):
        ts = [ad.tensor(a, requires_grad=True) for a in arrays]
        gs = ad.autograd.grad(run(steps, ts), ts, allow_unused=True)
        return [np.zeros(t.shape) if g is None else g.numpy() for t, g in zip(ts, gs)]

    def diff(eps):
        gp = gradient([x + eps * v for x, v in zip(xs, vs)])
        gm = gradient([x - eps * v for x, v in zip(xs, vs)])
        return [(a - b) / (2 * eps) for a, b in zip(gp, gm)]

    if any(kind == "p" for kind, _, _ in steps):
        # a value read into Python moves with x: reverse-over-reverse is the reference
        F, z = flat(steps, xs)
        hv = ad.jacrev(ad.grad(F))(z) @ np.concatenate([v.ravel() for v in vs])
        ref = np.split(hv, np.cumsum([x.size for x in xs])[:-1])
        ref = [r.reshape(x.shape) for r, x in zip(ref, xs)]
    else:
        ref = diff(1e-5)
        if any(kind in ("k", "kb") for kind, _, _ in steps) and not all(
                np.allclose(a, b, rtol=1e-3, atol=1e-4) for a, b in zip(ref, diff(2.5e-6))):
            return   # a kink within the step

    ts = [ad.tensor(x, requires_grad=True) for x in xs]
    gs = ad.autograd.grad(run(steps, ts), ts, create_graph=True, allow_unused=True)
    gv = 0.0
    for g, v in zip(gs, vs):
        if g is not None:
            gv = gv + ad.sum(g * v)
    if not isinstance(gv, ad.Tensor) or not gv.requires_grad:
        hv = [np.zeros(x.shape) for x in xs]
    else:
        hs = ad.autograd.grad(gv, ts, allow_unused=True)
        hv = [np.zeros(t.shape) if h is None else h.numpy() for t, h in zip(ts, hs)]
    for i, (h, r) in enumerate(zip(hv, ref)):
        np.testing.assert_allclose(h, r, rtol=1e-4, atol=1e-5,
                                   err_msg=f"H v, input {i}: {describe(steps, xs)}")


def test_programs_are_varied():
    """The generator really mixes kinds, shapes and input counts."""
    kinds, names, n_inputs = set(), set(), set()
    for seed in range(N_PROGRAMS):
        steps, xs = program(seed)
        n_inputs.add(len(xs))
        for kind, name, _ in steps:
            kinds.add(kind)
            names.add(name)
    assert kinds == {"u", "a", "r", "b", "k", "kb", "p"}
    assert n_inputs == {1, 2, 3}
    assert len(names) >= 40
