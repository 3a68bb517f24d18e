"""Pure-JAX tSZ engine: background, linear power, halos, pressure profiles, C_ell^yy.

Units are physical and h-free: Mpc, Msun, k in 1/Mpc. Nothing here imports Cobaya, and
nothing changes JAX's global configuration: enable float64 yourself with
``jax.config.update("jax_enable_x64", True)`` (the entry points raise a clear error
otherwise). Layers and component contracts: docs/architecture.md.

The function `linear_power` is exported by the package `cobaya_szlite` (as
``cobaya_szlite.linear_power``); here ``engine.linear_power`` is the subpackage of
linear-power backends, which exports the function under the same name.
"""

from .background import (
    E_z,
    Omega_m_z,
    angular_diameter_distance,
    comoving_distance,
    dVdzdOmega,
    growth_factor,
    rho_crit,
)
from .halos import delta_mean, lagrangian_radius, r500
from .linear_power import (
    dlnsigma_dlnR,
    register_linear_power,
    sigma_R,
    transfer_eh98,
)
from .mass_function import (
    dndlnM,
    halo_bias,
    register_bias,
    register_mass_function,
    tinker08_dndlnM,
    tinker10_bias,
)
from .params import CosmoParams, CosmoParamsDegenerateNu, HaloModel, ProfileParamsA10
from .precision import (
    PRECISION_LIMITS,
    SIZING_B_MIN,
    Precision,
    PrecisionWarning,
    check_precision,
    make_precision,
    required_q_max,
)
from .profiles import (
    GNFW_PRESETS,
    P500,
    ProfileParamsB12,
    ProfileParamsGNFWSZ,
    gnfw_preset,
    gnfw_shape,
    profile_fourier,
    register_profile,
    y_ell,
)
from .tables import (
    CosmologyTables,
    cl_yy_tabulated,
    cl_yy_trispectrum_tabulated,
    engine_redshifts,
    tables_from_engine,
)
from .tsz import cl_yy, cl_yy_and_trispectrum, cl_yy_covariance, cl_yy_trispectrum
from .validate import validate
from .x64 import X64_LINE, require_x64

__all__ = [
    "GNFW_PRESETS",
    "P500",
    "PRECISION_LIMITS",
    "SIZING_B_MIN",
    "X64_LINE",
    "CosmoParams",
    "CosmologyTables",
    "CosmoParamsDegenerateNu",
    "E_z",
    "HaloModel",
    "Omega_m_z",
    "Precision",
    "PrecisionWarning",
    "ProfileParamsA10",
    "ProfileParamsB12",
    "ProfileParamsGNFWSZ",
    "angular_diameter_distance",
    "check_precision",
    "cl_yy",
    "cl_yy_and_trispectrum",
    "cl_yy_covariance",
    "cl_yy_tabulated",
    "cl_yy_trispectrum",
    "cl_yy_trispectrum_tabulated",
    "comoving_distance",
    "dVdzdOmega",
    "delta_mean",
    "dlnsigma_dlnR",
    "dndlnM",
    "engine_redshifts",
    "gnfw_preset",
    "gnfw_shape",
    "growth_factor",
    "halo_bias",
    "lagrangian_radius",
    "make_precision",
    "profile_fourier",
    "r500",
    "register_bias",
    "register_linear_power",
    "register_mass_function",
    "register_profile",
    "require_x64",
    "required_q_max",
    "rho_crit",
    "sigma_R",
    "tinker08_dndlnM",
    "tables_from_engine",
    "tinker10_bias",
    "transfer_eh98",
    "validate",
    "y_ell",
]
