"""Tinker et al. (2008) multiplicity function f(sigma): the "tinker08" mass function.

f(sigma) = A [(sigma/b)^-a + 1] exp(-c / sigma^2), with (A, a, b, c) interpolated
linearly in log10 Delta_m between the published nodes (Delta_m = 200 ... 3200, constant
beyond) and evolved as A (1+z)^-0.14, a (1+z)^-0.06, b (1+z)^-alpha(Delta_m).
Universal in Delta_m, so valid for every mass definition (Delta_m = Delta_c / Omega_cb(z)).
Contract (see `cobaya_szlite.engine.mass_function`):
`multiplicity(ln_sigma, z, delta_m, cosmo, ln_mass, mass_definition)`.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ..params import CosmoParams

__all__ = ["linear_in_log_delta", "multiplicity"]

_T08_LOG10_DELTA = np.log10([200.0, 300.0, 400.0, 600.0, 800.0, 1200.0, 1600.0, 2400.0, 3200.0])
_T08_TABLE = np.array(
    [
        [0.186, 0.200, 0.212, 0.218, 0.248, 0.255, 0.260, 0.260, 0.260],  # A
        [1.47, 1.52, 1.56, 1.61, 1.87, 2.13, 2.30, 2.53, 2.66],  # a
        [2.57, 2.25, 2.05, 1.87, 1.59, 1.51, 1.46, 1.44, 1.41],  # b
        [1.19, 1.27, 1.34, 1.45, 1.58, 1.80, 1.97, 2.24, 2.44],  # c
    ]
)


def linear_in_log_delta(log_delta: ArrayLike, table: np.ndarray) -> tuple[jax.Array, ...]:
    """Rows of `table` (one column per Tinker node Delta = 200 ... 3200), linear in log10 Delta.

    Written as a sum of clipped ramps (no search), constant beyond the end nodes; shared
    with Tinker et al. (2010), whose table has the same nodes.

    Parameters
    ----------
    log_delta : array_like
        log10 Delta_m.
    table : ndarray, shape (n_rows, 9)

    Returns
    -------
    tuple of n_rows Arrays of the shape of `log_delta`.
    """
    x = jnp.asarray(log_delta)[..., None]
    ramps = jnp.clip(x - _T08_LOG10_DELTA[:-1], 0.0, np.diff(_T08_LOG10_DELTA))
    slopes = np.diff(table, axis=1) / np.diff(_T08_LOG10_DELTA)
    values = table[:, 0] + ramps @ slopes.T
    return tuple(jnp.moveaxis(values, -1, 0))


def multiplicity(ln_sigma: ArrayLike, z: ArrayLike, delta_m: ArrayLike, cosmo: CosmoParams,
                 ln_mass: ArrayLike | None = None, mass_definition: str = "500c") -> jax.Array:
    """Tinker08 f(sigma) [dimensionless].

    Parameters
    ----------
    ln_sigma : Array
        ln sigma(M, z).
    z : Array
        Redshift (broadcast against `ln_sigma`).
    delta_m : Array
        Overdensity relative to the mean matter density (broadcast like `z`).
    cosmo : CosmoParams
        Unused (the fit is universal in sigma).
    ln_mass, mass_definition : optional
        Unused (the fit depends on the definition through `delta_m` only).

    Returns
    -------
    Array of the broadcast shape.
    """
    zp1 = 1.0 + jnp.asarray(z)
    log_delta = jnp.log10(delta_m)
    amp0, a0, b0, c = linear_in_log_delta(log_delta, _T08_TABLE)
    amp = amp0 * zp1**-0.14
    a = a0 * zp1**-0.06
    alpha = 10.0 ** (-((0.75 / (log_delta - np.log10(75.0))) ** 1.2))
    ln_b = jnp.log(b0) - alpha * jnp.log(zp1)
    return amp * (jnp.exp(a * (ln_b - ln_sigma)) + 1.0) * jnp.exp(-c * jnp.exp(-2.0 * ln_sigma))
