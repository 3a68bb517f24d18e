"""SZTheory next to Cobaya's classy: yaml/classy_tsz.yaml, one value of each cosmological
quantity, one provider of each derived parameter.

The classy tests are skipped where classy is not installed (it builds CLASS from source,
so it is not in the `test` extra); the coexistence rules themselves are checked without
it on a stand-in theory that takes parameters as classy does (parameter-agnostic).
"""

import importlib.util

import numpy as np
import pytest
from cobaya.log import LoggedError
from cobaya.model import get_model
from cobaya.theory import Theory

import cobaya_szlite as sz
from cobaya_szlite import boltzmann

from cobaya_fixtures import LIKE, TEST_PRECISION, THEORY, load_yaml, mock_folder

LOGA = 3.047


class _AgnosticUpstream(Theory):
    """Takes every input no other component takes (as classy) and offers the products and
    parameters of the Boltzmann mode (never computed: the tests stop at initialisation)."""

    def get_allow_agnostic(self):
        return True

    def get_can_provide(self):
        return ["Pk_interpolator", "Hubble", "comoving_radial_distance"]

    def get_can_provide_params(self):
        return ["sigma8", "omegam"]


def _stand_in_info(params, theory_options):
    return {
        "theory": {THEORY: {"precision": dict(TEST_PRECISION), **theory_options},
                   "agnostic": {"external": _AgnosticUpstream}},
        "likelihood": {LIKE: {"data_folder": mock_folder(), "bandpowers_file": "bandpowers_noiseless.txt"}},
        "params": dict(params),
    }


def test_engine_mode_refuses_a_class_spelling_read_by_another_code():
    """Engine mode: another code reading m_ncdm (CLASS's neutrino mass) while SZTheory takes
    its own m_nu default would run two cosmologies: refused, naming m_ncdm and the mode."""
    params = {"omega_b": 0.02242, "omega_cdm": 0.11933, "H0": 67.66, "n_s": 0.9665, "sigma8": 0.81,
              "m_ncdm": 0.1}
    with pytest.raises(LoggedError, match=r"m_ncdm.*cosmology: boltzmann"):
        get_model(_stand_in_info(params, {}))


def test_boltzmann_mode_refuses_inputs_an_agnostic_upstream_would_lose():
    """Boltzmann mode with the camb names next to a parameter-agnostic code: ombh2, omch2,
    mnu (and H0, which this stand-in does not declare) would be assigned to SZTheory only
    (the agnostic code gets only the rest), so the upstream code would use its defaults:
    refused, naming them."""
    params = {"ombh2": 0.02242, "omch2": 0.11933, "mnu": 0.06, "H0": 67.66, "its_own_param": 1.0}
    with pytest.raises(LoggedError, match=r"\['H0', 'mnu', 'ombh2', 'omch2'\].*boltzmann_names: classy"):
        get_model(_stand_in_info(params, {"cosmology": "boltzmann"}))


def test_boltzmann_names_presets_and_refusals():
    """Presets and mappings of boltzmann_names; the classy preset names only quantities
    classy computes and reads the densities from its background table."""
    assert boltzmann.upstream_names(None) == boltzmann.UPSTREAM_NAMES
    assert boltzmann.upstream_names("classy") == boltzmann.CLASSY_NAMES
    assert boltzmann.upstream_names({"Omega_m": "Om"})["Omega_m"] == "Om"
    assert boltzmann.CLASSY_BACKGROUND in boltzmann.requirements(np.array([0.1]), boltzmann.CLASSY_NAMES)
    assert boltzmann.CLASSY_BACKGROUND not in boltzmann.requirements(np.array([0.1]), boltzmann.UPSTREAM_NAMES)
    for bad in ("class", {"n_s": "n_s"}):
        with pytest.raises(ValueError, match="boltzmann_names"):
            boltzmann.upstream_names(bad)


needs_classy = pytest.mark.skipif(importlib.util.find_spec("classy") is None,
                                  reason="classy is not installed (pip install classy)")


