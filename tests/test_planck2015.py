"""Planck2015TSZ on the Planck 2015 tSZ files.

The files are read from the folder named by the environment variable
COBAYA_SZLITE_PLANCK2015_DATA (.ci/run sets it); without it these tests are skipped.

The point of every chi^2 check: sigma8 = 0.78, A_CIB = 0.66, A_RS = 0.1, A_IR = 2.04,
the other parameters at the SZTheory.yaml defaults (B = 1.25), small test precision
with z_min = 1e-5.
"""

import functools
import math
import os
import pathlib

import numpy as np
import pytest
from cobaya.model import get_model

import cobaya_szlite as sz

from cobaya_fixtures import (
    PLANCK_FOLDER,
    TEST_PRECISION,
    THEORY,
    TRUTH,
    YAML_DIR,
    needs_planck_data,
    with_cosmology,
)

pytestmark = needs_planck_data
LIKE = "cobaya_szlite.Planck2015TSZ"
PRECISION = dict(TEST_PRECISION, z_min=1e-5)
POINT = {"sigma8": 0.78, "A_CIB": 0.66, "A_RS": 0.1, "A_IR": 2.04}
DATA = "class_sz_SZ_and_fg_models.txt"
REFERENCE = "soliket_tSZ_trispectrum_ref_total-planck-collab-15_step_1.txt"


def info(mode, **options):
    like = {"data_folder": PLANCK_FOLDER, "trispectrum": mode, "precision": dict(PRECISION)}
    like.update(options)
    return {
        "theory": {THEORY: {"precision": dict(PRECISION)}},
        "likelihood": {LIKE: like},
        "params": with_cosmology({
            "sigma8": {"prior": {"min": 0.5, "max": 1.1}, "ref": 0.78, "latex": r"\sigma_8"},
            "omega_cdm": {"prior": {"min": 0.08, "max": 0.2}, "ref": 0.12, "latex": r"\omega_c"},
        }),
    }


@functools.cache
def model(mode):
    return get_model(info(mode))


def numpy_loglike(mode, cl_sz, tll=None):
    """Independent ln L from the files: np.loadtxt, np.linalg.solve, slogdet."""
    table = np.loadtxt(os.path.join(PLANCK_FOLDER, DATA))
    ell, d, sigma, templates = table[:, 0], table[:, 1], table[:, 2], table[:, 3:7]
    model_d = np.interp(ell, cl_sz["ell"], cl_sz["1h"] + cl_sz["2h"])
    model_d = model_d + templates @ np.array([POINT["A_CIB"], POINT["A_RS"], POINT["A_IR"], 0.9033])
    cov = np.diag(sigma**2)
    if mode == "reference":
        cov = cov + np.loadtxt(os.path.join(PLANCK_FOLDER, REFERENCE)) / (4 * np.pi * 0.47)
    elif tll is not None:
        cov = cov + tll / (4 * np.pi * 0.47)
    r = d - model_d
    lnl = -0.5 * r @ np.linalg.solve(cov, r)
    if mode == "varying":
        lnl -= 0.5 * (np.linalg.slogdet(cov)[1] - np.sum(np.log(sigma**2)))
    return lnl


def engine_tll(point, ell):
    """Engine trispectrum in (D_ell x 1e12)^2 at the fiducial (the values of `info`'s fixed
    parameters) updated with ``point``."""
    values = dict(TRUTH)
    values.update({k: v for k, v in point.items() if k in values})
    cosmo = sz.CosmoParams(*(values[k] for k in ("omega_b", "omega_cdm", "H0", "n_s", "sigma8")))
    prof = sz.ProfileParamsA10(
        *(values[k] for k in ("P0GNFW", "c500", "gammaGNFW", "alphaGNFW", "betaGNFW", "alpha_p", "B"))
    )
    t = np.asarray(sz.cl_yy_trispectrum(cosmo, prof, ell, precision=sz.make_precision(**PRECISION)))
    to_d = 1e12 * ell * (ell + 1) / (2 * math.pi)
    return t * np.outer(to_d, to_d)


