"""SZTheory + TSZBandpowers through cobaya.model.get_model: values, products, YAML."""

import logging
import math
import os
import shutil

import numpy as np
import pytest
from cobaya.model import get_model

import cobaya_szlite as sz
import cobaya_szlite.theory as theory_module
from cobaya_szlite.likelihood import MOCK_DATA_FOLDER, TSZBandpowers
from cobaya_szlite.parameters import FIDUCIAL_COSMO

from cobaya_fixtures import (
    LIKE,
    PLANCK_FOLDER,
    TEST_PRECISION,
    THEORY,
    TRUTH,
    load_yaml,
    mock_folder,
    needs_planck_data,
    noiseless_model,
    numpy_chi2,
    simple_info,
)


def _at_truth(model):
    return {p: TRUTH[p] for p in model.parameterization.sampled_params()}


def _like(model, name=LIKE):
    return model.likelihood[name]


@pytest.mark.parametrize("name", ["quickstart.yaml", "mcmc_mock.yaml", "minimize_mock.yaml"])
@pytest.mark.slow
def test_yaml_models(name):
    info = load_yaml(name)
    info.pop("sampler")
    model = get_model(info)
    point = _at_truth(model)
    loglikes, derived = model.loglikes(point)
    file = info["likelihood"][LIKE]["bandpowers_file"]
    # the examples use the mock's full covariance (Gaussian + trispectrum)
    assert info["likelihood"][LIKE]["covariance_file"] == "covariance.txt"
    cov = np.loadtxt(os.path.join(mock_folder(), "covariance.txt"))
    expected = numpy_chi2(os.path.join(mock_folder(), file), model.provider.get_Cl_sz(), cov)
    assert -2 * loglikes[0] == pytest.approx(expected, rel=1e-10, abs=1e-12)
    if "noiseless" in file:
        assert -2 * loglikes[0] < 1e-6
    else:
        assert 5 < -2 * loglikes[0] < 40  # 20 bins
    assert np.all(np.isfinite(derived))


@pytest.mark.slow
def test_truth_of_noiseless_mock():
    model = noiseless_model()
    logp = model.loglike({"sigma8": TRUTH["sigma8"]}, return_derived=False)
    assert -2 * logp < 1e-6
    cl_sz = model.provider.get_Cl_sz()
    assert -2 * logp == pytest.approx(
        numpy_chi2(os.path.join(mock_folder(), "bandpowers_noiseless.txt"), cl_sz), abs=1e-12
    )
    # away from the truth the chi^2 is large and still matches numpy
    logp = model.loglike({"sigma8": 0.78}, return_derived=False)
    cl_sz = model.provider.get_Cl_sz()
    expected = numpy_chi2(os.path.join(mock_folder(), "bandpowers_noiseless.txt"), cl_sz)
    assert expected > 100
    assert -2 * logp == pytest.approx(expected, rel=1e-12)


@pytest.mark.slow
def test_products_are_numpy_and_python_floats():
    model = noiseless_model()
    model.loglikes({"sigma8": 0.81})
    cl_sz = model.provider.get_Cl_sz()
    assert set(cl_sz) == {"ell", "1h", "2h"}
    for key in cl_sz:
        assert type(cl_sz[key]) is np.ndarray and cl_sz[key].dtype == np.float64
    assert np.all(cl_sz["1h"] > 0) and np.all(cl_sz["2h"] > 0)
    like = _like(model)
    assert type(like.current_state["logp"]) is float
    derived = model.theory[THEORY].current_derived
    h = TRUTH["H0"] / 100
    # total matter today (massive neutrinos included), as the engine's background defines it
    truth_cosmo = sz.CosmoParams(**{k: TRUTH[k] for k in ("omega_b", "omega_cdm", "H0", "n_s")}, sigma8=0.81)
    omega_m = float(sz.engine.background.omega_m(truth_cosmo)) / h**2
    assert type(derived["Omega_m"]) is float and derived["Omega_m"] == pytest.approx(omega_m)
    assert derived["F_sz"] == pytest.approx(0.81 * (omega_m / TRUTH["B"]) ** 0.4 * h**-0.21)
    # units: D_ell x 1e12 of the engine's C_ell
    cosmo = sz.CosmoParams(*[TRUTH[p] for p in list(TRUTH)[:5]])._replace(sigma8=0.81)
    profile = sz.ProfileParamsA10(*[TRUTH[p] for p in list(TRUTH)[5:]])
    ell = cl_sz["ell"][:3]
    c1, c2 = sz.cl_yy(cosmo, profile, ell, precision=sz.Precision(**model.theory[THEORY].precision))
    to_d = 1e12 * ell * (ell + 1) / (2 * math.pi)
    np.testing.assert_allclose(cl_sz["1h"][:3], np.asarray(c1) * to_d, rtol=1e-10)
    np.testing.assert_allclose(cl_sz["2h"][:3], np.asarray(c2) * to_d, rtol=1e-10)


