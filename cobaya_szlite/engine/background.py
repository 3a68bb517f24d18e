"""Flat LCDM background: expansion rate, distances, volume, densities, linear growth.

Matter, photons, massless neutrinos (N_eff = 3.044) and a cosmological constant
closing the budget. Integrals over redshift use fixed Gauss-Legendre rules, so
every function is jit-safe and exactly differentiable in `z` and in `cosmo`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .constants import C_KM_S, OMEGA_R_H2, RHO_CRIT_100

if TYPE_CHECKING:
    from .params import CosmoParams

__all__ = [
    "E_z",
    "Omega_m_z",
    "angular_diameter_distance",
    "comoving_distance",
    "dVdzdOmega",
    "density_fractions",
    "growth_factor",
    "h_of",
    "omega_m",
    "rho_crit",
    "rho_m0",
    "volume_from_distance",
]

_GL_X, _GL_W = np.polynomial.legendre.leggauss(48)


def h_of(cosmo: CosmoParams) -> ArrayLike:
    """Dimensionless Hubble constant h = H0 / (100 km s^-1 Mpc^-1).

    Parameters
    ----------
    cosmo : CosmoParams
        Cosmological parameters (every function of this module takes it).

    Returns
    -------
    h : float or Array
        Dimensionless.
    """
    return cosmo.H0 / 100.0


def omega_m(cosmo: CosmoParams) -> ArrayLike:
    """Physical matter density Omega_m h^2 (baryons + CDM).

    Parameters
    ----------
    cosmo : CosmoParams

    Returns
    -------
    omega_m : float or Array
        Dimensionless.
    """
    return cosmo.omega_b + cosmo.omega_cdm


def density_fractions(cosmo: CosmoParams) -> tuple:
    """Today's density parameters of the flat model.

    Parameters
    ----------
    cosmo : CosmoParams

    Returns
    -------
    (Omega_m, Omega_r, Omega_Lambda) : tuple
        Dimensionless; they sum to 1.
    """
    h2 = h_of(cosmo) ** 2
    om = omega_m(cosmo) / h2
    orad = OMEGA_R_H2 / h2
    return om, orad, 1.0 - om - orad


def _e_of_z(z, cosmo: CosmoParams, xp):
    """E(z) with array module `xp` (jax.numpy traced, numpy for static sizing)."""
    om, orad, ol = density_fractions(cosmo)
    zp1 = 1.0 + xp.asarray(z)
    return xp.sqrt(om * zp1**3 + orad * zp1**4 + ol)


def _chi_of_z(z, cosmo: CosmoParams, xp):
    """chi(z) [Mpc] by the 48-point Gauss-Legendre rule, with array module `xp`."""
    z = xp.asarray(z, dtype=float)
    half = 0.5 * z[..., None]
    zz = half * (1.0 + _GL_X)
    integral = half[..., 0] * xp.sum(_GL_W / _e_of_z(zz, cosmo, xp), axis=-1)
    return C_KM_S / cosmo.H0 * integral


@jax.jit
def E_z(z: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Dimensionless expansion rate E(z) = H(z) / H0.

    Parameters
    ----------
    z : array_like
        Redshift.
    cosmo : CosmoParams

    Returns
    -------
    E : Array
        The shape of `z` [dimensionless].
    """
    return _e_of_z(z, cosmo, jnp)


