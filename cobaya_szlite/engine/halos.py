"""Halo mass definitions: M500c radius, Lagrangian radius and the mean-density overdensity.

Masses are true spherical-overdensity masses [Msun] in one of `MASS_DEFINITIONS`:
"500c" (mean density 500 rho_crit(z), the default) or "200c" (200 rho_crit(z)), selected
by ``HaloModel.mass_definition``. The mass function and bias fits are evaluated at the
equivalent overdensity relative to the mean CDM + baryon density, Delta_m(z) =
Delta_c / Omega_cb(z), and Lagrangian radii enclose the mean CDM + baryon density rho_cb
(halos are made of CDM and baryons; Costanzi et al. 2013). For m_nu = 0 these are the
mean-matter-density definitions.
"""

from functools import partial

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .background import Omega_cb_z, rho_cb0, rho_crit
from .params import CosmoParams

__all__ = ["MASS_DEFINITIONS", "critical_overdensity", "delta_mean", "lagrangian_radius", "r500"]

#: Supported mass definitions (values of `HaloModel.mass_definition`) and their Delta_c.
MASS_DEFINITIONS: dict[str, float] = {"500c": 500.0, "200c": 200.0}


def critical_overdensity(mass_definition: str) -> float:
    """Delta_c of a mass definition: the mean density inside the halo is Delta_c rho_crit(z).

    Parameters
    ----------
    mass_definition : str
        A key of `MASS_DEFINITIONS` ("500c" or "200c").

    Returns
    -------
    float
        500.0 or 200.0 [dimensionless].

    Raises
    ------
    ValueError
        For any other `mass_definition`, naming the allowed ones.
    """
    try:
        return MASS_DEFINITIONS[mass_definition]
    except (KeyError, TypeError):
        raise ValueError(
            f"HaloModel.mass_definition = {mass_definition!r} is not supported; allowed: {sorted(MASS_DEFINITIONS)}"
        ) from None


@partial(jax.jit, static_argnames="mass_definition")
def delta_mean(z: ArrayLike, cosmo: CosmoParams, mass_definition: str = "500c") -> jax.Array:
    """Overdensity relative to the mean CDM + baryon density, Delta_c / Omega_cb(z).

    Parameters
    ----------
    z, cosmo : as for `background.E_z`
    mass_definition : str, optional
        Static: "500c" (default, Delta_c = 500) or "200c" (Delta_c = 200).

    Returns
    -------
    delta_m : Array
        The shape of `z` [dimensionless].
    """
    return critical_overdensity(mass_definition) / Omega_cb_z(z, cosmo)


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
