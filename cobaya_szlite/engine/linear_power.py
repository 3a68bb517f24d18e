"""Linear matter power spectrum (Eisenstein & Hu 1998, with baryon wiggles) and sigma(R).

P(k, z) = A k^n_s T(k)^2 D(z)^2, with A fixed by sigma(8 h^-1 Mpc, z=0) = sigma8.
sigma(R) is a fixed trapezoid quadrature in ln k (spectrally accurate for the
smooth, decaying integrand), so everything is jit-safe and differentiable.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .background import growth_factor, h_of, omega_m
from .constants import RHO_CRIT_100, T_CMB

_LNK_MIN = np.log(1e-5)
_LNK_MAX = np.log(1e3)
_N_K_NORM = 1024
"""ln k grid [1/Mpc] of the general sigma(R) quadrature: 1e-5 to 1e3 Mpc^-1."""


# EH98 power laws of omega_m = Omega_m h^2 as c * omega_m^e, evaluated with one exp:
# b1 (two factors), b2, z_d (two), k_silk (two), a1 (two), a2 (two), b1 of beta_c
# written as 1/(1+x) with x = (458 omega_m)^-0.708, b2 of beta_c, beta_node.
_EH98_COEFFS, _EH98_EXPONENTS = np.array([
    (0.313, -0.419), (0.607, 0.674), (0.238, 0.223), (1291.0, 0.251), (0.659, 0.828),
    (1.6, 0.73), (10.4**-0.95, -0.95), (46.9**0.670, 0.670), (32.1**-0.532, -0.532),
    (12.0**0.424, 0.424), (45.0**-0.582, -0.582), (458.0**-0.708, -0.708),
    (0.395**-0.0266, -0.0266), (8.41, 0.435),
]).T


def _eh98_tilde(log_term, c_term, q2, alpha_c):
    """EH98 eq. (19)-(20): T0 = L / (L + C q^2), with L = ln(e + 1.8 beta_c q) and
    C = 14.2 / alpha_c + 386 / (1 + 69.9 q^1.08) (`c_term` is the second part)."""
    return log_term / (log_term + (14.2 / alpha_c + c_term) * q2)


def _sinc(x):
    safe = jnp.where(jnp.abs(x) < 1e-4, 1.0, x)
    return jnp.where(jnp.abs(x) < 1e-4, 1.0 - x**2 / 6.0, jnp.sin(safe) / safe)


@jax.jit
def transfer_eh98(k, cosmo):
    """Eisenstein & Hu (1998) matter transfer function with baryon acoustic oscillations.

    Parameters
    ----------
    k : array_like
        Comoving wavenumber [Mpc^-1].
    cosmo : CosmoParams

    Returns
    -------
    T(k), dimensionless, -> 1 as k -> 0.
    """
    k = jnp.asarray(k, dtype=float)
    wm = omega_m(cosmo)
    wb = cosmo.omega_b
    fb = wb / wm
    fc = cosmo.omega_cdm / wm
    ln_wb = jnp.log(wb)
    theta = T_CMB / 2.7
    (b1_lo, b1_hi, b2, zd_lo, zd_hi, silk, silk_corr,
     a1_lo, a1_hi, a2_lo, a2_hi, bb1, bb2, beta_node) = _EH98_COEFFS * jnp.exp(_EH98_EXPONENTS * jnp.log(wm))

    z_eq = 2.50e4 * wm * theta**-4
    k_eq = 7.46e-2 * wm * theta**-2
    b1 = b1_lo * (1.0 + b1_hi)
    z_d = zd_lo / (1.0 + zd_hi) * (1.0 + b1 * jnp.exp(b2 * ln_wb))
    r_d = 31.5 * wb * theta**-4 * (1e3 / z_d)
    r_eq = 31.5 * wb * theta**-4 * (1e3 / z_eq)
    s = (
        2.0 / (3.0 * k_eq) * jnp.sqrt(6.0 / r_eq)
        * jnp.log((jnp.sqrt(1.0 + r_d) + jnp.sqrt(r_d + r_eq)) / (1.0 + jnp.sqrt(r_eq)))
    )
    ln_k_silk = jnp.log(silk * (1.0 + silk_corr)) + 0.52 * ln_wb
    alpha_c = jnp.exp(-fb * jnp.log(a1_lo * (1.0 + a1_hi)) - fb**3 * jnp.log(a2_lo * (1.0 + a2_hi)))
    beta_c = 1.0 / (1.0 + 0.944 / (1.0 + bb1) * (jnp.exp(bb2 * jnp.log(fc)) - 1.0))

    ln_k = jnp.log(k)
    ln_q = ln_k - jnp.log(13.41 * k_eq)
    q = jnp.exp(ln_q)
    ks = k * s
    f = 1.0 / (1.0 + (ks / 5.4) ** 4)
    q2 = q**2
    c_term = 386.0 / (1.0 + 69.9 * jnp.exp(1.08 * ln_q))
    log_c = jnp.log(jnp.e + 1.8 * beta_c * q)
    log_1 = jnp.log(jnp.e + 1.8 * q)
    t_c = f * _eh98_tilde(log_c, c_term, q2, 1.0) + (1.0 - f) * _eh98_tilde(log_c, c_term, q2, alpha_c)

    y = (1.0 + z_eq) / (1.0 + z_d)
    sq = jnp.sqrt(1.0 + y)
    g = y * (-6.0 * sq + (2.0 + 3.0 * y) * jnp.log((sq + 1.0) / (sq - 1.0)))
    alpha_b = 2.07 * k_eq * s * (1.0 + r_d) ** -0.75 * g
    beta_b = 0.5 + fb + (3.0 - 2.0 * fb) * jnp.sqrt((17.2 * wm) ** 2 + 1.0)
    s_tilde = s / (1.0 + (beta_node / ks) ** 3) ** (1.0 / 3.0)
    t_b = (
        _eh98_tilde(log_1, c_term, q2, 1.0) / (1.0 + (ks / 5.2) ** 2)
        + alpha_b / (1.0 + (beta_b / ks) ** 3) * jnp.exp(-jnp.exp(1.4 * (ln_k - ln_k_silk)))
    ) * _sinc(k * s_tilde)
    return fb * t_b + fc * t_c


def _tophat_window(x, xp=jnp):
    """Fourier transform of a unit top-hat, W(x) = 3 (sin x - x cos x) / x^3.

    `xp` is jax.numpy (traced use) or numpy (static tables).
    """
    small = xp.abs(x) < 1e-3
    xs = xp.where(small, 1.0, x)
    full = 3.0 * (xp.sin(xs) - xs * xp.cos(xs)) / xs**3
    return xp.where(small, 1.0 - x**2 / 10.0, full)


def _tophat_window_dlnx(x, xp=jnp):
    """x dW/dx for the top-hat window."""
    small = xp.abs(x) < 1e-3
    xs = xp.where(small, 1.0, x)
    full = 3.0 * ((xs**2 - 3.0) * xp.sin(xs) + 3.0 * xs * xp.cos(xs)) / xs**3
    return xp.where(small, -(x**2) / 5.0, full)


def _unnormalised_delta2(k, cosmo, transfer=None):
    """k^3 P(k) / (2 pi^2) at z = 0 up to the amplitude A (dimensionless).

    `transfer` may carry T(k) already computed at `k` (so one EH98 call serves many uses).
    """
    if transfer is None:
        transfer = transfer_eh98(k, cosmo)
    return k ** (3.0 + cosmo.n_s) * transfer**2 / (2.0 * np.pi**2)


def normalisation_wavenumbers():
    """Static ln k nodes [1/Mpc] of the sigma8 normalisation integral, and their spacing."""
    lnk = np.linspace(_LNK_MIN, _LNK_MAX, _N_K_NORM)
    return lnk, lnk[1] - lnk[0]


def _sigma2_unnormalised(R, cosmo, transfer=None):
    lnk, dlnk = normalisation_wavenumbers()
    k = np.exp(lnk)
    d2 = _unnormalised_delta2(k, cosmo, transfer)
    w = _tophat_window(jnp.asarray(R, dtype=float)[..., None] * k)
    return jnp.sum(d2 * w**2, axis=-1) * dlnk


def power_amplitude(cosmo, transfer=None):
    """Primordial amplitude A such that sigma(8 h^-1 Mpc, z=0) = sigma8 [Mpc^(3+n_s)].

    `transfer`: optional T(k) at the nodes of `normalisation_wavenumbers`.
    """
    r8 = 8.0 / h_of(cosmo)
    return cosmo.sigma8**2 / _sigma2_unnormalised(r8, cosmo, transfer)


@jax.jit
def linear_power(k, z, cosmo):
    """Linear matter power spectrum P(k, z) [Mpc^3].

    Parameters
    ----------
    k : array_like
        Comoving wavenumber [Mpc^-1].
    z : array_like
        Redshift (broadcast against `k`).
    cosmo : CosmoParams
    """
    k = jnp.asarray(k, dtype=float)
    amp = power_amplitude(cosmo)
    pk0 = amp * k**cosmo.n_s * transfer_eh98(k, cosmo) ** 2
    return pk0 * growth_factor(z, cosmo) ** 2


@jax.jit
def sigma_R(R, z, cosmo):
    """rms linear density contrast in a top-hat sphere of comoving radius R.

    Parameters
    ----------
    R : array_like
        Comoving radius [Mpc].
    z : array_like
        Redshift (broadcast against `R`).
    cosmo : CosmoParams

    Returns
    -------
    sigma(R, z), dimensionless. Trapezoid rule over 1024 ln k nodes in [1e-5, 1e3] Mpc^-1.
    """
    s2 = _sigma2_unnormalised(R, cosmo) * power_amplitude(cosmo)
    return jnp.sqrt(s2) * growth_factor(z, cosmo)


@jax.jit
def dlnsigma_dlnR(R, cosmo):
    """Logarithmic slope d ln sigma / d ln R (independent of redshift) [dimensionless]."""
    lnk, dlnk = normalisation_wavenumbers()
    k = np.exp(lnk)
    d2 = _unnormalised_delta2(k, cosmo)
    x = jnp.asarray(R, dtype=float)[..., None] * k
    w = _tophat_window(x)
    num = jnp.sum(d2 * w * _tophat_window_dlnx(x), axis=-1)
    den = jnp.sum(d2 * w**2, axis=-1)
    return num / den


class MassGridSigma(NamedTuple):
    """Static quadrature of sigma(M) on a fixed mass grid (built once per Precision).

    With R = R~ omega_m^(-1/3) and k = k~ omega_m^(1/3), the products k R and hence
    the window matrices are cosmology-independent: sigma^2 is one matrix-vector product.
    """

    lnk_tilde: np.ndarray
    window2: np.ndarray
    window_dwindow: np.ndarray


def mass_grid_sigma_tables(M, n_k):
    """Build `MassGridSigma` for masses `M` [Msun] with `n_k` ln k nodes (NumPy, static)."""
    r_tilde = (3.0 * np.asarray(M) / (4.0 * np.pi * RHO_CRIT_100)) ** (1.0 / 3.0)
    lnk = np.linspace(_LNK_MIN, _LNK_MAX, n_k)
    dlnk = lnk[1] - lnk[0]
    x = r_tilde[:, None] * np.exp(lnk)[None, :]
    w = _tophat_window(x, np)
    return MassGridSigma(lnk, w**2 * dlnk, w * _tophat_window_dlnx(x, np) * dlnk)


def mass_grid_wavenumbers(cosmo, tables):
    """Wavenumbers [1/Mpc] of the sigma(M) quadrature of `tables` for this cosmology."""
    return jnp.exp(tables.lnk_tilde) * omega_m(cosmo) ** (1.0 / 3.0)


def sigma_on_mass_grid(cosmo, tables, amplitude, transfer=None):
    """ln sigma(M, z=0) and d ln sigma / d ln M on the mass grid of `tables`.

    `amplitude` is `power_amplitude(cosmo)`; `transfer` optionally T(k) at
    `mass_grid_wavenumbers(cosmo, tables)`.
    """
    k = mass_grid_wavenumbers(cosmo, tables)
    d2 = _unnormalised_delta2(k, cosmo, transfer) * amplitude
    s2 = tables.window2 @ d2
    return 0.5 * jnp.log(s2), (tables.window_dwindow @ d2) / s2 / 3.0
