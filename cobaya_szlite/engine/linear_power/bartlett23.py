"""Bartlett et al. (2023) symbolic linear power spectrum: the "bartlett23" backend.

Bartlett, Kammerer, Kronberger et al. 2024, A&A 686, A209 (arXiv:2311.15865), "A precise
symbolic emulator of the linear matter power spectrum", their fiducial expression and
fitted constants (as in the authors' MIT-licensed ``symbolic_pofk`` package). The flat
LCDM (massless neutrino) linear power at z = 0 is

    P(k) = A k^n_s T_zb(k)^2 F(k / h),

with T_zb the Eisenstein & Hu (1998) zero-baryon ("no-wiggle") transfer
function and ln F a fitted function of (k / [h Mpc^-1], Omega_m, Omega_b, h) that puts the
baryon acoustic oscillations and the residual shape back; the paper quotes 0.2% rms
against CAMB for 9e-3 < k < 9 h Mpc^-1 over its training box of cosmologies. The
amplitude A is fixed here, exactly as in the "eh98" backend, by sigma(8 h^-1 Mpc, z=0) =
sigma8 with a 1024-node rule in ln k over [1e-5, 1e3] Mpc^-1 (top-hat window), so the
backend supplies the shape and sigma8 is the engine's.

Outside 9e-3 <= k / (h Mpc^-1) <= 9 the fit was not trained and its terms are not meant
to be extrapolated. This backend holds the correction at its boundary value:
F(k / h) = F(clip(k / h, 9e-3, 9)), continuous in k and in the cosmology. Below the
range the true ratio to the zero-baryon shape tends to a constant (both transfer functions
tend to 1 and the acoustic wiggles fade), and the held value stays within 0.7% of CAMB
down to k / h = 1e-3; above it the held value keeps the last fitted small-scale
shape correction and lets the zero-baryon slope carry on. The accuracy measured against
CAMB inside and outside the range is in docs/engine.md.

Units: the engine is h-free (k in Mpc^-1, P in Mpc^3); the fit's own variable is
k / h in h Mpc^-1.
"""

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..background import h_of, omega_m
from ..constants import T_CMB
from ..params import CosmoParams
from .sigma import sigma8_normalised

__all__ = ["K_H_MAX", "K_H_MIN", "log_correction", "power_z0", "transfer_zero_baryon"]

K_H_MIN = 9e-3
"""Lowest k / h [h Mpc^-1] of the fitted range of the correction F."""

K_H_MAX = 9.0
"""Highest k / h [h Mpc^-1] of the fitted range of the correction F."""


# The 37 fitted constants b_0 ... b_36 of the fiducial ln F (Bartlett et al. 2023).
_B = (
    0.05448654, 0.00379, 0.0396711937097927, 0.127733431568858, 1.35,
    4.053543862744234, 0.0008084539054750851, 1.8852431049189666,
    0.11418372931475675, 3.798, 14.909, 5.56, 15.8274343004709, 0.0230755621512691,
    0.86531976, 0.8425442636372944, 4.553956000000005, 5.116999999999995,
    70.0234239999998, 0.01107, 5.35, 6.421, 134.309, 5.324, 21.532,
    4.741999999999985, 16.68722499999999, 3.078, 16.987, 0.05881491,
    0.0006864690561825617, 195.498, 0.0038454457516892, 0.276696018851544,
    7.385, 12.3960625361899, 0.0134114370723638,
)


def _decay(scale: float, rate: float, x: jax.Array) -> jax.Array:
    """(scale x)^(-rate x) for x > 0: the damping factor of the fit's oscillating terms."""
    return jnp.exp(-rate * x * jnp.log(scale * x))


