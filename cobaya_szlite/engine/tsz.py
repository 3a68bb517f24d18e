"""The tSZ angular power spectrum C_ell^yy (1-halo, 2-halo), its 1-halo trispectrum and
the binned covariance, in the Limber approximation. Only assembles the components.

C1h(ell) = Int dz dV/dzdOmega Int dlnM n(M, z) y_ell(M, z)^2
C2h(ell) = Int dz dV/dzdOmega P_lin((ell+1/2)/chi, z) [Int dlnM n b y_ell]^2

Both integrals use Simpson's rule on the log-spaced z and M grids of `grids`. For a
self-similar profile q = (ell+1/2) r500 / d_A scales as M^(1/3), and the profile transform
is tabulated on a ln q grid whose step is one third of the ln M step: the mass integral
at every (z, table offset) is then one matrix product of the (z, M) weights with a Hankel
matrix of u(q), and each (ell, z) reads it at a fractional offset (4-point Lagrange
interpolation). Profiles whose shape depends on mass and redshift provide y_ell on the
(z, M, ell) grid instead (`profiles` module docstring).

The background and the linear CDM+baryon power enter through one `GridCosmology` (chi,
E(z), Delta_m, sigma(M, z), P at the Limber wavenumbers on the z grid): `cl_yy` builds it
with the engine (`engine_grid_cosmology`), `tables.cl_yy_tabulated` from a Boltzmann
code's tables; the rest (`_ingredients` and the integrals) is shared.
"""

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .background import E_z, Omega_cb_z, comoving_distance, growth_factor
from .constants import C_KM_S
from .grids import Grids, grids
from .halos import critical_overdensity
from .linear_power import power_cb_z0
from .linear_power.sigma import sigma_on_table, sigma_wavenumbers
from .mass_function import halo_bias_function, mass_function, number_density_factor
from .params import CosmoParams, HaloModel
from .precision import Precision
from .profiles import fourier_on_table, profile_component
from .quadrature import lagrange4_interp, lagrange4_weights
from .validate import physical_mask
from .x64 import require_x64

__all__ = ["GridCosmology", "cl_yy", "cl_yy_covariance", "cl_yy_trispectrum", "engine_grid_cosmology"]


class GridCosmology(NamedTuple):
    """Background and linear CDM+baryon power of one point on the z grid of `grids`.

    The one input of the Limber integrals that depends on how the cosmology is computed:
    built by the engine (`engine_grid_cosmology`: background.py and the linear-power
    backend) or from a Boltzmann code's tables (`tables.grid_cosmology_from_tables`).

    Attributes
    ----------
    chi : Array, shape (n_z,)
        Comoving distance chi(z) [Mpc].
    e_z : Array, shape (n_z,)
        E(z) = H(z) / H0 [dimensionless].
    inv_omega_cb : Array, shape (n_z,)
        rho_crit(z) / rho_cb(z) = 1 / Omega_cb(z): the halo overdensity relative to the mean
        CDM + baryon density is Delta_m = Delta_c / Omega_cb(z) (`halos.delta_mean`).
    ln_sigma : Array, shape (n_z, n_m)
        ln sigma(M, z) of the CDM+baryon field on the mass grid.
    dlnsigma_dlnm : Array, shape (n_m,) or (n_z, n_m)
        d ln sigma / d ln M (redshift-independent for a scale-independent growth).
    p_lin : Array, shape (n_z, n_ell)
        Linear CDM+baryon P(k, z) at the Limber wavenumbers (ell + 1/2) / chi(z) [Mpc^3].
    """

    chi: jax.Array
    e_z: jax.Array
    inv_omega_cb: jax.Array
    ln_sigma: jax.Array
    dlnsigma_dlnm: jax.Array
    p_lin: jax.Array


class HaloWeights(NamedTuple):
    """Background and halo quantities on the (z, M) grid of one point.

    Attributes
    ----------
    dvol : Array, shape (n_z,)
        dV/dz/dOmega [Mpc^3 sr^-1] times the Simpson z weights.
    number : Array, shape (n_z, n_m)
        dn/dlnM [Mpc^-3] times the Simpson ln M weights.
    bias : Array, shape (n_z, n_m)
        Linear halo bias.
    p_lin : Array, shape (n_z, n_ell)
        Linear P(k, z) at the Limber wavenumbers (ell + 1/2) / chi(z) [Mpc^3].
    """

    dvol: jax.Array
    number: jax.Array
    bias: jax.Array
    p_lin: jax.Array


