"""SZTheory's cosmology: inputs without defaults (nothing leaks into CAMB), the sigma8/logA
normalisation, m_nu/w0/wa, CAMB spellings, and the Boltzmann-code mode next to CAMB.
"""

import functools
import logging

import numpy as np
import pytest
from cobaya.log import LoggedError
from cobaya.model import get_model

import cobaya_szlite as sz
from cobaya_szlite import boltzmann
from cobaya_szlite.engine import background
from cobaya_szlite.parameters import FIDUCIAL_PARAMS, PROFILE_PARAMS

from cobaya_fixtures import LIKE, TEST_PRECISION, THEORY, mock_folder

camb = pytest.importorskip("camb")

#: Cosmology in class_sz names (the fiducial) and in CAMB's names.
CLASS_SZ_COSMO = {k: FIDUCIAL_PARAMS[k] for k in ("omega_b", "omega_cdm", "H0", "n_s")}
CAMB_COSMO = {"ombh2": 0.02242, "omch2": 0.11933, "H0": 67.66, "ns": 0.9665}
LOGA = 3.047

#: Engine background vs CAMB's: the tolerance of the engine's background (Fermi-Dirac
#: neutrinos, CPL dark energy) against CAMB; with massless neutrinos the two agree to 1e-12.
BACKGROUND_RTOL = 1e-4
#: sigma8 from A_s with the default (EH98) backend against CAMB: EH98's transfer function is
#: 1-3% from CAMB around the BAO scale, which sets sigma8 to about that.
SIGMA8_EH98_RTOL = 0.03


def _like():
    return {"data_folder": mock_folder(), "bandpowers_file": "bandpowers_noiseless.txt",
            "covariance_file": False}


def _info(params, theory_options=None, camb_theory=False, extra_like=None):
    theory = {THEORY: {"precision": dict(TEST_PRECISION), **(theory_options or {})}}
    if camb_theory:
        theory["camb"] = {"stop_at_error": True}
    likelihood = {LIKE: _like(), **(extra_like or {})}
    return {"theory": theory, "likelihood": likelihood, "params": dict(params)}


#: A likelihood that makes CAMB compute its transfer functions (CAMB refuses a sigma8
#: input when nothing needs its power spectrum) and exposes CAMBdata.
CAMB_PROBE = {"camb_probe": {"external": lambda _self=None: 0.0,
                             "requires": {"sigma8_z": {"z": [0.0]}, "CAMBdata": None}}}


def _camb_results(ombh2, omch2, H0, ns, mnu, sigma8=None, As=None):
    """CAMB at matched settings (Cobaya's camb defaults: one massive neutrino; no CMB, as
    Cobaya's camb when only P(k) is requested: WantCls changes CAMB's k sampling and its
    P(k) by up to 1e-3 on the BAO wiggles)."""
    pars = camb.set_params(ombh2=ombh2, omch2=omch2, H0=H0, ns=ns, mnu=mnu, As=As or 2e-9,
                           WantTransfer=True, WantCls=False)
    pars.set_matter_power(redshifts=[0.0], kmax=10.0)
    results = camb.get_results(pars)
    if sigma8 is not None:
        pars.InitPower.set_params(As=pars.InitPower.As * (sigma8 / results.get_sigma8_0()) ** 2, ns=ns)
        results = camb.get_results(pars)
    return results


# --- no defaults, one normalisation ---------------------------------------------------------


def test_no_cosmological_default_in_sztheory_params():
    """SZTheory's default params fix no cosmological value (engine and Boltzmann modes)."""
    from cobaya_szlite.parameters import COSMO_INPUT_NAMES
    from cobaya_szlite.theory import SZTheory

    names = {n for spellings in COSMO_INPUT_NAMES.values() for n in spellings}
    for mode in ("engine", "boltzmann"):
        params = SZTheory.get_modified_defaults(SZTheory.get_defaults(), {"cosmology": mode})["params"]
        fixed = {k for k, v in params.items() if not v.get("derived")}
        assert fixed == set(PROFILE_PARAMS)
        assert not names & fixed


