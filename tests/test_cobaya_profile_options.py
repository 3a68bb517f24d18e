"""SZTheory's halo-model options: ``profile``, ``mass_function``, ``linear_power``.

Each option value builds a model with finite ``Cl_sz`` that differs from the default's (so
the choice reaches the engine); the Battaglia profile with the Bocquet mass function equals
a direct engine call with the pytree and `HaloModel` written by hand (M200c); the exact
``Cl_sz_grad`` of new inputs matches finite differences; inputs of the profile not chosen,
a finite x_out with battaglia12 and unknown option values are refused by name; the NUTS
fast path and the Boltzmann mode take battaglia12. Models are
built at TEST_PRECISION and cached (one compile per option value).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from cobaya.log import LoggedError
from cobaya.model import get_model

from cobaya_szlite import HaloModel, ProfileParamsA10, ProfileParamsB12, ProfileParamsGNFWSZ, cl_yy
from cobaya_szlite.engine import GNFW_PRESETS
from cobaya_szlite.jax_posterior import pure_jax_logpost
from cobaya_szlite.parameters import (
    B12_PARAMS,
    FIDUCIAL_COSMO,
    PARAM_LATEX,
    PROFILE_PARAMS,
    f_sz,
    profile_defaults,
    to_pytrees,
    to_values,
)
from cobaya_szlite.theory import SZTheory

from cobaya_fixtures import THEORY, TRUTH, noiseless_model, simple_info

#: Inputs sampled (and differentiated) per profile kind in the gradient models.
GRAD_INPUTS = {"battaglia12": ("xc_B12", "beta_B12"), "planck13": ("betaGNFW",)}
#: Prior boxes of those inputs (wide; the tests evaluate at the defaults).
PRIORS = {"xc_B12": (0.2, 1.0), "beta_B12": (3.0, 6.0), "betaGNFW": (3.0, 6.0)}


def _options(profile="a10", mass_function="tinker08", linear_power="eh98"):
    return {"profile": profile, "mass_function": mass_function, "linear_power": linear_power}


@functools.cache
def _model(profile="a10", mass_function="tinker08", linear_power="eh98"):
    """Model on the noiseless test mock with the options; the inputs of GRAD_INPUTS[profile]
    sampled and their Cl_sz_grad requested before the first evaluation (one compile).
    bartlett23 is fitted for massless neutrinos only, so its model has m_nu = 0."""
    if (profile, mass_function, linear_power) == ("a10", "tinker08", "eh98"):
        return noiseless_model()
    names = GRAD_INPUTS.get(profile, ())
    params = {"sigma8": TRUTH["sigma8"], "F_sz": None,
              **{n: {"prior": dict(zip(("min", "max"), PRIORS[n]))} for n in names}}
    if linear_power == "bartlett23":
        params["m_nu"] = 0.0
    model = get_model(simple_info(params=params, theory_options=_options(profile, mass_function, linear_power)))
    if names:
        model.add_requirements({"Cl_sz_grad": {"params": list(names)}})
    return model


def _point(model, profile):
    """The sampled inputs at the profile's defaults (sigma8 at the truth for the default model)."""
    defaults = {**profile_defaults(profile), "sigma8": TRUTH["sigma8"]}
    return {name: defaults[name] for name in model.parameterization.sampled_params()}


def _cl(model, point):
    model.logposterior(point)
    cl = model.provider.get_Cl_sz()
    return np.concatenate([cl["1h"], cl["2h"]])


CASES = [
    _options(),
    _options(profile="a10_rexcess"),
    _options(profile="planck13"),
    _options(profile="battaglia12"),
    _options(mass_function="tinker10"),
    _options(mass_function="bocquet16"),
    _options(profile="battaglia12", mass_function="bocquet16"),
    _options(linear_power="bartlett23"),
    _options(linear_power="syren_new"),
]


@pytest.mark.parametrize("options", CASES, ids=lambda o: "-".join(o.values()))
def test_each_option_value_gives_finite_cl_and_reaches_the_engine(options):
    """Finite, positive Cl_sz; the layout carries the profile kind and the HaloModel the
    options name (M200c exactly for battaglia12); the spectrum differs from the default
    options' (relative 1e-4: any real change of component moves C_ell far more)."""
    model = _model(**options)
    layout = model.theory[THEORY].layout
    assert layout.profile_kind == options["profile"]
    definition = "200c" if options["profile"] == "battaglia12" else "500c"
    assert layout.model == HaloModel(options["linear_power"], options["mass_function"], "tinker10", definition)
    point = _point(model, options["profile"])
    logpost = model.logposterior(point)
    assert np.isfinite(logpost.logpost)
    cl = _cl(model, point)
    assert np.all(np.isfinite(cl)) and np.all(cl > 0)
    if options != _options():
        default = _cl(noiseless_model(), {"sigma8": TRUTH["sigma8"]})
        assert np.max(np.abs(cl / default - 1)) > 1e-4


