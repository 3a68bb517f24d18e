"""C_ell^yy from a cosmology tabulated by a Boltzmann code (CAMB, CLASS through Cobaya).

An upstream code gives the background and the linear CDM+baryon power spectrum as
`CosmologyTables` at the engine's redshift nodes (`engine_redshifts`); `cl_yy_tabulated`
and `cl_yy_trispectrum_tabulated` then run the same formulas as `cl_yy` and
`cl_yy_trispectrum` (one `tsz._ingredients`), with everything that depends on the
expansion history and the power spectrum read from the tables:

* chi(z) and d_A = chi / (1+z) from `chi`; E(z) = H(z) / H0 from `hubble` and cosmo.H0,
  hence dV/dz/dOmega = c chi^2 / H(z), rho_crit(z) (for r500) and P500 ~ E(z)^(8/3);
* Delta_m(z) = 500 rho_crit(z) / rho_m(z), with rho_crit(z) from `hubble` and the mean
  matter density rho_m(z) of the engine's background for the densities of `cosmo`;
* sigma(M, z) and d ln sigma / d ln M at every z node from P_cb(k, z) of that node (no
  assumption of a scale-independent growth), on the engine's sigma quadrature;
* the 2-halo term's P_cb((ell + 1/2) / chi, z).

`cosmo` supplies h (profile h70 scalings), omega_b and omega_cdm (rho_cb of the mass
function), and m_nu where the engine's matter density uses it; its sigma8 / logA, w0, wa
are not used. Its H0 must be the upstream code's H0.

Between the table wavenumbers, ln P is interpolated in ln k by 4-point Lagrange
interpolation on the log-spaced k nodes; beyond them ln P is extrapolated linearly in
ln k with the slope of the two end nodes (P ~ k^n_s on large scales; on small scales
the slope changes slowly, and k > 50 Mpc^-1 only matters for halos below 1e10 Msun and
the 2-halo term at ell / chi(z) > 50 Mpc^-1, where it is negligible).
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .background import E_z, Omega_cb_z, comoving_distance, growth_factor
from .grids import Grids, grids
from .linear_power import power_cb_z0
from .linear_power.sigma import sigma_on_table, sigma_wavenumbers
from .params import CosmoParams, HaloModel
from .precision import Precision
from .tsz import (
    GridCosmology,
    _cl_from_ingredients,
    _ingredients,
    _trispectrum_from_ingredients,
)

__all__ = [
    "H0_TOLERANCE",
    "K_MAX_REQUIRED",
    "K_MIN_REQUIRED",
    "CosmologyTables",
    "check_tables",
    "cl_yy_tabulated",
    "cl_yy_trispectrum_tabulated",
    "engine_redshifts",
    "grid_cosmology_from_tables",
    "tables_from_engine",
]

K_MIN_REQUIRED = 1e-3
"""Largest accepted first table wavenumber [Mpc^-1] (extrapolated as P ~ k^slope below)."""

K_MAX_REQUIRED = 10.0
"""Smallest accepted last table wavenumber [Mpc^-1] (extrapolated in ln P - ln k above)."""


class CosmologyTables(NamedTuple):
    """Background and linear CDM+baryon power of one cosmology at the engine's z nodes (a pytree).

    Attributes
    ----------
    z : array, shape (n_z,)
        Redshifts: exactly `engine_redshifts(precision)`.
    chi : array, shape (n_z,)
        Comoving radial distance chi(z) [Mpc].
    hubble : array, shape (n_z,)
        H(z) [km s^-1 Mpc^-1].
    k : array, shape (n_k,)
        Wavenumbers [Mpc^-1], log-spaced (constant ln k step), k[0] <= `K_MIN_REQUIRED`,
        k[-1] >= `K_MAX_REQUIRED`; e.g. ``np.geomspace(1e-4, 50.0, 400)``.
    pk_cb : array, shape (n_z, n_k)
        Linear power spectrum of CDM + baryons (CAMB's ``delta_nonu`` pair, CLASS's
        ``pk_cb``) at (z, k) [Mpc^3], no h.
    """

    z: ArrayLike
    chi: ArrayLike
    hubble: ArrayLike
    k: ArrayLike
    pk_cb: ArrayLike


def engine_redshifts(precision: Precision = Precision()) -> np.ndarray:
    """The redshift nodes at which `CosmologyTables` must give the background and P_cb.

    Parameters
    ----------
    precision : Precision, optional
        `z_min`, `z_max`, `n_z` (log-spaced nodes of the Limber integral).

    Returns
    -------
    ndarray, shape (n_z,)
        A new array (the caller may modify it).
    """
    return np.array(grids(precision).z)


def _is_concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


H0_TOLERANCE = 1e-3
"""Largest accepted relative difference between cosmo.H0 and the tables' H(z) extrapolated to z = 0."""


