"""sigma(M) and sigma(R) from a linear power spectrum: one fixed quadrature for every use;
the amplitude of the backends (sigma8 or A_s).

sigma^2(R) = Int dln k k^3 P(k) / (2 pi^2) W(kR)^2 with the top-hat window W, by the
trapezoid rule on `Precision.n_k` nodes k = k~ omega_cb^(1/3), k~ log-spaced in
[1e-5, 1e3] Mpc^-1. Halo masses enclose the mean CDM + baryon density, R = R~
omega_cb^(-1/3) with R~ = (3 M / (4 pi rho_crit,100))^(1/3), so the products k R, hence
the window matrices, do not depend on the cosmology: on a static mass grid they are
tables (`grids.SigmaTable`, built by `sigma_table`), and sigma^2 is one matrix-vector
product. For traced radii the same window is evaluated on the fly (`sigma2_at_radius`).

Amplitude (`normalised_power`): a backend gives the shape S(k) of the total-matter
spectrum; with `cosmo.sigma8` set, P = A S with sigma(8 h^-1 Mpc) = sigma8; with
`cosmo.logA` set, the backend's own A_s -> sigma8 relation gives the sigma8 first.
`primordial_delta2_cb` is the physical A_s relation for a transfer-function backend.
"""

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ..background import growth_md0, h_of, omega_cb
from ..constants import C_KM_S, RHO_CRIT_100
from ..params import CosmoParams

