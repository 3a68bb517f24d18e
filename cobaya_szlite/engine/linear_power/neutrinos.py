"""The CDM + baryon spectrum from the total-matter one: P_cb(k) = P_m(k) / R(k)^2 at z = 0.

R(k) = delta_m / delta_cb = f_cb + f_nu r(k), f_nu = omega_nu / omega_m, with the
neutrino-to-cb density ratio r = delta_nu / delta_cb = 1 / (1 + (k / k_nu)^1.3): the
neutrinos cluster like CDM above their free-streaming length (r -> 1, P_cb = P_m) and
not below it (r -> 0, P_cb = P_m (Omega_m / Omega_cb)^2). The scale is
k_nu = 0.2565 sqrt(Omega_m) (H0 / c) m / T_nu, i.e. 0.66 times the free-streaming wavenumber
sqrt(3/2 Omega_m) H0 / c_nu today with c_nu = <p> / m = 3.151 T_nu / m (m the mass of one
species, T_nu as in `background`); the exponent 1.3 and the factor 0.66 are fitted to
CAMB 2.0.5's delta_tot / delta_nonu at z = 0 (six cosmologies, m_nu = 0.06 ... 1 eV, one
or three massive species): |R / R_CAMB - 1| < 0.014 f_nu, i.e. P_cb within 8e-5 of CAMB's
for m_nu = 0.06 eV and 5e-4 for 0.3 eV over 1e-4 < k < 5 Mpc^-1 (docs/engine.md).
For m_nu = 0, R = 1.
"""

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..background import _nu_mass_over_temperature, h_of, omega_m, omega_nu
from ..constants import C_KM_S
from ..params import CosmoParams

__all__ = ["K_NU_COEFF", "R_EXPONENT", "matter_over_cb"]

K_NU_COEFF = 0.2565
"""k_nu / [sqrt(Omega_m) (H0/c) (m / T_nu)] (fitted to CAMB, see the module docstring)."""

R_EXPONENT = 1.3
"""Exponent of k / k_nu in delta_nu / delta_cb (fitted to CAMB)."""


def matter_over_cb(cosmo: CosmoParams, k: ArrayLike) -> jax.Array:
    """R(k) = delta_m / delta_cb at z = 0 (module docstring) [dimensionless].

    Parameters
    ----------
    cosmo : CosmoParams
    k : array_like
        Comoving wavenumbers [Mpc^-1].

    Returns
    -------
    Array of the shape of `k`; 1 for m_nu = 0, f_cb = omega_cb / omega_m for k >> k_nu.
    """
    w_m = omega_m(cosmo)
    f_nu = omega_nu(cosmo) / w_m
    k_nu = K_NU_COEFF * jnp.sqrt(w_m) / h_of(cosmo) * cosmo.H0 / C_KM_S * _nu_mass_over_temperature(cosmo)
    # r = k_nu^p / (k_nu^p + k^p): finite (0) at m_nu = 0 and smooth in m_nu.
    k_nu_p = jnp.abs(k_nu) ** R_EXPONENT
    r = k_nu_p / (k_nu_p + jnp.asarray(k) ** R_EXPONENT)
    return 1.0 - f_nu + f_nu * r