def check_tables(tables: CosmologyTables, precision: Precision = Precision(),
                 cosmo: CosmoParams | None = None) -> None:
    """Raise ValueError naming the field when `tables` do not fit `precision` (and `cosmo`).

    Shapes are always checked; the values (z nodes, log-spaced k covering the required
    range, finite and positive chi, H, P, and H(z) extrapolated to z = 0 equal to
    cosmo.H0 within `H0_TOLERANCE`) only where they are concrete (not under an outer
    `jax.jit`, where a bad value gives NaN).

    Parameters
    ----------
    tables : CosmologyTables
    precision : Precision, optional
    cosmo : CosmoParams, optional
        The parameters `tables` will be used with (its H0 is compared).
    """
    if not isinstance(tables, CosmologyTables):
        raise TypeError(f"expected CosmologyTables, got {type(tables).__name__}")
    n_z = precision.n_z
    for name in ("z", "chi", "hubble"):
        shape = jnp.shape(getattr(tables, name))
        if shape != (n_z,):
            raise ValueError(f"CosmologyTables.{name} has shape {shape}; expected ({n_z},): "
                             f"one value per node of engine_redshifts(precision) (n_z = {n_z})")
    k_shape = jnp.shape(tables.k)
    if len(k_shape) != 1 or k_shape[0] < 8:
        raise ValueError(f"CosmologyTables.k has shape {k_shape}; expected (n_k,) with n_k >= 8")
    if jnp.shape(tables.pk_cb) != (n_z, k_shape[0]):
        raise ValueError(f"CosmologyTables.pk_cb has shape {jnp.shape(tables.pk_cb)}; expected "
                         f"(n_z, n_k) = ({n_z}, {k_shape[0]})")
    if _is_concrete(tables.z):
        expected = grids(precision).z
        z = np.asarray(tables.z, dtype=float)
        worst = float(np.max(np.abs(z / expected - 1.0)))
        if not worst < 1e-8:
            raise ValueError(f"CosmologyTables.z are not engine_redshifts(precision) (largest relative "
                             f"difference {worst:.3g}; nodes log-spaced over [{precision.z_min}, "
                             f"{precision.z_max}], n_z = {n_z})")
    if _is_concrete(tables.k):
        ln_k = np.log(np.asarray(tables.k, dtype=float))
        steps = np.diff(ln_k)
        if not (np.all(np.isfinite(ln_k)) and np.all(steps > 0)
                and np.allclose(steps, steps[0], rtol=1e-6, atol=0.0)):
            raise ValueError("CosmologyTables.k must be increasing and log-spaced (constant ln k step)")
        if not (ln_k[0] <= np.log(K_MIN_REQUIRED) and ln_k[-1] >= np.log(K_MAX_REQUIRED)):
            raise ValueError(f"CosmologyTables.k covers [{np.exp(ln_k[0]):.3g}, {np.exp(ln_k[-1]):.3g}] "
                             f"Mpc^-1; it must start at or below {K_MIN_REQUIRED:g} and end at or above "
                             f"{K_MAX_REQUIRED:g} Mpc^-1")
    for name in ("chi", "hubble", "pk_cb"):
        value = getattr(tables, name)
        if _is_concrete(value):
            value = np.asarray(value, dtype=float)
            if not np.all(np.isfinite(value) & (value > 0)):
                raise ValueError(f"CosmologyTables.{name} must be finite and positive")
    if cosmo is not None and _is_concrete(tables.hubble) and _is_concrete(cosmo.H0):
        z = grids(precision).z[:3]
        h0_tables = float(np.polyval(np.polyfit(z, np.asarray(tables.hubble, dtype=float)[:3], 2), 0.0))
        if not abs(h0_tables / float(cosmo.H0) - 1.0) < H0_TOLERANCE:
            raise ValueError(f"CosmologyTables.hubble extrapolates to H0 = {h0_tables:.6g} km/s/Mpc at z = 0, "
                             f"but cosmo.H0 = {float(cosmo.H0):.6g}: give the upstream code's H0 (relative "
                             f"tolerance {H0_TOLERANCE:g})")