@jax.jit
def Omega_m_z(z: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Matter density parameter Omega_m(z) = Omega_m (1+z)^3 / E(z)^2.

    Parameters
    ----------
    z, cosmo : as for `E_z`

    Returns
    -------
    Omega_m_z : Array
        The shape of `z` [dimensionless].
    """
    om, _, _ = density_fractions(cosmo)
    zp1 = 1.0 + jnp.asarray(z)
    return om * zp1**3 / E_z(z, cosmo) ** 2


@jax.jit
def comoving_distance(z: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Line-of-sight comoving distance chi(z) = (c/H0) Int_0^z dz'/E(z') [Mpc].

    A 48-point Gauss-Legendre rule on [0, z] (relative error < 1e-12 for z < 10).

    Parameters
    ----------
    z, cosmo : as for `E_z`

    Returns
    -------
    chi : Array
        The shape of `z` [Mpc].
    """
    return _chi_of_z(z, cosmo, jnp)


@jax.jit
def angular_diameter_distance(z: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Angular-diameter distance d_A(z) = chi(z) / (1+z) [Mpc] (flat universe).

    Parameters
    ----------
    z, cosmo : as for `E_z`

    Returns
    -------
    d_A : Array
        The shape of `z` [Mpc].
    """
    return comoving_distance(z, cosmo) / (1.0 + jnp.asarray(z))


@jax.jit
def dVdzdOmega(z: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Comoving volume element dV/dz/dOmega = c chi^2 / H(z) [Mpc^3 sr^-1].

    Parameters
    ----------
    z, cosmo : as for `E_z`

    Returns
    -------
    dVdzdOmega : Array
        The shape of `z` [Mpc^3 sr^-1].
    """
    return volume_from_distance(z, comoving_distance(z, cosmo), cosmo)


def volume_from_distance(z: ArrayLike, chi: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """dV/dz/dOmega = c chi^2 / H(z) from an already computed chi(z) [Mpc^3 sr^-1].

    Parameters
    ----------
    z : array_like
        Redshift.
    chi : array_like
        Comoving distance at `z` [Mpc].
    cosmo : CosmoParams

    Returns
    -------
    dVdzdOmega : Array
        The broadcast shape of `z` and `chi` [Mpc^3 sr^-1].
    """
    return C_KM_S / cosmo.H0 * chi**2 / E_z(z, cosmo)


@jax.jit
def rho_crit(z: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Critical density rho_crit(z) = 3 H(z)^2 / (8 pi G) [Msun Mpc^-3].

    Parameters
    ----------
    z, cosmo : as for `E_z`

    Returns
    -------
    rho_crit : Array
        The shape of `z` [Msun Mpc^-3].
    """
    return RHO_CRIT_100 * h_of(cosmo) ** 2 * E_z(z, cosmo) ** 2


def rho_m0(cosmo: CosmoParams) -> ArrayLike:
    """Comoving mean matter density rho_m,0 = Omega_m rho_crit,0 [Msun Mpc^-3].

    Parameters
    ----------
    cosmo : CosmoParams

    Returns
    -------
    rho_m0 : float or Array
        [Msun Mpc^-3].
    """
    return RHO_CRIT_100 * omega_m(cosmo)


_GROWTH_LNA0 = np.log(1e-3)
_GROWTH_STEPS = 128
_GROWTH_DLNA = -_GROWTH_LNA0 / _GROWTH_STEPS


def _growth_matrix(ln_a, cosmo: CosmoParams):
    """A(ln a) of the linear growth system d/dln a (D, dD/dln a) = A (D, dD/dln a)."""
    om, orad, ol = density_fractions(cosmo)
    a = jnp.exp(ln_a)
    e2 = om * a**-3 + orad * a**-4 + ol
    dlne_dlna = -(3.0 * om * a**-3 + 4.0 * orad * a**-4) / (2.0 * e2)
    zero, one = jnp.zeros_like(a), jnp.ones_like(a)
    row0 = jnp.stack([zero, one], axis=-1)
    row1 = jnp.stack([1.5 * om * a**-3 / e2, -(2.0 + dlne_dlna)], axis=-1)
    return jnp.stack([row0, row1], axis=-2)


def _growth_table(cosmo: CosmoParams):
    """(D, dD/dln a) on the ln a nodes, unnormalised: RK4 from a = 1e-3.

    The system is linear, so each RK4 step is a 2x2 matrix, all built at once; a scan
    then applies them in turn (a tiny loop body: fast to compile and to differentiate).
    Initial conditions: the growing (Meszaros) mode
    D = 1 + 3y/2, y = a/a_eq, exact for matter + radiation; Lambda is < 1e-8 at a = 1e-3.
    """
    om, orad, _ = density_fractions(cosmo)
    h = _GROWTH_DLNA
    ln_a = _GROWTH_LNA0 + h * np.arange(_GROWTH_STEPS)
    a0, a_half, a1 = jnp.split(_growth_matrix(np.concatenate([ln_a, ln_a + 0.5 * h, ln_a + h]), cosmo), 3)
    eye = jnp.eye(2)
    k2 = a_half @ (eye + 0.5 * h * a0)
    k3 = a_half @ (eye + 0.5 * h * k2)
    k4 = a1 @ (eye + h * k3)
    steps = eye + h / 6.0 * (a0 + 2.0 * k2 + 2.0 * k3 + k4)
    y0 = np.exp(_GROWTH_LNA0) * om / orad
    state0 = jnp.stack([1.0 + 1.5 * y0, 1.5 * y0])

    def advance(state, step):
        state = step @ state
        return state, state

    _, states = jax.lax.scan(advance, state0, steps, unroll=4)
    return jnp.concatenate([state0[None, :], states], axis=0)


@jax.jit
def growth_factor(z: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Linear growth factor D(z) of clustering matter, normalised to D(0) = 1.

    Solves D'' + (2 + dln E/dln a) D' = 3/2 Omega_m(a) D (' = d/dln a) with the full
    E(a) (radiation included) by fixed-step RK4 from a = 1e-3, and reads it at `z`
    by cubic Hermite interpolation (relative error < 1e-6). Valid for z < 999.

    Parameters
    ----------
    z, cosmo : as for `E_z`

    Returns
    -------
    D : Array
        The shape of `z` [dimensionless].
    """
    table = _growth_table(cosmo)
    d, dd = table[:, 0], table[:, 1]
    ln_a = -jnp.log1p(jnp.asarray(z, dtype=float))
    t = jnp.clip((ln_a - _GROWTH_LNA0) / _GROWTH_DLNA, 0.0, _GROWTH_STEPS)
    i = jnp.minimum(jnp.floor(t), _GROWTH_STEPS - 1).astype(jnp.int32)
    f = t - i
    h00 = (1.0 + 2.0 * f) * (1.0 - f) ** 2
    h10 = f * (1.0 - f) ** 2
    h01 = f**2 * (3.0 - 2.0 * f)
    h11 = f**2 * (f - 1.0)
    h = _GROWTH_DLNA
    value = h00 * d[i] + h10 * h * dd[i] + h01 * d[i + 1] + h11 * h * dd[i + 1]
    return value / d[-1]
