"""Halo mass definitions: M500c radius, Lagrangian radius and the mean-density overdensity.

Masses are true M500c [Msun]. The mass function and bias fits are evaluated at the
equivalent overdensity relative to the mean CDM + baryon density, Delta_m(z) =
500 / Omega_cb(z), and Lagrangian radii enclose the mean CDM + baryon density rho_cb
(halos are made of CDM and baryons; Costanzi et al. 2013). For m_nu = 0 these are the
mean-matter-density definitions.
"""

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .background import Omega_cb_z, rho_cb0, rho_crit
from .params import CosmoParams

__all__ = ["delta_mean", "lagrangian_radius", "r500"]


@jax.jit
def delta_mean(z: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Overdensity of M500c relative to the mean CDM + baryon density, 500 / Omega_cb(z).

    Parameters
    ----------
    z, cosmo : as for `background.E_z`

    Returns
    -------
    delta_m : Array
        The shape of `z` [dimensionless].
    """
    return 500.0 / Omega_cb_z(z, cosmo)


@jax.jit
def lagrangian_radius(M: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Comoving radius enclosing mass M at the mean CDM + baryon density rho_cb,0 [Mpc].

    Parameters
    ----------
    M : array_like
        Mass [Msun].
    cosmo : CosmoParams

    Returns
    -------
    Array of the shape of `M`.
    """
    return (3.0 * jnp.asarray(M) / (4.0 * jnp.pi * rho_cb0(cosmo))) ** (1.0 / 3.0)


@jax.jit
def r500(M: ArrayLike, z: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Physical radius within which the mean density is 500 rho_crit(z) [Mpc].

    Parameters
    ----------
    M : array_like
        M500c [Msun].
    z : array_like
        Redshift (broadcast against `M`).
    cosmo : CosmoParams

    Returns
    -------
    Array of the broadcast shape.
    """
    return (3.0 * jnp.asarray(M) / (4.0 * jnp.pi * 500.0 * rho_crit(z, cosmo))) ** (1.0 / 3.0)
