"""Arnaud et al. (2010) GNFW electron-pressure profile and its Compton-y Fourier kernel.

P_e(r) = P500(M/B, z) h70^-3/2 p(r / r500(M/B, z)), with
p(x) = P0 (c500 x)^-gamma [1 + (c500 x)^alpha]^((gamma - beta)/alpha) and
P500 = 1.65 eV cm^-3 h70^2 E(z)^(8/3) [(M/B) / (3e14 h70^-1 Msun)]^(2/3 + alpha_p).
The profile of a halo of true mass M is evaluated at M/B (hydrostatic mass bias).
"""

from functools import lru_cache
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .background import E_z, angular_diameter_distance, h_of, rho_crit
from .constants import Y_PER_EV_CM3_MPC
from .halos import r500
from .precision import Precision, q_table
from .quadrature import lagrange4_interp, cubic_sinc_transform_weights

P500_NORM_EV_CM3 = 1.65
"""A10 normalisation of P500 [eV cm^-3] at h70 = 1, E = 1, M = 3e14 h70^-1 Msun."""

X_MIN = 1e-6
"""Smallest non-zero radial node of the profile transform [r500]."""

X_INF = 1e3
"""Upper radial limit used for an untruncated profile (x_out = inf) [r500];
the neglected tail is below 1e-6 of u(0) for beta > 4."""


@jax.jit
def gnfw_shape(x, profile):
    """Dimensionless GNFW shape p(x), x = r / r500 (without the h70^-3/2 factor)."""
    cx = profile.c500 * jnp.asarray(x)
    return profile.P0 * cx**-profile.gamma * (1.0 + cx**profile.alpha) ** (
        (profile.gamma - profile.beta) / profile.alpha
    )


@jax.jit
def P500(M, z, cosmo, profile):
    """A10 characteristic pressure P500 at mass M/B [eV cm^-3].

    Parameters
    ----------
    M : array_like
        True M500c [Msun]; the pressure is that of mass M / B.
    z : array_like
        Redshift (broadcast against `M`).
    """
    h70 = h_of(cosmo) / 0.7
    m_scaled = jnp.asarray(M) / profile.B / (3e14 / h70)
    return (
        P500_NORM_EV_CM3 * h70**2 * E_z(z, cosmo) ** (8.0 / 3.0)
        * m_scaled ** (2.0 / 3.0 + profile.alpha_p)
    )


class FourierTable(NamedTuple):
    """Static rule for u(q) on a log-spaced q grid: u = weights @ x^2 p(x)."""

    ln_q0: float
    dln_q: float
    x: np.ndarray
    weights: np.ndarray


def mass_step(precision):
    """Spacing of the ln M grid of `precision`."""
    return np.log(precision.m_max / precision.m_min) / (precision.n_m - 1)


@lru_cache(maxsize=16)
def fourier_table(precision):
    """Build the `FourierTable` of `precision` (NumPy, cached per Precision).

    The ln q spacing is one third of the ln M spacing, because q at fixed (ell, z)
    scales as r500 ~ M^(1/3): moving one mass node moves q by exactly one table row.
    """
    ln_q0, dln_q, n_q = q_table(precision)
    q = np.exp(ln_q0 + dln_q * np.arange(n_q))
    x_hi = X_INF if np.isinf(precision.x_out) else precision.x_out
    x = np.geomspace(X_MIN, x_hi, precision.n_x)
    return FourierTable(ln_q0, dln_q, x, cubic_sinc_transform_weights(q, x))


def fourier_on_table(profile, table):
    """u(q) = Int_0^x_out x^2 p(x) sin(qx)/(qx) dx at the nodes of `table`."""
    return table.weights @ (table.x**2 * gnfw_shape(table.x, profile))


@jax.jit
def profile_fourier(q, profile, precision=Precision()):
    """Dimensionless Fourier kernel u(q) = Int_0^x_out x^2 p(x) sin(qx)/(qx) dx.

    Parameters
    ----------
    q : array_like
        q = k r500 [dimensionless], within [precision.q_min, precision.q_max].
    profile : ProfileParamsA10
    precision : Precision
        Static: `x_out`, `n_x`, the q range and (through the ln q spacing) `n_m`.

    Computed on the static q table (exact sine-integral weights) and interpolated
    with 4-point Lagrange interpolation in ln q: relative error < 1e-3 up to q = 1e3 for
    x_out = inf. A truncated profile's transform oscillates with period 2 pi / x_out in q,
    resolved by the table up to q x_out ~ 10 (mass-integrated C_ell stay converged).
    """
    table = fourier_table(precision)
    u = fourier_on_table(profile, table)
    t = (jnp.log(jnp.asarray(q, dtype=float)) - table.ln_q0) / table.dln_q
    return lagrange4_interp(u, t.reshape(-1)).reshape(jnp.shape(q))


def y_prefactor_z(z, cosmo, d_a=None):
    """Redshift factor of `y_prefactor` [sr Msun^-1]; `d_a` optionally d_A(z) [Mpc]."""
    if d_a is None:
        d_a = angular_diameter_distance(z, cosmo)
    h70 = h_of(cosmo) / 0.7
    volume_per_mass = 3.0 / (500.0 * rho_crit(z, cosmo))
    return (
        Y_PER_EV_CM3_MPC * P500_NORM_EV_CM3 * h70**0.5 * E_z(z, cosmo) ** (8.0 / 3.0)
        * volume_per_mass / d_a**2
    )


def y_prefactor_m(M, cosmo, profile):
    """Mass factor of `y_prefactor` [Msun]."""
    m_b = jnp.asarray(M) / profile.B
    return m_b * (m_b * h_of(cosmo) / 0.7 / 3e14) ** (2.0 / 3.0 + profile.alpha_p)


def y_prefactor(M, z, cosmo, profile):
    """(sigma_T/m_e c^2) 4 pi r500 / l500^2 P500 h70^-3/2 [sr], so that y_ell = prefactor u(q).

    Separable: `y_prefactor_z(z) * y_prefactor_m(M)` (4 pi r500^3 = 3 (M/B) / (500 rho_crit)).
    """
    return y_prefactor_z(z, cosmo) * y_prefactor_m(M, cosmo, profile)


@jax.jit
def y_ell(ell, M, z, cosmo, profile, precision=Precision()):
    """Fourier-space Compton-y profile y_ell(M, z) of one halo [sr].

    Parameters
    ----------
    ell : array_like
        Multipole (broadcast against `M` and `z`).
    M : array_like
        True M500c [Msun].
    z : array_like
        Redshift.

    y_ell = (sigma_T/m_e c^2) (4 pi r500 / l500^2) P500 Int x^2 p(x) sin(qx)/(qx) dx,
    q = (ell + 1/2) / l500, l500 = d_A / r500, with r500 and P500 at M/B.
    """
    rad = r500(jnp.asarray(M) / profile.B, z, cosmo)
    q = (jnp.asarray(ell) + 0.5) * rad / angular_diameter_distance(z, cosmo)
    return y_prefactor(M, z, cosmo, profile) * profile_fourier(q, profile, precision)
