"""The tSZ angular power spectrum C_ell^yy: 1-halo and 2-halo terms in the Limber approximation.

C1h(ell) = Int dz dV/dzdOmega Int dlnM n(M, z) y_ell(M, z)^2
C2h(ell) = Int dz dV/dzdOmega P_lin((ell+1/2)/chi, z) [Int dlnM n b y_ell]^2

Both integrals use Simpson's rule on log-spaced z and M grids. Because
q = (ell+1/2) r500 / d_A scales as M^(1/3), the profile transform is tabulated on
a ln q grid whose step is one third of the ln M step: the mass integral at every
(z, table offset) is then one matrix product of the (z, M) weights with a Hankel
matrix of u(q), and each (ell, z) reads it at a fractional offset (4-point
Lagrange interpolation). No per-(ell, z, M) gathers, exact gradients.
"""

from functools import lru_cache, partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .background import E_z, comoving_distance, growth_factor, rho_m0
from .constants import C_KM_S
from .halos import r500, tinker08_f_of_lnsigma, tinker10_bias_of_lnsigma
from .linear_power import (
    mass_grid_sigma_tables,
    mass_grid_wavenumbers,
    normalisation_wavenumbers,
    power_amplitude,
    sigma_on_mass_grid,
    transfer_eh98,
)
from .precision import Precision, check_precision
from .pressure import FourierTable, fourier_on_table, fourier_table, y_prefactor_m, y_prefactor_z
from .quadrature import lagrange4_interp, simpson_weights
from .validate import physical_mask


class Grids(NamedTuple):
    """Static grids and rules of one `Precision` (NumPy constants)."""

    z: np.ndarray
    z_weights: np.ndarray
    mass: np.ndarray
    mass_weights: np.ndarray
    sigma: object
    fourier: FourierTable
    hankel_index: np.ndarray


@lru_cache(maxsize=16)
def grids(precision):
    """Build the `Grids` of `precision` once (cached per Precision; refuses a bad one)."""
    check_precision(precision)
    ln_z = np.linspace(np.log(precision.z_min), np.log(precision.z_max), precision.n_z)
    z = np.exp(ln_z)
    z_weights = simpson_weights(precision.n_z, ln_z[1] - ln_z[0]) * z
    ln_m = np.linspace(np.log(precision.m_min), np.log(precision.m_max), precision.n_m)
    mass = np.exp(ln_m)
    mass_weights = simpson_weights(precision.n_m, ln_m[1] - ln_m[0])
    table = fourier_table(precision)
    n_q = table.weights.shape[0]
    n_lag = n_q - precision.n_m + 1
    hankel_index = np.arange(precision.n_m)[:, None] + np.arange(n_lag)[None, :]
    return Grids(
        z, z_weights, mass, mass_weights,
        mass_grid_sigma_tables(mass, precision.n_k), table, hankel_index,
    )


def halo_weights(cosmo, profile, g, chi, amplitude, transfer_sigma):
    """Background and halo quantities on the (z, M) grid.

    `chi` is the comoving distance at the z nodes [Mpc], `amplitude` the power-spectrum
    amplitude and `transfer_sigma` T(k) at the sigma(M) wavenumbers.

    Returns
    -------
    dict with dV/dzdOmega [Mpc^3/sr] and growth D on the z grid, and the
    (n_z, n_m) mass-integral weights n y-prefactor^2, n y-prefactor^4 and n b y-prefactor (Simpson
    weights in ln M included), and the fractional ln q table offset of the lowest mass.
    """
    z = g.z
    e_z = E_z(z, cosmo)
    d_a = chi / (1.0 + z)
    dvol = C_KM_S / cosmo.H0 * chi**2 / e_z
    growth = growth_factor(z, cosmo)

    ln_sigma0, dlnsigma_dlnm = sigma_on_mass_grid(cosmo, g.sigma, amplitude, transfer_sigma)
    ln_sigma = ln_sigma0[None, :] + jnp.log(growth)[:, None]
    zz = z[:, None]
    mass_function = (
        tinker08_f_of_lnsigma(ln_sigma, zz, cosmo)
        * (rho_m0(cosmo) / g.mass * -dlnsigma_dlnm * g.mass_weights)[None, :]
    )
    bias = tinker10_bias_of_lnsigma(ln_sigma, zz, cosmo)
    prefactor = y_prefactor_z(z, cosmo, d_a)[:, None] * y_prefactor_m(g.mass, cosmo, profile)[None, :]
    ln_q_lowest = jnp.log(r500(g.mass[0] / profile.B, z, cosmo) / d_a)
    return {
        "dvol": dvol,
        "growth": growth,
        "w1": mass_function * prefactor**2,
        "w4": mass_function * prefactor**4,
        "w2": mass_function * bias * prefactor,
        "ln_q_lowest": ln_q_lowest,
    }


def _mass_integrals(weights, u, g, offset):
    """Int dlnM weights(z, M) u(q(ell, z, M)) at fractional table offsets (n_z, n_ell)."""
    hankel = u[g.hankel_index]
    per_lag = weights @ hankel
    return lagrange4_interp(per_lag, offset)


def _spectrum_ingredients(cosmo, profile, ell, precision):
    """Everything the Limber integrals need, with one EH98 evaluation for all wavenumbers."""
    g = grids(precision)
    ell = jnp.atleast_1d(jnp.asarray(ell, dtype=float))
    chi = comoving_distance(g.z, cosmo)
    k_limber = (ell[None, :] + 0.5) / chi[:, None]
    k_norm = np.exp(normalisation_wavenumbers()[0])
    k_sigma = mass_grid_wavenumbers(cosmo, g.sigma)
    transfer = transfer_eh98(jnp.concatenate([k_norm, k_sigma, k_limber.ravel()]), cosmo)
    t_norm, t_sigma, t_limber = jnp.split(transfer, [k_norm.size, k_norm.size + k_sigma.size])
    amplitude = power_amplitude(cosmo, t_norm)
    h = halo_weights(cosmo, profile, g, chi, amplitude, t_sigma)
    u = fourier_on_table(profile, g.fourier)
    ln_ell = jnp.log(ell + 0.5)
    offset = (ln_ell[None, :] + h["ln_q_lowest"][:, None] - g.fourier.ln_q0) / g.fourier.dln_q
    return g, ell, h, u, offset, k_limber, amplitude, t_limber