def test_options_map_to_the_engine_pytrees():
    """to_pytrees gives the engine type of each kind (planck13: P0 h70^-1 GNFWSZ; B12) at
    the defaults, and the defaults are the presets / the published B12 fit."""
    types = {"a10": ProfileParamsA10, "a10_rexcess": ProfileParamsA10, "planck13": ProfileParamsGNFWSZ,
             "battaglia12": ProfileParamsB12}
    for kind, kind_type in types.items():
        layout = _model(kind).theory[THEORY].layout
        values = to_values({**TRUTH, **profile_defaults(kind)}, layout)
        _, profile = to_pytrees(values, layout)
        assert type(profile) is kind_type
        expected = ProfileParamsB12() if kind == "battaglia12" else GNFW_PRESETS[kind].profile
        np.testing.assert_array_equal(np.asarray(profile, dtype=float), np.asarray(expected, dtype=float))
    assert profile_defaults("battaglia12") == {
        "P0_B12": 18.1, "alpha_m_P0_B12": 0.154, "alpha_z_P0_B12": -0.758, "xc_B12": 0.497,
        "alpha_m_xc_B12": -0.00865, "alpha_z_xc_B12": 0.731, "beta_B12": 4.35,
        "alpha_m_beta_B12": 0.0393, "alpha_z_beta_B12": 0.415}


@pytest.mark.parametrize("profile", ["a10", "planck13", "battaglia12"])
def test_declared_params_are_the_active_profiles_with_latex(profile):
    """SZTheory declares exactly the chosen profile's inputs, fixed at its defaults, each with
    a LaTeX label, and none of the other family."""
    params = SZTheory.get_modified_defaults({}, {"profile": profile})["params"]
    inputs = {name: p for name, p in params.items() if "value" in p}
    assert {n: p["value"] for n, p in inputs.items()} == profile_defaults(profile)
    assert all(p["latex"] == PARAM_LATEX[n] and p["latex"] for n, p in inputs.items())
    other = PROFILE_PARAMS if profile == "battaglia12" else B12_PARAMS
    assert not set(other) & set(params)


def test_battaglia12_bocquet16_equals_direct_engine_call():
    """The B12 + Bocquet16 model's Cl_sz equals cl_yy called with ProfileParamsB12() and
    HaloModel(mass_function="bocquet16", mass_definition="200c") written here (same
    precision; rtol 1e-10: the same computation, only the jit boundary differs). F_sz is
    derived with B = 1."""
    model = _model("battaglia12", "bocquet16")
    theory = model.theory[THEORY]
    point = _point(model, "battaglia12")
    logpost = model.logposterior(point)
    cl = model.provider.get_Cl_sz()
    engine = jax.jit(functools.partial(
        cl_yy, precision=theory.engine_precision,
        model=HaloModel(mass_function="bocquet16", mass_definition="200c")))
    one_halo, two_halo = engine(FIDUCIAL_COSMO, ProfileParamsB12(), jnp.asarray(cl["ell"]))
    to_d = 1e12 * cl["ell"] * (cl["ell"] + 1) / (2 * np.pi)
    np.testing.assert_allclose(cl["1h"], np.asarray(one_halo) * to_d, rtol=1e-10)
    np.testing.assert_allclose(cl["2h"], np.asarray(two_halo) * to_d, rtol=1e-10)
    derived = dict(zip(model.parameterization.derived_params(), logpost.derived))
    assert derived["F_sz"] == pytest.approx(f_sz(TRUTH["sigma8"], derived["Omega_m"], 1.0, TRUTH["H0"]), rel=1e-12)


@pytest.mark.parametrize("profile", ["battaglia12", "planck13"])
def test_cl_sz_grad_of_profile_inputs_matches_finite_differences(profile):
    """Cl_sz_grad in xc_B12 and beta_B12 (battaglia12) and betaGNFW (planck13) against central
    finite differences of Cl_sz, step 1e-5 of the value (truncation ~1e-10 relative; the
    B12 shape table is smooth in beta), agreeing to 1e-6 of the largest derivative."""
    model = _model(profile)
    names = GRAD_INPUTS[profile]
    point = _point(model, profile)
    model.logposterior(point)
    grad = model.provider.get_Cl_sz_grad()
    assert grad["params"] == list(names)
    for j, name in enumerate(names):
        step = 1e-5 * abs(point[name])
        plus = _cl(model, {**point, name: point[name] + step})
        minus = _cl(model, {**point, name: point[name] - step})
        fd = (plus - minus) / (2 * step)
        exact = np.concatenate([grad["1h"][:, j], grad["2h"][:, j]])
        scale = np.max(np.abs(exact))
        assert scale > 0
        np.testing.assert_allclose(exact, fd, rtol=0, atol=1e-6 * scale, err_msg=name)


