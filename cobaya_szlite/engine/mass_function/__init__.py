"""Halo mass functions and halo biases, and dn/dlnM built on them.

Component contracts
-------------------
A mass function is a callable
``multiplicity(ln_sigma, z, delta_m, cosmo, ln_mass, mass_definition) -> f(sigma)``
(dimensionless), so that dn/dlnM = f rho_cb0 / M |d ln sigma / d ln M|; a bias is a
callable ``bias(ln_sigma, z, delta_m, cosmo) -> b`` (dimensionless). `ln_sigma` is
ln sigma(M, z) of the CDM + baryon field, `delta_m` the halo overdensity relative to the
mean CDM + baryon density (Delta_c / Omega_cb(z), Delta_c = 500 or 200 for
``HaloModel.mass_definition`` "500c" or "200c"; the mean matter density for m_nu = 0),
`ln_mass` ln(M / Msun) in that definition, all broadcast together, and
`mass_definition` the static string itself (a mass function with separate fits per
definition selects with it, and raises ValueError for one it has no fit for).
Register new ones with `register_mass_function` / `register_bias` and select them
with ``HaloModel(mass_function=..., bias=...)``.

Registered: "tinker08" (Tinker et al. 2008, default), "tinker10" (Tinker et al. 2010),
"bocquet16" (Bocquet et al. 2016 Hydro, "500c" and "200c" fits); bias "tinker10".
`PAIRED_BIAS` gives the bias each mass function is meant to be used with.

`dndlnM` and `halo_bias` are exactly what `cl_yy` evaluates on its (z, M) grid: the
same sigma quadrature (`Precision.n_k` nodes) and the same formulas.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..background import growth_factor, rho_cb0
from ..halos import delta_mean, lagrangian_radius
from ..linear_power import _sigma2_and_slope
from ..params import CosmoParams, HaloModel
from ..precision import Precision
from . import bocquet16, tinker08, tinker10

__all__ = [
    "BIASES",
    "MASS_FUNCTIONS",
    "PAIRED_BIAS",
    "dndlnM",
    "halo_bias",
    "halo_bias_function",
    "mass_function",
    "number_density_factor",
    "register_bias",
    "register_mass_function",
    "tinker08_dndlnM",
    "tinker10_bias",
]

#: Registered multiplicity functions f(sigma) by name (values of `HaloModel.mass_function`).
MASS_FUNCTIONS: dict[str, Callable] = {
    "tinker08": tinker08.multiplicity,
    "tinker10": tinker10.multiplicity,
    "bocquet16": bocquet16.multiplicity,
}

#: Registered biases by name (values of `HaloModel.bias`).
BIASES: dict[str, Callable] = {"tinker10": tinker10.bias}

#: The bias each registered mass function goes with (Tinker10 for all three: its own for
#: Tinker10, the published pairing for Tinker08 and for Bocquet16, as in pyccl).
PAIRED_BIAS: dict[str, str] = {"tinker08": "tinker10", "tinker10": "tinker10", "bocquet16": "tinker10"}


def register_mass_function(name: str, multiplicity: Callable) -> None:
    """Register a mass function under `name`, the value of `HaloModel.mass_function` that selects it.

    Parameters
    ----------
    name : str
    multiplicity : callable
        ``multiplicity(ln_sigma, z, delta_m, cosmo, ln_mass, mass_definition) -> f(sigma)``,
        see the module docstring.
    """
    MASS_FUNCTIONS[name] = multiplicity


def register_bias(name: str, bias: Callable) -> None:
    """Register a halo bias under `name`, the value of `HaloModel.bias` that selects it.

    Parameters
    ----------
    name, bias : str, callable
        As for `register_mass_function`; ``bias(ln_sigma, z, delta_m, cosmo) -> b``.
    """
    BIASES[name] = bias


def _lookup(table: dict, field: str, name: str) -> Callable:
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"HaloModel.{field} = {name!r} is not registered; available: {sorted(table)}") from None


def mass_function(model: HaloModel) -> Callable:
    """The multiplicity function selected by `model.mass_function` (ValueError if unknown)."""
    return _lookup(MASS_FUNCTIONS, "mass_function", model.mass_function)


def halo_bias_function(model: HaloModel) -> Callable:
    """The bias selected by `model.bias` (ValueError if unknown)."""
    return _lookup(BIASES, "bias", model.bias)


def number_density_factor(M: ArrayLike, dlnsigma_dlnm: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """rho_cb0 / M |d ln sigma / d ln M|, so that dn/dlnM = f(sigma) times this [Mpc^-3].

    Parameters
    ----------
    M : array_like
        Halo mass [Msun].
    dlnsigma_dlnm : array_like
        d ln sigma / d ln M (negative), broadcast against `M`.
    cosmo : CosmoParams

    Returns
    -------
    Array
    """
    return rho_cb0(cosmo) / M * -dlnsigma_dlnm


def _ln_sigma_and_slope(M, z, cosmo: CosmoParams, precision, model):
    """ln sigma(M, z) and d ln sigma / d ln M from the `Precision.n_k` quadrature."""
    s2, dlns_dlnr = _sigma2_and_slope(lagrangian_radius(M, cosmo), cosmo, precision, model)
    return 0.5 * jnp.log(s2) + jnp.log(growth_factor(z, cosmo)), dlns_dlnr / 3.0


@jax.jit
def dndlnM(M: ArrayLike, z: ArrayLike, cosmo: CosmoParams, precision: Precision = Precision(),
           model: HaloModel = HaloModel()) -> jax.Array:
    """Halo mass function dn/dlnM at `model.mass_definition` [Mpc^-3] (comoving).

    Parameters
    ----------
    M, z : array_like
        Mass in `model.mass_definition` (M500c by default) [Msun] and redshift, broadcast together.
    cosmo : CosmoParams
    precision : Precision, optional
        Static: `n_k` of the sigma quadrature.
    model : HaloModel, optional
        Static: the mass function, the mass definition and the linear-power backend.

    Returns
    -------
    Array
        f(sigma) rho_cb0 / M |d ln sigma / d ln M| at Delta_m = Delta_c / Omega_cb(z), sigma of P_cb.
    """
    M = jnp.asarray(M, dtype=float)
    ln_sigma, slope = _ln_sigma_and_slope(M, z, cosmo, precision, model)
    delta_m = delta_mean(z, cosmo, model.mass_definition)
    f = mass_function(model)(ln_sigma, z, delta_m, cosmo, jnp.log(M), model.mass_definition)
    return f * number_density_factor(M, slope, cosmo)


@jax.jit
def halo_bias(M: ArrayLike, z: ArrayLike, cosmo: CosmoParams, precision: Precision = Precision(),
              model: HaloModel = HaloModel()) -> jax.Array:
    """Linear halo bias at `model.mass_definition` (M500c by default) [dimensionless].

    Parameters
    ----------
    M, z, cosmo, precision : as for `dndlnM`
    model : HaloModel, optional
        Static: the bias, the mass definition and the linear-power backend.

    Returns
    -------
    Array
    """
    M = jnp.asarray(M, dtype=float)
    ln_sigma, _ = _ln_sigma_and_slope(M, z, cosmo, precision, model)
    return halo_bias_function(model)(ln_sigma, z, delta_mean(z, cosmo, model.mass_definition), cosmo)


_TINKER = HaloModel(mass_function="tinker08", bias="tinker10")


@jax.jit
def tinker08_dndlnM(M: ArrayLike, z: ArrayLike, cosmo: CosmoParams, precision: Precision = Precision()) -> jax.Array:
    """Tinker08 dn/dlnM at M500c [Mpc^-3]: `dndlnM` with ``mass_function="tinker08"``.

    Parameters
    ----------
    M, z, cosmo, precision : as for `dndlnM`

    Returns
    -------
    dndlnM : Array
        The broadcast shape of `M` and `z` [Mpc^-3].
    """
    return dndlnM(M, z, cosmo, precision, _TINKER)


@jax.jit
def tinker10_bias(M: ArrayLike, z: ArrayLike, cosmo: CosmoParams, precision: Precision = Precision()) -> jax.Array:
    """Tinker10 linear bias at M500c (delta_c = 1.686): `halo_bias` with ``bias="tinker10"``.

    Parameters
    ----------
    M, z, cosmo, precision : as for `dndlnM`

    Returns
    -------
    b : Array
        The broadcast shape of `M` and `z` [dimensionless].
    """
    return halo_bias(M, z, cosmo, precision, _TINKER)