class SelfSimilarTerms(NamedTuple):
    """y_ell = prefactor(z, M) u(q) with one u(q) table (the Hankel fast path).

    Attributes
    ----------
    prefactor : Array, shape (n_z, n_m)
        y_ell / u(q) [sr].
    u : Array, shape (n_q,)
        u(q) on the q table of `Grids.fourier`.
    offset : Array, shape (n_z, n_ell)
        Fractional q-table row of the lowest mass at each (z, ell).
    """

    prefactor: jax.Array
    u: jax.Array
    offset: jax.Array


class GeneralTerms(NamedTuple):
    """y_ell evaluated at every (z, M, ell) node.

    Attributes
    ----------
    y : Array, shape (n_z, n_m, n_ell)
        y_ell(M, z) [sr].
    """

    y: jax.Array


class Ingredients(NamedTuple):
    """Everything the Limber integrals of one point need.

    Attributes
    ----------
    grids : Grids
    ell : Array, shape (n_ell,)
    halo : HaloWeights
    profile : SelfSimilarTerms or GeneralTerms
    valid : Array, bool scalar
        The point is physical and every q it needs is inside the profile table.
    """

    grids: Grids
    ell: jax.Array
    halo: HaloWeights
    profile: SelfSimilarTerms | GeneralTerms
    valid: jax.Array


def engine_grid_cosmology(cosmo: CosmoParams, ell: jax.Array, g: Grids, model: HaloModel) -> GridCosmology:
    """The engine's own `GridCosmology`: background.py and the linear-power backend.

    One backend call evaluates P(k, z=0) at the sigma(M) and Limber wavenumbers together;
    P(k, z) = P(k, 0) D(z)^2 and sigma(M, z) = sigma(M, 0) D(z).

    Parameters
    ----------
    cosmo : CosmoParams
    ell : Array, shape (n_ell,)
    g : Grids
    model : HaloModel
        Static: the linear-power backend.

    Returns
    -------
    GridCosmology
    """
    z = g.z
    chi = comoving_distance(z, cosmo)
    growth = growth_factor(z, cosmo)
    k_sigma = sigma_wavenumbers(cosmo, g.sigma.lnk_tilde)
    k_limber = (ell[None, :] + 0.5) / chi[:, None]
    power = power_cb_z0(cosmo, jnp.concatenate([k_sigma, k_limber.ravel()]), model)
    p_sigma, p_limber = power[: k_sigma.size], power[k_sigma.size:]
    p_lin = p_limber.reshape(k_limber.shape) * (growth**2)[:, None]
    ln_sigma0, dlnsigma_dlnm = sigma_on_table(g.sigma, k_sigma, p_sigma)
    ln_sigma = ln_sigma0[None, :] + jnp.log(growth)[:, None]
    return GridCosmology(chi, E_z(z, cosmo), 1.0 / Omega_cb_z(z, cosmo), ln_sigma, dlnsigma_dlnm, p_lin)


def _ingredients(cosmo: CosmoParams, profile, ell, precision, model,
                 on_grid: GridCosmology | None = None) -> Ingredients:
    """Mass function, bias, volume and profile terms on the grids of `precision`.

    The background and the linear power come from `on_grid` (None: the engine computes
    them, `engine_grid_cosmology`); `cosmo` gives h and the densities. Every component
    receives d_A(z) and E(z) from `on_grid` (profiles module docstring).
    """
    require_x64()
    g = grids(precision)
    component = profile_component(profile)
    _check_mass_definition(component, profile, model)
    ell = jnp.atleast_1d(jnp.asarray(ell, dtype=float))
    # the backend's fitted box applies only when the engine computes P(k) itself
    backend_model = model if on_grid is None else None
    if on_grid is None:
        on_grid = engine_grid_cosmology(cosmo, ell, g, model)
    z, chi, e_z = g.z, on_grid.chi, on_grid.e_z
    d_a = chi / (1.0 + z)

    zz = z[:, None]
    delta_m = critical_overdensity(model.mass_definition) * on_grid.inv_omega_cb[:, None]
    number = (
        mass_function(model)(on_grid.ln_sigma, zz, delta_m, cosmo, jnp.log(g.mass)[None, :], model.mass_definition)
        * (number_density_factor(g.mass, on_grid.dlnsigma_dlnm, cosmo) * g.mass_weights)
    )
    bias = halo_bias_function(model)(on_grid.ln_sigma, zz, delta_m, cosmo)
    dvol = g.z_weights * (C_KM_S / cosmo.H0 * chi**2 / e_z)
    halo = HaloWeights(dvol, number, bias, on_grid.p_lin)

    valid = physical_mask(cosmo, profile, precision.x_out, backend_model) & jnp.all(ell > 0)
    if component.SELF_SIMILAR:
        prefactor = (component.prefactor_z(z, cosmo, d_a, e_z)[:, None]
                     * component.prefactor_m(g.mass, cosmo, profile)[None, :])
        ln_q_lowest = jnp.log(component.scale_radius(g.mass[0], z, cosmo, profile, e_z) / d_a)
        offset = (jnp.log(ell + 0.5)[None, :] + ln_q_lowest[:, None] - g.fourier.ln_q0) / g.fourier.dln_q
        # Below the table u(q) is flat (clamping is exact to < 1e-9); above it the point is refused.
        valid = valid & jnp.all(offset <= g.hankel_index.shape[1] - 3)
        terms = SelfSimilarTerms(prefactor, fourier_on_table(profile, g.fourier), offset)
    else:
        terms = GeneralTerms(component.y_ell_grid(ell, z, g.mass, cosmo, profile, precision, d_a, e_z))
    return Ingredients(g, ell, halo, terms, valid)


