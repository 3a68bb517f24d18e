"""Arnaud et al. (2010) generalised NFW electron pressure: a self-similar profile.

P_e(r) = P500(M/B, z) h70^-3/2 p(r / r500(M/B, z)), with
p(x) = P0 (c500 x)^-gamma [1 + (c500 x)^alpha]^((gamma - beta)/alpha) and
P500 = 1.65 eV cm^-3 h70^2 E(z)^(8/3) [(M/B) / (3e14 h70^-1 Msun)]^(2/3 + alpha_p).
The profile of a halo of true mass M is evaluated at M/B (hydrostatic mass bias).

Self-similar profile contract (see `cobaya_szlite.engine.profiles`): `SELF_SIMILAR`,
`RULES`, `shape`, `scale_radius`, `prefactor_z`, `prefactor_m`. The redshift dependence
enters only through E(z) = H(z)/H0 (P500 and rho_crit(z) for r500), taken from the
`e_z` argument when the caller gives it (the background on the engine's z grid, possibly
tabulated by a Boltzmann code) and from `background.E_z` otherwise.
"""

import math

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..background import E_z, h_of, rho_crit
from ..constants import RHO_CRIT_100, Y_PER_EV_CM3_MPC
from ..params import CosmoParams

__all__ = [
    "MASS_DEFINITION",
    "P0_H_EXPONENT",
    "P500",
    "P500_NORM_EV_CM3",
    "RULES",
    "SELF_SIMILAR",
    "gnfw_shape",
    "prefactor_m",
    "prefactor_z",
    "scale_radius",
    "shape",
]

SELF_SIMILAR = True
"""y_ell = prefactor u(q) with one u(q) for every mass and redshift."""

MASS_DEFINITION = "500c"
"""Masses are true M500c [Msun]: the halo model must use the same definition."""

P0_H_EXPONENT = -1.5
"""P0 multiplies h70^P0_H_EXPONENT (X-ray calibrated normalisation, A10)."""

P500_NORM_EV_CM3 = 1.65
"""A10 normalisation of P500 [eV cm^-3] at h70 = 1, E = 1, M = 3e14 h70^-1 Msun."""

#: Allowed ranges of the `ProfileParamsA10` fields: (field, allowed, rule(profile, x_out)).
RULES = (
    ("P0", "P0 > 0", lambda p, x_out: p.P0 > 0),
    ("c500", "c500 > 0", lambda p, x_out: p.c500 > 0),
    ("alpha", "alpha > 0", lambda p, x_out: p.alpha > 0),
    ("gamma", "gamma < 3 (integrable centre)", lambda p, x_out: p.gamma < 3),
    ("beta", "beta > gamma", lambda p, x_out: p.beta > p.gamma),
    (
        "beta",
        "beta > 3 when x_out = inf (finite total pressure)",
        lambda p, x_out: (p.beta > 3) | (x_out < math.inf),
    ),
    ("alpha_p", "|alpha_p| < 1", lambda p, x_out: jnp.abs(p.alpha_p) < 1),
    ("B", "B > 0", lambda p, x_out: p.B > 0),
)


@jax.jit
def gnfw_shape(x: ArrayLike, profile) -> jax.Array:
    """Dimensionless GNFW shape p(x), x = r / r500 (without the h70^-3/2 factor).

    Parameters
    ----------
    x : array_like
        Radius in units of r500.
    profile : ProfileParamsA10

    Returns
    -------
    Array of the shape of `x`.
    """
    cx = profile.c500 * jnp.asarray(x)
    return profile.P0 * cx**-profile.gamma * (1.0 + cx**profile.alpha) ** (
        (profile.gamma - profile.beta) / profile.alpha
    )


shape = gnfw_shape
"""Contract name of the dimensionless shape p(x)."""


