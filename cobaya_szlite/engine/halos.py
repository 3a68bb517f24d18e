"""Halo mass definitions: M500c radius, Lagrangian radius and the mean-density overdensity.

Masses are true M500c [Msun]. The mass function and bias fits are evaluated at the
equivalent mean-density overdensity Delta_m(z) = 500 / Omega_m(z).
"""

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .background import Omega_m_z, rho_crit, rho_m0
from .params import CosmoParams

__all__ = ["delta_mean", "lagrangian_radius", "r500"]


@jax.jit
def delta_mean(z: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Overdensity of M500c relative to the mean matter density, 500 / Omega_m(z).

    Parameters
    ----------
    z, cosmo : as for `background.E_z`

    Returns
    -------
    delta_m : Array
        The shape of `z` [dimensionless].
    """
    return 500.0 / Omega_m_z(z, cosmo)


@jax.jit
def lagrangian_radius(M: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Comoving radius enclosing mass M at the mean matter density [Mpc].

    Parameters
    ----------
    M : array_like
        Mass [Msun].
    cosmo : CosmoParams

    Returns
    -------
    Array of the shape of `M`.
    """
    return (3.0 * jnp.asarray(M) / (4.0 * jnp.pi * rho_m0(cosmo))) ** (1.0 / 3.0)


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
