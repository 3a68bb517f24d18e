"""Linear power spectrum and sigma(R) against pyccl (Eisenstein & Hu 1998 with wiggles)."""

import jax
import numpy as np
import pytest

import cobaya_szlite as sz


@pytest.mark.slow
def test_sigma8_normalisation(reference_cosmo):
    """sigma(8 h^-1 Mpc, z=0) = sigma8. The amplitude is fixed by a 1024-node rule and
    sigma_R uses the Precision.n_k-node rule that cl_yy runs for sigma(M): they agree to
    the accuracy of the n_k rule (measured 3.6e-6 at the default n_k = 200, 6e-9 at 1000)."""
    cosmo = reference_cosmo
    r8 = 8.0 / (cosmo.H0 / 100.0)
    assert abs(float(sz.sigma_R(r8, 0.0, cosmo)) / cosmo.sigma8 - 1) < 1e-5
    fine = sz.Precision(n_k=1000)
    assert abs(float(sz.sigma_R(r8, 0.0, cosmo, fine)) / cosmo.sigma8 - 1) < 2e-8


def test_transfer_function_limits(cosmo):
    """T(k) -> 1 on large scales and falls steeply on small scales."""
    t = np.asarray(sz.transfer_eh98(np.array([1e-5, 1.0, 10.0]), cosmo))
    assert abs(t[0] - 1) < 1e-4
    assert t[2] < t[1] < 0.1


def test_linear_power_matches_pyccl(pyccl_ref, reference_cosmo):
    """Same EH98 formula; 1e-3 covers pyccl's P(k) spline in k (measured: 1.2e-4)."""
    cosmo = reference_cosmo
    k = np.geomspace(1e-4, 20.0, 40)
    for z in (0.0, 1.0, 3.0):
        ratio = np.asarray(sz.linear_power(k, z, cosmo)) / pyccl_ref.linear_power(k, z, cosmo)
        i = np.argmax(np.abs(ratio - 1))
        assert np.all(np.abs(ratio - 1) < 1e-3), f"z={z}: worst ratio {ratio[i]:.6f} at k={k[i]:.3g}"


def test_sigma_R_matches_pyccl(pyccl_ref, reference_cosmo):
    """Required tolerance 0.3% on sigma(R) over the radii of 1e10..5e15 Msun halos."""
    cosmo = reference_cosmo
    R = np.geomspace(0.3, 40.0, 25)
    for z in (0.0, 0.5, 1.5, 3.0):
        ratio = np.asarray(sz.sigma_R(R, z, cosmo)) / pyccl_ref.sigma_R(R, z, cosmo)
        i = np.argmax(np.abs(ratio - 1))
        assert np.all(np.abs(ratio - 1) < 3e-3), f"z={z}: worst ratio {ratio[i]:.6f} at R={R[i]:.3g} Mpc"


@pytest.mark.slow
def test_sigma_slope_matches_finite_difference(cosmo):
    """dlnsigma_dlnR against a central difference of ln sigma in ln R (step 1e-4)."""
    R = np.array([0.5, 2.0, 8.0, 30.0])
    h = 1e-4
    fd = (np.log(sz.sigma_R(R * np.exp(h), 0.0, cosmo)) - np.log(sz.sigma_R(R * np.exp(-h), 0.0, cosmo))) / (2 * h)
    np.testing.assert_allclose(sz.dlnsigma_dlnR(R, cosmo), fd, rtol=1e-6)


@pytest.mark.slow
def test_sigma_gradient_in_R_and_cosmology(cosmo):
    """jax.grad of sigma(R) in R and in sigma8 (sigma is linear in sigma8)."""
    R = 5.0
    dR = float(jax.grad(lambda r: sz.sigma_R(r, 0.0, cosmo))(R))
    expected = float(sz.dlnsigma_dlnR(R, cosmo) * sz.sigma_R(R, 0.0, cosmo) / R)
    assert abs(dR / expected - 1) < 1e-10
    ds8 = float(jax.grad(lambda s8: sz.sigma_R(R, 0.0, cosmo._replace(sigma8=s8)))(cosmo.sigma8))
    assert abs(ds8 / float(sz.sigma_R(R, 0.0, cosmo) / cosmo.sigma8) - 1) < 1e-12