@pytest.mark.slow
def test_compiled_once_per_run(monkeypatch):
    """One compilation per request, reused for every point and by a second model with the
    same multipoles and precision. Compilations are counted by wrapping the engine's cl_yy
    as the theory's evaluation sees it (the wrapper runs only while JAX traces)."""
    import cobaya_szlite.parameters as parameters_module

    traces = []
    original = parameters_module.cl_yy

    def counting_cl_yy(*args, **kwargs):
        traces.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(parameters_module, "cl_yy", counting_cl_yy)
    theory_module._compiled.cache_clear()
    model = get_model(simple_info())
    model.loglike({"sigma8": 0.8})
    assert len(traces) == 1
    for sigma8 in np.linspace(0.7, 0.9, 7):
        assert np.isfinite(model.loglike({"sigma8": sigma8}, return_derived=False))
    assert len(traces) == 1
    # a second model with the same multipoles and precision reuses the compiled code
    get_model(simple_info()).loglike({"sigma8": 0.8})
    assert len(traces) == 1
    # a different request (here: derivatives too) compiles once more
    model.add_requirements({"Cl_sz_grad": None})
    model.loglike({"sigma8": 0.81})
    assert len(traces) == 2


def test_unphysical_points_give_zero_likelihood():
    params = {
        "sigma8": {"prior": {"min": -1, "max": 2}},
        "betaGNFW": {"prior": {"min": 0, "max": 10}},
        "gammaGNFW": {"prior": {"min": 0, "max": 10}},
    }
    model = get_model(simple_info(params=params))
    good = {"sigma8": 0.81, "betaGNFW": TRUTH["betaGNFW"], "gammaGNFW": TRUTH["gammaGNFW"]}
    assert np.isfinite(model.logpost(good))
    for bad in ({"sigma8": -0.1}, {"sigma8": 0.0}, {"betaGNFW": 0.3, "gammaGNFW": 0.5}):
        point = {**good, **bad}
        logpost = model.logposterior(point)
        assert logpost.logpost == -np.inf
        assert not np.any(np.isnan(logpost.loglikes))
    assert np.isfinite(model.logpost(good))


def test_ell_selection_and_two_likelihoods_share_the_theory():
    info = simple_info()
    info["likelihood"] = {
        "low": {"class": LIKE, "data_folder": mock_folder(), "ell_max": 500,
                "bandpowers_file": "bandpowers.txt", "covariance_file": False},
        "high": {"class": LIKE, "data_folder": mock_folder(), "ell_min": 500,
                 "bandpowers_file": "bandpowers.txt", "covariance_file": "covariance.txt"},
    }
    model = get_model(info)
    loglikes, _ = model.loglikes({"sigma8": 0.81})
    cl_sz = model.provider.get_Cl_sz()
    assert len(cl_sz["ell"]) == 20
    ell, d, sigma = np.loadtxt(os.path.join(mock_folder(), "bandpowers.txt"), unpack=True)
    chi = (d - (cl_sz["1h"] + cl_sz["2h"])) / sigma
    low = ell <= 500
    assert model.likelihood["low"].data.ell.max() <= 500
    assert -2 * loglikes[0] == pytest.approx(np.sum(chi[low] ** 2), rel=1e-12)
    # the mock covariance (Gaussian + trispectrum) correlates bins: cut, then invert
    cov = np.loadtxt(os.path.join(mock_folder(), "covariance.txt"))[np.ix_(~low, ~low)]
    r = (d - (cl_sz["1h"] + cl_sz["2h"]))[~low]
    assert -2 * loglikes[1] == pytest.approx(r @ np.linalg.solve(cov, r), rel=1e-10)