def _invalid_to_nan(cosmo, profile, ell, precision, offset):
    """1.0 for a physical point whose q values fit the profile table, NaN otherwise.

    Multiplies every output. Below the table u(q) is flat (clamping is exact to < 1e-9);
    above it (ell beyond ~1e5 for the defaults; raise `Precision.q_max`) the point is refused.
    """
    n_lag = grids(precision).hankel_index.shape[1]
    ok = physical_mask(cosmo, profile, precision.x_out) & jnp.all(ell > 0) & jnp.all(offset <= n_lag - 3)
    return jnp.where(ok, 1.0, jnp.nan)


@jax.jit
def cl_yy(cosmo, profile, ell, precision=Precision()):
    """tSZ angular power spectrum of Compton y, 1-halo and 2-halo terms.

    Parameters
    ----------
    cosmo : CosmoParams
    profile : ProfileParamsA10
    ell : array_like, shape (n_ell,)
        Multipoles (any positive real numbers).
    precision : Precision, optional
        Static integration settings (a compile-time constant under `jax.jit`).

    Returns
    -------
    (cl_1h, cl_2h) : tuple of Arrays, shape (n_ell,)
        Dimensionless C_ell^yy. D_ell = ell (ell+1) C_ell / (2 pi). All entries are NaN
        when a parameter is outside its allowed range (see `validate`), or when an ell
        needs the profile transform beyond `precision.q_max` (ell >~ 1e5 by default).
    """
    g, ell, h, u, offset, k_limber, amplitude, t_limber = _spectrum_ingredients(cosmo, profile, ell, precision)

    one_halo = _mass_integrals(h["w1"], u**2, g, offset)
    two_halo_mass = _mass_integrals(h["w2"], u, g, offset)

    p_lin = (
        amplitude * k_limber**cosmo.n_s * t_limber.reshape(k_limber.shape) ** 2
        * (h["growth"] ** 2)[:, None]
    )
    zw = (g.z_weights * h["dvol"])[:, None]
    cl_1h = jnp.sum(zw * one_halo, axis=0)
    cl_2h = jnp.sum(zw * p_lin * two_halo_mass**2, axis=0)
    guard = _invalid_to_nan(cosmo, profile, ell, precision, offset)
    return cl_1h * guard, cl_2h * guard


@jax.jit
def cl_yy_trispectrum(cosmo, profile, ell, precision=Precision()):
    """Full-sky 1-halo connected trispectrum of Compton y.

    T(ell, ell') = Int dz dV/dzdOmega Int dlnM n(M, z) y_ell(M, z)^2 y_ell'(M, z)^2.

    Parameters
    ----------
    cosmo, profile, ell, precision
        As for `cl_yy`.

    Returns
    -------
    Array, shape (n_ell, n_ell): dimensionless T (NaN for an unphysical point). The
    non-Gaussian covariance of C_ell measured on a sky fraction f_sky is T / (4 pi f_sky).
    """
    g, ell, h, u, offset, _, _, _ = _spectrum_ingredients(cosmo, profile, ell, precision)
    rows = offset[:, None, :] + np.arange(precision.n_m)[None, :, None]
    u2 = lagrange4_interp(jnp.broadcast_to(u**2, (precision.n_z, u.size)), rows.reshape(precision.n_z, -1))
    u2 = u2.reshape(rows.shape)
    weights = (g.z_weights * h["dvol"])[:, None] * h["w4"]
    trispectrum = jnp.einsum("zm,zml,zmk->lk", weights, u2, u2)
    return trispectrum * _invalid_to_nan(cosmo, profile, ell, precision, offset)


@partial(jax.jit, static_argnames=("include_trispectrum",))
def cl_yy_covariance(cosmo, profile, ell, delta_ell, f_sky, precision=Precision(),
                     include_trispectrum=True, noise_cl=0.0):
    """Covariance of binned C_ell^yy: Gaussian (1h + 2h + noise) plus 1-halo trispectrum.

    Cov = diag[2 (C_ell + N_ell)^2 / ((2 ell + 1) delta_ell f_sky)] + T / (4 pi f_sky).

    Parameters
    ----------
    cosmo, profile, ell, precision
        As for `cl_yy` (`ell` are the bin centres).
    delta_ell : array_like
        Bin widths (number of multipoles per bin), broadcast against `ell`.
    f_sky : float
        Observed sky fraction.
    include_trispectrum : bool
        Static: add T / (4 pi f_sky).
    noise_cl : array_like
        Noise power N_ell in the same (dimensionless C_ell) units, broadcast against `ell`.

    Returns
    -------
    Array, shape (n_ell, n_ell), dimensionless (C_ell units squared).
    """
    cl_1h, cl_2h = cl_yy(cosmo, profile, ell, precision)
    ell = jnp.atleast_1d(jnp.asarray(ell, dtype=float))
    total = cl_1h + cl_2h + noise_cl
    cov = jnp.diag(2.0 * total**2 / ((2.0 * ell + 1.0) * delta_ell * f_sky))
    if include_trispectrum:
        cov = cov + cl_yy_trispectrum(cosmo, profile, ell, precision) / (4.0 * np.pi * f_sky)
    return cov
