"""Flat LCDM background: expansion rate, distances, volume, densities, linear growth.

Matter, photons, massless neutrinos (N_eff = 3.044) and a cosmological constant
closing the budget. Integrals over redshift use fixed Gauss-Legendre rules, so
every function is jit-safe and exactly differentiable in `z` and in `cosmo`.
"""

import jax.numpy as jnp
import numpy as np

from .constants import C_KM_S, OMEGA_R_H2, RHO_CRIT_100

_GL_X, _GL_W = np.polynomial.legendre.leggauss(48)


def h_of(cosmo):
    """Dimensionless Hubble constant h = H0 / (100 km s^-1 Mpc^-1)."""
    return cosmo.H0 / 100.0


def omega_m(cosmo):
    """Physical matter density Omega_m h^2 (baryons + CDM)."""
    return cosmo.omega_b + cosmo.omega_cdm


def density_fractions(cosmo):
    """Today's (Omega_m, Omega_r, Omega_Lambda) of the flat model."""
    h2 = h_of(cosmo) ** 2
    om = omega_m(cosmo) / h2
    orad = OMEGA_R_H2 / h2
    return om, orad, 1.0 - om - orad


def E_z(z, cosmo):
    """Dimensionless expansion rate E(z) = H(z) / H0.

    Parameters
    ----------
    z : array_like
        Redshift.
    cosmo : CosmoParams

    Returns
    -------
    Array of the shape of `z`.
    """
    om, orad, ol = density_fractions(cosmo)
    zp1 = 1.0 + jnp.asarray(z)
    return jnp.sqrt(om * zp1**3 + orad * zp1**4 + ol)


def Omega_m_z(z, cosmo):
    """Matter density parameter Omega_m(z) = Omega_m (1+z)^3 / E(z)^2."""
    om, _, _ = density_fractions(cosmo)
    zp1 = 1.0 + jnp.asarray(z)
    return om * zp1**3 / E_z(z, cosmo) ** 2


def comoving_distance(z, cosmo):
    """Line-of-sight comoving distance chi(z) = (c/H0) Int_0^z dz'/E(z') [Mpc].

    A 48-point Gauss-Legendre rule on [0, z] (relative error < 1e-12 for z < 10).
    """
    z = jnp.asarray(z, dtype=float)
    half = 0.5 * z[..., None]
    zz = half * (1.0 + _GL_X)
    integral = half[..., 0] * jnp.sum(_GL_W / E_z(zz, cosmo), axis=-1)
    return C_KM_S / cosmo.H0 * integral


def angular_diameter_distance(z, cosmo):
    """Angular-diameter distance d_A(z) = chi(z) / (1+z) [Mpc] (flat universe)."""
    return comoving_distance(z, cosmo) / (1.0 + jnp.asarray(z))


def dVdzdOmega(z, cosmo):
    """Comoving volume element dV/dz/dOmega = c chi^2 / H(z) [Mpc^3 sr^-1]."""
    chi = comoving_distance(z, cosmo)
    return C_KM_S / cosmo.H0 * chi**2 / E_z(z, cosmo)


def rho_crit(z, cosmo):
    """Critical density rho_crit(z) = 3 H(z)^2 / (8 pi G) [Msun Mpc^-3]."""
    return RHO_CRIT_100 * h_of(cosmo) ** 2 * E_z(z, cosmo) ** 2


def rho_m0(cosmo):
    """Comoving mean matter density rho_m,0 = Omega_m rho_crit,0 [Msun Mpc^-3]."""
    return RHO_CRIT_100 * omega_m(cosmo)


def _growth_integral(a, cosmo):
    """Int_0^a da' / (a' E(a'))^3 by Gauss-Legendre in t = (a'/a)^(1/2) (smooth integrand)."""
    a = jnp.asarray(a, dtype=float)
    t = 0.5 * (1.0 + _GL_X)
    ap = a[..., None] * t**2
    ae = ap * E_z(1.0 / ap - 1.0, cosmo)
    integrand = 2.0 * t * a[..., None] / ae**3
    return 0.5 * jnp.sum(_GL_W * integrand, axis=-1)


def growth_factor(z, cosmo):
    """Linear growth factor D(z), normalised to D(0) = 1.

    D(a) proportional to E(a) Int_0^a da'/(a'E(a'))^3 (Heath 1977), with the full
    E(a) including radiation; exact for matter + Lambda.
    """
    a = 1.0 / (1.0 + jnp.asarray(z, dtype=float))
    unnorm = E_z(z, cosmo) * _growth_integral(a, cosmo)
    norm = _growth_integral(jnp.ones(()), cosmo)
    return unnorm / norm