__all__ = [
    "K_PIVOT",
    "LNK_MAX",
    "LNK_MIN",
    "N_K_NORM",
    "SigmaTable",
    "normalised_power",
    "primordial_delta2_cb",
    "sigma8_from_power",
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

K_PIVOT = 0.05
"""Pivot scale of A_s and n_s [Mpc^-1] (Planck's and CAMB's)."""

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
        ln k~ nodes [ln Mpc^-1]; the wavenumbers are exp(lnk_tilde) omega_cb^(1/3).
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
        Masses [Msun] (enclosed at the mean CDM + baryon density).
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
    return jnp.exp(lnk_tilde) * omega_cb(cosmo) ** (1.0 / 3.0)


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


def _sigma8_squared(cosmo: CosmoParams, delta2_norm: ArrayLike) -> jax.Array:
    """sigma^2(8 h^-1 Mpc) from Delta^2 on the `N_K_NORM` normalisation nodes."""
    window = tophat_window(8.0 / h_of(cosmo) * np.exp(_LNK_NORM))
    return jnp.sum(delta2_norm * window**2, axis=-1) * _DLNK_NORM


def sigma8_from_power(cosmo: CosmoParams, power: Callable[[jax.Array], jax.Array]) -> jax.Array:
    """sigma(8 h^-1 Mpc) of a power spectrum, on the `N_K_NORM`-node normalisation rule.

    Parameters
    ----------
    cosmo : CosmoParams
        Provides h.
    power : callable
        P(k) [Mpc^3] for a flat array of wavenumbers [Mpc^-1].

    Returns
    -------
    Array, scalar
        Dimensionless.
    """
    k_norm = np.exp(_LNK_NORM)
    return jnp.sqrt(_sigma8_squared(cosmo, _delta2(k_norm, power(jnp.asarray(k_norm)))))


def primordial_delta2_cb(cosmo: CosmoParams, k: ArrayLike, transfer: ArrayLike) -> jax.Array:
    """Delta^2_cb(k, z=0) from A_s and a transfer function normalised to 1 on large scales.

    Delta^2_cb = (4/25) A_s (k/k_pivot)^(n_s-1) (k/H0)^4 T(k)^2 G0^2 / Omega_cb^2: the
    comoving-gauge density of a mode in matter domination, delta = (2/5) zeta (k/H0)^2
    a / Omega_cb (Poisson equation with Phi = (3/5) zeta), T(k) the transfer function
    through radiation domination and the baryon drag, G0 = `background.growth_md0` the
    growth since then (dark energy, neutrino free streaming). CDM + baryons are the
    clustering matter here (the neutrinos, relativistic at the matching epoch, are smooth
    on the scales of sigma8).

    Parameters
    ----------
    cosmo : CosmoParams
        Needs `logA` set (A_s = 1e-10 exp(logA)).
    k : array_like
        Wavenumbers [Mpc^-1].
    transfer : array_like
        T(k) of CDM + baryons at `k` (-> 1 as k -> 0).

    Returns
    -------
    Array
        Dimensionless, the shape of `k`.
    """
    k = jnp.asarray(k)
    a_s = 1e-10 * jnp.exp(cosmo.logA)
    k_h0 = k * C_KM_S / cosmo.H0
    omega_cb_today = omega_cb(cosmo) / h_of(cosmo) ** 2
    return (
        4.0 / 25.0 * a_s * (k / K_PIVOT) ** (cosmo.n_s - 1.0) * k_h0**4 * transfer**2
        * (growth_md0(cosmo) / omega_cb_today) ** 2
    )


def normalised_power(
    cosmo: CosmoParams,
    shape: Callable[[jax.Array], jax.Array],
    k: ArrayLike,
    sigma8_from_logA: Callable[[CosmoParams], jax.Array] | None,
) -> jax.Array:
    """A S(k): the total-matter linear power at z = 0 with the amplitude of `cosmo` [Mpc^3].

    sigma8 = `cosmo.sigma8` if it is set, else `sigma8_from_logA(cosmo)` (the backend's own
    A_s relation, called only when `cosmo.logA` is set; which field is set is static).
    A follows from sigma(8 h^-1 Mpc, z=0) = sigma8 on a `N_K_NORM`-node trapezoid rule in
    ln k over [1e-5, 1e3] Mpc^-1 with the top-hat window; one call of `shape` serves its
    nodes and every requested wavenumber.

    Parameters
    ----------
    cosmo : CosmoParams
    shape : callable
        S(k), the unnormalised total-matter spectrum, for a flat array of wavenumbers
        [Mpc^-1], any constant units.
    k : array_like, shape (n,)
        Comoving wavenumbers [Mpc^-1] (one flat array).
    sigma8_from_logA : callable or None
        ``sigma8_from_logA(cosmo) -> sigma8``; None for a backend without an A_s relation
        (a `cosmo` with logA set is then refused with a ValueError).

    Returns
    -------
    Array, shape (n,)
        The linear power at z = 0 [Mpc^3].
    """
    if cosmo.sigma8 is not None:
        sigma8 = cosmo.sigma8
    elif sigma8_from_logA is None:
        raise ValueError("this linear-power backend has no A_s relation: give CosmoParams.sigma8, not logA")
    else:
        sigma8 = sigma8_from_logA(cosmo)
    k_norm = np.exp(_LNK_NORM)
    s = shape(jnp.concatenate([k_norm, jnp.asarray(k, dtype=float)]))
    s_norm, s_k = s[:N_K_NORM], s[N_K_NORM:]
    return sigma8**2 / _sigma8_squared(cosmo, _delta2(k_norm, s_norm)) * s_k


def sigma8_normalised(
    cosmo: CosmoParams, unnormalised_power: Callable[[jax.Array], jax.Array], k: ArrayLike
) -> jax.Array:
    """`normalised_power` without an A_s relation: sigma8 must be set [Mpc^3].

    Parameters
    ----------
    cosmo : CosmoParams
        Provides sigma8 and h (a ValueError if only logA is set).
    unnormalised_power : callable
        S(k) for a flat array of wavenumbers [Mpc^-1], any constant units.
    k : array_like, shape (n,)
        Comoving wavenumbers [Mpc^-1] (one flat array).

    Returns
    -------
    Array, shape (n,)
        The linear power at z = 0 [Mpc^3].
    """
    return normalised_power(cosmo, unnormalised_power, k, None)