def test_loading_bins_and_parameters():
    m = model("reference")
    like = m.likelihood[LIKE]
    assert len(like.data.ell) == 18
    assert like.data.ell[0] == 10 and like.data.ell[-1] == 959.5
    assert list(like.data.templates) == ["A_CIB", "A_RS", "A_IR", "A_CN"]
    assert like.f_sky == 0.47
    params = m.parameterization
    assert params.constant_params()["A_CN"] == 0.9033
    for name in ("A_CIB", "A_RS", "A_IR"):
        assert name in params.sampled_params()
        assert m.prior.bounds()[list(params.sampled_params()).index(name)].tolist() == [0, 5]
        assert params.labels()[name].startswith("A_")


@pytest.mark.parametrize("mode", ["none", "reference", "fiducial", "varying"])
@pytest.mark.slow
def test_loglike_equals_numpy(mode):
    m = model(mode)
    point = dict(POINT, omega_cdm=0.12)
    lnl = float(m.loglikes(point)[0][0])
    provider = m.provider
    cl_sz = provider.get_Cl_sz()
    tll = None
    if mode == "fiducial":
        tll = engine_tll({}, m.likelihood[LIKE].data.ell)
    elif mode == "varying":
        tll = provider.get_Tll_sz()["Tll"]
        np.testing.assert_allclose(tll, engine_tll(point, cl_sz["ell"]), rtol=1e-10)
    assert lnl == pytest.approx(numpy_loglike(mode, cl_sz, tll), rel=1e-9, abs=1e-9)
    assert isinstance(m.likelihood[LIKE].logp(**{**point, "A_CN": 0.9033}), float)


def test_modes_differ_and_fiducial_point_is_stated():
    values = [float(model(mode).loglikes(dict(POINT, omega_cdm=0.12))[0][0])
              for mode in ("none", "reference", "fiducial")]
    assert len(set(values)) == 3
    like = model("fiducial").likelihood[LIKE]
    assert like.fiducial_point["B"] == 1.25 and like.fiducial_point["sigma8"] == 0.8102


@pytest.mark.slow
def test_varying_gradient_matches_finite_differences():
    """logp_gradient (Cl_sz_grad + dT/dparams + log-det terms) vs central differences."""
    m = get_model(info("varying"))
    like = m.likelihood[LIKE]
    m.add_requirements(like.get_gradient_requirements())
    point = dict(POINT, omega_cdm=0.125)
    m.loglikes(point)
    grad = like.logp_gradient(**m.parameterization.to_input(point))
    for name, step in (("sigma8", 1e-4), ("omega_cdm", 1e-5), ("A_CIB", 1e-4), ("A_IR", 1e-4)):
        up = float(m.loglikes(dict(point, **{name: point[name] + step}))[0][0])
        down = float(m.loglikes(dict(point, **{name: point[name] - step}))[0][0])
        numeric = (up - down) / (2 * step)
        assert grad[name] == pytest.approx(numeric, rel=1e-4, abs=1e-6), name


def test_reference_without_file_is_refused(tmp_path):
    from cobaya.log import LoggedError

    os.symlink(os.path.join(PLANCK_FOLDER, DATA), tmp_path / DATA)
    with pytest.raises(LoggedError, match="reference trispectrum file"):
        get_model(info("reference", data_folder=str(tmp_path)))
    get_model(info("none", data_folder=str(tmp_path)))


@pytest.mark.parametrize(
    "content, match",
    [(None, "not found"), ("10 0.005 0.006\n", "7 columns"), ("10 x 1 2 3 4 5\n", "non-numeric")],
)
def test_missing_or_malformed_data_file(tmp_path, content, match):
    from cobaya.log import LoggedError

    if content is not None:
        (tmp_path / DATA).write_text(content)
    with pytest.raises(LoggedError, match=match) as excinfo:
        get_model(info("none", data_folder=str(tmp_path)))
    assert DATA in str(excinfo.value) or DATA in str(excinfo.getrepr())


