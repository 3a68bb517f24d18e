"""The packaged SPT tSZ point (cobaya_szlite/data/spt2021_tsz) and the tSZ frequency conversion.

Independent references: scipy.constants (CODATA h, k_B) and the exponential form
g = x (e^x + 1) / (e^x - 1) - 4 of the spectral function; its known limits (-2 in the
Rayleigh-Jeans limit, the null near 217 GHz).
"""

import configparser
import fnmatch
import importlib.util
import math
import os

import numpy as np
import pytest
import scipy.constants as const
from cobaya.model import get_model
from cobaya.theory import Theory
from cobaya.yaml import yaml_load_file

from cobaya_szlite.bandpowers import load_bandpowers
from cobaya_szlite.tsz_frequency import T_CMB, dl_tt_to_yy, tsz_spectral_function, tsz_x

from cobaya_fixtures import PLANCK_FOLDER, needs_planck_data

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDER = os.path.join(REPO, "cobaya_szlite", "data", "spt2021_tsz")
#: Reichardt et al. 2021: D_3000^tSZ = 3.42 +- 0.54 muK^2 at 143 GHz.
D_TT, SIGMA_TT, NU = 3.42, 0.54, 143e9


def _g_reference(nu_hz: float) -> float:
    """g(x) from scipy.constants in the form x (e^x + 1) / (e^x - 1) - 4."""
    x = const.h * nu_hz / (const.k * T_CMB)
    return x * (math.exp(x) + 1) / math.expm1(x) - 4


def test_spectral_function_matches_scipy_constants():
    # same formula, different constants source and algebraic form: round-off only (1e-12)
    for nu in (30e9, 95e9, 143e9, 150e9, 220e9, 353e9, 545e9):
        assert tsz_spectral_function(nu) == pytest.approx(_g_reference(nu), rel=1e-12, abs=1e-12)
    assert tsz_x(143e9) == pytest.approx(const.h * 143e9 / (const.k * 2.7255), rel=1e-13)


def test_spectral_function_limits():
    # Rayleigh-Jeans: g = -2 + x^2/6 + O(x^4); at 1 GHz x = 0.0176, so within 1e-4 of -2
    assert tsz_spectral_function(1e9) == pytest.approx(-2.0, abs=1e-4)
    # the tSZ null lies between 217 and 218 GHz for T_cmb = 2.7255 K (x = 3.830)
    assert tsz_spectral_function(217e9) < 0 < tsz_spectral_function(218e9)


def test_conversion_of_the_published_point():
    g = _g_reference(NU)
    expected = 1e12 * D_TT / ((T_CMB * 1e6) ** 2 * g**2)
    assert 1e12 * dl_tt_to_yy(D_TT, NU) == pytest.approx(expected, rel=1e-12)
    # the number quoted in the data README and docs/profiles.md
    assert expected == pytest.approx(0.425367, abs=5e-7)


def test_bad_frequency_or_temperature_is_refused():
    with pytest.raises(ValueError, match="nu_hz"):
        tsz_x(0.0)
    with pytest.raises(ValueError, match="t_cmb"):
        tsz_x(143e9, t_cmb=-1.0)


def test_packaged_file_is_the_published_point_converted():
    data = load_bandpowers(FOLDER)
    g = _g_reference(NU)
    to_y = 1e12 / ((T_CMB * 1e6) ** 2 * g**2)
    # the file holds 13 significant digits
    np.testing.assert_allclose(data.ell, [3000.0], rtol=0)
    np.testing.assert_allclose(data.d, [D_TT * to_y], rtol=1e-11)
    np.testing.assert_allclose(data.sigma, [SIGMA_TT * to_y], rtol=1e-11)
    np.testing.assert_allclose(data.cov, [[(SIGMA_TT * to_y) ** 2]], rtol=1e-10)


