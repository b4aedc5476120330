"""Smoke tests: every script in examples/ runs and prints what it should."""
import importlib.util
import os
import re
import subprocess
import sys

import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def run(name, *args, cwd):
    p = subprocess.run([sys.executable, os.path.join(EXAMPLES, name), *args], cwd=cwd,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    return p.stdout


def number(pattern, text):
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not in output:\n{text}"
    return float(m.group(1))


def test_all_examples_are_tested():
    assert sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".py")) == sorted([
        "tour.py", "sin_derivative.py", "logdet_gradient.py", "rosenbrock_minimize.py",
        "forward_vs_reverse.py", "dask_logistic_regression.py"])


def test_tour(tmp_path):
    out = run("tour.py", cwd=tmp_path)
    for line in [
        "y = 2 x.x = tensor(28., grad_fn=<MulBackward>)",
        "dy/dx = tensor([ 0.,  4.,  8., 12.]) (= 4x)",
        "x.grad = tensor([ 0.,  8., 16., 24.]) (accumulated: 8x)",
        "after zero_() and x.sum().backward(), x.grad = tensor([1., 1., 1., 1.])",
        "(x*x).backward(gradient=ones) gives tensor([0., 2., 4., 6.])",
        "d/dx sum(u*x) = tensor([0., 1., 4., 9.])",
        "control flow: f(0.3) = 1228.8, df/da = 4096",
        "d/dw w**6 at 1 = 6.0",
        "second derivative seen by the hook: 30.0 ; w.grad now 36.0",
    ]:
        assert line in out, f"missing {line!r} in\n{out}"


def test_sin_derivative(tmp_path):
    png = tmp_path / "d.png"
    out = run("sin_derivative.py", str(png), cwd=tmp_path)
    err = number(r"max \|AD derivative - cos\(x\)\| over 200 points: (\S+)", out)
    assert err < 1e-12
    if importlib.util.find_spec("matplotlib") is None:
        assert 'pip install -e ".[plot]"' in out and not png.exists()
    else:
        assert png.read_bytes()[:4] == b"\x89PNG" and f"wrote {png}" in out


def test_sin_derivative_never_uses_cos():
    src = open(os.path.join(EXAMPLES, "sin_derivative.py")).read()
    # the only cos is NumPy's, in the line that measures the error of the AD derivative
    assert "ad.cos" not in src and "math" not in src and ".cos(" not in src.replace("np.cos(", "")
    uses = [ln for ln in src.splitlines() if "np.cos(" in ln]
    assert len(uses) == 1 and uses[0].startswith("err = ")


def test_logdet_gradient(tmp_path):
    out = run("logdet_gradient.py", cwd=tmp_path)
    for label in ("reverse mode:", "ad.grad:", "ad.jacfwd:"):
        assert number(re.escape(label) + r".*= (\S+)", out) < 1e-10
    ld, ld_np = re.search(r"logdet\(A\) = (\S+)\s+\(NumPy: (\S+)\)", out).groups()
    assert abs(float(ld) - float(ld_np)) < 1e-10
    jvp = number(r"jvp along V:\s+(\S+)", out)
    fd = number(r"central difference:\s+(\S+)", out)
    tr = number(r"trace\(inv\(A\) V\):\s+(\S+)", out)
    assert abs(jvp - tr) < 1e-9 and abs(jvp - fd) < 1e-6
    assert "gradient equals inverse transpose: True" in out


def test_rosenbrock_minimize(tmp_path):
    out = run("rosenbrock_minimize.py", "6", cwd=tmp_path)
    assert "Optimization terminated successfully" in out
    iters = re.findall(r"iter +(\d+)  f = (\S+)", out)
    nit = int(number(r"iterations (\d+)", out))
    assert 5 <= len(iters) == nit
    fs = [float(f) for _, f in iters]
    assert fs[-1] < 1e-10 < fs[0]
    assert all(b <= a for a, b in zip(fs, fs[1:]))  # trust region: f never increases
    assert number(r"max \|x - 1\| = (\S+), f\(x\)", out) < 1e-5
    sol = re.search(r"solution x = \[([^\]]*)\]", out).group(1).split()
    np.testing.assert_allclose([float(v) for v in sol], np.ones(6), atol=1e-5)


def test_forward_vs_reverse(tmp_path):
    out = run("forward_vs_reverse.py", cwd=tmp_path)
    tall = next(ln for ln in out.splitlines() if ln.startswith("tall"))
    wide = next(ln for ln in out.splitlines() if ln.startswith("wide"))
    # columns: forward time, reverse time, faster, select_mode, (auto used: ...)
    assert re.search(r"ms +reverse +reverse +\(auto used: reverse\)", wide), wide
    assert re.search(r"ms +forward +forward +\(auto used: forward\)", tall), tall


# -- the README's tour and set-up commands ------------------------------------------------------

README = os.path.join(os.path.dirname(EXAMPLES), "README.md")


def test_readme_tour_runs_and_prints_what_its_comments_say(tmp_path):
    text = open(README).read()
    code = re.search(r"## A 15-line tour\n\n```python\n(.*?)```", text, re.S).group(1)
    assert len(code.strip().splitlines()) <= 16
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    assert out[0] == "tensor([ 0.,  4.,  8., 12.])"
    g = np.array([1.0, 2.0])
    exact = np.sin(g) + g * np.cos(g)
    np.testing.assert_allclose(np.array(out[1].strip("[]").split(), dtype=float), exact,
                               rtol=1e-7)
    assert "(2, 500) reverse" in out
    assert out.count(out[1]) == 2  # ad.jit(ad.grad(f)) gives the same gradient
    assert any(ln.startswith("2.71828182845") for ln in out)


def test_readme_keeps_setup_commands_and_sections():
    text = open(README).read()
    assert "\n    pip install -e . && adjit bench\n" in text
    assert '\n    pip install -e ".[test]" && pytest\n' in text
    for heading in ("## Error catalogue", "## Edge values", "## Where adjit differs"):
        assert heading in text
    assert "grad can be implicitly created only for scalar outputs" in text


def test_every_example_says_how_to_run_it_and_its_extra_exists():
    import re
    import tomllib
    root = os.path.join(os.path.dirname(__file__), "..")
    extras = tomllib.load(open(os.path.join(root, "pyproject.toml"), "rb"))["project"][
        "optional-dependencies"]
    for name in sorted(os.listdir(os.path.join(root, "examples"))):
        if not name.endswith(".py"):
            continue
        head = open(os.path.join(root, "examples", name)).read(1500)
        assert re.search(rf"Run:.*python examples/{re.escape(name)}", head), name
        for extra in re.findall(r'pip install -e "\.\[(\w+)\]"', head):
            assert extra in extras, (name, extra)
        # an example that imports scipy or matplotlib names the extra that installs them
        src = open(os.path.join(root, "examples", name)).read()
        if re.search(r"^\s*(from|import) (scipy|matplotlib)", src, re.M):
            assert '".[examples]"' in head, name


def test_dask_logistic_regression(tmp_path):
    pytest.importorskip("distributed")
    out = run("dask_logistic_regression.py", "--workers", "1", "--rows", "20000",
              "--chunk-rows", "5000", cwd=tmp_path)
    assert "20,000 rows x 20 features in 4 chunks on 1 worker(s)" in out, out
    assert number(r"time per iteration: (\S+) s", out) > 0
    assert "CONVERGENCE" in out, out
    assert number(r"max \|w - w_true\| = (\S+)", out) < 0.2