def test_bad_trispectrum_option():
    from cobaya.log import LoggedError

    with pytest.raises(LoggedError, match="trispectrum"):
        get_model(info("sometimes"))


def test_install_from_local_url(tmp_path, monkeypatch):
    """cobaya-install path, offline: copy from a file:// URL, then load without data_folder."""
    from cobaya.install import install

    from cobaya_szlite.planck2015 import SOURCE_ENV, Planck2015TSZ

    monkeypatch.setenv(SOURCE_ENV, "file://" + os.path.abspath(PLANCK_FOLDER) + "/")
    packages = tmp_path / "packages"
    assert not Planck2015TSZ.is_installed(path=str(packages))
    install({"likelihood": {LIKE: None}}, path=str(packages), no_progress_bars=True, no_set_global=True)
    assert Planck2015TSZ.is_installed(path=str(packages))
    folder = packages / "data" / "planck2015_tsz"
    for name in ("class_sz_SZ_and_fg_models.txt", REFERENCE):
        assert (folder / name).read_bytes() == pathlib.Path(PLANCK_FOLDER, name).read_bytes()
    spec = info("reference", data_folder=None)
    spec["packages_path"] = str(packages)
    lnl = float(get_model(spec).loglikes(dict(POINT, omega_cdm=0.12))[0][0])
    assert lnl == pytest.approx(float(model("reference").loglikes(dict(POINT, omega_cdm=0.12))[0][0]), rel=1e-12)


@pytest.mark.slow
def test_shipped_planck_yaml_runs_after_offline_install(tmp_path, monkeypatch):
    """yaml/planck2015_mcmc.yaml as shipped (data_folder: null, its own precision), after
    `cobaya-install` from the local source into a tmp packages path; only packages_path
    and output are overridden. ln L equals the independent numpy value."""
    from cobaya.install import install
    from cobaya.yaml import yaml_load_file

    from cobaya_szlite.planck2015 import SOURCE_ENV

    monkeypatch.setenv(SOURCE_ENV, PLANCK_FOLDER)
    shipped = yaml_load_file(os.path.join(YAML_DIR, "planck2015_mcmc.yaml"))
    assert shipped["likelihood"][LIKE]["data_folder"] is None
    packages = str(tmp_path / "packages")
    install(shipped, path=packages, no_progress_bars=True, no_set_global=True)
    spec = dict(shipped, packages_path=packages)
    spec.pop("output")
    spec.pop("sampler")
    m = get_model(spec)
    assert m.likelihood[LIKE].folder == os.path.realpath(os.path.join(packages, "data", "planck2015_tsz"))
    point = dict(POINT, omega_cdm=0.12, H0=68.0)
    lnl = float(m.loglikes(point)[0][0])
    cl_sz = m.provider.get_Cl_sz()
    tll = m.provider.get_Tll_sz()["Tll"]
    assert np.isfinite(lnl)
    assert lnl == pytest.approx(numpy_loglike("varying", cl_sz, tll), rel=1e-9, abs=1e-9)


@pytest.mark.slow
def test_fiducial_mode_names_the_precision_cause():
    """trispectrum: fiducial with an explicit q_max that reaches the last bin (ell = 959.5) at
    B = 1 but not at the fiducial B = 0.6: the error names the precision option (the setting
    to change), not an unphysical fiducial point."""
    from cobaya.log import LoggedError

    from cobaya_szlite.parameters import FIDUCIAL_COSMO

    z_min, m_max = 1e-5, sz.Precision().m_max
    per_ell = float(sz.r500(m_max, z_min, FIDUCIAL_COSMO) / sz.angular_diameter_distance(z_min, FIDUCIAL_COSMO))
    q_max = 1.05 * 960.0 * per_ell  # B = 0.6 needs (1/0.6)^(1/3) = 1.19 times more
    spec = info("fiducial", precision=dict(TEST_PRECISION, z_min=z_min, q_max=q_max))
    spec["likelihood"][LIKE]["fiducial"] = {"B": 0.6}
    with pytest.raises(LoggedError, match=r"needs the profile transform.*option 'precision'"):
        get_model(spec)


