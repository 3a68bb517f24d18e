"""Tinker et al. (2010) linear halo bias b(nu): the "tinker10" bias.

b = 1 - A nu^a / (nu^a + delta_c^a) + B nu^b + C nu^c with nu = delta_c / sigma,
delta_c = 1.686 and the Delta-dependent A, a, C of Tinker et al. (2010), table 2.
Contract (see `cobaya_szlite.engine.mass_function`): `bias(ln_sigma, z, delta_m, cosmo)`.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ..constants import DELTA_C
from ..params import CosmoParams

__all__ = ["bias"]


def bias(ln_sigma: ArrayLike, z: ArrayLike, delta_m: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Tinker10 linear bias [dimensionless].

    Parameters
    ----------
    ln_sigma, z, delta_m, cosmo : as for `tinker08.multiplicity`
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
