"""Pure-JAX tSZ engine: background, linear power, halos, A10 pressure, C_ell^yy.

Units are physical and h-free: Mpc, Msun, k in 1/Mpc. Nothing here imports Cobaya.
"""

from .params import CosmoParams, ProfileParamsA10
from .precision import (
    PRECISION_LIMITS,
    SIZING_B_MIN,
    Precision,
    PrecisionWarning,
    check_precision,
    make_precision,
    required_q_max,
)
from .background import (
    E_z,
    Omega_m_z,
    angular_diameter_distance,
    comoving_distance,
    dVdzdOmega,
    growth_factor,
    rho_crit,
)
from .linear_power import dlnsigma_dlnR, linear_power, sigma_R, transfer_eh98
from .halos import (
    delta_mean,
    lagrangian_radius,
    r500,
    tinker08_dndlnM,
    tinker10_bias,
)
from .pressure import P500, gnfw_shape, profile_fourier, y_ell
from .tsz import cl_yy, cl_yy_covariance, cl_yy_trispectrum
from .validate import validate

__all__ = [
    "CosmoParams",
    "ProfileParamsA10",
    "Precision",
    "PrecisionWarning",
    "PRECISION_LIMITS",
    "SIZING_B_MIN",
    "make_precision",
    "check_precision",
    "required_q_max",
    "E_z",
    "Omega_m_z",
    "angular_diameter_distance",
    "comoving_distance",
    "dVdzdOmega",
    "growth_factor",
    "rho_crit",
    "transfer_eh98",
    "linear_power",
    "sigma_R",
    "dlnsigma_dlnR",
    "delta_mean",
    "lagrangian_radius",
    "r500",
    "tinker08_dndlnM",
    "tinker10_bias",
    "P500",
    "gnfw_shape",
    "profile_fourier",
    "y_ell",
    "cl_yy",
    "cl_yy_trispectrum",
    "cl_yy_covariance",
    "validate",
]
