"""Shared helpers for the Cobaya tests (tests/test_cobaya_*.py).

Expensive objects are cached at module level (functools.cache), so every test
module shares one mock folder and one compiled engine per (ells, precision).
"""

import copy
import functools
import os
import tempfile

import numpy as np
import pytest
from cobaya.model import get_model
from cobaya.yaml import yaml_load_file

from cobaya_szlite.mock import FIDUCIAL_PARAMS, write_mock
from cobaya_szlite.parameters import COSMO_INPUT_NAMES, NORMALISATIONS, REQUIRED_COSMO

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
YAML_DIR = os.path.join(REPO, "yaml")
#: Environment variable naming a folder with the Planck 2015 tSZ files (installed names,
#: e.g. <packages_path>/data/planck2015_tsz after `cobaya-install cobaya_szlite.Planck2015TSZ`).
PLANCK_DATA_ENV = "COBAYA_SZLITE_PLANCK2015_DATA"
PLANCK_FOLDER = os.path.abspath(os.environ[PLANCK_DATA_ENV]) if os.environ.get(PLANCK_DATA_ENV) else None
#: skipif marker for the tests that need the Planck 2015 tSZ files.
needs_planck_data = pytest.mark.skipif(
    PLANCK_FOLDER is None,
    reason=f"Planck 2015 tSZ data not given: set {PLANCK_DATA_ENV} to a folder holding the files "
    "(e.g. <packages_path>/data/planck2015_tsz after `cobaya-install cobaya_szlite.Planck2015TSZ "
    "-p <packages_path>`) to run these tests",
)

#: Small engine precision for tests where exact accuracy is not the point
#: (C_ell within 0.5% of the defaults; compile time is the same).
TEST_PRECISION = {"n_z": 41, "n_m": 41, "n_x": 200, "n_k": 150}
THEORY = "cobaya_szlite.SZTheory"
LIKE = "cobaya_szlite.TSZBandpowers"
TRUTH = dict(FIDUCIAL_PARAMS)


@functools.cache
def mock_folder():
    """A mock made at TEST_PRECISION (same bins, noise and seed as the packaged one)."""
    import cobaya_szlite as sz

    folder = tempfile.mkdtemp(prefix="szlite_mock_")
    write_mock(folder, precision=sz.Precision(**TEST_PRECISION))
    return folder


def load_yaml(name, test_precision=True, folder=True):
    """Input dict of yaml/<name>, with the test precision and test mock folder."""
    info = yaml_load_file(os.path.join(YAML_DIR, name))
    if test_precision:
        info["theory"][THEORY]["precision"] = dict(TEST_PRECISION)
    if folder:
        info["likelihood"][LIKE]["data_folder"] = mock_folder()
    info.pop("output", None)
    return info


def with_cosmology(params):
    """``params`` with the fiducial cosmology added for every required cosmological field it
    does not give under any spelling (SZTheory has no cosmological defaults); sigma8 fixed
    at the truth unless sigma8 or logA is there."""
    params = dict(params)
    for field in REQUIRED_COSMO + NORMALISATIONS:
        if field == "logA" or any(name in params for name in COSMO_INPUT_NAMES[field]):
            continue
        if field == "sigma8" and any(name in params for name in COSMO_INPUT_NAMES["logA"]):
            continue
        params[field] = TRUTH[field]
    return params


def simple_info(like_options=None, params=None, theory_options=None):
    """Input dict: SZTheory + TSZBandpowers on the test mock (diag(sigma^2) covariance),
    sigma8 sampled (or ``params``), the rest of the cosmology fixed at the truth."""
    like = {"data_folder": mock_folder(), "bandpowers_file": "bandpowers_noiseless.txt",
            "covariance_file": False}
    like.update(like_options or {})
    theory = {"precision": dict(TEST_PRECISION)}
    theory.update(theory_options or {})
    info = {
        "theory": {THEORY: theory},
        "likelihood": {LIKE: like},
        "params": with_cosmology(
            params or {"sigma8": {"prior": {"min": 0.6, "max": 1.0}, "ref": 0.8102, "latex": r"\sigma_8"}}
        ),
    }
    return copy.deepcopy(info)


@functools.cache
def noiseless_model():
    """Model (cached): noiseless test mock, sigma8 sampled."""
    return get_model(simple_info())


def numpy_chi2(data_file, cl_sz, cov=None):
    """Independent chi^2 from a bandpower file and a Cl_sz dict (np.linalg.solve)."""
    ell, d, sigma = np.loadtxt(data_file, unpack=True, usecols=(0, 1, 2))
    model = np.interp(ell, cl_sz["ell"], cl_sz["1h"] + cl_sz["2h"])
    cov = np.diag(sigma**2) if cov is None else cov
    r = d - model
    return float(r @ np.linalg.solve(cov, r))