@pytest.mark.slow
def test_class_sz_style_request_without_ells():
    from cobaya.likelihood import Likelihood

    class GridUser(Likelihood):
        def get_requirements(self):
            return {"Cl_sz": {}}

        def logp(self, **params_values):
            cl_sz = self.provider.get_Cl_sz()
            return -float(np.sum(cl_sz["1h"] + cl_sz["2h"])) * 1e-3

    info = simple_info(theory_options={"n_ell_default": 9, "ell_min": 10, "ell_max": 1000})
    info["likelihood"] = {"grid": GridUser}
    model = get_model(info)
    assert np.isfinite(model.loglike({"sigma8": 0.81}, return_derived=False))
    np.testing.assert_allclose(model.provider.get_Cl_sz()["ell"], np.geomspace(10, 1000, 9))


def test_foreground_templates(tmp_path):
    ell, d, sigma = np.loadtxt(os.path.join(mock_folder(), "bandpowers_noiseless.txt"), unpack=True)
    template = 0.05 * (ell / 100.0) ** 1.5
    np.savetxt(tmp_path / "data.txt", np.column_stack([ell, d + 0.7 * template, sigma, template]))
    np.savetxt(tmp_path / "other.txt", np.column_stack([ell, 2 * template]))
    like = {
        "data_folder": str(tmp_path),
        "bandpowers_file": "data.txt",
        "foregrounds": {"A_one": {"file": "data.txt", "column": 4}, "A_two": "other.txt"},
        "params": {"A_one": {"prior": {"min": 0, "max": 5}, "latex": "A_1"}},
    }
    params = {
        "sigma8": {"prior": {"min": 0.6, "max": 1.0}},
        "A_two": {"prior": {"min": -1, "max": 1}, "latex": "A_2"},  # global block works too
    }
    model = get_model(simple_info(like_options=like, params=params))
    point = {"sigma8": TRUTH["sigma8"], "A_one": 0.7, "A_two": 0.0}
    assert -2 * model.loglike(point, return_derived=False) < 1e-6
    point = {"sigma8": TRUTH["sigma8"], "A_one": 0.2, "A_two": 0.25}  # same total
    assert -2 * model.loglike(point, return_derived=False) < 1e-6
    point = {"sigma8": TRUTH["sigma8"], "A_one": 0.0, "A_two": 0.0}
    expected = np.sum((0.7 * template / sigma) ** 2)
    assert -2 * model.loglike(point, return_derived=False) == pytest.approx(expected, rel=1e-6)


@pytest.mark.slow
def test_packaged_mock_matches_the_engine():
    """The packaged truth is the current engine at default precision (else re-run make_mock)."""
    info = simple_info(
        like_options={"data_folder": None}, theory_options={"precision": {}}
    )
    model = get_model(info)
    assert model.likelihood[LIKE].folder == MOCK_DATA_FOLDER
    chi2 = -2 * model.loglike({"sigma8": TRUTH["sigma8"]}, return_derived=False)
    assert chi2 < 1e-2, "packaged mock is stale: run scripts/make_mock.py"