@jax.jit
def P500(M: ArrayLike, z: ArrayLike, cosmo: CosmoParams, profile) -> jax.Array:
    """A10 characteristic pressure P500 at mass M/B [eV cm^-3].

    Parameters
    ----------
    M : array_like
        True M500c [Msun]; the pressure is that of mass M / B.
    z : array_like
        Redshift (broadcast against `M`).
    cosmo : CosmoParams
    profile : ProfileParamsA10

    Returns
    -------
    Array of the broadcast shape.
    """
    h70 = h_of(cosmo) / 0.7
    m_scaled = jnp.asarray(M) / profile.B / (3e14 / h70)
    return (
        P500_NORM_EV_CM3 * h70**2 * E_z(z, cosmo) ** (8.0 / 3.0)
        * m_scaled ** (2.0 / 3.0 + profile.alpha_p)
    )


def _critical_density(z: ArrayLike, cosmo: CosmoParams, e_z: ArrayLike | None) -> jax.Array:
    """rho_crit(z) = RHO_CRIT_100 h^2 E(z)^2 [Msun Mpc^-3], E from `e_z` or from the background."""
    if e_z is None:
        return rho_crit(z, cosmo)
    return RHO_CRIT_100 * h_of(cosmo) ** 2 * jnp.asarray(e_z) ** 2


def scale_radius(M: ArrayLike, z: ArrayLike, cosmo: CosmoParams, profile,
                 e_z: ArrayLike | None = None) -> jax.Array:
    """r500 of mass M/B [Mpc] (proportional to M^(1/3) at fixed z, as the contract requires).

    Parameters
    ----------
    M : array_like
        True M500c [Msun].
    z : array_like
        Redshift.
    cosmo : CosmoParams
    profile : ProfileParamsA10
    e_z : array_like, optional
        E(z) = H(z)/H0 at `z` [dimensionless]; None: `background.E_z(z, cosmo)`.

    Returns
    -------
    Array of the broadcast shape.
    """
    m_b = jnp.asarray(M) / profile.B
    return (3.0 * m_b / (4.0 * jnp.pi * 500.0 * _critical_density(z, cosmo, e_z))) ** (1.0 / 3.0)


def prefactor_z(z: ArrayLike, cosmo: CosmoParams, d_a: ArrayLike, e_z: ArrayLike | None = None) -> jax.Array:
    """Redshift factor of the y_ell prefactor [sr Msun^-1].

    Parameters
    ----------
    z : array_like
        Redshift.
    cosmo : CosmoParams
    d_a : array_like
        Angular-diameter distance d_A(z) [Mpc].
    e_z : array_like, optional
        E(z) = H(z)/H0 at `z` [dimensionless]; None: `background.E_z(z, cosmo)`.

    Returns
    -------
    Array of the shape of `z`.
    """
    return _prefactor_z(z, cosmo, d_a, e_z, P0_H_EXPONENT)


def _prefactor_z(z: ArrayLike, cosmo: CosmoParams, d_a: ArrayLike, e_z: ArrayLike | None,
                 p0_h_exponent: float) -> jax.Array:
    """`prefactor_z` with P0 multiplied by h70^p0_h_exponent [sr Msun^-1]."""
    h70 = h_of(cosmo) / 0.7
    e = E_z(z, cosmo) if e_z is None else jnp.asarray(e_z)
    volume_per_mass = 3.0 / (500.0 * _critical_density(z, cosmo, e_z))
    return (
        Y_PER_EV_CM3_MPC * P500_NORM_EV_CM3 * h70 ** (2.0 + p0_h_exponent) * e ** (8.0 / 3.0)
        * volume_per_mass / d_a**2
    )


def prefactor_m(M: ArrayLike, cosmo: CosmoParams, profile) -> jax.Array:
    """Mass factor of the y_ell prefactor [Msun].

    (sigma_T/m_e c^2) 4 pi r500 / l500^2 P500 h70^-3/2 = prefactor_z prefactor_m [sr],
    using 4 pi r500^3 = 3 (M/B) / (500 rho_crit).

    Parameters
    ----------
    M : array_like
        True M500c [Msun].
    cosmo : CosmoParams
    profile : ProfileParamsA10

    Returns
    -------
    Array of the shape of `M`.
    """
    m_b = jnp.asarray(M) / profile.B
    return m_b * (m_b * h_of(cosmo) / 0.7 / 3e14) ** (2.0 / 3.0 + profile.alpha_p)
