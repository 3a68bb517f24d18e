"""Linear matter power spectrum backends and the sigma(R) built on them.

Backend contract
----------------
A backend is a module (or any object) with

``power_z0(cosmo, k) -> P``
    the TOTAL-matter linear power spectrum at z = 0 [Mpc^3] at comoving wavenumbers `k`
    [Mpc^-1] (a flat array; `cl_yy` passes every wavenumber it needs in one call),
    honouring whichever of `cosmo.sigma8` / `cosmo.logA` is set, differentiable in
    `cosmo` and jit-safe. Shape-only backends use `sigma.normalised_power` with their own
    A_s relation.
``power_cb_z0(cosmo, k) -> P`` (optional)
    the CDM + baryon spectrum at z = 0 [Mpc^3]. Without it, `power_cb_z0` here builds it
    as P_m / R(k)^2 (`neutrinos.matter_over_cb`, fitted to CAMB).

The halo model runs on the CDM + baryon field (Costanzi et al. 2013; Bolliet et al.
2020): sigma(M) from P_cb at the mean density rho_cb, and the 2-halo term with P_cb.
P_cb(k, z) = power_cb_z0(k) D(z)^2 with the scale-independent CDM + baryon growth D(z)
of `cobaya_szlite.engine.background`, and sigma(M) follows from it on the fixed
quadrature of `cobaya_szlite.engine.linear_power.sigma`. Register a new backend with
`register_linear_power(name, module)` and select it with
``HaloModel(linear_power=name)``.

The public functions here (`linear_power_cb`, `sigma_R`, `dlnsigma_dlnR`) are the ones
`cl_yy` runs, on the same quadrature (`Precision.n_k` nodes). `sigma8_of` and `logA_of`
convert between the two amplitudes (total matter, z = 0).
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
from .neutrinos import matter_over_cb
from .sigma import sigma2_at_radius, sigma8_from_power, sigma_nodes, sigma_wavenumbers

__all__ = [
    "LINEAR_POWER_BACKENDS",
    "dlnsigma_dlnR",
    "linear_power",
    "linear_power_backend",
    "linear_power_cb",
    "logA_of",
    "power_cb_z0",
    "register_linear_power",
    "sigma8_of",
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


def power_cb_z0(cosmo: CosmoParams, k: ArrayLike, model: HaloModel = HaloModel()) -> jax.Array:
    """CDM + baryon linear power at z = 0 [Mpc^3]: the backend's own, else P_m / R(k)^2.

    Parameters
    ----------
    cosmo : CosmoParams
    k : Array, shape (n,)
        Comoving wavenumbers [Mpc^-1] (one flat array).
    model : HaloModel, optional
        Static: selects the backend.

    Returns
    -------
    Array, shape (n,)
    """
    backend = linear_power_backend(model)
    own = getattr(backend, "power_cb_z0", None)
    if own is not None:
        return own(cosmo, k)
    return backend.power_z0(cosmo, k) / matter_over_cb(cosmo, k) ** 2


@jax.jit
def linear_power(k: ArrayLike, z: ArrayLike, cosmo: CosmoParams, model: HaloModel = HaloModel()) -> jax.Array:
    """Total-matter linear power spectrum P_m(k, z) = P_m(k, 0) D(z)^2 [Mpc^3].

    D is the CDM + baryon growth (`background.growth_factor`): exact for m_nu = 0; with
    massive neutrinos the total matter grows faster than this on scales above the
    free-streaming length: sigma8(z) / sigma8(0) of all matter is within 2.6e-4 of CAMB's
    for m_nu = 0.06 eV (2.5e-3 for 3 x 0.1 eV) over z <= 3. The halo model uses
    `linear_power_cb`.

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


@jax.jit
def linear_power_cb(k: ArrayLike, z: ArrayLike, cosmo: CosmoParams, model: HaloModel = HaloModel()) -> jax.Array:
    """CDM + baryon linear power P_cb(k, z) = P_cb(k, 0) D(z)^2 [Mpc^3] (the halo model's spectrum).

    Parameters
    ----------
    k, z, cosmo, model : as for `linear_power`

    Returns
    -------
    Array of the broadcast shape of `k` and `z`.
    """
    require_x64()
    k = jnp.asarray(k, dtype=float)
    p0 = power_cb_z0(cosmo, k.reshape(-1), model).reshape(k.shape)
    return p0 * growth_factor(z, cosmo) ** 2


@jax.jit
def sigma8_of(cosmo: CosmoParams, model: HaloModel = HaloModel()) -> jax.Array:
    """sigma8 of total matter at z = 0 [dimensionless].

    `cosmo.sigma8` itself when it is set; for a logA cosmology, sigma(8 h^-1 Mpc) of the
    backend's `power_z0` on the normalisation rule of `sigma.normalised_power` (so it is
    exactly the sigma8 the backend normalised to). Jit-safe and differentiable.

    Parameters
    ----------
    cosmo : CosmoParams
    model : HaloModel, optional
        Static: selects the backend.

    Returns
    -------
    Array, scalar
    """
    require_x64()
    if cosmo.sigma8 is not None:
        return jnp.asarray(cosmo.sigma8, dtype=float)
    backend = linear_power_backend(model)
    return sigma8_from_power(cosmo, lambda k: backend.power_z0(cosmo, k))


_LOGA_REFERENCE = 3.0


@jax.jit
def logA_of(cosmo: CosmoParams, model: HaloModel = HaloModel()) -> jax.Array:
    """ln(10^10 A_s) of the backend for this cosmology [dimensionless].

    `cosmo.logA` itself when it is set; for a sigma8 cosmology the inverse of `sigma8_of`,
    exact because sigma8^2 is proportional to A_s at fixed shape:
    logA = logA_ref + 2 ln(sigma8 / sigma8(logA_ref)), logA_ref = 3.

    Parameters
    ----------
    cosmo : CosmoParams
    model : HaloModel, optional
        Static: selects the backend.

    Returns
    -------
    Array, scalar
    """
    require_x64()
    if cosmo.logA is not None:
        return jnp.asarray(cosmo.logA, dtype=float)
    reference = cosmo._replace(sigma8=None, logA=_LOGA_REFERENCE)
    return _LOGA_REFERENCE + 2.0 * jnp.log(cosmo.sigma8 / sigma8_of(reference, model))


def _sigma2_and_slope(R, cosmo: CosmoParams, precision, model):
    """sigma^2(R) at z = 0 of CDM + baryons and d ln sigma / d ln R on the `Precision.n_k` quadrature."""
    require_x64()
    lnk, dlnk = sigma_nodes(precision.n_k)
    k = sigma_wavenumbers(cosmo, lnk)
    return sigma2_at_radius(R, k, power_cb_z0(cosmo, k, model), dlnk)


@jax.jit
def sigma_R(R: ArrayLike, z: ArrayLike, cosmo: CosmoParams, precision: Precision = Precision(),
            model: HaloModel = HaloModel()) -> jax.Array:
    """rms linear density contrast of CDM + baryons in a top-hat sphere of comoving radius R.

    The sigma of the halo model (from P_cb); for m_nu = 0 that of all matter.

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