@pytest.mark.slow
def test_one_covariance_rule_for_every_folder(tmp_path, caplog):
    """covariance_file null: the folder's covariance.txt if it has one, else diag(sigma^2),
    for the packaged mock, a verbatim copy of it and any other folder alike; false:
    diag(sigma^2). The INFO line names the covariance in use."""
    sigma = np.loadtxt(os.path.join(MOCK_DATA_FOLDER, "bandpowers_noiseless.txt"))[:, 2]
    full = np.loadtxt(os.path.join(MOCK_DATA_FOLDER, "covariance.txt"))
    assert not np.allclose(full, np.diag(np.diag(full)))  # the bins are correlated
    copy = tmp_path / "copy"
    shutil.copytree(MOCK_DATA_FOLDER, copy)
    no_cov = tmp_path / "no_cov"
    shutil.copytree(MOCK_DATA_FOLDER, no_cov)
    os.remove(no_cov / "covariance.txt")
    cases = [
        ({"data_folder": None}, full, "covariance.txt"),
        ({"data_folder": None, "covariance_file": None}, full, "covariance.txt"),
        ({"data_folder": None, "covariance_file": False}, np.diag(sigma**2), "diag(sigma^2)"),
        ({"data_folder": MOCK_DATA_FOLDER}, full, "covariance.txt"),
        ({"data_folder": str(copy)}, full, "covariance.txt"),
        ({"data_folder": str(no_cov)}, np.diag(sigma**2), "diag(sigma^2)"),
        ({"data_folder": str(copy), "covariance_file": False}, np.diag(sigma**2), "diag(sigma^2)"),
    ]
    for options, expected, label in cases:
        caplog.clear()
        with caplog.at_level(logging.INFO):
            like = TSZBandpowers({"bandpowers_file": "bandpowers_noiseless.txt", **options})
        np.testing.assert_array_equal(like.data.cov, expected, err_msg=str(options))
        assert label in like.covariance_description, options
        assert any("covariance: " + like.covariance_description in r.getMessage() for r in caplog.records)
    # the noisy mock at the truth, packaged folder vs a verbatim copy
    chi2 = {}
    for folder in (None, str(copy)):
        model = get_model(simple_info(like_options={"data_folder": folder, "bandpowers_file": "bandpowers.txt",
                                                    "covariance_file": None},
                                      theory_options={"precision": {}}))
        chi2[folder] = -2 * model.loglike({"sigma8": TRUTH["sigma8"]}, return_derived=False)
    assert chi2[None] == pytest.approx(chi2[str(copy)], rel=1e-12)
    assert 10 < chi2[None] < 20  # 13.39 with the full covariance (8.69 with diag(sigma^2))


def test_covariance_log_names_the_trispectrum(caplog):
    """A trispectrum file is named in the covariance line (it used to say diag(sigma^2))."""
    with caplog.at_level(logging.INFO):
        like = TSZBandpowers({"data_folder": mock_folder(), "covariance_file": False,
                              "trispectrum_file": "covariance.txt", "f_sky": 0.5})
    text = like.covariance_description
    assert text.startswith("diag(sigma^2)") and "trispectrum " in text and "covariance.txt / (4 pi f_sky)" in text
    assert any(text in r.getMessage() for r in caplog.records if r.levelno == logging.INFO)


@needs_planck_data
@pytest.mark.slow
def test_planck2015_folder_with_foregrounds_and_trispectrum(tmp_path):
    data_file = "class_sz_SZ_and_fg_models.txt"
    tri_file = "soliket_tSZ_trispectrum_ref_total-planck-collab-15_step_1.txt"
    for name in (data_file, tri_file):
        shutil.copy(os.path.join(PLANCK_FOLDER, name), tmp_path / name)
    amplitudes = {"A_CIB": 4, "A_RS": 5, "A_IR": 6, "A_CN": 7}
    like = {
        "data_folder": str(tmp_path),
        "bandpowers_file": data_file,
        "trispectrum_file": tri_file,
        "f_sky": 0.47,
        "foregrounds": {k: {"file": data_file, "column": c} for k, c in amplitudes.items()},
    }
    params = {"sigma8": {"prior": {"min": 0.6, "max": 1.0}}, "A_CN": 0.9033}
    params.update({k: {"prior": {"min": 0, "max": 5}} for k in ("A_CIB", "A_RS", "A_IR")})
    model = get_model(simple_info(like_options=like, params=params))
    point = {"sigma8": 0.8, "A_CIB": 0.66, "A_RS": 0.0, "A_IR": 2.04}
    logp = model.loglike(point, return_derived=False)
    # the README's chi^2, independently
    table = np.loadtxt(tmp_path / data_file)
    cov = np.diag(table[:, 2] ** 2) + np.loadtxt(tmp_path / tri_file) / (4 * np.pi * 0.47)
    cl_sz = model.provider.get_Cl_sz()
    model_d = np.interp(table[:, 0], cl_sz["ell"], cl_sz["1h"] + cl_sz["2h"])
    model_d = model_d + table[:, 3:7] @ np.array([0.66, 0.0, 2.04, 0.9033])
    r = table[:, 1] - model_d
    assert -2 * logp == pytest.approx(r @ np.linalg.solve(cov, r), rel=1e-10)


