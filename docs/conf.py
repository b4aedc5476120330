"""Sphinx configuration of adjit's reference: `pip install -e ".[docs]"` then
`python -m sphinx -W -b html docs docs/_build/html` (warnings are errors)."""
import importlib
import inspect
import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "src")))

import adjit  # noqa: E402

project = "adjit"
release = version = adjit.__version__
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
autodoc_member_order = "alphabetical"
autodoc_typehints = "none"
html_theme = "alabaster"
myst_heading_anchors = 3
# README.md links to files of the repository (examples/, benchmarks/) that are not pages
suppress_warnings = ["myst.xref_missing"]


def public_names(module):
    """The names `import adjit as ad` offers (no private names, no submodules)."""
    return sorted(n for n in dir(module) if not n.startswith("_")
                  and not inspect.ismodule(getattr(module, n)))


_SECTIONS = [
    ("Tensors (reverse mode)", lambda n, v: inspect.isclass(v) and n == "Tensor"),
    ("Dual numbers (forward mode)", lambda n, v: n in ("Dual", "dual")),
    ("Transforms", lambda n, v: n in ("grad", "value_and_grad", "vjp", "jvp", "jacfwd", "jacrev",
                                      "jacobian", "hessian", "hvp", "select_mode", "jit", "vmap",
                                      "fori_loop", "scan")),
    ("Grad mode", lambda n, v: n in ("no_grad", "enable_grad", "set_grad_enabled",
                                     "is_grad_enabled")),
    ("Creation", lambda n, v: getattr(v, "__module__", "").endswith((".creation", ".random"))),
    ("Checking and extending", lambda n, v: n in ("gradcheck", "custom_op", "OPS")),
]


def _write_api(app):
    """api.rst is generated from the package itself, so every public name is in the reference
    (a test checks it)."""
    names = public_names(adjit)
    done, out = set(), ["API reference", "=============", "",
                        "Everything below is reachable as ``import adjit as ad``.", ""]

    def entry(prefix, n, v, again=False):
        if isinstance(v, dict):  # the registry's table (a dict cannot carry a docstring)
            return [f".. data:: {prefix}{n}", "", "   The op registry: op name -> row "
                    "(:class:`adjit.core.registry.Op`).", ""]
        kind = "autoclass" if inspect.isclass(v) else "autofunction" if callable(v) else "autodata"
        extra = ["   :members:", "   :undoc-members:"] if kind == "autoclass" else []
        # a name offered in two places (ad.no_grad and ad.autograd.no_grad) is indexed once
        return [f".. {kind}:: {prefix}{n}"] + extra + (["   :no-index:"] if again else []) + [""]

    for title, pick in _SECTIONS:
        sel = [n for n in names if n not in done and pick(n, getattr(adjit, n))]
        if not sel:
            continue
        out += [title, "-" * len(title), ""]
        for n in sel:
            out += entry("adjit.", n, getattr(adjit, n))
            done.add(n)
    rest = [n for n in names if n not in done and n != "__version__"]
    out += ["Ops", "---", "", "Each op works on arrays, Tensors, dual numbers and inside ``ad.jit``.", ""]
    for n in rest:
        out += entry("adjit.", n, getattr(adjit, n))
    for sub in ("autograd", "linalg", "fft", "scipy.special", "scipy.stats", "scipy.linalg"):
        try:   # adjit.scipy.* and ad.fft are documented once they exist
            mod = importlib.import_module(f"adjit.{sub}")
        except ImportError:
            continue
        title = f"``ad.{sub}``" if not sub.startswith("scipy") else f"``adjit.{sub}``"
        out += [title, "-" * len(title), ""]
        for n in public_names(mod):
            v = getattr(mod, n)
            out += entry(f"adjit.{sub}.", n, v, again=getattr(adjit, n, None) is v)
    path = os.path.join(app.srcdir, "api.rst")
    text = "\n".join(out) + "\n"
    if not os.path.exists(path) or open(path).read() != text:
        with open(path, "w") as f:
            f.write(text)


def setup(app):
    app.connect("builder-inited", _write_api)