def test_varying_mode_refuses_a_different_likelihood_precision():
    """In varying mode the trispectrum comes from SZTheory: a likelihood `precision` that
    differs from the theory's is refused (it used to be ignored silently); equal or absent is fine."""
    from cobaya.log import LoggedError

    with pytest.raises(LoggedError, match=r"trispectrum: varying.*'precision'.*n_z"):
        get_model(info("varying", precision=dict(PRECISION, n_z=61)))
    get_model(info("varying", precision={}))
    assert model("varying").likelihood[LIKE].precision == PRECISION  # equal: accepted


@pytest.mark.parametrize("mode, words", [
    ("reference", ["diag(sigma^2)", "trispectrum", REFERENCE, "f_sky = 0.47"]),
    ("fiducial", ["diag(sigma^2)", "engine trispectrum at the fiducial point"]),
    ("varying", ["diag(sigma^2)", "SZTheory trispectrum (Tll_sz) at each point", "log-determinant"]),
    ("none", ["diag(sigma^2)"]),
])
def test_covariance_line_names_the_trispectrum_term(mode, words):
    text = model(mode).likelihood[LIKE].covariance_description
    assert all(word in text for word in words), text
    if mode == "none":
        assert "trispectrum" not in text


def test_non_positive_definite_covariance_is_reported(caplog, monkeypatch):
    """varying: a covariance that is not positive definite gives -inf and a WARNING saying so."""
    import logging

    m = model("varying")
    like = m.likelihood[LIKE]
    point = dict(POINT, omega_cdm=0.12)
    m.loglikes(point)
    n = len(like.data.ell)
    # a trispectrum that makes G + T/(4 pi f_sky) = -identity
    bad = -(like.data.cov + np.eye(n)) * 4 * np.pi * like.f_sky
    monkeypatch.setattr(like, "_trispectrum", lambda names=(): (bad, np.zeros((len(names), n, n))))
    with caplog.at_level(logging.INFO):
        assert like.logp(**{**point, "A_CN": 0.9033}) == -np.inf
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("not positive definite" in m and "smallest eigenvalue -1" in m for m in messages)



@pytest.mark.slow
def test_fiducial_trispectrum_uses_the_theory_halo_model():
    """trispectrum: fiducial with a theory running Tinker10: the fixed trispectrum is the
    theory's own model at the fiducial point (to 1e-12: one code path), not the default
    Tinker08 one (which differs by more than 1%)."""
    from cobaya_szlite.parameters import d_ell_trispectrum, fiducial_inputs, to_values

    spec = info("fiducial", fiducial={"B": 1.3})
    spec["theory"][THEORY]["mass_function"] = "tinker10"
    like = get_model(spec).likelihood[LIKE]
    theory_layout = like.provider.requirement_providers["Cl_sz"].layout
    assert theory_layout.model.mass_function == "tinker10"
    point = {**fiducial_inputs(theory_layout), "B": 1.3}
    assert like.fiducial_point == point
    precision = like._engine_precision()
    own = np.asarray(d_ell_trispectrum(to_values(point, theory_layout), like.data.ell, precision, theory_layout))
    np.testing.assert_allclose(like.tll_fiducial, own, rtol=1e-12)
    default = np.asarray(d_ell_trispectrum(to_values(point), like.data.ell, precision))
    assert np.max(np.abs(like.tll_fiducial / default - 1)) > 0.01


def test_fiducial_refuses_names_the_theory_does_not_take():
    """A fiducial name that is not an input of the run (ombh2 where the theory reads
    omega_b; a Battaglia input with the A10 profile) is refused by name."""
    from cobaya.log import LoggedError

    for name in ("ombh2", "P0_B12"):
        with pytest.raises(LoggedError, match=name):
            get_model(info("fiducial", fiducial={name: 1.0}))