def log_correction(k_h: ArrayLike, om: ArrayLike, ob: ArrayLike, h: ArrayLike) -> jax.Array:
    """The fiducial fitted ln F of Bartlett et al. (2023), P_lin = P_zero-baryon F.

    Evaluated as written (no clipping): `power_z0` clips `k_h` to [K_H_MIN, K_H_MAX].

    Parameters
    ----------
    k_h : array_like
        Wavenumber k / h [h Mpc^-1], > 0.
    om, ob : array_like
        Omega_m and Omega_b at z = 0 [dimensionless].
    h : array_like
        H0 / (100 km s^-1 Mpc^-1).

    Returns
    -------
    Array of the shape of `k_h`, dimensionless.
    """
    b = _B
    x = jnp.asarray(k_h, dtype=float)
    offset = b[0] * h - b[1]

    baryon_amp = jnp.exp(b[4] * om * jnp.log(ob * b[2] / jnp.sqrt(h**2 + b[3])))
    acoustic = (
        (b[5] * x - ob) / jnp.sqrt(b[6] + (ob - b[7] * x) ** 2) * b[8] * _decay(b[9], b[10], x)
        * jnp.cos(b[11] * om - b[12] * x / jnp.sqrt(b[13] + ob**2))
    )
    smooth = b[14] * (b[15] * x / jnp.sqrt(1.0 + b[16] * x**2) - om) * jnp.cos(
        b[17] * h / jnp.sqrt(1.0 + b[18] * x**2))
    baryon_term = baryon_amp * (acoustic - smooth)

    tilt_term = b[19] * (
        b[20] * om + b[21] * h - jnp.log(b[22] * x) + _decay(b[23], b[24], x)
    ) * jnp.cos(b[25] / jnp.sqrt(1.0 + b[26] * x**2))

    damped_term = _decay(b[27], b[28], x) * (
        b[29] * x - b[30] * jnp.log(b[31] * x) / jnp.sqrt(b[32] + (om - b[33] * h) ** 2)
    ) * jnp.cos(b[34] * om - b[35] * x / jnp.sqrt(ob**2 + b[36]))

    return offset + baryon_term + tilt_term + damped_term


def transfer_zero_baryon(k: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Eisenstein & Hu (1998) zero-baryon ("no-wiggle") transfer function T(k) (their
    eqs. 26-31); arguments, units and normalisation as for `eh98.transfer_eh98`."""
    k = jnp.asarray(k, dtype=float)
    wm = omega_m(cosmo)
    wb = cosmo.omega_b
    fb = wb / wm
    theta2 = (T_CMB / 2.7) ** 2
    s = 44.5 * jnp.log(9.83 / wm) / jnp.sqrt(1.0 + 10.0 * wb**0.75)
    alpha = 1.0 - 0.328 * jnp.log(431.0 * wm) * fb + 0.38 * jnp.log(22.3 * wm) * fb**2
    gamma_h = wm * (alpha + (1.0 - alpha) / (1.0 + (0.43 * k * s) ** 4))
    q = k * theta2 / gamma_h
    log_term = jnp.log(2.0 * jnp.e + 1.8 * q)
    return log_term / (log_term + (14.2 + 731.0 / (1.0 + 62.5 * q)) * q**2)


def _shape(cosmo: CosmoParams, k: jax.Array) -> jax.Array:
    """k^n_s T_zb^2 F, unnormalised [arbitrary units], at k [Mpc^-1]."""
    h = h_of(cosmo)
    wm = omega_m(cosmo)
    om = wm / h**2
    ob = cosmo.omega_b / h**2
    k_h = jnp.clip(k / h, K_H_MIN, K_H_MAX)
    log_f = log_correction(k_h, om, ob, h)
    return jnp.exp(cosmo.n_s * jnp.log(k) + log_f) * transfer_zero_baryon(k, cosmo) ** 2


def power_z0(cosmo: CosmoParams, k: ArrayLike) -> jax.Array:
    """Linear matter power spectrum at z = 0, normalised to sigma8 [Mpc^3].

    The backend contract of `cobaya_szlite.engine.linear_power` (arguments and shapes as
    for `eh98.power_z0`); one evaluation of the shape serves the normalisation nodes and
    every requested wavenumber (see the module docstring for the range of the fit).
    """
    return sigma8_normalised(cosmo, lambda kk: _shape(cosmo, kk), k)