def _ln_power_at(ln_p: jax.Array, t: jax.Array) -> jax.Array:
    """ln P at fractional table positions `t`: 4-point Lagrange inside, linear beyond the ends.

    Parameters
    ----------
    ln_p : Array, shape (n_z, n_k)
        ln P on the log-spaced table.
    t : Array, shape (m,) or (n_z, m)
        (ln k - ln k_0) / d ln k.

    Returns
    -------
    Array, shape (n_z, m)
    """
    n_z, n = ln_p.shape
    t = jnp.broadcast_to(t, (n_z,) + jnp.shape(t)[-1:])
    i = jnp.clip(jnp.floor(t), 1, n - 3).astype(jnp.int32)
    f = jnp.clip(t, 0.0, n - 1.0) - i

    def take(offset):
        return jnp.take_along_axis(ln_p, i + offset, axis=-1)

    cubic = (-f * (f - 1.0) * (f - 2.0) / 6.0 * take(-1) + (f + 1.0) * (f - 1.0) * (f - 2.0) / 2.0 * take(0)
             - (f + 1.0) * f * (f - 2.0) / 2.0 * take(1) + (f + 1.0) * f * (f - 1.0) / 6.0 * take(2))
    below = ln_p[:, :1] + t * (ln_p[:, 1:2] - ln_p[:, :1])
    above = ln_p[:, -1:] + (t - (n - 1)) * (ln_p[:, -1:] - ln_p[:, -2:-1])
    return jnp.where(t < 0.0, below, jnp.where(t > n - 1.0, above, cubic))


def grid_cosmology_from_tables(tables: CosmologyTables, cosmo: CosmoParams, ell: jax.Array,
                               g: Grids) -> GridCosmology:
    """The `GridCosmology` of `tables` (module docstring: what comes from where).

    Parameters
    ----------
    tables : CosmologyTables
        At the z nodes of `g` (checked by `check_tables`).
    cosmo : CosmoParams
        H0 and the densities.
    ell : Array, shape (n_ell,)
    g : Grids

    Returns
    -------
    GridCosmology
    """
    z = g.z
    chi = jnp.asarray(tables.chi, dtype=float)
    e_z = jnp.asarray(tables.hubble, dtype=float) / cosmo.H0
    # rho_crit(z) / rho_cb(z) with H(z) from the tables: rho_cb(z) / rho_crit,0 = Omega_cb(z) E(z)^2.
    inv_omega_cb = e_z**2 / (Omega_cb_z(z, cosmo) * E_z(z, cosmo) ** 2)

    ln_k = jnp.log(jnp.asarray(tables.k, dtype=float))
    ln_k0, dln_k = ln_k[0], (ln_k[-1] - ln_k[0]) / (ln_k.size - 1)
    ln_p = jnp.log(jnp.asarray(tables.pk_cb, dtype=float))

    k_sigma = sigma_wavenumbers(cosmo, g.sigma.lnk_tilde)
    p_sigma = jnp.exp(_ln_power_at(ln_p, (jnp.log(k_sigma) - ln_k0) / dln_k))
    ln_sigma, dlnsigma_dlnm = jax.vmap(lambda p: sigma_on_table(g.sigma, k_sigma, p))(p_sigma)

    ln_k_limber = jnp.log(ell + 0.5)[None, :] - jnp.log(chi)[:, None]
    p_lin = jnp.exp(_ln_power_at(ln_p, (ln_k_limber - ln_k0) / dln_k))
    return GridCosmology(chi, e_z, inv_omega_cb, ln_sigma, dlnsigma_dlnm, p_lin)


