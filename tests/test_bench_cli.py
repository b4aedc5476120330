"""`adjit bench` (issue 5): the command line, its JSON, the correctness checks before timing."""
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import scipy.optimize

import adjit as ad
from adjit.bench import cli, report, runner, suites, timing
from adjit.bench import peers as bench_peers


def run_cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "adjit", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "quick.json"
    p = run_cli("bench", "--quick", "--json", str(path))
    assert p.returncode == 0, p.stderr
    with open(path) as f:
        return p, json.load(f)


# -- the references the checks use are right (independently of adjit) ---------------------------

def test_analytic_references_match_scipy_and_finite_differences():
    x = np.random.default_rng(3).uniform(-2, 2, 17)
    np.testing.assert_allclose(timing.rosen_np(x), scipy.optimize.rosen(x), rtol=1e-14)
    np.testing.assert_allclose(timing.rosen_der(x), scipy.optimize.rosen_der(x), rtol=1e-13)
    np.testing.assert_allclose(timing.rosen_hess(x), scipy.optimize.rosen_hess(x), rtol=1e-13)
    W = np.random.default_rng(4).standard_normal((3, 5))
    v = np.random.default_rng(5).standard_normal(5)
    h = 1e-6
    fd = np.stack([(np.tanh(W @ (v + h * e)) - np.tanh(W @ (v - h * e))) / (2 * h)
                   for e in np.eye(5)], axis=1)
    np.testing.assert_allclose(timing.tanh_jac(W, v), fd, rtol=1e-7, atol=1e-9)


# -- `adjit bench --quick --json` ---------------------------------------------------------------

def _timing_ok(rec):
    assert rec["median_s"] > 0 and rec["first_call_s"] > 0
    assert rec["min_s"] <= rec["median_s"] <= rec["max_s"]
    assert rec["repeats"] == len(rec["samples_s"]) >= 1
    assert rec["compile_s"] >= 0
    c = rec["check"]
    assert c["passed"] is True and c["reference"].startswith("analytic")
    assert c["max_abs_err"] is not None and c["max_abs_err"] <= c["atol"] + c["rtol"] * \
        c["max_abs_ref"]
    assert c["t_checked"] <= rec["t_timing_start"], "checked after timing started"


def test_json_top_level(quick):
    _, d = quick
    for key in ("schema_version", "machine", "settings", "timing_method", "jacobian",
                "rosenbrock_grad", "hessian", "checks", "wall_s"):
        assert key in d
    assert d["settings"]["quick"] is True
    assert d["machine"]["adjit"] == ad.__version__
    assert d["checks"]["all_passed"] is True and d["checks"]["failed"] == []
    assert d["checks"]["all_before_timing"] is True
    # BLAS runs single-threaded unless the environment already says otherwise
    env = {k: os.environ.get(k) for k in ad.bench.BLAS_ENV}
    if any(env.values()):
        assert d["machine"]["blas_thread_env"] == env
    else:
        assert d["machine"]["blas_thread_env"] == {k: "1" for k in ad.bench.BLAS_ENV}
    # every figure has its check: 4 per Jacobian cell, 4 per Rosenbrock n (+ jit), 3 Hessian
    cells = len(d["settings"]["sizes"]) ** 2
    jit = sum("check" in r["methods"]["jit"] for r in d["rosenbrock_grad"]["rows"])
    jit += "check" in d["hessian"]["methods"]["jit"]
    assert d["checks"]["count"] == 4 * cells + 3 * 4 + 3 + jit
    if hasattr(ad, "jit"):  # ad.jit rows are timed, or say why not
        for m in [r["methods"]["jit"] for r in d["rosenbrock_grad"]["rows"]] + \
                [d["hessian"]["methods"]["jit"]]:
            assert "check" in m or m["error"]


