"""Every static table of a `Precision`: z and M nodes with their weights, the sigma(M)
quadrature, the profile Fourier table and the Hankel index of the mass integral.

All of it is NumPy, built once per `Precision` (cached) and entering compiled code as
constants. Building the grids checks the `Precision` (`check_precision`): a setting
outside its hard limits is refused here, whichever entry point uses it first.
"""

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from .linear_power.sigma import SigmaTable, sigma_table
from .precision import Precision, check_precision, q_table
from .quadrature import cubic_sinc_transform_weights, simpson_weights

__all__ = ["X_INF", "X_MIN", "FourierTable", "Grids", "fourier_table", "grids"]

X_MIN = 1e-6
"""Smallest non-zero radial node of the profile transform [in units of the profile's scale radius]."""

X_INF = 1e3
"""Upper radial limit used for an untruncated profile (x_out = inf); the neglected tail is
below 1e-6 of u(0) for an outer slope beta > 4."""


class FourierTable(NamedTuple):
    """Static rule for u(q) on log-spaced q nodes: u = weights @ (x^2 p(x)).

    Attributes
    ----------
    ln_q0 : float
        ln q of the first node.
    dln_q : float
        Node spacing in ln q: one third of the ln M step of the mass grid.
    x : ndarray, shape (n_x,)
        Radial nodes (log-spaced from `X_MIN` to x_out, or `X_INF` when x_out = inf).
    weights : ndarray, shape (n_q, n_x)
        Exact sine-integral weights of Int_0^x_out f(x) sin(qx)/(qx) dx for a local-cubic f.
    """

    ln_q0: float
    dln_q: float
    x: np.ndarray
    weights: np.ndarray


class Grids(NamedTuple):
    """Static grids of one `Precision` (NumPy constants).

    Attributes
    ----------
    z : ndarray, shape (n_z,)
        Redshift nodes, log-spaced over [z_min, z_max].
    z_weights : ndarray, shape (n_z,)
        Simpson weights of Int dz (in ln z, times z).
    mass : ndarray, shape (n_m,)
        True mass nodes [Msun] in `HaloModel.mass_definition` (M500c by default), log-spaced over [m_min, m_max].
    mass_weights : ndarray, shape (n_m,)
        Simpson weights of Int d ln M.
    sigma : SigmaTable
        sigma(M) quadrature on `mass` (`Precision.n_k` wavenumbers).
    fourier : FourierTable
        Profile transform table (self-similar profiles).
    hankel_index : ndarray of int, shape (n_m, n_lag)
        Row index mass + lag into the q table: u[hankel_index] is the Hankel matrix of
        the mass integral.
    """

    z: np.ndarray
    z_weights: np.ndarray
    mass: np.ndarray
    mass_weights: np.ndarray
    sigma: SigmaTable
    fourier: FourierTable
    hankel_index: np.ndarray


@lru_cache(maxsize=16)
def fourier_table(precision: Precision) -> FourierTable:
    """Build the `FourierTable` of `precision` (NumPy, cached per Precision).

    The ln q spacing is one third of the ln M spacing, because q at fixed (ell, z)
    scales as r500 ~ M^(1/3): moving one mass node moves q by exactly one table row.

    Parameters
    ----------
    precision : Precision
        `x_out`, `n_x`, the q range (`q_table`) and, through the ln q spacing, `n_m`.

    Returns
    -------
    FourierTable
    """
    check_precision(precision)
    ln_q0, dln_q, n_q = q_table(precision)
    q = np.exp(ln_q0 + dln_q * np.arange(n_q))
    x_hi = X_INF if np.isinf(precision.x_out) else precision.x_out
    x = np.geomspace(X_MIN, x_hi, precision.n_x)
    return FourierTable(ln_q0, dln_q, x, cubic_sinc_transform_weights(q, x))


@lru_cache(maxsize=16)
def grids(precision: Precision) -> Grids:
    """Build the `Grids` of `precision` once (cached per Precision; refuses a bad one).

    Parameters
    ----------
    precision : Precision
        Sizes and ranges of every grid (static, hashable: the cache key).

    Returns
    -------
    Grids
    """
    check_precision(precision)
    ln_z = np.linspace(np.log(precision.z_min), np.log(precision.z_max), precision.n_z)
    z = np.exp(ln_z)
    z_weights = simpson_weights(precision.n_z, ln_z[1] - ln_z[0]) * z
    ln_m = np.linspace(np.log(precision.m_min), np.log(precision.m_max), precision.n_m)
    mass = np.exp(ln_m)
    mass_weights = simpson_weights(precision.n_m, ln_m[1] - ln_m[0])
    table = fourier_table(precision)
    n_lag = table.weights.shape[0] - precision.n_m + 1
    hankel_index = np.arange(precision.n_m)[:, None] + np.arange(n_lag)[None, :]
    return Grids(z, z_weights, mass, mass_weights, sigma_table(mass, precision.n_k), table, hankel_index)
