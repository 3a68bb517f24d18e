"""Tinker08 mass function and Tinker10 bias at M500c against pyccl; derivatives in M and z."""

import jax
import numpy as np
import pytest

import cobaya_szlite as sz

MASSES = np.geomspace(1e10, 5e15, 30)
REDSHIFTS = (0.01, 0.3, 1.0, 2.0, 3.0)


def _relevant(M, z, cosmo):
    """Halos that matter: sigma(M, z) > 0.25, i.e. less than ~nu = 7 peaks (rarer ones
    are exponentially suppressed, and there pyccl's sigma spline (1e-6) is amplified by
    d ln f / d ln sigma = 2c/sigma^2 beyond any fixed tolerance)."""
    R = sz.lagrangian_radius(M, cosmo)
    return np.asarray(sz.sigma_R(R, z, cosmo)) > 0.25


@pytest.mark.parametrize("ours, theirs", [(sz.tinker08_dndlnM, "dndlnM"), (sz.tinker10_bias, "bias")])
@pytest.mark.slow
def test_mass_function_and_bias_match_pyccl(pyccl_ref, reference_cosmo, ours, theirs):
    """Required tolerance 1% for both. The mass function uses the same linear interpolation
    of the Tinker table in log Delta as pyccl; for the bias we use delta_c = 1.686
    (cobaya_szlite/engine/constants.py DELTA_C), pyccl the exact EdS 1.68647: that alone moves b by < 0.1%."""
    cosmo = reference_cosmo
    for z in REDSHIFTS:
        keep = _relevant(MASSES, z, cosmo)
        ratio = np.asarray(ours(MASSES, z, cosmo)) / getattr(pyccl_ref, theirs)(MASSES, z, cosmo)
        worst = np.max(np.abs(ratio[keep] - 1))
        assert worst < 1e-2, f"{theirs}, z={z}: worst |ratio-1| {worst:.2e}"


def test_r500_matches_pyccl(pyccl_ref, massless_cosmo):
    for z in REDSHIFTS:
        ratio = np.asarray(sz.r500(MASSES, z, massless_cosmo)) / pyccl_ref.r500(MASSES, z, massless_cosmo)
        assert np.all(np.abs(ratio - 1) < 1e-6), f"z={z}: worst ratio {ratio[np.argmax(abs(ratio - 1))]}"


def test_delta_mean_is_500_over_omega_m(cosmo):
    h2 = (cosmo.H0 / 100) ** 2
    om = (cosmo.omega_b + cosmo.omega_cdm) / h2
    assert abs(float(sz.delta_mean(0.0, cosmo)) / (500.0 / om) - 1) < 1e-12


@pytest.mark.parametrize("arg", ["M", "z"])
@pytest.mark.slow
def test_mass_function_derivatives(cosmo, arg):
    """d(dn/dlnM)/dM and d/dz by jax.grad against central differences (relative step 1e-5)."""
    M0, z0 = 3e14, 0.4

    def f(M, z):
        return sz.tinker08_dndlnM(M, z, cosmo)

    argnum = 0 if arg == "M" else 1
    g = float(jax.grad(f, argnums=argnum)(M0, z0))
    x0 = (M0, z0)[argnum]
    h = 1e-5 * x0
    plus = list(x0 for x0 in (M0, z0))
    minus = list(plus)
    plus[argnum] += h
    minus[argnum] -= h
    fd = (float(f(*plus)) - float(f(*minus))) / (2 * h)
    assert abs(g / fd - 1) < 1e-6, (g, fd)


@pytest.mark.slow
def test_bias_vmap_over_mass(cosmo):
    batched = jax.vmap(lambda m: sz.tinker10_bias(m, 0.5, cosmo))(MASSES)
    np.testing.assert_allclose(batched, sz.tinker10_bias(MASSES, 0.5, cosmo), rtol=1e-12)


@pytest.mark.slow
def test_mass_function_normalisation(cosmo):
    """Tinker08 is normalised so that (almost) all mass is in halos: at z = 0 the integral
    of M dn/dlnM over 1e6..1e17 Msun is a large fraction of rho_m0 (Tinker08's f(sigma) at
    Delta_m is not exactly normalised; we check 0.5 < fraction < 1.05)."""
    M = np.geomspace(1e6, 1e17, 400)
    dn = np.asarray(sz.tinker08_dndlnM(M, 0.0, cosmo))
    rho_m0 = 2.77536627e11 * (cosmo.omega_b + cosmo.omega_cdm)
    frac = np.trapezoid(dn * M, np.log(M)) / rho_m0
    assert 0.5 < frac < 1.05, frac