def _check_mass_definition(component, profile, model: HaloModel) -> None:
    """ValueError (at trace time) unless the profile is defined at `model.mass_definition`."""
    critical_overdensity(model.mass_definition)
    declared = getattr(component, "MASS_DEFINITION", None)
    if declared != model.mass_definition:
        raise ValueError(
            f"the {type(profile).__name__} profile is defined at mass definition {declared!r} but "
            f"HaloModel.mass_definition = {model.mass_definition!r}; they must agree (no conversion is made)"
        )


def _mass_integral(weights, terms, g, power):
    """Int dlnM weights(z, M) y_ell(M, z)^power at every (z, ell): shape (n_z, n_ell).

    `weights` include the Simpson ln M weights (e.g. n, or n b).
    """
    if isinstance(terms, GeneralTerms):
        return jnp.einsum("zm,zml->zl", weights, terms.y**power)
    table = terms.u**power
    per_lag = (weights * terms.prefactor**power) @ table[g.hankel_index]
    return lagrange4_interp(per_lag, terms.offset)


def _nan_unless(valid):
    return jnp.where(valid, 1.0, jnp.nan)


@jax.jit
def cl_yy(cosmo: CosmoParams, profile, ell: ArrayLike, precision: Precision = Precision(),
          model: HaloModel = HaloModel()) -> tuple[jax.Array, jax.Array]:
    """tSZ angular power spectrum of Compton y, 1-halo and 2-halo terms.

    Parameters
    ----------
    cosmo : CosmoParams
    profile : ProfileParamsA10 or another registered profile pytree
    ell : array_like, shape (n_ell,)
        Multipoles (any positive real numbers).
    precision : Precision, optional
        Static integration settings (a compile-time constant under `jax.jit`).
    model : HaloModel, optional
        Static choice of linear power, mass function, bias and mass definition. The
        profile component's ``MASS_DEFINITION`` must equal ``model.mass_definition``
        (ValueError at trace time naming both): GNFW profiles are M500c (r500, P500) and
        are refused with "200c", since no concentration-based mass conversion is made.

    Returns
    -------
    (cl_1h, cl_2h) : tuple of Arrays, shape (n_ell,)
        Dimensionless C_ell^yy. D_ell = ell (ell+1) C_ell / (2 pi). All entries are NaN
        when a parameter is outside its allowed range (see `validate`), or when an ell
        needs the profile transform beyond the q table (ell > `precision.ell_max` for
        the points the table is sized for).
    """
    return _cl_from_ingredients(_ingredients(cosmo, profile, ell, precision, model))


def _cl_from_ingredients(ing: Ingredients) -> tuple[jax.Array, jax.Array]:
    """(C1h, C2h) of `cl_yy` from the ingredients of one point (NaN when not valid)."""
    g, halo = ing.grids, ing.halo
    one_halo = _mass_integral(halo.number, ing.profile, g, 2)
    two_halo_mass = _mass_integral(halo.number * halo.bias, ing.profile, g, 1)
    zw = halo.dvol[:, None]
    guard = _nan_unless(ing.valid)
    cl_1h = jnp.sum(zw * one_halo, axis=0)
    cl_2h = jnp.sum(zw * halo.p_lin * two_halo_mass**2, axis=0)
    return cl_1h * guard, cl_2h * guard