def test_maker_script_reproduces_the_packaged_file(tmp_path):
    spec = importlib.util.spec_from_file_location("make_spt_tsz", os.path.join(REPO, "scripts", "make_spt_tsz.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_point(str(tmp_path))
    with open(tmp_path / "bandpowers.txt", encoding="utf-8") as new, \
            open(os.path.join(FOLDER, "bandpowers.txt"), encoding="utf-8") as packaged:
        assert new.read() == packaged.read()


def test_folder_ships_in_the_wheel():
    config = configparser.ConfigParser()
    config.read(os.path.join(REPO, "setup.cfg"))
    patterns = [p.strip() for p in config["options.package_data"]["cobaya_szlite"].split(",")]
    for name in os.listdir(FOLDER):
        assert any(fnmatch.fnmatch(f"data/spt2021_tsz/{name}", p) for p in patterns), name


class _LinearTheory(Theory):
    """Cl_sz = {1h: amp * ell / 3000, 2h: 0.1 * amp}: a known model to test the likelihood."""

    params = {"amp": None}

    def initialize(self):
        self.ells = np.array([])

    def get_can_provide(self):
        return ["Cl_sz"]

    def must_provide(self, **requirements):
        if "Cl_sz" in requirements:
            self.ells = np.union1d(self.ells, requirements["Cl_sz"]["ell"])

    def calculate(self, state, want_derived=True, **params_values):
        amp = params_values["amp"]
        state["Cl_sz"] = {"ell": self.ells, "1h": amp * self.ells / 3000.0,
                          "2h": np.full_like(self.ells, 0.1 * amp)}

    def get_Cl_sz(self):
        return self.current_state["Cl_sz"]


def test_tszbandpowers_loads_the_folder_as_a_second_instance():
    info = {
        "theory": {"linear": _LinearTheory},
        "likelihood": {
            "cobaya_szlite.TSZBandpowers": None,  # the packaged mock, 20 bins, sharing the theory
            "spt_tsz": {"class": "cobaya_szlite.TSZBandpowers", "data_folder": FOLDER},
        },
        "params": {"amp": {"prior": {"min": 0, "max": 1}}},
    }
    model = get_model(info)
    like = model.likelihood["spt_tsz"]
    assert like.get_requirements() == {"Cl_sz": {"ell": like.data.ell}}
    np.testing.assert_array_equal(like.data.ell, [3000.0])
    assert like.covariance_file_used is None  # no covariance.txt: diag(sigma^2)
    d, sigma = like.data.d[0], like.data.sigma[0]
    assert 3000.0 in model.theory["linear"].ells  # merged with the mock's 20 ell_eff
    assert len(model.theory["linear"].ells) == 21
    index = list(model.likelihood).index("spt_tsz")
    for amp in (0.3, 0.45):
        logp = model.loglikes({"amp": amp}, return_derived=False)[index]
        assert logp == pytest.approx(-0.5 * ((d - 1.1 * amp) / sigma) ** 2, rel=1e-12)


@needs_planck_data
def test_planck_spt_b12_yaml_builds_a_model():
    """yaml/planck2015_spt_b12.yaml: SZTheory with profile battaglia12 serves both likelihoods
    (Cl_sz at the 18 Planck ells and at 3000); built only, not evaluated (needs the SZTheory
    options ``profile`` and ``mass_function``)."""
    info = yaml_load_file(os.path.join(REPO, "yaml", "planck2015_spt_b12.yaml"))
    info["likelihood"]["cobaya_szlite.Planck2015TSZ"]["data_folder"] = PLANCK_FOLDER
    assert os.path.samefile(os.path.join(REPO, info["likelihood"]["spt_tsz"]["data_folder"]), FOLDER)
    info["likelihood"]["spt_tsz"]["data_folder"] = FOLDER
    info.pop("output")
    model = get_model(info)
    assert set(model.parameterization.sampled_params()) == {
        "sigma8", "omega_cdm", "H0", "P0_B12", "alpha_m_P0_B12", "A_CIB", "A_RS", "A_IR"}
    theory = model.theory["cobaya_szlite.SZTheory"]
    assert 3000.0 in theory._ells and len(theory._ells) == 19
    np.testing.assert_array_equal(model.likelihood["spt_tsz"].data.ell, [3000.0])
    assert "F_sz_P0" in model.parameterization.derived_params()
