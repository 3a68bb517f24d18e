"""Linear matter power spectrum backends and the sigma(R) built on them.

Backend contract
----------------
A backend is a module (or any object) with

``power_z0(cosmo, k) -> P``
    the linear matter power spectrum at z = 0 [Mpc^3] at comoving wavenumbers `k`
    [Mpc^-1] (a flat array; `cl_yy` passes every wavenumber it needs in one call),
    differentiable in `cosmo` and jit-safe.

P(k, z) = power_z0(k) D(z)^2 with the scale-independent growth D(z) of
`cobaya_szlite.engine.background`, and sigma(M) follows from P on the fixed
quadrature of `cobaya_szlite.engine.linear_power.sigma`. Register a new backend with
`register_linear_power(name, module)` and select it with
``HaloModel(linear_power=name)``.

The public functions here (`linear_power`, `sigma_R`, `dlnsigma_dlnR`) are the ones
`cl_yy` runs, on the same quadrature (`Precision.n_k` nodes).
"""

import types
from types import ModuleType

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..background import growth_factor
from ..params import CosmoParams, HaloModel
from ..precision import Precision
from ..x64 import require_x64
from . import bartlett23, eh98, syren_new
from .eh98 import transfer_eh98
from .sigma import sigma2_at_radius, sigma_nodes, sigma_wavenumbers

__all__ = [
    "LINEAR_POWER_BACKENDS",
    "dlnsigma_dlnR",
    "linear_power",
    "linear_power_backend",
    "register_linear_power",
    "sigma_R",
    "transfer_eh98",
]

#: Registered backends by name (the values of `HaloModel.linear_power`).
LINEAR_POWER_BACKENDS: dict[str, ModuleType] = {"eh98": eh98, "bartlett23": bartlett23, "syren_new": syren_new}


def register_linear_power(name: str, backend: types.ModuleType | types.SimpleNamespace) -> None:
    """Register a linear-power backend under `name` (see the module docstring).

    Parameters
    ----------
    name : str
        Value of `HaloModel.linear_power` that selects it.
    backend : module or object
        Provides ``power_z0(cosmo, k)``.
    """
    if not callable(getattr(backend, "power_z0", None)):
        raise TypeError(f"linear-power backend {name!r} needs a callable power_z0(cosmo, k)")
    LINEAR_POWER_BACKENDS[name] = backend


def linear_power_backend(model: HaloModel) -> ModuleType:
    """The backend selected by `model.linear_power`.

    Parameters
    ----------
    model : HaloModel
        Its `linear_power` field names the backend.

    Returns
    -------
    module
        Raises ValueError naming the registered backends for an unknown name.
    """
    try:
        return LINEAR_POWER_BACKENDS[model.linear_power]
    except KeyError:
        raise ValueError(
            f"HaloModel.linear_power = {model.linear_power!r} is not registered; "
            f"available: {sorted(LINEAR_POWER_BACKENDS)}"
        ) from None


@jax.jit
def linear_power(k: ArrayLike, z: ArrayLike, cosmo: CosmoParams, model: HaloModel = HaloModel()) -> jax.Array:
    """Linear matter power spectrum P(k, z) [Mpc^3].

    Parameters
    ----------
    k : array_like
        Comoving wavenumber [Mpc^-1].
    z : array_like
        Redshift (broadcast against `k`).
    cosmo : CosmoParams
    model : HaloModel, optional
        Static: selects the backend.

    Returns
    -------
    Array of the broadcast shape of `k` and `z`.
    """
    require_x64()
    k = jnp.asarray(k, dtype=float)
    p0 = linear_power_backend(model).power_z0(cosmo, k.reshape(-1)).reshape(k.shape)
    return p0 * growth_factor(z, cosmo) ** 2


def _sigma2_and_slope(R, cosmo: CosmoParams, precision, model):
    """sigma^2(R) at z = 0 and d ln sigma / d ln R on the `Precision.n_k` quadrature."""
    require_x64()
    lnk, dlnk = sigma_nodes(precision.n_k)
    k = sigma_wavenumbers(cosmo, lnk)
    return sigma2_at_radius(R, k, linear_power_backend(model).power_z0(cosmo, k), dlnk)


@jax.jit
def sigma_R(R: ArrayLike, z: ArrayLike, cosmo: CosmoParams, precision: Precision = Precision(),
            model: HaloModel = HaloModel()) -> jax.Array:
    """rms linear density contrast in a top-hat sphere of comoving radius R.

    Parameters
    ----------
    R : array_like
        Comoving radius [Mpc].
    z : array_like
        Redshift (broadcast against `R`).
    cosmo : CosmoParams
    precision : Precision, optional
        Static: `n_k`, the nodes of the quadrature (the one `cl_yy` uses for sigma(M)).
    model : HaloModel, optional
        Static: selects the linear-power backend.

    Returns
    -------
    Array
        sigma(R, z), dimensionless.
    """
    s2, _ = _sigma2_and_slope(R, cosmo, precision, model)
    return jnp.sqrt(s2) * growth_factor(z, cosmo)


@jax.jit
def dlnsigma_dlnR(R: ArrayLike, cosmo: CosmoParams, precision: Precision = Precision(),
                  model: HaloModel = HaloModel()) -> jax.Array:
    """Logarithmic slope d ln sigma / d ln R (independent of redshift) [dimensionless].

    Parameters
    ----------
    R : array_like
        Comoving radius [Mpc].
    cosmo : CosmoParams
    precision, model : optional
        As for `sigma_R`.

    Returns
    -------
    Array of the shape of `R`.
    """
    _, slope = _sigma2_and_slope(R, cosmo, precision, model)
    return slope