def _y2_on_grid(terms, grids):
    """y_ell^2 / prefactor^2 (self-similar) or y_ell^2 (general) at every (z, ell, M).

    Self-similar: the rows of the Hankel matrix of u^2 (one row per table lag, M along it)
    read at the fractional lag of each (z, ell) by 4-point Lagrange weights, so the reverse
    pass adds whole rows instead of scattering every (z, M, ell) element.
    """
    if isinstance(terms, GeneralTerms):
        return jnp.swapaxes(terms.y**2, 1, 2)
    rows = (terms.u**2)[grids.hankel_index.T]
    n_lag = rows.shape[0]
    t = jnp.clip(terms.offset, 1.0, n_lag - 3.0 - 1e-9)
    i = jnp.floor(t).astype(jnp.int32)
    weights = lagrange4_weights((t - i)[..., None])
    return sum(w * jnp.take(rows, i + lag, axis=0) for w, lag in zip(weights, (-1, 0, 1, 2)))


@jax.jit
def cl_yy_trispectrum(cosmo: CosmoParams, profile, ell: ArrayLike, precision: Precision = Precision(),
                      model: HaloModel = HaloModel()) -> jax.Array:
    """Full-sky 1-halo connected trispectrum of Compton y.

    T(ell, ell') = Int dz dV/dzdOmega Int dlnM n(M, z) y_ell(M, z)^2 y_ell'(M, z)^2.

    Parameters
    ----------
    cosmo, profile, ell, precision, model
        As for `cl_yy`.

    Returns
    -------
    Array, shape (n_ell, n_ell)
        Dimensionless T (NaN for an unphysical point). The non-Gaussian covariance of
        C_ell measured on a sky fraction f_sky is T / (4 pi f_sky).
    """
    return _trispectrum_from_ingredients(_ingredients(cosmo, profile, ell, precision, model))


@jax.jit
def cl_yy_and_trispectrum(cosmo: CosmoParams, profile, ell: ArrayLike, precision: Precision = Precision(),
                          model: HaloModel = HaloModel()) -> tuple[jax.Array, jax.Array, jax.Array]:
    """`cl_yy` and `cl_yy_trispectrum` at the same multipoles from one evaluation of the
    halo-model ingredients (background, mass function, profile transforms).

    Parameters
    ----------
    cosmo, profile, ell, precision, model
        As for `cl_yy`.

    Returns
    -------
    cl_1h, cl_2h : Array, shape (n_ell,)
        As `cl_yy`.
    trispectrum : Array, shape (n_ell, n_ell)
        As `cl_yy_trispectrum`.
    """
    ing = _ingredients(cosmo, profile, ell, precision, model)
    return (*_cl_from_ingredients(ing), _trispectrum_from_ingredients(ing))


def _trispectrum_from_ingredients(ing: Ingredients) -> jax.Array:
    """T(ell, ell') of `cl_yy_trispectrum` from the ingredients of one point (NaN when not valid)."""
    halo = ing.halo
    y2 = _y2_on_grid(ing.profile, ing.grids)
    weights = halo.dvol[:, None] * halo.number
    if isinstance(ing.profile, SelfSimilarTerms):
        weights = weights * ing.profile.prefactor**4
    weighted = weights[:, None, :] * y2
    trispectrum = jnp.einsum("zlm,zkm->lk", weighted, y2)
    return trispectrum * _nan_unless(ing.valid)


@partial(jax.jit, static_argnames=("include_trispectrum",))
def cl_yy_covariance(cosmo: CosmoParams, profile, ell: ArrayLike, delta_ell: ArrayLike, f_sky: float,
                     precision: Precision = Precision(), model: HaloModel = HaloModel(),
                     include_trispectrum: bool = True, noise_cl: ArrayLike = 0.0) -> jax.Array:
    """Covariance of binned C_ell^yy: Gaussian (1h + 2h + noise) plus 1-halo trispectrum.

    Cov = diag[2 (C_ell + N_ell)^2 / ((2 ell + 1) delta_ell f_sky)] + T / (4 pi f_sky).

    Parameters
    ----------
    cosmo, profile, ell, precision, model
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
    Array, shape (n_ell, n_ell)
        Dimensionless (C_ell units squared).
    """
    cl_1h, cl_2h = cl_yy(cosmo, profile, ell, precision, model)
    ell = jnp.atleast_1d(jnp.asarray(ell, dtype=float))
    total = cl_1h + cl_2h + noise_cl
    cov = jnp.diag(2.0 * total**2 / ((2.0 * ell + 1.0) * delta_ell * f_sky))
    if include_trispectrum:
        cov = cov + cl_yy_trispectrum(cosmo, profile, ell, precision, model) / (4.0 * np.pi * f_sky)
    return cov