@pytest.mark.parametrize(
    "params, message",
    [
        ({**CLASS_SZ_COSMO}, "one of sigma8 and logA"),
        ({**CLASS_SZ_COSMO, "sigma8": 0.81, "logA": 3.0}, "got both"),
        ({"omega_b": 0.02242, "sigma8": 0.81}, "omega_cdm, H0, n_s"),
        ({**CLASS_SZ_COSMO, "ombh2": 0.0224, "sigma8": 0.81}, "'omega_b', 'ombh2'"),
    ],
    ids=["neither", "both", "missing", "two-spellings"],
)
def test_bad_cosmology_inputs_are_refused(params, message, caplog):
    """Both or neither of sigma8/logA, a missing parameter (the message offers the fiducial
    to copy) or one parameter under two names: LoggedError at initialisation."""
    with pytest.raises(LoggedError):
        get_model(_info(params))
    assert message in caplog.text
    if message == "omega_cdm, H0, n_s":
        assert "omega_cdm: 0.11933" in caplog.text and "H0: 67.66" in caplog.text


@functools.cache
def _engine_model(normalisation):
    """Engine-mode model (cached): class_sz names, the normalisation, m_nu, w0, wa sampled."""
    params = {
        **CLASS_SZ_COSMO,
        normalisation: {"prior": {"min": 0.5, "max": 4.0}},
        "m_nu": {"prior": {"min": -1.0, "max": 1.0}},
        "w0": {"prior": {"min": -2.0, "max": 1.0}},
        "wa": {"prior": {"min": -1.0, "max": 2.0}},
    }
    return get_model(_info(params))


def _point(normalisation, **changes):
    value = FIDUCIAL_PARAMS["sigma8"] if normalisation == "sigma8" else LOGA
    return {normalisation: value, "m_nu": 0.06, "w0": -1.0, "wa": 0.0, **changes}


@pytest.mark.parametrize(
    "changes, field", [({"m_nu": -0.1}, "m_nu"), ({"w0": -0.5, "wa": 0.6}, "w0 + wa")], ids=["m_nu<0", "w0+wa>=0"]
)
def test_unphysical_cosmology_is_zero_likelihood_with_reason(changes, field, caplog):
    """Negative Sum m_nu or w0 + wa >= 0 in a chain: zero likelihood (-inf, no NaN), the
    reason naming the parameter at the default log level."""
    model = _engine_model("sigma8")
    caplog.set_level(logging.INFO)
    result = model.logposterior(_point("sigma8", **changes))
    assert result.logpost == -np.inf
    assert "Zero likelihood" in caplog.text and field in caplog.text


def test_sigma8_input_gives_engine_derived_values():
    """sigma8 as input: Omega_m = background.omega_m / h^2, F_sz from parameters.f_sz, the
    derived sigma8-or-logA pair consistent with the engine's normalisation."""
    model = _engine_model("sigma8")
    result = model.logposterior(_point("sigma8"))
    derived = dict(zip(model.parameterization.derived_params(), result.derived))
    cosmo = sz.CosmoParams(**CLASS_SZ_COSMO, sigma8=FIDUCIAL_PARAMS["sigma8"], m_nu=0.06)
    omega_m = float(background.omega_m(cosmo)) / (cosmo.H0 / 100) ** 2
    assert derived["Omega_m"] == pytest.approx(omega_m, rel=1e-14)
    assert derived["F_sz"] == pytest.approx(sz.parameters.f_sz(cosmo.sigma8, omega_m, 1.25, cosmo.H0), rel=1e-14)
    assert "sigma8" not in derived
    logA = float(sz.engine.linear_power.logA_of(cosmo))
    assert derived["logA"] == pytest.approx(logA, rel=1e-12)
    assert 2.5 < derived["logA"] < 3.5