@pytest.fixture(scope="module")
def classy_model():
    """yaml/classy_tsz.yaml as shipped, at the test precision, without its sampler."""
    info = load_yaml("classy_tsz.yaml")
    info.pop("sampler")
    info["theory"]["classy"]["stop_at_error"] = True
    return get_model(info)


@needs_classy
@pytest.mark.slow
def test_classy_tsz_yaml_writes_the_cosmology_once(classy_model):
    """classy reads every cosmological input (none is taken from it by SZTheory), SZTheory
    only the profile; sigma8 and Omega_m are classy's, F_sz SZTheory's."""
    model = classy_model
    assert {"omega_b", "omega_cdm", "H0", "n_s", "m_ncdm", "A_s"} <= set(model.theory["classy"].input_params)
    # H0 is read by both (classy declares that it reads H0)
    assert set(model.theory[THEORY].input_params) == set(sz.parameters.PROFILE_PARAMS) | {"H0"}
    assert {"sigma8", "Omega_m"} <= set(model.theory["classy"].output_params)
    assert list(model.theory[THEORY].output_params) == ["F_sz"]


#: CLASS's background table against the inputs: rho_b / rho_crit today times h^2 is
#: omega_b up to CLASS's own rounding (measured 1e-15); m_ncdm_tot is m_ncdm to CLASS's
#: neutrino-mass root finding (measured 1.5e-5).
DENSITY_RTOL = 1e-10
M_NU_RTOL = 1e-4


@needs_classy
@pytest.mark.slow
def test_classy_upstream_cosmology_and_derived(classy_model):
    """The engine cosmology SZTheory builds from classy is the input one; F_sz uses
    classy's sigma8 and Omega_m; the likelihood is finite."""
    model = classy_model
    result = model.logposterior({"logA": LOGA, "omega_cdm": 0.11933, "B": 1.25})
    assert np.isfinite(result.logpost)
    derived = dict(zip(model.parameterization.derived_params(), result.derived))
    theory = model.theory[THEORY]
    cosmo = boltzmann.upstream_cosmo(theory.provider, {}, theory._upstream_names)
    assert cosmo.omega_b == pytest.approx(0.02242, rel=DENSITY_RTOL)
    assert cosmo.omega_cdm == pytest.approx(0.11933, rel=DENSITY_RTOL)
    assert cosmo.m_nu == pytest.approx(0.06, rel=M_NU_RTOL)
    assert cosmo.H0 == 67.66
    assert derived["F_sz"] == pytest.approx(
        sz.parameters.f_sz(derived["sigma8"], derived["Omega_m"], 1.25, 67.66), rel=1e-14)


#: Boltzmann-mode C_ell with CLASS against CAMB at the same A_s and cosmology (test
#: precision, the mock's 20 ells): the codes' sigma8 differ by 3e-4 and C_ell goes about
#: as sigma8^8. Measured: CLASS/CAMB - 1 = -0.40% ... -0.38% (1-halo), -0.48% ... -0.40%
#: (2-halo); the tolerance leaves room for other CLASS/CAMB versions.
CLASSY_VS_CAMB_RTOL = 0.01


@needs_classy
@pytest.mark.slow
def test_classy_and_camb_give_the_same_spectrum(classy_model):
    """The same cosmology through classy and through camb (yaml/camb_tsz.yaml) gives the
    same tSZ spectrum to CLASSY_VS_CAMB_RTOL."""
    pytest.importorskip("camb")
    info = load_yaml("camb_tsz.yaml")
    info.pop("sampler")
    camb_model = get_model(info)
    camb_model.logposterior({"logA": LOGA, "omch2": 0.11933, "B": 1.25})
    classy_model.logposterior({"logA": LOGA, "omega_cdm": 0.11933, "B": 1.25})
    cl_camb, cl_classy = camb_model.provider.get_Cl_sz(), classy_model.provider.get_Cl_sz()
    np.testing.assert_array_equal(cl_camb["ell"], cl_classy["ell"])
    for key in ("1h", "2h"):
        worst = np.max(np.abs(cl_classy[key] / cl_camb[key] - 1))
        assert worst < CLASSY_VS_CAMB_RTOL, f"{key}: CLASS/CAMB - 1 up to {worst:.3g}"
