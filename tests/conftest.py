"""Session fixtures shared by the tests: parameter sets, compiled functions, and an
isolated Cobaya configuration.

JAX compile time dominates the suite on CI, so every jitted function is built once here.

Cobaya keeps a per-user configuration file (``config.yaml`` in
``$XDG_CONFIG_HOME/cobaya``, default ``~/.config/cobaya``, where ``cobaya-install``
records its packages path) and a cache folder (``$XDG_CACHE_HOME/cobaya``). Before any
test runs, this module points both variables at a temporary folder (inherited by the
``cobaya-run`` subprocesses of the tests) and drops ``COBAYA_PACKAGES_PATH``, so the
suite neither reads nor writes the user's Cobaya set-up; `pytest_sessionfinish`
fails the session if the user's configuration file was created or changed anyway.
"""

import os
import platform
import shutil
import tempfile

import jax
import numpy as np
import pytest

jax.config.update("jax_enable_x64", True)  # the engine needs float64; importing it does not switch it on

import cobaya_szlite as sz  # noqa: E402


def _user_cobaya_config_file():
    """The user's Cobaya ``config.yaml``, as `cobaya.tools.get_config_path` would find it
    (computed without calling it: that function creates the folder)."""
    home = os.path.expanduser("~")
    if platform.system() == "Darwin":
        base = os.path.join(home, "Library", "Application Support")
    elif platform.system() == "Windows":
        base = os.environ.get("LOCALAPPDATA", home)
    else:
        base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    return os.path.join(base, "cobaya", "config.yaml")


def snapshot_config(path):
    """The content of the user's Cobaya config file (None if absent): what the suite could
    write there (``cobaya-install`` storing a packages path). The folder and the file's
    times are left out: another Cobaya process on the machine may create the folder or
    read the file while the suite runs."""
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as stream:
        return stream.read()


USER_COBAYA_CONFIG = _user_cobaya_config_file()
_USER_CONFIG_AT_START = snapshot_config(USER_COBAYA_CONFIG)
_ISOLATED_HOME = tempfile.mkdtemp(prefix="szlite_tests_xdg_")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_ISOLATED_HOME, "config")
os.environ["XDG_CACHE_HOME"] = os.path.join(_ISOLATED_HOME, "cache")
os.environ.pop("COBAYA_PACKAGES_PATH", None)


def pytest_sessionfinish(session, exitstatus):
    """Fail the session if the user's Cobaya config file was created or changed."""
    shutil.rmtree(_ISOLATED_HOME, ignore_errors=True)
    if snapshot_config(USER_COBAYA_CONFIG) != _USER_CONFIG_AT_START:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nERROR: the user's Cobaya config {USER_COBAYA_CONFIG} was created or changed during the "
              "test session: by the tests, or by another process (e.g. cobaya-install) run meanwhile")


@pytest.fixture(scope="session")
def user_cobaya_config():
    """(path, content at session start, `snapshot_config`) of the user's Cobaya config file."""
    return USER_COBAYA_CONFIG, _USER_CONFIG_AT_START, snapshot_config


@pytest.fixture(scope="session")
def isolated_cobaya_config_dir():
    """The folder the tests' Cobaya reads its ``config.yaml`` from (a session tmp dir)."""
    return os.path.join(os.environ["XDG_CONFIG_HOME"], "cobaya")


#: Multipoles used across the engine tests (the range the accuracy requirements cover: 10 <= ell <= 5000).
ELL = np.geomspace(10.0, 5000.0, 30)

#: Two cosmologies (Planck-like and a deliberately different one) for the pyccl reference tests:
#: massless neutrinos and w = -1, the settings of tests/pyccl_reference.py (which refuses others).
_COSMOLOGIES = {
    "planck18": sz.CosmoParams(m_nu=0.0),
    "shifted": sz.CosmoParams(omega_b=0.0210, omega_cdm=0.1300, H0=72.0, n_s=0.950, sigma8=0.750, m_nu=0.0),
}


@pytest.fixture(scope="session", params=sorted(_COSMOLOGIES))
def reference_cosmo(request):
    """Each reference cosmology in turn (Planck 2018-like, and a deliberately shifted one)."""
    return _COSMOLOGIES[request.param]


@pytest.fixture(scope="session")
def ell():
    return ELL


@pytest.fixture(scope="session")
def cosmo():
    return sz.CosmoParams()


@pytest.fixture(scope="session")
def massless_cosmo():
    """`CosmoParams()` with m_nu = 0: the defaults at the settings of the pyccl reference."""
    return sz.CosmoParams(m_nu=0.0)


@pytest.fixture(scope="session")
def profile():
    return sz.ProfileParamsA10()


@pytest.fixture(scope="session")
def cl_jit():
    """`cl_yy` compiled once at the default precision for the fixed `ELL`."""
    return jax.jit(lambda c, p: sz.cl_yy(c, p, ELL))


@pytest.fixture(scope="session")
def jac_jit():
    """Jacobians of (C1h, C2h) with respect to every field of both parameter pytrees."""
    return jax.jit(jax.jacfwd(lambda c, p: sz.cl_yy(c, p, ELL), argnums=(0, 1)))


@pytest.fixture(scope="session")
def pyccl_ref():
    """The pyccl reference module; the test is skipped where pyccl is not installed."""
    pytest.importorskip("pyccl")
    import pyccl_reference

    return pyccl_reference
