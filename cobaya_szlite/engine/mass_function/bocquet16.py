"""Bocquet et al. (2016) hydrodynamical mass function: the "bocquet16" multiplicity.

The Magneticum "Hydro" fits of Bocquet et al. (2016, MNRAS 456, 2361), table 2, for
M500c and M200c, in the Tinker form with power-law redshift evolution:

    f(sigma) = A [(sigma / b)^-a + 1] exp(-c / sigma^2) x M_Delta,c / M_200m,
    A = A0 (1+z)^A_z, a = a0 (1+z)^a_z, b = b0 (1+z)^b_z, c = c0 (1+z)^c_z,

where sigma is that of the M_Delta,c mass itself (Lagrangian radius at the mean density)
and the last factor, M_Delta,c / M_200m, comes from the paper's convention of writing the
critical-overdensity mass functions with rho_m / M_200m. It is the paper's fit in the
cosmology and redshift (appendix):

    M200c / M200m = gamma + delta ln(M200c / Msun),
        gamma = gamma0 + gamma1 exp(-((gamma2 - z) / gamma3)^2), delta = delta0 + delta1 z;
    M500c / M200m = alpha + beta ln(M500c / Msun),
        alpha = alpha0 (alpha1 z + alpha2) / (z + alpha2), beta as below,

with the coefficients functions of Omega_m(z) (`_conversion`; the 500c form has a pole at
z = -alpha2, reached only for Omega_m(z) > 0.69 at z < 0.11, far outside realistic cosmologies). This is exactly what
pyccl's ``MassFuncBocquet16(mass_def="500c" or "200c", hydro=True)`` evaluates (no
concentration-based conversion is involved). The engine works on the CDM + baryon field,
so Omega_m(z) is Omega_cb(z) = Delta_c / Delta_m here (identical for m_nu = 0). The fit
has no redshift cut (calibrated to z ~ 2; used as is beyond). The bias it goes with is
Tinker et al. (2010) ("tinker10"), as in the paper's cluster-cosmology use and in pyccl.
Contract: see `cobaya_szlite.engine.mass_function`.
"""

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..halos import critical_overdensity
from ..params import CosmoParams

__all__ = ["HYDRO_PARAMETERS", "mass_ratio_to_200m", "multiplicity"]

#: (A0, a0, b0, c0, A_z, a_z, b_z, c_z) of the Hydro fits, by mass definition.
HYDRO_PARAMETERS: dict[str, tuple[float, ...]] = {
    "200c": (0.202, 2.21, 2.00, 1.57, 1.147, 0.375, -1.074, -0.196),
    "500c": (0.180, 2.29, 2.44, 1.97, 1.088, 0.150, -1.008, -0.322),
}


def _parameters(mass_definition: str) -> tuple[float, ...]:
    critical_overdensity(mass_definition)
    try:
        return HYDRO_PARAMETERS[mass_definition]
    except KeyError:
        raise ValueError(
            f"HaloModel.mass_function = 'bocquet16' has no fit at HaloModel.mass_definition = "
            f"{mass_definition!r}; allowed: {sorted(HYDRO_PARAMETERS)}"
        ) from None


def _conversion(z: jax.Array, omega: jax.Array, mass_definition: str) -> tuple[jax.Array, jax.Array]:
    """(intercept, slope) of M_Delta,c / M_200m = intercept + slope ln(M / Msun)."""
    if mass_definition == "200c":
        gamma = 3.54e-2 + omega**0.09 + (4.56e-2 + 2.68e-2 / omega) * jnp.exp(
            -(((0.721 + 3.50e-2 / omega) - z) / (0.628 + 0.164 / omega)) ** 2
        )
        delta = -1.67e-2 + 2.18e-2 * omega + (6.52e-3 - 6.86e-3 * omega) * z
        return gamma, delta
    alpha2 = -0.365 + 0.254 / omega
    alpha = (0.880 + 0.329 * omega) * ((1.00 + 4.31e-2 / omega) * z + alpha2) / (z + alpha2)
    beta = -1.7e-2 + 3.74e-3 * omega
    return alpha, beta


def mass_ratio_to_200m(ln_mass: ArrayLike, z: ArrayLike, delta_m: ArrayLike, mass_definition: str) -> jax.Array:
    """Bocquet et al. (2016) fit of M_Delta,c / M_200m [dimensionless].

    Parameters
    ----------
    ln_mass : array_like
        ln(M_Delta,c / Msun).
    z : array_like
        Redshift.
    delta_m : array_like
        Delta_c / Omega_cb(z) (gives Omega_cb(z)).
    mass_definition : str
        Static: "500c" or "200c".

    Returns
    -------
    Array of the broadcast shape.
    """
    omega = critical_overdensity(mass_definition) / jnp.asarray(delta_m)
    intercept, slope = _conversion(jnp.asarray(z), omega, mass_definition)
    return intercept + slope * jnp.asarray(ln_mass)


def multiplicity(ln_sigma: ArrayLike, z: ArrayLike, delta_m: ArrayLike, cosmo: CosmoParams,
                 ln_mass: ArrayLike, mass_definition: str) -> jax.Array:
    """Bocquet16 Hydro f(sigma) at `mass_definition` [dimensionless] (module docstring).

    Parameters
    ----------
    ln_sigma : Array
        ln sigma(M, z).
    z : Array
        Redshift (broadcast against `ln_sigma`).
    delta_m : Array
        Delta_c / Omega_cb(z) (broadcast like `z`); gives Omega_cb(z) for the conversion.
    cosmo : CosmoParams
        Unused (the cosmology enters through sigma and `delta_m`).
    ln_mass : Array
        ln(M / Msun) in `mass_definition` (broadcast against `ln_sigma`).
    mass_definition : str
        Static: "500c" or "200c" (ValueError otherwise).

    Returns
    -------
    Array of the broadcast shape.
    """
    amp0, a0, b0, c0, amp_z, a_z, b_z, c_z = _parameters(mass_definition)
    ln_zp1 = jnp.log1p(jnp.asarray(z))
    amp = amp0 * jnp.exp(amp_z * ln_zp1)
    a = a0 * jnp.exp(a_z * ln_zp1)
    ln_b = jnp.log(b0) + b_z * ln_zp1
    c = c0 * jnp.exp(c_z * ln_zp1)
    shape = amp * (jnp.exp(a * (ln_b - ln_sigma)) + 1.0) * jnp.exp(-c * jnp.exp(-2.0 * ln_sigma))
    return shape * mass_ratio_to_200m(ln_mass, z, delta_m, mass_definition)
