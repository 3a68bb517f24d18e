"""The engine's 1-halo tSZ trispectrum against pyccl, and `cl_yy_covariance`.

Measured (default precision, ell 10 ... 2000): engine / pyccl - 1 within 3e-4 on and
off the diagonal, for both the direct Limber integral of pyccl's ingredients and
pyccl's own halomod_Tk3D_1h + angular_cl_cov_cNG pipeline. Required tolerance: 3%.
"""

import math

import jax
import numpy as np
import pytest

import cobaya_szlite as sz

ELL_T = np.array([10.0, 30.5, 117.0, 436.5, 959.5, 2000.0])
SMALL = sz.Precision(n_z=41, n_m=41, n_x=200, n_k=100)
TOL = 0.03


def _worst(ours, ref):
    ratio = ours / ref - 1
    return float(np.max(np.abs(np.diag(ratio)))), float(np.max(np.abs(ratio)))


@pytest.mark.slow
def test_trispectrum_matches_pyccl_direct(pyccl_ref, reference_cosmo):
    """Limber integral of pyccl's n(M), GNFW Fourier table and distances (B = 1.41)."""
    cosmo, prof = reference_cosmo, sz.ProfileParamsA10(B=1.41)
    ours = np.asarray(sz.cl_yy_trispectrum(cosmo, prof, ELL_T))
    diag, full = _worst(ours, pyccl_ref.cl_yy_trispectrum(cosmo, prof, ELL_T, nz=129, nm=129))
    assert diag < TOL and full < TOL, (diag, full)


@pytest.mark.slow
def test_trispectrum_matches_pyccl_native(pyccl_ref, massless_cosmo, profile):
    """pyccl's own 1-halo trispectrum (halomod_Tk3D_1h) projected by angular_cl_cov_cNG."""
    ours = np.asarray(sz.cl_yy_trispectrum(massless_cosmo, profile, ELL_T))
    diag, full = _worst(ours, pyccl_ref.cl_yy_trispectrum_pyccl_native(massless_cosmo, profile, ELL_T))
    assert diag < TOL and full < TOL, (diag, full)


@pytest.mark.slow
def test_trispectrum_symmetric_positive(cosmo, profile):
    t = np.asarray(sz.cl_yy_trispectrum(cosmo, profile, ELL_T, precision=SMALL))
    assert np.allclose(t, t.T, rtol=1e-12, atol=0)
    assert np.all(t > 0)


@pytest.mark.slow
def test_covariance_is_gaussian_plus_trispectrum(cosmo, profile):
    """Cov = diag 2 (C + N)^2 / ((2 ell + 1) delta_ell f_sky) + T / (4 pi f_sky)."""
    delta = np.array([2.0, 8.0, 30.0, 100.0, 150.0, 400.0])
    f_sky, noise = 0.47, 1e-16
    cl_1h, cl_2h = (np.asarray(c) for c in sz.cl_yy(cosmo, profile, ELL_T, precision=SMALL))
    tri = np.asarray(sz.cl_yy_trispectrum(cosmo, profile, ELL_T, precision=SMALL))
    gauss = np.diag(2 * (cl_1h + cl_2h + noise) ** 2 / ((2 * ELL_T + 1) * delta * f_sky))
    full = np.asarray(sz.cl_yy_covariance(cosmo, profile, ELL_T, delta, f_sky, precision=SMALL, noise_cl=noise))
    only_gauss = np.asarray(
        sz.cl_yy_covariance(cosmo, profile, ELL_T, delta, f_sky, precision=SMALL,
                            include_trispectrum=False, noise_cl=noise)
    )
    np.testing.assert_allclose(only_gauss, gauss, rtol=1e-12, atol=0)
    np.testing.assert_allclose(full - only_gauss, tri / (4 * math.pi * f_sky), rtol=1e-10, atol=0)


@pytest.mark.parametrize("field", ["sigma8", "B"])
@pytest.mark.slow
def test_covariance_gradient_matches_finite_differences(cosmo, profile, field):
    """d Cov / d field by jacfwd vs central differences (step 1e-4 relative): 1e-5 relative."""
    delta = np.full(ELL_T.size, 10.0)

    def cov(value):
        c = cosmo._replace(sigma8=value) if field == "sigma8" else cosmo
        p = profile._replace(B=value) if field == "B" else profile
        return sz.cl_yy_covariance(c, p, ELL_T, delta, 0.47, precision=SMALL)

    x0 = getattr(cosmo if field == "sigma8" else profile, field)
    exact = np.asarray(jax.jit(jax.jacfwd(cov))(x0))
    h = 1e-4 * x0
    numeric = (np.asarray(cov(x0 + h)) - np.asarray(cov(x0 - h))) / (2 * h)
    np.testing.assert_allclose(exact, numeric, rtol=1e-5, atol=1e-8 * np.max(np.abs(numeric)))


@pytest.mark.slow
def test_spectra_and_trispectrum_from_one_evaluation(cosmo, profile):
    """cl_yy_and_trispectrum equals cl_yy and cl_yy_trispectrum (same arithmetic, one
    evaluation of the ingredients), values and gradients: to 1e-12 and 1e-10, rounding. The
    trispectrum's gradient itself is checked against finite differences by
    test_covariance_gradient_matches_finite_differences."""
    one_halo, two_halo, tri = sz.cl_yy_and_trispectrum(cosmo, profile, ELL_T, SMALL)
    ref_1h, ref_2h = sz.cl_yy(cosmo, profile, ELL_T, SMALL)
    ref_tri = sz.cl_yy_trispectrum(cosmo, profile, ELL_T, SMALL)
    for ours, ref in [(one_halo, ref_1h), (two_halo, ref_2h), (tri, ref_tri)]:
        np.testing.assert_allclose(np.asarray(ours), np.asarray(ref), rtol=1e-12, atol=0)

    def summary(c, p, joint):
        if joint:
            a, b, t = sz.cl_yy_and_trispectrum(c, p, ELL_T, SMALL)
        else:
            (a, b), t = sz.cl_yy(c, p, ELL_T, SMALL), sz.cl_yy_trispectrum(c, p, ELL_T, SMALL)
        return jax.numpy.sum(jax.numpy.log(a + b)) + jax.numpy.sum(jax.numpy.log(t))

    gradient = jax.jit(jax.grad(summary, argnums=(0, 1)), static_argnums=2)
    ours, ref = gradient(cosmo, profile, True), gradient(cosmo, profile, False)
    for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(ref)):
        np.testing.assert_allclose(float(a), float(b), rtol=1e-10, atol=1e-14)
