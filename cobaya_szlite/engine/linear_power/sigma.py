"""sigma(M) and sigma(R) from a linear power spectrum: one fixed quadrature for every use.

sigma^2(R) = Int dln k k^3 P(k) / (2 pi^2) W(kR)^2 with the top-hat window W, by the
trapezoid rule on `Precision.n_k` nodes k = k~ omega_m^(1/3), k~ log-spaced in
[1e-5, 1e3] Mpc^-1. With R = R~ omega_m^(-1/3) the products k R, hence the window
matrices, do not depend on the cosmology: on a static mass grid they are tables
(`grids.SigmaTable`, built by `sigma_table`), and sigma^2 is one matrix-vector product.
For traced radii the same window is evaluated on the fly (`sigma2_at_radius`).
"""

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ..background import h_of, omega_m
from ..constants import RHO_CRIT_100
from ..params import CosmoParams

__all__ = [
    "LNK_MAX",
    "LNK_MIN",
    "N_K_NORM",
    "SigmaTable",
    "sigma2_at_radius",
    "sigma_nodes",
    "sigma_on_table",
    "sigma_table",
    "sigma_wavenumbers",
    "sigma8_normalised",
    "tophat_window",
    "tophat_window_dlnx",
]

LNK_MIN = float(np.log(1e-5))
"""ln of the smallest wavenumber k~ of the sigma quadrature [ln Mpc^-1]."""

LNK_MAX = float(np.log(1e3))
"""ln of the largest wavenumber k~ of the sigma quadrature [ln Mpc^-1]."""

N_K_NORM = 1024
"""Nodes of the sigma8 normalisation integral of the backends (ln k in [1e-5, 1e3] Mpc^-1)."""

_LNK_NORM = np.linspace(LNK_MIN, LNK_MAX, N_K_NORM)
_DLNK_NORM = float(_LNK_NORM[1] - _LNK_NORM[0])


def tophat_window(x: ArrayLike, xp=jnp) -> ArrayLike:
    """Fourier transform of a unit top-hat, W(x) = 3 (sin x - x cos x) / x^3.

    Parameters
    ----------
    x : array_like
        k R [dimensionless].
    xp : module
        jax.numpy (traced use) or numpy (static tables).

    Returns
    -------
    Array of the shape of `x` (series 1 - x^2/10 below x = 1e-3).
    """
    small = xp.abs(x) < 1e-3
    xs = xp.where(small, 1.0, x)
    full = 3.0 * (xp.sin(xs) - xs * xp.cos(xs)) / xs**3
    return xp.where(small, 1.0 - x**2 / 10.0, full)


def tophat_window_dlnx(x: ArrayLike, xp=jnp) -> ArrayLike:
    """x dW/dx of the top-hat window [dimensionless] (`xp` as in `tophat_window`)."""
    small = xp.abs(x) < 1e-3
    xs = xp.where(small, 1.0, x)
    full = 3.0 * ((xs**2 - 3.0) * xp.sin(xs) + 3.0 * xs * xp.cos(xs)) / xs**3
    return xp.where(small, -(x**2) / 5.0, full)


class SigmaTable(NamedTuple):
    """Static sigma(M) quadrature on a fixed mass grid (NumPy constants).

    Attributes
    ----------
    lnk_tilde : ndarray, shape (n_k,)
        ln k~ nodes [ln Mpc^-1]; the wavenumbers are exp(lnk_tilde) omega_m^(1/3).
    window2 : ndarray, shape (n_m, n_k)
        W(k R)^2 times the trapezoid weight d ln k.
    window_dwindow : ndarray, shape (n_m, n_k)
        W (x dW/dx) times d ln k.
    """

    lnk_tilde: np.ndarray
    window2: np.ndarray
    window_dwindow: np.ndarray


def sigma_nodes(n_k: int) -> tuple[np.ndarray, float]:
    """Static ln k~ nodes of the sigma quadrature and their spacing.

    Parameters
    ----------
    n_k : int
        Number of nodes (`Precision.n_k`).

    Returns
    -------
    (ndarray, float)
        ln k~ [ln Mpc^-1] and d ln k.
    """
    lnk = np.linspace(LNK_MIN, LNK_MAX, n_k)
    return lnk, float(lnk[1] - lnk[0])


