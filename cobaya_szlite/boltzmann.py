"""SZTheory's Boltzmann-code mode: the cosmology from an upstream theory (free of Cobaya).

With ``cosmology: boltzmann`` SZTheory takes no cosmological input parameter. It asks the
upstream Boltzmann theory of the run (Cobaya's ``camb``, or ``classy``) for

- the linear CDM+baryon power spectrum P_cb(k, z) (``Pk_interpolator`` of the
  ``("delta_nonu", "delta_nonu")`` pair, ``nonlinear: False``) at `TABLE_K` and the
  engine's redshift nodes;
- H(z) (``Hubble``, km/s/Mpc) and chi(z) (``comoving_radial_distance``, Mpc) there;
- the parameters named in `UPSTREAM_NAMES` (omega_b, omega_cdm, H0, n_s, Sum m_nu for
  the densities of the halo model and the profile; sigma8 and Omega_m for the derived
  F_sz and Omega_m, so that they mean the upstream code's values),

builds the engine's `CosmologyTables` and evaluates `cl_yy_tabulated`. This module holds
the names, grids and the map from the upstream products to the engine inputs; the
provider is any object with Cobaya's ``get_Pk_interpolator``, ``get_Hubble`` and
``get_comoving_radial_distance``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .engine import CosmologyTables, CosmoParams, Precision, cl_yy_tabulated, cl_yy_trispectrum_tabulated
from .parameters import InputLayout, d_ell_factor, to_pytrees

__all__ = [
    "CLASSY_NAMES",
    "PK_PAIR",
    "TABLE_K",
    "UPSTREAM_NAMES",
    "d_ell_spectra_tabulated",
    "d_ell_trispectrum_tabulated",
    "pk_redshifts",
    "read_tables",
    "requirements",
    "upstream_cosmo",
]

#: Engine quantity -> the upstream theory's parameter name (Cobaya's camb, the default of
#: the option ``boltzmann_names``). Sum m_nu: CAMB's ``mnu`` in one massive species, as
#: `CosmoParams`.
UPSTREAM_NAMES: dict[str, str] = {
    "omega_b": "ombh2",
    "omega_cdm": "omch2",
    "H0": "H0",
    "n_s": "ns",
    "m_nu": "mnu",
    "sigma8": "sigma8",
    "Omega_m": "omegam",
}
#: The same for Cobaya's classy (one massive species, ``N_ncdm: 1``).
CLASSY_NAMES: dict[str, str] = {
    "omega_b": "omega_b",
    "omega_cdm": "omega_cdm",
    "H0": "H0",
    "n_s": "n_s",
    "m_nu": "m_ncdm",
    "sigma8": "sigma8",
    "Omega_m": "Omega_m",
}
#: The power spectrum the halo model needs: CDM + baryons (no massive neutrinos).
PK_PAIR: tuple[str, str] = ("delta_nonu", "delta_nonu")
#: Wavenumbers of the tables [Mpc^-1]: log-spaced over the range the sigma(M) and 2-halo
#: integrals weigh (beyond it the engine extrapolates as it documents).
TABLE_K: np.ndarray = np.geomspace(1e-4, 50.0, 400)
#: Largest number of redshifts at which the upstream code computes P(k, z) (it is
#: interpolated to the engine nodes by the upstream interpolator, cubic in z).
MAX_PK_REDSHIFTS = 100
def pk_redshifts(z: np.ndarray) -> np.ndarray:
    """Redshifts at which the upstream code computes P(k, z): z = 0 and the engine nodes,
    thinned (log-spaced) to at most `MAX_PK_REDSHIFTS`.

    Parameters
    ----------
    z : array, shape (n_z,)
        The engine's redshift nodes (increasing, > 0).

    Returns
    -------
    numpy.ndarray
    """
    if len(z) + 1 > MAX_PK_REDSHIFTS:
        z = np.geomspace(z[0], z[-1], MAX_PK_REDSHIFTS - 1)
    return np.concatenate([[0.0], z])


def requirements(z: np.ndarray, names: Mapping[str, str]) -> dict[str, Any]:
    """The Cobaya requirements of the Boltzmann mode.

    Parameters
    ----------
    z : array, shape (n_z,)
        The engine's redshift nodes.
    names : mapping
        `UPSTREAM_NAMES`-like map engine quantity -> upstream parameter name.

    Returns
    -------
    dict
        ``Pk_interpolator`` (linear, `PK_PAIR`, k_max = max `TABLE_K`), ``Hubble`` and
        ``comoving_radial_distance`` at ``z``, and every upstream parameter (None).
    """
    z = [float(v) for v in z]
    return {
        "Pk_interpolator": {
            "z": [float(v) for v in pk_redshifts(np.asarray(z))],
            "k_max": float(TABLE_K[-1]),
            "nonlinear": False,
            "vars_pairs": [list(PK_PAIR)],
        },
        "Hubble": {"z": z},
        "comoving_radial_distance": {"z": z},
        **{name: None for name in names.values()},
    }


def read_tables(provider: Any, z: np.ndarray) -> tuple[np.ndarray, ...]:
    """(z, chi [Mpc], H [km/s/Mpc], k [1/Mpc], P_cb [Mpc^3]) from the upstream products.

    Parameters
    ----------
    provider
        Cobaya's provider (or any object with its three getters).
    z : array, shape (n_z,)
        The engine's redshift nodes (those of the requirements).

    Returns
    -------
    tuple of numpy arrays
        z (n_z,), chi (n_z,), H (n_z,), `TABLE_K` (n_k,), P_cb (n_z, n_k): the fields of
        the engine's `CosmologyTables`, in order.
    """
    interpolator = provider.get_Pk_interpolator(PK_PAIR, nonlinear=False, extrap_kmin=TABLE_K[0] / 10)
    pk = np.asarray(interpolator.P(z, TABLE_K))
    chi = np.asarray(provider.get_comoving_radial_distance(z), dtype=float)
    hubble = np.asarray(provider.get_Hubble(z, units="km/s/Mpc"), dtype=float)
    return np.asarray(z, dtype=float), chi, hubble, TABLE_K, pk


def upstream_cosmo(params: Mapping[str, float], names: Mapping[str, str]) -> CosmoParams:
    """The engine's CosmoParams of the upstream cosmology (densities, H0, n_s, Sum m_nu;
    sigma8 is the upstream one, unused by the tabulated formulas).

    Parameters
    ----------
    params : mapping
        Parameter values by upstream name.
    names : mapping
        Engine quantity -> upstream name.

    Returns
    -------
    CosmoParams
    """
    fields = ("omega_b", "omega_cdm", "H0", "n_s", "m_nu", "sigma8")
    return CosmoParams(**{field: float(params[names[field]]) for field in fields})


def _tables(arrays) -> Any:
    """The engine's `CosmologyTables` of the arrays of `read_tables` (traced or not)."""
    return CosmologyTables(*arrays)


