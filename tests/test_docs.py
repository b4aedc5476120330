"""The reference builds without warnings from the documented command, lists every public name,
and the examples in the public docstrings run (doctest)."""
import doctest
import inspect
import os
import subprocess
import sys
import zlib

import pytest

import adjit as ad

ROOT = os.path.join(os.path.dirname(__file__), "..")


def _public():
    names = {f"adjit.{n}" for n in dir(ad) if not n.startswith("_")
             and not inspect.ismodule(getattr(ad, n))} - {"adjit.__version__"}
    for sub in ("autograd", "linalg"):
        mod = getattr(ad, sub)
        names |= {f"adjit.{sub}.{n}" for n in dir(mod) if not n.startswith("_")
                  and not inspect.ismodule(getattr(mod, n))}
    return names


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    out = tmp_path_factory.mktemp("html")
    # the README's documented command, with warnings as errors
    p = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html",
                        os.path.join(ROOT, "docs"), str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stderr.strip() == "", p.stderr
    return out


def _inventory(path):
    with open(path, "rb") as f:
        for _ in range(4):
            f.readline()
        text = zlib.decompress(f.read()).decode()
    return {line.split(" ", 1)[0] for line in text.splitlines()}


def test_docs_build_without_warnings_and_list_every_public_name(built):
    inv = _inventory(built / "objects.inv")
    missing = sorted(n for n in _public() if n not in inv
                     # a name offered twice (ad.no_grad, ad.autograd.no_grad) is indexed once
                     and not (n.count(".") == 2 and f"adjit.{n.rsplit('.', 1)[1]}" in inv))
    assert not missing, f"public names missing from the reference: {missing}"
    assert "adjit.Tensor.backward" in inv and "adjit.grad" in inv


def test_public_docstring_examples_run():
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    seen = set()
    for name in sorted(_public()):
        obj = ad
        for part in name.split(".")[1:]:
            obj = getattr(obj, part)
        if id(obj) in seen or not (callable(obj) or inspect.isclass(obj)):
            continue
        seen.add(id(obj))
        for t in finder.find(obj, name, globs={"ad": ad, "np": __import__("numpy")}):
            runner.run(t)
    assert runner.failures == 0, f"{runner.failures} docstring example(s) failed (see above)"