def test_fast_path_logpost_with_battaglia12():
    """jax_posterior's pure-JAX ln P of the B12 model (layout with the profile kind and the
    200c HaloModel) equals Cobaya's at a point (1e-9 absolute: the same D_ell)."""
    model = _model("battaglia12")
    logpost, reason = pure_jax_logpost(model)
    assert logpost is not None, reason
    point = {"xc_B12": 0.55, "beta_B12": 4.5}
    x = jnp.asarray([point[name] for name in model.parameterization.sampled_params()])
    assert float(jax.jit(logpost)(x)) == pytest.approx(model.logpost(point), abs=1e-9)


def test_boltzmann_mode_with_battaglia12():
    """cosmology: boltzmann (CAMB upstream) with profile: battaglia12: SZTheory takes the B12
    inputs and CAMB's, its halo model is M200c, Cl_sz is finite and positive, and F_sz is
    CAMB's sigma8 (Omega_m / 1)^0.4 h^-0.21 (B = 1; rel 1e-12: the same formula)."""
    pytest.importorskip("camb")
    cosmo = {"ombh2": 0.02242, "omch2": 0.11933, "H0": 67.66, "ns": 0.9665, "mnu": 0.0}
    params = {**cosmo, "logA": {"prior": {"min": 2.5, "max": 3.5}, "drop": True},
              "As": "lambda logA: 1e-10*np.exp(logA)", "xc_B12": {"prior": {"min": 0.2, "max": 1.0}},
              "sigma8": None, "omegam": None, "F_sz": None}
    info = simple_info(params=params, theory_options={"cosmology": "boltzmann", "profile": "battaglia12"})
    info["params"] = params
    info["theory"]["camb"] = {"stop_at_error": True}
    model = get_model(info)
    theory = model.theory[THEORY]
    assert set(theory.input_params) == set(B12_PARAMS) | (set(cosmo) - {"ns"})  # n_s: not used by the tables
    assert theory.layout.model.mass_definition == "200c" and not theory.layout.cosmo
    result = model.logposterior({"logA": 3.047, "xc_B12": 0.497})
    assert np.isfinite(result.logpost)
    cl = model.provider.get_Cl_sz()
    assert np.all(np.isfinite(cl["1h"])) and np.all(cl["1h"] > 0) and np.all(cl["2h"] > 0)
    derived = dict(zip(model.parameterization.derived_params(), result.derived))
    assert derived["F_sz"] == pytest.approx(f_sz(derived["sigma8"], derived["omegam"], 1.0, 67.66), rel=1e-12)


# --- refused inputs -------------------------------------------------------------------------


def _build(params=None, **options):
    info = simple_info(params={"sigma8": TRUTH["sigma8"], **(params or {})}, theory_options=options)
    return get_model(info)


@pytest.mark.parametrize(("profile", "param", "listed"), [
    ("battaglia12", "betaGNFW", "P0_B12"),
    ("a10", "xc_B12", "P0GNFW"),
    ("planck13", "alpha_z_beta_B12", "betaGNFW"),
])
def test_input_of_another_profile_is_refused_by_name(profile, param, listed):
    value = {"betaGNFW": 5.0, "xc_B12": 0.5, "alpha_z_beta_B12": 0.4}[param]
    with pytest.raises(LoggedError, match=rf"{param}.*profile: {profile}.*{listed}"):
        _build({param: value}, profile=profile)


def test_battaglia12_refuses_finite_x_out():
    with pytest.raises(LoggedError, match=r"battaglia12.*x_out must be inf"):
        _build(profile="battaglia12", precision={"x_out": 6.0})


@pytest.mark.parametrize(("option", "value"), [
    ("profile", "nfw"), ("mass_function", "press_schechter"), ("linear_power", "camb")])
def test_unknown_option_value_is_refused(option, value):
    with pytest.raises(LoggedError, match=rf"'{option}' must be one of"):
        _build(**{option: value})


def test_linear_power_option_is_engine_mode_only():
    info = simple_info(params={"ombh2": 0.02242}, theory_options={"cosmology": "boltzmann",
                                                                  "linear_power": "syren_new"})
    info["params"] = {"ombh2": 0.02242}
    with pytest.raises(LoggedError, match="linear_power: syren_new.*engine only"):
        get_model(info)