def test_json_jacobian_grid(quick):
    _, d = quick
    J = d["jacobian"]
    sizes = J["sizes"]
    assert sizes == d["settings"]["sizes"] and len(sizes) >= 3
    assert {(c["n_in"], c["n_out"]) for c in J["cells"]} == {(a, b) for a in sizes for b in sizes}
    for c in J["cells"]:
        for mode in ("f", "forward", "reverse", "auto"):
            _timing_ok(c[mode])
        assert c["selected"] == ad.select_mode(c["n_in"], c["n_out"])
        assert c["auto_mode"] == c["selected"]
        faster = "forward" if c["forward"]["median_s"] <= c["reverse"]["median_s"] else "reverse"
        assert c["faster"] == faster
        assert c["selector_picked_faster"] == (c["selected"] == faster)
        assert c["selector_slowdown"] >= 1.0
    assert J["selector"]["cells"] == len(J["cells"])
    assert isinstance(J["verdict"], str) and "n_in" in J["verdict"]
    assert set(J["crossover_n_out_by_n_in"]) == {str(s) for s in sizes}


def test_json_rosenbrock(quick):
    _, d = quick
    rows = d["rosenbrock_grad"]["rows"]
    assert [r["n"] for r in rows] == [10, 1000, 100000]
    for r in rows:
        _timing_ok(r["f"])
        for key in ("reverse", "forward", "fd"):
            m = r["methods"][key]
            _timing_ok(m)
            assert m["ratio_to_f"] == pytest.approx(m["median_s"] / r["f"]["median_s"])
        jit = r["methods"]["jit"]
        assert "error" not in jit, jit
        _timing_ok(jit)
    big = rows[-1]["methods"]
    # n = 100,000: forward mode and finite differences are timed on part and extrapolated
    for key in ("forward", "fd"):
        m = big[key]
        assert m["extrapolated"] is True and "EXTRAPOLATED" in m["note"]
        assert m["median_s"] == pytest.approx(m["measured_median_s"] * m["extrapolation_factor"])
        assert 0 < m["check"]["entries_checked"] < 100000
    assert big["forward"]["passes"] == math.ceil(100000 / timing.CHUNK)
    assert big["fd"]["evaluations"] == 200000
    assert rows[0]["methods"]["reverse"]["extrapolated"] is False


def test_json_hessian(quick):
    _, d = quick
    H = d["hessian"]
    assert H["n"] == 100
    _timing_ok(H["f"])
    _timing_ok(H["methods"]["hessian"])
    _timing_ok(H["methods"]["rev_rev"])


def test_text_report_and_progress(quick):
    p, d = quick
    out = p.stdout
    for text in ("[1] Jacobian", "[2] Gradient of the Rosenbrock", "[3] Hessian", "verdict:",
                 "selector:", "EXTRAPOLATED", "all passed", "select_mode", "grad/f"):
        assert text in out
    assert "ad.jit" in out
    # the table is aligned: every row of the Jacobian table is as long as its rule
    lines = out.splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.startswith("n_in"))
    rule = lines[i + 1]
    assert set(rule.replace(" ", "")) == {"-"}
    for ln in lines[i + 2:i + 2 + len(d["jacobian"]["cells"])]:
        assert len(ln) == len(rule.rstrip()) or len(ln) <= len(rule)
    # progress went to stderr, not into the table
    assert "jacobian n_in=" in p.stderr and "[" in p.stderr
    assert "jacobian n_in=" not in out


