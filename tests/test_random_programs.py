"""Differential test: random small programs of ad ops, differentiated by adjit (reverse mode,
forward mode, and reverse-over-reverse) and by central finite differences of the very same
program run on plain NumPy arrays (where the ad ops just compute values)."""
import numpy as np
import pytest

import adjit as ad

N_PROGRAMS = 50
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
    return tuple(np.shape(v)) if not isinstance(v, ad.Tensor) else v.shape


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
        if r < 0.35 or len(val_shapes) < 2 and r < 0.6:
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


TABLES = {"u": UNARY, "a": AXIS_UNARY, "r": REDUCE, "b": BINARY}


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
    """Central differences of the program on plain NumPy arrays."""
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
    for i, (t, g) in enumerate(zip(ts, ref)):
        got = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(got, g, rtol=1e-5, atol=1e-6,
                                   err_msg=f"reverse, input {i}: {describe(steps, xs)}")
    # forward mode: one pass per input with all its directions at once
    for i, x in enumerate(xs):
        n = x.size
        args = list(xs)
        args[i] = ad.dual(x, np.eye(n).reshape(x.shape + (n,)))
        d = run(steps, args)
        tan = np.zeros(n) if not isinstance(d, ad.Dual) else np.asarray(d.tangent).reshape(n)
        np.testing.assert_allclose(tan, ref[i].reshape(n), rtol=1e-5, atol=1e-6,
                                   err_msg=f"forward, input {i}: {describe(steps, xs)}")


@pytest.mark.parametrize("seed", range(0, N_PROGRAMS, 5))
def test_random_program_second_order(seed):
    """Hessian-vector products through create_graph against differences of the gradient."""
    steps, xs = program(seed)
    rng = np.random.default_rng(seed)
    vs = [rng.standard_normal(x.shape) for x in xs]

    def gradient(arrays):
        ts = [ad.tensor(a, requires_grad=True) for a in arrays]
        gs = ad.autograd.grad(run(steps, ts), ts, allow_unused=True)
        return [np.zeros(t.shape) if g is None else g.numpy() for t, g in zip(ts, gs)]

    eps = 1e-5
    gp = gradient([x + eps * v for x, v in zip(xs, vs)])
    gm = gradient([x - eps * v for x, v in zip(xs, vs)])
    ref = [(a - b) / (2 * eps) for a, b in zip(gp, gm)]

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
    assert kinds == {"u", "a", "r", "b"}
    assert n_inputs == {1, 2, 3}
    assert len(names) >= 40