def d_ell_spectra_tabulated(values: ArrayLike, upstream: tuple, ell: ArrayLike, precision: Precision,
                            layout: InputLayout) -> jax.Array:
    """D_ell^1h, D_ell^2h x 1e12 from the upstream cosmology (traceable in ``values``).

    Parameters
    ----------
    values : array
        Profile input values in ``layout.names`` order.
    upstream : (CosmoParams, tuple of arrays)
        `upstream_cosmo` and the `read_tables` arrays.
    ell, precision : as for `parameters.d_ell_spectra`
    layout : InputLayout
        Without cosmological inputs.

    Returns
    -------
    array, shape (2, n_ell)
    """
    cosmo, arrays = upstream
    _, profile = to_pytrees(values, layout)
    one_halo, two_halo = cl_yy_tabulated(
        _tables(arrays), cosmo, profile, ell, precision=precision, model=layout.model
    )
    to_d = d_ell_factor(ell)
    return jnp.stack([one_halo * to_d, two_halo * to_d])


def d_ell_trispectrum_tabulated(values: ArrayLike, upstream: tuple, ell: ArrayLike,
                                precision: Precision, layout: InputLayout) -> jax.Array:
    """Full-sky 1-halo trispectrum in (D_ell x 1e12)^2 from the upstream cosmology.

    Parameters
    ----------
    values, upstream, ell, precision, layout : as for `d_ell_spectra_tabulated`

    Returns
    -------
    array, shape (n_ell, n_ell)
    """
    cosmo, arrays = upstream
    _, profile = to_pytrees(values, layout)
    to_d = d_ell_factor(ell)
    tll = cl_yy_trispectrum_tabulated(_tables(arrays), cosmo, profile, ell,
                                      precision=precision, model=layout.model)
    return tll * jnp.outer(to_d, to_d)
