"""A_s normalisation, the CDM + baryon spectrum, and exact gradients in logA, m_nu, w0, wa.

CAMB 2.0.5 references at matched settings (tests/camb_reference.py);
the CAMB tests are skipped where CAMB is not installed.
"""

import jax
import numpy as np
import pytest

import cobaya_szlite as sz
from cobaya_szlite.engine import background
from cobaya_szlite.engine.linear_power import (
    linear_power_backend,
    linear_power_cb,
    logA_of,
    power_cb_z0,
    sigma8_of,
)
from cobaya_szlite.engine.linear_power.neutrinos import matter_over_cb
from cobaya_szlite.engine.linear_power.sigma import normalised_power, sigma8_normalised


def _box_cosmologies(n: int = 24) -> list:
    """`n` cosmologies spread over a box around Planck 2018 (fixed seed), logA set."""
    rng = np.random.default_rng(10)
    out = []
    for i in range(n):
        u = rng.uniform(size=8)
        kind = sz.CosmoParams if i % 2 == 0 else sz.CosmoParamsDegenerateNu
        out.append(kind(
            omega_b=0.020 + 0.004 * u[0], omega_cdm=0.10 + 0.04 * u[1], H0=62.0 + 12.0 * u[2],
            n_s=0.93 + 0.06 * u[3], logA=2.9 + 0.3 * u[4], m_nu=[0.0, 0.06, 0.15, 0.3][i % 4],
            w0=-1.2 + 0.4 * u[5], wa=-0.5 + 0.8 * u[6] if i % 3 else 0.0,
        ))
    return out


BOX = _box_cosmologies()


def _camb():
    """camb and the matched-parameter helper (skips the test without CAMB)."""
    camb = pytest.importorskip("camb")
    from camb_reference import camb_params

    return camb, camb_params


@pytest.fixture(scope="module")
def camb_sigma8():
    camb, camb_params = _camb()
    return np.array([camb.get_results(camb_params(c, transfer=True, redshifts=[0.0])).get_sigma8_0() for c in BOX])


@pytest.mark.slow
def test_eh98_sigma8_of_As_matches_camb(camb_sigma8):
    """sigma8(A_s) of EH98 (Delta^2 = (4/25) A_s (k/k_p)^(n_s-1) (k/H0)^4 T^2 R^2 G0^2 / Omega_cb^2)
    against CAMB over 24 cosmologies (m_nu 0 ... 0.3 eV in 1 or 3 species, w0-wa): the
    accuracy of EH98's transfer function. Measured: ratio 1.0043 ... 1.0120 (worst 1.20%),
    median 1.0088. Tolerance 2%."""
    ours = np.array([float(sigma8_of(c)) for c in BOX])
    ratio = ours / camb_sigma8
    worst = np.max(np.abs(ratio - 1))
    assert worst < 0.02, f"worst ratio {ratio[np.argmax(np.abs(ratio - 1))]:.5f}; all {np.round(ratio, 4)}"


# (m_nu, species): measured max |R/R_CAMB - 1| over 1e-4 < k < 5 Mpc^-1: 0.0092, 0.0104, 0.0119 f_nu.
R_CASES = [(0.06, 1), (0.3, 3), (0.3, 1)]


@pytest.mark.slow
@pytest.mark.parametrize("m_nu, n_massive", R_CASES)
def test_cb_spectrum_matches_camb_delta_nonu(m_nu, n_massive):
    """P_m / P_cb = R(k)^2 against CAMB's delta_tot / delta_nonu at z = 0: |R/R_CAMB - 1| <
    0.02 f_nu (measured <= 0.0119 f_nu over these cases; P_cb within 8.3e-5 (0.06 eV) and
    5.3e-4 (0.3 eV) of CAMB's once both are at the same total P_m)."""
    camb, camb_params = _camb()
    kind = sz.CosmoParams if n_massive == 1 else sz.CosmoParamsDegenerateNu
    cosmo = kind(omega_b=0.0224, omega_cdm=0.12, H0=67.7, n_s=0.965, m_nu=m_nu)
    results = camb.get_results(camb_params(cosmo, transfer=True, redshifts=[0.0], kmax=10.0))
    k = np.geomspace(1e-4, 5.0, 120)
    spectra = {
        var: results.get_matter_power_interpolator(
            nonlinear=False, hubble_units=False, k_hunit=False, var1=var, var2=var).P(0.0, k)
        for var in ("delta_tot", "delta_nonu")
    }
    r_camb = np.sqrt(spectra["delta_tot"] / spectra["delta_nonu"])
    f_nu = float(background.omega_nu(cosmo) / background.omega_m(cosmo))
    err = np.abs(np.asarray(matter_over_cb(cosmo, k)) / r_camb - 1)
    assert np.max(err) < 0.02 * f_nu, f"max |R/R_CAMB - 1| = {np.max(err):.3e} = {np.max(err) / f_nu:.4f} f_nu"


@pytest.mark.slow
def test_sigma8_logA_round_trip(cosmo):
    """logA_of and sigma8_of are inverse; power_z0 from logA equals power_z0 from the implied sigma8."""
    log_a = float(logA_of(cosmo))
    as_logA = cosmo._replace(sigma8=None, logA=log_a)
    assert abs(float(sigma8_of(as_logA)) / cosmo.sigma8 - 1) < 1e-12
    k = np.geomspace(1e-3, 10.0, 30)
    backend = linear_power_backend(sz.HaloModel())
    np.testing.assert_allclose(backend.power_z0(as_logA, k), backend.power_z0(cosmo, k), rtol=1e-12)
    assert float(logA_of(as_logA)) == log_a