def test_logA_input_gives_sigma8_derived_and_round_trips():
    """logA as input: the derived sigma8 is the engine's sigma8_of, and taking it back as
    the input (sigma8 model) gives the same C_ell and logA (1e-8: one normalisation
    integral each way)."""
    model = _engine_model("logA")
    result = model.logposterior(_point("logA"))
    derived = dict(zip(model.parameterization.derived_params(), result.derived))
    cosmo = sz.CosmoParams(**CLASS_SZ_COSMO, logA=LOGA, m_nu=0.06)
    assert derived["sigma8"] == pytest.approx(float(sz.engine.linear_power.sigma8_of(cosmo)), rel=1e-12)
    cl_logA = model.provider.get_Cl_sz()
    other = _engine_model("sigma8")
    back = other.logposterior(_point("sigma8", sigma8=derived["sigma8"]))
    back_derived = dict(zip(other.parameterization.derived_params(), back.derived))
    assert back_derived["logA"] == pytest.approx(LOGA, rel=1e-8)
    cl_sigma8 = other.provider.get_Cl_sz()
    np.testing.assert_allclose(cl_sigma8["1h"], cl_logA["1h"], rtol=1e-7)
    np.testing.assert_allclose(cl_sigma8["2h"], cl_logA["2h"], rtol=1e-7)


@pytest.mark.parametrize("normalisation", ["sigma8", "logA"])
def test_cl_sz_grad_exact_in_new_inputs(normalisation):
    """Cl_sz_grad in the normalisation, m_nu, w0, wa against central finite differences of
    Cl_sz (step 1e-4 of each value's scale: truncation ~1e-8 relative, far below 1e-5)."""
    names = [normalisation, "m_nu", "w0", "wa"]
    model = get_model(_info({**CLASS_SZ_COSMO, **{n: {"prior": {"min": -3.0, "max": 4.0}} for n in names}}))
    model.add_requirements({"Cl_sz_grad": {"params": names}})
    point = _point(normalisation, w0=-0.9, wa=-0.1, m_nu=0.1)
    model.logposterior(point)
    grad = model.provider.get_Cl_sz_grad()
    assert grad["params"] == names
    steps = {normalisation: 1e-4, "m_nu": 1e-5, "w0": 1e-4, "wa": 1e-4}
    for j, name in enumerate(names):
        spectra = []
        for sign in (1, -1):
            model.logposterior({**point, name: point[name] + sign * steps[name]})
            cl = model.provider.get_Cl_sz()
            spectra.append(np.concatenate([cl["1h"], cl["2h"]]))
        fd = (spectra[0] - spectra[1]) / (2 * steps[name])
        exact = np.concatenate([grad["1h"][:, j], grad["2h"][:, j]])
        scale = max(np.max(np.abs(exact)), 1e-30)
        np.testing.assert_allclose(exact, fd, rtol=0, atol=1e-5 * scale + 1e-12, err_msg=name)


# --- engine mode next to CAMB ---------------------------------------------------------------


@functools.cache
def _engine_camb_model(mnu):
    """camb + SZTheory (engine mode) with the cosmology once, in CAMB's names, sigma8 input."""
    params = {**CAMB_COSMO, "mnu": mnu, "sigma8": {"prior": {"min": 0.6, "max": 1.0}},
              "omegam": None, "Omega_m": None, "F_sz": None}
    return get_model(_info(params, camb_theory=True, extra_like=CAMB_PROBE))


@pytest.mark.parametrize("mnu", [0.0, 0.06])
def test_engine_mode_with_camb_shares_one_cosmology(mnu):
    """camb + SZTheory in one model: no "Both As and sigma8" error; both read the one
    sigma8 and the CAMB-named cosmology; Omega_m agrees with CAMB's omegam to
    BACKGROUND_RTOL and CAMB's sigma8 is the input one."""
    model = _engine_camb_model(mnu)
    sztheory, camb_theory = model.theory[THEORY], model.theory["camb"]
    assert {"sigma8", "ombh2", "omch2", "H0", "ns", "mnu"} <= set(sztheory.input_params)
    assert "sigma8" in camb_theory.input_params and "As" not in camb_theory.input_params
    result = model.logposterior({"sigma8": 0.8102})
    assert np.isfinite(result.logpost)
    derived = dict(zip(model.parameterization.derived_params(), result.derived))
    assert derived["Omega_m"] == pytest.approx(derived["omegam"], rel=BACKGROUND_RTOL)
    assert model.provider.get_CAMBdata().get_sigma8_0() == pytest.approx(0.8102, rel=1e-6)


