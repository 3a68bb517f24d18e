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
backend supplies the shape and sigma8 is the engine's. With ln(10^10 A_s) given instead
(`cosmo.logA`), sigma8 follows from the paper's fitted relation sigma8 = f(Omega_m,
Omega_b, h, n_s) sqrt(10^9 A_s) (`sigma8_from_logA`, quoted 0.1% rms against CAMB).

The fit is for flat LCDM with massless neutrinos inside `BOX`; `RULES` (applied by
`cobaya_szlite.engine.validate`) refuse other points, naming the box edge. A_s and sigma8
are not restricted: P scales exactly as sigma8^2 and sigma8 as A_s^1/2.

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

import math

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..background import h_of, omega_m
from ..constants import T_CMB
from ..params import CosmoParams
from .sigma import normalised_power

__all__ = [
    "BOX",
    "K_H_MAX",
    "K_H_MIN",
    "RULES",
    "fit_wavenumbers",
    "log_correction",
    "power_z0",
    "sigma8_from_logA",
    "transfer_no_wiggle",
    "transfer_zero_baryon",
]

K_H_MIN = 9e-3
"""Lowest k / h [h Mpc^-1] of the fitted range of the correction F."""

K_H_MAX = 9.0
"""Highest k / h [h Mpc^-1] of the fitted range of the correction F."""

BOX = {"Omega_m": (0.24, 0.40), "Omega_b": (0.04, 0.06), "h": (0.61, 0.73), "n_s": (0.92, 1.00)}
"""Parameter box of the fit (the EuclidEmulator2 ranges of Omega_m, Omega_b, h and n_s;
massless neutrinos and a cosmological constant, m_nu = 0, w0 = -1, wa = 0)."""

# sigma8 / sqrt(10^9 A_s) of Bartlett et al. (2023), the published (v2) expression: a_0 ... a_9.
_A = (0.51172, 0.04593, 0.73983, 1.56738, 1.16846, 0.59348, 0.19994, 25.09218, 9.36909, 0.00011)


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


def _decay(scale: float, rate: float, x: jax.Array, ln_x: jax.Array) -> jax.Array:
    """(scale x)^(-rate x) for x > 0 (given ln x): the damping of the fit's oscillating terms."""
    return jnp.exp(-rate * x * (math.log(scale) + ln_x))


def log_correction(k_h: ArrayLike, om: ArrayLike, ob: ArrayLike, h: ArrayLike,
                   ln_k_h: ArrayLike | None = None) -> jax.Array:
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
    ln_k_h : array_like, optional
        ln(k_h), when the caller has it (saves the logarithm).

    Returns
    -------
    Array of the shape of `k_h`, dimensionless.
    """
    b = _B
    x = jnp.asarray(k_h, dtype=float)
    ln_x = jnp.log(x) if ln_k_h is None else ln_k_h
    offset = b[0] * h - b[1]

    baryon_amp = jnp.exp(b[4] * om * jnp.log(ob * b[2] / jnp.sqrt(h**2 + b[3])))
    acoustic = (
        (b[5] * x - ob) * jax.lax.rsqrt(b[6] + (ob - b[7] * x) ** 2) * b[8] * _decay(b[9], b[10], x, ln_x)
        * jnp.cos(b[11] * om - b[12] / jnp.sqrt(b[13] + ob**2) * x)
    )
    smooth = b[14] * (b[15] * x * jax.lax.rsqrt(1.0 + b[16] * x**2) - om) * jnp.cos(
        b[17] * h * jax.lax.rsqrt(1.0 + b[18] * x**2))
    baryon_term = baryon_amp * (acoustic - smooth)

    tilt_term = b[19] * (
        b[20] * om + b[21] * h - (math.log(b[22]) + ln_x) + _decay(b[23], b[24], x, ln_x)
    ) * jnp.cos(b[25] * jax.lax.rsqrt(1.0 + b[26] * x**2))

    damped_term = _decay(b[27], b[28], x, ln_x) * (
        b[29] * x - b[30] / jnp.sqrt(b[32] + (om - b[33] * h) ** 2) * (math.log(b[31]) + ln_x)
    ) * jnp.cos(b[34] * om - b[35] / jnp.sqrt(ob**2 + b[36]) * x)

    return offset + baryon_term + tilt_term + damped_term


def transfer_no_wiggle(k: ArrayLike, wm: ArrayLike, wb: ArrayLike) -> jax.Array:
    """Eisenstein & Hu (1998) zero-baryon ("no-wiggle") transfer function T(k), their
    eqs. (26)-(31), at T_CMB = 2.7255 K.

    Parameters
    ----------
    k : array_like
        Comoving wavenumber [Mpc^-1].
    wm, wb : array_like
        Omega_m h^2 and Omega_b h^2 [dimensionless].

    Returns
    -------
    Array of the shape of `k`, dimensionless, -> 1 as k -> 0.
    """
    k = jnp.asarray(k, dtype=float)
    fb = wb / wm
    theta2 = (T_CMB / 2.7) ** 2
    s = 44.5 * jnp.log(9.83 / wm) / jnp.sqrt(1.0 + 10.0 * wb**0.75)
    alpha = 1.0 - 0.328 * jnp.log(431.0 * wm) * fb + 0.38 * jnp.log(22.3 * wm) * fb**2
    gamma_h = wm * (alpha + (1.0 - alpha) / (1.0 + (0.43 * k * s) ** 4))
    q = k * theta2 / gamma_h
    log_term = jnp.log(2.0 * jnp.e + 1.8 * q)
    return log_term / (log_term + (14.2 + 731.0 / (1.0 + 62.5 * q)) * q**2)


def transfer_zero_baryon(k: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """`transfer_no_wiggle` of this cosmology (arguments, units and normalisation as for
    `eh98.transfer_eh98`)."""
    return transfer_no_wiggle(k, omega_m(cosmo), cosmo.omega_b)


def fit_wavenumbers(k: jax.Array, h: ArrayLike) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The wavenumbers of the fit with one logarithm per k.

    Parameters
    ----------
    k : Array
        Comoving wavenumber [Mpc^-1].
    h : array_like
        H0 / (100 km s^-1 Mpc^-1).

    Returns
    -------
    (Array, Array, Array)
        ln k [ln Mpc^-1], k / h clipped to [K_H_MIN, K_H_MAX] [h Mpc^-1], and its logarithm.
    """
    ln_k = jnp.log(k)
    k_h = jnp.clip(k / h, K_H_MIN, K_H_MAX)
    ln_k_h = jnp.clip(ln_k - jnp.log(h), math.log(K_H_MIN), math.log(K_H_MAX))
    return ln_k, k_h, ln_k_h


