"""Physical constants (SI-derived, CODATA 2018) and unit conversions used by the engine."""

import math

__all__ = [
    "C_KM_S", "DELTA_C", "G_SI", "K_B_EV", "ME_C2_EV", "MPC_CM", "MPC_M", "MSUN_KG", "N_EFF", "OMEGA_GAMMA_H2",
    "OMEGA_NU_H2", "OMEGA_R_H2", "RHO_CRIT_100", "SIGMA_SB", "SIGMA_T_CM2", "T_CMB", "T_NU_EV", "Y_PER_EV_CM3_MPC",
]

C_KM_S = 299792.458
"""Speed of light [km s^-1]."""

MPC_M = 3.085677581491367e22
"""One megaparsec [m]."""

MPC_CM = MPC_M * 100.0
"""One megaparsec [cm]."""

MSUN_KG = 1.988409870698051e30
"""Solar mass [kg]."""

G_SI = 6.67430e-11
"""Newton's constant [m^3 kg^-1 s^-2]."""

SIGMA_T_CM2 = 6.6524587321e-25
"""Thomson cross-section [cm^2]."""

ME_C2_EV = 510998.95
"""Electron rest energy [eV]."""

SIGMA_SB = 5.670374419e-8
"""Stefan-Boltzmann constant [W m^-2 K^-4]."""

T_CMB = 2.7255
"""CMB temperature today [K]."""

N_EFF = 3.044
"""Effective number of neutrino species (massless and massive together)."""

K_B_EV = 8.617333262e-5
"""Boltzmann constant [eV K^-1]."""

T_NU_EV = K_B_EV * T_CMB * (4.0 / 11.0) ** (1.0 / 3.0)
"""Neutrino temperature today k_B T_nu = (4/11)^(1/3) k_B T_CMB [eV]."""

DELTA_C = 1.686
"""Linear collapse threshold used by the Tinker10 bias."""

_H100_S = 1e5 / MPC_M
RHO_CRIT_100 = 3.0 * _H100_S**2 / (8.0 * math.pi * G_SI) * MPC_M**3 / MSUN_KG
"""Critical density for H0 = 100 km/s/Mpc [Msun Mpc^-3]; rho_crit,0 = RHO_CRIT_100 h^2."""

_RHO_GAMMA_KG_M3 = 4.0 * SIGMA_SB * T_CMB**4 / (C_KM_S * 1e3) ** 3
OMEGA_GAMMA_H2 = _RHO_GAMMA_KG_M3 * MPC_M**3 / MSUN_KG / RHO_CRIT_100
"""Photon density Omega_gamma h^2 at T_CMB."""

OMEGA_NU_H2 = N_EFF * 7.0 / 8.0 * (4.0 / 11.0) ** (4.0 / 3.0) * OMEGA_GAMMA_H2
"""Density Omega_nu h^2 of N_EFF neutrino species were they all massless (their relativistic limit)."""

OMEGA_R_H2 = OMEGA_GAMMA_H2 + OMEGA_NU_H2
"""Photons plus N_EFF massless neutrinos, Omega_r h^2 (the relativistic limit of the radiation)."""

Y_PER_EV_CM3_MPC = SIGMA_T_CM2 / ME_C2_EV * MPC_CM
"""sigma_T / (m_e c^2) times 1 Mpc: converts pressure [eV cm^-3] x length [Mpc] to y."""