def test_engine_mode_logA_with_camb_sigma8_agrees_to_backend_accuracy():
    """logA read by SZTheory, As = 1e-10 e^logA by CAMB: SZTheory's derived sigma8 agrees with
    CAMB's to the default (EH98) backend's accuracy, SIGMA8_EH98_RTOL."""
    params = {**CAMB_COSMO, "mnu": 0.06, "logA": {"prior": {"min": 2.5, "max": 3.5}},
              "As": "lambda logA: 1e-10*np.exp(logA)", "sigma8": None}
    model = get_model(_info(params, camb_theory=True, extra_like=CAMB_PROBE))
    result = model.logposterior({"logA": LOGA})
    derived = dict(zip(model.parameterization.derived_params(), result.derived))
    camb_sigma8 = model.provider.get_CAMBdata().get_sigma8_0()
    assert derived["sigma8"] == pytest.approx(camb_sigma8, rel=SIGMA8_EH98_RTOL)


def test_class_sz_spelling_next_to_camb_is_refused(caplog):
    """omega_b written for SZTheory while CAMB reads ombh2: two values of one parameter,
    refused with the CAMB spelling to use."""
    params = {"omega_b": 0.02242, "omch2": 0.11933, "H0": 67.66, "ns": 0.9665,
              "sigma8": {"prior": {"min": 0.6, "max": 1.0}}}
    with pytest.raises(LoggedError):
        get_model(_info(params, camb_theory=True, extra_like=CAMB_PROBE))
    assert "ombh2" in caplog.text and "omega_b" in caplog.text


# --- Boltzmann mode -------------------------------------------------------------------------


BOLTZMANN_PARAMS = {**CAMB_COSMO, "logA": {"prior": {"min": 2.5, "max": 3.5}, "drop": True},
                    "As": "lambda logA: 1e-10*np.exp(logA)",
                    "B": {"prior": {"min": 1.0, "max": 2.0}},
                    "sigma8": None, "omegam": None, "Omega_m": None, "F_sz": None}


@pytest.fixture(scope="module")
def boltzmann_model():
    """camb + SZTheory (cosmology: boltzmann), cosmology once in CAMB names; mnu = 0 so that
    the engine-background comparison also holds without massive-neutrino physics."""
    params = {**BOLTZMANN_PARAMS, "mnu": 0.0}
    return get_model(_info(params, {"cosmology": "boltzmann"}, camb_theory=True))


