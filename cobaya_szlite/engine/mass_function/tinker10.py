"""Tinker et al. (2010): the "tinker10" multiplicity function and the "tinker10" linear bias.

Multiplicity (Tinker et al. 2010, eqs. 8 and 9 and table 4), with nu = delta_c / sigma and
delta_c = 1.686:

    f(sigma) = nu alpha [1 + (beta nu)^(-2 phi)] nu^(2 eta) exp(-gamma nu^2 / 2),
    beta = beta0 (1+z)^0.20, phi = phi0 (1+z)^-0.08, eta = eta0 (1+z)^0.27,
    gamma = gamma0 (1+z)^-0.01,

with (alpha, beta0, gamma0, phi0, eta0) linear in log10 Delta_m between the nine table
nodes Delta_m = 200 ... 3200 (constant beyond) and the redshift evolution frozen at
z = 3, the highest redshift it was calibrated at. alpha is the table's normalisation,
which makes the mass function and the Tinker10 bias together put all matter in halos
at z = 0 (int f(nu) dnu = int b(nu) f(nu) dnu = 1); it is not renormalised at z > 0
(pyccl's default, ``norm_all_z=False``).

Bias (Tinker et al. 2010, eq. 6 and table 2): b = 1 - A nu^a / (nu^a + delta_c^a) +
B nu^b + C nu^c with delta_c = 1.686 and the Delta-dependent A, a, C.

Both are universal in Delta_m = Delta_c / Omega_cb(z), hence valid at every mass
definition. Contracts: see `cobaya_szlite.engine.mass_function`.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ..constants import DELTA_C
from ..params import CosmoParams
from .tinker08 import linear_in_log_delta

__all__ = ["Z_EVOLUTION_MAX", "bias", "multiplicity"]

#: Redshift beyond which the Tinker10 multiplicity parameters stop evolving.
Z_EVOLUTION_MAX = 3.0

# Tinker et al. (2010) table 4, at Delta_m = 200, 300, 400, 600, 800, 1200, 1600, 2400, 3200.
_T10_TABLE = np.array(
    [
        [0.368, 0.363, 0.385, 0.389, 0.393, 0.365, 0.379, 0.355, 0.327],  # alpha
        [0.589, 0.585, 0.544, 0.543, 0.564, 0.623, 0.637, 0.673, 0.702],  # beta0
        [0.864, 0.922, 0.987, 1.09, 1.20, 1.34, 1.50, 1.68, 1.81],  # gamma0
        [-0.729, -0.789, -0.910, -1.05, -1.20, -1.26, -1.45, -1.50, -1.49],  # phi0
        [-0.243, -0.261, -0.261, -0.273, -0.278, -0.301, -0.301, -0.319, -0.336],  # eta0
    ]
)


def multiplicity(ln_sigma: ArrayLike, z: ArrayLike, delta_m: ArrayLike, cosmo: CosmoParams,
                 ln_mass: ArrayLike | None = None, mass_definition: str = "500c") -> jax.Array:
    """Tinker10 f(sigma) = nu f_T10(nu) [dimensionless] (module docstring).

    Parameters
    ----------
    ln_sigma : Array
        ln sigma(M, z).
    z : Array
        Redshift (broadcast against `ln_sigma`).
    delta_m : Array
        Overdensity relative to the mean CDM + baryon density (broadcast like `z`).
    cosmo : CosmoParams
        Unused (universal in sigma).
    ln_mass, mass_definition : optional
        Unused (the definition enters through `delta_m` only).

    Returns
    -------
    Array of the broadcast shape.
    """
    zp1 = 1.0 + jnp.minimum(jnp.asarray(z), Z_EVOLUTION_MAX)
    ln_zp1 = jnp.log(zp1)
    alpha, beta0, gamma0, phi0, eta0 = linear_in_log_delta(jnp.log10(delta_m), _T10_TABLE)
    ln_nu = np.log(DELTA_C) - ln_sigma
    ln_beta = jnp.log(beta0) + 0.20 * ln_zp1
    phi = phi0 * jnp.exp(-0.08 * ln_zp1)
    eta = eta0 * jnp.exp(0.27 * ln_zp1)
    gamma = gamma0 * jnp.exp(-0.01 * ln_zp1)
    return (
        alpha
        * (1.0 + jnp.exp(-2.0 * phi * (ln_beta + ln_nu)))
        * jnp.exp((1.0 + 2.0 * eta) * ln_nu - 0.5 * gamma * jnp.exp(2.0 * ln_nu))
    )


def bias(ln_sigma: ArrayLike, z: ArrayLike, delta_m: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Tinker10 linear bias [dimensionless].

    Parameters
    ----------
    ln_sigma, z, delta_m, cosmo : as for `multiplicity`
        `z` and `cosmo` are unused: the fit depends on z through sigma and Delta_m only.

    Returns
    -------
    b : Array
        The broadcast shape of the arguments [dimensionless].
    """
    y = jnp.log10(delta_m)
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
