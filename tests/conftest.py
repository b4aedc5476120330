"""Shared test configuration: hypothesis profiles, the kernel cache's size cap.

Two profiles:
  ci        (default) few examples per property, so the property tests stay well under a
            minute on two cores; derandomized, so a CI run is reproducible.
  thorough  many examples, random seeds: run it before a release or after touching a rule.

Select one with the environment variable ADJIT_HYPOTHESIS_PROFILE=thorough, or with
hypothesis' own pytest option `pytest --hypothesis-profile=thorough` (the option wins).

deadline=None everywhere: numba compiles a kernel the first time an op needs it, and a first
call that compiles must not count as a slow example. The example database lives in the
system temp dir, so runs do not leave a .hypothesis/ folder in the work tree.
"""
import os
import tempfile

from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

_DB = DirectoryBasedExampleDatabase(os.path.join(tempfile.gettempdir(), "adjit-hypothesis-db"))
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          database=None, suppress_health_check=_SLOW_OK, print_blob=True)
settings.register_profile("thorough", max_examples=1000, deadline=None, database=_DB,
                          suppress_health_check=_SLOW_OK, print_blob=True)

# The suite compiles ~300 MB of kernels, more than the cache's default cap (256 MB, least
# recently used pruned first): with the default, every run would prune what the next run needs
# and compile it again. Tests that check the pruning set their own cap.
os.environ.setdefault("ADJIT_CACHE_MAX_MB", "2048")

PROFILE_ENV = "ADJIT_HYPOTHESIS_PROFILE"
settings.load_profile(os.environ.get(PROFILE_ENV, "ci"))


def pytest_configure(config):
    # hypothesis' plugin loads --hypothesis-profile itself; re-apply it in case this conftest
    # was imported after the plugin configured (the command-line option must win).
    opt = config.getoption("hypothesis_profile", default=None)
    if opt:
        settings.load_profile(opt)


def pytest_report_header(config):
    return f"adjit hypothesis profile: {settings._current_profile}"