def sigma_table(mass: np.ndarray, n_k: int) -> SigmaTable:
    """Build the `SigmaTable` of static masses (NumPy).

    Parameters
    ----------
    mass : ndarray
        Masses [Msun] (enclosed at the mean matter density).
    n_k : int
        Number of ln k nodes.

    Returns
    -------
    SigmaTable
    """
    r_tilde = (3.0 * np.asarray(mass) / (4.0 * np.pi * RHO_CRIT_100)) ** (1.0 / 3.0)
    lnk, dlnk = sigma_nodes(n_k)
    x = r_tilde[:, None] * np.exp(lnk)[None, :]
    w = tophat_window(x, np)
    return SigmaTable(lnk, w**2 * dlnk, w * tophat_window_dlnx(x, np) * dlnk)


def sigma_wavenumbers(cosmo: CosmoParams, lnk_tilde: np.ndarray) -> jax.Array:
    """Wavenumbers of the sigma quadrature for this cosmology [Mpc^-1].

    Parameters
    ----------
    cosmo : CosmoParams
    lnk_tilde : ndarray
        Static nodes (`SigmaTable.lnk_tilde` or `sigma_nodes`).

    Returns
    -------
    Array, shape (n_k,)
    """
    return jnp.exp(lnk_tilde) * omega_m(cosmo) ** (1.0 / 3.0)


def _delta2(k, power):
    """Dimensionless k^3 P(k) / (2 pi^2)."""
    return k**3 * power / (2.0 * np.pi**2)


def sigma_on_table(table: SigmaTable, k: ArrayLike, power: ArrayLike) -> tuple[jax.Array, jax.Array]:
    """ln sigma(M) and d ln sigma / d ln M on the mass grid of `table`, at the redshift of `power`.

    Parameters
    ----------
    table : SigmaTable
    k : Array, shape (n_k,)
        `sigma_wavenumbers(cosmo, table.lnk_tilde)` [Mpc^-1].
    power : Array, shape (n_k,)
        Linear P(k) at `k` [Mpc^3].

    Returns
    -------
    (Array, Array), shape (n_m,) each
        ln sigma and d ln sigma / d ln M (dimensionless).
    """
    d2 = _delta2(k, power)
    s2 = table.window2 @ d2
    return 0.5 * jnp.log(s2), (table.window_dwindow @ d2) / s2 / 3.0


def sigma2_at_radius(radius: ArrayLike, k: ArrayLike, power: ArrayLike,
                     dlnk: float) -> tuple[jax.Array, jax.Array]:
    """sigma^2(R) and d ln sigma / d ln R for traced radii, on the same quadrature.

    Parameters
    ----------
    radius : array_like
        Comoving radius [Mpc].
    k : Array, shape (n_k,)
        `sigma_wavenumbers(cosmo, sigma_nodes(n_k)[0])` [Mpc^-1].
    power : Array, shape (n_k,)
        Linear P(k) at `k` [Mpc^3].
    dlnk : float
        Node spacing (`sigma_nodes(n_k)[1]`).

    Returns
    -------
    (Array, Array)
        sigma^2 and d ln sigma / d ln R, of the shape of `radius`.
    """
    d2 = _delta2(k, power)
    x = jnp.asarray(radius, dtype=float)[..., None] * k
    w = tophat_window(x)
    s2 = jnp.sum(w**2 * dlnk * d2, axis=-1)
    return s2, jnp.sum(w * tophat_window_dlnx(x) * dlnk * d2, axis=-1) / s2


def sigma8_normalised(
    cosmo: CosmoParams, unnormalised_power: Callable[[jax.Array], jax.Array], k: ArrayLike
) -> jax.Array:
    """A S(k), with the amplitude A fixed by sigma(8 h^-1 Mpc, z=0) = sigma8.

    The normalisation integral is a `N_K_NORM`-node trapezoid rule in ln k over
    [1e-5, 1e3] Mpc^-1 with the top-hat window; one call of `unnormalised_power` serves
    its nodes and every requested wavenumber (the backends' shared normalisation).

    Parameters
    ----------
    cosmo : CosmoParams
        Provides sigma8 and h.
    unnormalised_power : callable
        S(k) for a flat array of wavenumbers [Mpc^-1], any constant units.
    k : array_like, shape (n,)
        Comoving wavenumbers [Mpc^-1] (one flat array).

    Returns
    -------
    Array, shape (n,)
        The linear power at z = 0 [Mpc^3].
    """
    k_norm = np.exp(_LNK_NORM)
    shape = unnormalised_power(jnp.concatenate([k_norm, jnp.asarray(k, dtype=float)]))
    s_norm, s_k = shape[:N_K_NORM], shape[N_K_NORM:]
    delta2_norm = k_norm**3 * s_norm / (2.0 * np.pi**2)
    window = tophat_window(8.0 / h_of(cosmo) * k_norm)
    amplitude = cosmo.sigma8**2 / (jnp.sum(delta2_norm * window**2, axis=-1) * _DLNK_NORM)
    return amplitude * s_k