def test_boltzmann_mode_with_camb_reads_upstream(boltzmann_model):
    """Boltzmann mode: SZTheory takes only the profile inputs and CAMB's parameters; the
    tables it builds are CAMB's (chi, H to 1e-12; P_cb of delta_nonu, see below), agree with
    the engine background to BACKGROUND_RTOL, and the derived Omega_m / F_sz use CAMB's
    values."""
    model = boltzmann_model
    sztheory = model.theory[THEORY]
    assert set(sztheory.input_params) == set(PROFILE_PARAMS) | {"ombh2", "omch2", "H0", "mnu"}
    assert "As" in model.theory["camb"].input_params
    result = model.logposterior({"logA": LOGA, "B": 1.25})
    assert np.isfinite(result.logpost)
    derived = dict(zip(model.parameterization.derived_params(), result.derived))
    assert derived["Omega_m"] == derived["omegam"]
    assert derived["F_sz"] == pytest.approx(
        sz.parameters.f_sz(derived["sigma8"], derived["omegam"], 1.25, CAMB_COSMO["H0"]), rel=1e-14)
    z = sztheory._z_nodes
    z_out, chi, hubble, k, pk = boltzmann.read_tables(model.provider, z)
    reference = _camb_results(**{"ombh2": 0.02242, "omch2": 0.11933, "H0": 67.66, "ns": 0.9665},
                              mnu=0.0, As=1e-10 * np.exp(LOGA))
    np.testing.assert_allclose(chi, reference.comoving_radial_distance(z), rtol=1e-12)
    np.testing.assert_allclose(hubble, reference.hubble_parameter(z), rtol=1e-12)
    cosmo = sz.CosmoParams(omega_b=0.02242, omega_cdm=0.11933, H0=67.66, n_s=0.9665, sigma8=0.8, m_nu=0.0)
    np.testing.assert_allclose(chi, np.asarray(sz.comoving_distance(z, cosmo)), rtol=BACKGROUND_RTOL)
    np.testing.assert_allclose(hubble, 67.66 * np.asarray(sz.E_z(z, cosmo)), rtol=BACKGROUND_RTOL)
    # P_cb: Cobaya's interpolator at CAMB's own k nodes is CAMB's spectrum at the same z
    # (measured 1e-14: identical CAMB settings); between the nodes Cobaya's spline (the
    # table) and CAMB's own interpolator agree to 1.5e-7 (measured): tolerances 1e-10, 1e-5.
    pars = reference.Params
    pars.set_matter_power(redshifts=list(boltzmann.pk_redshifts(z)), kmax=float(k[-1]), nonlinear=False)
    exact = camb.get_results(pars)
    k_camb, z_camb, pk_camb = exact.get_linear_matter_power_spectrum(
        var1="delta_nonu", var2="delta_nonu", hubble_units=False, k_hunit=False)
    interpolator = model.provider.get_Pk_interpolator(boltzmann.PK_PAIR, nonlinear=False,
                                                      extrap_kmin=boltzmann.TABLE_K[0] / 10)
    at_nodes = (k_camb >= k[0]) & (k_camb <= k[-1])
    np.testing.assert_allclose(interpolator.P(z_camb, k_camb[at_nodes]), pk_camb[:, at_nodes], rtol=1e-10)
    camb_spline = exact.get_matter_power_interpolator(nonlinear=False, var1="delta_nonu", var2="delta_nonu",
                                                      hubble_units=False, k_hunit=False)
    np.testing.assert_allclose(pk, camb_spline.P(z, k), rtol=1e-5)


def test_boltzmann_mode_gradient_profile_exact_cosmology_finite_differences(boltzmann_model, caplog):
    """Cl_sz_grad in the Boltzmann mode covers the profile inputs (B against finite
    differences, 1e-5), leaves the cosmological requests out (logged), and the posterior
    gradient of GradMinimize takes finite differences in logA: its total gradient matches
    a central finite difference of ln P (1e-4 relative: the FD step of both)."""
    from cobaya_szlite.posterior_gradient import PosteriorGradient

    model = boltzmann_model
    caplog.set_level(logging.INFO)
    gradient = PosteriorGradient(model)
    x = np.array([LOGA, 1.3])
    value, grad = gradient(x)
    cl_grad = model.provider.get_Cl_sz_grad()
    assert cl_grad["params"] == ["B"]
    assert "finite differences" in caplog.text and "logA" in caplog.text
    for j, h in enumerate((1e-4, 1e-4)):
        step = np.zeros(2)
        step[j] = h
        fd = (model.logpost(x + step) - model.logpost(x - step)) / (2 * h)
        assert grad[j] == pytest.approx(fd, rel=1e-4, abs=1e-6)


def test_boltzmann_mode_without_upstream_theory_is_refused(caplog):
    """cosmology: boltzmann with no Boltzmann code in the run: LoggedError naming the missing
    requirement, after SZTheory's log line listing what it needs."""
    caplog.set_level(logging.INFO)
    params = {**CAMB_COSMO, "mnu": 0.06, "As": 2.1e-9}
    with pytest.raises(LoggedError):
        get_model(_info(params, {"cosmology": "boltzmann"}))
    assert "Pk_interpolator" in caplog.text and "not provided" in caplog.text


