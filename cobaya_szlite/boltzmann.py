"""SZTheory's Boltzmann-code mode: the cosmology from an upstream theory (free of Cobaya).

With ``cosmology: boltzmann`` SZTheory takes no cosmological input parameter. It asks the
upstream Boltzmann theory of the run (Cobaya's ``camb``, or ``classy``) for

- the linear CDM+baryon power spectrum P_cb(k, z) (``Pk_interpolator`` of the
  ``("delta_nonu", "delta_nonu")`` pair, ``nonlinear: False``) at `TABLE_K` and the
  engine's redshift nodes;
- H(z) (``Hubble``, km/s/Mpc) and chi(z) (``comoving_radial_distance``, Mpc) there;
- the parameters named in `UPSTREAM_NAMES` (camb, the default) or `CLASSY_NAMES` (classy,
  with classy's background table for the densities): the densities, h and Sum m_nu of the
  halo model and the profile, and the upstream sigma8 and Omega_m for the derived F_sz,

builds the engine's `CosmologyTables` and evaluates `cl_yy_tabulated`. This module holds
the names, grids and the map from the upstream products to the engine inputs; the
provider is any object with Cobaya's ``get_Pk_interpolator``, ``get_Hubble``,
``get_comoving_radial_distance`` and ``get_param`` (and ``get_CLASS_background`` for classy).
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
    "CLASSY_BACKGROUND",
    "CLASSY_NAMES",
    "NAME_PRESETS",
    "PK_PAIR",
    "TABLE_K",
    "UPSTREAM_NAMES",
    "d_ell_spectra_tabulated",
    "d_ell_trispectrum_tabulated",
    "pk_redshifts",
    "read_tables",
    "requirements",
    "upstream_cosmo",
    "upstream_names",
    "upstream_param",
]

#: Engine quantity -> the upstream theory's parameter name for Cobaya's camb (the default
#: of the option ``boltzmann_names``, preset "camb"). CAMB's inputs ombh2, omch2, mnu (Sum
#: m_nu in one massive species, as `CosmoParams`) can be requested as parameters: camb
#: declares that it reads them, so Cobaya hands them to both codes.
UPSTREAM_NAMES: dict[str, str] = {
    "omega_b": "ombh2",
    "omega_cdm": "omch2",
    "H0": "H0",
    "m_nu": "mnu",
    "sigma8": "sigma8",
    "Omega_m": "omegam",
}
#: Preset "classy": only quantities classy computes. Its inputs (omega_b, omega_cdm, m_ncdm)
#: must not be requested: Cobaya gives a parameter-agnostic code such as classy only the
#: inputs that no other component takes. The densities come from `CLASSY_BACKGROUND`
#: (rho_b, rho_cdm over rho_crit today); Sum m_nu is ``m_ncdm_tot`` (all species).
CLASSY_NAMES: dict[str, str] = {"H0": "H0", "m_nu": "m_ncdm_tot", "sigma8": "sigma8", "Omega_m": "Omega_m"}
#: classy's background table (a Cobaya product), read when the names give no densities.
CLASSY_BACKGROUND = "CLASS_background"
#: Named presets of the option ``boltzmann_names``.
NAME_PRESETS: dict[str, dict[str, str]] = {"camb": UPSTREAM_NAMES, "classy": CLASSY_NAMES}


def upstream_names(option: str | Mapping[str, str] | None) -> dict[str, str]:
    """The map engine quantity -> upstream name of the option ``boltzmann_names``.

    Parameters
    ----------
    option : str, mapping or None
        A preset (`NAME_PRESETS`: "camb", "classy"), or a mapping that changes entries of
        the camb preset; None or empty: the camb preset.

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        An unknown preset or key.
    """
    if isinstance(option, str):
        if option not in NAME_PRESETS:
            raise ValueError(f"'boltzmann_names' must be one of the presets {list(NAME_PRESETS)} or a "
                             f"mapping with keys among {list(UPSTREAM_NAMES)}; got {option!r}")
        return dict(NAME_PRESETS[option])
    option = dict(option or {})
    unknown = sorted(set(option) - set(UPSTREAM_NAMES))
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} in 'boltzmann_names'; allowed: {list(UPSTREAM_NAMES)} "
                         f"(or a preset: {list(NAME_PRESETS)})")
    return {**UPSTREAM_NAMES, **option}


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
        `UPSTREAM_NAMES`-like map upstream quantity -> upstream parameter name.

    Returns
    -------
    dict
        ``Pk_interpolator`` (linear, `PK_PAIR`, k_max = max `TABLE_K`), ``Hubble`` and
        ``comoving_radial_distance`` at ``z``, every upstream parameter (None), and
        `CLASSY_BACKGROUND` when ``names`` gives no densities.
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
        **({} if "omega_b" in names else {CLASSY_BACKGROUND: None}),
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


def upstream_cosmo(provider: Any, params: Mapping[str, float], names: Mapping[str, str]) -> CosmoParams:
    """The engine's CosmoParams of the upstream cosmology.

    H0, Sum m_nu and sigma8 the upstream values; omega_b, omega_cdm the upstream
    parameters, or (names without them: classy) rho_b / rho_crit and rho_cdm / rho_crit
    today from `CLASSY_BACKGROUND`, times h^2; n_s keeps the `CosmoParams` default (the
    tabulated formulas use neither n_s nor sigma8).

    Parameters
    ----------
    provider
        Cobaya's provider (``get_param``, and ``get_CLASS_background`` for classy).
    params : mapping
        Parameter values by upstream name (the ``calculate`` arguments; the upstream
        parameters not among them are read from the provider).
    names : mapping
        Engine quantity -> upstream name.

    Returns
    -------
    CosmoParams
    """
    def param(quantity):
        return upstream_param(provider, params, names, quantity)

    h0 = param("H0")
    if "omega_b" in names:
        densities = {"omega_b": param("omega_b"), "omega_cdm": param("omega_cdm")}
    else:
        background = provider.get_CLASS_background()
        today = int(np.argmin(np.abs(np.asarray(background["z"]))))
        h2 = (h0 / 100.0) ** 2
        rho_crit = float(background["(.)rho_crit"][today])
        densities = {field: float(background[column][today]) / rho_crit * h2
                     for field, column in (("omega_b", "(.)rho_b"), ("omega_cdm", "(.)rho_cdm"))}
    return CosmoParams(**densities, H0=h0, m_nu=param("m_nu"), sigma8=param("sigma8"))


def upstream_param(provider: Any, params: Mapping[str, float], names: Mapping[str, str], quantity: str) -> float:
    """The upstream value of ``quantity`` (a key of `UPSTREAM_NAMES`): from ``params`` when
    it is an input parameter there, else from the provider (a derived parameter)."""
    name = names[quantity]
    return float(params[name]) if name in params else float(provider.get_param(name))


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
