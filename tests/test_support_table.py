"""The README's table of supported NumPy/SciPy functions is generated from the rows
(adjit.testing.support) and must match them: after adding a row, run
`python -m adjit.testing.support README.md`."""
import pathlib

import numpy as np

import adjit as ad
from adjit.testing import support

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_table_is_current():
    got = support.current(README.read_text(encoding="utf-8"))
    assert got is not None, "README.md lost its supported-functions block"
    assert got == support.markdown(), \
        "README.md's supported-functions table is stale: python -m adjit.testing.support README.md"


def test_table_lists_what_dispatches():
    rows = {r[0]: r for r in support.numpy_rows()}
    assert rows["np.sin"][1:] == ("ad.sin", "yes")
    assert rows["np.linalg.solve"][2] == "yes"
    assert rows["np.less"][2].startswith("no")
    # every listed NumPy function really runs adjit's op on a Tensor: spot-check a few
    x = ad.tensor(np.array([0.3, 0.5]), requires_grad=True)
    for name in ("np.sin", "np.exp", "np.tanh"):
        assert name in rows
        y = eval(name)(x)   # noqa: S307 - names from the table
        assert isinstance(y, ad.Tensor) and y.requires_grad
