"""Background quantities against pyccl, and their own consistency and differentiability."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cobaya_szlite as sz

Z = np.array([0.005, 0.1, 0.5, 1.0, 2.0, 3.0])


def _worst(ours, ref):
    ratio = np.asarray(ours) / np.asarray(ref)
    i = np.argmax(np.abs(ratio - 1))
    return ratio, f"worst ratio {ratio.flat[i]:.8f} at index {i}"


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (sz.E_z, "E_z"),
        (sz.comoving_distance, "comoving_distance"),
        (sz.angular_diameter_distance, "angular_diameter_distance"),
        (sz.dVdzdOmega, "dV_dz_dOmega"),
        (sz.rho_crit, "rho_crit"),
        (sz.growth_factor, "growth_factor"),
    ],
)
def test_background_matches_pyccl(pyccl_ref, reference_cosmo, ours, theirs):
    """Required tolerance 1e-4: pyccl splines E(a) and chi(a) to ~1e-7, same constants."""
    cosmo = reference_cosmo
    ratio, msg = _worst(ours(Z, cosmo), getattr(pyccl_ref, theirs)(Z, cosmo))
    assert np.all(np.abs(ratio - 1) < 1e-4), msg


def test_low_redshift_limits(cosmo):
    """chi -> c z / H0 and E -> 1 as z -> 0 (Hubble law)."""
    z = 1e-5
    assert abs(float(sz.comoving_distance(z, cosmo)) / (299792.458 * z / cosmo.H0) - 1) < 1e-4
    assert abs(float(sz.E_z(0.0, cosmo)) - 1) < 1e-12
    assert abs(float(sz.growth_factor(0.0, cosmo)) - 1) < 1e-12


def test_matter_era_growth(cosmo):
    """D(z) ~ a in matter domination: D(50)/D(100) = 101/51 to within radiation corrections."""
    ratio = float(sz.growth_factor(50.0, cosmo) / sz.growth_factor(100.0, cosmo))
    assert abs(ratio / (101.0 / 51.0) - 1) < 0.02


def test_distance_derivative_is_c_over_H(cosmo):
    """d chi / dz = c / H(z), exactly through jax.grad (the quadrature is differentiated)."""
    z = 0.7
    dchi = jax.grad(lambda zz: sz.comoving_distance(zz, cosmo))(z)
    expected = 299792.458 / (cosmo.H0 * float(sz.E_z(z, cosmo)))
    assert abs(float(dchi) / expected - 1) < 1e-10


@pytest.mark.slow
def test_growth_gradient_matches_finite_difference(cosmo):
    """d D(z=1) / d omega_cdm from jax.grad against a central difference (step 1e-5)."""
    f = lambda wc: sz.growth_factor(1.0, cosmo._replace(omega_cdm=wc))  # noqa: E731
    g = float(jax.grad(f)(cosmo.omega_cdm))
    h = 1e-5
    fd = (float(f(cosmo.omega_cdm + h)) - float(f(cosmo.omega_cdm - h))) / (2 * h)
    assert abs(g / fd - 1) < 1e-6, (g, fd)


def test_vmap_over_redshift(cosmo):
    z = jnp.linspace(0.1, 2.0, 5)
    batched = jax.vmap(lambda zz: sz.angular_diameter_distance(zz, cosmo))(z)
    np.testing.assert_allclose(batched, sz.angular_diameter_distance(z, cosmo), rtol=1e-13)
