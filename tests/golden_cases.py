"""The regression net's cases: every profile x mass function x P(k) backend at two
cosmologies, and the Boltzmann mode on a stored table.

`scripts/make_golden.py` evaluates them once and writes ``tests/data/golden.json`` (and the
stored table ``tests/data/golden_tables.npz``); ``tests/test_golden.py`` recomputes them
and compares to
`GOLDEN_RTOL`. A change of any number the package produces is then a visible, deliberate
change of that file (rerun the script, say why in the commit).
"""

from __future__ import annotations

import itertools

import numpy as np

from cobaya_szlite.engine import CosmologyTables, Precision, cl_yy_tabulated, cl_yy_trispectrum_tabulated
from cobaya_szlite.parameters import (
    FIDUCIAL_PARAMS,
    LINEAR_POWER_OPTIONS,
    MASS_FUNCTION_OPTIONS,
    PROFILE_KINDS,
    d_ell_factor,
    d_ell_spectra_and_trispectrum,
    halo_model,
    input_layout,
    profile_defaults,
    to_pytrees,
    to_values,
)

__all__ = ["COSMOLOGIES", "ELL", "GOLDEN_RTOL", "PRECISION", "cases", "golden_values", "tabulated_values"]

#: Relative tolerance of the comparison: float64 rounding through the same code path
#: (measured differences between runs and thread counts: below 1e-12).
GOLDEN_RTOL = 1e-8
#: Multipoles of the table.
ELL = np.geomspace(10.0, 5000.0, 8)
#: The small precision of the tests (C_ell within 0.5% of the defaults; compile time counts).
PRECISION = Precision(n_z=41, n_m=41, n_x=200, n_k=150)
#: The fiducial and a second LCDM cosmology (class_sz input names), with massive neutrinos
#: (Sum m_nu = 0 with bartlett23, a fit for massless neutrinos only).
COSMOLOGIES = {
    "fiducial": {**{k: FIDUCIAL_PARAMS[k] for k in ("omega_b", "omega_cdm", "H0", "n_s", "sigma8")}, "m_nu": 0.06},
    "other": {"omega_b": 0.0230, "omega_cdm": 0.1260, "H0": 70.5, "n_s": 0.955, "sigma8": 0.77, "m_nu": 0.1},
}
#: Backends valid for massless neutrinos only.
MASSLESS_ONLY = ("bartlett23",)


def cases() -> list[tuple[str, str, str]]:
    """Every (profile, mass function, linear power) combination SZTheory offers."""
    return list(itertools.product(PROFILE_KINDS, MASS_FUNCTION_OPTIONS, LINEAR_POWER_OPTIONS))


def _layout(profile: str, mass_function: str, linear_power: str):
    names = [*COSMOLOGIES["fiducial"], *profile_defaults(profile)]
    return input_layout(names, profile=profile, model=halo_model(profile, mass_function, linear_power))


def golden_values(profile: str, mass_function: str, linear_power: str) -> dict[str, list[list[float]]]:
    """D_ell^1h, D_ell^2h and the trispectrum diagonal (D_ell x 1e12 units) at `ELL`.

    Parameters
    ----------
    profile, mass_function, linear_power : str
        One combination of `cases`.

    Returns
    -------
    dict
        Cosmology name -> [1h, 2h, trispectrum diagonal], each a list over `ELL`.
    """
    layout = _layout(profile, mass_function, linear_power)
    out = {}
    for name, cosmology in COSMOLOGIES.items():
        if linear_power in MASSLESS_ONLY:
            cosmology = {**cosmology, "m_nu": 0.0}
        values = to_values({**cosmology, **profile_defaults(profile)}, layout)
        d_ell, trispectrum = d_ell_spectra_and_trispectrum(values, ELL, PRECISION, layout)
        out[name] = [np.asarray(d_ell[0]).tolist(), np.asarray(d_ell[1]).tolist(),
                     np.diag(np.asarray(trispectrum)).tolist()]
    return out


def tabulated_values(tables: CosmologyTables, profile: str = "a10", mass_function: str = "tinker08") -> list:
    """The Boltzmann mode's values on stored ``tables`` (the fiducial cosmology's H0 and
    densities): [1h, 2h, trispectrum diagonal] at `ELL` in D_ell x 1e12 units."""
    layout = _layout(profile, mass_function, "eh98")
    cosmo, prof = to_pytrees(to_values({**COSMOLOGIES["fiducial"], **profile_defaults(profile)}, layout), layout)
    one_halo, two_halo = cl_yy_tabulated(tables, cosmo, prof, ELL, precision=PRECISION, model=layout.model)
    trispectrum = cl_yy_trispectrum_tabulated(tables, cosmo, prof, ELL, precision=PRECISION, model=layout.model)
    to_d = np.asarray(d_ell_factor(ELL))
    return [(np.asarray(one_halo) * to_d).tolist(), (np.asarray(two_halo) * to_d).tolist(),
            (np.diag(np.asarray(trispectrum)) * to_d**2).tolist()]