def test_console_script():
    exe = shutil.which("adjit")
    if exe is None:  # not on PATH here: the module entry point is the same main()
        assert cli.main(["bench", "--quick", "--sizes", "2", "--repeat", "1",
                         "--no-progress"]) == 0
        return
    p = subprocess.run([exe, "bench", "--quick", "--sizes", "1,3", "--repeat", "1",
                        "--no-progress"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "[1] Jacobian" in p.stdout and "all passed" in p.stdout
    assert p.stderr == ""


# -- --plot -------------------------------------------------------------------------------------

def test_plot(tmp_path):
    png = tmp_path / "b.png"
    if importlib.util.find_spec("matplotlib") is None:
        p = run_cli("bench", "--quick", "--plot", str(png))
        assert p.returncode == 2
        assert 'pip install -e ".[plot]"' in p.stderr and "matplotlib" in p.stderr
        assert p.stdout == "" and not png.exists()  # refused before running anything
    else:
        p = run_cli("bench", "--quick", "--sizes", "1,4,64", "--repeat", "1", "--no-progress",
                    "--plot", str(png))
        assert p.returncode == 0, p.stderr
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- bad arguments: clear argparse errors, nothing run --------------------------------------------

@pytest.mark.parametrize("args, words", [
    (["bench", "--sizes", "1,x"], ["--sizes", "positive integers"]),
    (["bench", "--sizes", "0,4"], ["--sizes", "positive integers"]),
    (["bench", "--repeat", "0"], ["--repeat", "positive integer"]),
    (["bench", "--repeat", "many"], ["--repeat", "positive integer"]),
    (["bench", "--frobnicate"], ["unrecognized arguments", "--frobnicate"]),
    (["bench", "--plot", "out.txt"], ["--plot", ".png"]),
    (["benhc"], ["invalid choice", "bench"]),
    ([], ["choose a command", "adjit bench"]),
])
def test_bad_arguments(args, words, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(args)
    assert e.value.code == 2
    err = capsys.readouterr().err
    for w in words:
        assert w in err
    assert "Traceback" not in err


def test_bad_arguments_subprocess():
    p = run_cli("bench", "--sizes", "4,,-1")
    assert p.returncode == 2
    assert "usage: adjit bench" in p.stderr and "--sizes" in p.stderr
    assert "Traceback" not in p.stderr and p.stdout == ""


# -- in-process: a wrong result is caught, crossover arithmetic -----------------------------------

def _tiny():
    s = timing.Settings(quick=True, sizes=[2, 3], repeat=1)
    s.rosen_ns = [10]
    s.hess_n = 5
    return s


def test_wrong_result_is_flagged(monkeypatch):
    monkeypatch.setattr(suites, "rosen_der", lambda x: scipy.optimize.rosen_der(x) + 1e-3)
    res = runner.run(_tiny(), progress_enabled=False)
    assert res["checks"]["all_passed"] is False
    failed = res["checks"]["failed"]
    assert failed and all(f.startswith("rosenbrock_grad") for f in failed)
    assert any("reverse" in f for f in failed) and any("forward" in f for f in failed)
    assert "FAILED" in report.report(res)


def test_main_exit_status_on_failed_check(monkeypatch, capsys):
    monkeypatch.setattr(suites, "rosen_hess", lambda x: scipy.optimize.rosen_hess(x) * 2)
    assert cli.main(["bench", "--quick", "--sizes", "2", "--repeat", "1", "--no-progress"]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_crossover_interpolation():
    xs = [1, 10, 100, 1000]
    # reverse grows linearly, forward is flat: they meet where t_rev = t_fwd = 50 -> x = 50
    xo, kind = suites.crossover(xs, [50.0] * 4, [float(x) for x in xs])
    assert kind == "forward-above" and xo == pytest.approx(50.0, rel=1e-12)
    # noise flipping the winner at small sizes: the crossover is the last change
    xo, kind = suites.crossover(xs, [1.0, 1.0, 1.0, 1.0], [1.1, 0.9, 0.5, 2.0])
    assert kind == "forward-above" and 100 < xo < 1000
    assert suites.crossover(xs, [1.0] * 4, [2.0] * 4) == (None, "forward-always")
    assert suites.crossover(xs, [2.0] * 4, [1.0] * 4) == (None, "reverse-always")


def test_peers_absent_are_skipped_with_a_note():
    peers, notes = bench_peers.load_peers()
    assert set(notes) == {"jax", "torch", "autograd"}
    for name, note in notes.items():
        spec = importlib.util.find_spec(name)
        if spec is None:
            assert note["available"] is False and "skipped" in note["note"]
        assert (name in [p.name for p in peers]) == note["available"]


# -- the ad.jit rows (an error in ad.jit is reported, not fatal) --------------------------------

def test_jit_rows_when_jit_exists(monkeypatch):
    calls = []

    def fake_jit(f):
        calls.append(f.__name__)
        return f
    monkeypatch.setattr(ad, "jit", fake_jit, raising=False)
    res = runner.run(_tiny(), progress_enabled=False)
    assert res["checks"]["all_passed"]
    m = res["rosenbrock_grad"]["rows"][0]["methods"]["jit"]
    _timing_ok(m)
    assert m["ratio_to_f"] > 0
    _timing_ok(res["hessian"]["methods"]["jit"])
    assert "grad(rosen)" in calls
    assert "ad.jit(ad.grad)" in report.report(res)


def test_jit_failure_is_reported_not_fatal(monkeypatch):
    def broken_jit(f):
        def g(*a):
            raise NotImplementedError("cannot compile this")
        return g
    monkeypatch.setattr(ad, "jit", broken_jit, raising=False)
    res = runner.run(_tiny(), progress_enabled=False)
    m = res["rosenbrock_grad"]["rows"][0]["methods"]
    assert "cannot compile this" in m["jit"]["error"]
    _timing_ok(m["reverse"])
    assert "cannot compile this" in res["hessian"]["methods"]["jit"]["error"]
    assert res["checks"]["all_passed"]
    assert "ERROR: NotImplementedError: cannot compile this" in report.report(res)
    assert "first call includes" not in report.report(res)


def _fake_jacobian_result(times_fwd, times_rev, sizes=(1, 8, 64)):
    """A bench result holding only the Jacobian grid the plot reads (times in seconds)."""
    cells = []
    for i, n_in in enumerate(sizes):
        for j, n_out in enumerate(sizes):
            tf, tr = times_fwd[i][j], times_rev[i][j]
            cells.append({"n_in": n_in, "n_out": n_out, "forward": {"median_s": tf},
                          "reverse": {"median_s": tr}, "auto": {"median_s": min(tf, tr) * 1.3},
                          "auto_mode": "forward" if tf <= tr else "reverse"})
    return {"jacobian": {"sizes": list(sizes), "cells": cells}}


def test_plot_axes_read_in_microseconds_and_noise_stays_flat(tmp_path):
    pytest.importorskip("matplotlib")
    # forward flat at ~30 µs with 10 % noise, reverse growing with n_out
    tf = [[30e-6, 33e-6, 30e-6]] * 3
    tr = [[20e-6, 90e-6, 600e-6]] * 3
    fig = report.plot(_fake_jacobian_result(tf, tr), str(tmp_path / "p.png"))
    assert (tmp_path / "p.png").stat().st_size > 0
    for ax in fig.axes:
        assert ax.get_ylabel() == "time per Jacobian (µs, median)"
        labels = [ax.yaxis.get_major_formatter()(v, 0) for v in (20.0, 100.0, 500.0)]
        assert labels == ["20", "100", "500"]     # plain numbers, no 1e-05 notation
        lo, hi = ax.get_ylim()
        assert hi / lo >= 10                      # a 10 % wobble cannot fill the axis
        # the 'auto' crosses sit on the line of the mode they ran
        lines = {ln.get_label(): ln for ln in ax.get_lines()}
        fwd = dict(zip(*lines["forward (jacfwd)"].get_data()))
        rev = dict(zip(*lines["reverse (jacrev)"].get_data()))
        for ln in ax.get_lines():
            if ln.get_marker() == "x":
                for x, y in zip(*ln.get_data()):
                    assert y in (fwd[x], rev[x])
    # milliseconds when the times call for it
    fig = report.plot(_fake_jacobian_result([[2e-3] * 3] * 3, [[5e-3] * 3] * 3),
                      str(tmp_path / "q.png"))
    assert fig.axes[0].get_ylabel() == "time per Jacobian (ms, median)"


def test_verdict_says_tie_when_modes_are_within_noise():
    xs = [1, 8, 64]
    assert suites.crossover(xs, [1.0, 1.05, 0.97], [1.02, 1.0, 1.0]) == (None, "tie")
    # a tie at the small end is not a crossover at n_out ~ 1
    assert suites.crossover(xs, [1.0, 1.0, 1.0], [0.95, 1.6, 2.5]) == (None, "forward-always")
    res = {"sizes": xs, "crossover_n_out_by_n_in": {"1": {"n_out": None, "kind": "tie"}}}
    assert "tie" in suites._verdict(res) and "crossover" not in suites._verdict(res)
