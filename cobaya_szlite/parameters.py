"""Input parameters of the Cobaya components and their map to the engine (free of Cobaya).

One place for: the class_sz-style input names (`INPUT_PARAMS`) and their order, the
fiducial point (the defaults of `SZTheory`, the truth of the packaged mock, the default
`fiducial` of `Planck2015TSZ`), the map from a vector of input values to the engine
pytrees (`to_pytrees`), and the unit of the Cobaya products, D_ell x 1e12
(`d_ell_factor`), with the engine spectra in that unit (`d_ell_spectra`,
`d_ell_trispectrum`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .engine import CosmoParams, Precision, ProfileParamsA10, cl_yy, cl_yy_trispectrum

__all__ = [
    "FIDUCIAL_COSMO",
    "FIDUCIAL_PARAMS",
    "FIDUCIAL_PROFILE",
    "INPUT_PARAMS",
    "PARAM_LATEX",
    "d_ell_factor",
    "d_ell_spectra",
    "d_ell_trispectrum",
    "f_sz",
    "to_pytrees",
    "to_values",
]

#: Cobaya (class_sz) input parameter names -> engine field names, in engine order:
#: the CosmoParams fields, then the ProfileParamsA10 fields.
INPUT_PARAMS: dict[str, str] = {
    "omega_b": "omega_b",
    "omega_cdm": "omega_cdm",
    "H0": "H0",
    "n_s": "n_s",
    "sigma8": "sigma8",
    "P0GNFW": "P0",
    "c500": "c500",
    "gammaGNFW": "gamma",
    "alphaGNFW": "alpha",
    "betaGNFW": "beta",
    "alpha_p": "alpha_p",
    "B": "B",
}
_N_COSMO = 5
if tuple(INPUT_PARAMS.values()) != CosmoParams._fields[:_N_COSMO] + ProfileParamsA10._fields:
    raise ImportError("INPUT_PARAMS does not follow the engine's parameter fields")

#: The fiducial point: Planck 2018-like flat LCDM (omega_b, omega_cdm [Omega h^2],
#: H0 [km/s/Mpc], n_s, sigma8) and the Arnaud et al. 2010 profile with B = 1.25.
FIDUCIAL_COSMO = CosmoParams(omega_b=0.02242, omega_cdm=0.11933, H0=67.66, n_s=0.9665, sigma8=0.8102)
FIDUCIAL_PROFILE = ProfileParamsA10(
    P0=8.130, c500=1.156, gamma=0.3292, alpha=1.062, beta=5.4807, alpha_p=0.12, B=1.25
)
#: The fiducial as input parameters (class_sz names, INPUT_PARAMS order).
FIDUCIAL_PARAMS: dict[str, float] = dict(
    zip(INPUT_PARAMS, map(float, FIDUCIAL_COSMO[:_N_COSMO] + FIDUCIAL_PROFILE), strict=True)
)

#: LaTeX labels of the input parameters.
PARAM_LATEX: dict[str, str] = {
    "omega_b": r"\omega_\mathrm{b}",
    "omega_cdm": r"\omega_\mathrm{cdm}",
    "H0": "H_0",
    "n_s": r"n_\mathrm{s}",
    "sigma8": r"\sigma_8",
    "P0GNFW": "P_0",
    "c500": "c_{500}",
    "gammaGNFW": r"\gamma",
    "alphaGNFW": r"\alpha",
    "betaGNFW": r"\beta",
    "alpha_p": r"\alpha_p",
    "B": "B",
}


def to_pytrees(values: Sequence[float] | ArrayLike) -> tuple[CosmoParams, ProfileParamsA10]:
    """Split input values (a sequence in INPUT_PARAMS order) into engine pytrees.

    Parameters
    ----------
    values : sequence or array, length 12
        Input parameter values in INPUT_PARAMS order (NumPy or JAX; traced values allowed).

    Returns
    -------
    (CosmoParams, ProfileParamsA10)
    """
    return CosmoParams(*values[:_N_COSMO]), ProfileParamsA10(*values[_N_COSMO:])


def to_values(params: Mapping[str, float]) -> np.ndarray:
    """Input values in INPUT_PARAMS order from a mapping of (at least) those names.

    Parameters
    ----------
    params : mapping
        Input parameter name -> value.

    Returns
    -------
    numpy.ndarray, shape (12,)
    """
    return np.array([params[name] for name in INPUT_PARAMS], dtype=float)


def f_sz(sigma8: ArrayLike, Omega_m: ArrayLike, B: ArrayLike, H0: ArrayLike) -> ArrayLike:
    """F_sz = sigma8 (Omega_m / B)^0.40 h^-0.21, the combination tSZ power constrains
    (Bolliet et al. 2018); NumPy broadcasting.

    Parameters
    ----------
    sigma8, Omega_m, B : array_like
        Dimensionless (Omega_m the total matter density parameter at z = 0).
    H0 : array_like
        Hubble constant [km s^-1 Mpc^-1].

    Returns
    -------
    array_like
        F_sz, dimensionless.
    """
    return sigma8 * (Omega_m / B) ** 0.40 * (H0 / 100.0) ** -0.21


def d_ell_factor(ell: ArrayLike) -> ArrayLike:
    """1e12 ell (ell + 1) / (2 pi): C_ell (dimensionless) -> D_ell x 1e12, the Cobaya unit.

    Parameters
    ----------
    ell : array_like
        Multipoles (NumPy or JAX).

    Returns
    -------
    array, the shape of ``ell``
    """
    return 1e12 * ell * (ell + 1) / (2 * math.pi)


def d_ell_spectra(values: ArrayLike, ell: ArrayLike, precision: Precision) -> jax.Array:
    """D_ell^1h and D_ell^2h x 1e12 of the engine at input values (traceable).

    Parameters
    ----------
    values : array, shape (12,)
        Input values in INPUT_PARAMS order.
    ell : array, shape (n_ell,)
        Multipoles.
    precision : Precision
        Engine precision (static).

    Returns
    -------
    array, shape (2, n_ell)
        Rows 1-halo, 2-halo; non-finite where the engine refuses the point.
    """
    one_halo, two_halo = cl_yy(*to_pytrees(values), ell, precision=precision)
    to_d = d_ell_factor(ell)
    return jnp.stack([one_halo * to_d, two_halo * to_d])


def d_ell_trispectrum(values: ArrayLike, ell: ArrayLike, precision: Precision) -> jax.Array:
    """Full-sky 1-halo trispectrum in (D_ell x 1e12)^2 at input values (traceable).

    Parameters
    ----------
    values, ell, precision : as for `d_ell_spectra`

    Returns
    -------
    array, shape (n_ell, n_ell)
        1e24 [l(l+1)/2pi][l'(l'+1)/2pi] T_ll'; non-finite where the engine refuses the point.
    """
    to_d = d_ell_factor(ell)
    return cl_yy_trispectrum(*to_pytrees(values), ell, precision=precision) * jnp.outer(to_d, to_d)