def _shape(cosmo: CosmoParams, k: jax.Array) -> jax.Array:
    """k^n_s T_zb^2 F, unnormalised [arbitrary units], at k [Mpc^-1]."""
    h = h_of(cosmo)
    wm = omega_m(cosmo)
    ln_k, k_h, ln_k_h = fit_wavenumbers(k, h)
    log_f = log_correction(k_h, wm / h**2, cosmo.omega_b / h**2, h, ln_k_h)
    return jnp.exp(cosmo.n_s * ln_k + log_f) * transfer_no_wiggle(k, wm, cosmo.omega_b) ** 2


def sigma8_per_root_as(om: ArrayLike, ob: ArrayLike, h: ArrayLike, n_s: ArrayLike) -> jax.Array:
    """The Bartlett et al. (2023) fit sigma8 / sqrt(10^9 A_s) (0.1% rms against CAMB).

    Parameters
    ----------
    om, ob : array_like
        Omega_m and Omega_b today.
    h : array_like
        H0 / (100 km s^-1 Mpc^-1).
    n_s : array_like
        Scalar spectral index.

    Returns
    -------
    Array, dimensionless.
    """
    a = _A
    return a[0] * om + a[1] * h + a[2] * (
        (om - a[3] * ob) * (jnp.log(a[4] * om) - a[5] * n_s)
        * (n_s + a[6] * h * (a[7] * ob - a[8] * n_s + jnp.log(a[9] * h)))
    )


def sigma8_from_logA(cosmo: CosmoParams) -> jax.Array:
    """sigma8 at z = 0 from ln(10^10 A_s) by the Bartlett et al. (2023) relation.

    Parameters
    ----------
    cosmo : CosmoParams
        With `logA` set (a float).

    Returns
    -------
    Array, dimensionless.
    """
    h = h_of(cosmo)
    om = omega_m(cosmo) / h**2
    root_as9 = jnp.exp(0.5 * cosmo.logA) / jnp.sqrt(10.0)
    return root_as9 * sigma8_per_root_as(om, cosmo.omega_b / h**2, h, cosmo.n_s)


def power_z0(cosmo: CosmoParams, k: ArrayLike) -> jax.Array:
    """Linear matter power spectrum at z = 0 [Mpc^3], normalised to sigma8, or, with
    `cosmo.logA` set, to the sigma8 of `sigma8_from_logA`.

    The backend contract of `cobaya_szlite.engine.linear_power` (arguments and shapes as
    for `eh98.power_z0`); one evaluation of the shape serves the normalisation nodes and
    every requested wavenumber (see the module docstring for the range of the fit).
    """
    return normalised_power(cosmo, lambda kk: _shape(cosmo, kk), k, sigma8_from_logA)


def _inside(value, lo, hi):
    return (value >= lo) & (value <= hi)


_DEFINITIONS = {
    "Omega_m": ", Omega_m = (omega_b + omega_cdm) / h^2",
    "Omega_b": ", Omega_b = omega_b / h^2",
    "h": ", h = H0 / 100",
}


def _box_rule(label: str, of):
    lo, hi = BOX[label]
    text = f"bartlett23 fitted box: {lo} <= {label} <= {hi}{_DEFINITIONS.get(label, '')}"
    return text, lambda c: _inside(of(c), lo, hi)


RULES = (
    ("omega_cdm", *_box_rule("Omega_m", lambda c: omega_m(c) / h_of(c) ** 2)),
    ("omega_b", *_box_rule("Omega_b", lambda c: c.omega_b / h_of(c) ** 2)),
    ("H0", *_box_rule("h", h_of)),
    ("n_s", *_box_rule("n_s", lambda c: c.n_s)),
    ("m_nu", "bartlett23 is fitted for massless neutrinos: m_nu = 0 (syren_new has m_nu)",
     lambda c: c.m_nu == 0),
    ("w0", "bartlett23 is fitted for a cosmological constant: w0 = -1 (syren_new has w0-wa)",
     lambda c: c.w0 == -1),
    ("wa", "bartlett23 is fitted for a cosmological constant: wa = 0 (syren_new has w0-wa)",
     lambda c: c.wa == 0),
)
"""(field, allowed range, rule(cosmo) -> bool) of the fitted box (`BOX`): Omega_m =
omega_m / h^2, Omega_b = omega_b / h^2, h = H0 / 100."""
