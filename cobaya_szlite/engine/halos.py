"""Halo mass definitions, Tinker et al. (2008) mass function and Tinker et al. (2010) bias.

Masses are true M500c [Msun]. Both fits are evaluated at the equivalent mean-density
overdensity Delta_m(z) = 500 / Omega_m(z); the Tinker08 parameters are interpolated
linearly in log10 Delta_m between the published nodes.
"""

import jax
import jax.numpy as jnp
import numpy as np

from .background import Omega_m_z, rho_crit, rho_m0
from .constants import DELTA_C
from .linear_power import dlnsigma_dlnR, sigma_R

_T08_LOG10_DELTA = np.log10([200.0, 300.0, 400.0, 600.0, 800.0, 1200.0, 1600.0, 2400.0, 3200.0])
_T08_TABLE = np.array(
    [
        [0.186, 0.200, 0.212, 0.218, 0.248, 0.255, 0.260, 0.260, 0.260],  # A
        [1.47, 1.52, 1.56, 1.61, 1.87, 2.13, 2.30, 2.53, 2.66],  # a
        [2.57, 2.25, 2.05, 1.87, 1.59, 1.51, 1.46, 1.44, 1.41],  # b
        [1.19, 1.27, 1.34, 1.45, 1.58, 1.80, 1.97, 2.24, 2.44],  # c
    ]
)
_T08_SLOPES = np.diff(_T08_TABLE, axis=1) / np.diff(_T08_LOG10_DELTA)


def _tinker08_parameters(log_delta):
    """(A, a, b, c) at z = 0, linear in log10 Delta between the Tinker08 nodes.

    Written as a sum of clipped ramps (no search), constant beyond the end nodes.
    """
    x = jnp.asarray(log_delta)[..., None]
    ramps = jnp.clip(x - _T08_LOG10_DELTA[:-1], 0.0, np.diff(_T08_LOG10_DELTA))
    values = _T08_TABLE[:, 0] + ramps @ _T08_SLOPES.T
    return tuple(jnp.moveaxis(values, -1, 0))


@jax.jit
def delta_mean(z, cosmo):
    """Overdensity of M500c relative to the mean matter density, 500 / Omega_m(z)."""
    return 500.0 / Omega_m_z(z, cosmo)


@jax.jit
def lagrangian_radius(M, cosmo):
    """Comoving radius enclosing mass M at the mean matter density [Mpc]."""
    return (3.0 * jnp.asarray(M) / (4.0 * jnp.pi * rho_m0(cosmo))) ** (1.0 / 3.0)


@jax.jit
def r500(M, z, cosmo):
    """Physical radius within which the mean density is 500 rho_crit(z) [Mpc].

    Parameters
    ----------
    M : array_like
        M500c [Msun].
    z : array_like
        Redshift (broadcast against `M`).
    """
    return (3.0 * jnp.asarray(M) / (4.0 * jnp.pi * 500.0 * rho_crit(z, cosmo))) ** (1.0 / 3.0)


def tinker08_f_of_lnsigma(ln_sigma, z, cosmo):
    """Tinker08 multiplicity f(sigma) at Delta_m = 500/Omega_m(z), from ln sigma(M, z)."""
    zp1 = 1.0 + jnp.asarray(z)
    log_delta = jnp.log10(delta_mean(z, cosmo))
    amp0, a0, b0, c = _tinker08_parameters(log_delta)
    amp = amp0 * zp1**-0.14
    a = a0 * zp1**-0.06
    alpha = 10.0 ** (-((0.75 / (log_delta - np.log10(75.0))) ** 1.2))
    ln_b = jnp.log(b0) - alpha * jnp.log(zp1)
    return amp * (jnp.exp(a * (ln_b - ln_sigma)) + 1.0) * jnp.exp(-c * jnp.exp(-2.0 * ln_sigma))


def tinker10_bias_of_lnsigma(ln_sigma, z, cosmo):
    """Tinker10 linear bias at Delta_m = 500/Omega_m(z), from ln sigma(M, z)."""
    y = jnp.log10(delta_mean(z, cosmo))
    damp = jnp.exp(-((4.0 / y) ** 4))
    big_a = 1.0 + 0.24 * y * damp
    a = 0.44 * y - 0.88
    big_c = 0.019 + 0.107 * y + 0.19 * damp
    ln_nu = np.log(DELTA_C) - ln_sigma
    nu_a = jnp.exp(a * ln_nu)
    return (
        1.0
        - big_a * nu_a / (nu_a + DELTA_C**a)
        + 0.183 * jnp.exp(1.5 * ln_nu)
        + big_c * jnp.exp(2.4 * ln_nu)
    )


@jax.jit
def tinker08_dndlnM(M, z, cosmo):
    """Tinker08 halo mass function dn/dlnM at M500c [Mpc^-3] (comoving).

    Parameters
    ----------
    M : array_like
        M500c [Msun].
    z : array_like
        Redshift (broadcast against `M`).
    cosmo : CosmoParams

    dn/dlnM = f(sigma) rho_m0 / M |d ln sigma / d ln M|, with sigma at the Lagrangian radius of M.
    """
    M = jnp.asarray(M, dtype=float)
    R = lagrangian_radius(M, cosmo)
    ln_sigma = jnp.log(sigma_R(R, z, cosmo))
    slope = -dlnsigma_dlnR(R, cosmo) / 3.0
    return tinker08_f_of_lnsigma(ln_sigma, z, cosmo) * rho_m0(cosmo) / M * slope


@jax.jit
def tinker10_bias(M, z, cosmo):
    """Tinker10 linear halo bias at M500c [dimensionless] (delta_c = 1.686)."""
    R = lagrangian_radius(jnp.asarray(M, dtype=float), cosmo)
    return tinker10_bias_of_lnsigma(jnp.log(sigma_R(R, z, cosmo)), z, cosmo)