def test_boltzmann_mode_refuses_unknown_upstream_name_key(caplog):
    with pytest.raises(LoggedError):
        get_model(_info({**BOLTZMANN_PARAMS, "mnu": 0.06},
                        {"cosmology": "boltzmann", "boltzmann_names": {"omega_bb": "x"}}, camb_theory=True))
    assert "omega_bb" in caplog.text


def test_camb_tsz_yaml_builds_and_writes_the_cosmology_once():
    """yaml/camb_tsz.yaml: camb + SZTheory (Boltzmann mode) + the mock likelihood build one
    model; every cosmological parameter reaches CAMB only (SZTheory reads CAMB's values as
    requirements), and a point at the reference is finite with Omega_m = CAMB's omegam."""
    from cobaya_fixtures import load_yaml

    info = load_yaml("camb_tsz.yaml")
    info.pop("sampler")
    model = get_model(info)
    camb_inputs = set(model.theory["camb"].input_params) | set(model.theory["camb.transfers"].input_params)
    assert {"ombh2", "omch2", "H0", "ns", "mnu", "As"} <= camb_inputs
    assert model.theory[THEORY].cosmology == "boltzmann"
    result = model.logposterior({"logA": LOGA, "omch2": 0.11933, "B": 1.25})
    assert np.isfinite(result.logpost)
    derived = dict(zip(model.parameterization.derived_params(), result.derived))
    assert derived["sigma8"] == pytest.approx(0.81, abs=0.02)
    assert derived["Omega_m"] == model.provider.get_param("omegam")
    assert "omegam" not in derived  # one column per quantity (no repeated label)


def test_engine_mode_warns_next_to_a_parameter_agnostic_theory(caplog):
    """A theory that takes only unassigned parameters (as Cobaya's classy) would not get
    SZTheory's cosmology: warned at initialisation, naming the Boltzmann mode."""
    from cobaya.theory import Theory

    class _Agnostic(Theory):
        def get_allow_agnostic(self):
            return True

    info = _info({**CLASS_SZ_COSMO, "sigma8": 0.8102, "its_own_param": 1.0})
    info["theory"]["agnostic"] = {"external": _Agnostic}
    get_model(info)
    assert "cosmology: boltzmann" in caplog.text and "agnostic" in caplog.text


#: Boltzmann-mode C_ell (CAMB's P_cb, background) against the engine mode (its own linear
#: power) at the same cosmology and sigma8: the default EH98 backend is 1-3% from CAMB around
#: the BAO scale. Measured (tables engine, EH98, m_nu = 0, 11 <= ell <= 2628): 1-halo
#: -1.6% ... +0.2%, 2-halo +1.0% ... +3.8%.
BOLTZMANN_VS_ENGINE_RTOL = {"1h": 0.03, "2h": 0.05}


def test_boltzmann_mode_cl_close_to_engine_mode(boltzmann_model):
    """With the engine's tabulated formulas, Cl_sz from CAMB's cosmology is within
    BOLTZMANN_VS_ENGINE_RTOL of the engine mode's at CAMB's sigma8 (the same halo model;
    the difference is the linear P(k) backend)."""
    model = boltzmann_model
    result = model.logposterior({"logA": LOGA, "B": 1.25})
    derived = dict(zip(model.parameterization.derived_params(), result.derived))
    cl = model.provider.get_Cl_sz()
    cosmo = sz.CosmoParams(omega_b=0.02242, omega_cdm=0.11933, H0=67.66, n_s=0.9665,
                           sigma8=derived["sigma8"], m_nu=0.0)
    spectra = sz.cl_yy(cosmo, sz.ProfileParamsA10(), cl["ell"], precision=sz.Precision(**TEST_PRECISION))
    to_d = sz.parameters.d_ell_factor(cl["ell"])
    for key, engine_cl in zip(("1h", "2h"), spectra, strict=True):
        np.testing.assert_allclose(cl[key], np.asarray(engine_cl) * to_d, rtol=BOLTZMANN_VS_ENGINE_RTOL[key])