@jax.jit
def _cl_yy_tabulated(tables, cosmo, profile, ell, precision, model):
    ell = jnp.atleast_1d(jnp.asarray(ell, dtype=float))
    on_grid = grid_cosmology_from_tables(tables, cosmo, ell, grids(precision))
    return _cl_from_ingredients(_ingredients(cosmo, profile, ell, precision, model, on_grid))


@jax.jit
def _cl_yy_trispectrum_tabulated(tables, cosmo, profile, ell, precision, model):
    ell = jnp.atleast_1d(jnp.asarray(ell, dtype=float))
    on_grid = grid_cosmology_from_tables(tables, cosmo, ell, grids(precision))
    return _trispectrum_from_ingredients(_ingredients(cosmo, profile, ell, precision, model, on_grid))


def cl_yy_tabulated(tables: CosmologyTables, cosmo: CosmoParams, profile, ell: ArrayLike,
                    precision: Precision = Precision(),
                    model: HaloModel = HaloModel()) -> tuple[jax.Array, jax.Array]:
    """`cl_yy` with the background and the linear CDM+baryon power read from `tables`.

    Parameters
    ----------
    tables : CosmologyTables
        At `engine_redshifts(precision)` (`check_tables`: ValueError naming the field otherwise).
    cosmo : CosmoParams
        H0 (the upstream code's: checked against the tables) and the densities;
        sigma8 / logA, w0, wa unused.
    profile, ell, precision : as for `cl_yy`
    model : HaloModel, optional
        Static: the mass function and the bias (its `linear_power` is not used).

    Returns
    -------
    (cl_1h, cl_2h) : tuple of Arrays, shape (n_ell,)
        Dimensionless C_ell^yy; NaN where `cl_yy` gives NaN (parameters out of range,
        ell beyond the profile table) or where the tables are not positive.

    Jit-safe and differentiable in `tables`, `cosmo` and `profile` (under an outer
    `jax.jit` only the shapes of `tables` are checked).
    """
    check_tables(tables, precision, cosmo)
    return _cl_yy_tabulated(tables, cosmo, profile, ell, precision, model)


def cl_yy_trispectrum_tabulated(tables: CosmologyTables, cosmo: CosmoParams, profile, ell: ArrayLike,
                                precision: Precision = Precision(),
                                model: HaloModel = HaloModel()) -> jax.Array:
    """`cl_yy_trispectrum` with the background and P_cb read from `tables`.

    Parameters
    ----------
    tables, cosmo, profile, ell, precision, model
        As for `cl_yy_tabulated`.

    Returns
    -------
    Array, shape (n_ell, n_ell)
        Dimensionless full-sky 1-halo T(ell, ell') (NaN for an unphysical point).
    """
    check_tables(tables, precision, cosmo)
    return _cl_yy_trispectrum_tabulated(tables, cosmo, profile, ell, precision, model)


def tables_from_engine(cosmo: CosmoParams, k: ArrayLike, precision: Precision = Precision(),
                       model: HaloModel = HaloModel()) -> CosmologyTables:
    """The engine's own cosmology as `CosmologyTables` (what an upstream code would hand over).

    chi(z) and H(z) = H0 E(z) from background.py, P_cb(k, z) = P_cb(k, 0) D(z)^2 from the
    linear-power backend of `model`. `cl_yy_tabulated` of these tables reproduces `cl_yy`
    up to the interpolation in ln k (tests/test_tabulated_cosmology.py).

    Parameters
    ----------
    cosmo : CosmoParams
    k : array_like, shape (n_k,)
        Log-spaced wavenumbers [Mpc^-1].
    precision : Precision, optional
        Its z nodes.
    model : HaloModel, optional
        Static: the linear-power backend.

    Returns
    -------
    CosmologyTables
    """
    z = engine_redshifts(precision)
    k = jnp.asarray(k, dtype=float)
    growth = growth_factor(z, cosmo)
    pk = power_cb_z0(cosmo, k, model)[None, :] * (growth**2)[:, None]
    return CosmologyTables(z, comoving_distance(z, cosmo), cosmo.H0 * E_z(z, cosmo), k, pk)
