"""Background and growth with massive neutrinos and w0-wa dark energy against CAMB.

CAMB 2.0.5 at matched settings (tests/camb_reference.py). CAMB is in the `test` extra; the
module is skipped without it.
"""

import jax
import numpy as np
import pytest

import cobaya_szlite as sz
from cobaya_szlite.engine import background

camb = pytest.importorskip("camb")
from camb_reference import camb_params  # noqa: E402  (after the skip: it needs CAMB)

#: (m_nu [eV], massive species, w0, wa)
CASES = [
    (0.0, 1, -1.0, 0.0),
    (0.06, 1, -1.0, 0.0),
    (0.06, 3, -1.0, 0.0),
    (0.3, 1, -1.0, 0.0),
    (0.3, 3, -1.0, 0.0),
    (0.06, 1, -0.9, -0.3),
    (0.3, 3, -0.7, -0.8),
    (0.0, 1, -1.2, 0.5),
]
Z = np.array([0.01, 0.1, 0.5, 1.0, 2.0, 3.0, 5.0])
Z_GROWTH = [0.0, 0.5, 1.0, 2.0, 3.0]


def _cosmo(m_nu, n_massive, w0, wa, **kw):
    kind = sz.CosmoParams if n_massive == 1 else sz.CosmoParamsDegenerateNu
    base = dict(omega_b=0.0224, omega_cdm=0.12, H0=67.7, n_s=0.965)
    base.update(kw)
    return kind(m_nu=m_nu, w0=w0, wa=wa, **base)


@pytest.mark.parametrize("case", CASES, ids=[f"mnu{c[0]}x{c[1]}_w{c[2]}_{c[3]}" for c in CASES])
def test_background_matches_camb(case):
    """E(z), chi(z), d_A(z) within 1e-6 of CAMB (required 1e-4; measured <= 7.2e-9 for E,
    9.3e-10 for chi and d_A, at 0 < z <= 5: the neutrino momentum quadrature is good to
    2e-7 of a sub-percent component)."""
    cosmo = _cosmo(*case)
    params = camb_params(cosmo)
    ref = camb.get_background(params)
    checks = {
        "E": (sz.E_z(Z, cosmo), ref.hubble_parameter(Z) / cosmo.H0),
        "chi": (sz.comoving_distance(Z, cosmo), ref.comoving_radial_distance(Z)),
        "d_A": (sz.angular_diameter_distance(Z, cosmo), ref.angular_diameter_distance(Z)),
    }
    for name, (ours, theirs) in checks.items():
        ratio = np.asarray(ours) / theirs
        assert np.max(np.abs(ratio - 1)) < 1e-6, f"{name}: worst ratio {ratio[np.argmax(np.abs(ratio - 1))]:.9f}"
    # Omega_nu h^2 is the non-relativistic limit (linear in m_nu, 0 at m_nu = 0); CAMB's
    # omnuh2 is the full Fermi-Dirac density today, higher by the residual kinetic energy:
    # measured 5.1e-5 (1 x 0.06 eV), 4.6e-4 (3 x 0.02 eV), i.e. Omega_m h^2 within 2.1e-6
    # of CAMB's omegam h^2.
    h2 = (cosmo.H0 / 100.0) ** 2
    assert abs(float(background.omega_m(cosmo)) / (params.omegam * h2) - 1) < 5e-6
    if cosmo.m_nu > 0:
        assert abs(float(background.omega_nu(cosmo)) / params.omnuh2 - 1) < 1e-3


# (case, tolerance on D(z) / [sigma8_cb(z) / sigma8_cb(0)] - 1): the CDM + baryon growth
# with smooth neutrinos is exact on small scales; at 8 h^-1 Mpc the neutrinos of a heavy
# species cluster a little (measured: 7e-8 massless, 1.04e-4 at 1 x 0.06 eV, 2.0e-5 at
# 3 x 0.02 eV with w0-wa, 1.02e-3 at 3 x 0.1 eV, 3.5e-3 at 1 x 0.3 eV with w0-wa).
GROWTH_CASES = [
    ((0.0, 1, -1.0, 0.0), 1e-5),
    ((0.06, 1, -1.0, 0.0), 3e-4),
    ((0.06, 3, -0.7, -0.8), 3e-4),
    ((0.3, 3, -1.0, 0.0), 2e-3),
    ((0.3, 1, -0.9, -0.3), 5e-3),
]


@pytest.mark.slow
@pytest.mark.parametrize("case, tol", GROWTH_CASES, ids=[f"mnu{c[0][0]}x{c[0][1]}_w{c[0][2]}" for c in GROWTH_CASES])
def test_growth_matches_camb_cdm_baryons(case, tol):
    """growth_factor(z) against sigma8(z)/sigma8(0) of CAMB's delta_nonu (CDM + baryons)."""
    cosmo = _cosmo(*case)
    results = camb.get_results(camb_params(cosmo, transfer=True, redshifts=Z_GROWTH))
    s8 = results.get_sigmaR(8.0 / (cosmo.H0 / 100.0), var1="delta_nonu", var2="delta_nonu", hubble_units=False)
    s8 = np.asarray(s8)[::-1]  # CAMB orders the redshifts from the earliest
    ratio = np.asarray(sz.growth_factor(np.array(Z_GROWTH), cosmo)) / (s8 / s8[0])
    worst = np.max(np.abs(ratio - 1))
    assert worst < tol, f"worst ratio {ratio[np.argmax(np.abs(ratio - 1))]:.6f}"


def test_massless_neutrinos_do_not_depend_on_species_count():
    """m_nu = 0 in 1 or 3 'massive' species is the massless model (same radiation)."""
    z = np.array([0.5, 3.0, 100.0])
    one = sz.E_z(z, _cosmo(0.0, 1, -1.0, 0.0))
    three = sz.E_z(z, _cosmo(0.0, 3, -1.0, 0.0))
    np.testing.assert_allclose(one, three, rtol=1e-13)


def test_densities_today_close_the_budget():
    """E(0) = 1 exactly for every neutrino and dark-energy setting; Omega_cb(z) <= Omega_m(z)."""
    for case in CASES:
        cosmo = _cosmo(*case)
        assert abs(float(sz.E_z(0.0, cosmo)) - 1.0) < 1e-14
        assert float(background.Omega_cb_z(1.0, cosmo)) <= float(sz.Omega_m_z(1.0, cosmo))


@pytest.mark.slow
def test_growth_gradient_in_dark_energy_matches_finite_difference():
    """d D(z=1) / d(w0, wa, m_nu) by jax.grad against central differences (steps 1e-4)."""
    cosmo = _cosmo(0.1, 1, -0.9, -0.2)
    fields = ("w0", "wa", "m_nu")

    def growth(values):
        return sz.growth_factor(1.0, cosmo._replace(**dict(zip(fields, values))))

    x = np.array([cosmo.w0, cosmo.wa, cosmo.m_nu])
    grad = np.asarray(jax.grad(growth)(x))
    h = 1e-4
    for i, name in enumerate(fields):
        step = np.zeros(3)
        step[i] = h
        fd = (float(growth(x + step)) - float(growth(x - step))) / (2 * h)
        assert abs(grad[i] / fd - 1) < 1e-6, (name, grad[i], fd)