@pytest.mark.slow
def test_cb_spectrum_limits():
    """P_cb = P_m for m_nu = 0; with neutrinos P_cb/P_m -> 1 on large scales and
    (Omega_m/Omega_cb)^2 on small ones; sigma_R is that of CDM + baryons."""
    k = np.array([1e-5, 50.0])
    massless = sz.CosmoParams(m_nu=0.0)
    np.testing.assert_allclose(power_cb_z0(massless, k), sz.linear_power(k, 0.0, massless), rtol=1e-14)
    heavy = sz.CosmoParams(m_nu=0.3)
    ratio = np.asarray(linear_power_cb(k, 0.0, heavy) / sz.linear_power(k, 0.0, heavy))
    f_cb = float(background.omega_cb(heavy) / background.omega_m(heavy))
    assert abs(ratio[0] - 1) < 1e-3 and abs(ratio[1] * f_cb**2 - 1) < 1e-3, (ratio, f_cb)


def test_backend_without_As_relation_refuses_logA():
    """A shape-only backend without an A_s relation names the missing input."""
    cosmo = sz.CosmoParams(sigma8=None, logA=3.0)
    with pytest.raises(ValueError, match="sigma8"):
        sigma8_normalised(cosmo, lambda k: k, np.array([0.1]))
    with pytest.raises(ValueError, match="sigma8"):
        normalised_power(cosmo, lambda k: k, np.array([0.1]), None)


# ------------------------------------------------------------------ gradients through cl_yy

_FAST = sz.Precision(n_z=41, n_m=31, n_x=64, n_k=150)
_ELL = np.array([30.0, 300.0, 3000.0])
_POINT = sz.CosmoParams(sigma8=None, logA=3.05, m_nu=0.1, w0=-0.9, wa=-0.2)
_STEPS = {"logA": 1e-4, "m_nu": 1e-4, "w0": 1e-4, "wa": 1e-4}


def _cl_total(cosmo, profile):
    cl_1h, cl_2h = sz.cl_yy(cosmo, profile, _ELL, _FAST)
    return cl_1h + cl_2h


@pytest.fixture(scope="module")
def cl_total_jit():
    return jax.jit(_cl_total)


@pytest.fixture(scope="module")
def cl_total_jacobian():
    return jax.jit(jax.jacfwd(_cl_total))


@pytest.mark.slow
@pytest.mark.parametrize("field", sorted(_STEPS))
def test_cl_yy_gradient_matches_finite_difference(cl_total_jit, cl_total_jacobian, field):
    """d C_ell / d(logA, m_nu, w0, wa) by forward-mode AD against central differences
    (step 1e-4: truncation ~ (alpha h)^2 / 6 ~ 3e-8 for C ~ A_s^4; measured agreement < 1e-7). Tolerance 1e-6."""
    profile = sz.ProfileParamsA10()
    jac = np.asarray(getattr(cl_total_jacobian(_POINT, profile), field))
    h = _STEPS[field]
    value = getattr(_POINT, field)
    up = np.asarray(cl_total_jit(_POINT._replace(**{field: value + h}), profile))
    down = np.asarray(cl_total_jit(_POINT._replace(**{field: value - h}), profile))
    fd = (up - down) / (2 * h)
    np.testing.assert_allclose(jac, fd, rtol=1e-6, err_msg=field)


# ------------------------------------------------------------------------------ bad input

def test_both_amplitudes_refused():
    with pytest.raises(ValueError, match="sigma8 and logA"):
        sz.CosmoParams(sigma8=0.8, logA=3.0)


@pytest.mark.parametrize("field, value, allowed", [
    ("m_nu", -0.01, "0 <= m_nu < 5"),
    ("wa", 1.0, "w0 + wa < 0"),
    ("wa", 1.1, "w0 + wa < 0"),
    ("w0", 0.1, "-3 < w0 < 0"),
    ("logA", 12.0, "-10 < logA < 10"),
])
def test_bad_cosmology_named(field, value, allowed):
    cosmo = sz.CosmoParams(sigma8=None, logA=3.0)._replace(**{field: value})
    with pytest.raises(ValueError) as err:
        sz.validate(cosmo, sz.ProfileParamsA10())
    assert f"CosmoParams.{field}" in str(err.value) and allowed in str(err.value)


@pytest.mark.slow
def test_flatness_rule_counts_neutrinos():
    """H0 = 40: omega_cb + omega_r < h^2 = 0.16, but adding 4 eV of neutrinos (omega_nu = 0.043) closes it."""
    light = sz.CosmoParams(H0=40.0, m_nu=0.0)
    sz.validate(light, sz.ProfileParamsA10())
    with pytest.raises(ValueError, match="omega_nu"):
        sz.validate(light._replace(m_nu=4.0), sz.ProfileParamsA10())
    cl_1h, _ = sz.cl_yy(light._replace(m_nu=4.0), sz.ProfileParamsA10(), np.array([100.0]), _FAST)
    assert np.all(np.isnan(cl_1h))