@pytest.mark.slow
def test_mock_covariance_is_gaussian_plus_trispectrum():
    """covariance.txt = diag Gaussian (signal + noise) + engine T / (4 pi f_sky), D_ell x 1e12."""
    import math

    import cobaya_szlite as sz
    from cobaya_szlite.mock import (
        F_SKY,
        FIDUCIAL_COSMO,
        FIDUCIAL_PROFILE,
        bins,
        noise_d,
    )

    from cobaya_fixtures import TEST_PRECISION

    _, _, ell, n_ell = bins()
    cov = np.loadtxt(os.path.join(mock_folder(), "covariance.txt"))
    truth = np.loadtxt(os.path.join(mock_folder(), "bandpowers_noiseless.txt"))[:, 1]
    to_d = 1e12 * ell * (ell + 1) / (2 * math.pi)
    tri = np.asarray(sz.cl_yy_trispectrum(FIDUCIAL_COSMO, FIDUCIAL_PROFILE, ell,
                                          precision=sz.Precision(**TEST_PRECISION)))
    gauss = 2 * (truth + noise_d(ell)) ** 2 / ((2 * ell + 1) * n_ell * F_SKY)
    expected = np.diag(gauss) + tri * np.outer(to_d, to_d) / (4 * math.pi * F_SKY)
    np.testing.assert_allclose(cov, expected, rtol=1e-9, atol=0)


@pytest.mark.slow
def test_zero_likelihood_reason_is_logged_at_default_level(caplog):
    """An explicit q_max that reaches ell_max = 3000 at B = 1 but not at B = 0.6: those points
    have zero likelihood, and a WARNING (first 5 occurrences, then every 100th) names the
    profile table and the precision option; with q_max unset (sized automatically) they
    are finite."""
    precision = sz.make_precision(**dict(TEST_PRECISION, z_min=1e-5, ell_max=3000.0))
    z_min, m_max = precision.z_min, precision.m_max
    per_ell = float(sz.r500(m_max, z_min, FIDUCIAL_COSMO) / sz.angular_diameter_distance(z_min, FIDUCIAL_COSMO))
    # q needed at B = 1 is 3000.5 per_ell; at B = 0.6 it is (1/0.6)^(1/3) = 1.19 times more
    q_max = 1.05 * 3000.5 * per_ell
    params = {"B": {"prior": {"min": 0.5, "max": 2.0}}}
    theory = {"precision": dict(TEST_PRECISION, z_min=1e-5, q_max=q_max), "ell_max": 3000}
    with caplog.at_level(logging.INFO):
        model = get_model(simple_info(params=params, theory_options=theory))
        assert np.isfinite(model.loglike({"B": 1.25}, return_derived=False))
        for _ in range(7):
            assert model.loglike({"B": 0.6}, return_derived=False) == -np.inf
    messages = [r.getMessage() for r in caplog.records
                if r.levelno == logging.WARNING and "Zero likelihood" in r.getMessage()]
    assert len(messages) == 5  # rate-limited
    assert all("needs the profile transform" in m and "option 'precision'" in m for m in messages)
    assert "further ones are logged every 100th" in messages[-1]
    automatic = get_model(simple_info(params=params, theory_options={
        "precision": dict(TEST_PRECISION, z_min=1e-5), "ell_max": 3000}))
    assert np.isfinite(automatic.loglike({"B": 0.6}, return_derived=False))


def test_unphysical_parameter_reason_is_logged(caplog):
    params = {"sigma8": {"prior": {"min": -1, "max": 2}}}
    model = get_model(simple_info(params=params))
    with caplog.at_level(logging.INFO):
        assert model.loglike({"sigma8": -0.1}, return_derived=False) == -np.inf
    messages = [r.getMessage() for r in caplog.records if "Zero likelihood" in r.getMessage()]
    assert len(messages) == 1 and "sigma8 = " in messages[0] and "sigma8 > 0" in messages[0]
